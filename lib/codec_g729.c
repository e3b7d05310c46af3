/* G.729 (annex A decoder-compatible, annex B VAD/CNG optional) through bcg729.
 * A payload is N 10-byte speech frames optionally followed by one 2-byte SID frame
 * (RFC 3551 4.5.6). With annex B the encoder may emit SID or nothing for a frame. */
#include "codec_internal.h"

#include <errno.h>
#include <string.h>
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>

#define G729_FRAME      80      /* samples per 10 ms frame */
#define G729_BYTES      10
#define G729_SID_BYTES  2

static int g729_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	e->priv = initBcg729EncoderChannel(p->annexb ? 1 : 0);
	return e->priv ? 0 : -ENOMEM;
}

static void g729_enc_fini(struct codec_enc *e)
{
	closeBcg729EncoderChannel(e->priv);
}

/* Speech frames must precede the one SID a payload may end with; a SID that is
 * followed by speech inside the same packet is dropped (the decoder just sees speech). */
static int g729_encode_cb(struct codec_enc *e, const int16_t *pcm, unsigned samples,
			  uint8_t *out, size_t out_size)
{
	uint8_t sid[G729_SID_BYTES];
	bool have_sid = false;
	size_t len = 0;

	for (unsigned i = 0; i < samples; i += G729_FRAME) {
		uint8_t buf[G729_BYTES];
		uint8_t n = 0;

		bcg729Encoder(e->priv, pcm + i, buf, &n);
		if (n == G729_BYTES) {
			if (len + G729_BYTES > out_size)
				return -ENOSPC;
			memcpy(out + len, buf, G729_BYTES);
			len += G729_BYTES;
			have_sid = false;
		} else if (n == G729_SID_BYTES) {
			memcpy(sid, buf, G729_SID_BYTES);
			have_sid = true;
		}
	}
	if (have_sid) {
		if (len + G729_SID_BYTES > out_size)
			return -ENOSPC;
		memcpy(out + len, sid, G729_SID_BYTES);
		len += G729_SID_BYTES;
	}
	return (int)len;
}

static int g729_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	(void)p;
	d->priv = initBcg729DecoderChannel();
	return d->priv ? 0 : -ENOMEM;
}

static void g729_dec_fini(struct codec_dec *d)
{
	closeBcg729DecoderChannel(d->priv);
}

static int g729_decode_cb(struct codec_dec *d, const uint8_t *in, size_t len,
			  int16_t *pcm, unsigned max)
{
	size_t frames = len / G729_BYTES, rest = len % G729_BYTES;
	unsigned n = 0;

	if (rest && rest != G729_SID_BYTES)
		return -EINVAL;
	if ((frames + (rest ? 1 : 0)) * G729_FRAME > max)
		return -EMSGSIZE;
	for (size_t i = 0; i < frames; i++, n += G729_FRAME)
		bcg729Decoder(d->priv, in + i * G729_BYTES, G729_BYTES, 0, 0, 0, pcm + n);
	if (rest) {
		bcg729Decoder(d->priv, in + frames * G729_BYTES, G729_SID_BYTES, 0, 1, 0,
			      pcm + n);
		n += G729_FRAME;
	}
	return (int)n;
}

static int g729_conceal_cb(struct codec_dec *d, const uint8_t *next, size_t next_len,
			   unsigned samples, int16_t *pcm)
{
	unsigned n = 0;

	(void)next;
	(void)next_len;
	for (; n + G729_FRAME <= samples; n += G729_FRAME)
		bcg729Decoder(d->priv, NULL, 0, 1, 0, 0, pcm + n);
	memset(pcm + n, 0, (samples - n) * sizeof(*pcm));
	return (int)samples;
}

const struct codec_ops codec_ops_g729 = {
	.enc_init = g729_enc_init, .enc_fini = g729_enc_fini, .encode = g729_encode_cb,
	.dec_init = g729_dec_init, .dec_fini = g729_dec_fini, .decode = g729_decode_cb,
	.conceal = g729_conceal_cb,
};
