/* NG "play DTMF": digits into what one side sends, by its transcoder or, on plainly
 * forwarded media, by rewriting its packets (see play_dtmf.h). */
#include "play_dtmf.h"

#include <errno.h>
#include <string.h>

#include "call.h"
#include "call_ops.h"
#include "kernel.h"
#include "sluice/dtmf_rewrite.h"
#include "sluice/log.h"
#include "sluice/rfc4733.h"
#include "transcode_handler.h"

static struct party *party_of(struct call *c, const struct ng_request *req)
{
	if (req->from_tag.len)
		return call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL);
	for (struct party *p = c->parties; p; p = p->next)
		if (strlen(p->label) == req->label.len &&
		    !memcmp(p->label, req->label.s, req->label.len))
			return p;
	return NULL;
}

static bool has_pt(const struct media *m, unsigned pt)
{
	return m->pts[pt / 8] & (1u << (pt % 8));
}

static bool has_g711(const struct media *m)
{
	return has_pt(m, 0) || has_pt(m, 8);
}

/* How digits go from m's side to its peer: RFC 4733 when both sides' SDP have
 * telephone-event at the sender's audio clock (written with the sender's number: a
 * payload type remap on the way turns it into the receiver's, as it does the sender's
 * own events), else in-band when both have G.711. */
static int plain_mode(const struct media *m, struct dtmf_rewrite_cfg *cfg)
{
	const struct media *rx = m->rtp.sink ? m->rtp.sink->media : NULL;

	if (!rx)
		return -ENOTCONN;
	*cfg = (struct dtmf_rewrite_cfg){ .mode = DTMF_REWRITE_EVENT, .event_pt = 101,
					  .skip_pt = m->dtmf_pt, .clock = m->clock };
	if (m->dtmf_pt >= 0 && rx->dtmf_pt >= 0 && m->dtmf_clock == m->clock &&
	    rx->dtmf_clock == m->clock) {
		cfg->event_pt = (uint8_t)m->dtmf_pt;
		return 0;
	}
	if (!has_g711(m) || !has_g711(rx))
		return -ENOTSUP;
	cfg->mode = DTMF_REWRITE_INBAND;
	cfg->clock = 8000;
	return 0;
}

int play_dtmf_plain_prepare(struct media *m)
{
	struct dtmf_rewrite_cfg cfg;
	int e = plain_mode(m, &cfg);

	if (e)
		return e;
	/* control thread, once per media: the packet path never allocates */
	if (!m->dtmf_play && (e = dtmf_rewrite_create(&m->dtmf_play)))
		return e;
	return dtmf_rewrite_config(m->dtmf_play, &cfg);
}

int play_dtmf_plain_queue(struct media *m, uint8_t event, unsigned duration_ms,
			  unsigned volume)
{
	return dtmf_rewrite_queue(m->dtmf_play, event, duration_ms, volume, 0);
}

static int play_plain(struct media *m, const struct ng_request *req)
{
	int e = play_dtmf_plain_prepare(m);

	if (e)
		return e;
	return dtmf_rewrite_queue(m->dtmf_play, (uint8_t)req->dtmf.event, req->dtmf.duration,
				  req->dtmf.volume, req->dtmf.pause);
}

static const char *why_not(int e)
{
	switch (e) {
	case -ENOBUFS: return "Too many DTMF digits queued";
	case -ENOTSUP: return "play DTMF needs telephone-event or G.711 (PCMU/PCMA) on both "
			      "sides of a plain-forwarded stream, or a transcoded stream";
	case -ENOTCONN: return "play DTMF needs the media's peer (no answer yet)";
	default: return "Cannot play DTMF";
	}
}

int play_dtmf(struct daemon *d, const struct ng_request *req, struct arena *a,
	      struct bval *reply, const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);
	struct party *p;
	unsigned done = 0, plain = 0;
	int e = -ENOTSUP;

	if (!c) {
		*err = "Unknown call-id";
		return -ENOENT;
	}
	p = party_of(c, req);
	if (!p) {
		*err = "Unknown call party (from-tag or label)";
		return -ENOENT;
	}
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < p->n_media; i++) {
		struct media *m = p->media[i];
		int r;

		if (!m || strcmp(m->type, "audio"))
			continue;
		if (m->transcoding)
			r = xcode_inject_dtmf(m, (uint8_t)req->dtmf.event, req->dtmf.duration,
					      req->dtmf.volume, req->dtmf.pause);
		else if (!(r = play_plain(m, req)))
			plain++;
		if (!r)
			done++;
		else if (e == -ENOTSUP)
			e = r;
	}
	pthread_mutex_unlock(&c->lock);
	if (!done) {
		*err = why_not(e);
		return e;
	}
	clog(LOG_INFO, c->callid, p->n_tags ? p->tags[0].tag : NULL,
	     "play DTMF digit %c, %u ms, -%u dBm0, pause %u ms (%u media)",
	     rfc4733_event_digit(req->dtmf.event), req->dtmf.duration, req->dtmf.volume,
	     req->dtmf.pause, done);
	if (plain)
		kernel_sync_call(d, c);         /* its stream leaves the kernel while it plays */
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

bool play_dtmf_busy(const struct stream *s)
{
	return s->component == COMP_RTP && s->media->dtmf_play &&
	       dtmf_rewrite_busy(s->media->dtmf_play);
}

bool play_dtmf_packet(struct stream *t, uint8_t *pkt, size_t *len)
{
	struct dtmf_rewrite *rw = t->media->dtmf_play;
	int r;

	if (t->component != COMP_RTP || t->media->transcoding || !dtmf_rewrite_busy(rw))
		return false;
	r = dtmf_rewrite_packet(rw, pkt, len);
	if (!dtmf_rewrite_busy(rw))
		t->media->party->call->kdirty = true;   /* back to the kernel */
	return r > 0;
}
