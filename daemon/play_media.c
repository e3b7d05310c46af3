/* NG "play media" / "stop media": decode the file on the control thread, then play it
 * on the media worker's clock in the peer's stream toward the chosen party (see
 * play_media.h). */
#include "play_media.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "call_ops.h"
#include "config.h"
#include "kernel.h"
#include "media_handler.h"
#include "play_clock.h"
#include "relay.h"
#include "sluice/log.h"
#include "sluice/play_rewrite.h"

#define MAX_TARGETS (2 * SDP_MAX_MEDIA)

struct target {                         /* one audio section the announcement goes to */
	struct media *src;              /* the peer's section: whose stream carries it */
	struct play_rewrite *rw;        /* built, not yet installed */
	struct media_player *mp;        /* made for a section without one yet */
};

struct plan {
	struct target t[MAX_TARGETS];
	unsigned n;
	const char *path;               /* NULL: blob */
	char path_buf[PATH_MAX];
};

static bool has_tag(const struct party *p, const struct ng_str *t)
{
	for (unsigned i = 0; i < p->n_tags; i++)
		if (strlen(p->tags[i].tag) == t->len && !memcmp(p->tags[i].tag, t->s, t->len))
			return true;
	return false;
}

/* all, else from-tag, else to-tag (a proxy naming the callee by its tag), else label. */
static bool party_selected(const struct party *p, const struct ng_request *req)
{
	if (req->all)
		return true;
	if (req->from_tag.len)
		return has_tag(p, &req->from_tag);
	if (req->to_tag.len)
		return has_tag(p, &req->to_tag);
	return req->label.len && strlen(p->label) == req->label.len &&
	       !memcmp(p->label, req->label.s, req->label.len);
}

/* The section whose packets reach m's side: m's RTP goes to it, and its RTP to m. */
static struct media *sender_of(struct media *m)
{
	struct stream *peer = m->rtp.sink;

	if (!peer || peer->media->rtp.sink != &m->rtp)
		return NULL;
	return peer->media;
}

/* The party said it takes no media there (a=sendonly, a=inactive, c=0.0.0.0): as
 * rtpengine, nothing is played to it. */
static bool deaf(const struct media *m)
{
	return m->dir == SDP_DIR_SENDONLY || m->dir == SDP_DIR_INACTIVE || m->hold_addr;
}

/* The audio sections of the selected parties that have a sender. -ENOENT: no such
 * party; -ENOTCONN: a party but nothing reaches it yet; -EPIPE: it takes no media.
 * stop: every section with a sender, deaf or not. */
static int pick_targets(struct call *c, const struct ng_request *req, struct plan *pl,
			bool stop)
{
	bool any_party = false, any_deaf = false;

	for (struct party *p = c->parties; p; p = p->next) {
		if (!party_selected(p, req))
			continue;
		any_party = true;
		for (unsigned i = 0; i < p->n_media && pl->n < MAX_TARGETS; i++) {
			struct media *m = p->media[i], *src;

			if (!m || strcmp(m->type, "audio") || !(src = sender_of(m)))
				continue;
			if (!stop && deaf(m))
				any_deaf = true;
			else
				pl->t[pl->n++].src = src;
		}
	}
	return !any_party ? -ENOENT : pl->n ? 0 : any_deaf ? -EPIPE : -ENOTCONN;
}

static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && path[n] == '/';
}

/* --media-dir: the file's resolved path (symlinks and ".." undone) must lie below one
 * of the folders, so an NG client cannot read /etc/shadow into a call. */
static int check_path(const struct config *cfg, const struct ng_request *req,
		      struct plan *pl, const char **err)
{
	char want[PATH_MAX];
	char *real;

	if (!req->play.file.len) {
		pl->path = NULL;
		return 0;
	}
	if (req->play.file.len >= sizeof(want)) {
		*err = "Media file name too long";
		return -ENAMETOOLONG;
	}
	memcpy(want, req->play.file.s, req->play.file.len);
	want[req->play.file.len] = '\0';
	pl->path = pl->path_buf;
	if (!cfg->n_media_dirs) {
		strcpy(pl->path_buf, want);
		return 0;
	}
	if (!(real = realpath(want, NULL))) {
		*err = "Cannot open the media file";
		return -ENOENT;
	}
	for (unsigned i = 0; i < cfg->n_media_dirs; i++)
		if (below(real, cfg->media_dirs[i]) && strlen(real) < sizeof(pl->path_buf)) {
			strcpy(pl->path_buf, real);
			free(real);
			return 0;
		}
	free(real);
	*err = "Media file is outside the folders --media-dir allows";
	return -EACCES;
}

static bool has_pt(const struct media *m, unsigned pt)
{
	return m->pts[pt / 8] & (1u << (pt % 8));
}

/* "opus/48000/2" -> its codec definition; NULL when the library has no encoder. */
static const struct codec_def *def_of(const char *codec)
{
	const char *sl = strchr(codec, '/');
	unsigned clock = sl ? (unsigned)strtoul(sl + 1, NULL, 10) : 0;
	const struct codec_def *def = codec_find(codec, sl ? (size_t)(sl - codec) : strlen(codec),
						 clock, 0);

	return def && def->ops ? def : NULL;
}

static int add_track(struct play_rewrite *rw, int pt, const struct codec_def *def,
		     const struct ng_request *req, const char *path, const char **err)
{
	struct codec_params prm;
	struct codec_enc *enc;
	struct audio_pcm pcm;
	int e;

	codec_params_default(def, &prm);
	if ((e = codec_enc_create(def, &prm, &enc))) {
		*err = "Cannot create an encoder for the call's codec";
		return e;
	}
	e = audio_file_load(path, req->play.blob.s, req->play.blob.len, codec_enc_rate(enc),
			    req->play.start_pos, PLAY_MEDIA_MAX_MS, &pcm, err);
	if (e) {
		codec_enc_destroy(enc);
		return e;
	}
	return play_rw_add_track(rw, pt, def, enc, &pcm);
}

/* A track for the codec the sender lists first and for each static one it lists:
 * whichever it sends, the announcement goes on. */
static int build(struct target *t, const struct ng_request *req, const char *path,
		 const char **err)
{
	static const unsigned statics[] = { 0, 8, 9, 18 };
	const struct codec_def *first = def_of(t->src->codec);
	int e;

	if ((e = play_rw_create(req->play.repeat_times, req->play.duration, t->src->codec_pt,
				t->src->dtmf_pt, &t->rw)))
		return e;
	if (first && (e = add_track(t->rw, first->static_pt, first, req, path, err)))
		return e;
	for (unsigned i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		const struct codec_def *def = codec_by_static_pt(statics[i]);

		if (!has_pt(t->src, statics[i]) || !def || def == first)
			continue;
		if ((e = add_track(t->rw, (int)statics[i], def, req, path, err)))
			return e;
	}
	if (!play_rw_duration_ms(t->rw)) {
		*err = "play media: no codec of the call that sluice can encode";
		return -ENOTSUP;
	}
	return 0;
}

static void plan_free(struct plan *pl)
{
	for (unsigned i = 0; i < pl->n; i++) {
		play_rw_free(pl->t[i].rw);
		play_clock_free(pl->t[i].mp);
	}
}

static const char *why_no_target(int e)
{
	return e == -ENOENT ? "Unknown call party (from-tag, to-tag or label)" :
	       e == -EPIPE ? "play media: the party takes no media (a=sendonly, a=inactive "
			     "or c=0.0.0.0)" :
			     "play media needs the party's peer (no answer yet)";
}

/* Before the lock: the players the sections lack. */
static int players_make(struct plan *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		if (!pl->t[i].src->media_play && !(pl->t[i].mp = play_clock_new()))
			return -ENOMEM;
	return 0;
}

/* Call lock held: t's announcement replaces the one playing (handed back in t->rw to
 * be freed outside the lock), on the section's clock (play_clock.h). */
static void install(struct daemon *d, struct call *c, struct target *t, int64_t now)
{
	int64_t due;

	if (!t->src->media_play) {
		t->src->media_play = t->mp;
		t->mp = NULL;
	}
	t->rw = play_clock_install(t->src->media_play, t->rw, now, &due);
	relay_play_timer_start(d->relay, &t->src->rtp, c->worker, due);
}

static int do_play(struct daemon *d, struct call *c, const struct ng_request *req,
		   struct arena *a, struct bval *reply, const char **err)
{
	struct plan *pl = calloc(1, sizeof(*pl));
	uint64_t dur = 0;
	int e;

	if (!pl)
		return -ENOMEM;
	if (!req->play.file.len && !req->play.blob.len) {
		*err = "No media file specified (file or blob)";
		e = -EINVAL;
		goto out;
	}
	if ((e = check_path(d->cfg, req, pl, err)))
		goto out;
	if ((e = pick_targets(c, req, pl, false))) {
		*err = why_no_target(e);
		goto out;
	}
	/* decoded before anything changes: a bad file leaves the call as it was */
	for (unsigned i = 0; i < pl->n; i++)
		if ((e = build(&pl->t[i], req, pl->path, err)))
			goto out;
	if ((e = players_make(pl)))
		goto out;
	for (unsigned i = 0; i < pl->n; i++)
		if (play_rw_duration_ms(pl->t[i].rw) > dur)
			dur = play_rw_duration_ms(pl->t[i].rw);
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < pl->n; i++)
		install(d, c, &pl->t[i], mono_fine_us());
	pthread_mutex_unlock(&c->lock);
	clog(LOG_INFO, c->callid, NULL, "play media %s%.*s: %llu ms to %u section(s)",
	     pl->path ? "" : "blob", pl->path ? (int)strlen(pl->path) : 0,
	     pl->path ? pl->path : "", (unsigned long long)dur, pl->n);
	kernel_sync_call(d, c);         /* the streams leave the kernel while it plays */
	bv_dict_add(a, reply, "duration", bv_new_int(a, (long long)dur));
	bv_dict_add_str(a, reply, "result", "ok");
out:
	plan_free(pl);
	free(pl);
	return e;
}

static int do_stop(struct daemon *d, struct call *c, const struct ng_request *req,
		   struct arena *a, struct bval *reply, const char **err)
{
	struct plan pl = { 0 };
	uint64_t pos = 0;
	int e = pick_targets(c, req, &pl, true);

	if (e) {
		*err = why_no_target(e);
		return e;
	}
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < pl.n; i++) {
		struct media_player *mp = pl.t[i].src->media_play;
		struct play_rewrite *rw = mp ? play_clock_stop(mp) : NULL;

		if (!rw)
			continue;
		pos = play_rw_frame_pos(rw, req->play.start_pos);
		pl.t[i].rw = rw;        /* its decoded audio is freed below, not kept */
	}
	pthread_mutex_unlock(&c->lock);
	plan_free(&pl);
	clog(LOG_INFO, c->callid, NULL, "stop media (%u section(s))", pl.n);
	kernel_sync_call(d, c);         /* and back to the kernel */
	bv_dict_add(a, reply, "last-frame-pos", bv_new_int(a, (long long)pos));
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

static bool is_stop(const struct ng_request *req)
{
	int i = ng_cmd_lookup(req->command.s, req->command.len);

	return i >= 0 && !strcmp(ng_cmd_spelling((size_t)i), "stop media");
}

int play_media(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);

	if (!c) {
		*err = "Unknown call-id";
		return -ENOENT;
	}
	if (!req->all && !req->from_tag.len && !req->to_tag.len && !req->label.len) {
		*err = "No participant selected (from-tag, to-tag, label or all)";
		return -EINVAL;
	}
	return is_stop(req) ? do_stop(d, c, req, a, reply, err)
			    : do_play(d, c, req, a, reply, err);
}

void play_media_notice(const struct config *cfg)
{
	if (!cfg->n_media_dirs) {
		ilog(LOG_NOTICE, "play media: any file sluiced can read may be played (as "
		     "rtpengine); set --media-dir to restrict it");
		return;
	}
	for (unsigned i = 0; i < cfg->n_media_dirs; i++)
		ilog(LOG_NOTICE, "play media: files below %s", cfg->media_dirs[i]);
}
