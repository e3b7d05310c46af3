/* Read-only questions about a parsed SDP: effective connection and direction,
 * attribute lookup, payload types. */
#include "sluice/sdp.h"

#include <errno.h>
#include <string.h>

#include "sdp_internal.h"

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDRECV:
		return "sendrecv";
	case SDP_DIR_SENDONLY:
		return "sendonly";
	case SDP_DIR_RECVONLY:
		return "recvonly";
	case SDP_DIR_INACTIVE:
		return "inactive";
	default:
		return NULL;
	}
}

const struct sdp_conn *sdp_media_conn(const struct sdp *sdp, unsigned i)
{
	if (i >= sdp->n_media)
		return NULL;
	return sdp->media[i].conn.present ? &sdp->media[i].conn : &sdp->conn;
}

enum sdp_dir sdp_media_dir(const struct sdp *sdp, unsigned i)
{
	if (i < sdp->n_media && sdp->media[i].dir != SDP_DIR_NONE)
		return sdp->media[i].dir;
	return sdp->dir != SDP_DIR_NONE ? sdp->dir : SDP_DIR_SENDRECV;
}

/* Line range [*from, *to) of media i, or of the session part for i == -1. */
static bool section_range(const struct sdp *sdp, int media, unsigned *from, unsigned *to)
{
	if (media < 0) {
		*from = 0;
		*to = sdp->n_session_lines;
		return true;
	}
	if ((unsigned)media >= sdp->n_media)
		return false;
	*from = sdp->media[media].first_line;
	*to = *from + sdp->media[media].n_lines;
	return true;
}

bool sdp_attr(const struct sdp *sdp, int media, const char *name, unsigned n,
	      struct sdp_str *value)
{
	unsigned from, to;

	if (!section_range(sdp, media, &from, &to))
		return false;
	for (unsigned i = from; i < to; i++) {
		const struct sdp_line *l = &sdp->lines[i];
		struct sdp_str lname, lval;

		if (l->type != 'a')
			continue;
		sdp_attr_split(l->value, &lname, &lval);
		if (!sdp_str_eq(lname, name) || n-- > 0)
			continue;
		if (value)
			*value = lval;
		return true;
	}
	return false;
}

/* Payload type number 0-127. */
static bool parse_pt(struct sdp_str t, uint8_t *pt)
{
	uint16_t v;

	if (!sdp_u16(t, &v) || v > 127 || t.len > 3)
		return false;
	*pt = (uint8_t)v;
	return true;
}

static bool parse_u32(struct sdp_str t, uint32_t *out)
{
	uint64_t v = 0;

	if (t.len == 0 || t.len > 10)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		if (t.s[i] < '0' || t.s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(t.s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void static_pt(struct sdp_pt *p)
{
	static const struct { uint8_t pt; const char *enc; } tab[] = {
		{ 0, "PCMU" }, { 3, "GSM" }, { 4, "G723" }, { 8, "PCMA" }, { 9, "G722" },
		{ 13, "CN" }, { 18, "G729" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].pt == p->pt) {
			p->enc.s = tab[i].enc;
			p->enc.len = strlen(tab[i].enc);
			p->clock = 8000;
			return;
		}
	}
}

/* "<enc>/<clock>[/<channels>]" */
static bool parse_rtpmap_enc(struct sdp_str t, struct sdp_pt *p)
{
	const char *s1 = memchr(t.s, '/', t.len), *end = t.s + t.len, *s2;
	struct sdp_str clock, ch;
	uint32_t clk, nch = 1;

	if (!s1 || s1 == t.s)
		return false;
	clock.s = s1 + 1;
	s2 = memchr(clock.s, '/', (size_t)(end - clock.s));
	clock.len = (size_t)((s2 ? s2 : end) - clock.s);
	if (!parse_u32(clock, &clk) || clk == 0)
		return false;
	if (s2) {
		ch.s = s2 + 1;
		ch.len = (size_t)(end - ch.s);
		if (!parse_u32(ch, &nch) || nch == 0 || nch > 255)
			return false;
	}
	p->rtpmap = true;
	p->enc.s = t.s;
	p->enc.len = (size_t)(s1 - t.s);
	p->clock = clk;
	p->channels = (uint8_t)nch;
	return true;
}

/* Apply one a=rtpmap or a=fmtp value ("<pt> <rest>") to the matching entries. */
static void apply_attr(struct sdp_pt *out, unsigned n, struct sdp_str val, bool rtpmap)
{
	const char *p = val.s, *end = val.s + val.len;
	struct sdp_str ptt, rest;
	uint8_t pt;

	if (!sdp_tok(&p, end, &ptt) || !parse_pt(ptt, &pt))
		return;
	rest.s = p;
	rest.len = (size_t)(end - p);
	rest = sdp_trim(rest);
	for (unsigned i = 0; i < n; i++) {
		if (out[i].pt != pt)
			continue;
		if (rtpmap && !out[i].rtpmap) {
			struct sdp_pt tmp = out[i];

			if (parse_rtpmap_enc(rest, &tmp))
				out[i] = tmp;
		} else if (!rtpmap && !out[i].fmtp.s) {
			out[i].fmtp = rest;
		}
	}
}

int sdp_rtpmap(const struct sdp *sdp, unsigned i, struct sdp_pt *out, unsigned max)
{
	const struct sdp_media *m;
	const char *p, *end;
	struct sdp_str t;
	unsigned n = 0;

	if (i >= sdp->n_media)
		return -EINVAL;
	m = &sdp->media[i];
	p = m->formats.s;
	end = p + m->formats.len;
	while (sdp_tok(&p, end, &t)) {
		if (n == max)
			return -E2BIG;
		memset(&out[n], 0, sizeof(out[n]));
		if (!parse_pt(t, &out[n].pt))
			return -EINVAL;
		out[n].channels = 1;
		n++;
	}
	for (unsigned j = m->first_line + 1; j < m->first_line + m->n_lines; j++) {
		const struct sdp_line *l = &sdp->lines[j];
		struct sdp_str name, val;

		if (l->type != 'a' || !sdp_attr_split(l->value, &name, &val))
			continue;
		if (sdp_str_eq(name, "rtpmap"))
			apply_attr(out, n, val, true);
		else if (sdp_str_eq(name, "fmtp"))
			apply_attr(out, n, val, false);
	}
	for (unsigned j = 0; j < n; j++) {
		if (!out[j].rtpmap)
			static_pt(&out[j]);
		if (!out[j].fmtp.s)
			out[j].fmtp.s = "";
	}
	return (int)n;
}

/* Media index whose a=mid is `mid`, -1 if none. */
static int mid_index(const struct sdp *sdp, struct sdp_str mid)
{
	struct sdp_str v;

	for (unsigned i = 0; i < sdp->n_media; i++)
		if (sdp_attr(sdp, (int)i, "mid", 0, &v) && v.len == mid.len &&
		    !memcmp(v.s, mid.s, v.len))
			return (int)i;
	return -1;
}

int sdp_bundle_group(const struct sdp *sdp, unsigned n, unsigned idx[SDP_MAX_MEDIA])
{
	struct sdp_str v, t;
	const char *p, *end;
	unsigned found = 0, k = 0;

	for (unsigned a = 0; sdp_attr(sdp, -1, "group", a, &v); a++) {
		p = v.s;
		end = v.s + v.len;
		if (!sdp_tok(&p, end, &t) || !sdp_str_eq(t, "BUNDLE") || found++ != n)
			continue;
		while (sdp_tok(&p, end, &t) && k < SDP_MAX_MEDIA) {
			int i = mid_index(sdp, t);
			bool dup = false;

			for (unsigned j = 0; j < k && i >= 0; j++)
				dup |= idx[j] == (unsigned)i;
			if (i >= 0 && !dup)
				idx[k++] = (unsigned)i;
		}
		return (int)k;
	}
	return -ENOENT;
}

bool sdp_media_ssrc(const struct sdp *sdp, unsigned i, uint32_t *ssrc)
{
	struct sdp_str v, t;
	const char *p;

	if (i >= sdp->n_media || !sdp_attr(sdp, (int)i, "ssrc", 0, &v))
		return false;
	p = v.s;
	return sdp_tok(&p, v.s + v.len, &t) && parse_u32(t, ssrc);
}
