/* One direction of a transcoded stream: RTP payloads of the input codec in, RTP
 * payloads of the output codec out, with the output's own SSRC, sequence numbers and
 * timestamps.
 *
 *   payload -> decoder -> [resampler] -> FIFO -> encoder (output ptime) -> packets
 *                 |                        ^
 *                 +-> DTMF detector        +-- DTMF tone generator (from RFC 4733)
 *
 * Input timing follows RTP timestamps: a gap with lost sequence numbers is concealed
 * (codec PLC / Opus FEC, up to TRANSCODE_MAX_CONCEAL ms), a longer gap or a timestamp
 * jump without loss (DTX, silence suppression) becomes a jump of the output timestamp
 * with the marker bit set, and the output timestamp always advances by exactly the
 * output ptime per audio packet in between. An input SSRC change resynchronises the
 * input side; the output SSRC never changes.
 *
 * DTMF: with telephone-event on both sides RFC 4733 packets are forwarded (payload type,
 * sequence and timestamp rewritten). With telephone-event on the input only, events
 * become in-band tones (spandsp dtmf_tx) in place of the audio for their duration. With
 * telephone-event on the output only, in-band tones are detected (spandsp dtmf_rx) and
 * sent as RFC 4733 events instead of the audio they were in: a start packet with the
 * marker, an update per output ptime, and the end packet three times. Every completed
 * event is reported through the callback.
 *
 * Injected DTMF (transcode_dtmf_inject(), the NG `play DTMF` command): digits are queued
 * and played on the output as packets are produced, as RFC 4733 events if the output
 * has telephone-event, else as in-band tones; either replaces the audio for the digit's
 * duration. They are counted separately and not reported through the callback.
 *
 * Ownership/threads: the object belongs to the worker that owns the stream; calls on
 * one object must not run concurrently. Nothing is allocated after transcode_create(). */
#ifndef SLUICE_TRANSCODE_H
#define SLUICE_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/codec.h"

#define TRANSCODE_MAX_OUT       48      /* out[] must hold this many packets */
#define TRANSCODE_MAX_PAYLOAD   CODEC_MAX_PAYLOAD
#define TRANSCODE_MAX_CONCEAL   120     /* ms of loss concealed; longer is a new talkspurt */

struct transcode_side {
	const struct codec_def *codec;  /* audio codec */
	struct codec_params params;     /* from codec_params_default() + codec_fmtp_parse() */
	uint8_t pt;                     /* its payload type on this side */
	int dtmf_pt;                    /* telephone-event payload type, -1 if not negotiated;
	                                   its clock is the audio codec's clock */
	unsigned ptime;                 /* output side: packetisation in ms (0 = codec default);
	                                   ignored on the input side */
};

struct transcode_dtmf {
	char digit;                     /* '0'-'9', '*', '#', 'A'-'D' */
	uint8_t event;                  /* RFC 4733 code */
	uint32_t ts;                    /* output RTP timestamp of the event start */
	uint32_t duration_ms;
	bool inband;                    /* detected in audio; false: received as RFC 4733 */
};

typedef void (*transcode_dtmf_cb)(void *arg, const struct transcode_dtmf *ev);

struct transcode_cfg {
	struct transcode_side in, out;
	uint32_t ssrc;                  /* output SSRC */
	uint16_t seq;                   /* first output sequence number */
	uint32_t ts;                    /* first output timestamp */
	transcode_dtmf_cb on_dtmf;      /* may be NULL */
	void *arg;
};

/* One received RTP packet, header already parsed by the relay. */
struct transcode_in {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;
	size_t len;
};

/* One packet to send: the relay writes the 12-byte RTP header from these fields. */
struct transcode_out {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t len;
	uint8_t payload[TRANSCODE_MAX_PAYLOAD];
};

struct transcode_stats {
	uint64_t in_packets, in_dropped;    /* dropped: late, duplicate, undecodable */
	uint64_t in_bytes;                  /* RTP payload bytes of in_packets */
	uint64_t samples;                   /* audio samples decoded (decoder's rate) */
	uint64_t out_packets;
	uint64_t concealed_ms;
	uint64_t dtmf_events;
	uint64_t dtmf_injected;             /* injected digits played out */
};

struct transcode;

/* -EINVAL (no audio codec, ptime the output codec cannot frame), -ENOTSUP, -ENOMEM. */
int transcode_create(const struct transcode_cfg *cfg, struct transcode **out);
void transcode_destroy(struct transcode *xc);

/* Feeds one packet. Writes 0..TRANSCODE_MAX_OUT packets to out[] (max_out must be at
 * least TRANSCODE_MAX_OUT) and returns how many. -ENOMSG for a payload type that is
 * neither the audio codec nor telephone-event; a late, duplicate or undecodable packet
 * is counted and returns 0. */
int transcode_packet(struct transcode *xc, const struct transcode_in *in,
		     struct transcode_out *out, unsigned max_out);
/* The jitter buffer declared the next expected packet lost: conceals one input packet
 * duration now so output timing keeps its cadence. `next` is the packet after the loss
 * if already buffered (Opus FEC uses it; it is not consumed), else NULL. */
int transcode_lost(struct transcode *xc, const struct transcode_in *next,
		   struct transcode_out *out, unsigned max_out);

#define TRANSCODE_INJECT_MAX     32     /* digits queued at most */

/* Queues an injected digit: event 0-15 (rfc4733.h numbering), duration_ms 1..10000,
 * volume 0-63 (-dBm0, as in RFC 4733), pause_ms of silence (no digit) after it. It
 * starts with the next output packet; the output advances only as input arrives.
 * 0, -EINVAL, or -ENOBUFS (queue full). */
int transcode_dtmf_inject(struct transcode *xc, uint8_t event, unsigned duration_ms,
			  unsigned volume, unsigned pause_ms);

void transcode_get_stats(const struct transcode *xc, struct transcode_stats *st);

/* AMR codec mode request (RFC 4867): the mode the sender of this direction's input last
 * asked for (-1: none, or the input is not AMR), and the mode to encode this
 * direction's output with (-EINVAL outside the output's mode-set, -ENOTSUP if the
 * output is not AMR). The relay hands one direction's request to the other. */
int transcode_peer_cmr(const struct transcode *xc);
int transcode_set_mode(struct transcode *xc, unsigned mode);

#endif
