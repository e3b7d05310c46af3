/* Sample-rate conversion of S16 PCM (8/12/16/24/48 kHz) through libswresample.
 * libswresample was chosen over spandsp because spandsp 0.0.6 has no general
 * resampler; swr's default windowed-sinc filter keeps a 1 kHz tone clean through
 * 8k <-> 16k <-> 48k and costs little at these rates.
 *
 * The filter delays the signal by a few samples, so the count out of one call varies
 * slightly around n * out_rate / in_rate; the total over a stream is exact. State is
 * allocated at create; swr may grow an internal buffer on its first calls, never in
 * steady state. */
#ifndef SLUICE_RESAMPLE_H
#define SLUICE_RESAMPLE_H

#include <stdint.h>

struct resample;

/* -EINVAL for a rate outside 8000..48000 or channels not 1/2, -ENOMEM. */
int resample_create(unsigned in_rate, unsigned out_rate, unsigned channels,
		    struct resample **out);
void resample_destroy(struct resample *r);
/* Converts n input samples per channel, writes at most max per channel to out and
 * returns the number written (what does not fit stays buffered), or -errno. */
int resample_run(struct resample *r, const int16_t *in, unsigned n, int16_t *out,
		 unsigned max);
/* Upper bound of what resample_run() may return for n input samples. */
unsigned resample_out_bound(const struct resample *r, unsigned n);

#endif
