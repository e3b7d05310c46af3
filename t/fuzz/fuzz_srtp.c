/* libFuzzer target: SRTP/SRTCP unprotect of arbitrary packets.
 * The first byte picks the key variant (suite, MKI); the rest is the packet. Properties:
 *   - unprotect of arbitrary bytes never crashes, never writes past the packet, and
 *     (without the key) never succeeds in practice: only documented errors come back;
 *   - protect of the bytes (when they look like RTP/RTCP) followed by unprotect gives
 *     the bytes back;
 *   - contexts are recycled regularly: no leak. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/srtp.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAXPKT 2048

static bool known_err(int e)
{
	return e == -EINVAL || e == -EBADMSG || e == -EALREADY || e == -ENOKEY ||
	       e == -EKEYEXPIRED || e == -EIO;
}

static void one(struct srtpw *tx, struct srtpw *rx, const uint8_t *p, size_t n, bool rtcp)
{
	uint8_t buf[MAXPKT + SRTPW_TAILROOM], orig[MAXPKT];
	size_t len = n;
	int ret;

	memcpy(buf, p, n);
	ret = (rtcp ? srtpw_unprotect_rtcp : srtpw_unprotect_rtp)(rx, buf, &len);
	CHECK(ret == 0 || known_err(ret));
	CHECK(len <= n);

	memcpy(buf, p, n);
	memcpy(orig, p, n);
	len = n;
	ret = (rtcp ? srtpw_protect_rtcp : srtpw_protect_rtp)(tx, buf, &len, sizeof(buf));
	if (ret) {
		CHECK(known_err(ret));
		return;
	}
	CHECK(len > n && len <= n + SRTPW_TAILROOM);
	ret = (rtcp ? srtpw_unprotect_rtcp : srtpw_unprotect_rtp)(rx, buf, &len);
	/* -EALREADY: index seen in this input already. -EBADMSG only once an SSRC was
	 * forgotten (more than SRTP_SLOTS in this context): the two sides may then have
	 * forgotten different ones and guess different ROCs, as real peers would */
	CHECK(ret == 0 || ret == -EALREADY ||
	      (ret == -EBADMSG && (srtpw_evicted(tx) || srtpw_evicted(rx))));
	if (!ret)
		CHECK(len == n && !memcmp(buf, orig, n));
}

/* Contexts per key variant (every suite, without and with an MKI), recycled every
 * RECYCLE inputs so that fresh state (first packet of an SSRC) is exercised too. */
#define VARIANTS (2 * (SRTPW_SUITE_COUNT - 1))
#define RECYCLE  512

static struct {
	struct srtpw tx, rx;
	unsigned uses;
} ctx[VARIANTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srtpw_key k;
	unsigned v;

	if (size < 1 || size > MAXPKT)
		return 0;
	v = data[0] % VARIANTS;
	if (!srtpw_is_set(&ctx[v].tx) || ++ctx[v].uses >= RECYCLE) {
		srtpw_free(&ctx[v].tx);
		srtpw_free(&ctx[v].rx);
		memset(&k, 0, sizeof(k));
		k.suite = (enum srtpw_suite)(1 + v % (SRTPW_SUITE_COUNT - 1));
		for (unsigned i = 0; i < sizeof(k.master); i++)
			k.master[i] = (uint8_t)(i * 13 + 1);
		if (v >= SRTPW_SUITE_COUNT - 1) {
			k.mki_len = (v & 1) ? 4 : 1;
			k.mki = 7;
		}
		CHECK(srtpw_init(&ctx[v].tx, &k, SRTPW_OUTBOUND) == 0);
		CHECK(srtpw_init(&ctx[v].rx, &k, SRTPW_INBOUND) == 0);
		ctx[v].uses = 0;
	}
	one(&ctx[v].tx, &ctx[v].rx, data + 1, size - 1,
	    size > 2 && data[2] >= 192 && data[2] <= 223);
	return 0;
}
