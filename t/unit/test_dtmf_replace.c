/* dtmf_replace: each DTMF-security mode applied to one event train (5 updates, the end
 * three times): what each packet becomes, table-driven; mode names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/dtmf_replace.h"

#define TS0 1000u

/* packet k of the train: event 5, durations 160..800, E from the 5th, copies 6, 7 */
static size_t train(uint8_t *p, unsigned k)
{
	unsigned dur = 160 * (k < 4 ? k + 1 : 5);

	memset(p, 0, 16);
	p[0] = 0x80;
	p[1] = 101 | (k == 0 ? 0x80 : 0);
	p[2] = 0;
	p[3] = (uint8_t)k;
	p[4] = TS0 >> 24; p[5] = (TS0 >> 16) & 0xff; p[6] = (TS0 >> 8) & 0xff; p[7] = TS0 & 0xff;
	p[8] = 0x12; p[9] = 0x34; p[10] = 0x56; p[11] = 0x78;
	p[12] = 5;
	p[13] = (uint8_t)((k >= 4 ? 0x80 : 0) | 10);
	p[14] = (uint8_t)(dur >> 8);
	p[15] = (uint8_t)dur;
	return 16;
}

static uint32_t ts_of(const uint8_t *p)
{
	return (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
}

static const struct {
	uint8_t mode, digit;
	int audio_pt;
	unsigned kept;                  /* packets sent on of the 7 */
	int out_pt;                     /* their payload type */
	int out_digit;                  /* event modes: the digit; -1 audio; -2 any but 5 */
} cases[] = {
	{ DTMF_REPLACE_DROP, 0, 0, 0, -1, -1 },
	{ DTMF_REPLACE_SILENCE, 0, 0, 5, 0, -1 },
	{ DTMF_REPLACE_SILENCE, 0, 8, 5, 8, -1 },
	{ DTMF_REPLACE_SILENCE, 0, -1, 0, -1, -1 },     /* no G.711: dropped */
	{ DTMF_REPLACE_TONE, 0, 0, 5, 0, -1 },
	{ DTMF_REPLACE_ZERO, 0, -1, 7, 101, 0 },
	{ DTMF_REPLACE_DIGIT, 11, -1, 7, 101, 11 },
	{ DTMF_REPLACE_RANDOM, 0, -1, 7, 101, -2 },
};

static void test_modes(void **st)
{
	(void)st;
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct dtmf_replace_cfg cfg = { .mode = cases[c].mode, .digit = cases[c].digit };
		struct dtmf_replace r;
		unsigned kept = 0;
		int digit = -1;

		dtmf_replace_init(&r, 7);
		for (unsigned k = 0; k < 7; k++) {
			uint8_t p[400];
			size_t len = train(p, k);

			if (!dtmf_replace_packet(&r, &cfg, cases[c].audio_pt, p, &len, sizeof(p)))
				continue;
			assert_int_equal(p[1] & 0x7f, cases[c].out_pt);
			assert_int_equal(p[3], k);              /* the sequence number stays */
			if (cases[c].out_pt != 101) {           /* one 20 ms slot each */
				assert_int_equal(len, 12 + 160);
				assert_int_equal(ts_of(p), TS0 + 160 * kept);
				assert_false(p[1] & 0x80);
				if (cases[c].mode == DTMF_REPLACE_SILENCE)
					assert_int_equal(p[12 + 80], cases[c].out_pt ? 0xd5 : 0xff);
			} else {
				assert_int_equal(len, 16);
				assert_int_equal(ts_of(p), TS0);
				assert_int_equal(p[13] & 0x3f, 10);
				if (digit >= 0)
					assert_int_equal(p[12], digit);   /* one per event */
				digit = p[12];
			}
			kept++;
		}
		assert_int_equal(kept, cases[c].kept);
		if (cases[c].out_digit >= 0)
			assert_int_equal(digit, cases[c].out_digit);
		else if (cases[c].out_digit == -2)
			assert_true(digit >= 0 && digit <= 15 && digit != 5);
	}
}

static void test_names(void **st)
{
	(void)st;
	assert_int_equal(dtmf_replace_mode_parse("drop", 4), DTMF_REPLACE_DROP);
	assert_int_equal(dtmf_replace_mode_parse("Silence", 7), DTMF_REPLACE_SILENCE);
	assert_int_equal(dtmf_replace_mode_parse("tone", 4), DTMF_REPLACE_TONE);
	assert_int_equal(dtmf_replace_mode_parse("random", 6), DTMF_REPLACE_RANDOM);
	assert_int_equal(dtmf_replace_mode_parse("zero", 4), DTMF_REPLACE_ZERO);
	assert_int_equal(dtmf_replace_mode_parse("DTMF", 4), DTMF_REPLACE_DIGIT);
	assert_int_equal(dtmf_replace_mode_parse("off", 3), -2);
	assert_int_equal(dtmf_replace_mode_parse("loud", 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
