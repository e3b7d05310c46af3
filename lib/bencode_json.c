/* JSON <-> bval (NG-over-JSON). Parsing goes through json-c (strict mode, UTF-8
 * validated, nesting capped at BV_MAX_DEPTH like bencode); emitting is done here
 * directly into a strbuf, which keeps byte strings exact: valid UTF-8 is copied, every
 * other byte becomes \u00XX. */
#include "sluice/bencode.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, k;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* RFC 8259 text is UTF-8; json-c's own check lets overlong forms and encoded
 * surrogates through, so the raw input is checked here. Escapes (\uXXXX) are turned
 * into valid UTF-8 by json-c (a lone surrogate becomes U+FFFD). Also refuses NUL. */
static bool utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] == 0)
			return false;
		n = utf8_seq(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static int bj_from_obj(struct arena *a, struct json_object *o, unsigned depth,
		       struct bval **out);

static int bj_container(struct arena *a, struct json_object *o, unsigned depth,
			struct bval *c)
{
	struct bval *child;
	size_t i, n;
	int ret;

	if (depth >= BV_MAX_DEPTH)
		return -EINVAL;
	if (c->type == BV_LIST) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			ret = bj_from_obj(a, json_object_array_get_idx(o, i), depth + 1, &child);
			if (ret)
				return ret;
			bv_list_add(c, child);
		}
		return 0;
	}
	json_object_object_foreach(o, key, val) {
		ret = bj_from_obj(a, val, depth + 1, &child);
		if (ret)
			return ret;
		if (!bv_dict_add(a, c, key, child))
			return -ENOMEM;
	}
	return 0;
}

static int bj_from_obj(struct arena *a, struct json_object *o, unsigned depth,
		       struct bval **out)
{
	struct bval *v = NULL;
	int64_t i;
	uint64_t u;

	switch (json_object_get_type(o)) {
	case json_type_null:
		v = bv_new_str(a, "", 0);
		break;
	case json_type_boolean:
		v = bv_new_int(a, json_object_get_boolean(o) ? 1 : 0);
		break;
	case json_type_int:
		/* json-c keeps values above INT64_MAX as uint64; those become text */
		i = json_object_get_int64(o);
		u = json_object_get_uint64(o);
		if (i == INT64_MAX && u > (uint64_t)INT64_MAX) {
			const char *s = arena_printf(a, "%" PRIu64, u);
			v = s ? bv_new_str(a, s, strlen(s)) : NULL;
		} else {
			v = bv_new_int(a, i);
		}
		break;
	case json_type_double:
		/* json-c remembers the original text of parsed numbers */
		v = bv_new_strz(a, json_object_get_string(o));
		break;
	case json_type_string:
		v = bv_new_str(a, json_object_get_string(o),
			       (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
	case json_type_object: {
		int ret;

		v = json_object_get_type(o) == json_type_array ? bv_new_list(a) : bv_new_dict(a);
		if (!v)
			return -ENOMEM;
		ret = bj_container(a, o, depth, v);
		if (ret)
			return ret;
		break;
	}
	}
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}

int bv_from_json(struct arena *a, const char *buf, size_t len, struct bval **out)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	int ret;

	/* json-c stops at a NUL; JSON text never contains a raw one */
	if (len > INT_MAX - 1 || !utf8_valid(buf, len))
		return -EINVAL;
	tok = json_tokener_new_ex(BV_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* a bare top-level number is only complete once a terminator is seen */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (jerr != json_tokener_success) {
		ret = -EINVAL;   /* json-c 0.16 has no distinct out-of-memory error */
		goto out;
	}
	ret = bj_from_obj(a, o, 0, out);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

static void bj_str(struct strbuf *sb, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, n;
	char esc[6] = { '\\', 'u', '0', '0' };

	sb_putc(sb, '"');
	while (i < len) {
		/* copy the longest run that needs no escaping in one append */
		for (run = i; run < len; run += n) {
			if (s[run] < 0x20 || s[run] == '"' || s[run] == '\\' || s[run] == 0x7f)
				break;
			n = utf8_seq(s + run, len - run);
			if (!n)
				break;
		}
		if (run > i)
			sb_append(sb, s + i, run - i);
		i = run;
		if (i == len)
			break;
		switch (s[i]) {
		case '"':  sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\b': sb_puts(sb, "\\b"); break;
		case '\f': sb_puts(sb, "\\f"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		default:
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 0xf];
			sb_append(sb, esc, sizeof(esc));
		}
		i++;
	}
	sb_putc(sb, '"');
}

static void bj_indent(struct strbuf *sb, int indent, unsigned level)
{
	if (indent < 0)
		return;
	sb_putc(sb, '\n');
	for (unsigned i = 0; i < level * (unsigned)indent; i++)
		sb_putc(sb, ' ');
}

/* indent < 0: compact; else pretty with that many spaces per level. */
static void bj_value(const struct bval *v, struct strbuf *sb, int indent, unsigned level)
{
	const struct bval *c;

	switch (v->type) {
	case BV_STR:
		bj_str(sb, v->str.s, v->str.len);
		break;
	case BV_INT:
		sb_printf(sb, "%" PRId64, v->i);
		break;
	case BV_LIST:
	case BV_DICT:
		sb_putc(sb, v->type == BV_LIST ? '[' : '{');
		for (c = v->c.first; c; c = c->next) {
			if (c != v->c.first)
				sb_putc(sb, ',');
			bj_indent(sb, indent, level + 1);
			if (v->type == BV_DICT) {
				bj_str(sb, c->key, c->key_len);
				sb_puts(sb, indent < 0 ? ":" : ": ");
			}
			bj_value(c, sb, indent, level + 1);
		}
		if (v->c.first)
			bj_indent(sb, indent, level);
		sb_putc(sb, v->type == BV_LIST ? ']' : '}');
		break;
	}
}

int bv_to_json(const struct bval *v, struct strbuf *sb)
{
	bj_value(v, sb, -1, 0);
	return sb->oom ? -ENOMEM : 0;
}

int bv_to_json_pretty(const struct bval *v, struct strbuf *sb)
{
	bj_value(v, sb, 2, 0);
	return sb->oom ? -ENOMEM : 0;
}
