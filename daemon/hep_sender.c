/* HEP sender (see hep_sender.h). */
#include "hep_sender.h"
#include "sluice/be.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "daemon.h"
#include "quality_track.h"
#include "relay.h"
#include "sluice/bytering.h"
#include "sluice/hep.h"
#include "sluice/log.h"

#define QUEUE_BYTES     (256u << 10)    /* per worker: RTCP is ~2 % of the packets */
#define WAIT_MS         20
#define RETRY_S         1
#define HEP_MAX         65535

struct hep_rec {                        /* one RTCP copy in a worker's queue */
	int64_t time_us;
	union sockaddr_u src, dst;
	uint16_t cid_len, len;
	uint8_t data[];                 /* call-id, then the RTCP */
};

struct hep_out {                        /* a message the control thread encoded */
	struct hep_out *next;
	size_t len;
	uint8_t buf[];
};

struct hep {
	const struct config *cfg;
	unsigned n_workers;
	struct bytering *q;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct hep_out *out, **out_tail;
	bool stop, running;
	int fd;                         /* -1: not connected */
	int64_t retry_at;
	bool down_logged;
	_Atomic uint64_t sent, dropped, queue_drops, errors;
};

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- worker side ---- */

void hep_rtcp(struct hep *h, unsigned worker, const struct call *c,
	      const union sockaddr_u *src, const union sockaddr_u *dst,
	      const uint8_t *p, size_t len)
{
	size_t cl = c->callid_len > 255 ? 255 : c->callid_len;
	struct hep_rec *r;

	if (len > 1500)
		return;
	r = bytering_reserve(&h->q[worker], sizeof(*r) + cl + len);
	if (!r) {
		atomic_fetch_add_explicit(&h->queue_drops, 1, memory_order_relaxed);
		return;
	}
	r->time_us = wall_us();
	r->src = *src;
	r->dst = *dst;
	r->cid_len = (uint16_t)cl;
	r->len = (uint16_t)len;
	memcpy(r->data, c->callid, cl);
	memcpy(r->data + cl, p, len);
	bytering_commit(&h->q[worker]);
}

/* ---- the sending thread ---- */

/* Homer's RTCP JSON (as capture agents write it): the first SR or RR of the compound. */
json_object *hep_rtcp_json(const uint8_t *p, size_t len)
{
	json_object *o, *blocks;
	size_t off;
	unsigned rc;

	if (len < 8 || (p[0] >> 6) != 2 || (p[1] != 200 && p[1] != 201))
		return NULL;
	rc = p[0] & 0x1f;
	o = json_object_new_object();
	blocks = json_object_new_array();
	json_object_object_add(o, "type", json_object_new_int(p[1]));
	json_object_object_add(o, "ssrc", json_object_new_int64(be_get32(p + 4)));
	json_object_object_add(o, "report_count", json_object_new_int((int)rc));
	off = 8;
	if (p[1] == 200 && len >= 28) {
		json_object *si = json_object_new_object();

		json_object_object_add(si, "ntp_timestamp_sec", json_object_new_int64(be_get32(p + 8)));
		json_object_object_add(si, "ntp_timestamp_usec",
				       json_object_new_int64((int64_t)be_get32(p + 12) * 1000000 >> 32));
		json_object_object_add(si, "rtp_timestamp", json_object_new_int64(be_get32(p + 16)));
		json_object_object_add(si, "packets", json_object_new_int64(be_get32(p + 20)));
		json_object_object_add(si, "octets", json_object_new_int64(be_get32(p + 24)));
		json_object_object_add(o, "sender_information", si);
		off = 28;
	}
	for (unsigned i = 0; i < rc && off + 24 <= len; i++, off += 24) {
		const uint8_t *b = p + off;
		json_object *rb = json_object_new_object();

		json_object_object_add(rb, "source_ssrc", json_object_new_int64(be_get32(b)));
		json_object_object_add(rb, "fraction_lost", json_object_new_int(b[4]));
		json_object_object_add(rb, "packets_lost",
				       json_object_new_int((int32_t)(be_get32(b + 4) << 8) >> 8));
		json_object_object_add(rb, "highest_seq_no", json_object_new_int64(be_get32(b + 8)));
		json_object_object_add(rb, "ia_jitter", json_object_new_int64(be_get32(b + 12)));
		json_object_object_add(rb, "lsr", json_object_new_int64(be_get32(b + 16)));
		json_object_object_add(rb, "dlsr", json_object_new_int64(be_get32(b + 20)));
		json_object_array_add(blocks, rb);
	}
	json_object_object_add(o, "report_blocks", blocks);
	return o;
}

static void hep_connect(struct hep *h)
{
	const union sockaddr_u *a = &h->cfg->homer;
	bool tcp = h->cfg->homer_tcp;
	struct timeval tv = { .tv_sec = 1 };
	int fd;

	if (h->fd >= 0 || time(NULL) < h->retry_at)
		return;
	fd = socket(a->sa.sa_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		/* a collector that stops reading costs at most a second, on this thread */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!connect(fd, &a->sa, netaddr_len(a))) {
			h->fd = fd;
			if (h->down_logged)
				ilog(LOG_NOTICE, "homer: connected again");
			h->down_logged = false;
			return;
		}
		close(fd);
	}
	if (!h->down_logged)
		ilog(LOG_WARNING, "homer: cannot reach the collector: %s (retrying)",
		     strerror(errno));
	h->down_logged = true;
	h->retry_at = time(NULL) + RETRY_S;
}

static void send_buf(struct hep *h, const uint8_t *buf, size_t len)
{
	hep_connect(h);
	if (h->fd < 0) {
		atomic_fetch_add(&h->dropped, 1);
		return;
	}
	if (send(h->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		atomic_fetch_add(&h->errors, 1);
		if (h->cfg->homer_tcp) {        /* a broken stream: start over */
			close(h->fd);
			h->fd = -1;
		}
		return;
	}
	atomic_fetch_add(&h->sent, 1);
}

static void send_rec(struct hep *h, const struct hep_rec *r, uint8_t *buf)
{
	json_object *j = hep_rtcp_json(r->data + r->cid_len, r->len);
	const char *txt;
	struct hep_msg m;
	int n;

	if (!j)
		return;
	txt = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	m = (struct hep_msg){ .src = &r->src, .dst = &r->dst, .time_us = r->time_us,
			      .proto = HEP_PROTO_RTCP_JSON, .capture_id = h->cfg->homer_id,
			      .correlation = (const char *)r->data,
			      .correlation_len = r->cid_len, .payload = txt,
			      .len = strlen(txt) };
	n = hep_encode(buf, HEP_MAX, &m);
	if (n > 0)
		send_buf(h, buf, (size_t)n);
	json_object_put(j);
}

static void drain(struct hep *h, uint8_t *buf)
{
	for (unsigned i = 0; i < h->n_workers; i++) {
		const struct hep_rec *r;
		size_t len;

		while ((r = bytering_peek(&h->q[i], &len))) {
			send_rec(h, r, buf);
			bytering_pop(&h->q[i]);
		}
	}
}

static void *hep_main(void *arg)
{
	struct hep *h = arg;
	static __thread uint8_t buf[HEP_MAX];

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct hep_out *o;
		struct timespec ts = mono_deadline(WAIT_MS);

		if (!h->out)
			pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		o = h->out;
		h->out = NULL;
		h->out_tail = &h->out;
		pthread_mutex_unlock(&h->lock);
		drain(h, buf);
		while (o) {
			struct hep_out *next = o->next;

			send_buf(h, o->buf, o->len);
			free(o);
			o = next;
		}
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	drain(h, buf);
	return NULL;
}

/* ---- control thread ---- */

static void post(struct hep *h, const uint8_t *buf, size_t len)
{
	struct hep_out *o = malloc(sizeof(*o) + len);

	if (!o) {
		atomic_fetch_add(&h->dropped, 1);
		return;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf, buf, len);
	pthread_mutex_lock(&h->lock);
	*h->out_tail = o;
	h->out_tail = &o->next;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

void hep_call_report(struct daemon *d, struct call *c)
{
	struct hep *h = d->hep;
	json_object *j, *streams;
	const struct stream *first = NULL;
	struct hep_msg m;
	const char *txt;
	uint8_t *buf;
	int n;

	if (!h)
		return;
	j = json_object_new_object();
	streams = json_object_new_array();
	json_object_object_add(j, "CORRELATION_ID", json_object_new_string_len(
		c->callid, (int)c->callid_len));
	json_object_object_add(j, "TYPE", json_object_new_string("call-end"));
	pthread_mutex_lock(&c->lock);
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct stream *s = p->media[i] ? &p->media[i]->rtp : NULL;

			if (!s || !s->qrx.init)
				continue;
			if (!first)
				first = s;
			json_object_array_add(streams, quality_stream_json(s));
		}
	pthread_mutex_unlock(&c->lock);
	json_object_object_add(j, "STREAMS", streams);
	txt = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	buf = malloc(HEP_MAX);
	if (buf && first) {
		union sockaddr_u src = first->latched ? first->endpoint : first->advertised;

		if (src.sa.sa_family != first->local.sa.sa_family)
			src = first->local;
		m = (struct hep_msg){ .src = &src, .dst = &first->local, .time_us = wall_us(),
				      .proto = HEP_PROTO_QOS_JSON, .capture_id = d->cfg->homer_id,
				      .correlation = c->callid, .correlation_len = c->callid_len,
				      .payload = txt, .len = strlen(txt) };
		if ((n = hep_encode(buf, HEP_MAX, &m)) > 0)
			post(h, buf, (size_t)n);
	}
	free(buf);
	json_object_put(j);
}

int hep_start(struct daemon *d, char *err, size_t errlen)
{
	struct hep *h;

	if (d->cfg->homer.sa.sa_family == AF_UNSPEC)
		return 0;
	if (!(h = calloc(1, sizeof(*h))))
		goto oom;
	h->cfg = d->cfg;
	h->fd = -1;
	h->n_workers = relay_workers(d->relay);
	h->out_tail = &h->out;
	pthread_mutex_init(&h->lock, NULL);
	mono_cond_init(&h->wake);       /* mono_deadline()s, or every wait returns at once */
	if (!(h->q = calloc(h->n_workers, sizeof(*h->q))))
		goto oom;
	for (unsigned i = 0; i < h->n_workers; i++)
		if (bytering_init(&h->q[i], QUEUE_BYTES))
			goto oom;
	if (pthread_create(&h->thread, NULL, hep_main, h)) {
		snprintf(err, errlen, "cannot start the HEP thread");
		goto fail;
	}
	h->running = true;
	d->hep = h;
	{
		char a[NETADDR_STRLEN];

		ilog(LOG_NOTICE, "homer: HEP v3 over %s to %s, capture id %u",
		     d->cfg->homer_tcp ? "TCP" : "UDP", netaddr_str(&d->cfg->homer, a, sizeof(a)),
		     d->cfg->homer_id);
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory for HEP");
fail:
	if (h && h->q)
		for (unsigned i = 0; i < h->n_workers; i++)
			bytering_free(&h->q[i]);
	if (h)
		free(h->q);
	free(h);
	return -1;
}

void hep_stop(struct daemon *d)
{
	struct hep *h = d->hep;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	while (h->out) {
		struct hep_out *o = h->out;

		h->out = o->next;
		free(o);
	}
	for (unsigned i = 0; i < h->n_workers; i++)
		bytering_free(&h->q[i]);
	if (h->fd >= 0)
		close(h->fd);
	free(h->q);
	free(h);
	d->hep = NULL;
}

struct bval *hep_statistics(struct daemon *d, struct arena *a)
{
	struct hep *h = d->hep;
	struct bval *st = bv_new_dict(a);

	bv_dict_add_int(a, st, "sent", (int64_t)atomic_load(&h->sent));
	bv_dict_add_int(a, st, "dropped", (int64_t)atomic_load(&h->dropped));
	bv_dict_add_int(a, st, "queuedrops", (int64_t)atomic_load(&h->queue_drops));
	bv_dict_add_int(a, st, "senderrors", (int64_t)atomic_load(&h->errors));
	return st;
}
