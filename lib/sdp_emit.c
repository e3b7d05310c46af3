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

static bool bundle_group(const struct sdp_line *l)
{
	struct sdp_str name, val;

	if (l->type != 'a')
		return false;
	sdp_attr_split(l->value, &name, &val);
	return sdp_str_eq(name, "group") && val.len >= 6 && !memcmp(val.s, "BUNDLE", 6) &&
	       (val.len == 6 || sdp_ws(val.s[6]));
}

static void emit_session(struct emit_ctx *x)
{
	const struct sdp *sdp = x->sdp;
	const struct sdp_rewrite *rw = x->rw;

	for (unsigned i = 0; i < sdp->n_session_lines; i++) {
		const struct sdp_line *l = &sdp->lines[i];

		if (dropped(rw->drop_attrs, l) || dropped(rw->drop_more, l) ||
		    (rw->drop_bundle_groups && bundle_group(l)) ||
		    (rw->reorder && !rw->keep_dir && l->kind == SDP_L_DIRECTION))
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

	if (!(mr->set_port && m->port) && !mr->proto && !mr->formats) {
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
	if (mr->formats) {
		sb_printf(x->out, " %s\r\n", mr->formats);
		return;
	}
	put(x->out, m->proto.s + m->proto.len, (size_t)(end - m->proto.s - m->proto.len));
	put(x->out, "\r\n", 2);
}

enum codec_attr { CA_NONE = 0, CA_RTPMAP, CA_FMTP, CA_RTCP_FB, CA_PTIME };

/* Which codec attribute an a= line is; *pt gets the payload type of per-type ones
 * (-1 for "*" or garbage). */
static enum codec_attr codec_attr(const struct sdp_line *l, int *pt)
{
	struct sdp_str name, val, tok;
	const char *p;
	uint16_t v;
	enum codec_attr k;

	*pt = -1;
	if (l->type != 'a' || l->kind != SDP_L_OTHER)
		return CA_NONE;
	sdp_attr_split(l->value, &name, &val);
	if (sdp_str_eq(name, "ptime"))
		return CA_PTIME;
	if (sdp_str_eq(name, "rtpmap"))
		k = CA_RTPMAP;
	else if (sdp_str_eq(name, "fmtp"))
		k = CA_FMTP;
	else if (sdp_str_eq(name, "rtcp-fb"))
		k = CA_RTCP_FB;
	else
		return CA_NONE;
	p = val.s;
	if (sdp_tok(&p, val.s + val.len, &tok) && sdp_u16(tok, &v) && v < 128)
		*pt = v;
	return k;
}

static bool pt_dropped(const struct sdp_media_rewrite *mr, int pt)
{
	return pt >= 0 && (mr->drop_pt[pt / 8] & (1u << (pt % 8)));
}

/* Index (within the section) after which codec_lines go. */
static unsigned codec_lines_at(const struct sdp_line *lines, unsigned n)
{
	unsigned at = 0, j;
	int pt;

	for (j = 1; j < n; j++) {
		enum codec_attr k = codec_attr(&lines[j], &pt);
		if (k == CA_RTPMAP || k == CA_FMTP)
			at = j;
	}
	if (at)
		return at;
	for (j = 1; j < n && (lines[j].type == 'i' || lines[j].type == 'c'); j++)
		at = j;
	return at;
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

/* Codec attributes: dropped per payload type, a=ptime replaced. False if l is none. */
static bool emit_codec_attr(struct emit_ctx *x, const struct sdp_media_rewrite *mr,
			    const struct sdp_line *l, bool *ptime_done)
{
	int pt;

	switch (codec_attr(l, &pt)) {
	case CA_PTIME:
		if (!mr->ptime)
			return false;
		sb_printf(x->out, "a=ptime:%u\r\n", mr->ptime);
		*ptime_done = true;
		return true;
	case CA_RTPMAP:
	case CA_FMTP:
	case CA_RTCP_FB:
		if (!pt_dropped(mr, pt))
			return false;
		return true;
	default:
		return false;
	}
}

/* Drop, replace or keep one line of a media section (not the m= line). */
static void emit_media_line(struct emit_ctx *x, const struct sdp_media_rewrite *mr,
			    const struct sdp_line *l, bool *dir_done, bool *ptime_done)
{
	static const char *const bundle_only[] = { "bundle-only", NULL };

	if (emit_codec_attr(x, mr, l, ptime_done) || dropped(mr->drop_attrs, l) ||
	    dropped(mr->drop_more, l) || (mr->drop_bundle_only && dropped(bundle_only, l)))
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
	bool need_conn = false, dir_done = false, ptime_done = false;
	struct emit_addr ma = media_addr(x, m, mr);
	unsigned codec_at = mr->codec_lines ? codec_lines_at(lines, m->n_lines) : 0;

	if (mr->addr && !m->conn.present)
		need_conn = addr_differs(ma, x->sess);

	emit_mline(x, m, mr, &lines[0]);
	/* Between line j-1 and line j (or the end): first an inserted c= (RFC 8866 order
	 * is m=, i=, c=, so it goes before the first line that is not i=), then the codec
	 * lines if they belong after line j-1. */
	for (unsigned j = 1; j <= m->n_lines; j++) {
		bool end = j == m->n_lines;

		if (need_conn && (end || lines[j].type != 'i')) {
			put_conn(x->out, ma);
			need_conn = false;
		}
		if (mr->codec_lines && codec_at == j - 1)
			sb_puts(x->out, mr->codec_lines);
		if (!end)
			emit_media_line(x, mr, &lines[j], &dir_done, &ptime_done);
	}

	if (mr->dir != SDP_DIR_NONE && !dir_done)
		sb_printf(x->out, "a=%s\r\n", sdp_dir_name(mr->dir));
	if (mr->ptime && !ptime_done)
		sb_printf(x->out, "a=ptime:%u\r\n", mr->ptime);
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

/* ---- rtpengine's layout of a media section (sdp_rewrite.reorder) ---- */

/* RFC 3551 names of the static payload types, written as a=rtpmap when the SDP had none
 * (NULL: unassigned or dynamic). */
static const char *static_rtpmap(unsigned pt)
{
	static const char *const names[35] = {
		[0] = "PCMU/8000", [3] = "GSM/8000", [4] = "G723/8000", [5] = "DVI4/8000",
		[6] = "DVI4/16000", [7] = "LPC/8000", [8] = "PCMA/8000", [9] = "G722/8000",
		[10] = "L16/44100/2", [11] = "L16/44100", [12] = "QCELP/8000", [13] = "CN/8000",
		[14] = "MPA/90000", [15] = "G728/8000", [16] = "DVI4/11025", [17] = "DVI4/22050",
		[18] = "G729/8000", [25] = "CelB/90000", [26] = "JPEG/90000", [28] = "nv/90000",
		[31] = "H261/90000", [32] = "MPV/90000", [33] = "MP2T/90000", [34] = "H263/90000",
	};

	return pt < 35 ? names[pt] : NULL;
}

/* Lines of kind k for payload type pt: the section's own (unless dropped), then the
 * policy's codec_lines. Returns how many were written. */
static unsigned put_pt_attrs(struct emit_ctx *x, const struct sdp_media_rewrite *mr,
			     const struct sdp_line *lines, unsigned n, int pt, enum codec_attr k)
{
	unsigned done = 0;
	int p;

	for (unsigned j = 1; j < n; j++)
		if (codec_attr(&lines[j], &p) == k && p == pt && !pt_dropped(mr, p)) {
			put_line(x->out, &lines[j]);
			done++;
		}
	for (const char *c = mr->codec_lines; c && *c;) {
		const char *eol = strstr(c, "\r\n");
		size_t len = eol ? (size_t)(eol - c) : strlen(c);
		struct sdp_line l = { .type = 'a', .kind = SDP_L_OTHER };

		if (len > 2 && c[0] == 'a' && c[1] == '=') {
			l.value = (struct sdp_str){ c + 2, len - 2 };
			if (codec_attr(&l, &p) == k && p == pt) {
				put_line(x->out, &l);
				done++;
			}
		}
		c += len + (eol ? 2 : 0);
	}
	return done;
}

/* Codec attributes in m= order: per payload type a=rtpmap (one made up for a static
 * type without), a=fmtp, a=rtcp-fb. */
static void put_codecs(struct emit_ctx *x, const struct sdp_media *m,
		       const struct sdp_media_rewrite *mr, const struct sdp_line *lines)
{
	struct sdp_str fmts = m->formats, t;
	const char *p, *end;
	uint16_t pt;

	if (mr->formats)
		fmts = (struct sdp_str){ mr->formats, strlen(mr->formats) };
	p = fmts.s;
	end = fmts.s + fmts.len;
	while (sdp_tok(&p, end, &t)) {
		if (!sdp_u16(t, &pt) || pt > 127)
			continue;
		if (!put_pt_attrs(x, mr, lines, m->n_lines, pt, CA_RTPMAP) && static_rtpmap(pt))
			sb_printf(x->out, "a=rtpmap:%u %s\r\n", (unsigned)pt, static_rtpmap(pt));
		put_pt_attrs(x, mr, lines, m->n_lines, pt, CA_FMTP);
		put_pt_attrs(x, mr, lines, m->n_lines, pt, CA_RTCP_FB);
	}
}

static bool is_attr(const struct sdp_line *l, const char *name)
{
	struct sdp_str n, v;

	if (l->type != 'a')
		return false;
	sdp_attr_split(l->value, &n, &v);
	return sdp_str_eq(n, name);
}

/* An a= line that goes with the section's other attributes, in its original order:
 * not one the relay writes in a place of its own. */
static bool plain_attr(const struct sdp_media_rewrite *mr, const struct sdp_line *l)
{
	int pt;
	enum codec_attr k = codec_attr(l, &pt);

	if (l->type != 'a' || k == CA_PTIME || (k != CA_NONE && pt >= 0) || is_attr(l, "mid"))
		return false;
	switch (l->kind) {
	case SDP_L_RTCP:
	case SDP_L_RTCP_MUX:
		return false;
	case SDP_L_DIRECTION:
		return mr->keep_dir;
	case SDP_L_ICE:
		return !mr->remove_ice;
	default:
		return true;
	}
}

/* The relay's own lines (security, ICE) with a=ptime between the DTLS and the ICE
 * lines, where rtpengine writes it. */
static void put_tail(struct emit_ctx *x, const struct sdp_media_rewrite *mr,
		     const struct sdp_line *lines, unsigned n)
{
	const char *app = mr->append ? mr->append : "", *ice = strstr(app, "a=ice-");
	size_t head = ice ? (size_t)(ice - app) : strlen(app);
	int pt;

	put(x->out, app, head);
	if (mr->ptime) {
		sb_printf(x->out, "a=ptime:%u\r\n", mr->ptime);
	} else {
		for (unsigned j = 1; j < n; j++)
			if (codec_attr(&lines[j], &pt) == CA_PTIME)
				put_line(x->out, &lines[j]);
	}
	sb_puts(x->out, app + head);
}

/* m=; its i=, c=, b=, k= lines; its other attributes in their order; a=mid; codecs;
 * direction (always); a=rtcp; a=rtcp-mux; security; a=ptime; ICE. A rejected section
 * is its m= line alone. */
static void emit_media_reordered(struct emit_ctx *x, unsigned i)
{
	const struct sdp_media *m = &x->sdp->media[i];
	const struct sdp_media_rewrite *mr = &x->rw->media[i];
	const struct sdp_line *lines = &x->sdp->lines[m->first_line];
	struct emit_addr ma = media_addr(x, m, mr);
	bool need_conn = mr->addr && !m->conn.present && addr_differs(ma, x->sess);
	bool dir_done = true, ptime_done = true;
	enum sdp_dir dir = mr->dir != SDP_DIR_NONE ? mr->dir : sdp_media_dir(x->sdp, i);

	emit_mline(x, m, mr, &lines[0]);
	if (!m->port)
		return;
	for (unsigned j = 1; j <= m->n_lines; j++) {
		bool end = j == m->n_lines;

		if (need_conn && (end || lines[j].type != 'i')) {
			put_conn(x->out, ma);
			need_conn = false;
		}
		if (!end && lines[j].type != 'a')
			emit_media_line(x, mr, &lines[j], &dir_done, &ptime_done);
	}
	for (unsigned j = 1; j < m->n_lines; j++)
		if (plain_attr(mr, &lines[j]))
			emit_media_line(x, mr, &lines[j], &dir_done, &ptime_done);
	for (unsigned j = 1; j < m->n_lines; j++)
		if (is_attr(&lines[j], "mid") && !dropped(mr->drop_attrs, &lines[j]))
			put_line(x->out, &lines[j]);
	if (mr->add_mid)
		sb_printf(x->out, "a=mid:%s\r\n", mr->add_mid);
	put_codecs(x, m, mr, lines);
	if (!mr->keep_dir)
		sb_printf(x->out, "a=%s\r\n", sdp_dir_name(dir));
	if (mr->write_rtcp) {
		if (mr->full_rtcp && ma.addr)
			sb_printf(x->out, "a=rtcp:%u IN %s %s\r\n", (unsigned)mr->rtcp_port,
				  af_name(ma.af), ma.addr);
		else
			sb_printf(x->out, "a=rtcp:%u\r\n", (unsigned)mr->rtcp_port);
	} else if (!mr->rewrite_rtcp) {
		for (unsigned j = 1; j < m->n_lines; j++)
			if (lines[j].kind == SDP_L_RTCP)
				put_line(x->out, &lines[j]);
	}
	if (mr->rtcp_mux == SDP_MUX_ADD || (mr->rtcp_mux == SDP_MUX_KEEP && m->rtcp_mux))
		sb_puts(x->out, "a=rtcp-mux\r\n");
	put_tail(x, mr, lines, m->n_lines);
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
	for (unsigned i = 0; i < sdp->n_media; i++) {
		if (x.rw->reorder)
			emit_media_reordered(&x, i);
		else
			emit_media(&x, i);
	}
	return out->oom ? -ENOMEM : 0;
}
