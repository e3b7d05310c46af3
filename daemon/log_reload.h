/* SIGHUP: reopen the log and take the log level from the configuration again. */
#ifndef SLUICE_LOG_RELOAD_H
#define SLUICE_LOG_RELOAD_H

struct daemon;

/* Reads the configuration as at start (the same command line, so the same file and the
 * same precedence: a --log-level given on the command line still wins over the file)
 * and applies its log level; nothing else of it changes. A file that no longer parses
 * keeps the current level, with a warning. Control thread. */
void log_reload(struct daemon *d);

#endif
