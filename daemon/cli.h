/* The control CLI (--listen-cli): rtpengine-ctl's protocol and commands, and sluice's
 * own JSON commands that sluice-ctl uses (docs/cli.md).
 *
 * One TCP connection carries one request: a line of text ending in "\n"; the reply is
 * text (or JSON for "json ..." commands) and the daemon closes the connection after it.
 * Served by the control thread, which owns the call registry: the listener and the
 * connections sit in an epoll set of their own, whose descriptor the control loop polls
 * (cli_fd) and hands over when it is readable (cli_run). A request is bounded in size,
 * connections in number and time, so a broken or hostile client costs a slot and a few
 * seconds, never the media path. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stddef.h>

struct daemon;
struct cli;

/* Bind cfg->listen_cli (nothing to do, *out = NULL, when it is not set) and add the
 * CLI's epoll descriptor to epfd with data.ptr = tag. 0, or -errno with a one-line
 * reason in err. */
int cli_open(struct cli **out, struct daemon *d, int epfd, void *tag, char *err,
	     size_t errlen);
/* The descriptor registered with tag is readable: serve what is ready, never block. */
void cli_run(struct cli *c);
void cli_close(struct cli *c);

#endif
