/* The call model: call (call-id) -> parties (tags) -> media sections -> RTP + RTCP streams.
 *
 * Ownership and locking:
 * - The registry, calls, parties and media are created, changed and destroyed by the
 *   control thread only.
 * - A stream's socket is polled by one media worker (call->worker). The worker reads
 *   and writes stream fields marked [L] with call->lock held; the control thread takes the
 *   same lock to change or read them. Nothing else is shared.
 * - Destroying a call removes its sockets from the worker's epoll, then hands the memory
 *   to the deferred-free list (relay.h), freed once the worker has finished any batch
 *   that could still point at it. */
#ifndef SLUICE_CALL_H
#define SLUICE_CALL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "relay_timer.h"
#include "sluice/dtmf_replace.h"
#include "sluice/netaddr.h"
#include "sluice/quality.h"
#include "sluice/sdp.h"

#define CALL_MAX_TAGS   8       /* to-tags one party may carry (forked answers) */
#define CALL_TAG_MAX    256
#define CALL_CODEC_MAX  32
#define MEDIA_MAX_SUBS  4       /* subscriptions to one side's media section */

struct call;
struct party;
struct media;
struct iface;
struct stream_handler;
struct secure_media;
struct kmod;
struct kmod_stream;
struct kmod_srtp;
struct cp_offer;
struct rec_sink;
struct rec_call;
struct dtmf_rewrite;
struct media_player;
struct delay_line;
struct dtmf_delay;
struct dtmf_trigger;
struct sub_xcode;
struct store_hist;
struct media_xsocks;

enum stream_component { COMP_RTP = 1, COMP_RTCP = 2 };

/* Sockets of one stream: socket 0 (stream->fd) on the address the SDP names, and toward
 * a side that does ICE one more on each other address of the side's logical interface
 * (media_socks.h), each a host candidate (secure.h, ice_cands.c). */
#define STREAM_MAX_SOCKS 4

/* What a worker's epoll reports for a socket: socket idx of stream s, and its
 * descriptor (for socket 0 a copy of stream->fd). */
struct stream_ref {
	struct stream *s;
	int fd;
	uint8_t idx;
	void *rx_slot;                  /* the socket's io_uring receive (relay_uring.c);
	                                   control thread */
};

/* A socket of a stream beyond socket 0 (media_socks.h). Made by the control thread
 * before it is registered; closed after the call's grace period. */
struct stream_xsock {
	struct stream_ref ref;          /* ref.fd: the socket */
	bool registered;                /* in the worker's epoll (control thread) */
	union sockaddr_u local;         /* bound address and port */
};

struct stream_stats {
	uint64_t packets, bytes, errors;
	uint64_t foreign;               /* dropped: source not allowed (latch.h) */
};

struct stream {
	struct media *media;
	struct stream *sink;            /* [L] where packets received here are sent */
	int fd;                         /* socket 0 */
	uint8_t component;              /* COMP_RTP / COMP_RTCP */
	bool registered;                /* in the worker's epoll (written under the worker's
	                                   timer lock, relay_timer.h) */
	union sockaddr_u local;         /* bound address and port of socket 0 */
	struct stream_ref ref;          /* epoll's tag of socket 0 */
	struct stream_xsock *xs;        /* [L] sockets 1..n_xs (ICE side, media_socks.h);
	                                   NULL: socket 0 only */
	uint8_t n_xs;                   /* [L] */
	uint8_t tx_sock;                /* [L] socket the endpoint is reached from: the one
	                                   it was heard on or ICE selected (stream_tx_sock) */
	uint8_t rx_sock;                /* [L] socket of the packet being handled (worker) */
	union sockaddr_u advertised;    /* [L] address the SDP (or SIP source) named */
	union sockaddr_u expected;      /* [L] what sources are ranked against (latch.h) */
	union sockaddr_u endpoint;      /* [L] where this stream's peer really is */
	bool has_advertised;            /* [L] */
	bool has_expected;              /* [L] */
	bool latched;                   /* [L] endpoint learned from a packet */
	bool confirmed;                 /* [L] learning over: only re-latch by rule */
	bool relearn;                   /* [L] new offer/answer: next packet learns anew */
	uint8_t learn_rank;             /* [L] rank of the latched source (latch.h) */
	bool has_ssrc;                  /* [L] */
	uint32_t ssrc;                  /* [L] last SSRC seen from the endpoint */
	int64_t learn_until_us;         /* [L] end of the learning window */
	union sockaddr_u last_foreign;  /* [L] source of the last foreign packet */
	int64_t last_foreign_us;        /* [L] when (mono_us), 0: never */
	uint64_t kforeign;              /* [L] the kernel's foreign count, last seen */
	uint64_t foreign_logged;        /* [L] foreign + kforeign at the last log line */
	int64_t foreign_log_us;         /* [L] time of the last log line */
	int64_t last_packet_us;         /* [L] */
	struct stream_stats stats;      /* [L] packets received on this stream */
	struct stream_stats kfolded;    /* [L] the kernel's share of stats: its counters
	                                   folded in when an entry was withdrawn */
	struct stream_handler *handler; /* [L] NULL: plain forwarding (media_handler.h) */
	struct stream_handler *xform;   /* [L] codec transform (transcode_handler.h), owned
	                                   by the stream; handler is either xform itself or
	                                   the secure handler, which runs xform between its
	                                   decrypt and encrypt steps */
	struct relay_timer timer;       /* handler's playout timer (relay_timer.h) */
	struct relay_timer ptimer;      /* play media's clock (play_media.h) */
	struct relay_timer dtimer;      /* the delay line's release timer (media_delay.h) */
	struct quality_rx qrx;          /* [L] RTP from the peer, as received (quality.h) */
	struct quality_rtt qrtt;        /* [L] RTCP exchanged with the peer on this socket */
	struct quality_mos mos;         /* [L] MOS samples of qrx */
	struct quality_folded kq;       /* [L] how much of the kernel entry's quality qrx
	                                   holds (kernel_quality.c); zeroed at each push */
	int64_t q_next_us;              /* [L] next MOS sample (mono_fine_us) */
	int kslot;                      /* kernel entry slot, -1 none (control thread) */
	int kerr;                       /* last refused push, -errno (control thread) */
	struct kmod_stream *kpushed;    /* what the entry holds (control thread) */
	struct kmod_srtp *ksrtp;        /* its SRTP keys (kernel_srtp.c), NULL: none */
};

struct media {
	struct party *party;
	unsigned index;                 /* 1-based, m= line order */
	char type[16];                  /* audio, video, image ... */
	char proto[32];
	char codec[CALL_CODEC_MAX];     /* first rtpmap, e.g. "PCMU/8000" */
	int codec_pt;                   /* its payload type, -1: no rtpmap */
	unsigned clock;                 /* its RTP clock rate (8000 when not given) */
	int dtmf_pt;                    /* telephone-event payload type this side sends, -1 */
	unsigned dtmf_clock;            /* its clock rate */
	const struct iface *iface;      /* interface this side's sockets live on */
	struct stream rtp, rtcp;
	uint16_t port;                  /* local RTP port (RTCP = port + 1) */
	struct media_xsocks *xsocks;    /* ports on the interface's other addresses (ICE,
	                                   media_socks.h); NULL: none */
	bool ports_open;
	bool rejected;                  /* peer SDP had port 0 */
	bool rtcp_mux;                  /* this side multiplexes RTCP on the RTP port */
	bool rtcp_mux_offered;          /* this side's SDP offered or accepted mux */
	unsigned mux_policy;            /* rtcp-mux flags of the offer (offerer side) */
	bool hold_addr;                 /* peer SDP had c=0.0.0.0 */
	enum sdp_dir dir;               /* direction this side declared */
	bool transcoding;               /* [L] media to and from this side is transcoded */
	struct cp_offer *neg;           /* codec negotiation of this side's last offer
	                                   (codec_policy.h); control thread; owned */
	struct secure_media *sec;       /* SRTP/DTLS/ICE of this side, NULL: none (secure.h) */
	char mid[32];                   /* a=mid of this side's last SDP, "" none */
	uint8_t pts[16];                /* payload types of this side's m= line, a bit each */
	uint32_t sdp_ssrc;              /* first a=ssrc of this side's SDP, if has_sdp_ssrc */
	bool has_sdp_ssrc;
	struct media *bundle;           /* [L] BUNDLE (bundle.h): the section whose transport
	                                   this one shares toward its side; NULL: its own */
	bool bundle_tag;                /* [L] carries the transport of a BUNDLE group */
	struct dtmf_rewrite *dtmf_play; /* [L] NG play DTMF into what this side sends when
	                                   forwarded plainly (play_dtmf.h): made by the first
	                                   such command, freed with the media; NULL: none */
	struct stream *subs[MEDIA_MAX_SUBS]; /* [L] subscribers' RTP streams that get a
	                                   copy of what this side sends (subscribe.h) */
	uint8_t n_subs;                 /* [L] */
	struct media *sub_src;          /* a subscriber's section: the section it copies
	                                   (subscribe.h); NULL otherwise */
	struct sub_xcode *sub_xc;       /* [L] ... transcoded to its codec; NULL: copied */
	struct media_player *media_play; /* [L] NG play media in place of what this side
	                                   sends (play_media.h): made by the first such
	                                   command, freed with the media; NULL: none */
	struct dtmf_replace dtmf_rep;   /* [L] the blocked event being replaced */
	struct delay_line *delay;       /* [L] NG delay-buffer of what this side sends
	                                   (media_delay.h); NULL: never set */
	unsigned delay_ms;              /* [L] its delay now; 0: off */
	unsigned delay_cap_ms;          /* [L] the delay its ring was sized for */
	struct dtmf_delay *dtmf_delay;  /* [L] NG DTMF-delay of what this side sends
	                                   (dtmf_delay.h); NULL: never set */
};

struct party_tag {
	char tag[CALL_TAG_MAX];
	char via_branch[CALL_TAG_MAX];
};

enum party_block {                       /* what this side sends that is held back */
	BLOCK_MEDIA = 1,                /* NG block media: dropped (DTMF passes) */
	BLOCK_DTMF = 2,                 /* NG block DTMF: RFC 4733 events dropped or replaced
	                                   (party_opts.dtmf_sec) */
	SILENCE_MEDIA = 4,              /* NG silence media: G.711 payload replaced by silence */
};

struct party_opts {                     /* per-side media handling flags */
	bool strict_source;
	bool asymmetric;                /* never latch: always send to the SDP address */
	bool port_latching;
	bool media_handover;            /* a fixed latch follows a new source */
	uint8_t block;                  /* [L] enum party_block bits */
	struct dtmf_replace_cfg dtmf_sec; /* [L] what blocked DTMF becomes (NG DTMF-security,
	                                   volume, frequencies, digit); mode DROP default */
};

struct party_origin {                   /* o= of SDP sent to this party (oa_origin.h) */
	char username[64];              /* "" until replace=username first saw one */
	char session_name[64];          /* s=, "" until replace=session-name first saw one */
	uint64_t version;               /* replace=sdp-version: last version sent */
	uint64_t hash;                  /* ... and a hash of that SDP without its o= */
	bool have_version;
};

struct party {
	struct call *call;
	struct party *next;
	unsigned idx;                   /* 0, 1, ... in the order the call got them */
	struct party *peer;             /* the other side of the offer/answer */
	struct party_tag tags[CALL_MAX_TAGS];
	unsigned n_tags;                /* 0 = not yet answered (no to-tag known) */
	char label[64];
	int64_t created_us;
	struct party_opts opts;
	struct media *media[SDP_MAX_MEDIA];
	unsigned n_media;
	bool subscriber;                /* made by subscribe request: receives copies */
	bool pub_answerer;              /* the stand-in answerer of a publisher (publish.h):
	                                   never wired, not shown, not a source */
	struct dtmf_trigger *trig;      /* [L] NG DTMF triggers of what this side sends
	                                   (dtmf_trigger.h); NULL: never set */
	char sdp_origin_sess_id[32];    /* last SDP's o= session id, for logs */
	struct party_origin sent;
};

struct call_rec {                       /* recording and capture ring (rec.h) */
	struct rec_sink *sink;          /* [L] NULL: packets are not copied */
	uint32_t gen;                   /* [L] recording file they go to; 0: none (off,
	                                   paused) */
	bool ring;                      /* [L] they go to the capture ring too */
	uint64_t drops;                 /* [L] copies lost to a full queue */
	struct rec_call *ctl;           /* control thread's side; NULL: none */
	struct rec_sink *ctl_sink;      /* the call's sink, tapped or not (control thread);
	                                   the writer frees it after the call */
};

enum call_end {
	CALL_END_NONE = 0, CALL_END_DELETE, CALL_END_TIMEOUT, CALL_END_SILENT_TIMEOUT,
	CALL_END_FINAL_TIMEOUT, CALL_END_OFFER_TIMEOUT, CALL_END_SHUTDOWN,
	CALL_END_OPERATOR,              /* CLI terminate */
};

struct call {
	char *callid;
	size_t callid_len;
	struct call *hnext;             /* registry hash chain */
	struct call *lnext, *lprev;     /* registry list (for list/timeouts) */
	pthread_mutex_t lock;
	unsigned worker;
	struct party *parties;
	int64_t created_us;
	int64_t last_signal_us;
	int64_t delete_at_us;           /* 0 = live; else scheduled removal (delete-delay) */
	bool answered;
	bool deleted;                   /* delete command seen: only queries from now on */
	bool kdirty;                    /* [L] latching changed: re-check kernel entries */
	bool sdirty;                    /* [L] latching changed: write the state (store.h) */
	struct store_hist *store;       /* NG requests kept for a restore (store.h) */
	const struct kmod *kmod;        /* kernel counters live here (NULL: userspace only) */
	unsigned jitter_ms;             /* --jitter-buffer when the call was made; 0 = off */
	int8_t learning;                /* [L] NG endpoint-learning (enum endpoint_learning),
	                                   -1: --endpoint-learning */
	unsigned n_parties;             /* parties ever created (party->idx) */
	int tos;                        /* IP TOS / traffic class of the call's media (NG
	                                   TOS key, else --tos); -1: the system's */
	struct call_rec rec;
};

/* The stream whose socket and peer carry what is sent to s: s itself, or under BUNDLE
 * the tagged section's. [L] */
static inline struct stream *stream_transport(struct stream *s)
{
	struct media *t = s->media->bundle;

	if (!t)
		return s;
	return s->component == COMP_RTCP && !t->rtcp_mux ? &t->rtcp : &t->rtp;
}

/* Socket k of s (0: s->fd) and its bound address. [L] or control thread. */
static inline int stream_sock_fd(const struct stream *s, unsigned k)
{
	return k && k <= s->n_xs ? s->xs[k - 1].ref.fd : s->fd;
}

static inline const union sockaddr_u *stream_sock_local(const struct stream *s, unsigned k)
{
	return k && k <= s->n_xs ? &s->xs[k - 1].local : &s->local;
}

/* The socket that sends to dest on behalf of s: the one the endpoint was heard on or ICE
 * selected (tx_sock), unless dest is of another family (an SDP address, not learned
 * yet): then the first socket of that family. A datagram socket sends only within its
 * family. [L] */
static inline unsigned stream_tx_sock(const struct stream *s, const union sockaddr_u *dest)
{
	sa_family_t f = dest->sa.sa_family;

	if (stream_sock_local(s, s->tx_sock)->sa.sa_family == f)
		return s->tx_sock <= s->n_xs ? s->tx_sock : 0;
	for (unsigned k = 0; k <= s->n_xs; k++)
		if (stream_sock_local(s, k)->sa.sa_family == f)
			return k;
	return 0;
}

#endif
