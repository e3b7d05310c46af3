/* NG DTMF triggers (block DTMF, offer, answer): `trigger` digits the side sends switch
 * its DTMF blocking to `DTMF-security-trigger` (default drop); then `trigger-end`
 * digits, `trigger-end-time` ms or `trigger-end-digits` digits switch it to
 * `DTMF-security-trigger-end` (default: no blocking), and the trigger is watched for
 * again. Digits are the side's RFC 4733 events, each counted once at its end, so the
 * digit that completes a trigger passes as the mode before it said.
 *
 * The state belongs to the party (made by the control thread under the call lock,
 * freed with it); the worker feeds it under the call lock. While a trigger is set the
 * side's RTP is forwarded in userspace. */
#ifndef SLUICE_DTMF_TRIGGER_H
#define SLUICE_DTMF_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct party;
struct stream;
struct ng_request;

/* Control thread, call lock held: the request's trigger keys for p. 0, -ENOMEM. */
int dtmf_trigger_set(struct party *p, const struct ng_request *req);
void dtmf_trigger_free(struct party *p);
/* [L] s must stay in userspace. */
bool dtmf_trigger_busy(const struct stream *s);
/* Worker, call lock held: each RTP packet t's side sends, before blocking. */
void dtmf_trigger_packet(struct stream *t, const uint8_t *p, size_t len, int64_t now_us);

#endif
