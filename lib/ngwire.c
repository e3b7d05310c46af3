/* NG datagram framing. */
#include "sluice/ngwire.h"

#include <errno.h>

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ngwire_split(const char *buf, size_t len, struct ngwire_msg *m)
{
	size_t i;

	for (i = 0; i < len && i <= NGWIRE_COOKIE_MAX; i++) {
		if (buf[i] == ' ')
			break;
		if (buf[i] < 0x21 || buf[i] > 0x7e)
			return -EINVAL;
	}
	if (i == 0 || i > NGWIRE_COOKIE_MAX || i + 1 >= len)
		return -EINVAL;
	m->cookie = buf;
	m->cookie_len = i;
	m->body = buf + i + 1;
	m->body_len = len - i - 1;
	return 0;
}

bool ngwire_body_is_json(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && is_ws(body[i]))
		i++;
	return i < len && body[i] == '{';
}

int ngwire_decode(struct arena *a, const char *body, size_t len, struct bval **out,
		  bool *is_json)
{
	bool json = ngwire_body_is_json(body, len);
	size_t used;
	int ret;

	if (is_json)
		*is_json = json;
	if (json)
		return bv_from_json(a, body, len, out);
	ret = bv_decode(a, body, len, out, &used);
	if (ret)
		return ret;
	for (; used < len; used++)
		if (!is_ws(body[used]))
			return -EINVAL;
	return 0;
}

int ngwire_build(struct strbuf *sb, const char *cookie, size_t cookie_len,
		 const struct bval *v, bool json)
{
	sb_append(sb, cookie, cookie_len);
	sb_putc(sb, ' ');
	return json ? bv_to_json(v, sb) : bv_encode(v, sb);
}
