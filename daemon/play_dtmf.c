/* NG "play DTMF": queue a digit in the transcoder of each of the party's audio media. */
#include "play_dtmf.h"

#include <errno.h>
#include <string.h>

#include "call.h"
#include "call_ops.h"
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

int play_dtmf(struct daemon *d, const struct ng_request *req, struct arena *a,
	      struct bval *reply, const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);
	struct party *p;
	unsigned done = 0;
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
		r = xcode_inject_dtmf(m, (uint8_t)req->dtmf.event, req->dtmf.duration,
				      req->dtmf.volume, req->dtmf.pause);
		if (!r)
			done++;
		else if (e == -ENOTSUP)
			e = r;
	}
	pthread_mutex_unlock(&c->lock);
	if (!done) {
		*err = e == -ENOBUFS ? "Too many DTMF digits queued" :
		       e == -ENOTSUP ? "play DTMF needs a transcoded stream" :
		       "Cannot play DTMF";
		return e;
	}
	clog(LOG_INFO, c->callid, p->n_tags ? p->tags[0].tag : NULL,
	     "play DTMF digit %c, %u ms, -%u dBm0, pause %u ms (%u media)",
	     rfc4733_event_digit(req->dtmf.event), req->dtmf.duration, req->dtmf.volume,
	     req->dtmf.pause, done);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}
