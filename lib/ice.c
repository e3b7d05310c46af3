/* ICE agent core: credentials, candidates, checks, nomination, consent. No I/O, no
 * clock. */
#include "sluice/ice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#define TYPE_PREF_HOST  126
#define TYPE_PREF_PRFLX 110
#define TYPE_PREF_RELAY 0

static const char ice_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* n random ice-chars; 256 % 64 == 0, so no bias */
static int rand_str(char *out, size_t n)
{
	uint8_t r[ICE_PWD_LEN];

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = ice_chars[r[i] & 63];
	out[n] = '\0';
	return 0;
}

static int new_creds(struct ice_agent *a)
{
	if (rand_str(a->ufrag, ICE_UFRAG_LEN) || rand_str(a->pwd, ICE_PWD_LEN))
		return -EIO;
	return 0;
}

static void set_state(struct ice_agent *a, enum ice_state s)
{
	if (a->state != s) {
		a->state = s;
		a->events |= ICE_EV_STATE;
	}
}

int ice_agent_init(struct ice_agent *a, bool lite, bool controlling, unsigned n_comp)
{
	memset(a, 0, sizeof(*a));
	if (n_comp < 1 || n_comp > ICE_MAX_COMP)
		return -EINVAL;
	a->lite = lite;
	a->controlling = controlling && !lite;
	a->n_comp = (uint8_t)n_comp;
	if (RAND_bytes((uint8_t *)&a->tiebreaker, sizeof(a->tiebreaker)) != 1)
		return -EIO;
	return new_creds(a);
}

/* ---- candidates ---- */

static uint32_t cand_prio(unsigned type_pref, unsigned local_pref, unsigned comp)
{
	return (uint32_t)type_pref << 24 | (uint32_t)local_pref << 8 | (256 - comp);
}

static bool same_family(const union sockaddr_u *x, const union sockaddr_u *y)
{
	return x->sa.sa_family == y->sa.sa_family;
}

static int add_pairs_for_local(struct ice_agent *a, unsigned li);
static int add_pairs_for_remote(struct ice_agent *a, unsigned ri);
static void update_state(struct ice_agent *a);

/* rtpengine's foundation format: 16 letters and digits, the same for one base address
 * (RFC 8445 5.1.1.3), here a hash of the address. */
static void foundation_of(const union sockaddr_u *addr, char *out, size_t size)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char ip[NETADDR_STRLEN];
	uint64_t h = 14695981039346656037ull;
	size_t i;

	netaddr_ntop(addr, ip, sizeof(ip));
	for (i = 0; ip[i]; i++)
		h = (h ^ (uint8_t)ip[i]) * 1099511628211ull;
	for (i = 0; i < 16 && i + 1 < size; i++) {
		out[i] = b62[h % 62];
		h = h / 62 ^ (h << 17) * 31;
	}
	out[i] = '\0';
}

/* Position of addr's IP among the distinct IPs of the local candidates (their number if
 * new): the local preference goes by base address, the first one highest, as
 * rtpengine's does. */
static unsigned ip_index(const struct ice_agent *a, const union sockaddr_u *addr)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->n_local; i++) {
		unsigned j = 0;

		while (j < i && !netaddr_ip_eq(&a->local[j].addr, &a->local[i].addr))
			j++;
		if (j < i)
			continue;               /* not the first candidate with this IP */
		if (netaddr_ip_eq(&a->local[i].addr, addr))
			return n;
		n++;
	}
	return n;
}

int ice_add_local(struct ice_agent *a, unsigned component, const union sockaddr_u *addr)
{
	return ice_add_local_type(a, component, addr, ICE_CAND_HOST);
}

int ice_add_local_type(struct ice_agent *a, unsigned component, const union sockaddr_u *addr,
		       enum ice_cand_type type)
{
	struct ice_cand *c;
	int ret;

	if (component < 1 || component > a->n_comp ||
	    (addr->sa.sa_family != AF_INET && addr->sa.sa_family != AF_INET6) ||
	    (type != ICE_CAND_HOST && type != ICE_CAND_RELAY))
		return -EINVAL;
	if (a->n_local >= ICE_MAX_LOCAL)
		return -ENOSPC;
	c = &a->local[a->n_local];
	memset(c, 0, sizeof(*c));
	c->addr = *addr;
	c->component = (uint8_t)component;
	c->type = type;
	c->priority = cand_prio(type == ICE_CAND_RELAY ? TYPE_PREF_RELAY : TYPE_PREF_HOST,
				65535 - ip_index(a, addr), component);
	foundation_of(addr, c->foundation, sizeof(c->foundation));
	a->n_local++;
	ret = add_pairs_for_local(a, a->n_local - 1u);
	return ret ? ret : a->n_local - 1;
}

static const char *type_name(enum ice_cand_type t)
{
	switch (t) {
	case ICE_CAND_SRFLX: return "srflx";
	case ICE_CAND_PRFLX: return "prflx";
	case ICE_CAND_RELAY: return "relay";
	default:             return "host";
	}
}

int ice_format_candidate(const struct ice_agent *a, unsigned i, char *buf, size_t size)
{
	const struct ice_cand *c;
	char ip[NETADDR_STRLEN];
	int n;

	if (i >= a->n_local)
		return -EINVAL;
	c = &a->local[i];
	netaddr_ntop(&c->addr, ip, sizeof(ip));
	if (c->type == ICE_CAND_HOST)
		n = snprintf(buf, size, "%s %u UDP %u %s %u typ host", c->foundation,
			     c->component, c->priority, ip, netaddr_port(&c->addr));
	else
		n = snprintf(buf, size, "%s %u UDP %u %s %u typ %s raddr %s rport %u",
			     c->foundation, c->component, c->priority, ip,
			     netaddr_port(&c->addr), type_name(c->type), ip,
			     netaddr_port(&c->addr));
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

/* Next blank-separated token of [*p, end). */
static bool tok(const char **p, const char *end, const char **t, size_t *tl)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	*t = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	*tl = (size_t)(*p - *t);
	return *tl > 0;
}

static int tok_num(const char *t, size_t tl, unsigned maxdig, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (tl == 0 || tl > maxdig)
		return -EINVAL;
	for (size_t i = 0; i < tl; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int ice_parse_candidate(const char *s, size_t len, struct ice_cand *out)
{
	const char *p = s, *end = s + len, *t;
	struct ice_cand c;
	size_t tl;
	uint64_t comp, prio, port;

	memset(&c, 0, sizeof(c));
	if (!tok(&p, end, &t, &tl) || tl > ICE_FOUNDATION_MAX)
		return -EINVAL;
	memcpy(c.foundation, t, tl);
	if (!tok(&p, end, &t, &tl) || tok_num(t, tl, 3, 256, &comp) || comp < 1)
		return -EINVAL;
	if (!tok(&p, end, &t, &tl))
		return -EINVAL;
	if (tl != 3 || strncasecmp(t, "UDP", 3))
		return -ENOTSUP;
	if (!tok(&p, end, &t, &tl) || tok_num(t, tl, 10, UINT32_MAX, &prio) || prio < 1)
		return -EINVAL;
	if (!tok(&p, end, &t, &tl) || tl >= NETADDR_STRLEN)
		return -EINVAL;
	if (netaddr_parse_ip(t, tl, 0, &c.addr))
		return -ENOTSUP;        /* FQDN / mDNS name: we do not resolve */
	if (!tok(&p, end, &t, &tl) || tok_num(t, tl, 5, 65535, &port))
		return -EINVAL;
	netaddr_set_port(&c.addr, (uint16_t)port);
	if (!tok(&p, end, &t, &tl) || tl != 3 || memcmp(t, "typ", 3) || !tok(&p, end, &t, &tl))
		return -EINVAL;
	if (tl == 4 && !memcmp(t, "host", 4))
		c.type = ICE_CAND_HOST;
	else if (tl == 5 && !memcmp(t, "srflx", 5))
		c.type = ICE_CAND_SRFLX;
	else if (tl == 5 && !memcmp(t, "prflx", 5))
		c.type = ICE_CAND_PRFLX;
	else if (tl == 5 && !memcmp(t, "relay", 5))
		c.type = ICE_CAND_RELAY;
	else
		return -EINVAL;
	/* raddr/rport, generation, network-id ... are extensions we do not need */
	c.component = (uint8_t)comp;
	c.priority = (uint32_t)prio;
	if (comp > 255)
		return -ENOTSUP;
	*out = c;
	return 0;
}

/* ---- pairs ---- */

static uint64_t pair_prio(const struct ice_agent *a, const struct ice_pair *p)
{
	uint64_t l = a->local[p->local].priority, r = a->remote[p->remote].priority;
	uint64_t g = a->controlling ? l : r, d = a->controlling ? r : l;

	return ((g < d ? g : d) << 32) + 2 * (g > d ? g : d) + (g > d ? 1 : 0);
}

static int add_pair(struct ice_agent *a, unsigned li, unsigned ri)
{
	struct ice_pair *p;

	if (a->lite)            /* answers only: no check list */
		return 0;
	if (a->local[li].component != a->remote[ri].component ||
	    !same_family(&a->local[li].addr, &a->remote[ri].addr))
		return 0;
	if (a->n_pairs >= ICE_MAX_PAIRS)
		return -ENOSPC;
	p = &a->pairs[a->n_pairs++];
	memset(p, 0, sizeof(*p));
	p->local = (uint8_t)li;
	p->remote = (uint8_t)ri;
	p->state = ICE_PAIR_WAITING;
	return 0;
}

static int add_pairs_for_local(struct ice_agent *a, unsigned li)
{
	int ret = 0;

	for (unsigned ri = 0; ri < a->n_remote && !ret; ri++)
		ret = add_pair(a, li, ri);
	return ret;
}

static int add_pairs_for_remote(struct ice_agent *a, unsigned ri)
{
	int ret = 0;

	for (unsigned li = 0; li < a->n_local && !ret; li++)
		ret = add_pair(a, li, ri);
	return ret;
}

static struct ice_pair *find_pair(struct ice_agent *a, unsigned li, unsigned ri)
{
	for (unsigned i = 0; i < a->n_pairs; i++)
		if (a->pairs[i].local == li && a->pairs[i].remote == ri)
			return &a->pairs[i];
	return NULL;
}

static int find_remote(const struct ice_agent *a, unsigned comp, const union sockaddr_u *addr)
{
	for (unsigned i = 0; i < a->n_remote; i++)
		if (a->remote[i].component == comp && netaddr_eq(&a->remote[i].addr, addr))
			return (int)i;
	return -1;
}

/* Returns the remote index, or a negative errno. */
static int remote_add(struct ice_agent *a, const struct ice_cand *c)
{
	int ri, ret;

	if (c->component < 1 || c->component > a->n_comp)
		return -ENOTSUP;
	ri = find_remote(a, c->component, &c->addr);
	if (ri >= 0) {
		/* a signalled candidate replaces what we learnt as peer-reflexive */
		if (a->remote[ri].type == ICE_CAND_PRFLX && c->type != ICE_CAND_PRFLX)
			a->remote[ri] = *c;
		return ri;
	}
	if (a->n_remote >= ICE_MAX_REMOTE)
		return -ENOSPC;
	a->remote[a->n_remote] = *c;
	ri = a->n_remote++;
	ret = add_pairs_for_remote(a, (unsigned)ri);
	return ret ? ret : ri;
}

int ice_add_remote(struct ice_agent *a, const struct ice_cand *c)
{
	int ri = remote_add(a, c);

	if (ri < 0)
		return ri;
	if (a->lite)
		return 0;
	if (a->state == ICE_NEW && a->rpwd[0])
		set_state(a, ICE_CHECKING);
	else if (a->state != ICE_NEW)
		update_state(a);        /* trickled after checks: failed -> checking */
	return 0;
}

/* ---- credentials / restart ---- */

static void reset_pairs(struct ice_agent *a)
{
	a->n_pairs = 0;
	for (unsigned c = 0; c < ICE_MAX_COMP; c++) {
		if (a->sel[c].set)
			a->events |= ICE_EV_SELECTED;
		memset(&a->sel[c], 0, sizeof(a->sel[c]));
		memset(&a->consent[c], 0, sizeof(a->consent[c]));
		a->valid_since[c] = 0;
	}
	set_state(a, ICE_NEW);
}

static void reset_checks(struct ice_agent *a)
{
	a->n_remote = 0;
	reset_pairs(a);
	a->rufrag[0] = a->rpwd[0] = '\0';
}

int ice_restart(struct ice_agent *a)
{
	reset_checks(a);
	a->events |= ICE_EV_RESTART;
	return new_creds(a);
}

int ice_restart_local(struct ice_agent *a)
{
	a->n_local = 0;
	reset_pairs(a);
	a->events |= ICE_EV_RESTART;
	return new_creds(a);
}

static bool cred_ok(const char *s, size_t len)
{
	if (len == 0 || len > ICE_CRED_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int ice_set_remote_creds(struct ice_agent *a, const char *ufrag, size_t ulen,
			 const char *pwd, size_t plen)
{
	bool had = a->rufrag[0] != '\0';
	int ret;

	if (!cred_ok(ufrag, ulen) || !cred_ok(pwd, plen))
		return -EINVAL;
	if (had && strlen(a->rufrag) == ulen && !memcmp(a->rufrag, ufrag, ulen) &&
	    strlen(a->rpwd) == plen && !memcmp(a->rpwd, pwd, plen))
		return 0;
	if (had) {
		ret = ice_restart(a);
		if (ret)
			return ret;
	}
	memcpy(a->rufrag, ufrag, ulen);
	a->rufrag[ulen] = '\0';
	memcpy(a->rpwd, pwd, plen);
	a->rpwd[plen] = '\0';
	if (!a->lite && a->state == ICE_NEW && a->n_pairs)
		set_state(a, ICE_CHECKING);
	return had ? 1 : 0;
}

static void set_controlling(struct ice_agent *a, bool controlling)
{
	if (a->controlling != controlling) {
		a->controlling = controlling;
		a->events |= ICE_EV_ROLE;
	}
}

void ice_set_remote_lite(struct ice_agent *a)
{
	a->remote_lite = true;
	if (!a->lite)
		set_controlling(a, true);
}

void ice_set_mode(struct ice_agent *a, bool lite, bool controlling)
{
	set_controlling(a, !lite && (controlling || a->remote_lite));
	if (a->lite == lite)
		return;
	a->lite = lite;
	a->n_pairs = 0;
	a->next_check_ms = 0;
	for (unsigned c = 0; c < ICE_MAX_COMP; c++) {
		/* full: consent on a selection starts at the next poll (no clock here) */
		memset(&a->consent[c], 0, sizeof(a->consent[c]));
		a->valid_since[c] = 0;
	}
	for (unsigned ri = 0; !lite && ri < a->n_remote; ri++)
		if (add_pairs_for_remote(a, ri))
			break;          /* full: the best we could pair */
	if (a->state != ICE_NEW)
		update_state(a);
	else if (!lite && a->rpwd[0] && a->n_pairs)
		set_state(a, ICE_CHECKING);
}

int ice_find_local(const struct ice_agent *a, unsigned comp, const union sockaddr_u *addr)
{
	for (unsigned i = 0; i < a->n_local; i++)
		if (a->local[i].component == comp && netaddr_eq(&a->local[i].addr, addr))
			return (int)i;
	return -ENOENT;
}

/* ---- state ---- */

/* RFC 7675 5.1: randomised to 0.8..1.2 of the interval so that checks do not align. */
static uint64_t consent_interval(void)
{
	uint8_t r;

	if (RAND_bytes(&r, 1) != 1)
		r = 128;
	return ICE_CONSENT_MS * 4 / 5 + (uint64_t)r * (ICE_CONSENT_MS * 2 / 5) / 255;
}

static void select_pair(struct ice_agent *a, unsigned comp, unsigned local,
			const union sockaddr_u *remote, uint64_t now_ms)
{
	struct ice_selected *s = &a->sel[comp - 1];
	struct ice_consent *k = &a->consent[comp - 1];

	if (!s->set || s->local != local || !netaddr_eq(&s->remote, remote)) {
		a->events |= ICE_EV_SELECTED;
		/* the check that selected it proved consent; lite agents only answer */
		memset(k, 0, sizeof(*k));
		if (!a->lite) {
			k->fresh_ms = now_ms;
			k->next_ms = now_ms + consent_interval();
		}
	}
	s->set = true;
	s->local = (uint8_t)local;
	s->remote = *remote;
}

static void nominate(struct ice_agent *a, struct ice_pair *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < a->n_pairs; i++)
		if (a->local[a->pairs[i].local].component == a->local[p->local].component)
			a->pairs[i].nominated = false;
	p->nominated = true;
	select_pair(a, a->local[p->local].component, p->local, &a->remote[p->remote].addr,
		    now_ms);
}

static void update_state(struct ice_agent *a)
{
	bool all_sel = true, all_valid = true, failed = false, lost = false;

	if (a->state == ICE_NEW && !a->lite && !a->n_pairs)
		return;
	for (unsigned c = 1; c <= a->n_comp; c++) {
		bool any = false, valid = false, pending = false;

		if (a->sel[c - 1].set && a->consent[c - 1].lost)
			lost = true;

		for (unsigned i = 0; i < a->n_pairs; i++) {
			const struct ice_pair *p = &a->pairs[i];

			if (a->local[p->local].component != c)
				continue;
			any = true;
			if (p->state == ICE_PAIR_SUCCEEDED)
				valid = true;
			else if (p->state != ICE_PAIR_FAILED)
				pending = true;
		}
		if (!a->sel[c - 1].set)
			all_sel = false;
		if (!valid)
			all_valid = false;
		if (!a->lite && any && !valid && !pending && !a->sel[c - 1].set)
			failed = true;
	}
	if (lost)
		set_state(a, ICE_DISCONNECTED);
	else if (all_sel)
		set_state(a, ICE_COMPLETED);
	else if (failed)
		set_state(a, ICE_FAILED);
	else if (!a->lite && all_valid)
		set_state(a, ICE_CONNECTED);
	else
		set_state(a, ICE_CHECKING);
}

/* ---- messages ---- */

static void trigger(struct ice_agent *a, struct ice_pair *p)
{
	if (p->state == ICE_PAIR_IN_PROGRESS || p->triggered)
		return;
	if (p->state == ICE_PAIR_FAILED)
		p->state = ICE_PAIR_WAITING;
	if (p->state == ICE_PAIR_WAITING)
		p->triggered = ++a->trig_seq;
}

static int respond(struct ice_agent *a, const struct stun_msg *m, unsigned local,
		   const union sockaddr_u *from, uint16_t err, struct ice_tx *tx)
{
	struct stun_builder b;
	int n;

	stun_build_init(&b, tx->buf, sizeof(tx->buf),
			err ? STUN_BINDING_ERROR : STUN_BINDING_SUCCESS, m->tid);
	if (err) {
		stun_add_error(&b, err, NULL);
		if (err == 420)
			stun_add_unknown(&b, m->unknown, m->n_unknown);
	} else {
		stun_add_xor_mapped(&b, from);
	}
	/* a request we could not authenticate gets no integrity (RFC 8489 9.1.3) */
	if (err != 400 && err != 401)
		stun_add_integrity(&b, a->pwd, strlen(a->pwd));
	stun_add_fingerprint(&b);
	n = stun_finish(&b);
	if (n < 0)
		return n;
	tx->len = (size_t)n;
	tx->local = local;
	tx->to = *from;
	return 1;
}

/* RFC 8445 7.3.1.1. Returns 487 to refuse, else 0 (possibly after switching role). */
static uint16_t role_conflict(struct ice_agent *a, const struct stun_msg *m)
{
	bool switch_role;

	if (a->controlling && m->controlling)
		switch_role = a->tiebreaker < m->tiebreaker;
	else if (!a->controlling && m->controlled)
		switch_role = !a->lite && a->tiebreaker >= m->tiebreaker;
	else
		return 0;
	if (!switch_role)
		return 487;
	a->controlling = !a->controlling;
	a->events |= ICE_EV_ROLE;
	return 0;
}

static int on_request(struct ice_agent *a, const struct stun_msg *m, unsigned local,
		      const union sockaddr_u *from, uint64_t now_ms, struct ice_tx *tx)
{
	unsigned comp = a->local[local].component;
	struct ice_pair *p;
	uint16_t err;
	int ri;

	if (!m->username || !m->mi_off) {
		a->stats.req_bad++;
		return respond(a, m, local, from, 400, tx);
	}
	if (!stun_username_is_for(m, a->ufrag) ||
	    stun_check_integrity(m, a->pwd, strlen(a->pwd))) {
		a->stats.req_unauth++;
		return respond(a, m, local, from, 401, tx);
	}
	if (m->n_unknown) {
		a->stats.req_bad++;
		return respond(a, m, local, from, 420, tx);
	}
	err = role_conflict(a, m);
	if (err) {
		a->stats.req_bad++;
		return respond(a, m, local, from, err, tx);
	}
	a->stats.req_ok++;

	if (a->lite) {
		if (m->use_candidate)
			select_pair(a, comp, local, from, now_ms);
		update_state(a);
		return respond(a, m, local, from, 0, tx);
	}

	ri = find_remote(a, comp, from);
	if (ri < 0) {           /* peer-reflexive: learn it (RFC 8445 7.3.1.3) */
		struct ice_cand c;

		memset(&c, 0, sizeof(c));
		c.addr = *from;
		c.component = (uint8_t)comp;
		c.type = ICE_CAND_PRFLX;
		c.priority = m->has_priority ? m->priority : cand_prio(TYPE_PREF_PRFLX, 0, comp);
		snprintf(c.foundation, sizeof(c.foundation), "prflx%u", a->n_remote);
		ri = remote_add(a, &c);
	}
	p = ri >= 0 ? find_pair(a, local, (unsigned)ri) : NULL;
	if (p) {
		if (m->use_candidate && !a->controlling) {
			if (p->state == ICE_PAIR_SUCCEEDED)
				nominate(a, p, now_ms);
			else
				p->nominate_on_success = true;
		}
		/* once completed, only a nomination elsewhere (the peer moved) is checked */
		if (p->state != ICE_PAIR_SUCCEEDED &&
		    ((a->state != ICE_COMPLETED && a->state != ICE_DISCONNECTED) ||
		     p->nominate_on_success))
			trigger(a, p);
	}
	update_state(a);
	return respond(a, m, local, from, 0, tx);
}

/* A response to the consent check of component c: fresh if it is a success from the
 * selected remote to the selected local candidate. */
static int on_consent(struct ice_agent *a, unsigned c, const struct stun_msg *m,
		      unsigned local, const union sockaddr_u *from, uint64_t now_ms)
{
	struct ice_consent *k = &a->consent[c];

	if (stun_check_integrity(m, a->rpwd, strlen(a->rpwd))) {
		a->stats.dropped++;
		return -EACCES;
	}
	k->pending = false;
	if (m->type == STUN_BINDING_ERROR) {
		a->stats.resp_err++;
		return 0;
	}
	a->stats.resp_ok++;
	if (local != a->sel[c].local || !netaddr_eq(from, &a->sel[c].remote))
		return 0;
	k->fresh_ms = now_ms;
	if (k->lost) {
		k->lost = false;
		update_state(a);
	}
	return 0;
}

static int on_response(struct ice_agent *a, const struct stun_msg *m, unsigned local,
		       const union sockaddr_u *from, uint64_t now_ms)
{
	struct ice_pair *p = NULL;
	unsigned comp;

	for (unsigned c = 0; c < a->n_comp; c++)
		if (a->consent[c].pending && a->sel[c].set &&
		    !memcmp(a->consent[c].tid, m->tid, STUN_TID_LEN))
			return on_consent(a, c, m, local, from, now_ms);
	for (unsigned i = 0; i < a->n_pairs && !p; i++)
		if (a->pairs[i].state == ICE_PAIR_IN_PROGRESS &&
		    !memcmp(a->pairs[i].tid, m->tid, STUN_TID_LEN))
			p = &a->pairs[i];
	if (!p) {
		a->stats.dropped++;
		return -ENOENT;
	}
	if (stun_check_integrity(m, a->rpwd, strlen(a->rpwd))) {
		a->stats.dropped++;
		return -EACCES;
	}
	comp = a->local[p->local].component;
	if (m->type == STUN_BINDING_ERROR) {
		a->stats.resp_err++;
		if (m->has_error && m->error_code == 487) {
			/* RFC 8445 7.2.5.1: switch and retry the same pair */
			a->controlling = !a->controlling;
			a->events |= ICE_EV_ROLE;
			p->state = ICE_PAIR_WAITING;
			p->use_cand = false;
			trigger(a, p);
		} else {
			p->state = ICE_PAIR_FAILED;
		}
		update_state(a);
		return 0;
	}
	a->stats.resp_ok++;
	/* symmetric: the answer must come from where we sent, to where we sent from */
	if (local != p->local || !netaddr_eq(from, &a->remote[p->remote].addr)) {
		p->state = ICE_PAIR_FAILED;
		update_state(a);
		return 0;
	}
	p->state = ICE_PAIR_SUCCEEDED;
	p->valid = true;
	p->triggered = 0;
	/* kept in either role: a later role switch may make us the nominating side */
	if (!a->valid_since[comp - 1])
		a->valid_since[comp - 1] = now_ms ? now_ms : 1;
	if ((a->controlling && p->use_cand) || (!a->controlling && p->nominate_on_success))
		nominate(a, p, now_ms);
	p->use_cand = false;
	update_state(a);
	return 0;
}

int ice_input(struct ice_agent *a, unsigned local, const union sockaddr_u *from,
	      const uint8_t *pkt, size_t len, uint64_t now_ms, struct ice_tx *tx)
{
	struct stun_msg m;

	if (local >= a->n_local || stun_parse(pkt, len, &m)) {
		a->stats.dropped++;
		return -EINVAL;
	}
	switch (m.type) {
	case STUN_BINDING_REQUEST:
		return on_request(a, &m, local, from, now_ms, tx);
	case STUN_BINDING_SUCCESS:
	case STUN_BINDING_ERROR:
		return on_response(a, &m, local, from, now_ms);
	case STUN_BINDING_INDICATION:
		return 0;
	default:
		a->stats.dropped++;
		return -ENOTSUP;
	}
}

/* ---- our checks ---- */

/* A binding request from local candidate li to `to`: a check, or a consent check. */
static int build_request(struct ice_agent *a, unsigned li, const union sockaddr_u *to,
			 const uint8_t *tid, bool use_cand, struct ice_tx *tx)
{
	const struct ice_cand *l = &a->local[li];
	char user[ICE_CRED_MAX + 1 + ICE_UFRAG_LEN + 1];
	struct stun_builder b;
	int n;

	n = snprintf(user, sizeof(user), "%s:%s", a->rufrag, a->ufrag);
	stun_build_init(&b, tx->buf, sizeof(tx->buf), STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, user, (size_t)n);
	stun_add_priority(&b, cand_prio(TYPE_PREF_PRFLX, (l->priority >> 8) & 0xffff,
					l->component));
	stun_add_ice_role(&b, a->controlling, a->tiebreaker);
	if (a->controlling && use_cand)
		stun_add_use_candidate(&b);
	stun_add_integrity(&b, a->rpwd, strlen(a->rpwd));
	stun_add_fingerprint(&b);
	n = stun_finish(&b);
	if (n < 0)
		return n;
	tx->len = (size_t)n;
	tx->local = li;
	tx->to = *to;
	a->stats.checks_sent++;
	return 1;
}

static int build_check(struct ice_agent *a, struct ice_pair *p, struct ice_tx *tx)
{
	return build_request(a, p->local, &a->remote[p->remote].addr, p->tid, p->use_cand, tx);
}

/* Consent (RFC 7675) on each selected pair: declare it lost when no response came for
 * ICE_CONSENT_LOST_MS, and send the next check when due (also while lost: a response
 * brings it back). */
static int consent_poll(struct ice_agent *a, uint64_t now_ms, struct ice_tx *tx)
{
	for (unsigned c = 0; c < a->n_comp; c++) {
		struct ice_consent *k = &a->consent[c];

		if (!a->sel[c].set)
			continue;
		if (!k->next_ms) {      /* selected while lite: fresh from now on */
			k->fresh_ms = now_ms;
			k->next_ms = now_ms + consent_interval();
			continue;
		}
		if (!k->lost && now_ms >= k->fresh_ms + ICE_CONSENT_LOST_MS) {
			k->lost = true;
			a->stats.consent_lost++;
			update_state(a);
		}
		if (now_ms < k->next_ms)
			continue;
		k->next_ms = now_ms + consent_interval();
		if (stun_new_tid(k->tid))
			return -EIO;
		k->pending = true;
		a->stats.consent_sent++;
		return build_request(a, a->sel[c].local, &a->sel[c].remote, k->tid, false, tx);
	}
	return 0;
}

/* RFC 8445 14.3: the first wait is Ta times the checks still to make (Waiting and
 * In-Progress, this one included), at least ICE_RTO_MIN_MS, so that a long list does
 * not retransmit before its last pair had its first check. */
static uint32_t first_rto(const struct ice_agent *a)
{
	uint32_t n = 0, t;

	for (unsigned i = 0; i < a->n_pairs; i++)
		if (a->pairs[i].state == ICE_PAIR_WAITING ||
		    a->pairs[i].state == ICE_PAIR_IN_PROGRESS)
			n++;
	t = ICE_TA_MS * n;
	return t < ICE_RTO_MIN_MS ? ICE_RTO_MIN_MS : t;
}

static int start_check(struct ice_agent *a, struct ice_pair *p, uint64_t now_ms,
		       struct ice_tx *tx)
{
	if (stun_new_tid(p->tid))
		return -EIO;
	p->rto_ms = first_rto(a);
	p->state = ICE_PAIR_IN_PROGRESS;
	p->triggered = 0;
	p->tx = 1;
	p->next_ms = now_ms + p->rto_ms;
	a->next_check_ms = now_ms + ICE_TA_MS;
	return build_check(a, p, tx);
}

/* The wait after each retransmission doubles up to ICE_RTO_MAX_MS (or the first wait,
 * if that was longer already). */
static int retransmit(struct ice_agent *a, struct ice_pair *p, uint64_t now_ms,
		      struct ice_tx *tx)
{
	uint32_t cap = p->rto_ms > ICE_RTO_MAX_MS ? p->rto_ms : ICE_RTO_MAX_MS;

	p->rto_ms = 2 * p->rto_ms > cap ? cap : 2 * p->rto_ms;
	p->tx++;
	p->next_ms = now_ms + p->rto_ms;
	return build_check(a, p, tx);
}

/* Controlling, component c: when to nominate and which pair. Once a pair is valid and
 * nothing better is pending, at once; else after ICE_NOMINATE_WAIT_MS. UINT64_MAX if
 * there is nothing to do (selected, no valid pair, or a nomination in flight). */
static uint64_t nominate_at(const struct ice_agent *a, unsigned c, int *best_i)
{
	const struct ice_pair *best = NULL;
	bool better_pending = false;

	if (!a->controlling || a->sel[c - 1].set || !a->valid_since[c - 1])
		return UINT64_MAX;
	for (unsigned i = 0; i < a->n_pairs; i++) {
		const struct ice_pair *p = &a->pairs[i];

		if (a->local[p->local].component != c)
			continue;
		if (p->use_cand)
			return UINT64_MAX;
		if (p->state == ICE_PAIR_SUCCEEDED && (!best || pair_prio(a, p) > pair_prio(a, best)))
			best = p;
	}
	if (!best)
		return UINT64_MAX;
	for (unsigned i = 0; i < a->n_pairs; i++) {
		const struct ice_pair *p = &a->pairs[i];

		if (a->local[p->local].component == c &&
		    (p->state == ICE_PAIR_WAITING || p->state == ICE_PAIR_IN_PROGRESS) &&
		    pair_prio(a, p) > pair_prio(a, best))
			better_pending = true;
	}
	*best_i = (int)(best - a->pairs);
	return better_pending ? a->valid_since[c - 1] + ICE_NOMINATE_WAIT_MS : 0;
}

/* Re-check the chosen pair with USE-CANDIDATE, as a triggered check. */
static void maybe_nominate(struct ice_agent *a, uint64_t now_ms)
{
	for (unsigned c = 1; c <= a->n_comp; c++) {
		struct ice_pair *best;
		int bi = -1;

		if (nominate_at(a, c, &bi) > now_ms || bi < 0)
			continue;
		best = &a->pairs[bi];
		best->use_cand = true;
		best->state = ICE_PAIR_WAITING;
		best->triggered = ++a->trig_seq;
	}
}

/* The check list order: triggered checks first, oldest first (RFC 8445 6.1.4.2),
 * then the Waiting pair of highest priority (6.1.4.2 step 2). Once completed, only
 * the triggered check of a pair the peer nominated anew. */
static struct ice_pair *next_pair(struct ice_agent *a, bool renominated_only)
{
	struct ice_pair *best = NULL;

	for (unsigned i = 0; i < a->n_pairs; i++) {
		struct ice_pair *p = &a->pairs[i];

		if (p->state != ICE_PAIR_WAITING ||
		    (renominated_only && !(p->triggered && p->nominate_on_success)))
			continue;
		if (!best ||
		    (p->triggered && (!best->triggered || p->triggered < best->triggered)) ||
		    (!p->triggered && !best->triggered && pair_prio(a, p) > pair_prio(a, best)))
			best = p;
	}
	return best;
}

int ice_poll(struct ice_agent *a, uint64_t now_ms, struct ice_tx *tx)
{
	struct ice_pair *p;
	bool done;
	int ret;

	if (a->lite || !a->rpwd[0])
		return 0;
	for (unsigned i = 0; i < a->n_pairs; i++) {
		p = &a->pairs[i];
		if (p->state != ICE_PAIR_IN_PROGRESS || p->next_ms > now_ms)
			continue;
		if (p->tx >= ICE_MAX_TX) {
			p->state = ICE_PAIR_FAILED;
			p->use_cand = false;
			update_state(a);
			continue;
		}
		return retransmit(a, p, now_ms, tx);
	}
	ret = consent_poll(a, now_ms, tx);
	if (ret)
		return ret;
	done = a->state == ICE_COMPLETED || a->state == ICE_DISCONNECTED;
	if (a->controlling && !done)
		maybe_nominate(a, now_ms);
	if (now_ms < a->next_check_ms)
		return 0;
	/* once completed only a nomination the peer moved elsewhere is checked */
	p = next_pair(a, done);
	if (!p)
		return 0;
	if (a->state == ICE_NEW)
		set_state(a, ICE_CHECKING);
	return start_check(a, p, now_ms, tx);
}

uint64_t ice_next_timeout(const struct ice_agent *a)
{
	uint64_t t = UINT64_MAX;
	bool waiting = false, done;

	if (a->lite || !a->rpwd[0])
		return t;
	done = a->state == ICE_COMPLETED || a->state == ICE_DISCONNECTED;
	for (unsigned i = 0; i < a->n_pairs; i++) {
		const struct ice_pair *p = &a->pairs[i];

		if (p->state == ICE_PAIR_IN_PROGRESS && p->next_ms < t)
			t = p->next_ms;
		if (p->state == ICE_PAIR_WAITING &&
		    (!done || (p->triggered && p->nominate_on_success)))
			waiting = true;
	}
	if (waiting && a->next_check_ms < t)
		t = a->next_check_ms;
	for (unsigned c = 0; c < a->n_comp; c++) {
		const struct ice_consent *k = &a->consent[c];

		if (!a->sel[c].set)
			continue;
		if (!k->next_ms)
			return 0;       /* consent not started yet: at once */
		if (k->next_ms < t)
			t = k->next_ms;
		if (!k->lost && k->fresh_ms + ICE_CONSENT_LOST_MS < t)
			t = k->fresh_ms + ICE_CONSENT_LOST_MS;
	}
	if (!done) {
		for (unsigned c = 1; c <= a->n_comp; c++) {
			int bi;
			uint64_t n = nominate_at(a, c, &bi);

			if (n < t)
				t = n;
		}
	}
	return t;
}

int ice_selected(const struct ice_agent *a, unsigned comp, unsigned *local,
		 union sockaddr_u *remote)
{
	if (comp < 1 || comp > a->n_comp || !a->sel[comp - 1].set)
		return -ENOENT;
	if (local)
		*local = a->sel[comp - 1].local;
	if (remote)
		*remote = a->sel[comp - 1].remote;
	return 0;
}

unsigned ice_take_events(struct ice_agent *a)
{
	unsigned e = a->events;

	a->events = 0;
	return e;
}

const char *ice_state_name(enum ice_state s)
{
	switch (s) {
	case ICE_NEW:       return "new";
	case ICE_CHECKING:  return "checking";
	case ICE_CONNECTED: return "connected";
	case ICE_COMPLETED: return "completed";
	case ICE_FAILED:    return "failed";
	case ICE_DISCONNECTED: return "disconnected";
	}
	return "?";
}
