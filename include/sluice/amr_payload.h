/* RTP payload format of AMR and AMR-WB (RFC 4867), without interleaving, CRC or robust
 * sorting: one CMR, a table of contents, and the speech frames, either bit-packed
 * (bandwidth-efficient, the default) or each field on octet boundaries (octet-align=1).
 *
 * Frames are exchanged with the codec library in the "storage format" of RFC 4867
 * section 5 (a header byte FT<<3 | Q<<2 followed by the speech bits, padded to an octet),
 * which is what libavcodec's AMR decoders read and its AMR encoders write.
 *
 * Everything is bounded by AMR_MAX_FRAMES; no allocation. Untrusted input: a payload that
 * is truncated, has reserved frame types, or more frames than fit is refused (-EINVAL). */
#ifndef SLUICE_AMR_PAYLOAD_H
#define SLUICE_AMR_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMR_MAX_FRAMES      12          /* 240 ms of 20 ms frames */
#define AMR_MAX_FRAME_BYTES 60          /* AMR-WB 23.85 kbit/s: 477 bits */
#define AMR_FT_NO_DATA      15
#define AMR_CMR_NONE        15          /* "no mode request" */

struct amr_frame {
	uint8_t ft;                         /* frame type: mode, SID, or AMR_FT_NO_DATA */
	bool q;                             /* quality bit: false = damaged frame */
	uint8_t data[AMR_MAX_FRAME_BYTES];  /* speech bits, MSB first, zero padded */
};

struct amr_payload {
	uint8_t cmr;                        /* codec mode request, AMR_CMR_NONE if none */
	unsigned n;
	struct amr_frame f[AMR_MAX_FRAMES];
};

/* Speech bits of frame type ft (0 for NO_DATA / speech lost), -EINVAL if reserved. */
int amr_frame_bits(bool wb, unsigned ft);
/* Number of speech modes: 8 (AMR) or 9 (AMR-WB); frame types above are SID/no data. */
unsigned amr_modes(bool wb);

/* Parses an RTP payload. 0 or -EINVAL. */
int amr_payload_parse(const uint8_t *in, size_t len, bool wb, bool octet_aligned,
		      struct amr_payload *out);
/* Builds an RTP payload; returns its length, -EINVAL (bad frame type, n == 0 or
 * > AMR_MAX_FRAMES) or -ENOSPC. */
int amr_payload_build(const struct amr_payload *p, bool wb, bool octet_aligned,
		      uint8_t *out, size_t cap);

/* Storage format <-> struct amr_frame. to_storage returns bytes written or -ENOSPC;
 * from_storage returns bytes consumed or -EINVAL. */
int amr_frame_to_storage(const struct amr_frame *f, bool wb, uint8_t *out, size_t cap);
int amr_frame_from_storage(const uint8_t *in, size_t len, bool wb, struct amr_frame *f);

#endif
