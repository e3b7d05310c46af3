/* Recording control (control thread): start/stop/pause, record-call, metadata, the SDP
 * log, file names, the capture command, query and statistics (see rec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "call_ops.h"
#include "daemon.h"
#include "kernel.h"
#include "ng_request.h"
#include "rec_internal.h"
#include "relay.h"
#include "sluice/log.h"

#define QUEUE_BYTES     (4u << 20)      /* per worker: ~16 000 packets of 250 bytes */
#define SDP_KEEP_IDLE   4               /* exchanges kept while not recording */
#define SDP_KEEP_MAX    64              /* and while recording */
#define NAME_CALLID_MAX 100
#define CAPTURE_WAIT_MS 5000

enum rec_state { REC_OFF = 0, REC_ON, REC_PAUSED };

struct rec_call {
	enum rec_state state;
	uint32_t gen;                   /* last file started */
	unsigned captures;
	int64_t started_ns;             /* of the file of gen */
	char *metadata;
	json_object *sdps;              /* array of the latest exchanges */
};

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static json_object *time_json(int64_t ns)
{
	char buf[40], frac[8];
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf) - sizeof(frac), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%03dZ", (int)(ns / 1000000 % 1000));
	strcat(buf, frac);
	return json_object_new_string(buf);
}

/* ---- names ---- */

/* A file name from anything a call-id may hold: no '/', no "..", no control or
 * non-ASCII bytes, no leading dot; then a random part, so two calls with the same
 * call-id (or names that map to the same text) never share a file. */
void rec_safe_name(const char *callid, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	uint64_t rnd = 0;

	for (size_t i = 0; i < len && n < NAME_CALLID_MAX && n + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)callid[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || strchr("-_+=@.", ch);

		out[n++] = ok && ch ? (char)ch : '_';
	}
	if (n && out[0] == '.')
		out[0] = '_';
	for (size_t i = 1; i < n; i++)  /* no ".." anywhere, even inside */
		if (out[i] == '.' && out[i - 1] == '.')
			out[i] = '_';
	if (!n)
		n = (size_t)snprintf(out, outlen, "call");
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)real_ns() * 0x9e3779b97f4a7c15ull;
	snprintf(out + n, outlen - n, "-%016llx", (unsigned long long)rnd);
}

/* ---- start / stop ---- */

static int mkdir_in(char *out, size_t outlen, const char *base, const char *sub,
		    char *err, size_t errlen)
{
	snprintf(out, outlen, "%s/%s", base, sub);
	if (mkdir(out, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "--recording-dir: cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	if (access(out, W_OK | X_OK)) {
		snprintf(err, errlen, "--recording-dir: %s is not writable: %s", out,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int rec_start(struct daemon *d, char *err, size_t errlen)
{
	const struct config *cfg = d->cfg;
	struct rec *r;

	if (cfg->recording_dir[0] && cfg->recording_proc) {
		ilog(LOG_WARNING, "recording off: recording-method 'proc' is not supported, "
		     "only 'pcap' (docs/recording.md)");
		return 0;
	}
	if (!cfg->recording_dir[0]) {
		if (cfg->capture_ring) {
			snprintf(err, errlen, "--capture-ring needs --recording-dir (captures are "
				 "written to its captures/ folder)");
			return -1;
		}
		return 0;
	}
	if (strlen(cfg->recording_dir) + 16 + REC_NAME_MAX + 64 >= PATH_MAX) {
		snprintf(err, errlen, "--recording-dir: path too long");
		return -1;
	}
	if (mkdir(cfg->recording_dir, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "--recording-dir=%s: %s", cfg->recording_dir,
			 strerror(errno));
		return -1;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->d = d;
	if (mkdir_in(r->pcap_dir, sizeof(r->pcap_dir), cfg->recording_dir, "pcaps", err, errlen) ||
	    mkdir_in(r->meta_dir, sizeof(r->meta_dir), cfg->recording_dir, "metadata", err,
		     errlen) ||
	    mkdir_in(r->capture_dir, sizeof(r->capture_dir), cfg->recording_dir, "captures", err,
		     errlen))
		goto fail;
	r->link = cfg->recording_format == REC_FMT_ETH ? PCAPW_ETH : PCAPW_RAW;
	r->ring_ns = (int64_t)cfg->capture_ring * 1000000000;
	r->ring_max_chunks = ring_chunks_for((uint64_t)cfg->capture_ring_mb << 20);
	r->n_workers = relay_workers(d->relay);
	if (!(r->q = calloc(r->n_workers, sizeof(*r->q))))
		goto oom;
	for (unsigned i = 0; i < r->n_workers; i++)
		if (bytering_init(&r->q[i], QUEUE_BYTES))
			goto oom;
	if (rec_writer_start(r)) {
		snprintf(err, errlen, "cannot start the recording thread");
		goto fail;
	}
	d->rec = r;
	ilog(LOG_NOTICE, "recording: pcap (%s) in %s; capture ring %s%u s, %u MB",
	     r->link == PCAPW_ETH ? "eth" : "raw", cfg->recording_dir,
	     cfg->capture_ring ? "" : "off, ", cfg->capture_ring, cfg->capture_ring_mb);
	return 0;
oom:
	snprintf(err, errlen, "out of memory for the recording queues");
fail:
	if (r->q)
		for (unsigned i = 0; i < r->n_workers; i++)
			bytering_free(&r->q[i]);
	free(r->q);
	free(r);
	return -1;
}

void rec_stop(struct daemon *d)
{
	struct rec *r = d->rec;

	if (!r)
		return;
	rec_writer_stop(r);
	for (unsigned i = 0; i < r->n_workers; i++)
		bytering_free(&r->q[i]);
	free(r->q);
	free(r);
	d->rec = NULL;
}

/* ---- per call ---- */

static struct rec_call *ctl_of(struct call *c)
{
	if (!c->rec.ctl && (c->rec.ctl = calloc(1, sizeof(*c->rec.ctl))))
		c->rec.ctl->sdps = json_object_new_array();
	return c->rec.ctl;
}

static struct rec_sink *sink_of(struct call *c)
{
	struct rec_sink *s;

	/* not tapped now, but it may have been: the sink lives as long as the call */
	if (c->rec.ctl_sink)
		return c->rec.ctl_sink;
	if (!(s = calloc(1, sizeof(*s))) || !(s->callid = strdup(c->callid))) {
		free(s);
		return NULL;
	}
	rec_safe_name(c->callid, c->callid_len, s->name, sizeof(s->name));
	c->rec.ctl_sink = s;
	return s;
}

static void post(struct daemon *d, enum rec_msg_type type, struct rec_sink *s, uint32_t gen,
		 json_object *meta)
{
	struct rec_msg *m = calloc(1, sizeof(*m));

	if (!m) {
		if (meta)
			json_object_put(meta);
		clog(LOG_ERR, s->callid, NULL, "recording: out of memory");
		return;
	}
	m->type = type;
	m->sink = s;
	m->gen = gen;
	m->meta = meta;
	rec_post(d->rec, m);
}

static json_object *parties_json(struct call *c)
{
	json_object *arr = json_object_new_array();

	for (struct party *p = c->parties; p; p = p->next) {
		json_object *o = json_object_new_object(), *tags = json_object_new_array();

		for (unsigned i = 0; i < p->n_tags; i++)
			json_object_array_add(tags, json_object_new_string(p->tags[i].tag));
		json_object_object_add(o, "index", json_object_new_int((int)p->idx));
		json_object_object_add(o, "tags", tags);
		if (p->label[0])
			json_object_object_add(o, "label", json_object_new_string(p->label));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *meta_json(struct daemon *d, struct call *c, struct rec_call *rc,
			      struct rec_sink *s, const char *why)
{
	json_object *m = json_object_new_object(), *sdps = NULL;
	char name[REC_NAME_MAX + 32];
	uint64_t drops;

	rec_file_name(s, rc->gen, ".pcap", name, sizeof(name));
	pthread_mutex_lock(&c->lock);
	drops = c->rec.drops;
	pthread_mutex_unlock(&c->lock);
	json_object_object_add(m, "call-id", json_object_new_string_len(c->callid,
									   (int)c->callid_len));
	json_object_object_add(m, "pcap", json_object_new_string(name));
	json_object_object_add(m, "recording", json_object_new_int64(rc->gen));
	json_object_object_add(m, "format", json_object_new_string(
		d->cfg->recording_format == REC_FMT_ETH ? "eth" : "raw"));
	json_object_object_add(m, "start-time", time_json(rc->started_ns));
	json_object_object_add(m, "stop-time", time_json(real_ns()));
	json_object_object_add(m, "stopped-by", json_object_new_string(why));
	if (rc->metadata)
		json_object_object_add(m, "metadata", json_object_new_string(rc->metadata));
	json_object_object_add(m, "parties", parties_json(c));
	if (json_object_deep_copy(rc->sdps, &sdps, NULL) == 0)
		json_object_object_add(m, "sdp", sdps);
	json_object_object_add(m, "queue-drops", json_object_new_int64((int64_t)drops));
	return m;
}

static void tap(struct call *c, struct rec_sink *s, uint32_t gen)
{
	pthread_mutex_lock(&c->lock);
	c->rec.gen = gen;
	c->rec.sink = gen || c->rec.ring ? s : NULL;
	pthread_mutex_unlock(&c->lock);
}

static int rec_begin(struct daemon *d, struct call *c)
{
	struct rec_call *rc = ctl_of(c);
	struct rec_sink *s = rc ? sink_of(c) : NULL;

	if (!s)
		return -ENOMEM;
	if (rc->state == REC_PAUSED) {
		rc->state = REC_ON;
		tap(c, s, rc->gen);
		clog(LOG_INFO, c->callid, NULL, "recording resumed");
		return 0;
	}
	if (rc->state == REC_ON)
		return 0;
	rc->gen++;
	rc->state = REC_ON;
	rc->started_ns = real_ns();
	post(d, REC_MSG_OPEN, s, rc->gen, NULL);
	tap(c, s, rc->gen);
	kernel_sync_call(d, c);         /* its streams come back to userspace */
	return 0;
}

static void rec_end(struct daemon *d, struct call *c, const char *why)
{
	struct rec_call *rc = c->rec.ctl;
	struct rec_sink *s = c->rec.ctl_sink;

	if (!rc || rc->state == REC_OFF || !s)
		return;
	tap(c, s, 0);
	rc->state = REC_OFF;
	post(d, REC_MSG_CLOSE, s, rc->gen, meta_json(d, c, rc, s, why));
	clog(LOG_INFO, c->callid, NULL, "recording stopped (%s)", why);
	kernel_sync_call(d, c);
}

static void rec_pause(struct call *c)
{
	struct rec_call *rc = c->rec.ctl;

	if (!rc || rc->state != REC_ON)
		return;
	rc->state = REC_PAUSED;
	tap(c, c->rec.ctl_sink, 0);     /* the file stays open, the streams in userspace */
	clog(LOG_INFO, c->callid, NULL, "recording paused");
}

void rec_call_created(struct daemon *d, struct call *c)
{
	struct rec_sink *s;

	if (!d->rec || !d->rec->ring_ns || !(s = sink_of(c)))
		return;
	pthread_mutex_lock(&c->lock);
	c->rec.ring = true;
	c->rec.sink = s;
	pthread_mutex_unlock(&c->lock);
}

void rec_call_destroyed(struct daemon *d, struct call *c)
{
	struct rec_call *rc = c->rec.ctl;

	if (!d->rec)
		return;
	rec_end(d, c, "call ended");
	pthread_mutex_lock(&c->lock);
	c->rec.sink = NULL;
	c->rec.ring = false;
	pthread_mutex_unlock(&c->lock);
	if (c->rec.ctl_sink)
		post(d, REC_MSG_DESTROY, c->rec.ctl_sink, 0, NULL);
	c->rec.ctl_sink = NULL;
	if (rc) {
		free(rc->metadata);
		json_object_put(rc->sdps);
		free(rc);
		c->rec.ctl = NULL;
	}
}

void rec_call_deleted(struct daemon *d, struct call *c)
{
	if (d->rec)
		rec_end(d, c, "call deleted");
}

const char *rec_kernel_why(const struct call *c)
{
	if (c->rec.ctl && c->rec.ctl->state != REC_OFF)
		return "recording";
	if (c->rec.ring)
		return "capture ring";
	return NULL;
}

/* ---- NG ---- */

static void set_metadata(struct rec_call *rc, const struct ng_request *req)
{
	char *m;

	if (!req->metadata.s || !(m = strndup(req->metadata.s, req->metadata.len)))
		return;
	free(rc->metadata);
	rc->metadata = m;
}

static void log_sdp(struct rec_call *rc, const struct ng_request *req, const char *out,
		    size_t out_len)
{
	json_object *e = json_object_new_object();
	size_t keep = rc->state == REC_OFF ? SDP_KEEP_IDLE : SDP_KEEP_MAX;
	size_t n;

	json_object_object_add(e, "time", time_json(real_ns()));
	json_object_object_add(e, "command", json_object_new_string(ng_cmd_name(req->cmd)));
	json_object_object_add(e, "from-tag", json_object_new_string_len(req->from_tag.s,
									   (int)req->from_tag.len));
	if (req->to_tag.len)
		json_object_object_add(e, "to-tag", json_object_new_string_len(
			req->to_tag.s, (int)req->to_tag.len));
	json_object_object_add(e, "received", json_object_new_string_len(req->sdp.s,
									   (int)req->sdp.len));
	json_object_object_add(e, "sent", json_object_new_string_len(out, (int)out_len));
	json_object_array_add(rc->sdps, e);
	n = json_object_array_length(rc->sdps);
	if (n > keep)
		json_object_array_del_idx(rc->sdps, 0, n - keep);
}

void rec_offer_answer(struct daemon *d, struct call *c, const struct ng_request *req,
		      const char *sdp_out, size_t sdp_out_len, struct arena *a,
		      struct bval *reply)
{
	struct rec_call *rc;

	if (!d->rec) {
		if (req->record_call == 1)
			bv_dict_add_str(a, reply, "warning",
					"Recording is not configured (--recording-dir)");
		return;
	}
	if (!(rc = ctl_of(c)))
		return;
	set_metadata(rc, req);
	log_sdp(rc, req, sdp_out, sdp_out_len);
	if (req->record_call == 1 && rc->state != REC_ON)
		rec_begin(d, c);
	else if (req->record_call == 0)
		rec_end(d, c, "record-call=no");
}

static int cmd_capture(struct daemon *d, struct call *c, const struct ng_request *req,
		       struct arena *a, struct bval *reply, const char **err)
{
	struct rec_call *rc = ctl_of(c);
	struct rec_sink *s = c->rec.ctl_sink;
	struct rec_capture *cap;
	struct party *p = NULL;
	char name[REC_NAME_MAX + 32];
	int e;

	if (!d->rec->ring_ns || !s || !rc) {
		*err = "The capture ring is off (--capture-ring)";
		return -EINVAL;
	}
	if (req->from_tag.len &&
	    !(p = call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL))) {
		*err = "Unknown from-tag";
		return -ENOENT;
	}
	if (!(cap = calloc(1, sizeof(*cap))))
		return -ENOMEM;
	snprintf(name, sizeof(name), "%s-capture-%u.pcap", s->name, ++rc->captures);
	if ((size_t)snprintf(cap->path, sizeof(cap->path), "%s/%s", d->rec->capture_dir,
			     name) >= sizeof(cap->path)) {
		free(cap);
		*err = "Capture path too long";
		return -ENAMETOOLONG;
	}
	cap->party = p ? (int)p->idx : -1;
	e = rec_capture_wait(d->rec, s, cap, CAPTURE_WAIT_MS);
	if (e) {
		*err = "Capture timed out";
		return e;               /* cap is the writer's now */
	}
	if (cap->error) {
		clog(LOG_ERR, c->callid, NULL, "capture %s: %s", cap->path, strerror(cap->error));
		free(cap);
		*err = "Capture could not be written";
		return -EIO;
	}
	clog(LOG_INFO, c->callid, NULL, "capture %s: %llu packets", cap->path,
	     (unsigned long long)cap->packets);
	bv_dict_add(a, reply, "file", bv_new_strz(a, cap->path));
	bv_dict_add_int(a, reply, "packets", (int64_t)cap->packets);
	if (cap->packets) {
		bv_dict_add_int(a, reply, "first-packet-ms", cap->first_ns / 1000000);
		bv_dict_add_int(a, reply, "last-packet-ms", cap->last_ns / 1000000);
	}
	bv_dict_add_str(a, reply, "result", "ok");
	free(cap);
	return 0;
}

int rec_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		struct bval *reply, const char **err)
{
	struct call *c;
	struct rec_call *rc;

	if (!d->rec) {
		*err = req->cmd == NG_CAPTURE ? "The capture ring is off (--capture-ring)"
					      : "Recording is not configured (--recording-dir)";
		return -EINVAL;
	}
	if (!(c = call_find(d, req->call_id.s, req->call_id.len))) {
		*err = "Unknown call-id";
		return -ENOENT;
	}
	if (req->cmd == NG_CAPTURE)
		return cmd_capture(d, c, req, a, reply, err);
	if (!(rc = ctl_of(c)))
		return -ENOMEM;
	set_metadata(rc, req);
	switch (req->cmd) {
	case NG_START_RECORDING:
		if (rec_begin(d, c))
			return -ENOMEM;
		break;
	case NG_STOP_RECORDING:
		rec_end(d, c, "stop recording");
		break;
	case NG_PAUSE_RECORDING:
		rec_pause(c);
		break;
	default:
		break;
	}
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

static const char *state_name(enum rec_state s)
{
	return s == REC_ON ? "on" : s == REC_PAUSED ? "paused" : "off";
}

void rec_query(struct daemon *d, struct call *c, struct arena *a, struct bval *reply)
{
	struct rec_call *rc = c->rec.ctl;
	struct rec_sink *s = c->rec.ctl_sink;
	struct bval *r;
	uint64_t drops;
	int e;

	if (!d->rec)
		return;
	r = bv_new_dict(a);
	pthread_mutex_lock(&c->lock);
	drops = c->rec.drops;
	pthread_mutex_unlock(&c->lock);
	bv_dict_add_str(a, r, "state", state_name(rc ? rc->state : REC_OFF));
	bv_dict_add_int(a, r, "files", rc ? rc->gen : 0);
	if (rc && rc->gen && s) {
		char name[REC_NAME_MAX + 32];

		rec_file_name(s, rc->gen, ".pcap", name, sizeof(name));
		bv_dict_add(a, r, "file", bv_new_strz(a, arena_printf(a, "%s/%s",
						      d->rec->pcap_dir, name)));
	}
	bv_dict_add_int(a, r, "packets", s ? (int64_t)atomic_load(&s->written) : 0);
	bv_dict_add_int(a, r, "drops", (int64_t)drops);
	if (s && (e = atomic_load(&s->error)))
		bv_dict_add_str(a, r, "error", strerror(e));
	if (d->rec->ring_ns)
		bv_dict_add_int(a, r, "ring packets",
				s ? (int64_t)atomic_load(&s->ring_packets) : 0);
	bv_dict_add(a, reply, "recording", r);
}

struct bval *rec_statistics(struct daemon *d, struct arena *a)
{
	struct rec *r = d->rec;
	struct bval *st = bv_new_dict(a);
	int64_t active = 0;

	if (!r)
		return st;
	for (struct call *c = d->reg.head; c; c = c->lnext)
		active += c->rec.ctl && c->rec.ctl->state != REC_OFF;
	bv_dict_add_int(a, st, "activerecordings", active);
	bv_dict_add_int(a, st, "files", (int64_t)atomic_load(&r->files));
	bv_dict_add_int(a, st, "packetswritten", (int64_t)atomic_load(&r->written));
	bv_dict_add_int(a, st, "writeerrors", (int64_t)atomic_load(&r->write_errors));
	bv_dict_add_int(a, st, "queuedrops", (int64_t)atomic_load(&r->queue_drops));
	bv_dict_add_int(a, st, "captures", (int64_t)atomic_load(&r->captures));
	bv_dict_add_int(a, st, "ringseconds", r->ring_ns / 1000000000);
	bv_dict_add_int(a, st, "ringbytes", (int64_t)atomic_load(&r->ring_bytes));
	bv_dict_add_int(a, st, "ringmaxbytes", (int64_t)d->cfg->capture_ring_mb << 20);
	bv_dict_add_int(a, st, "ringdrops", (int64_t)atomic_load(&r->ring_drops));
	return st;
}
