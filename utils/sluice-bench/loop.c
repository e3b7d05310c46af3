/* The single event loop: NG replies, media receive, paced sends, NG retransmits. The
 * media side is the mode's (b->ops): bench modes use media.c, soak its own engine. */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_EVENTS 512
#define TICK_NS    (10 * 1000000LL)

static const struct loop_ops media_ops = {
	.send_due = media_send_due, .next_due = media_next_due, .readable = media_readable,
};

int loop_init(struct bench *b)
{
	if (!b->ops)
		b->ops = &media_ops;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0)
		return -errno;
	return loop_add_fd(b, ng_fd(b->ng), LOOP_TAG_NG);
}

int loop_add_fd(struct bench *b, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void loop_del_fd(struct bench *b, int fd)
{
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_run(struct bench *b, int64_t deadline, bool (*done)(struct bench *b))
{
	struct epoll_event ev[MAX_EVENTS];
	int64_t last_tick = 0;

	for (;;) {
		int64_t now = mono_ns(), next, due;
		struct timespec ts;
		int n;

		if ((done && done(b)) || (deadline && now >= deadline))
			return;
		b->ops->send_due(b, now);
		if (now - last_tick >= TICK_NS) {
			ng_tick(b->ng, now);
			if (b->ops->tick)
				b->ops->tick(b, now);
			last_tick = now;
		}
		next = last_tick + TICK_NS;
		due = b->ops->next_due(b);
		if (due && due < next)
			next = due;
		if (deadline && deadline < next)
			next = deadline;
		now = mono_ns();
		next = next > now ? next - now : 0;
		ts.tv_sec = next / 1000000000;
		ts.tv_nsec = next % 1000000000;
		n = epoll_pwait2(b->epfd, ev, MAX_EVENTS, &ts, NULL);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == LOOP_TAG_NG)
				ng_poll(b->ng);
			else
				b->ops->readable(b, ev[i].data.u32);
		}
	}
}
