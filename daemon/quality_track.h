/* Per-stream media quality (sluice/quality.h) in the relay: fed by the userspace data
 * plane, reported by query and delete (rtpengine's "SSRC" section) and at call end. */
#ifndef SLUICE_QUALITY_TRACK_H
#define SLUICE_QUALITY_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"

struct stream;
struct call;

/* Worker, call lock held. A packet accepted on socket stream s, belonging to t (s, or
 * a BUNDLE member); now from mono_fine_us(). */
void quality_in(struct stream *s, struct stream *t, const uint8_t *p, size_t len,
		int64_t now);
/* Call lock held: t's RTP figures moved on without quality_in() (the kernel measured
 * them, kernel_quality.c): take a MOS sample when one is due. */
void quality_tick(struct stream *t, int64_t now);
/* A packet leaving through transport stream s towards its peer. */
void quality_out(struct stream *s, const uint8_t *p, size_t len, int64_t now);

/* Call lock held: the stream's "quality" dict (NULL if it saw no RTP in userspace). */
struct bval *quality_stream_dict(struct arena *a, const struct stream *s);
/* Call lock held: the stream's figures as a json-c object (HEP reports). */
struct json_object *quality_stream_json(const struct stream *s);
/* Call lock held: rtpengine's per-SSRC section {"SSRC": {ssrc: {...}}}. */
void quality_ssrc_section(struct arena *a, struct bval *reply, const struct call *c);
/* Call lock held: lowest and average MOS x10 of the call's streams; 0: none. */
void quality_call_mos(const struct call *c, unsigned *lowest, unsigned *average);

#endif
