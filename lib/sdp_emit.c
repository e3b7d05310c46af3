/* SDP emission: every parsed line is written back (CRLF) unless the rewrite asks to
 * change, drop or add something. Errors are only allocation failures, checked once at
 * the end through the strbuf's sticky oom flag. */
#include "sluice/sdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdp_internal.h"

/* An address as it will appear in the output. */
struct emit_addr {
	enum sdp_af af;
	const char *addr;           /* NULL: none */
};

struct emit_ctx {
	const struct sdp *sdp;
	const struct sdp_rewrite *rw;
	struct strbuf *out;
	struct emit_addr sess;      /* session-level c= as emitted */
};

static const struct sdp_rewrite no_rewrite;

static enum sdp_af af_resolve(enum sdp_af af, const char *addr)
{
	if (af != SDP_AF_NONE)
		return af;
	return strchr(addr, ':') ? SDP_AF_IP6 : SDP_AF_IP4;
}

static const char *af_name(enum sdp_af af)
{
	return af == SDP_AF_IP6 ? "IP6" : "IP4";
}

static void put(struct strbuf *out, const char *s, size_t len)
{
	sb_append(out, s, len);
}

static void put_str(struct strbuf *out, struct sdp_str v)
{
	sb_append(out, v.s, v.len);
}

static void put_line(struct strbuf *out, const struct sdp_line *l)
{
	char h[2] = { l->type, '=' };

	put(out, h, 2);
	put_str(out, l->value);
	put(out, "\r\n", 2);
}

static void put_conn(struct strbuf *out, struct emit_addr a)
{
	sb_printf(out, "c=IN %s %s\r\n", af_name(a.af), a.addr);
}

/* o=: keep the first four fields with their spacing, replace addrtype and address. */
static void emit_origin(struct emit_ctx *x, const struct sdp_line *l)
{
	const struct sdp_origin *o = &x->sdp->origin;
	const char *addrtype = o->nettype.s + o->nettype.len;
	const char *end = l->value.s + l->value.len;

	if (!x->rw->origin_addr) {
		put_line(x->out, l);
		return;
	}
	while (addrtype < end && sdp_ws(*addrtype))
		addrtype++;
	put(x->out, "o=", 2);
	put(x->out, l->value.s, (size_t)(addrtype - l->value.s));
	sb_printf(x->out, "%s %s\r\n", af_name(af_resolve(x->rw->origin_af, x->rw->origin_addr)),
		  x->rw->origin_addr);
}

/* Is l an a= attribute whose name is in the NULL-terminated list? */
static bool dropped(const char *const *names, const struct sdp_line *l)
{
	struct sdp_str name, val;

	if (!names || l->type != 'a')
		return false;
	sdp_attr_split(l->value, &name, &val);
	for (; *names; names++)
		if (sdp_str_eq(name, *names))
			return true;
	return false;
}

static void emit_session(struct emit_ctx *x)
{
	const struct sdp *sdp = x->sdp;
	const struct sdp_rewrite *rw = x->rw;

	for (unsigned i = 0; i < sdp->n_session_lines; i++) {
		const struct sdp_line *l = &sdp->lines[i];

		if (dropped(rw->drop_attrs, l))
			continue;
		switch (l->kind) {
		case SDP_L_ORIGIN:
			emit_origin(x, l);
			break;
		case SDP_L_SESSION_NAME:
			if (rw->session_name)
				sb_printf(x->out, "s=%s\r\n", rw->session_name);
			else
				put_line(x->out, l);
			break;
		case SDP_L_CONN:
			if (rw->session_conn)
				put_conn(x->out, x->sess);
			else
				put_line(x->out, l);
			break;
		case SDP_L_ICE:
			if (!rw->remove_ice)
				put_line(x->out, l);
			break;
		default:
			put_line(x->out, l);
			break;
		}
	}
	if (rw->append)
		sb_puts(x->out, rw->append);
}

/* m=: splice a new port (keeping "/count") and/or proto into the original text. */
static void emit_mline(struct emit_ctx *x, const struct sdp_media *m,
		       const struct sdp_media_rewrite *mr, const struct sdp_line *l)
{
	const char *end = l->value.s + l->value.len;
	const char *port = m->type.s + m->type.len, *port_end, *slash;

	if (!(mr->set_port && m->port) && !mr->proto) {
		put_line(x->out, l);
		return;
	}
	while (port < end && sdp_ws(*port))
		port++;
	port_end = port;
	while (port_end < end && !sdp_ws(*port_end))
		port_end++;
	slash = memchr(port, '/', (size_t)(port_end - port));

	put(x->out, "m=", 2);
	put(x->out, l->value.s, (size_t)(port - l->value.s));
	if (mr->set_port && m->port) {
		sb_printf(x->out, "%u", (unsigned)mr->port);
		if (slash)
			put(x->out, slash, (size_t)(port_end - slash));
	} else {
		put(x->out, port, (size_t)(port_end - port));
	}
	put(x->out, port_end, (size_t)(m->proto.s - port_end));
	if (mr->proto)
		sb_puts(x->out, mr->proto);
	else
		put_str(x->out, m->proto);
	put(x->out, m->proto.s + m->proto.len, (size_t)(end - m->proto.s - m->proto.len));
	put(x->out, "\r\n", 2);
}

static bool addr_differs(struct emit_addr a, struct emit_addr b)
{
	return !b.addr || a.af != b.af || strcmp(a.addr, b.addr) != 0;
}

/* The media's connection as it will appear: rewritten, its own c=, or the session's. */
static struct emit_addr media_addr(const struct emit_ctx *x, const struct sdp_media *m,
				   const struct sdp_media_rewrite *mr)
{
	if (mr->addr)
		return (struct emit_addr){ af_resolve(mr->af, mr->addr), mr->addr };
	if (m->conn.present)
		return (struct emit_addr){ m->conn.af, m->conn.addr };
	return x->sess;
}

/* Drop, replace or keep one line of a media section (not the m= line). */
static void emit_media_line(struct emit_ctx *x, const struct sdp_media_rewrite *mr,
			    const struct sdp_line *l, bool *dir_done)
{
	if (dropped(mr->drop_attrs, l))
		return;
	switch (l->kind) {
	case SDP_L_CONN:
		if (mr->addr)
			put_conn(x->out, (struct emit_addr){ af_resolve(mr->af, mr->addr), mr->addr });
		else
			put_line(x->out, l);
		return;
	case SDP_L_RTCP:
		if (!mr->rewrite_rtcp && !mr->write_rtcp)
			put_line(x->out, l);
		return;
	case SDP_L_RTCP_MUX:
		if (mr->rtcp_mux != SDP_MUX_REMOVE)
			put_line(x->out, l);
		return;
	case SDP_L_ICE:
		if (!mr->remove_ice)
			put_line(x->out, l);
		return;
	case SDP_L_DIRECTION:
		if (mr->dir == SDP_DIR_NONE)
			put_line(x->out, l);
		else if (!*dir_done)
			sb_printf(x->out, "a=%s\r\n", sdp_dir_name(mr->dir));
		*dir_done = true;
		return;
	default:
		put_line(x->out, l);
		return;
	}
}

static void emit_media(struct emit_ctx *x, unsigned i)
{
	const struct sdp_media *m = &x->sdp->media[i];
	const struct sdp_media_rewrite *mr = &x->rw->media[i];
	const struct sdp_line *lines = &x->sdp->lines[m->first_line];
	bool need_conn = false, dir_done = false;
	struct emit_addr ma = media_addr(x, m, mr);

	if (mr->addr && !m->conn.present)
		need_conn = addr_differs(ma, x->sess);

	emit_mline(x, m, mr, &lines[0]);
	for (unsigned j = 1; j < m->n_lines; j++) {
		/* RFC 8866 order is m=, i=, c=: the inserted c= goes after any i=. */
		if (need_conn && lines[j].type != 'i') {
			put_conn(x->out, ma);
			need_conn = false;
		}
		emit_media_line(x, mr, &lines[j], &dir_done);
	}
	if (need_conn)
		put_conn(x->out, ma);

	if (mr->dir != SDP_DIR_NONE && !dir_done)
		sb_printf(x->out, "a=%s\r\n", sdp_dir_name(mr->dir));
	if (mr->rtcp_mux == SDP_MUX_ADD && !m->rtcp_mux)
		sb_puts(x->out, "a=rtcp-mux\r\n");
	if (mr->write_rtcp) {
		if (mr->full_rtcp && ma.addr)
			sb_printf(x->out, "a=rtcp:%u IN %s %s\r\n", (unsigned)mr->rtcp_port,
				  af_name(ma.af), ma.addr);
		else
			sb_printf(x->out, "a=rtcp:%u\r\n", (unsigned)mr->rtcp_port);
	}
	if (mr->append)
		sb_puts(x->out, mr->append);
}

int sdp_emit(const struct sdp *sdp, const struct sdp_rewrite *rw, struct strbuf *out)
{
	struct emit_ctx x = { .sdp = sdp, .rw = rw ? rw : &no_rewrite, .out = out };

	if (sdp->conn.present) {
		if (x.rw->session_conn)
			x.sess = (struct emit_addr){ af_resolve(x.rw->session_conn_af,
								x.rw->session_conn),
						     x.rw->session_conn };
		else
			x.sess = (struct emit_addr){ sdp->conn.af, sdp->conn.addr };
	}
	emit_session(&x);
	for (unsigned i = 0; i < sdp->n_media; i++)
		emit_media(&x, i);
	return out->oom ? -ENOMEM : 0;
}
