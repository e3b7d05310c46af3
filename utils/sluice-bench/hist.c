/* Log-linear latency histogram: HIST_SUB buckets per power of two, so every bucket is
 * within 1/HIST_SUB of its value; fixed size, no allocation per sample. */
#include <string.h>

#include "bench.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned bucket(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);          /* v in [2^e, 2^(e+1)) */
	if (e - 5 >= HIST_EXP)                          /* HIST_SUB == 2^6 */
		return HIST_EXP * HIST_SUB - 1;
	return (e - 5) * HIST_SUB + (unsigned)((v >> (e - 6)) - HIST_SUB);
}

/* Lowest value of bucket i and its width. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned e = i / HIST_SUB, m = i % HIST_SUB;

	if (e == 0) {
		*lo = m;
		*width = 1;
		return;
	}
	*width = 1ull << (e - 1);
	*lo = ((uint64_t)HIST_SUB + m) << (e - 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	h->b[bucket(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, acc = 0, lo, width;

	if (!h->n)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_EXP * HIST_SUB; i++) {
		acc += h->b[i];
		if (acc > want) {
			bucket_range(i, &lo, &width);
			lo += width / 2;
			return lo > h->max ? h->max : lo;
		}
	}
	return h->max;
}
