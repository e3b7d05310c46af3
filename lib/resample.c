/* libswresample wrapper: S16 in, S16 out, same channel count. */
#include "sluice/resample.h"

#include <errno.h>
#include <stdlib.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>

struct resample {
	SwrContext *swr;
	unsigned in_rate, out_rate;
};

int resample_create(unsigned in_rate, unsigned out_rate, unsigned channels,
		    struct resample **out)
{
	AVChannelLayout layout;
	struct resample *r;
	int ret;

	if (in_rate < 8000 || in_rate > 48000 || out_rate < 8000 || out_rate > 48000 ||
	    (channels != 1 && channels != 2))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->in_rate = in_rate;
	r->out_rate = out_rate;
	av_channel_layout_default(&layout, (int)channels);
	ret = swr_alloc_set_opts2(&r->swr, &layout, AV_SAMPLE_FMT_S16, (int)out_rate,
				  &layout, AV_SAMPLE_FMT_S16, (int)in_rate, 0, NULL);
	if (ret < 0 || !r->swr)
		goto fail;
	if (swr_init(r->swr) < 0)
		goto fail_swr;
	*out = r;
	return 0;
fail_swr:
	swr_free(&r->swr);
fail:
	free(r);
	return -ENOMEM;
}

void resample_destroy(struct resample *r)
{
	if (!r)
		return;
	swr_free(&r->swr);
	free(r);
}

int resample_run(struct resample *r, const int16_t *in, unsigned n, int16_t *out,
		 unsigned max)
{
	const uint8_t *ip = (const uint8_t *)in;
	uint8_t *op = (uint8_t *)out;
	int ret;

	ret = swr_convert(r->swr, &op, (int)max, n ? &ip : NULL, (int)n);
	return ret < 0 ? -EINVAL : ret;
}

unsigned resample_out_bound(const struct resample *r, unsigned n)
{
	/* what is buffered plus the new input, rounded up, plus filter slack */
	return (unsigned)(((unsigned long long)n * r->out_rate + r->in_rate - 1) /
			  r->in_rate) + 64;
}
