/* Helpers shared by the bencode unit tests. */
#ifndef SLUICE_T_TESTUTIL_H
#define SLUICE_T_TESTUTIL_H

#include <inttypes.h>
#include <stdio.h>

#include "sluice/bencode.h"

/* A JSON-independent rendering of a tree, so expectations do not depend on the code
 * under test: s"text" (bytes outside 0x20..0x7e as \xHH), 42, [a,b], {key=value,...}. */
static inline void tu_describe_bytes(struct strbuf *sb, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			sb_printf(sb, "\\x%02x", c);
		else
			sb_putc(sb, (char)c);
	}
}

static inline void tu_describe(const struct bval *v, struct strbuf *sb)
{
	const struct bval *c;

	switch (v->type) {
	case BV_STR:
		sb_puts(sb, "s\"");
		tu_describe_bytes(sb, v->str.s, v->str.len);
		sb_putc(sb, '"');
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
			if (v->type == BV_DICT) {
				tu_describe_bytes(sb, c->key, c->key_len);
				sb_putc(sb, '=');
			}
			tu_describe(c, sb);
		}
		sb_putc(sb, v->type == BV_LIST ? ']' : '}');
		break;
	}
}

/* n nested lists: "[[...]]" style in bencode ("l" * n + "e" * n), or JSON. */
static inline void tu_nest(struct strbuf *sb, unsigned n, char open, char close)
{
	for (unsigned i = 0; i < n; i++)
		sb_putc(sb, open);
	for (unsigned i = 0; i < n; i++)
		sb_putc(sb, close);
}

#endif
