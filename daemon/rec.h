/* Recording (--recording-dir, pcap method) and the capture ring (--capture-ring).
 *
 * The media workers copy each packet of a tapped call, as it crossed the relay (after
 * SRTP decryption on the way in, before encryption on the way out), into a ring of
 * their own (sluice/bytering.h): no lock, no allocation, no syscall; a full ring drops
 * the copy and counts it. One writer thread drains the rings into per-call pcap files
 * (libpcap, sluice/pcapw.h) and into the in-memory capture ring, and does all the file
 * work, so a slow or full disk never holds up media or NG.
 *
 * A call is tapped while it is recorded (even paused: the file stays open) or while
 * the capture ring is on; its streams stay in userspace meanwhile (kernel.c asks
 * rec_kernel_why()). */
#ifndef SLUICE_REC_H
#define SLUICE_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"
#include "sluice/netaddr.h"

struct daemon;
struct call;
struct ng_request;
struct rec;

/* Start the writer (if --recording-dir or --capture-ring asks for it). 0, or -1 with a
 * message in err (folder not writable...). */
int rec_start(struct daemon *d, char *err, size_t errlen);
/* Finish every file and stop the writer (after the calls are gone). */
void rec_stop(struct daemon *d);

/* ---- control thread ---- */

/* A call was created / is being destroyed (ends its recording, frees its ring). */
void rec_call_created(struct daemon *d, struct call *c);
void rec_call_destroyed(struct daemon *d, struct call *c);
/* delete with a delete-delay: the recording ends now, the capture ring stays. */
void rec_call_deleted(struct daemon *d, struct call *c);
/* After a successful offer/answer: keep the SDPs for the metadata, apply record-call. */
void rec_offer_answer(struct daemon *d, struct call *c, const struct ng_request *req,
		      const char *sdp_out, size_t sdp_out_len, struct arena *a,
		      struct bval *reply);
/* start/stop/pause recording, capture. */
int rec_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		struct bval *reply, const char **err);
/* query: the call's "recording" section. */
void rec_query(struct daemon *d, struct call *c, struct arena *a, struct bval *reply);
/* statistics: the "recording" section. */
struct bval *rec_statistics(struct daemon *d, struct arena *a);
/* Why the call must stay in userspace ("recording", "capture ring"), or NULL. Call
 * lock held. */
const char *rec_kernel_why(const struct call *c);

/* ---- media workers (call lock held) ---- */

/* Copy one packet of call c (tapped: c->rec.sink set) into worker w's ring. party is
 * the index of the party whose stream it was received on or sent from. */
void rec_packet(struct rec *r, unsigned w, struct call *c, unsigned party,
		const union sockaddr_u *src, const union sockaddr_u *dst,
		const uint8_t *data, size_t len);
/* Same in two steps, for a packet that is about to be encrypted in place: prepare
 * copies it now, commit publishes it once the packet really leaves (a prepared copy
 * that is not committed is dropped by the next prepare). */
bool rec_prepare(struct rec *r, unsigned w, struct call *c, unsigned party,
		 const union sockaddr_u *src, const union sockaddr_u *dst,
		 const uint8_t *data, size_t len);
void rec_commit(struct rec *r, unsigned w);

#endif
