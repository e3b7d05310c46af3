/* NG codec control decoding. */
#include "ng_codec_flags.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum ng_codec_list list; } lists[] = {
	{ "strip", NG_CODEC_STRIP }, { "mask", NG_CODEC_MASK },
	{ "transcode", NG_CODEC_TRANSCODE }, { "offer", NG_CODEC_TRANSCODE },
	{ "set", NG_CODEC_SET }, { "except", NG_CODEC_EXCEPT },
	{ "accept", NG_CODEC_ACCEPT }, { "consume", NG_CODEC_CONSUME },
};

#define PTIME_MAX 1000

static bool str_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && !strncasecmp(s, lit, len);
}

bool ng_codec_name_is(const struct ng_codec_name *n, const char *lit)
{
	return str_is(n->s, n->len, lit);
}

static void add(struct ng_codec_flags *f, enum ng_codec_list l, const char *s, size_t len)
{
	if (!len || f->n[l] == NG_CODEC_MAX) {
		f->dropped++;
		return;
	}
	f->list[l][f->n[l]++] = (struct ng_codec_name){ s, len };
}

static int list_by_name(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (str_is(s, len, lists[i].name))
			return (int)lists[i].list;
	return -1;
}

/* Decimal 1..PTIME_MAX. */
static bool parse_ptime(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	if (!len || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (!v || v > PTIME_MAX)
		return false;
	*out = v;
	return true;
}

bool ng_codec_flag(struct ng_codec_flags *f, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);

	/* rtpengine's "inject DTMF" forces transcoding so that play DTMF can work */
	if (str_is(s, len, "always-transcode") || str_is(s, len, "always transcode") ||
	    str_is(s, len, "inject-DTMF") || str_is(s, len, "inject DTMF")) {
		f->always_transcode = true;
		return true;
	}
	if (eq && (str_is(s, (size_t)(eq - s), "ptime") ||
		   str_is(s, (size_t)(eq - s), "ptime-reverse"))) {
		unsigned *dst = (size_t)(eq - s) == 5 ? &f->ptime : &f->ptime_reverse;
		if (!parse_ptime(eq + 1, len - (size_t)(eq - s) - 1, dst))
			f->dropped++;
		return true;
	}
	if (len < 6 || strncasecmp(s, "codec-", 6))
		return false;
	s += 6;
	len -= 6;
	/* codec-LIST-NAME or codec-LIST=NAME (both spellings circulate) */
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '-' && s[i] != '=')
			continue;
		int l = list_by_name(s, i);
		if (l >= 0) {
			add(f, (enum ng_codec_list)l, s + i + 1, len - i - 1);
			return true;
		}
		break;
	}
	f->dropped++;
	return true;
}

static int take_list(struct ng_codec_flags *f, enum ng_codec_list l, const struct bval *v)
{
	if (v->type == BV_STR) {
		add(f, l, v->str.s, v->str.len);
		return 0;
	}
	if (v->type != BV_LIST)
		return -EINVAL;
	for (const struct bval *e = v->c.first; e; e = e->next) {
		if (e->type != BV_STR)
			return -EINVAL;
		add(f, l, e->str.s, e->str.len);
	}
	return 0;
}

static int get_ptime(const struct bval *dict, const char *key, unsigned *out)
{
	const struct bval *v = bv_dict_get(dict, key);

	if (!v)
		return 0;
	if (v->type == BV_INT) {
		if (v->i < 1 || v->i > PTIME_MAX)
			return -EINVAL;
		*out = (unsigned)v->i;
		return 0;
	}
	if (v->type == BV_STR && parse_ptime(v->str.s, v->str.len, out))
		return 0;
	return -EINVAL;
}

int ng_codec_keys(const struct bval *dict, struct ng_codec_flags *f, const char **err)
{
	const struct bval *c = bv_dict_get(dict, "codec");

	if (get_ptime(dict, "ptime", &f->ptime)) {
		*err = "Invalid ptime";
		return -EINVAL;
	}
	if (get_ptime(dict, "ptime-reverse", &f->ptime_reverse)) {
		*err = "Invalid ptime-reverse";
		return -EINVAL;
	}
	if (!c)
		return 0;
	if (c->type != BV_DICT) {
		*err = "Invalid codec dictionary";
		return -EINVAL;
	}
	for (const struct bval *e = c->c.first; e; e = e->next) {
		int l = list_by_name(e->key, e->key_len);

		if (l < 0)
			continue;       /* unknown manipulation: ignored like unknown flags */
		if (take_list(f, (enum ng_codec_list)l, e)) {
			*err = "Invalid codec list";
			return -EINVAL;
		}
	}
	return 0;
}

bool ng_codec_any(const struct ng_codec_flags *f)
{
	for (int l = 0; l < NG_CODEC__LISTS; l++)
		if (f->n[l])
			return true;
	return f->always_transcode || f->ptime || f->ptime_reverse;
}

static unsigned parse_uint(const char *s, size_t len)
{
	unsigned v = 0;

	for (size_t i = 0; i < len && i < 9; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v;
}

void ng_codec_name_split(const struct ng_codec_name *n, struct ng_codec_name *enc,
			 unsigned *clock, unsigned *channels, struct ng_codec_name *fmtp)
{
	const char *p = n->s, *end = n->s + n->len, *field[4] = { 0 };
	size_t flen[4] = { 0 };
	unsigned k = 0;

	/* name/clock/channels/fmtp: the fmtp part keeps any further slashes */
	while (k < 4 && p <= end) {
		const char *sl = k < 3 ? memchr(p, '/', (size_t)(end - p)) : NULL;
		const char *e = sl ? sl : end;

		field[k] = p;
		flen[k++] = (size_t)(e - p);
		if (!sl)
			break;
		p = sl + 1;
	}
	*enc = (struct ng_codec_name){ field[0], flen[0] };
	*clock = k > 1 ? parse_uint(field[1], flen[1]) : 0;
	*channels = k > 2 ? parse_uint(field[2], flen[2]) : 0;
	*fmtp = k > 3 ? (struct ng_codec_name){ field[3], flen[3] } :
			(struct ng_codec_name){ end, 0 };
}
