/* HTTP thread -> control thread hand-over (http_internal.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "http_internal.h"

int http_bridge_init(struct http_bridge *b)
{
	b->head = NULL;
	b->tail = &b->head;
	b->closed = false;
	b->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->evfd < 0)
		return -errno;
	pthread_mutex_init(&b->lock, NULL);
	mono_cond_init(&b->cond);       /* deadlines immune to clock steps */
	return 0;
}

void http_bridge_destroy(struct http_bridge *b)
{
	if (b->evfd < 0)
		return;
	close(b->evfd);
	b->evfd = -1;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

/* Take a job that was never taken out of the queue. [lock] */
static void unlink_job(struct http_bridge *b, struct http_job *job)
{
	struct http_job **pp;

	for (pp = &b->head; *pp; pp = &(*pp)->next)
		if (*pp == job) {
			*pp = job->next;
			if (b->tail == &job->next)
				b->tail = pp;
			return;
		}
}

int http_bridge_call(struct http_bridge *b, struct http_job *job, unsigned timeout_ms)
{
	struct timespec until = mono_deadline(timeout_ms);
	uint64_t one = 1;
	int rc = 0;

	job->next = NULL;
	job->taken = job->done = false;
	job->err = 0;
	pthread_mutex_lock(&b->lock);
	if (b->closed) {
		pthread_mutex_unlock(&b->lock);
		return -ESHUTDOWN;
	}
	*b->tail = job;
	b->tail = &job->next;
	if (write(b->evfd, &one, sizeof(one)) < 0) {
		/* counter saturated: the control thread has a wake-up pending anyway */
	}
	while (!job->done) {
		if (b->closed && !job->taken) {
			rc = -ESHUTDOWN;
			break;
		}
		if (job->taken) {
			pthread_cond_wait(&b->cond, &b->lock);
		} else if (pthread_cond_timedwait(&b->cond, &b->lock, &until) == ETIMEDOUT &&
			   !job->taken) {
			unlink_job(b, job);
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

void http_bridge_run(struct http_bridge *b, void (*fn)(void *ctx, struct http_job *job),
		     void *ctx)
{
	struct http_job *list, *j, *next;
	uint64_t n;

	if (read(b->evfd, &n, sizeof(n)) < 0) {
		/* nothing pending: a wake-up for jobs already run */
	}
	pthread_mutex_lock(&b->lock);
	list = b->head;
	b->head = NULL;
	b->tail = &b->head;
	for (j = list; j; j = j->next)
		j->taken = true;
	pthread_mutex_unlock(&b->lock);
	for (j = list; j; j = j->next)
		fn(ctx, j);
	pthread_mutex_lock(&b->lock);
	for (j = list; j; j = next) {
		next = j->next;         /* once done, the job's owner may return */
		j->done = true;
	}
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void http_bridge_close(struct http_bridge *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	b->head = NULL;                 /* their owners see closed and leave */
	b->tail = &b->head;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}
