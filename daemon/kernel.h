/* Kernel fast path, daemon side: decide which streams the module forwards, keep its
 * entries in step with latching and re-INVITEs, and fold its counters into stats and
 * timeout decisions. Control thread only, except kernel_read() (any thread). */
#ifndef SLUICE_KERNEL_H
#define SLUICE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"

struct daemon;
struct kmod_stream;

/* Open the module instance (flushing a killed predecessor's entries) and install the
 * nftables rule. With --kernel=auto a missing module is not an error: d->kmod stays NULL
 * and the reason is kept for the logs and query. 0, or -errno with err filled
 * (--kernel=on and the module unusable). */
int kernel_start(struct daemon *d, char *err, size_t errlen);
void kernel_stop(struct daemon *d);
/* Push, update or withdraw the kernel entries of every stream of the call, as their
 * state allows. Takes the call lock. */
void kernel_sync_call(struct daemon *d, struct call *c);
/* Log the strangers the kernel dropped at the call's streams (latch_log_foreign). */
void kernel_watch_foreign(struct daemon *d, struct call *c, int64_t now_mono_us);
/* Withdraw every entry of the call, folding the kernel counters into the streams'. */
void kernel_release_call(struct daemon *d, struct call *c);
/* The same for one media whose sockets are about to change. Takes the call lock. */
struct media;
void kernel_release_media(struct daemon *d, struct media *m);
/* The stream's kernel counters (zero if none) and last packet (monotonic µs, 0 never). */
void kernel_read(const struct call *c, const struct stream *s, struct stream_stats *add,
		 int64_t *last_mono_us);
/* The last foreign source of stream s, from userspace or the kernel, whichever saw
 * one last. false: none. Call lock held. */
bool kernel_last_foreign(const struct call *c, const struct stream *s, union sockaddr_u *src);
/* kernel_quality.c: fold the RTP quality the module measured into the streams' qrx
 * (and take MOS samples when due); now: mono_fine_us(). Control thread, call lock held.
 * The figures are folded once a second (timeouts), before query/delete replies and when
 * an entry is withdrawn, so query, delete, the call-end log, metrics and HEP read the
 * same qrx whichever path forwarded the stream. */
void kernel_quality_fold(const struct call *c, struct stream *s, int64_t now);
void kernel_quality_fold_call(struct call *c, int64_t now);
/* What the module needs to measure s, for its push: flags, clock, the jitter so far. */
void kernel_quality_push(const struct stream *s, struct kmod_stream *ks);

/* kernel_adopt.c: a restart keeps the kernel path forwarding (docs/ha.md).
 * Is adoption possible (kernel on, calls restored from --redis)? kernel_start then
 * opens the table without flushing it. */
bool kernel_adopt_wanted(const struct daemon *d);
/* At restore, with what Redis says of the table's owner (have: a record was found):
 * adopt the entries if table and token match the module's, else flush the table and
 * give it a new token. Returns the token to keep in Redis, 0: none to keep. */
uint64_t kernel_adopt_begin(struct daemon *d, bool have, int table, uint64_t token);
/* sync_stream: take over the entry at s's local address, if one is left to adopt. */
bool kernel_adopt_claim(struct daemon *d, struct stream *s);
/* After the restore: withdraw what no restored stream claimed (or flush, if no
 * restore ran). */
void kernel_adopt_end(struct daemon *d);
/* Before the calls are closed at a clean stop: keep their entries forwarding for the
 * next start when it will adopt them. */
void kernel_handover(struct daemon *d);
/* kernel_srtp.c: SRTP streams. Whether the module can forward s (NULL) or why not; x
 * (NULL: only the verdict, no key derivation) gets the keys and index to push, *srtp
 * whether the entry needs them. */
struct kmod_srtp;
const char *kernel_srtp_plan(const struct stream *s, struct kmod_srtp *x, bool *srtp);
/* Does the entry of s need new SRTP keys (or to gain or lose them)? */
bool kernel_srtp_changed(const struct stream *s, const struct kmod_srtp *x, bool srtp);
/* kmod_add_srtp(), remembering the keys in s->ksrtp: the slot or -errno. */
int kernel_srtp_add(struct daemon *d, struct stream *s, const struct kmod_stream *ks,
		    const struct kmod_srtp *x);
/* After the entry's DEL, s->kslot still set: the kernel's SRTP state back to the
 * userspace contexts (resume; not after a rekey), its counters into the sides' stats,
 * the slot's SRTP freed (a live entry then hands its packets to userspace). */
void kernel_srtp_handback(struct daemon *d, struct stream *s, bool resume);
/* Adds to *st the module's SRTP counts of the side's kernel entries (not yet folded
 * in: they are at the handback). Call lock held. */
struct secure_media;
struct secure_stats;
void kernel_srtp_stats(const struct secure_media *sm, struct secure_stats *st);

/* Why the stream is not kernel-forwarded, or NULL if it is. */
const char *kernel_why_not(const struct daemon *d, const struct stream *s);

#endif
