/* Audio codecs behind one small ops table (PCMU, PCMA, G722, opus, G729, and through
 * libavcodec GSM, speex, G723, iLBC, L16, AMR, AMR-WB) plus the telephone-event
 * pseudo-codec, looked up by SDP rtpmap name / clock rate / channels.
 *
 * Libraries: G.711, G.722 and their loss concealment come from spandsp (tiny fixed-size
 * states, bit-exact G.722, and the same library already does DTMF); Opus is libopus
 * directly (PLC and in-band FEC, encoder/decoder run at 8/12/16/24/48 kHz natively, so
 * Opus <-> PCMU needs no resampler); G.729 is bcg729 (annex B VAD/CNG on or off).
 * The rest go through libavcodec (lib/codec_av.c), which decides at run time what is
 * there: AMR and AMR-WB encoders come only with Debian's libavcodec-extra, and no Debian
 * libavcodec has an iLBC encoder. codec_available() says which and why.
 *
 * State is allocated by *_create() at stream setup; encode/decode/conceal allocate
 * nothing. PCM is signed 16 bit, interleaved when channels == 2. Sample counts are per
 * channel. Every function returns a count >= 0 or -errno. */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_MAX_PTIME     120         /* ms of audio in one encode() call */
#define CODEC_MAX_PAYLOAD   1500        /* bytes out of one encode() call */
/* Largest decode() result per channel: 120 ms at 48 kHz (Opus' longest packet). */
#define CODEC_MAX_DECODE    5760

enum codec_id {
	CODEC_PCMU = 0,
	CODEC_PCMA,
	CODEC_G722,
	CODEC_OPUS,
	CODEC_G729,
	CODEC_TELEPHONE_EVENT,
	/* through libavcodec (CODEC_F_LIBAV) */
	CODEC_GSM,
	CODEC_SPEEX_WB,             /* speex/16000: first, as "speex" alone means it */
	CODEC_SPEEX,                /* speex/8000 */
	CODEC_SPEEX_UWB,            /* speex/32000 */
	CODEC_G723,
	CODEC_ILBC,
	CODEC_L16,                  /* L16/8000 */
	CODEC_L16_16K,
	CODEC_L16_44K,              /* L16/44100: static payload type 11 */
	CODEC_L16_48K,
	CODEC_AMR,
	CODEC_AMR_WB,
	CODEC__COUNT
};

#define CODEC_F_AUDIO     0x1   /* carries audio (telephone-event does not) */
#define CODEC_F_ANY_RATE  0x2   /* PCM side runs at 8/12/16/24/48 kHz (Opus) */
#define CODEC_F_PLC       0x4   /* conceal() synthesises audio, not silence */
#define CODEC_F_LIBAV     0x8   /* through libavcodec: see codec_available() */

struct codec_ops;

struct codec_def {
	const char *name;           /* rtpmap encoding name, e.g. "PCMU", "opus" */
	enum codec_id id;
	int static_pt;              /* RFC 3551 static payload type, -1 if dynamic */
	unsigned clock_rate;        /* RTP timestamp clock */
	unsigned sample_rate;       /* native PCM rate (G722: 16000 on an 8000 clock) */
	unsigned channels;          /* rtpmap channels (opus: 2) */
	unsigned default_ptime;     /* ms */
	unsigned frame_ms10;        /* smallest encodable unit, in 0.1 ms (G729: 100) */
	unsigned flags;             /* CODEC_F_* */
	const struct codec_ops *ops;    /* NULL for telephone-event */
	const char *default_fmtp;   /* a=fmtp when sluice adds the codec to an offer without
	                               one (AMR: rtpengine's), NULL: none */
};

/* Negotiated parameters: fmtp of the peer's SDP plus local settings. */
struct codec_params {
	unsigned pcm_rate;          /* PCM rate; 0 = def->sample_rate (only Opus may differ) */
	unsigned channels;          /* PCM channels, 0 = mono; only Opus takes 2 */
	int complexity;             /* Opus 0..10, -1 = library default */
	unsigned bitrate;           /* Opus maxaveragebitrate in bit/s, 0 = default */
	bool fec;                   /* Opus useinbandfec: encode with, decode using FEC */
	unsigned loss_pct;          /* Opus expected packet loss (drives FEC), 0..100 */
	bool annexb;                /* G.729 annex B (VAD/DTX/CNG) */
	/* AMR, AMR-WB (RFC 4867 fmtp) */
	bool octet_align;           /* octet-align=1; else bandwidth-efficient */
	uint16_t mode_set;          /* mode-set: bit n allows mode n; 0 = every mode */
	bool amr_unsupported;       /* crc, robust-sorting or interleaving asked for */
};

struct codec_enc;
struct codec_dec;

/* Lookup. name is matched case-insensitively; clock_rate 0 and channels 0 match any
 * (rtpmap without channels means 1, so pass 1 for an explicit "/1" only). */
const struct codec_def *codec_find(const char *name, size_t name_len, unsigned clock_rate,
				   unsigned channels);
const struct codec_def *codec_get(enum codec_id id);
/* Static payload types 0 (PCMU), 3 (GSM), 4 (G723), 8 (PCMA), 9 (G722), 11 (L16/44100),
 * 18 (G729); NULL otherwise. */
const struct codec_def *codec_by_static_pt(unsigned pt);

/* True if this process can encode and decode def. When not, *why (if why is not NULL)
 * gets a static sentence for operators that names the codec and, e.g., which package
 * brings the missing encoder ("AMR not available: ..."). */
bool codec_available(const struct codec_def *def, const char **why);
/* "codecs available: PCMU ... GSM speex/8000 ...; AMR not available: ...", the startup
 * log line. Truncated to cap. */
void codec_describe(char *buf, size_t cap);

/* Defaults per RFC (G.729 annexb=yes when absent, Opus fec off, mono). */
void codec_params_default(const struct codec_def *def, struct codec_params *p);
/* Applies an a=fmtp parameter string ("useinbandfec=1; stereo=1", "annexb=no") on top
 * of *p. Unknown keys are ignored. -EINVAL on a value out of range. */
int codec_fmtp_parse(const struct codec_def *def, const char *fmtp, size_t len,
		     struct codec_params *p);
/* True if the codec can encode `samples` per channel at PCM rate `rate` in one call. */
bool codec_frame_ok(const struct codec_def *def, unsigned rate, unsigned samples);

/* -ENOTSUP for telephone-event or a codec !codec_available(), -EINVAL for bad params,
 * -ENOMEM. */
int codec_enc_create(const struct codec_def *def, const struct codec_params *p,
		     struct codec_enc **out);
void codec_enc_destroy(struct codec_enc *e);
int codec_dec_create(const struct codec_def *def, const struct codec_params *p,
		     struct codec_dec **out);
void codec_dec_destroy(struct codec_dec *d);

/* PCM rate and channels an encoder/decoder was created with. */
unsigned codec_enc_rate(const struct codec_enc *e);
unsigned codec_enc_channels(const struct codec_enc *e);
unsigned codec_dec_rate(const struct codec_dec *d);
unsigned codec_dec_channels(const struct codec_dec *d);

/* Encode `samples` per channel (codec_frame_ok() must hold) into out. Returns payload
 * bytes; 0 means "nothing to send" (G.729 annex B DTX). -EINVAL, -ENOSPC. */
int codec_encode(struct codec_enc *e, const int16_t *pcm, unsigned samples,
		 uint8_t *out, size_t out_size);
/* Decode one RTP payload into at most max samples per channel. Returns samples per
 * channel. -EINVAL for a malformed payload, -EMSGSIZE if it would exceed max. */
int codec_decode(struct codec_dec *d, const uint8_t *payload, size_t len,
		 int16_t *pcm, unsigned max);
/* Fill `samples` per channel of lost audio. `next`, when not NULL, is the payload that
 * follows the loss: Opus uses its in-band FEC copy for the tail of the gap. Codecs
 * without concealment write silence. Returns samples written. */
int codec_conceal(struct codec_dec *d, const uint8_t *next, size_t next_len,
		  unsigned samples, int16_t *pcm, unsigned max);

/* AMR codec mode request (RFC 4867 CMR). codec_dec_cmr() is the last mode the peer
 * asked for in the payloads it sent (-1: none, or not AMR); codec_enc_set_mode() makes
 * the encoder use that mode from the next frame when the negotiated mode-set allows it
 * (0, -EINVAL for a mode outside it, -ENOTSUP for other codecs). No allocation. */
int codec_dec_cmr(const struct codec_dec *d);
int codec_enc_set_mode(struct codec_enc *e, unsigned mode);

#endif
