/* sdpfrag: RFC 8840 fragments (sections by m= and by a=mid, credentials at both
 * levels, end-of-candidates, limits) and a table of malformed inputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/sdpfrag.h"

static struct sdpfrag f;

static void assert_str(struct sdp_str s, const char *want)
{
	char buf[256];

	assert_true(s.len < sizeof(buf));
	memcpy(buf, s.s ? s.s : "", s.len);
	buf[s.len] = '\0';
	assert_string_equal(buf, want);
}

static int parse(const char *s, const char **why)
{
	return sdpfrag_parse(s, strlen(s), &f, why);
}

/* RFC 8840 9.2's example shape: session credentials, then per m= line. */
static void test_rfc_example(void **state)
{
	static const char s[] =
		"a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
		"a=ice-ufrag:8hhY\r\n"
		"m=audio 9 RTP/AVP 0\r\n"
		"a=mid:1\r\n"
		"a=candidate:1 1 UDP 1658497328 192.168.100.33 5000 typ host\r\n"
		"a=candidate:2 1 UDP 1658497328 96.1.2.3 5000 typ srflx raddr 192.168.100.33 rport 5000\r\n"
		"a=end-of-candidates\r\n"
		"m=video 9 RTP/AVP 31\r\n"
		"a=mid:2\r\n"
		"a=candidate:1 1 UDP 1658497328 192.168.100.33 5002 typ host\r\n";
	const char *why = NULL;

	(void)state;
	assert_int_equal(parse(s, &why), 0);
	assert_str(f.ufrag, "8hhY");
	assert_str(f.pwd, "asd88fgpdd777uzjYhagZg");
	assert_int_equal(f.n_media, 2);
	assert_int_equal(f.media[0].index, 0);
	assert_str(f.media[0].mid, "1");
	assert_int_equal(f.media[0].n_cand, 2);
	assert_str(f.media[0].cand[0], "1 1 UDP 1658497328 192.168.100.33 5000 typ host");
	assert_str(f.media[0].cand[1],
		   "2 1 UDP 1658497328 96.1.2.3 5000 typ srflx raddr 192.168.100.33 rport 5000");
	assert_true(f.media[0].end_of_candidates);
	assert_int_equal(f.media[1].index, 1);
	assert_str(f.media[1].mid, "2");
	assert_int_equal(f.media[1].n_cand, 1);
	assert_false(f.media[1].end_of_candidates);
	assert_false(f.end_of_candidates);
	/* no section ufrag: the session's is in effect */
	assert_str(sdpfrag_ufrag(&f, 0), "8hhY");
	assert_str(sdpfrag_ufrag(&f, 5), "8hhY");
}

static void test_mid_sections_and_overrides(void **state)
{
	/* LF only; sections by a=mid alone; a section ufrag beats the session's; lines
	 * that say nothing for trickle are ignored */
	static const char s[] =
		"a=ice-options:trickle\n"
		"a=ice-ufrag:sess\n"
		"a=mid:a0\n"
		"a=ice-ufrag:own\n"
		"a=ice-pwd:ownpwd\n"
		"c=IN IP4 0.0.0.0\n"
		"a=candidate:1 1 UDP 1 127.0.0.1 1000 typ host\n"
		"a=mid:a1\n"
		"a=rtcp-mux\n"
		"a=candidate:2 1 UDP 1 127.0.0.1 2000 typ host\n"
		"a=end-of-candidates";
	(void)state;
	assert_int_equal(parse(s, NULL), 0);
	assert_int_equal(f.n_media, 2);
	assert_int_equal(f.media[0].index, -1);
	assert_int_equal(f.media[1].index, -1);
	assert_str(f.media[0].mid, "a0");
	assert_str(f.media[1].mid, "a1");
	assert_str(sdpfrag_ufrag(&f, 0), "own");
	assert_str(f.media[0].pwd, "ownpwd");
	assert_str(sdpfrag_ufrag(&f, 1), "sess");
	assert_int_equal(f.media[0].n_cand, 1);
	assert_int_equal(f.media[1].n_cand, 1);
	assert_true(f.media[1].end_of_candidates);      /* last line without EOL */
	assert_false(f.media[0].end_of_candidates);
}

static void test_session_candidates_and_empty(void **state)
{
	(void)state;
	assert_int_equal(parse("", NULL), 0);
	assert_int_equal(f.n_media, 0);
	assert_int_equal(parse("\r\n\r\n", NULL), 0);
	assert_int_equal(f.n_media, 0);
	/* candidates with no section: counted, nowhere to go */
	assert_int_equal(parse("a=candidate:1 1 UDP 1 127.0.0.1 1 typ host\r\n"
			       "a=end-of-candidates\r\n", NULL), 0);
	assert_int_equal(f.n_media, 0);
	assert_int_equal(f.session_cand, 1);
	assert_true(f.end_of_candidates);
	/* m= then a=mid: one section; an m= without a=mid keeps its position */
	assert_int_equal(parse("m=audio 9 RTP/AVP 0\r\nm=audio 9 RTP/AVP 0\r\na=mid:x\r\n"
			       "a=candidate:1 1 UDP 1 127.0.0.1 1 typ host\r\n", NULL), 0);
	assert_int_equal(f.n_media, 2);
	assert_int_equal(f.media[0].mid.len, 0);
	assert_int_equal(f.media[1].index, 1);
	assert_str(f.media[1].mid, "x");
	assert_int_equal(f.media[1].n_cand, 1);
	/* prefixes of the attribute names are other attributes */
	assert_int_equal(parse("a=mid:1\r\na=candidatex:1\r\na=midx:2\r\n", NULL), 0);
	assert_int_equal(f.n_media, 1);
	assert_int_equal(f.media[0].n_cand, 0);
}

static void test_limits(void **state)
{
	char buf[8192];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "m=audio 9 RTP/AVP 0\r\n");
	for (int i = 0; i < SDPFRAG_MAX_CAND + 3; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "a=candidate:%d 1 UDP 1 127.0.0.1 %d typ host\r\n", i, 1000 + i);
	assert_int_equal(sdpfrag_parse(buf, n, &f, NULL), 0);
	assert_int_equal(f.media[0].n_cand, SDPFRAG_MAX_CAND);
	assert_int_equal(f.media[0].over, 3);

	n = 0;
	for (int i = 0; i < SDPFRAG_MAX_MEDIA; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a=mid:%d\r\n", i);
	assert_int_equal(sdpfrag_parse(buf, n, &f, NULL), 0);
	assert_int_equal(f.n_media, SDPFRAG_MAX_MEDIA);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a=mid:one-too-many\r\n");
	assert_int_equal(sdpfrag_parse(buf, n, &f, NULL), -E2BIG);
}

static void test_malformed(void **state)
{
	static const struct { const char *in; size_t len; const char *why; } bad[] = {
		/*  1 */ { "hello world", 0, "not an SDP line" },
		/*  2 */ { "a=mid:1\r\nnot sdp\r\n", 0, "not an SDP line" },
		/*  3 */ { "A=mid:1\r\n", 0, "not an SDP line" },
		/*  4 */ { "a\r\n", 0, "not an SDP line" },
		/*  5 */ { "=x\r\n", 0, "not an SDP line" },
		/*  6 */ { "a=mid:1\x01\r\n", 0, "control character" },
		/*  7 */ { "a=mid:1\0x\r\n", 10, "control character" },
		/*  8 */ { "a=mid:1\rX\r\n", 0, "control character" },
		/*  9 */ { "m=\r\n", 0, "m= line without a media type" },
		/* 10 */ { "m= audio 9\r\n", 0, "m= line without a media type" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);

		(void)state;
		if (sdpfrag_parse(bad[i].in, len, &f, &why) != -EINVAL || !why ||
		    strcmp(why, bad[i].why))
			fail_msg("case %zu: %s", i + 1, why ? why : "(accepted)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_mid_sections_and_overrides),
		cmocka_unit_test(test_session_candidates_and_empty),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
