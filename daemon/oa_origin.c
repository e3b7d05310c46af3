/* o= username and version, s= session name, kept per receiving party (oa_origin.h). */
#include "oa_origin.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the body without its o= line: "the same SDP" whatever o= says */
static uint64_t body_hash(const char *s, size_t len, size_t o_at, size_t o_end)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		if (i == o_at)
			i = o_end;
		if (i >= len)
			break;
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	}
	return h;
}

/* Field k (0-based, space separated) of the o= value [v, end). */
static bool field(const char *v, const char *end, unsigned k, const char **fs, size_t *fl)
{
	const char *p = v;

	for (unsigned i = 0;; i++) {
		const char *e = memchr(p, ' ', (size_t)(end - p));

		if (!e)
			e = end;
		if (i == k) {
			*fs = p;
			*fl = (size_t)(e - p);
			return *fl > 0;
		}
		if (e == end)
			return false;
		p = e + 1;
	}
}

/* Replace [at, at+len) of sb with s. */
static int splice(struct strbuf *sb, size_t at, size_t len, const char *s, size_t slen)
{
	size_t tail = sb->len - at - len;

	if (slen > len && sb_append(sb, s, slen - len))
		return -ENOMEM;
	memmove(sb->buf + at + slen, sb->buf + at + len, tail);
	memcpy(sb->buf + at, s, slen);
	sb->len = at + slen + tail;
	sb->buf[sb->len] = '\0';
	return 0;
}

int oa_origin_fix(struct party *to, struct strbuf *sb, bool username, bool version)
{
	struct party_origin *po = &to->sent;
	const char *o, *end, *f;
	size_t o_at, fl;
	char ver[24];
	uint64_t h;
	int e;

	if (!username && !version)
		return 0;
	o = sb->len > 2 && !strncmp(sb->buf, "o=", 2) ? sb->buf : strstr(sb->buf, "\r\no=");
	if (!o)
		return -EINVAL;
	if (o != sb->buf)
		o += 2;
	o_at = (size_t)(o - sb->buf);
	end = strstr(o, "\r\n");
	if (!end || !field(o + 2, end, 2, &f, &fl))
		return -EINVAL;
	h = body_hash(sb->buf, sb->len, o_at, (size_t)(end + 2 - sb->buf));
	if (version) {
		if (!po->have_version) {
			char tmp[24];

			snprintf(tmp, sizeof(tmp), "%.*s", (int)(fl < 20 ? fl : 20), f);
			po->version = strtoull(tmp, NULL, 10);
			po->have_version = true;
		} else if (h != po->hash) {
			po->version++;
		}
		po->hash = h;
		snprintf(ver, sizeof(ver), "%llu", (unsigned long long)po->version);
		if ((e = splice(sb, (size_t)(f - sb->buf), fl, ver, strlen(ver))))
			return e;
	}
	if (username) {
		end = strstr(sb->buf + o_at, "\r\n");
		if (!field(sb->buf + o_at + 2, end, 0, &f, &fl))
			return -EINVAL;
		if (!po->username[0] && fl < sizeof(po->username)) {
			memcpy(po->username, f, fl);
			po->username[fl] = '\0';
		}
		if (po->username[0])
			return splice(sb, (size_t)(f - sb->buf), fl, po->username,
				      strlen(po->username));
	}
	return 0;
}

int oa_session_name_fix(struct party *to, struct strbuf *sb)
{
	struct party_origin *po = &to->sent;
	const char *s, *end;
	size_t at, len;

	s = sb->len > 2 && !strncmp(sb->buf, "s=", 2) ? sb->buf : strstr(sb->buf, "\r\ns=");
	if (!s)
		return -EINVAL;
	if (s != sb->buf)
		s += 2;
	at = (size_t)(s - sb->buf) + 2;
	if (!(end = strstr(s, "\r\n")))
		return -EINVAL;
	len = (size_t)(end - sb->buf) - at;
	/* the first one sent to the party (a longer one is sent as it is, never cut) */
	if (!po->session_name[0] && len < sizeof(po->session_name)) {
		memcpy(po->session_name, sb->buf + at, len);
		po->session_name[len] = '\0';
	}
	if (!po->session_name[0])
		return 0;
	return splice(sb, at, len, po->session_name, strlen(po->session_name));
}
