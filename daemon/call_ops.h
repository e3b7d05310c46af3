/* Call lifecycle: create, look up, add parties and media (with ports), wire the
 * forwarding, destroy. Control thread only (see call.h for the locking rules). */
#ifndef SLUICE_CALL_OPS_H
#define SLUICE_CALL_OPS_H

#include "call.h"
#include "daemon.h"

struct call *call_find(struct daemon *d, const char *callid, size_t len);
/* New call registered under callid: NULL on -ENOMEM. */
struct call *call_create(struct daemon *d, const char *callid, size_t len);
/* Party carrying tag (primary or fork alias); *alias gets the tag's index. */
struct party *call_party_by_tag(struct call *c, const char *tag, size_t len, unsigned *alias);
struct party *call_party_new(struct call *c);
/* Append a (tag, via-branch) to a party. 0, -E2BIG (too many forks), -EINVAL (too long). */
int party_add_tag(struct party *p, const char *tag, size_t len, const char *via, size_t vlen);
void party_remove_tag(struct party *p, unsigned alias);
/* Media section idx (0-based) of p, created with ports on iface if missing.
 * 0, -ENOSPC (port range exhausted), -ENOMEM or another -errno. */
int media_ensure(struct daemon *d, struct party *p, unsigned idx, const struct iface *iface,
		 struct media **out);
/* Move a media's sockets to another interface (new ports there); the old ones close
 * after the workers' grace period. Not for a BUNDLE'd section. 0 or -errno. */
int media_rebind(struct daemon *d, struct media *m, const struct iface *to);
/* IP TOS of the media's sockets (IPv6: traffic class). */
void media_set_tos(struct media *m, int tos);
/* The call's TOS (-1: back to the system's) on every socket it has; kernel entries
 * follow at the next kernel_sync_call. */
void call_set_tos(struct call *c, int tos);
/* Point every stream of p and p->peer at its sink. Takes the call lock. */
void call_wire(struct party *p);
/* Unregister and schedule the memory's release; counts the end reason. */
void call_destroy(struct daemon *d, struct call *c, enum call_end why);
/* A stream's counters including the kernel's; last packet in monotonic µs. Call lock
 * held. */
void stream_read_stats(const struct stream *s, struct stream_stats *out, int64_t *last);
/* Totals over all streams of the call (takes the lock). */
void call_totals(struct call *c, struct stream_stats *rtp, struct stream_stats *rtcp,
		 int64_t *last_packet_mono);

#endif
