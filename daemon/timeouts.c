/* Call timeouts. */
#include "timeouts.h"

#include "call_ops.h"
#include "daemon.h"
#include "kernel.h"
#include "store.h"

/* One-way or held media: every section of some side declares it does not send, or
 * points its connection at 0.0.0.0. */
static bool call_silent(const struct call *c)
{
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *m = p->media[i];
			if (m && (m->hold_addr || m->dir == SDP_DIR_SENDONLY ||
				  m->dir == SDP_DIR_RECVONLY || m->dir == SDP_DIR_INACTIVE))
				return true;
		}
	return false;
}

static enum call_end check(const struct daemon *d, struct call *c, int64_t now, int64_t wall)
{
	const struct config *cfg = d->cfg;
	struct stream_stats rtp, rtcp;
	int64_t last, idle;
	bool silent;

	if (c->deleted)
		return now >= c->delete_at_us ? CALL_END_DELETE : CALL_END_NONE;
	if (cfg->final_timeout && wall - c->created_us >= cfg->final_timeout * 1000000LL)
		return CALL_END_FINAL_TIMEOUT;
	if (!c->answered)
		return cfg->offer_timeout && now - c->last_signal_us >= cfg->offer_timeout * 1000000LL
			       ? CALL_END_OFFER_TIMEOUT : CALL_END_NONE;
	call_totals(c, &rtp, &rtcp, &last);
	if (last < c->last_signal_us)
		last = c->last_signal_us;
	idle = now - last;
	silent = call_silent(c);
	if (!silent && cfg->timeout && idle >= cfg->timeout * 1000000LL)
		return CALL_END_TIMEOUT;
	if (silent && cfg->silent_timeout && idle >= cfg->silent_timeout * 1000000LL)
		return CALL_END_SILENT_TIMEOUT;
	return CALL_END_NONE;
}

void timeouts_scan(struct daemon *d)
{
	int64_t now = mono_us(), wall = now_us();
	struct call *c = d->reg.head, *next;

	for (; c; c = next) {
		enum call_end why = check(d, c, now, wall);

		next = c->lnext;
		if (why != CALL_END_NONE) {
			call_destroy(d, c, why);
			continue;
		}
		if (c->kdirty)
			kernel_sync_call(d, c);
		if (c->sdirty)
			store_call_changed(d, c);
		else
			store_call_tick(d, c, now);
		kernel_watch_foreign(d, c, now);
		if (c->kmod) {
			pthread_mutex_lock(&c->lock);
			kernel_quality_fold_call(c, mono_fine_us());
			pthread_mutex_unlock(&c->lock);
		}
	}
}
