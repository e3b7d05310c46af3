/* Load limits: samples and the admission check. */
#include "load_limit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "stats.h"
#include "sluice/log.h"

#define CPU_PERIOD_US  500000           /* rtpengine samples CPU usage every 0.5 s */
#define LOAD_PERIOD_US 1000000

static const char *const kind_names[LOAD_N] = {
	[LOAD_SESSIONS] = "sessions", [LOAD_LOAD] = "load", [LOAD_CPU] = "cpu",
	[LOAD_BANDWIDTH] = "bandwidth",
};

/* rtpengine's messages, so what a proxy logs reads the same with either relay */
static const char *const kind_msgs[LOAD_N] = {
	[LOAD_SESSIONS] = "Parallel session limit reached",
	[LOAD_LOAD] = "Load limit exceeded",
	[LOAD_CPU] = "CPU usage limit exceeded",
	[LOAD_BANDWIDTH] = "Bandwidth limit exceeded",
};

const char *load_kind_name(enum load_kind k)
{
	return k < LOAD_N ? kind_names[k] : "?";
}

/* Busy and total jiffies of all CPUs (first line of /proc/stat); idle and iowait are
 * not busy. false if unreadable. */
static bool read_cpu(uint64_t *busy, uint64_t *total)
{
	uint64_t v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return false;
	n = fscanf(f, "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		   &v[7]);
	fclose(f);
	if (n < 4)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return true;
}

static void sample_cpu(struct load_state *l)
{
	uint64_t busy, total;

	if (!read_cpu(&busy, &total))
		return;
	if (l->cpu_total && total > l->cpu_total)
		l->cpu_pct = 100.0 * (double)(busy - l->cpu_busy) / (double)(total - l->cpu_total);
	l->cpu_busy = busy;
	l->cpu_total = total;
}

void load_tick(struct daemon *d, int64_t now)
{
	struct load_state *l = &d->load;
	double avg[1];

	if (now >= l->next_cpu_us) {
		sample_cpu(l);
		l->next_cpu_us = now + CPU_PERIOD_US;
	}
	if (now >= l->next_load_us) {
		if (getloadavg(avg, 1) == 1)
			l->loadavg = avg[0];
		l->next_load_us = now + LOAD_PERIOD_US;
	}
}

static int reached(const struct daemon *d)
{
	const struct config *cfg = d->cfg;
	const struct load_state *l = &d->load;

	if (cfg->max_sessions >= 0 && d->reg.count >= (size_t)cfg->max_sessions)
		return LOAD_SESSIONS;
	if (cfg->max_load > 0 && l->loadavg > cfg->max_load)
		return LOAD_LOAD;
	if (cfg->max_cpu > 0 && l->cpu_pct > cfg->max_cpu)
		return LOAD_CPU;
	if (cfg->max_bandwidth && stats_bandwidth(d) > cfg->max_bandwidth)
		return LOAD_BANDWIDTH;
	return -1;
}

const char *load_refuse(struct daemon *d)
{
	int k = reached(d);
	struct load_state *l = &d->load;
	int64_t now;

	if (k < 0)
		return NULL;
	l->refused[k]++;
	l->unlogged++;
	/* at most a line a second: a proxy may keep offering to a relay at its limit */
	now = mono_us();
	if (now - l->logged_us >= 1000000) {
		ilog(LOG_WARNING, "%" PRIu64 " new call(s) refused, last: %s (sessions %zu, "
		     "load %.2f, cpu %.1f%%, bandwidth %" PRIu64 " B/s)", l->unlogged,
		     kind_msgs[k], d->reg.count, l->loadavg, l->cpu_pct, stats_bandwidth(d));
		l->logged_us = now;
		l->unlogged = 0;
	}
	return kind_msgs[k];
}
