/* SDP parsing: split into lines, classify, and record the per-section facts a relay
 * needs. Every read is bounded by the body length; nothing here assumes NUL-terminated
 * input. */
#include "sluice/sdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdp_internal.h"

struct parse_ctx {
	struct sdp *sdp;
	struct sdp_media *cur;      /* NULL while in the session part */
	const char *why;            /* static reason of the first error */
};

/* The reason names the line, so it cannot be a string literal; one buffer per thread
 * keeps sdp_parse() reentrant across threads. */
static __thread char sdp_errbuf[128];

static int parse_fail(const char **err, int rc, unsigned lineno, const char *why)
{
	if (err) {
		if (lineno) {
			snprintf(sdp_errbuf, sizeof(sdp_errbuf), "line %u: %s", lineno, why);
			*err = sdp_errbuf;
		} else {
			*err = why;
		}
	}
	return rc;
}

/* Characters of an address or hostname; keeps control bytes, NULs and separators out
 * of the NUL-terminated copy. */
static bool addr_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == ':' || c == '-' || c == '_' || c == '%';
}

static bool addr_copy(char *dst, struct sdp_str a)
{
	if (a.len == 0 || a.len >= SDP_ADDR_MAX)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (!addr_char(a.s[i]))
			return false;
	memcpy(dst, a.s, a.len);
	dst[a.len] = '\0';
	return true;
}

static enum sdp_af parse_af(struct sdp_str t)
{
	if (sdp_str_eq(t, "IP4"))
		return SDP_AF_IP4;
	if (sdp_str_eq(t, "IP6"))
		return SDP_AF_IP6;
	return SDP_AF_NONE;
}

/* "/ttl" or "/ttl/n" (IP4 multicast) or "/n" (IP6 multicast): digits only. */
static bool conn_suffix_ok(const char *s, const char *end)
{
	unsigned parts = 0;

	while (s < end) {
		const char *d;

		if (*s != '/' || ++parts > 2)
			return false;
		d = ++s;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
		if (s == d)
			return false;
	}
	return true;
}

/* "IN IP4 addr[/ttl[/n]]" or "IN IP6 addr[/n]"; the suffix is not kept. */
static const char *parse_conn(struct sdp_str v, struct sdp_conn *c)
{
	const char *p = v.s, *end = v.s + v.len, *slash;
	struct sdp_str net, type, addr, extra;

	if (!sdp_tok(&p, end, &net) || !sdp_tok(&p, end, &type) || !sdp_tok(&p, end, &addr))
		return "malformed connection address";
	if (sdp_tok(&p, end, &extra))
		return "trailing text after connection address";
	if (!sdp_str_eq(net, "IN"))
		return "unsupported network type (not IN)";
	c->af = parse_af(type);
	if (c->af == SDP_AF_NONE)
		return "unknown address type (not IP4/IP6)";
	slash = memchr(addr.s, '/', addr.len);
	if (slash) {
		if (!conn_suffix_ok(slash, addr.s + addr.len))
			return "malformed multicast suffix";
		addr.len = (size_t)(slash - addr.s);
	}
	if (!addr_copy(c->addr, addr))
		return "invalid or too long address";
	c->present = true;
	return NULL;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(struct parse_ctx *x, struct sdp_str v)
{
	struct sdp_origin *o = &x->sdp->origin;
	const char *p = v.s, *end = v.s + v.len;
	struct sdp_str type, addr, extra;

	if (x->cur) {
		x->why = "o= inside a media section";
		return -EINVAL;
	}
	if (o->present) {
		x->why = "duplicate o= line";
		return -EINVAL;
	}
	if (!sdp_tok(&p, end, &o->username) || !sdp_tok(&p, end, &o->sess_id) ||
	    !sdp_tok(&p, end, &o->sess_version) || !sdp_tok(&p, end, &o->nettype) ||
	    !sdp_tok(&p, end, &type) || !sdp_tok(&p, end, &addr) || sdp_tok(&p, end, &extra)) {
		x->why = "o= line needs exactly 6 fields";
		return -EINVAL;
	}
	if (!addr_copy(o->addr, addr)) {
		x->why = "invalid or too long o= address";
		return -EINVAL;
	}
	/* An unknown addrtype is tolerated here: o= only identifies the session. */
	o->af = parse_af(type);
	o->present = true;
	return 0;
}

static int parse_session_name(struct parse_ctx *x, struct sdp_str v)
{
	if (x->cur) {
		x->why = "s= inside a media section";
		return -EINVAL;
	}
	if (x->sdp->session_name.s) {
		x->why = "duplicate s= line";
		return -EINVAL;
	}
	x->sdp->session_name = v;
	return 0;
}

static int parse_conn_line(struct parse_ctx *x, struct sdp_str v)
{
	struct sdp_conn c = { 0 }, *dst;

	x->why = parse_conn(v, &c);
	if (x->why)
		return -EINVAL;
	dst = x->cur ? &x->cur->conn : &x->sdp->conn;
	if (dst->present) {
		/* Several media-level c= lines are legal (layered multicast); keep the first. */
		if (x->cur)
			return 0;
		x->why = "duplicate session-level c= line";
		return -EINVAL;
	}
	*dst = c;
	return 0;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int parse_media(struct parse_ctx *x, struct sdp_str v, unsigned idx)
{
	struct sdp *sdp = x->sdp;
	const char *p = v.s, *end = v.s + v.len, *slash;
	struct sdp_str type, port, proto, fmts;
	struct sdp_media *m;
	uint16_t count = 1;

	if (sdp->n_media == SDP_MAX_MEDIA) {
		x->why = "too many m= lines";
		return -E2BIG;
	}
	if (!sdp_tok(&p, end, &type) || !sdp_tok(&p, end, &port) || !sdp_tok(&p, end, &proto)) {
		x->why = "malformed m= line";
		return -EINVAL;
	}
	fmts.s = p;
	fmts.len = (size_t)(end - p);
	fmts = sdp_trim(fmts);
	if (!fmts.len) {
		x->why = "m= line without formats";
		return -EINVAL;
	}
	slash = memchr(port.s, '/', port.len);
	if (slash) {
		struct sdp_str c = { slash + 1, (size_t)(port.s + port.len - slash - 1) };

		if (!sdp_u16(c, &count) || count == 0) {
			x->why = "bad port count in m= line";
			return -EINVAL;
		}
		port.len = (size_t)(slash - port.s);
	}
	m = &sdp->media[sdp->n_media++];
	if (!sdp_u16(port, &m->port)) {
		x->why = "bad port in m= line";
		return -EINVAL;
	}
	m->type = type;
	m->port_count = count;
	m->proto = proto;
	m->formats = fmts;
	m->first_line = idx;
	x->cur = m;
	return 0;
}

/* a=rtcp:<port> [IN IP4|IP6 <addr>] (RFC 3605). Only meaningful per media; a session
 * level one is validated but not recorded. */
static int parse_rtcp(struct parse_ctx *x, struct sdp_str val, bool has_colon)
{
	const char *p = val.s, *end = val.s + val.len;
	struct sdp_str port, rest;
	struct sdp_conn c = { 0 };
	uint16_t n;

	if (!has_colon || !sdp_tok(&p, end, &port) || !sdp_u16(port, &n)) {
		x->why = "malformed a=rtcp line";
		return -EINVAL;
	}
	rest.s = p;
	rest.len = (size_t)(end - p);
	rest = sdp_trim(rest);
	if (rest.len && parse_conn(rest, &c)) {
		x->why = "bad address in a=rtcp line";
		return -EINVAL;
	}
	if (x->cur && !x->cur->has_rtcp) {
		x->cur->has_rtcp = true;
		x->cur->rtcp_port = n;
		x->cur->rtcp_conn = c;
	}
	return 0;
}

static const char *const ice_attrs[] = {
	"ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "ice-mismatch", "candidate",
	"remote-candidates", "end-of-candidates",
};

static enum sdp_dir dir_from_name(struct sdp_str name)
{
	for (enum sdp_dir d = SDP_DIR_SENDRECV; d <= SDP_DIR_INACTIVE; d++)
		if (sdp_str_eq(name, sdp_dir_name(d)))
			return d;
	return SDP_DIR_NONE;
}

static int parse_attr(struct parse_ctx *x, struct sdp_line *l)
{
	struct sdp_str name, val;
	bool colon = sdp_attr_split(l->value, &name, &val);
	enum sdp_dir d;

	if (sdp_str_eq(name, "rtcp")) {
		l->kind = SDP_L_RTCP;
		return parse_rtcp(x, val, colon);
	}
	if (sdp_str_eq(name, "rtcp-mux")) {
		l->kind = SDP_L_RTCP_MUX;
		if (x->cur)
			x->cur->rtcp_mux = true;
		return 0;
	}
	d = dir_from_name(name);
	if (d != SDP_DIR_NONE) {
		l->kind = SDP_L_DIRECTION;
		if (x->cur)
			x->cur->dir = d;
		else
			x->sdp->dir = d;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ice_attrs) / sizeof(ice_attrs[0]); i++) {
		if (sdp_str_eq(name, ice_attrs[i])) {
			l->kind = SDP_L_ICE;
			if (x->cur)
				x->cur->has_ice = true;
			else
				x->sdp->has_ice = true;
			return 0;
		}
	}
	return 0;
}

static int parse_line(struct parse_ctx *x, struct sdp_line *l, unsigned idx)
{
	switch (l->type) {
	case 'v':
		l->kind = SDP_L_VERSION;
		if (idx != 0) {
			x->why = "v= is only allowed as the first line";
			return -EINVAL;
		}
		return 0;
	case 'o':
		l->kind = SDP_L_ORIGIN;
		return parse_origin(x, l->value);
	case 's':
		l->kind = SDP_L_SESSION_NAME;
		return parse_session_name(x, l->value);
	case 'c':
		l->kind = SDP_L_CONN;
		return parse_conn_line(x, l->value);
	case 'm':
		l->kind = SDP_L_MEDIA;
		return parse_media(x, l->value, idx);
	case 'a':
		return parse_attr(x, l);
	default:
		return 0;
	}
}

/* True if [p, end) holds nothing but line endings: trailing empty lines are ignored. */
static bool only_eols(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n')
			return false;
	return true;
}

int sdp_parse(struct sdp *sdp, const char *body, size_t len, const char **err)
{
	struct parse_ctx x = { .sdp = sdp };
	const char *p = body, *end = body + len;
	int rc;

	memset(sdp, 0, sizeof(*sdp));
	if (len > SDP_MAX_LEN)
		return parse_fail(err, -E2BIG, 0, "SDP body too large");
	if (!body || len == 0)
		return parse_fail(err, -EINVAL, 0, "empty SDP body");

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		unsigned idx = sdp->n_lines;
		struct sdp_line *l;

		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p) {
			if (only_eols(p, end))
				break;
			return parse_fail(err, -EINVAL, idx + 1, "empty line");
		}
		if (idx == SDP_MAX_LINES)
			return parse_fail(err, -E2BIG, 0, "too many SDP lines");
		if (eol - p < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return parse_fail(err, -EINVAL, idx + 1, "not a \"x=value\" line");
		if (idx == 0 && p[0] != 'v')
			return parse_fail(err, -EINVAL, 1, "first line is not v=");
		l = &sdp->lines[idx];
		l->type = p[0];
		l->value.s = p + 2;
		l->value.len = (size_t)(eol - p - 2);
		sdp->n_lines++;
		rc = parse_line(&x, l, idx);
		if (rc)
			return parse_fail(err, rc, idx + 1, x.why);
		p = next;
	}

	if (sdp->n_lines == 0)
		return parse_fail(err, -EINVAL, 0, "empty SDP body");
	if (!sdp->origin.present)
		return parse_fail(err, -EINVAL, 0, "missing o= line");
	if (!sdp->session_name.s)
		return parse_fail(err, -EINVAL, 0, "missing s= line");

	sdp->n_session_lines = sdp->n_media ? sdp->media[0].first_line : sdp->n_lines;
	for (unsigned i = 0; i < sdp->n_media; i++) {
		unsigned stop = i + 1 < sdp->n_media ? sdp->media[i + 1].first_line : sdp->n_lines;

		sdp->media[i].n_lines = stop - sdp->media[i].first_line;
	}
	return 0;
}
