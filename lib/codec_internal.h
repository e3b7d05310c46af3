/* Private to lib/codec*.c: the per-codec ops table and the state wrappers. */
#ifndef SLUICE_CODEC_INTERNAL_H
#define SLUICE_CODEC_INTERNAL_H

#include "sluice/codec.h"

struct codec_enc {
	const struct codec_def *def;
	unsigned rate, channels;
	void *priv;
};

struct codec_dec {
	const struct codec_def *def;
	unsigned rate, channels;
	void *priv;
};

/* Each hook gets a wrapper with def/rate/channels already filled in; *_init sets priv
 * and returns 0 or -errno; *_fini frees priv. Sizes are validated by codec.c. */
struct codec_ops {
	int (*enc_init)(struct codec_enc *e, const struct codec_params *p);
	void (*enc_fini)(struct codec_enc *e);
	int (*encode)(struct codec_enc *e, const int16_t *pcm, unsigned samples,
		      uint8_t *out, size_t out_size);
	int (*dec_init)(struct codec_dec *d, const struct codec_params *p);
	void (*dec_fini)(struct codec_dec *d);
	int (*decode)(struct codec_dec *d, const uint8_t *in, size_t len,
		      int16_t *pcm, unsigned max);
	/* samples is within max; next may be NULL */
	int (*conceal)(struct codec_dec *d, const uint8_t *next, size_t next_len,
		       unsigned samples, int16_t *pcm);
	/* optional (NULL: not supported) */
	int (*set_mode)(struct codec_enc *e, unsigned mode);
	int (*cmr)(const struct codec_dec *d);
};

extern const struct codec_ops codec_ops_pcmu;
extern const struct codec_ops codec_ops_pcma;
extern const struct codec_ops codec_ops_g722;
extern const struct codec_ops codec_ops_opus;
extern const struct codec_ops codec_ops_g729;
extern const struct codec_ops codec_ops_av;

/* lib/codec_av.c: can this libavcodec encode and decode def; why not. */
bool codec_av_available(const struct codec_def *def, const char **why);

#endif
