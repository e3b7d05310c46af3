/* G.711 (PCMU, PCMA) and G.722 through spandsp, with spandsp's PLC for lost frames.
 * The PLC is pitch-synchronous repetition tuned for 8 kHz; on G.722's 16 kHz it still
 * repeats the last period and fades out, which is what matters for a relay. */
#include "codec_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

struct sp_dec {
	union {
		g711_state_t *g711;
		g722_decode_state_t *g722;
	};
	plc_state_t *plc;
};

static int g711_enc_init(struct codec_enc *e, int mode)
{
	e->priv = g711_init(NULL, mode);
	return e->priv ? 0 : -ENOMEM;
}

static int pcmu_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	(void)p;
	return g711_enc_init(e, G711_ULAW);
}

static int pcma_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	(void)p;
	return g711_enc_init(e, G711_ALAW);
}

static void g711_enc_fini(struct codec_enc *e)
{
	g711_free(e->priv);
}

static int g711_encode_cb(struct codec_enc *e, const int16_t *pcm, unsigned samples,
			  uint8_t *out, size_t out_size)
{
	if (samples > out_size)
		return -ENOSPC;
	return g711_encode(e->priv, out, pcm, (int)samples);
}

static int sp_dec_alloc(struct codec_dec *d, struct sp_dec **out)
{
	struct sp_dec *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->plc = plc_init(NULL);
	if (!s->plc) {
		free(s);
		return -ENOMEM;
	}
	d->priv = s;
	*out = s;
	return 0;
}

static int g711_dec_init(struct codec_dec *d, int mode)
{
	struct sp_dec *s;
	int ret = sp_dec_alloc(d, &s);

	if (ret)
		return ret;
	s->g711 = g711_init(NULL, mode);
	if (!s->g711) {
		plc_free(s->plc);
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static int pcmu_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	(void)p;
	return g711_dec_init(d, G711_ULAW);
}

static int pcma_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	(void)p;
	return g711_dec_init(d, G711_ALAW);
}

static void g711_dec_fini(struct codec_dec *d)
{
	struct sp_dec *s = d->priv;

	g711_free(s->g711);
	plc_free(s->plc);
	free(s);
}

static int g711_decode_cb(struct codec_dec *d, const uint8_t *in, size_t len,
			  int16_t *pcm, unsigned max)
{
	struct sp_dec *s = d->priv;
	int n;

	if (len > max)
		return -EMSGSIZE;
	n = g711_decode(s->g711, pcm, in, (int)len);
	plc_rx(s->plc, pcm, n);
	return n;
}

/* spandsp 0.0.6 rotates the PLC history with an overlapping memcpy() when a gap
 * starts (undefined behaviour, and an ASan error). Doing the same rotation here with
 * memmove() leaves buf_ptr at 0, which makes the library skip its copy. */
static void plc_normalise(plc_state_t *p)
{
	int16_t tmp[PLC_HISTORY_LEN];
	int n = p->buf_ptr;

	if (p->missing_samples || n <= 0 || n >= PLC_HISTORY_LEN)
		return;
	memcpy(tmp, p->history, (size_t)n * sizeof(*tmp));
	memmove(p->history, p->history + n, (size_t)(PLC_HISTORY_LEN - n) * sizeof(*tmp));
	memcpy(p->history + PLC_HISTORY_LEN - n, tmp, (size_t)n * sizeof(*tmp));
	p->buf_ptr = 0;
}

static int sp_conceal(struct codec_dec *d, const uint8_t *next, size_t next_len,
		      unsigned samples, int16_t *pcm)
{
	struct sp_dec *s = d->priv;

	(void)next;
	(void)next_len;
	plc_normalise(s->plc);
	return plc_fillin(s->plc, pcm, (int)samples);
}

static int g722_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	(void)p;
	e->priv = g722_encode_init(NULL, 64000, 0);
	return e->priv ? 0 : -ENOMEM;
}

static void g722_enc_fini(struct codec_enc *e)
{
	g722_encode_free(e->priv);
}

static int g722_encode_cb(struct codec_enc *e, const int16_t *pcm, unsigned samples,
			  uint8_t *out, size_t out_size)
{
	if (samples / 2 > out_size)
		return -ENOSPC;
	return g722_encode(e->priv, out, pcm, (int)samples);
}

static int g722_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	struct sp_dec *s;
	int ret = sp_dec_alloc(d, &s);

	(void)p;
	if (ret)
		return ret;
	s->g722 = g722_decode_init(NULL, 64000, 0);
	if (!s->g722) {
		plc_free(s->plc);
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static void g722_dec_fini(struct codec_dec *d)
{
	struct sp_dec *s = d->priv;

	g722_decode_free(s->g722);
	plc_free(s->plc);
	free(s);
}

static int g722_decode_cb(struct codec_dec *d, const uint8_t *in, size_t len,
			  int16_t *pcm, unsigned max)
{
	struct sp_dec *s = d->priv;
	int n;

	if (len * 2 > max)
		return -EMSGSIZE;
	n = g722_decode(s->g722, pcm, in, (int)len);
	plc_rx(s->plc, pcm, n);
	return n;
}

const struct codec_ops codec_ops_pcmu = {
	.enc_init = pcmu_enc_init, .enc_fini = g711_enc_fini, .encode = g711_encode_cb,
	.dec_init = pcmu_dec_init, .dec_fini = g711_dec_fini, .decode = g711_decode_cb,
	.conceal = sp_conceal,
};

const struct codec_ops codec_ops_pcma = {
	.enc_init = pcma_enc_init, .enc_fini = g711_enc_fini, .encode = g711_encode_cb,
	.dec_init = pcma_dec_init, .dec_fini = g711_dec_fini, .decode = g711_decode_cb,
	.conceal = sp_conceal,
};

const struct codec_ops codec_ops_g722 = {
	.enc_init = g722_enc_init, .enc_fini = g722_enc_fini, .encode = g722_encode_cb,
	.dec_init = g722_dec_init, .dec_fini = g722_dec_fini, .decode = g722_decode_cb,
	.conceal = sp_conceal,
};
