/* The HTTP listener (--listen-http, libmicrohttpd): GET /metrics (Prometheus text
 * format, metrics.h), /stats (NG `statistics` as JSON) and /ping ("pong"); other paths
 * 404, other methods 405. docs/metrics.md.
 *
 * Threads: each listen address has one libmicrohttpd thread that parses requests,
 * enforces the limits (connections, header memory, 5 s per connection) and writes the
 * responses. The call registry belongs to the control thread, so /metrics and /stats
 * are rendered there: the HTTP thread queues the request, wakes the control thread
 * through an eventfd in its epoll, and waits (bounded) for the text. The media path is
 * never involved. */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stddef.h>

struct daemon;
struct http;

/* Bind every --listen-http address (before daemonizing, so a taken port fails the
 * start) and add the wake-up eventfd to epfd with data.ptr = tag. *out is NULL when no
 * address is configured. 0, or -errno with a one-line reason in err. */
int http_open(struct http **out, struct daemon *d, int epfd, void *tag, char *err,
	      size_t errlen);
/* Start the listener threads (after fork). 0, or -errno with err. */
int http_start(struct http *h, char *err, size_t errlen);
/* Control thread, when the eventfd tagged in http_open() is readable: render what the
 * HTTP threads asked for. */
void http_run(struct http *h);
/* Refuse waiting and new /metrics and /stats requests, stop the threads, close the
 * sockets. NULL is fine. */
void http_close(struct http *h);

#endif
