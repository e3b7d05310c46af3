/* The HTTP thread -> control thread hand-over: answered, several at once, not taken in
 * time (withdrawn, never run afterwards), refused once closed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../daemon/http_internal.h"

struct caller {
	struct http_bridge *b;
	struct http_job job;
	unsigned timeout_ms;
	int rc;
	pthread_t t;
};

static void *call_main(void *arg)
{
	struct caller *c = arg;

	c->rc = http_bridge_call(c->b, &c->job, c->timeout_ms);
	return NULL;
}

static void start(struct caller *c, struct http_bridge *b, enum http_job_kind kind,
		  unsigned timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->job.kind = kind;
	c->timeout_ms = timeout_ms;
	c->rc = 1;
	assert_int_equal(pthread_create(&c->t, NULL, call_main, c), 0);
}

static unsigned runs;

static void fill(void *ctx, struct http_job *job)
{
	(void)ctx;
	runs++;
	sb_printf(&job->body, "%s", job->kind == HTTP_JOB_METRICS ? "metrics" : "stats");
	job->err = job->kind == HTTP_JOB_STATS ? -ENOMEM : 0;
}

/* Wait until the eventfd says a job is queued (the control thread's epoll). */
static void wait_wakeup(struct http_bridge *b)
{
	struct pollfd p = { .fd = b->evfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
}

static void test_answered(void **state)
{
	struct http_bridge b;
	struct caller c[2];

	(void)state;
	assert_int_equal(http_bridge_init(&b), 0);
	runs = 0;
	start(&c[0], &b, HTTP_JOB_METRICS, 5000);
	start(&c[1], &b, HTTP_JOB_STATS, 5000);
	while (runs < 2) {
		wait_wakeup(&b);
		http_bridge_run(&b, fill, NULL);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(c[i].t, NULL);
		assert_int_equal(c[i].rc, 0);
	}
	assert_string_equal(c[0].job.body.buf, "metrics");
	assert_int_equal(c[0].job.err, 0);
	assert_string_equal(c[1].job.body.buf, "stats");
	assert_int_equal(c[1].job.err, -ENOMEM);
	sb_free(&c[0].job.body);
	sb_free(&c[1].job.body);
	http_bridge_destroy(&b);
}

static void test_timeout(void **state)
{
	struct http_bridge b;
	struct caller c;
	struct timespec t0, t1;
	long ms;

	(void)state;
	assert_int_equal(http_bridge_init(&b), 0);
	runs = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	start(&c, &b, HTTP_JOB_METRICS, 100);
	pthread_join(c.t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(c.rc, -ETIMEDOUT);
	assert_true(ms >= 100 && ms < 1500);
	http_bridge_run(&b, fill, NULL);        /* the withdrawn job is not run */
	assert_int_equal(runs, 0);
	http_bridge_destroy(&b);
}

static void test_closed(void **state)
{
	struct http_bridge b;
	struct caller c;

	(void)state;
	assert_int_equal(http_bridge_init(&b), 0);
	runs = 0;
	start(&c, &b, HTTP_JOB_METRICS, 10000);
	wait_wakeup(&b);                /* queued, waiting */
	http_bridge_close(&b);
	pthread_join(c.t, NULL);
	assert_int_equal(c.rc, -ESHUTDOWN);
	start(&c, &b, HTTP_JOB_METRICS, 10000);
	pthread_join(c.t, NULL);
	assert_int_equal(c.rc, -ESHUTDOWN);
	http_bridge_run(&b, fill, NULL);
	assert_int_equal(runs, 0);
	http_bridge_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
