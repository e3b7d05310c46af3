/* bencode decode/encode and the bval tree helpers.
 *
 * The decoder accepts exactly the canonical form (no leading zeros in integers or string
 * lengths, no "-0"), so for every accepted input encode(decode(x)) == x byte for byte.
 * Dict key order is kept as on the wire (Kamailio does not sort keys). Recursion depth
 * is capped at BV_MAX_DEPTH containers; nodes come from the arena and strings point
 * into the input, so decoding allocates one node per value and nothing per byte. */
#include "sluice/bencode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct bdec {
	struct arena *a;
	const char *p, *end;
};

static struct bval *bv_alloc(struct arena *a, enum bval_type type)
{
	struct bval *v = arena_alloc(a, sizeof(*v));

	if (!v)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static void bv_append(struct bval *c, struct bval *child)
{
	child->next = NULL;
	if (c->c.last)
		c->c.last->next = child;
	else
		c->c.first = child;
	c->c.last = child;
	c->c.n++;
}

/* Digits of a string length up to ':'. Lengths are bounded by the remaining input, so
 * anything that overflows size_t is simply malformed. */
static int bdec_strlen(struct bdec *d, size_t *out)
{
	size_t n = 0;
	const char *start = d->p;

	for (;;) {
		if (d->p >= d->end)
			return -EMSGSIZE;
		char c = *d->p;
		if (c == ':')
			break;
		if (c < '0' || c > '9')
			return -EINVAL;
		if (n > (SIZE_MAX - 9) / 10)
			return -EINVAL;
		n = n * 10 + (size_t)(c - '0');
		d->p++;
	}
	if (d->p == start || (*start == '0' && d->p - start > 1))
		return -EINVAL;
	d->p++;   /* ':' */
	if (n > (size_t)(d->end - d->p))
		return -EMSGSIZE;
	*out = n;
	return 0;
}

static int bdec_str(struct bdec *d, const char **s, size_t *len)
{
	int ret = bdec_strlen(d, len);

	if (ret)
		return ret;
	*s = d->p;
	d->p += *len;
	return 0;
}

/* 'i' already consumed. Accumulates as a negative number so INT64_MIN fits. */
static int bdec_int(struct bdec *d, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;
	const char *digits;

	if (d->p < d->end && *d->p == '-') {
		neg = true;
		d->p++;
	}
	digits = d->p;
	for (;;) {
		if (d->p >= d->end)
			return -EMSGSIZE;
		char c = *d->p;
		if (c == 'e')
			break;
		if (c < '0' || c > '9')
			return -EINVAL;
		int dig = c - '0';
		if (v < (INT64_MIN + dig) / 10)
			return -EINVAL;
		v = v * 10 - dig;
		d->p++;
	}
	if (d->p == digits)                                 /* "ie", "i-e" */
		return -EINVAL;
	if (*digits == '0' && (neg || d->p - digits > 1))   /* "i-0e", "i03e" */
		return -EINVAL;
	d->p++;   /* 'e' */
	if (!neg) {
		if (v == INT64_MIN)
			return -EINVAL;
		v = -v;
	}
	*out = v;
	return 0;
}

static int bdec_value(struct bdec *d, unsigned depth, struct bval **out);

/* 'l' or 'd' already consumed. */
static int bdec_container(struct bdec *d, unsigned depth, struct bval *c)
{
	const char *key = NULL;
	size_t key_len = 0;
	struct bval *child;
	int ret;

	for (;;) {
		if (d->p >= d->end)
			return -EMSGSIZE;
		if (*d->p == 'e') {
			d->p++;
			return 0;
		}
		if (c->type == BV_DICT) {
			if (*d->p < '0' || *d->p > '9')
				return -EINVAL;     /* keys must be strings */
			ret = bdec_str(d, &key, &key_len);
			if (ret)
				return ret;
		}
		ret = bdec_value(d, depth, &child);
		if (ret)
			return ret;
		child->key = key;
		child->key_len = key_len;
		bv_append(c, child);
	}
}

static int bdec_value(struct bdec *d, unsigned depth, struct bval **out)
{
	struct bval *v;
	int ret;

	if (d->p >= d->end)
		return -EMSGSIZE;
	switch (*d->p) {
	case 'i':
		d->p++;
		v = bv_alloc(d->a, BV_INT);
		if (!v)
			return -ENOMEM;
		ret = bdec_int(d, &v->i);
		break;
	case 'l':
	case 'd':
		if (depth >= BV_MAX_DEPTH)
			return -EINVAL;
		v = bv_alloc(d->a, *d->p == 'l' ? BV_LIST : BV_DICT);
		if (!v)
			return -ENOMEM;
		d->p++;
		ret = bdec_container(d, depth + 1, v);
		break;
	case '0' ... '9':
		v = bv_alloc(d->a, BV_STR);
		if (!v)
			return -ENOMEM;
		ret = bdec_str(d, &v->str.s, &v->str.len);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	*out = v;
	return 0;
}

int bv_decode(struct arena *a, const char *buf, size_t len, struct bval **out, size_t *consumed)
{
	struct bdec d = { .a = a, .p = buf, .end = buf + len };
	struct bval *v;
	int ret;

	if (!buf)
		return -EMSGSIZE;
	ret = bdec_value(&d, 0, &v);
	if (ret)
		return ret;
	if (consumed)
		*consumed = (size_t)(d.p - buf);
	else if (d.p != d.end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int benc_str(struct strbuf *sb, const char *s, size_t len)
{
	sb_printf(sb, "%zu:", len);
	return sb_append(sb, s, len);
}

int bv_encode(const struct bval *v, struct strbuf *sb)
{
	const struct bval *c;

	switch (v->type) {
	case BV_STR:
		benc_str(sb, v->str.s, v->str.len);
		break;
	case BV_INT:
		sb_printf(sb, "i%" PRId64 "e", v->i);
		break;
	case BV_LIST:
	case BV_DICT:
		sb_putc(sb, v->type == BV_LIST ? 'l' : 'd');
		for (c = v->c.first; c; c = c->next) {
			if (v->type == BV_DICT)
				benc_str(sb, c->key, c->key_len);
			bv_encode(c, sb);
		}
		sb_putc(sb, 'e');
		break;
	}
	/* strbuf errors are sticky, so checking once at the end is enough */
	return sb->oom ? -ENOMEM : 0;
}

struct bval *bv_new_str(struct arena *a, const char *s, size_t len)
{
	struct bval *v = bv_alloc(a, BV_STR);

	if (!v)
		return NULL;
	v->str.s = arena_strndup(a, s, len);
	if (!v->str.s)
		return NULL;
	v->str.len = len;
	return v;
}

struct bval *bv_new_strz(struct arena *a, const char *s)
{
	return bv_new_str(a, s, strlen(s));
}

struct bval *bv_new_int(struct arena *a, int64_t i)
{
	struct bval *v = bv_alloc(a, BV_INT);

	if (v)
		v->i = i;
	return v;
}

struct bval *bv_new_list(struct arena *a)
{
	return bv_alloc(a, BV_LIST);
}

struct bval *bv_new_dict(struct arena *a)
{
	return bv_alloc(a, BV_DICT);
}

struct bval *bv_list_add(struct bval *list, struct bval *child)
{
	if (!list || !child)
		return NULL;
	child->key = NULL;
	child->key_len = 0;
	bv_append(list, child);
	return child;
}

struct bval *bv_dict_add(struct arena *a, struct bval *dict, const char *key, struct bval *child)
{
	size_t len;

	if (!dict || !child || !key)
		return NULL;
	len = strlen(key);
	child->key = arena_strndup(a, key, len);
	if (!child->key)
		return NULL;
	child->key_len = len;
	bv_append(dict, child);
	return child;
}

struct bval *bv_dict_add_str(struct arena *a, struct bval *dict, const char *key, const char *s)
{
	return bv_dict_add(a, dict, key, bv_new_strz(a, s));
}

struct bval *bv_dict_add_int(struct arena *a, struct bval *dict, const char *key, int64_t i)
{
	return bv_dict_add(a, dict, key, bv_new_int(a, i));
}

/* O(n) in the number of members; NG dicts have a few dozen at most. */
struct bval *bv_dict_get(const struct bval *dict, const char *key)
{
	struct bval *c;
	size_t len;

	if (!dict || dict->type != BV_DICT)
		return NULL;
	len = strlen(key);
	for (c = dict->c.first; c; c = c->next)
		if (c->key_len == len && (!len || !memcmp(c->key, key, len)))
			return c;
	return NULL;
}

const char *bv_dict_get_str(const struct bval *dict, const char *key, size_t *len)
{
	const struct bval *v = bv_dict_get(dict, key);

	if (!v || v->type != BV_STR)
		return NULL;
	if (len)
		*len = v->str.len;
	return v->str.s;
}

bool bv_str_eq(const struct bval *v, const char *s)
{
	size_t len = strlen(s);

	return v && v->type == BV_STR && v->str.len == len && !memcmp(v->str.s, s, len);
}

bool bv_str_ieq(const struct bval *v, const char *s)
{
	size_t len = strlen(s);

	return v && v->type == BV_STR && v->str.len == len && !strncasecmp(v->str.s, s, len);
}

bool bv_equal(const struct bval *a, const struct bval *b)
{
	const struct bval *x, *y;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case BV_STR:
		return a->str.len == b->str.len &&
		       (!a->str.len || !memcmp(a->str.s, b->str.s, a->str.len));
	case BV_INT:
		return a->i == b->i;
	case BV_LIST:
	case BV_DICT:
		if (a->c.n != b->c.n)
			return false;
		for (x = a->c.first, y = b->c.first; x && y; x = x->next, y = y->next) {
			if (a->type == BV_DICT &&
			    (x->key_len != y->key_len ||
			     (x->key_len && memcmp(x->key, y->key, x->key_len))))
				return false;
			if (!bv_equal(x, y))
				return false;
		}
		return !x && !y;
	}
	return false;
}
