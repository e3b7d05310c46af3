/* Opus through libopus. The encoder and decoder run at the PCM rate asked for (8..48 kHz),
 * so a PCMU leg needs no resampler; RTP timestamps stay on the 48 kHz clock. */
#include "codec_internal.h"

#include <errno.h>
#include <string.h>
#include <opus.h>

static int opus_err(int err)
{
	return err == OPUS_ALLOC_FAIL ? -ENOMEM : -EINVAL;
}

static int opus_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	OpusEncoder *oe;
	int err;

	oe = opus_encoder_create((opus_int32)e->rate, (int)e->channels,
				 OPUS_APPLICATION_VOIP, &err);
	if (!oe)
		return opus_err(err);
	if (p->complexity >= 0)
		opus_encoder_ctl(oe, OPUS_SET_COMPLEXITY(p->complexity));
	if (p->bitrate)
		opus_encoder_ctl(oe, OPUS_SET_BITRATE((opus_int32)p->bitrate));
	opus_encoder_ctl(oe, OPUS_SET_INBAND_FEC(p->fec ? 1 : 0));
	/* FEC is only spent when the encoder expects loss */
	opus_encoder_ctl(oe, OPUS_SET_PACKET_LOSS_PERC((int)(p->fec && !p->loss_pct ? 10 :
							      p->loss_pct)));
	e->priv = oe;
	return 0;
}

static void opus_enc_fini(struct codec_enc *e)
{
	opus_encoder_destroy(e->priv);
}

static int opus_encode_cb(struct codec_enc *e, const int16_t *pcm, unsigned samples,
			  uint8_t *out, size_t out_size)
{
	opus_int32 n = opus_encode(e->priv, pcm, (int)samples, out,
				   (opus_int32)(out_size > 3 * 1275 ? 3 * 1275 : out_size));

	if (n == OPUS_BUFFER_TOO_SMALL)
		return -ENOSPC;
	return n < 0 ? -EINVAL : n;
}

static int opus_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	OpusDecoder *od;
	int err;

	(void)p;
	od = opus_decoder_create((opus_int32)d->rate, (int)d->channels, &err);
	if (!od)
		return opus_err(err);
	d->priv = od;
	return 0;
}

static void opus_dec_fini(struct codec_dec *d)
{
	opus_decoder_destroy(d->priv);
}

static int opus_decode_cb(struct codec_dec *d, const uint8_t *in, size_t len,
			  int16_t *pcm, unsigned max)
{
	int n;

	if (len > 1275 * 48)
		return -EINVAL;
	n = opus_packet_get_nb_samples(in, (opus_int32)len, (opus_int32)d->rate);
	if (n < 0)
		return -EINVAL;
	if ((unsigned)n > max)
		return -EMSGSIZE;
	n = opus_decode(d->priv, in, (opus_int32)len, pcm, n, 0);
	return n < 0 ? -EINVAL : n;
}

/* libopus conceals whole 2.5 ms units: PLC for the gap, and with `next` it decodes the
 * FEC copy carried there for the tail of the gap. A remainder below 2.5 ms is silence. */
static int opus_conceal_cb(struct codec_dec *d, const uint8_t *next, size_t next_len,
			   unsigned samples, int16_t *pcm)
{
	unsigned q = d->rate / 400, n = samples / q * q;
	int ret = 0;

	if (n) {
		if (next && next_len <= 1275 * 48 &&
		    opus_packet_get_nb_samples(next, (opus_int32)next_len,
					       (opus_int32)d->rate) > 0)
			ret = opus_decode(d->priv, next, (opus_int32)next_len, pcm, (int)n, 1);
		else
			ret = opus_decode(d->priv, NULL, 0, pcm, (int)n, 0);
		if (ret < 0)
			ret = 0;
	}
	memset(pcm + (size_t)ret * d->channels, 0,
	       (size_t)(samples - (unsigned)ret) * d->channels * sizeof(*pcm));
	return (int)samples;
}

const struct codec_ops codec_ops_opus = {
	.enc_init = opus_enc_init, .enc_fini = opus_enc_fini, .encode = opus_encode_cb,
	.dec_init = opus_dec_init, .dec_fini = opus_dec_fini, .decode = opus_decode_cb,
	.conceal = opus_conceal_cb,
};
