/* One line per event, syslog levels. The call-id and tag, when given, lead the line in
 * brackets so an operator can grep a call. Thread-safe (one write per line). */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* level: syslog 0-7; to_stderr: else syslog(3) with ident/facility. Call once at start. */
void log_init(int level, bool to_stderr, const char *ident, int facility);
bool log_enabled(int prio);
/* The level may change at run time (CLI, SIGHUP); every thread sees the new one at its
 * next line. Out-of-range levels are clamped to 0-7. Returns the previous level. */
int log_set_level(int level);
int log_get_level(void);
/* Reconnect to syslog (after a syslog daemon restart); nothing to do for stderr, which
 * the service manager or shell owns. */
void log_reopen(void);
void log_write(int prio, const char *callid, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ilog(prio, ...) \
	do { if (log_enabled(prio)) log_write(prio, NULL, NULL, __VA_ARGS__); } while (0)
/* Log about a call; tag may be NULL. */
#define clog(prio, callid, tag, ...) \
	do { if (log_enabled(prio)) log_write(prio, callid, tag, __VA_ARGS__); } while (0)

#endif
