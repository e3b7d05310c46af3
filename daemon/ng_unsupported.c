/* rtpengine's documented offer/answer flags, keys and values that sluice does not
 * implement, each with the reason an operator reads in the log. A request that uses
 * one gets it ignored (the rest of the request is processed as usual); the daemon
 * names each one in a NOTICE line the first time a request uses it, so a proxy
 * configuration that relies on it is noticed without flooding the log.
 *
 * Names compare case-insensitively, with a space and a hyphen equal (rtpengine allows
 * either in flags). "KEY=VALUE" entries name one value of a key that is otherwise
 * supported. docs/ng.md lists the same set. */
#include "ng_request.h"

#include <string.h>

#include "sluice/log.h"

struct unsupported {
	const char *name;
	const char *why;
};

#define NO_SUB "a subscription gets no RTCP"

static const struct unsupported table[] = {
	/* flags */
	{ "NAT-wait", "media is sent to a known endpoint at once" },
	{ "pierce-NAT", "no NAT-opening packets are sent" },
	{ "no-jitter-buffer", "the jitter buffer is set by --jitter-buffer only" },
	{ "detect-DTMF", "in-band DTMF is detected only on transcoded legs" },
	{ "RTCP-mirror", NO_SUB },
	{ "mirror-RTCP", NO_SUB },
	{ "trickle-ICE", "trickle ICE is said only toward a side that said it" },
	{ "generate-mid", "a=mid is kept, never added" },
	{ "debug", "per-call debug logging is not implemented: use --log-level" },
	{ "debugging", "per-call debug logging is not implemented: use --log-level" },
	{ "no-redis-update", "there is no Redis state" },
	{ "SIPREC", "SIPREC is not implemented" },
	{ "reset", "nothing learnt about an endpoint's ICE/SRTP support is kept to reset" },
	{ "reject-ICE", "use ICE=remove in the answer" },
	{ "ICE-reject", "use ICE=remove in the answer" },
	{ "unidirectional", "one-way media is forwarded in the kernel anyway" },
	{ "all", "only one party is selected per request" },
	{ "reuse-codecs", "codecs are negotiated anew in every offer" },
	{ "no-codec-renegotiation", "codecs are negotiated anew in every offer" },
	{ "no-port-latching", "local ports never change over re-offers" },
	{ "no-passthrough", "SRTP is always terminated, never passed through" },
	{ "SDES-static", "SDES keys stay over re-offers unless the suite changes" },
	{ "SDES-nonew", "suite selection is by SDES-no-/SDES-only-" },
	/* keys */
	{ "media-echo", "media echo is not implemented" },
	{ "T.38", "T.38 gateway is not implemented" },
	{ "xmlrpc-callback", "there is no XMLRPC timeout callback" },
	{ "drop-traffic", "use block media" },
	{ "passthrough", "SRTP is always terminated, never passed through" },
	{ "DTMF-log-dest", "DTMF events are logged, not sent" },
	{ "audio-player", "there is no audio player" },
	{ "sdp-attr", "free SDP attribute edits are not implemented" },
	/* values of supported keys */
	{ "OSRTP=offer-legacy", "legacy best-effort SRTP (duplicated m= lines) is not implemented" },
	{ "OSRTP=accept-legacy", "legacy best-effort SRTP (duplicated m= lines) is not implemented" },
	{ "transport-protocol=accept", "an answer keeps the offered protocol" },
};

_Static_assert(sizeof(table) / sizeof(table[0]) <= 64 * NG_UNSUP_WORDS,
	       "ng_request.unsupported is too small for the table");

static char fold(char c)
{
	if (c == ' ' || c == '_')
		return '-';
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same(const char *s, size_t len, const char *lit)
{
	if (strlen(lit) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (fold(s[i]) != fold(lit[i]))
			return false;
	return true;
}

int ng_unsupported_find(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (same(s, len, table[i].name))
			return (int)i;
	return -1;
}

bool ng_unsupported_mark(struct ng_request *r, const char *s, size_t len)
{
	int i = ng_unsupported_find(s, len);

	if (i < 0)
		return false;
	r->unsupported[i / 64] |= 1ull << (i % 64);
	return true;
}

bool ng_unsupported_kv(struct ng_request *r, const char *key, const char *v, size_t vlen)
{
	char buf[64];
	size_t kl = strlen(key);

	if (kl + 1 + vlen >= sizeof(buf))
		return false;
	memcpy(buf, key, kl);
	buf[kl] = '=';
	memcpy(buf + kl + 1, v, vlen);
	return ng_unsupported_mark(r, buf, kl + 1 + vlen);
}

void ng_unsupported_notice(uint64_t noticed[NG_UNSUP_WORDS], const struct ng_request *r)
{
	for (unsigned w = 0; w < NG_UNSUP_WORDS; w++) {
		uint64_t fresh = r->unsupported[w] & ~noticed[w];

		while (fresh) {
			unsigned b = (unsigned)__builtin_ctzll(fresh);
			const struct unsupported *u = &table[w * 64 + b];

			fresh &= fresh - 1;
			ilog(LOG_NOTICE, "NG %s: '%s' is not supported by sluice and was ignored: "
			     "%s (said once per daemon lifetime)", ng_cmd_name(r->cmd), u->name,
			     u->why);
		}
		noticed[w] |= r->unsupported[w];
	}
}

unsigned ng_unsupported_count(void)
{
	return (unsigned)(sizeof(table) / sizeof(table[0]));
}

const char *ng_unsupported_name(unsigned i)
{
	return i < ng_unsupported_count() ? table[i].name : NULL;
}
