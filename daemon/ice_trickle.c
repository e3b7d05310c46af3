/* Trickle ICE fragments from NG (ice_trickle.h). Control thread; the agents are [L]
 * (secure.h), so they are fed with the call lock held. */
#include "ice_trickle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_ops.h"
#include "secure.h"
#include "sluice/log.h"
#include "sluice/sdpfrag.h"

struct trickle_count {
	unsigned added, bad, unmatched, stale, no_ice;
};

static bool str_is(struct sdp_str s, const char *z)
{
	return s.len == strlen(z) && !memcmp(s.s, z, s.len);
}

/* The party's media a fragment section is for: by a=mid (the offerer recorded it; the
 * answer shares the offer's mids), else by m= position. NULL if none. */
static struct media *section_media(struct party *p, const struct sdpfrag_media *fm)
{
	struct media *m = NULL;

	if (fm->mid.len) {
		for (unsigned i = 0; i < p->n_media && !m; i++) {
			struct party *q = p->peer;
			struct media *pm = q && i < q->n_media ? q->media[i] : NULL;

			if ((p->media[i] && str_is(fm->mid, p->media[i]->mid)) ||
			    (pm && str_is(fm->mid, pm->mid)))
				m = p->media[i];
		}
	} else if (fm->index >= 0 && (unsigned)fm->index < p->n_media) {
		m = p->media[fm->index];
	}
	/* a BUNDLE member's candidates are its group's transport's */
	return m && m->bundle ? m->bundle : m;
}

/* One section into one agent. Call lock held. */
static void feed(struct ice_agent *ice, const struct sdpfrag *f, unsigned i,
		 struct trickle_count *n)
{
	const struct sdpfrag_media *fm = &f->media[i];
	struct sdp_str uf = sdpfrag_ufrag(f, i);

	/* without a ufrag the fragment is taken as of the current generation */
	if (uf.len && (uf.len != strlen(ice->rufrag) || memcmp(uf.s, ice->rufrag, uf.len))) {
		n->stale++;
		return;
	}
	for (unsigned k = 0; k < fm->n_cand; k++) {
		struct ice_cand c;

		/* TCP, mDNS names, malformed: skipped, as in an SDP */
		if (ice_parse_candidate(fm->cand[k].s, fm->cand[k].len, &c) ||
		    ice_add_remote(ice, &c))
			n->bad++;
		else
			n->added++;
	}
	n->bad += fm->over;
}

static const char *warning(const struct trickle_count *n, char *buf, size_t size)
{
	if (n->unmatched)
		snprintf(buf, size, "Trickle ICE fragment: %u section(s) with unknown media ID",
			 n->unmatched);
	else if (n->stale)
		snprintf(buf, size, "Trickle ICE fragment: %u section(s) with a stale ICE ufrag",
			 n->stale);
	else if (n->no_ice)
		snprintf(buf, size, "Trickle ICE fragment: %u section(s) for media without ICE",
			 n->no_ice);
	else
		return NULL;
	return buf;
}

/* A fragment that came before its call (or its side): kept until an offer or answer
 * makes them (ice_trickle_replay), as rtpengine does, for TRICKLE_HOLD_US. */
struct trickle_pending {
	struct trickle_pending *next;
	int64_t until_us;
	size_t callid_len, tag_len, sdp_len;
	char *callid, *tag, *sdp;       /* one allocation, after the struct */
};

#define TRICKLE_HOLD_US (30 * 1000000LL)
#define TRICKLE_PENDING_MAX 1024

static int queue(struct daemon *d, const struct ng_request *req)
{
	struct trickle_pending *t;

	if (d->n_trickle_q >= TRICKLE_PENDING_MAX)
		return -ENOSPC;
	t = malloc(sizeof(*t) + req->call_id.len + req->from_tag.len + req->sdp.len + 3);
	if (!t)
		return -ENOMEM;
	t->callid = (char *)(t + 1);
	t->tag = t->callid + req->call_id.len + 1;
	t->sdp = t->tag + req->from_tag.len + 1;
	t->callid_len = req->call_id.len;
	t->tag_len = req->from_tag.len;
	t->sdp_len = req->sdp.len;
	memcpy(t->callid, req->call_id.s, t->callid_len);
	t->callid[t->callid_len] = '\0';
	memcpy(t->tag, req->from_tag.s, t->tag_len);
	t->tag[t->tag_len] = '\0';
	memcpy(t->sdp, req->sdp.s, t->sdp_len);
	t->sdp[t->sdp_len] = '\0';
	t->until_us = mono_us() + TRICKLE_HOLD_US;
	t->next = d->trickle_q;
	d->trickle_q = t;
	d->n_trickle_q++;
	return 0;
}

/* Feed a parsed fragment to the agents toward p; true if a full agent got candidates. */
static bool apply(struct call *c, struct party *p, const struct sdpfrag *f,
		  struct trickle_count *n)
{
	bool full = false;

	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < f->n_media; i++) {
		struct media *m = section_media(p, &f->media[i]);

		if (!m)
			n->unmatched++;
		else if (!m->sec || !m->sec->ice)
			n->no_ice++;
		else {
			feed(m->sec->ice, f, i, n);
			full |= !m->sec->ice->lite;
		}
	}
	pthread_mutex_unlock(&c->lock);
	clog(LOG_INFO, c->callid, p->tags[0].tag, "trickle ICE: %u candidate(s) added, %u skipped,"
	     " %u section(s) ignored", n->added, n->bad + f->session_cand,
	     n->unmatched + n->stale + n->no_ice);
	return full && n->added;
}

int ice_trickle(struct daemon *d, const struct ng_request *req, struct arena *a,
		struct bval *reply, const char **err)
{
	static __thread char reason[96];
	struct trickle_count n = { 0 };
	struct sdpfrag *f;
	struct call *c;
	struct party *p = NULL;
	const char *why = NULL, *warn;
	char wbuf[96];
	int e;

	if (!(f = malloc(sizeof(*f)))) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	if (sdpfrag_parse(req->sdp.s, req->sdp.len, f, &why)) {
		snprintf(reason, sizeof(reason), "Failed to parse SDP fragment: %s", why);
		*err = reason;
		free(f);
		return -EINVAL;
	}
	c = call_find(d, req->call_id.s, req->call_id.len);
	if (c && c->deleted) {
		free(f);
		*err = "Unknown call-id";
		return -ENOENT;
	}
	if (c)
		p = call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL);
	if (!p) {
		/* before the offer (or the answer of the side that trickles): hold it */
		free(f);
		e = queue(d, req);
		if (e) {
			*err = e == -ENOSPC ? "Too many trickle ICE fragments waiting for their call"
					    : "Out of memory";
			return e;
		}
		clog(LOG_INFO, d->trickle_q->callid, d->trickle_q->tag, "trickle ICE: fragment "
		     "for %s held until it is known", c ? "an unknown tag" : "an unknown call");
		bv_dict_add_str(a, reply, "warning", c ? "Trickle ICE fragment held: unknown tag"
						   : "Trickle ICE fragment held: unknown call-id");
		bv_dict_add_str(a, reply, "result", "ok");
		return 0;
	}
	if (apply(c, p, f, &n))
		secure_kick(d, c);      /* check the new pairs now, not at the next tick */
	free(f);
	if ((warn = warning(&n, wbuf, sizeof(wbuf))))
		bv_dict_add_str(a, reply, "warning", warn);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

void ice_trickle_replay(struct daemon *d, struct call *c)
{
	struct trickle_pending **pp = &d->trickle_q;
	struct sdpfrag *f = NULL;

	while (*pp) {
		struct trickle_pending *t = *pp;
		struct party *p;
		struct trickle_count n = { 0 };
		const char *why;

		if (t->callid_len != c->callid_len || memcmp(t->callid, c->callid, c->callid_len) ||
		    !(p = call_party_by_tag(c, t->tag, t->tag_len, NULL))) {
			pp = &t->next;
			continue;
		}
		if (!f && !(f = malloc(sizeof(*f))))
			return;
		/* parsed once already when it came: cannot fail */
		if (!sdpfrag_parse(t->sdp, t->sdp_len, f, &why) && apply(c, p, f, &n))
			secure_kick(d, c);
		*pp = t->next;
		free(t);
		d->n_trickle_q--;
	}
	free(f);
}

void ice_trickle_expire(struct daemon *d, int64_t now, bool all)
{
	struct trickle_pending **pp = &d->trickle_q;

	while (*pp) {
		struct trickle_pending *t = *pp;

		if (!all && now < t->until_us) {
			pp = &t->next;
			continue;
		}
		if (!all)
			clog(LOG_NOTICE, t->callid, t->tag, "trickle ICE: held fragment dropped, "
			     "its call or tag never came");
		*pp = t->next;
		free(t);
		d->n_trickle_q--;
	}
}
