/* The recording writer thread (see rec.h): drains the workers' queues into pcap files
 * and the capture ring, and runs the control thread's requests.
 *
 * Ordering. A worker copies a packet only under its call's lock, after reading the
 * call's tap; the control thread changes the tap under the same lock before it posts a
 * message. So every copy made under the old tap was queued before the message was
 * posted, and draining every queue before acting on a CLOSE, CAPTURE or DESTROY is
 * enough to have all of them. Copies carry their file's generation: one that belongs
 * to a newer file than the open one (drained before its OPEN was handled) opens it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "rec_internal.h"
#include "sluice/log.h"

#define IDLE_WAIT_MS    10              /* how often the queues are drained */

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rec_file_name(const struct rec_sink *s, uint32_t gen, const char *suffix, char *out,
		   size_t outlen)
{
	if (gen <= 1)
		snprintf(out, outlen, "%s%s", s->name, suffix);
	else
		snprintf(out, outlen, "%s-%u%s", s->name, gen, suffix);
}

static void path_of(const char *dir, const struct rec_sink *s, uint32_t gen,
		    const char *suffix, char *out, size_t outlen)
{
	char name[REC_NAME_MAX + 32];

	rec_file_name(s, gen, suffix, name, sizeof(name));
	snprintf(out, outlen, "%s/%s", dir, name);
}

/* Create path.tmp exclusively (no symlink followed), 0640. -1 with errno. */
static int create_tmp(const char *path)
{
	char tmp[REC_PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	return open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
}

static int publish(const char *path)
{
	char tmp[REC_PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	return rename(tmp, path) ? -errno : 0;
}

static void file_finish(struct rec *r, struct rec_sink *s)
{
	char path[REC_PATH_MAX];
	int e;

	if (!s->file)
		return;
	if (pcapw_packets(s->file) < s->gen_packets) {     /* cut after a write error */
		atomic_fetch_sub(&s->written, s->gen_packets - pcapw_packets(s->file));
		atomic_fetch_sub(&r->written, s->gen_packets - pcapw_packets(s->file));
		s->gen_packets = pcapw_packets(s->file);
	}
	e = pcapw_close(s->file);
	s->file = NULL;
	path_of(r->pcap_dir, s, s->file_gen, ".pcap", path, sizeof(path));
	if (e && s->failed_gen != s->file_gen) {        /* else file_fail said it */
		atomic_store(&s->error, -e);
		atomic_fetch_add(&r->write_errors, 1);
		clog(LOG_ERR, s->callid, NULL, "recording %s: %s (kept what was written)",
		     path, strerror(-e));
	}
	if ((e = publish(path)))
		clog(LOG_ERR, s->callid, NULL, "recording %s: rename: %s", path, strerror(-e));
	else
		clog(LOG_INFO, s->callid, NULL, "recording %s done: %llu packets", path,
		     (unsigned long long)s->gen_packets);
}

/* A write error (disk full...): this recording stops, the call goes on. One log line. */
static void file_fail(struct rec *r, struct rec_sink *s, int err)
{
	atomic_store(&s->error, err);
	atomic_fetch_add(&r->write_errors, 1);
	clog(LOG_ERR, s->callid, NULL, "recording %s: %s: recording stopped", s->name,
	     strerror(err));
	s->failed_gen = s->file_gen;
	file_finish(r, s);
	atomic_store(&s->error, err);
}

static void file_open(struct rec *r, struct rec_sink *s, uint32_t gen)
{
	char path[REC_PATH_MAX], err[256];
	int fd;

	file_finish(r, s);
	s->file_gen = gen;
	s->gen_packets = 0;
	path_of(r->pcap_dir, s, gen, ".pcap", path, sizeof(path));
	fd = create_tmp(path);
	if (fd < 0 || !(s->file = pcapw_open_fd(fd, r->link, err, sizeof(err)))) {
		if (fd < 0)
			snprintf(err, sizeof(err), "%s", strerror(errno));
		atomic_store(&s->error, fd < 0 ? errno : EIO);
		atomic_fetch_add(&r->write_errors, 1);
		clog(LOG_ERR, s->callid, NULL, "recording %s.tmp: cannot create: %s", path, err);
		s->failed_gen = gen;
		return;
	}
	atomic_fetch_add(&r->files, 1);
	clog(LOG_INFO, s->callid, NULL, "recording to %s", path);
}

static void handle_pkt(struct rec *r, const struct rec_pkt *p, int64_t now)
{
	struct rec_sink *s = p->sink;
	int e;

	if ((p->flags & REC_F_RING) && r->ring_ns)
		ring_add(r, s, p, now);
	if (!p->gen || p->gen == s->failed_gen || p->gen < s->file_gen)
		return;
	if (p->gen != s->file_gen || !s->file) {
		file_open(r, s, p->gen);
		if (!s->file)
			return;
	}
	e = pcapw_write(s->file, p->time_ns, &p->src, &p->dst, p->data, p->len);
	if (e == -EINVAL)
		return;
	if (e) {
		file_fail(r, s, -e);
		return;
	}
	s->gen_packets++;
	atomic_fetch_add(&s->written, 1);
	atomic_fetch_add(&r->written, 1);
}

static void drain(struct rec *r)
{
	int64_t now = real_ns();

	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct rec_pkt *p;
		size_t len;

		while ((p = bytering_peek(&r->q[i], &len))) {
			handle_pkt(r, p, now);
			bytering_pop(&r->q[i]);
		}
	}
}

static void write_meta(struct rec *r, struct rec_sink *s, uint32_t gen, json_object *meta)
{
	char path[REC_PATH_MAX];
	const char *txt;
	size_t len;
	int fd, e = 0;

	json_object_object_add(meta, "packets", json_object_new_int64(
		gen == s->file_gen ? (int64_t)s->gen_packets : 0));
	if (atomic_load(&s->error))
		json_object_object_add(meta, "error", json_object_new_string(
			strerror(atomic_load(&s->error))));
	path_of(r->meta_dir, s, gen, ".meta", path, sizeof(path));
	txt = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(txt);
	if ((fd = create_tmp(path)) < 0) {
		e = errno;
	} else {
		if (write(fd, txt, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
			e = errno ? errno : EIO;
		if (close(fd) && !e)
			e = errno;
	}
	if (!e)
		e = -publish(path);
	if (e) {
		atomic_fetch_add(&r->write_errors, 1);
		/* the disk that stopped the recording: said once already */
		if (e != atomic_load(&s->error))
			clog(LOG_ERR, s->callid, NULL, "recording metadata %s: %s", path,
			     strerror(e));
	}
}

static void do_capture(struct rec *r, struct rec_sink *s, struct rec_capture *cap)
{
	char err[256];
	struct pcapw *w;
	int fd = create_tmp(cap->path), e;

	if (fd < 0 || !(w = pcapw_open_fd(fd, r->link, err, sizeof(err)))) {
		cap->error = fd < 0 ? errno : EIO;
		return;
	}
	e = ring_dump(r, s, w, cap->party, real_ns(), cap);
	if (pcapw_close(w) && !e)
		e = -EIO;
	if (!e)
		e = publish(cap->path);
	cap->error = -e;
	if (!e)
		atomic_fetch_add(&r->captures, 1);
}

static void sink_destroy(struct rec *r, struct rec_sink *s)
{
	file_finish(r, s);
	ring_release(r, s);
	free(s->callid);
	free(s);
}

static void handle_msg(struct rec *r, struct rec_msg *m)
{
	struct rec_sink *s = m->sink;

	if (m->type != REC_MSG_OPEN)
		drain(r);
	switch (m->type) {
	case REC_MSG_OPEN:
		if (m->gen > s->file_gen)
			file_open(r, s, m->gen);
		break;
	case REC_MSG_CLOSE:
		if (m->gen == s->file_gen && s->file)
			file_finish(r, s);
		if (m->meta)
			write_meta(r, s, m->gen, m->meta);
		break;
	case REC_MSG_CAPTURE:
		do_capture(r, s, m->cap);
		pthread_mutex_lock(&r->lock);
		if (m->cap->abandoned) {
			free(m->cap);
		} else {
			m->cap->done = true;
			pthread_cond_broadcast(&r->done);
		}
		pthread_mutex_unlock(&r->lock);
		break;
	case REC_MSG_DESTROY:
		sink_destroy(r, s);
		break;
	}
	if (m->meta)
		json_object_put(m->meta);
	free(m);
}

static struct rec_msg *take_msgs(struct rec *r)
{
	struct rec_msg *m = r->msgs;

	r->msgs = NULL;
	r->msgs_tail = &r->msgs;
	return m;
}

static void run_msgs(struct rec *r, struct rec_msg *m)
{
	while (m) {
		struct rec_msg *next = m->next;

		handle_msg(r, m);
		m = next;
	}
}

static void *writer_main(void *arg)
{
	struct rec *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct rec_msg *m;

		if (!r->msgs) {
			struct timespec ts = mono_deadline(IDLE_WAIT_MS);

			pthread_cond_timedwait(&r->wake, &r->lock, &ts);
		}
		m = take_msgs(r);
		pthread_mutex_unlock(&r->lock);
		run_msgs(r, m);
		drain(r);
		pthread_mutex_lock(&r->lock);
	}
	run_msgs(r, take_msgs(r));
	pthread_mutex_unlock(&r->lock);
	drain(r);
	return NULL;
}

void rec_post(struct rec *r, struct rec_msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&r->lock);
	*r->msgs_tail = m;
	r->msgs_tail = &m->next;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

int rec_capture_wait(struct rec *r, struct rec_sink *sink, struct rec_capture *cap,
		     unsigned timeout_ms)
{
	struct rec_msg *m = calloc(1, sizeof(*m));
	struct timespec ts;
	int e = 0;

	if (!m)
		return -ENOMEM;
	m->type = REC_MSG_CAPTURE;
	m->sink = sink;
	m->cap = cap;
	rec_post(r, m);
	ts = mono_deadline(timeout_ms);
	pthread_mutex_lock(&r->lock);
	while (!cap->done && !e)
		e = pthread_cond_timedwait(&r->done, &r->lock, &ts);
	if (!cap->done)
		cap->abandoned = true;  /* the writer frees it when it gets there */
	e = cap->done ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&r->lock);
	return e;
}

int rec_writer_start(struct rec *r)
{
	pthread_mutex_init(&r->lock, NULL);
	/* deadlines come from mono_deadline(): a condition on the default (realtime) clock
	 * would take them as long past and return at once, a busy loop of the writer */
	mono_cond_init(&r->wake);
	mono_cond_init(&r->done);
	r->msgs_tail = &r->msgs;
	if (pthread_create(&r->thread, NULL, writer_main, r))
		return -EAGAIN;
	pthread_setname_np(r->thread, "sluice-rec");   /* top -H, and the bench's CPU split */
	r->running = true;
	return 0;
}

void rec_writer_stop(struct rec *r)
{
	if (!r->running)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	r->running = false;
	ring_free_all(r);
}
