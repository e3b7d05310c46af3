/* dtmf_rewrite: digits played into a forwarded stream by rewriting its packets in place
 * (RFC 4733 event trains with exact fields, in-band G.711 tones a detector reads back,
 * what passes untouched, queueing, pauses, gaps and SSRC changes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <spandsp.h>

#include "sluice/dtmf_rewrite.h"
#include "sluice/rfc4733.h"

#define SSRC    0x11223344u
#define TE      101

struct pkt {
	uint8_t b[256];
	size_t len;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void mk(struct pkt *k, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
	       uint8_t fill, size_t plen)
{
	k->b[0] = 0x80;
	k->b[1] = pt;
	k->b[2] = (uint8_t)(seq >> 8);
	k->b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		k->b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		k->b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memset(k->b + 12, fill, plen);
	k->len = 12 + plen;
}

static struct dtmf_rewrite *make(enum dtmf_rewrite_mode mode, unsigned clock)
{
	struct dtmf_rewrite *rw;
	struct dtmf_rewrite_cfg cfg = { .mode = mode, .event_pt = TE, .skip_pt = TE, .clock = clock };

	assert_int_equal(dtmf_rewrite_create(&rw), 0);
	assert_int_equal(dtmf_rewrite_config(rw, &cfg), 0);
	return rw;
}

/* Feeds PCMU packets (160 samples) from seq/ts onward; returns how many were rewritten
 * and stores the packets. */
static int feed(struct dtmf_rewrite *rw, struct pkt *out, int n, uint16_t seq, uint32_t ts,
		uint8_t pt)
{
	int got = 0;

	for (int i = 0; i < n; i++) {
		mk(&out[i], pt, (uint16_t)(seq + i), ts + 160u * (uint32_t)i, SSRC, 0xff, 160);
		got += dtmf_rewrite_packet(rw, out[i].b, &out[i].len);
	}
	return got;
}

struct ev_expect { int marker, end; unsigned duration; };

static void check_event(const struct pkt *k, int i, uint16_t seq, uint32_t ts0, uint8_t event,
			uint8_t volume, const struct ev_expect *e)
{
	struct rfc4733_event ev;

	if (k->len != 16 || (k->b[1] & 0x7f) != TE || !!(k->b[1] & 0x80) != e->marker ||
	    be32(k->b + 4) != ts0 || be32(k->b + 8) != SSRC ||
	    (uint16_t)(k->b[2] << 8 | k->b[3]) != seq)
		fail_msg("packet %d: len %zu, byte1 %#x, ts %u (want %u), seq %u (want %u)", i,
			 k->len, k->b[1], be32(k->b + 4), ts0, k->b[2] << 8 | k->b[3], seq);
	assert_int_equal(rfc4733_parse(k->b + 12, 4, &ev), 0);
	if (ev.event != event || ev.volume != volume || ev.end != !!e->end ||
	    ev.duration != e->duration)
		fail_msg("packet %d: event %u volume %u end %d duration %u, want %u %u %d %u", i,
			 ev.event, ev.volume, ev.end, ev.duration, event, volume, e->end,
			 e->duration);
}

/* Digit 5 of 200 ms on 20 ms PCMU: nine updates, the end, the end twice again; the
 * packet before and the one after untouched; nothing queued: nothing rewritten. */
static void test_event_train(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 8000);
	struct pkt k[14];

	(void)state;
	assert_int_equal(feed(rw, k, 1, 1000, 50000, 0), 0);
	assert_false(dtmf_rewrite_busy(rw));
	assert_int_equal(dtmf_rewrite_queue(rw, 5, 200, 10, 100), 0);
	assert_true(dtmf_rewrite_busy(rw));
	assert_int_equal(feed(rw, k, 14, 1001, 50160, 0), 12);
	for (int i = 0; i < 12; i++) {
		struct ev_expect e = { i == 0, i >= 9, i >= 9 ? 1600 : 160u * (unsigned)(i + 1) };

		check_event(&k[i], i, (uint16_t)(1001 + i), 50160, 5, 10, &e);
	}
	for (int i = 12; i < 14; i++) {
		assert_int_equal(k[i].len, 172);
		assert_int_equal(k[i].b[1], 0);
		assert_int_equal(be32(k[i].b + 4), 50160 + 160u * (unsigned)i);
	}
	assert_false(dtmf_rewrite_busy(rw));
	assert_int_equal(dtmf_rewrite_played(rw), 1);
	dtmf_rewrite_free(rw);
}

/* Two digits: the second starts once the pause after the first (counted from the
 * digit's end, not from its repeated end packets) has passed; then one with a length
 * that is not a whole number of packets ends exactly. */
static void test_event_queue_and_pause(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 8000);
	struct pkt k[40];
	int idx[40], n = 0;

	(void)state;
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 200, 8, 100), 0);
	assert_int_equal(dtmf_rewrite_queue(rw, 11, 110, 8, 100), 0);
	assert_int_equal(feed(rw, k, 40, 7, 0, 0), 12 + 8);
	for (int i = 0; i < 40; i++)
		if ((k[i].b[1] & 0x7f) == TE)
			idx[n++] = i;
	/* 0..11 the first digit, 12..14 its pause (ends at ts 2400), 15.. the second */
	for (int i = 0; i < 12; i++)
		assert_int_equal(idx[i], i);
	assert_int_equal(idx[12], 15);
	for (int i = 0; i < 8; i++) {
		/* 110 ms = 880 ticks: updates 160..800, the end (880) at the 6th packet */
		struct ev_expect e = { i == 0, i >= 5, i >= 5 ? 880 : 160u * (unsigned)(i + 1) };

		check_event(&k[15 + i], 15 + i, (uint16_t)(7 + 15 + i), 15 * 160, 11, 8, &e);
	}
	assert_false(dtmf_rewrite_busy(rw));
	assert_int_equal(dtmf_rewrite_played(rw), 2);
	dtmf_rewrite_free(rw);
}

/* A codec other than G.711 (48 kHz, 20 ms = 960 ticks): the step comes from the
 * timestamps; the first packet, with nothing before it, counts as 20 ms. */
static void test_event_step_from_timestamps(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 48000);
	struct pkt k[8];
	unsigned want[7] = { 960, 1920, 2880, 3840, 4800, 4800, 4800 };

	(void)state;
	assert_int_equal(dtmf_rewrite_queue(rw, 9, 100, 20, 0), 0);
	for (int i = 0; i < 8; i++) {
		mk(&k[i], 96, (uint16_t)(65533 + i), 0xfffffc40u + 960u * (unsigned)i, SSRC, 0x55, 60);
		dtmf_rewrite_packet(rw, k[i].b, &k[i].len);
	}
	for (int i = 0; i < 7; i++) {
		struct ev_expect e = { i == 0, i >= 4, want[i] };

		check_event(&k[i], i, (uint16_t)(65533 + i), 0xfffffc40u, 9, 20, &e);
	}
	assert_int_equal(k[7].b[1], 96);
	assert_int_equal(k[7].len, 72);
	dtmf_rewrite_free(rw);
}

/* What is not audio passes: RTCP, the sender's own events, comfort noise; a header
 * with CSRCs, an extension and padding keeps CSRCs and extension, loses the padding. */
static void test_event_untouched_and_header(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 8000);
	struct pkt k;
	uint8_t copy[256];
	size_t len;

	(void)state;
	assert_int_equal(dtmf_rewrite_queue(rw, 3, 100, 8, 100), 0);
	mk(&k, 13, 2, 0, SSRC, 0x40, 1);                /* comfort noise */
	assert_int_equal(dtmf_rewrite_packet(rw, k.b, &k.len), 0);
	mk(&k, TE, 3, 0, SSRC, 0x05, 4);                /* the sender's own event */
	memcpy(copy, k.b, k.len);
	len = k.len;
	assert_int_equal(dtmf_rewrite_packet(rw, k.b, &k.len), 0);
	assert_int_equal(k.len, len);
	assert_memory_equal(k.b, copy, len);
	mk(&k, 200, 0, 0, SSRC, 0, 20);                 /* an SR */
	k.b[1] = 200;
	assert_int_equal(dtmf_rewrite_packet(rw, k.b, &k.len), 0);
	assert_int_equal(k.len, 32);
	mk(&k, 0, 4, 0, SSRC, 0xff, 12 + 160);          /* CSRC x1, extension of 1 word, pad 4 */
	k.b[0] = 0x80 | 0x20 | 0x10 | 1;
	memset(k.b + 12, 0xaa, 4);                      /* CSRC */
	memcpy(k.b + 16, "\xbe\xde\x00\x01\x10\x20\x30\x40", 8);
	k.b[k.len - 1] = 4;
	memcpy(copy, k.b, 24);
	assert_int_equal(dtmf_rewrite_packet(rw, k.b, &k.len), 1);
	assert_int_equal(k.len, 24 + 4);
	assert_int_equal(k.b[0], 0x80 | 0x10 | 1);
	assert_memory_equal(k.b + 8, copy + 8, 16);     /* SSRC, CSRC, extension */
	assert_int_equal(k.b[1], 0x80 | TE);
	/* the packet's step: its payload, 172 bytes less CSRC, extension and padding */
	assert_int_equal(k.b[24], 3);
	assert_int_equal(k.b[26] << 8 | k.b[27], 156);
	dtmf_rewrite_free(rw);
}

/* A gap (the sender stopped for 1 s) ends the digit at once; a new SSRC starts it
 * again with the marker; an SSRC change in the pause lets the next digit start. */
static void test_event_gap_and_ssrc(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 8000);
	struct pkt k[4];
	struct rfc4733_event ev;

	(void)state;
	assert_int_equal(dtmf_rewrite_queue(rw, 2, 300, 8, 1000), 0);
	assert_int_equal(dtmf_rewrite_queue(rw, 4, 300, 8, 100), 0);
	assert_int_equal(feed(rw, k, 2, 10, 1000, 0), 2);
	mk(&k[2], 0, 12, 1000 + 8000, SSRC, 0xff, 160);
	assert_int_equal(dtmf_rewrite_packet(rw, k[2].b, &k[2].len), 1);
	assert_int_equal(rfc4733_parse(k[2].b + 12, 4, &ev), 0);
	assert_true(ev.end);
	assert_int_equal(ev.duration, 2400);
	assert_int_equal(be32(k[2].b + 4), 1000);
	assert_int_equal(feed(rw, k, 2, 13, 9160, 0), 2);       /* the end twice more */
	/* the pause runs to 1000 + 2400 + 8000: a new SSRC ends it */
	mk(&k[0], 0, 500, 77, 0xabcdef01u, 0xff, 160);
	assert_int_equal(dtmf_rewrite_packet(rw, k[0].b, &k[0].len), 1);
	assert_int_equal(k[0].b[1], 0x80 | TE);
	assert_int_equal(k[0].b[12], 4);
	mk(&k[1], 0, 1, 5, SSRC, 0xff, 160);                    /* back to the old SSRC */
	assert_int_equal(dtmf_rewrite_packet(rw, k[1].b, &k[1].len), 1);
	assert_int_equal(k[1].b[1], 0x80 | TE);                 /* started again */
	assert_int_equal(be32(k[1].b + 4), 5);
	assert_int_equal(k[1].b[14] << 8 | k[1].b[15], 160);
	dtmf_rewrite_free(rw);
}

struct heard {
	char digits[64];
	int n;
};

static void heard_cb(void *arg, const char *d, int len)
{
	struct heard *h = arg;

	for (int i = 0; i < len && h->n < 63; i++)
		h->digits[h->n++] = d[i];
	h->digits[h->n] = '\0';
}

/* In-band on PCMU and on PCMA: spandsp's detector hears the digits in order; the
 * audio between them (the pause) is the sender's; a digit of 110 ms ends 80 samples
 * into its sixth packet; other codecs pass untouched. */
static void test_inband(void **state)
{
	static const uint8_t pts[] = { 0, 8 };

	(void)state;
	for (size_t c = 0; c < sizeof(pts); c++) {
		struct dtmf_rewrite *rw = make(DTMF_REWRITE_INBAND, 8000);
		uint8_t quiet = pts[c] == 0 ? 0xff : 0xd5;
		dtmf_rx_state_t *drx;
		struct heard h = { .n = 0 };
		struct pkt k[30], g729;
		int16_t pcm[160];
		int rewritten = 0;

		assert_int_equal(dtmf_rewrite_queue(rw, 7, 110, 8, 100), 0);
		assert_int_equal(dtmf_rewrite_queue(rw, 11, 100, 8, 100), 0);
		mk(&g729, 18, 0, 0, SSRC, 0x42, 20);
		assert_int_equal(dtmf_rewrite_packet(rw, g729.b, &g729.len), 0);
		assert_int_equal(g729.b[12], 0x42);
		drx = dtmf_rx_init(NULL, heard_cb, &h);
		for (int i = 0; i < 30; i++) {
			mk(&k[i], pts[c], (uint16_t)i, 160u * (unsigned)i, SSRC, quiet, 160);
			rewritten += dtmf_rewrite_packet(rw, k[i].b, &k[i].len);
			assert_int_equal(k[i].len, 172);
			assert_int_equal(k[i].b[1], pts[c]);
			for (int s = 0; s < 160; s++)
				pcm[s] = pts[c] == 0 ? ulaw_to_linear(k[i].b[12 + s])
						     : alaw_to_linear(k[i].b[12 + s]);
			dtmf_rx(drx, pcm, 160);
		}
		dtmf_rx(drx, (int16_t[160]){ 0 }, 160);
		dtmf_rx_free(drx);
		assert_string_equal(h.digits, "7#");
		/* 7: packets 0-5 (880 samples), pause to sample 1680: 6-10, #: 11-15 */
		assert_int_equal(rewritten, 6 + 5);
		for (int s = 80; s < 160; s++)
			if (k[5].b[12 + s] != quiet)
				fail_msg("sample %d of the digit's last packet not silence", s);
		assert_true(k[5].b[12 + 40] != quiet);
		for (int i = 6; i < 11; i++)
			for (int s = 0; s < 160; s++)
				assert_int_equal(k[i].b[12 + s], quiet);
		assert_int_equal(dtmf_rewrite_played(rw), 2);
		assert_false(dtmf_rewrite_busy(rw));
		dtmf_rewrite_free(rw);
	}
}

/* In-band, a gap longer than the digit: the packet after it is the sender's audio
 * again, untouched, and the digit counts as played. */
static void test_inband_gap(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_INBAND, 8000);
	struct pkt k[2];

	(void)state;
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 200, 8, 100), 0);
	assert_int_equal(feed(rw, k, 2, 1, 0, 8), 2);
	mk(&k[0], 8, 3, 8000, SSRC, 0x55, 160);
	assert_int_equal(dtmf_rewrite_packet(rw, k[0].b, &k[0].len), 0);
	for (int s = 0; s < 160; s++)
		assert_int_equal(k[0].b[12 + s], 0x55);
	assert_false(dtmf_rewrite_busy(rw));
	assert_int_equal(dtmf_rewrite_played(rw), 1);
	dtmf_rewrite_free(rw);
}

static void test_bounds(void **state)
{
	struct dtmf_rewrite *rw = make(DTMF_REWRITE_EVENT, 8000);
	struct dtmf_rewrite_cfg bad = { .mode = DTMF_REWRITE_EVENT, .event_pt = 128, .clock = 8000 };

	(void)state;
	assert_int_equal(dtmf_rewrite_config(rw, &bad), -EINVAL);
	bad.event_pt = 101;
	bad.clock = 0;
	assert_int_equal(dtmf_rewrite_config(rw, &bad), -EINVAL);
	assert_int_equal(dtmf_rewrite_queue(rw, 16, 100, 8, 100), -EINVAL);
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 0, 8, 100), -EINVAL);
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 10001, 8, 100), -EINVAL);
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 100, 64, 100), -EINVAL);
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 100, 8, 10001), -EINVAL);
	for (int i = 0; i < DTMF_REWRITE_MAX; i++)
		assert_int_equal(dtmf_rewrite_queue(rw, 1, 100, 8, 100), 0);
	assert_int_equal(dtmf_rewrite_queue(rw, 1, 100, 8, 100), -ENOBUFS);
	dtmf_rewrite_free(rw);
	dtmf_rewrite_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_train),
		cmocka_unit_test(test_event_queue_and_pause),
		cmocka_unit_test(test_event_step_from_timestamps),
		cmocka_unit_test(test_event_untouched_and_header),
		cmocka_unit_test(test_event_gap_and_ssrc),
		cmocka_unit_test(test_inband),
		cmocka_unit_test(test_inband_gap),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests_name("dtmf_rewrite", tests, NULL, NULL);
}
