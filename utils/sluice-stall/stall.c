/* sluice-stall: how long does this CPU disappear? A tight loop reads CLOCK_MONOTONIC and
 * counts gaps: on a quiet dedicated core they stay in microseconds; on a shared virtual
 * CPU the hypervisor takes it away for milliseconds at a time. The benchmark prints this
 * next to its latency figures, because no relay can have a p99 below the machine's.
 *   usage: sluice-stall [SECONDS]   (default 5; pin it with taskset like the relay) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5.0;
	long long start = now_ns(), end = start + (long long)(secs * 1e9), prev = start;
	long long max = 0, over[3] = { 0 }, stalled = 0;
	static const long long lim[3] = { 1000000, 2000000, 5000000 };

	if (secs <= 0 || secs > 3600) {
		fprintf(stderr, "usage: sluice-stall [SECONDS]\n");
		return 2;
	}
	for (;;) {
		long long n = now_ns(), d = n - prev;

		prev = n;
		if (d > max)
			max = d;
		if (d > 100000)
			stalled += d;
		for (int i = 0; i < 3; i++)
			over[i] += d > lim[i];
		if (n >= end)
			break;
	}
	printf("stalls over %.1f s: max %.2f ms, >1 ms: %lld, >2 ms: %lld, >5 ms: %lld, "
	       "time lost in stalls >0.1 ms: %.3f %%\n", secs, max / 1e6, over[0], over[1],
	       over[2], 100.0 * stalled / (double)(end - start));
	return 0;
}
