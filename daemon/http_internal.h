/* Shared by daemon/http_*.c only: the hand-over of a request from an HTTP thread to the
 * control thread (http_bridge.c). */
#ifndef SLUICE_HTTP_INTERNAL_H
#define SLUICE_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "sluice/strbuf.h"

enum http_job_kind { HTTP_JOB_METRICS, HTTP_JOB_STATS };

/* One request for the control thread. Lives on the waiting HTTP thread's stack; the
 * control thread touches it only between taking it from the queue and setting done. */
struct http_job {
	struct http_job *next;
	enum http_job_kind kind;
	struct strbuf body;             /* the control thread's answer (malloc'ed) */
	int err;                        /* 0, or the renderer's -errno */
	bool taken, done;               /* [lock] */
};

struct http_bridge {
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* a job is done, or the bridge closed */
	struct http_job *head, **tail;  /* [lock] queued, not yet taken */
	bool closed;                    /* [lock] */
	int evfd;                       /* wakes the control thread */
};

/* 0 or -errno (eventfd). */
int http_bridge_init(struct http_bridge *b);
void http_bridge_destroy(struct http_bridge *b);
/* HTTP thread: have job run on the control thread and wait for it. 0 (job->body and
 * job->err filled), -ETIMEDOUT (not taken within timeout_ms: withdrawn) or -ESHUTDOWN.
 * Once taken the job is waited for to the end: the control thread does not block. */
int http_bridge_call(struct http_bridge *b, struct http_job *job, unsigned timeout_ms);
/* Control thread: run fn on every queued job. */
void http_bridge_run(struct http_bridge *b, void (*fn)(void *ctx, struct http_job *job),
		     void *ctx);
/* Control thread: fail the queued jobs and every later call with -ESHUTDOWN. */
void http_bridge_close(struct http_bridge *b);

#endif
