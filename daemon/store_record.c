/* A call record <-> JSON (json-c). Format: docs/redis.md. */
#include "store_record.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define STORE_MAX_DEPTH 16              /* records nest 4 deep; NG requests a few more */

void store_call_free(struct store_call *c)
{
	if (!c)
		return;
	free(c->callid);
	for (unsigned i = 0; i < c->n_parties; i++)
		free(c->parties[i].media);
	free(c->parties);
	for (unsigned i = 0; i < c->n_ng; i++)
		free(c->ng[i]);
	memset(c, 0, sizeof(*c));
}

/* ---- to JSON ---- */

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_bool(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_addr(json_object *o, const char *k, const union sockaddr_u *a)
{
	char buf[NETADDR_STRLEN];

	if (a->sa.sa_family)
		add_str(o, k, netaddr_str(a, buf, sizeof(buf)));
}

static json_object *ep_json(const struct store_ep *e)
{
	json_object *o = json_object_new_object();

	add_addr(o, "advertised", &e->advertised);
	add_addr(o, "endpoint", &e->endpoint);
	add_bool(o, "latched", e->latched);
	add_bool(o, "confirmed", e->confirmed);
	if (e->has_stats) {
		json_object *st = json_object_new_array();

		json_object_array_add(st, json_object_new_int64((int64_t)e->packets));
		json_object_array_add(st, json_object_new_int64((int64_t)e->bytes));
		json_object_array_add(st, json_object_new_int64((int64_t)e->errors));
		json_object_object_add(o, "stats", st);
	}
	return o;
}

/* [[ssrc, SRTP index or -1, SRTCP index or -1], ...] */
static json_object *srtp_json(const struct srtpw_ssrc_state *st, unsigned n)
{
	json_object *l = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		json_object *e = json_object_new_array();

		json_object_array_add(e, json_object_new_int64(st[i].ssrc));
		json_object_array_add(e, json_object_new_int64(st[i].has_rtp ?
							       (int64_t)st[i].rtp_index : -1));
		json_object_array_add(e, json_object_new_int64(st[i].has_rtcp ?
							       (int64_t)st[i].rtcp_index : -1));
		json_object_array_add(l, e);
	}
	return l;
}

static json_object *media_json(const struct store_media *m)
{
	json_object *o = json_object_new_object(), *l = json_object_new_array();

	add_int(o, "index", m->index);
	add_str(o, "type", m->type);
	add_str(o, "interface", m->iface);
	add_int(o, "port", m->port);
	add_str(o, "codec", m->codec);
	add_bool(o, "transcoding", m->transcoding);
	add_bool(o, "rtcp-mux", m->rtcp_mux);
	add_int(o, "transport", m->transport);
	json_object_object_add(o, "rtp", ep_json(&m->rtp));
	json_object_object_add(o, "rtcp", ep_json(&m->rtcp));
	for (unsigned i = 0; i < m->n_sdes; i++)
		json_object_array_add(l, json_object_new_string(m->sdes[i]));
	json_object_object_add(o, "sdes", l);
	if (m->ice_ufrag[0]) {
		add_str(o, "ice-ufrag", m->ice_ufrag);
		add_str(o, "ice-pwd", m->ice_pwd);
	}
	if (m->n_srtp_rx || m->n_srtp_tx) {
		json_object *sr = json_object_new_object();

		json_object_object_add(sr, "rx", srtp_json(m->srtp_rx, m->n_srtp_rx));
		json_object_object_add(sr, "tx", srtp_json(m->srtp_tx, m->n_srtp_tx));
		json_object_object_add(o, "srtp", sr);
	}
	return o;
}

static json_object *party_json(const struct store_party *p)
{
	json_object *o = json_object_new_object(), *t = json_object_new_array();
	json_object *m = json_object_new_array(), *op = json_object_new_object();

	for (unsigned i = 0; i < p->n_tags; i++)
		json_object_array_add(t, json_object_new_string(p->tags[i]));
	json_object_object_add(o, "tags", t);
	add_str(o, "peer-tag", p->peer_tag);
	add_str(o, "label", p->label);
	add_bool(op, "strict-source", p->opts.strict_source);
	add_bool(op, "asymmetric", p->opts.asymmetric);
	add_bool(op, "port-latching", p->opts.port_latching);
	add_bool(op, "media-handover", p->opts.media_handover);
	add_int(op, "block", p->opts.block);
	json_object_object_add(o, "options", op);
	for (unsigned i = 0; i < p->n_media; i++)
		json_object_array_add(m, media_json(&p->media[i]));
	json_object_object_add(o, "media", m);
	return o;
}

char *store_call_to_json(const struct store_call *c, const char *instance)
{
	json_object *o = json_object_new_object(), *p = json_object_new_array();
	json_object *ng = json_object_new_array();
	char *out = NULL;

	if (!o || !p || !ng)
		goto out;
	add_int(o, "version", STORE_VERSION);
	add_str(o, "instance", instance);
	add_str(o, "call-id", c->callid);
	add_int(o, "created", c->created);
	add_bool(o, "recording", c->recording);
	for (unsigned i = 0; i < c->n_parties; i++)
		json_object_array_add(p, party_json(&c->parties[i]));
	json_object_object_add(o, "parties", p);
	p = NULL;
	for (unsigned i = 0; i < c->n_ng; i++)
		json_object_array_add(ng, json_tokener_parse(c->ng[i]));
	json_object_object_add(o, "ng", ng);
	ng = NULL;
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(p);
	json_object_put(ng);
	json_object_put(o);
	return out;
}

/* ---- from JSON ---- */

struct rd {
	const char *err;
};

static json_object *member(json_object *o, const char *k, json_type t)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* Copy string member k into dst[cap]; absent is "" unless required. */
static int get_str(struct rd *r, json_object *o, const char *k, char *dst, size_t cap,
		   bool required)
{
	json_object *v = member(o, k, json_type_string);
	size_t len;

	dst[0] = '\0';
	if (!v) {
		if (required || json_object_object_get_ex(o, k, NULL))
			return r->err = "missing or mistyped string member", -EINVAL;
		return 0;
	}
	len = (size_t)json_object_get_string_len(v);
	if (len >= cap || memchr(json_object_get_string(v), '\0', len))
		return r->err = "string member too long", -EINVAL;
	memcpy(dst, json_object_get_string(v), len + 1);
	return 0;
}

static int get_int(struct rd *r, json_object *o, const char *k, int64_t lo, int64_t hi,
		   int64_t *out)
{
	json_object *v = member(o, k, json_type_int);

	if (!v)
		return r->err = "missing or mistyped integer member", -EINVAL;
	*out = json_object_get_int64(v);
	if (*out < lo || *out > hi)
		return r->err = "integer member out of range", -EINVAL;
	return 0;
}

static int get_bool(struct rd *r, json_object *o, const char *k, bool *out)
{
	json_object *v = member(o, k, json_type_boolean);

	if (!v)
		return r->err = "missing or mistyped boolean member", -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_addr(struct rd *r, json_object *o, const char *k, union sockaddr_u *a)
{
	char buf[NETADDR_STRLEN];

	memset(a, 0, sizeof(*a));
	if (get_str(r, o, k, buf, sizeof(buf), false))
		return -EINVAL;
	if (buf[0] && (netaddr_parse(buf, 0, false, a) || !netaddr_port(a)))
		return r->err = "bad address", -EINVAL;
	return 0;
}

/* Array l of exactly n integers in [lo, hi]. */
static int int_array(struct rd *r, json_object *l, size_t n, int64_t lo, int64_t hi,
		     int64_t *out)
{
	if (!json_object_is_type(l, json_type_array) || json_object_array_length(l) != n)
		return r->err = "bad integer array", -EINVAL;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(l, i);

		if (!json_object_is_type(v, json_type_int))
			return r->err = "bad integer array", -EINVAL;
		out[i] = json_object_get_int64(v);
		if (out[i] < lo || out[i] > hi)
			return r->err = "integer array member out of range", -EINVAL;
	}
	return 0;
}

static int ep_from(struct rd *r, json_object *o, struct store_ep *e)
{
	int64_t st[3];

	if (!o)
		return r->err = "missing stream", -EINVAL;
	if (get_addr(r, o, "advertised", &e->advertised) ||
	    get_addr(r, o, "endpoint", &e->endpoint) || get_bool(r, o, "latched", &e->latched) ||
	    get_bool(r, o, "confirmed", &e->confirmed) ||
	    (json_object_object_get_ex(o, "stats", NULL) &&
	     int_array(r, json_object_object_get(o, "stats"), 3, 0, INT64_MAX, st)))
		return -EINVAL;
	e->has_stats = json_object_object_get_ex(o, "stats", NULL);
	if (e->has_stats) {
		e->packets = (uint64_t)st[0];
		e->bytes = (uint64_t)st[1];
		e->errors = (uint64_t)st[2];
	}
	return 0;
}

static int srtp_dir_from(struct rd *r, json_object *l, struct srtpw_ssrc_state *st,
			 unsigned *n)
{
	size_t len = l ? json_object_array_length(l) : 0;

	if (!l || len > STORE_MAX_SRTP)
		return r->err = "bad srtp list", -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int64_t v[3];

		if (int_array(r, json_object_array_get_idx(l, i), 3, -1, (1ll << 48) - 1, v) ||
		    v[0] < 0 || v[0] > UINT32_MAX || v[2] > 0x7fffffff)
			return r->err = "bad srtp entry", -EINVAL;
		st[i] = (struct srtpw_ssrc_state){
			.ssrc = (uint32_t)v[0], .has_rtp = v[1] >= 0,
			.rtp_index = v[1] >= 0 ? (uint64_t)v[1] : 0, .has_rtcp = v[2] >= 0,
			.rtcp_index = v[2] >= 0 ? (uint32_t)v[2] : 0,
		};
	}
	*n = (unsigned)len;
	return 0;
}

static int srtp_from(struct rd *r, json_object *o, struct store_media *m)
{
	json_object *sr;

	if (!json_object_object_get_ex(o, "srtp", NULL))
		return 0;
	if (!(sr = member(o, "srtp", json_type_object)))
		return r->err = "bad srtp member", -EINVAL;
	return srtp_dir_from(r, member(sr, "rx", json_type_array), m->srtp_rx, &m->n_srtp_rx) ||
	       srtp_dir_from(r, member(sr, "tx", json_type_array), m->srtp_tx, &m->n_srtp_tx) ?
	       -EINVAL : 0;
}

static int sdes_from(struct rd *r, json_object *l, struct store_media *m)
{
	size_t n = l ? json_object_array_length(l) : 0;

	if (!l || n > STORE_MAX_SDES)
		return r->err = "bad sdes list", -EINVAL;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(l, i);
		struct sdes_crypto sc;
		size_t len;

		if (!json_object_is_type(v, json_type_string))
			return r->err = "bad sdes entry", -EINVAL;
		len = (size_t)json_object_get_string_len(v);
		if (len >= SDES_VALUE_MAX || sdes_parse(json_object_get_string(v), len, &sc))
			return r->err = "bad sdes entry", -EINVAL;
		memcpy(m->sdes[i], json_object_get_string(v), len + 1);
	}
	m->n_sdes = (unsigned)n;
	return 0;
}

static int media_from(struct rd *r, json_object *o, struct store_media *m)
{
	int64_t v;

	if (!json_object_is_type(o, json_type_object))
		return r->err = "media is not an object", -EINVAL;
	if (get_int(r, o, "index", 1, SDP_MAX_MEDIA, &v))
		return -EINVAL;
	m->index = (unsigned)v;
	if (get_int(r, o, "port", 1, 65534, &v))
		return -EINVAL;
	m->port = (uint16_t)v;
	if (get_int(r, o, "transport", 0, 2, &v))
		return -EINVAL;
	m->transport = (uint8_t)v;
	if (get_str(r, o, "type", m->type, sizeof(m->type), true) ||
	    get_str(r, o, "interface", m->iface, sizeof(m->iface), true) ||
	    get_str(r, o, "codec", m->codec, sizeof(m->codec), true) ||
	    get_bool(r, o, "transcoding", &m->transcoding) ||
	    get_bool(r, o, "rtcp-mux", &m->rtcp_mux) ||
	    ep_from(r, member(o, "rtp", json_type_object), &m->rtp) ||
	    ep_from(r, member(o, "rtcp", json_type_object), &m->rtcp) ||
	    sdes_from(r, member(o, "sdes", json_type_array), m) ||
	    get_str(r, o, "ice-ufrag", m->ice_ufrag, sizeof(m->ice_ufrag), false) ||
	    get_str(r, o, "ice-pwd", m->ice_pwd, sizeof(m->ice_pwd), false) ||
	    srtp_from(r, o, m))
		return -EINVAL;
	if (!m->ice_ufrag[0] != !m->ice_pwd[0])
		return r->err = "ICE ufrag without pwd", -EINVAL;
	return 0;
}

static int opts_from(struct rd *r, json_object *o, struct party_opts *p)
{
	int64_t v;

	if (!o)
		return r->err = "missing options", -EINVAL;
	if (get_bool(r, o, "strict-source", &p->strict_source) ||
	    get_bool(r, o, "asymmetric", &p->asymmetric) ||
	    get_bool(r, o, "port-latching", &p->port_latching) ||
	    get_bool(r, o, "media-handover", &p->media_handover) ||
	    get_int(r, o, "block", 0, 7, &v))
		return -EINVAL;
	p->block = (uint8_t)v;
	return 0;
}

static int party_from(struct rd *r, json_object *o, struct store_party *p)
{
	json_object *t, *m;
	size_t nt, nm;

	if (!json_object_is_type(o, json_type_object))
		return r->err = "party is not an object", -EINVAL;
	t = member(o, "tags", json_type_array);
	m = member(o, "media", json_type_array);
	nt = t ? json_object_array_length(t) : 0;
	nm = m ? json_object_array_length(m) : 0;
	if (!t || !m || nt > CALL_MAX_TAGS || nm > SDP_MAX_MEDIA)
		return r->err = "bad tags or media list", -EINVAL;
	for (size_t i = 0; i < nt; i++) {
		json_object *v = json_object_array_get_idx(t, i);
		size_t len;

		if (!json_object_is_type(v, json_type_string) ||
		    (len = (size_t)json_object_get_string_len(v)) >= CALL_TAG_MAX || !len)
			return r->err = "bad tag", -EINVAL;
		memcpy(p->tags[i], json_object_get_string(v), len + 1);
	}
	p->n_tags = (unsigned)nt;
	if (get_str(r, o, "peer-tag", p->peer_tag, sizeof(p->peer_tag), true) ||
	    get_str(r, o, "label", p->label, sizeof(p->label), true) ||
	    opts_from(r, member(o, "options", json_type_object), &p->opts))
		return -EINVAL;
	if (nm && !(p->media = calloc(nm, sizeof(*p->media))))
		return -ENOMEM;
	for (size_t i = 0; i < nm; i++) {
		int e = media_from(r, json_object_array_get_idx(m, i), &p->media[i]);

		p->n_media = (unsigned)i + 1;
		if (e)
			return e;
	}
	return 0;
}

static int ng_from(struct rd *r, json_object *l, struct store_call *c)
{
	size_t n = l ? json_object_array_length(l) : 0;

	if (!l || n > STORE_MAX_REPLAY)
		return r->err = "bad ng list", -EINVAL;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(l, i);
		const char *s;

		if (!json_object_is_type(v, json_type_object))
			return r->err = "ng request is not an object", -EINVAL;
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		if (!s || strlen(s) > STORE_NG_MAX)
			return r->err = "ng request too large", -EINVAL;
		if (!(c->ng[i] = strdup(s)))
			return -ENOMEM;
		c->n_ng = (unsigned)i + 1;
	}
	return 0;
}

static int call_from(struct rd *r, json_object *o, struct store_call *c)
{
	json_object *p;
	char id[STORE_CALLID_MAX];
	size_t n;
	int64_t v;

	if (!json_object_is_type(o, json_type_object))
		return r->err = "not a JSON object", -EINVAL;
	if (get_int(r, o, "version", 0, INT32_MAX, &v))
		return -EINVAL;
	if (v != STORE_VERSION)
		return r->err = "record of another version", -EINVAL;
	if (get_str(r, o, "call-id", id, sizeof(id), true) ||
	    get_int(r, o, "created", 0, INT64_MAX, &c->created) ||
	    get_bool(r, o, "recording", &c->recording))
		return -EINVAL;
	if (!id[0])
		return r->err = "empty call-id", -EINVAL;
	if (!(c->callid = strdup(id)))
		return -ENOMEM;
	p = member(o, "parties", json_type_array);
	n = p ? json_object_array_length(p) : 0;
	if (!p || n > STORE_MAX_PARTIES)
		return r->err = "bad party list", -EINVAL;
	if (n && !(c->parties = calloc(n, sizeof(*c->parties))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int e = party_from(r, json_object_array_get_idx(p, i), &c->parties[i]);

		c->n_parties = (unsigned)i + 1;
		if (e)
			return e;
	}
	return ng_from(r, member(o, "ng", json_type_array), c);
}

int store_call_from_json(const char *buf, size_t len, struct store_call *c, const char **err)
{
	struct json_tokener *tok = json_tokener_new_ex(STORE_MAX_DEPTH);
	struct rd r = { .err = "malformed JSON" };
	json_object *o = NULL;
	int e = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len <= INT32_MAX)
		o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == len)
		e = call_from(&r, o, c);
	json_object_put(o);
	json_tokener_free(tok);
	if (e) {
		store_call_free(c);
		*err = e == -ENOMEM ? "out of memory" : r.err;
	}
	return e;
}
