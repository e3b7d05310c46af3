/* Hitless restart of the kernel path (docs/ha.md, "Kernel forwarding across a
 * restart"): a daemon killed or stopped leaves its kernel entries forwarding, and the
 * next start, when Redis names the table and its owner token, adopts them instead of
 * flushing. The restored streams take over the entries on their own local addresses
 * (kernel_adopt_claim, from sync_stream: the push becomes an UPDATE, which keeps the
 * counters and never unhooks the entry); what no restored stream claimed is withdrawn
 * once the restore is over (kernel_adopt_end). Control thread only. */
#include "kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon.h"
#include "sluice/kmod.h"
#include "sluice/kmod_srtp.h"
#include "sluice/log.h"

/* The entries found at start and which restored stream took each. */
struct kernel_adopt {
	struct kmod_entry *e;           /* by local address (find_local) */
	bool *claimed;
	unsigned n, n_claimed;
};

bool kernel_adopt_wanted(const struct daemon *d)
{
	const struct config *cfg = d->cfg;

	return cfg->kernel != KERNEL_OFF && cfg->redis.addr.sa.sa_family;
}

static uint64_t fresh_token(void)
{
	uint64_t t = 0;

	while (!t)
		if (getrandom(&t, sizeof(t), 0) != sizeof(t))
			t = (uint64_t)mono_fine_us() * 0x9e3779b97f4a7c15ull;
	return t;
}

/* A new owner: nothing of the table can be trusted, so it starts empty. */
static uint64_t take_over(struct daemon *d, const char *why)
{
	uint64_t t = fresh_token();
	int e;

	e = kmod_flush(d->kmod);
	if (e)
		ilog(LOG_WARNING, "kernel: flushing table %d failed: %s", d->cfg->table,
		     strerror(-e));
	e = kmod_set_token(d->kmod, t);
	if (e) {
		ilog(LOG_WARNING, "kernel: table %d flushed (%s); the module keeps no owner "
		     "token (%s): a restart will flush it again", d->cfg->table, why,
		     strerror(-e));
		return 0;
	}
	ilog(LOG_INFO, "kernel: table %d flushed (%s), owner token %016llx", d->cfg->table,
	     why, (unsigned long long)t);
	return t;
}

/* Order of the entries for the lookup by local address (the module's key: no two
 * entries share one). */
static int local_cmp(const union sockaddr_u *x, const union sockaddr_u *y)
{
	if (x->sa.sa_family != y->sa.sa_family)
		return x->sa.sa_family < y->sa.sa_family ? -1 : 1;
	if (netaddr_port(x) != netaddr_port(y))
		return netaddr_port(x) < netaddr_port(y) ? -1 : 1;
	if (x->sa.sa_family == AF_INET)
		return memcmp(&x->sin.sin_addr, &y->sin.sin_addr, 4);
	return memcmp(&x->sin6.sin6_addr, &y->sin6.sin6_addr, 16);
}

static int entry_cmp(const void *x, const void *y)
{
	return local_cmp(&((const struct kmod_entry *)x)->local,
			 &((const struct kmod_entry *)y)->local);
}

/* O(log entries): a restore of thousands of streams stays linear. */
static int find_local(const struct kernel_adopt *a, const union sockaddr_u *local)
{
	unsigned lo = 0, hi = a->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = local_cmp(&a->e[mid].local, local);

		if (!c)
			return a->claimed[mid] ? -1 : (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static uint64_t adopt(struct daemon *d, uint64_t token)
{
	struct kernel_adopt *a = calloc(1, sizeof(*a));
	int e = a ? kmod_entries(d->kmod, &a->e, &a->n) : -ENOMEM;

	if (!e && a->n && !(a->claimed = calloc(a->n, sizeof(*a->claimed))))
		e = -ENOMEM;
	if (e) {
		if (a)
			free(a->e);
		free(a);
		return take_over(d, "its entries could not be listed");
	}
	if (a->n)
		qsort(a->e, a->n, sizeof(*a->e), entry_cmp);
	d->kadopt = a;
	ilog(LOG_NOTICE, "kernel: table %d holds %u entr%s of this relay's previous run "
	     "(owner token %016llx): adopting them", d->cfg->table, a->n, a->n == 1 ? "y" : "ies",
	     (unsigned long long)token);
	return token;
}

uint64_t kernel_adopt_begin(struct daemon *d, bool have, int table, uint64_t token)
{
	uint64_t cur;

	if (!d->kmod || !d->kadopt_pending)
		return 0;
	d->kadopt_pending = false;
	cur = kmod_token(d->kmod);
	if (!have)
		return take_over(d, "Redis names no previous owner");
	if (table != d->cfg->table)
		return take_over(d, "Redis names another table");
	if (!token || token != cur)
		return take_over(d, "another owner token");
	return adopt(d, token);
}

bool kernel_adopt_claim(struct daemon *d, struct stream *s)
{
	struct kernel_adopt *a = d->kadopt;
	int i;

	if (!a || s->kslot >= 0 || (i = find_local(a, &s->local)) < 0)
		return false;
	if (!s->kpushed && !(s->kpushed = malloc(sizeof(*s->kpushed))))
		return false;
	if (kmod_adopt(d->kmod, a->e[i].slot))
		return false;
	/* unknown content: the caller's push differs from it and becomes an UPDATE */
	memset(s->kpushed, 0, sizeof(*s->kpushed));
	a->claimed[i] = true;
	a->n_claimed++;
	s->kslot = a->e[i].slot;
	memset(&s->kq, 0, sizeof(s->kq));
	return true;
}

void kernel_adopt_end(struct daemon *d)
{
	struct kernel_adopt *a = d->kadopt;
	unsigned gone = 0;

	if (d->kmod && d->kadopt_pending) {     /* no restore ran (Redis unreachable) */
		d->kadopt_pending = false;
		take_over(d, "no calls were restored");
	}
	if (!a)
		return;
	for (unsigned i = 0; i < a->n; i++) {
		if (a->claimed[i])
			continue;
		/* adopt first, so the handle's slot bookkeeping follows the delete */
		if (!kmod_adopt(d->kmod, a->e[i].slot) && !kmod_del(d->kmod, a->e[i].slot))
			gone++;
		kmod_srtp_del(d->kmod, (int)a->e[i].slot);     /* its keys, if it had any */
	}
	ilog(LOG_NOTICE, "kernel: %u entr%s adopted by restored calls, %u withdrawn (not "
	     "restored)", a->n_claimed, a->n_claimed == 1 ? "y" : "ies", gone);
	d->kadopt = NULL;
	free(a->claimed);
	free(a->e);
	free(a);
}
