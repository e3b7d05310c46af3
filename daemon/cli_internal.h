/* Private to daemon/cli_*.c: the command side of the CLI, fed one request line by
 * cli_server.c. */
#ifndef SLUICE_CLI_INTERNAL_H
#define SLUICE_CLI_INTERNAL_H

#include <stddef.h>

#include "daemon.h"
#include "sluice/strbuf.h"

#define CLI_MAX_ARGS    16

/* A request split on blanks. */
struct cli_args {
	char *v[CLI_MAX_ARGS];
	unsigned n;
};

/* Run one request line (NUL-terminated, no line end; may be modified) and append the
 * whole reply to out. Control thread only. */
void cli_command(struct daemon *d, char *line, struct strbuf *out);

/* "json ARGS...": sluice's own commands, replying with one JSON object. */
void cli_json(struct daemon *d, const struct cli_args *a, struct strbuf *out);

/* Shared by both command sets. */
struct call;
/* End a call now (its ports are released): counted as terminated by the operator. */
void cli_terminate_call(struct daemon *d, struct call *c);
/* End every call; returns how many. */
unsigned cli_terminate_all(struct daemon *d);
/* "0".."7" -> level, else -1. */
int cli_parse_level(const char *s);
/* Set the log level and say so in the log. */
void cli_set_log_level(struct daemon *d, int level, const char *who);

#endif
