/* Logging to stderr or syslog. The level is one atomic int: read relaxed by every
 * thread (a plain load on x86), written by the control thread (CLI, SIGHUP). */
#include "sluice/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
	atomic_int level;
	bool to_stderr;
	const char *ident;
	int facility;
} log_cfg = { LOG_INFO, true, "sluice", LOG_DAEMON };

static const char *const prio_names[8] = {
	"EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
};

void log_init(int level, bool to_stderr, const char *ident, int facility)
{
	log_set_level(level);
	log_cfg.to_stderr = to_stderr;
	log_cfg.ident = ident;
	log_cfg.facility = facility;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

bool log_enabled(int prio)
{
	return prio <= atomic_load_explicit(&log_cfg.level, memory_order_relaxed);
}

int log_set_level(int level)
{
	if (level < 0)
		level = 0;
	if (level > 7)
		level = 7;
	return atomic_exchange_explicit(&log_cfg.level, level, memory_order_relaxed);
}

int log_get_level(void)
{
	return atomic_load_explicit(&log_cfg.level, memory_order_relaxed);
}

void log_reopen(void)
{
	if (log_cfg.to_stderr)
		return;
	closelog();
	openlog(log_cfg.ident, LOG_PID | LOG_NDELAY, log_cfg.facility);
}

void log_write(int prio, const char *callid, const char *tag, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	va_list ap;
	int r;

	if (prio < 0 || prio > 7)
		prio = LOG_ERR;
	if (log_cfg.to_stderr) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ld [%s] ", (long)tv.tv_usec / 1000,
			     prio_names[prio]);
		n += r > 0 ? (size_t)r : 0;
	}
	if (callid) {
		r = snprintf(line + n, sizeof(line) - n, tag ? "[%s %s] " : "[%s] ", callid, tag);
		if (r > 0)
			n = n + (size_t)r < sizeof(line) ? n + (size_t)r : sizeof(line) - 1;
	}
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n = n + (size_t)r < sizeof(line) ? n + (size_t)r : sizeof(line) - 1;
	/* Control characters from the network must not forge log lines. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	if (log_cfg.to_stderr) {
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
		line[n++] = '\n';
		ssize_t w = write(STDERR_FILENO, line, n);
		(void)w;
	} else {
		syslog(prio, "%.*s", (int)n, line);
	}
}
