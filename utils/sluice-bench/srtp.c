/* SDES-SRTP calls (srtp mode, or --srtp with plain/ramp): the caller A speaks SRTP with
 * a suite of --srtp, the callee B plain RTP, or SRTP too with the suite of --srtp-b
 * (SRTP <-> SRTP with different keys). The generator's SRTP is sluice's own transform
 * (lib/srtp.c), checked against libsrtp2 and the RFC vectors by the unit tests; against
 * rtpengine it is also the interoperability test of both.
 *
 * Keys: A offers one a=crypto line with a fresh key (tag 1); the relay's offer toward
 * B (when B is SRTP) lists its suites, B answers the line of its suite with a key of its
 * own; the relay's answer to A carries the relay's key toward A. So every SRTP side has
 * two contexts: tx (what it sends, its own key) and rx (what the relay sends it). Per
 * packet the relay unprotects once and, toward an SRTP side, protects once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "sluice/bencode.h"
#include "sluice/sdes.h"
#include "sluice/sdp.h"

int bsrtp_init(struct bench *b)
{
	const char *n[2] = { b->o.srtp, b->o.srtp_b };

	for (int side = 0; side < 2; side++) {
		b->srtp_suite[side] = SRTPW_SUITE_NONE;
		if (!n[side])
			continue;
		b->srtp_suite[side] = srtpw_suite_by_name(n[side], strlen(n[side]));
		if (b->srtp_suite[side] == SRTPW_SUITE_NONE)
			return -EINVAL;
	}
	if (b->o.srtp_b && !b->o.srtp)
		return -EINVAL;         /* B SRTP needs A SRTP (the offer carries A's key) */
	return 0;
}

bool bsrtp_side(const struct bench *b, int side)
{
	return b->srtp_suite[side] != SRTPW_SUITE_NONE;
}

/* Turn a plain SDP of callmsg_sdp() into RTP/SAVP with one a=crypto line. */
static int savp_sdp(struct strbuf *sdp, const struct sdes_crypto *k)
{
	char v[SDES_VALUE_MAX];
	const char *m = strstr(sdp->buf, " RTP/AVP ");
	struct strbuf out;

	if (!m || sdes_format(k, v, sizeof(v)) < 0)
		return -EINVAL;
	sb_init(&out);
	sb_printf(&out, "%.*s RTP/SAVP %sa=crypto:%s\r\n", (int)(m - sdp->buf), sdp->buf,
		  m + strlen(" RTP/AVP "), v);
	sb_free(sdp);
	*sdp = out;
	return 0;
}

int bsrtp_own_key(struct bench *b, struct call *c, int side, uint32_t tag, struct strbuf *sdp)
{
	struct stream *s = &b->streams[c->idx * 2 + side];
	struct sdes_crypto k;
	int e;

	srtpw_free(&s->tx);
	if ((e = sdes_generate(&k, tag, b->srtp_suite[side])))
		return e;
	if ((e = srtpw_init(&s->tx, &k.key, SRTPW_OUTBOUND)))
		return e;
	return savp_sdp(sdp, &k);
}

int bsrtp_relay_key(struct bench *b, struct call *c, int side, struct bval *reply,
		    uint32_t *tag)
{
	struct stream *s = &b->streams[c->idx * 2 + side];
	size_t len;
	const char *text = bv_dict_get_str(reply, "sdp", &len);
	struct sdp sdp;
	struct sdp_str v;
	struct sdes_crypto k;

	srtpw_free(&s->rx);
	if (!text || sdp_parse(&sdp, text, len, NULL))
		return -EINVAL;
	for (unsigned n = 0; sdp_attr(&sdp, 0, "crypto", n, &v); n++) {
		if (sdes_parse(v.s, v.len, &k) || k.key.suite != b->srtp_suite[side])
			continue;
		if (tag)
			*tag = k.tag;
		return srtpw_init(&s->rx, &k.key, SRTPW_INBOUND);
	}
	return -ENOENT;
}

/* The payload after the stamp, a function of seq: what arrives must be it, byte for
 * byte, after a decrypt and an encrypt by the relay. */
static uint8_t fill_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131 + i * 7);
}

void bsrtp_fill(uint8_t *p, size_t len, uint32_t seq)
{
	for (size_t i = BENCH_HDR + BENCH_STAMP; i < len; i++)
		p[i] = fill_byte(seq, i);
}

bool bsrtp_check(const uint8_t *p, size_t len, uint32_t seq)
{
	for (size_t i = BENCH_HDR + BENCH_STAMP; i < len; i++)
		if (p[i] != fill_byte(seq, i))
			return false;
	return true;
}

int bsrtp_protect(struct stream *s, uint8_t *p, size_t *len)
{
	if (!srtpw_is_set(&s->tx))
		return 0;
	return srtpw_protect_rtp(&s->tx, p, len, BENCH_PKT_MAX);
}

int bsrtp_unprotect(struct stream *s, uint8_t *p, size_t *len)
{
	if (!srtpw_is_set(&s->rx))
		return 0;
	return srtpw_unprotect_rtp(&s->rx, p, len);
}

void bsrtp_free(struct bench *b)
{
	for (unsigned i = 0; i < b->cap_calls * 2; i++) {
		srtpw_free(&b->streams[i].tx);
		srtpw_free(&b->streams[i].rx);
	}
}
