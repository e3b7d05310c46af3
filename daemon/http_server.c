/* --listen-http: libmicrohttpd daemons on sockets bound at start, the routes, and the
 * control thread's side of /metrics and /stats (see http.h). */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon.h"
#include "http_internal.h"
#include "metrics.h"
#include "sluice/log.h"
#include "sluice/promtext.h"
#include "stats.h"

#define HTTP_CONN_TIMEOUT_S 5           /* a connection idle or trickling this long closes */
#define HTTP_MAX_CONNS      32
#define HTTP_CONN_MEMORY    (16 * 1024) /* request line and headers must fit */
#define HTTP_RENDER_WAIT_MS 5000        /* control thread busy longer: 503 */

struct http {
	struct daemon *d;
	struct http_bridge bridge;
	int fds[CFG_MAX_LISTEN];
	struct MHD_Daemon *mhd[CFG_MAX_LISTEN];
	unsigned n;
};

static int listen_tcp(const union sockaddr_u *a, char *err, size_t errlen)
{
	char s[NETADDR_STRLEN];
	int fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->sa, netaddr_len(a)) || listen(fd, 64))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on HTTP %s: %s", netaddr_str(a, s, sizeof(s)),
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int http_open(struct http **out, struct daemon *d, int epfd, void *tag, char *err,
	      size_t errlen)
{
	const struct config *cfg = d->cfg;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	struct http *h;
	int e;

	*out = NULL;
	if (!cfg->n_listen_http)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h || (e = http_bridge_init(&h->bridge))) {
		free(h);
		snprintf(err, errlen, "HTTP listener: out of memory or descriptors");
		return -ENOMEM;
	}
	h->d = d;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, h->bridge.evfd, &ev)) {
		e = -errno;
		snprintf(err, errlen, "HTTP listener: epoll: %s", strerror(errno));
		goto fail;
	}
	for (; h->n < cfg->n_listen_http; h->n++) {
		h->fds[h->n] = listen_tcp(&cfg->listen_http[h->n], err, errlen);
		if (h->fds[h->n] < 0) {
			e = -EADDRINUSE;
			goto fail;
		}
	}
	*out = h;
	return 0;
fail:
	http_close(h);
	return e;
}

/* ---- control thread ---- */

/* The body of the NG statistics reply, as a JSON client of NG gets it (indented), less
 * "intervalstatistics": reading that section begins a new interval, and monitoring
 * must not change what NG users see (stats_peek()). */
static int render_stats(struct daemon *d, struct strbuf *out)
{
	struct bval *reply;
	struct arena a;
	int e = -ENOMEM;

	arena_init(&a, 0);
	reply = bv_new_dict(&a);
	if (reply && !stats_peek(d, &a, reply) && !bv_to_json_pretty(reply, out) &&
	    !sb_putc(out, '\n'))
		e = 0;
	arena_reset(&a);
	return e;
}

static void run_job(void *ctx, struct http_job *job)
{
	struct daemon *d = ctx;

	job->err = job->kind == HTTP_JOB_METRICS ? metrics_render(d, &job->body) :
		   render_stats(d, &job->body);
}

void http_run(struct http *h)
{
	if (h)
		http_bridge_run(&h->bridge, run_job, h->d);
}

/* ---- HTTP threads ---- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
			       const char *type, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;          /* out of memory: the connection is closed */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status,
				    const char *text)
{
	return respond(conn, status, "text/plain; charset=utf-8",
		       MHD_create_response_from_buffer(strlen(text), (void *)text,
						       MHD_RESPMEM_PERSISTENT));
}

/* Rendered on the control thread; the body's memory goes to libmicrohttpd. */
static enum MHD_Result respond_rendered(struct http *h, struct MHD_Connection *conn,
					enum http_job_kind kind, const char *type)
{
	struct http_job job = { .kind = kind };
	int e = http_bridge_call(&h->bridge, &job, HTTP_RENDER_WAIT_MS);
	struct MHD_Response *r;

	if (e || job.err || job.body.oom || !job.body.cap) {
		sb_free(&job.body);
		if (e == -ETIMEDOUT)
			return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					    "busy: the control thread did not answer in time\n");
		if (e == -ESHUTDOWN)
			return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	r = MHD_create_response_from_buffer(job.body.len, job.body.buf, MHD_RESPMEM_MUST_FREE);
	if (!r)
		sb_free(&job.body);
	return respond(conn, MHD_HTTP_OK, type, r);
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0")) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* libmicrohttpd calls this when the headers are in (*req_cls NULL), then per piece of
 * body, then once more with none. Other methods are refused at once; a GET or HEAD is
 * answered on the last call (so the connection may be kept alive), unless it
 * announces a body: refused before the body is read (the connection is then closed). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct http *h = cls;

	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!*req_cls) {
		if (has_body(conn))
			return respond_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "no body expected\n");
		*req_cls = h;
		return MHD_YES;
	}
	if (*upload_size)               /* not announced by a header: cannot happen */
		return MHD_NO;
	if (!strcmp(url, "/metrics"))
		return respond_rendered(h, conn, HTTP_JOB_METRICS, PROM_CONTENT_TYPE);
	if (!strcmp(url, "/stats"))
		return respond_rendered(h, conn, HTTP_JOB_STATS, "application/json");
	if (!strcmp(url, "/ping"))
		return respond_text(conn, MHD_HTTP_OK, "pong");
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd's own messages (malformed requests, resource limits): debug only, a
 * stranger must not be able to fill the log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	ilog(LOG_DEBUG, "HTTP: %s", buf);
}

int http_start(struct http *h, char *err, size_t errlen)
{
	char a[NETADDR_STRLEN];

	if (!h)
		return 0;
	for (unsigned i = 0; i < h->n; i++) {
		const union sockaddr_u *addr = &h->d->cfg->listen_http[i];
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				 MHD_USE_ERROR_LOG |
				 (addr->sa.sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);

		h->mhd[i] = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,      /* first: see its doc */
			MHD_OPTION_LISTEN_SOCKET, h->fds[i],
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
			MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
			MHD_OPTION_END);
		if (!h->mhd[i]) {
			snprintf(err, errlen, "cannot start the HTTP listener on %s",
				 netaddr_str(addr, a, sizeof(a)));
			return -EIO;
		}
		h->fds[i] = -1;         /* libmicrohttpd closes it now */
		ilog(LOG_NOTICE, "HTTP: /metrics, /stats, /ping on %s",
		     netaddr_str(addr, a, sizeof(a)));
	}
	return 0;
}

void http_close(struct http *h)
{
	if (!h)
		return;
	if (h->bridge.evfd >= 0)
		http_bridge_close(&h->bridge);
	for (unsigned i = 0; i < h->n; i++) {
		if (h->mhd[i])
			MHD_stop_daemon(h->mhd[i]);
		else if (h->fds[i] >= 0)
			close(h->fds[i]);
	}
	http_bridge_destroy(&h->bridge);
	free(h);
}
