/* The DTMF-security keys and the delay buffer (block DTMF, offer, answer): `delay-buffer`
 * (ms), `DTMF-delay` (ms), `DTMF-security` (mode), the triggers (`trigger`,
 * `trigger-end`, their modes and limits), `volume` (dB of the tone, sign ignored), `frequency` or
 * `frequencies` (Hz: an integer, a comma-separated string or a list), and `digit` or
 * `code` for the DTMF mode. Each as a dictionary key or a "KEY=VALUE" flag; spaces and
 * hyphens alike. A value sluice cannot read is ignored (as rtpengine does: it logs
 * it), so a proxy's request is never refused for it. */
#include "ng_request.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "sluice/dtmf_replace.h"
#include "sluice/rfc4733.h"

static bool same(const char *s, size_t len, const char *lit)
{
	if (strlen(lit) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = s[i] == ' ' || s[i] == '_' ? '-' : s[i], b = lit[i];

		if (tolower((unsigned char)a) != tolower((unsigned char)b))
			return false;
	}
	return true;
}

static int to_int(const char *s, size_t len, long long *out)
{
	char buf[24], *end;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtoll(buf, &end, 10);
	return *end ? -EINVAL : 0;
}

/* "400", "400,500" */
static int add_freqs(struct ng_request *r, const char *s, size_t len)
{
	while (len) {
		const char *c = memchr(s, ',', len);
		size_t n = c ? (size_t)(c - s) : len;
		long long f;

		if (to_int(s, n, &f) || f < 1 || f > 3999)     /* below Nyquist at 8 kHz */
			return -EINVAL;
		if (r->dsec.n_freqs < DTMF_REPLACE_FREQS)
			r->dsec.freqs[r->dsec.n_freqs++] = (uint16_t)f;
		s += n + (c ? 1 : 0);
		len -= n + (c ? 1 : 0);
	}
	return 0;
}

/* DTMF digits (0-9, *, #, A-D), at most 16. */
static int set_digits(char *dst, const char *v, size_t vl)
{
	if (!vl || vl > 16)
		return -EINVAL;
	for (size_t i = 0; i < vl; i++)
		if (rfc4733_digit_event(v[i]) < 0)
			return -EINVAL;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
	return 0;
}

/* One key and its value as a string (an integer key's value printed). -EINVAL for a
 * bad value; 1: not one of ours. */
static int take(struct ng_request *r, const char *k, size_t kl, const char *v, size_t vl)
{
	long long n;

	if (same(k, kl, "delay-buffer")) {
		if (to_int(v, vl, &n) || n < 0)
			return -EINVAL;
		r->dsec.delay_buffer = n > 30000 ? 30000 : (int)n;
	} else if (same(k, kl, "DTMF-delay")) {
		if (to_int(v, vl, &n) || n < 0)
			return -EINVAL;
		r->dsec.dtmf_delay = n > 30000 ? 30000 : (int)n;
	} else if (same(k, kl, "trigger")) {
		return set_digits(r->dsec.trigger, v, vl);
	} else if (same(k, kl, "trigger-end") || same(k, kl, "end-trigger")) {
		return set_digits(r->dsec.trigger_end, v, vl);
	} else if (same(k, kl, "DTMF-security-trigger") ||
		   same(k, kl, "DTMF-security-trigger-end")) {
		if ((n = dtmf_replace_mode_parse(v, vl)) == -1)
			return -EINVAL;
		*(kl > 21 ? &r->dsec.trig_end_mode : &r->dsec.trig_mode) = (int)n;
	} else if (same(k, kl, "trigger-end-time") || same(k, kl, "end-trigger-time") ||
		   same(k, kl, "trigger-end-digits") || same(k, kl, "end-trigger-digits")) {
		if (to_int(v, vl, &n) || n < 0 || n > 86400000)
			return -EINVAL;
		*(k[kl - 1] == 's' ? &r->dsec.trig_end_digits : &r->dsec.trig_end_ms) = (int)n;
	} else if (same(k, kl, "DTMF-security")) {
		if ((n = dtmf_replace_mode_parse(v, vl)) == -1)
			return -EINVAL;
		r->dsec.mode = (int)n;
	} else if (same(k, kl, "volume")) {
		if (to_int(v, vl, &n) || n < -63 || n > 63)
			return -EINVAL;
		r->dsec.volume = (int)(n < 0 ? -n : n);
	} else if (same(k, kl, "frequency") || same(k, kl, "frequencies")) {
		return add_freqs(r, v, vl);
	} else if (same(k, kl, "digit") || same(k, kl, "code")) {
		n = vl == 1 ? rfc4733_digit_event(v[0]) : -1;
		if (n < 0 && (to_int(v, vl, &n) || n > 15))
			return -EINVAL;
		r->dsec.digit = (int)n;
	} else {
		return 1;
	}
	return 0;
}

bool ng_dtmf_flag(struct ng_request *r, const char *k, size_t kl, const char *v, size_t vl)
{
	return take(r, k, kl, v, vl) <= 0;
}

static bool ours(const char *k, size_t kl)
{
	static const char *const names[] = {
		"delay-buffer", "DTMF-delay", "DTMF-security", "trigger", "trigger-end",
		"end-trigger", "DTMF-security-trigger", "DTMF-security-trigger-end",
		"trigger-end-time", "end-trigger-time", "trigger-end-digits",
		"end-trigger-digits", "volume", "frequency", "frequencies",
		"digit", "code",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (same(k, kl, names[i]))
			return true;
	return false;
}

static int take_val(struct ng_request *r, const char *key, const struct bval *v)
{
	char buf[24];
	int n;

	if (v->type == BV_STR)
		return take(r, key, strlen(key), v->str.s, v->str.len);
	if (v->type != BV_INT)
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), "%lld", (long long)v->i);
	return take(r, key, strlen(key), buf, (size_t)n);
}

void ng_dtmf_keys(const struct bval *d, struct ng_request *r)
{
	for (const struct bval *e = d->c.first; e; e = e->next) {
		char key[32];

		if (!ours(e->key, e->key_len))
			continue;
		memcpy(key, e->key, e->key_len);
		key[e->key_len] = '\0';
		if (e->type != BV_LIST) {
			take_val(r, key, e);
			continue;
		}
		for (const struct bval *f = e->c.first; f; f = f->next)
			take_val(r, "frequency", f);    /* the list form is frequencies' */
	}
}
