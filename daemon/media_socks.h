/* A media's sockets on every address of its logical interface, for a side that does ICE.
 *
 * A logical interface is the set of --interface entries with one name ("default" for
 * those without one), e.g. 127.0.0.1 and ::1. A media section lives on one of them
 * (media->iface, socket 0 of its streams: the address m= and c= name). Toward a side
 * that does ICE, sluice also offers a host candidate on each other address of the
 * interface, IPv4 and IPv6 alike, as rtpengine does: so the media gets an RTP/RTCP port
 * pair on each of them, drawn from that address's own port pool (the port numbers
 * differ from address to address). Order, which is the candidates' order and local
 * preference: the media's own address, the other addresses of its family, then those
 * of the other family, each in configuration order. At most STREAM_MAX_SOCKS addresses
 * (the rest are left out, with a warning once per media).
 *
 * The sockets are stream sockets 1..n (stream->xs): received on by the call's worker
 * like socket 0, and sent from when the endpoint was heard on them or ICE selected a
 * pair there (stream->tx_sock). They are opened when ICE first runs toward the side (its
 * offer with ICE, or sluice's offer or answer with ICE to it) and kept until the call
 * ends, as rtpengine keeps them: through re-offers, which then offer the same
 * candidates, and also when the side answers without ICE or ICE=remove is asked later
 * (ICE may come back with the same candidates); replaced when the media moves to another
 * interface at an answer (media_rebind). Sides toward which ICE never runs (plain
 * calls) have socket 0 only.
 *
 * Control thread only. */
#ifndef SLUICE_MEDIA_SOCKS_H
#define SLUICE_MEDIA_SOCKS_H

#include "call.h"

struct daemon;
struct iface;

#define MEDIA_XSOCK_MAX (STREAM_MAX_SOCKS - 1)

struct media_xsocks {
	unsigned n;                             /* addresses with sockets */
	const struct iface *iface[MEDIA_XSOCK_MAX];
	uint16_t port[MEDIA_XSOCK_MAX];         /* RTP port there (RTCP = port + 1) */
	struct stream_xsock rtp[MEDIA_XSOCK_MAX], rtcp[MEDIA_XSOCK_MAX];
};

/* The other addresses of primary's logical interface among ifs[0..n), in candidate
 * order (see above), into out[0..max). Returns how many there are (may exceed max). */
unsigned media_socks_peers(const struct iface *ifs, unsigned n, const struct iface *primary,
			   const struct iface **out, unsigned max);
/* Open (once) m's port pairs on the other addresses of its logical interface and start
 * receiving on them. An address whose pool has no free pair is skipped (logged). 0 or
 * -ENOMEM. Call lock held (the streams' xs / n_xs are [L]). */
int media_socks_open(struct daemon *d, struct media *m);
/* The media moved to another interface (media_rebind, socket 0 done): if it has
 * further sockets, they are replaced by new ones on the other addresses of its new
 * interface (new ports, as rtpengine); the old close after the grace period. Takes the
 * call lock. 0 or -ENOMEM. */
int media_socks_rebind(struct daemon *d, struct media *m);
/* Stop receiving on them (call teardown, before the grace period). */
void media_socks_unregister(struct daemon *d, struct media *m);
/* Close them and give their ports back (after the grace period). */
void media_socks_free(struct media *m);
/* IP TOS / traffic class of the extra sockets (media_set_tos). */
void media_socks_set_tos(struct media *m, int tos);

#endif
