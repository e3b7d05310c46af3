/* libFuzzer target: the secure stream handler's packet path (daemon/secure_handler.c):
 * early() (STUN -> ICE agent) then packet() (RFC 7983 demux -> DTLS handshake or SRTP
 * unprotect -> protect for the sink). One call, two sides, both SDES-keyed, the
 * receiving side also with a lite ICE agent and a DTLS server endpoint.
 * Input: byte 0 picks the stream (bit 0: RTCP component, bit 1: rtcp-mux on),
 * whether a valid SRTP packet is made of the rest (bit 2: the rest is plain RTP/RTCP
 * protected with the sender's key first, so the fuzzer reaches the forward path) and
 * whether side A's RTCP port runs a DTLS server endpoint of its own (bit 3, as without
 * rtcp-mux; its SRTCP is then unkeyed); the rest is the datagram. Sockets are -1, so nothing is sent: relay_emit() refuses
 * a stream without a socket after reading only the (zeroed, opaque) emitter's worker
 * pointer.
 * Properties: no crash, no read past the packet, every packet that is not forwarded
 * is counted as a stream error or consumed by early(). */
#include <stdlib.h>
#include <string.h>

#include "../../daemon/call.h"
#include "../../daemon/daemon.h"
#include "../../daemon/secure.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define CAP 4096

static struct call call;
static struct party pa, pb;
static struct media ma, mb;
static struct dtls_cert *cert;
static struct dtls *rtcp_ep;    /* side A's RTCP endpoint while bit 3 is set */
static struct srtpw sender;     /* what the peer of side A protects with */
static _Alignas(64) uint8_t emitter[1 << 17];   /* stands in for struct relay_emitter */

static void side(struct media *m, struct party *p, struct media *peer, uint16_t port)
{
	m->party = p;
	m->index = 1;
	m->port = port;
	m->rtp.media = m->rtcp.media = m;
	m->rtp.component = COMP_RTP;
	m->rtcp.component = COMP_RTCP;
	m->rtp.fd = m->rtcp.fd = -1;
	m->rtp.sink = &peer->rtp;
	m->rtcp.sink = &peer->rtcp;
	p->call = &call;
	p->media[0] = m;
	p->n_media = 1;
}

static void keys(struct secure_media *sm, uint8_t fill)
{
	struct srtpw_key k = { .suite = SRTPW_AES_CM_128_HMAC_SHA1_80 };

	memset(k.master, fill, sizeof(k.master));
	sm->tp = SEC_SDES;
	CHECK(!secure_srtp_set(&sm->rx, &sm->rx_key, &k, SRTPW_INBOUND));
	k.master[0] ^= 0xff;
	CHECK(!secure_srtp_set(&sm->tx, &sm->tx_key, &k, SRTPW_OUTBOUND));
	sm->suite = k.suite;
}

static void setup(void)
{
	struct srtpw_key k = { .suite = SRTPW_AES_CM_128_HMAC_SHA1_80 };
	union sockaddr_u la;
	struct secure_media *a, *b;

	call.callid = "fuzz";
	side(&ma, &pa, &mb, 30000);
	side(&mb, &pb, &ma, 30002);
	pa.peer = &pb;
	pb.peer = &pa;
	a = secure_get(&ma);
	b = secure_get(&mb);
	CHECK(a && b);
	keys(a, 0x11);
	keys(b, 0x22);
	memset(k.master, 0x11, sizeof(k.master));
	CHECK(!srtpw_init(&sender, &k, SRTPW_OUTBOUND));
	a->ice = calloc(1, sizeof(*a->ice));
	CHECK(a->ice && !ice_agent_init(a->ice, true, false, 2));
	netaddr_parse("127.0.0.1:30000", 0, false, &la);
	a->cands.idx[0][0] = (int8_t)ice_add_local(a->ice, 1, &la);
	netaddr_parse("127.0.0.1:30001", 0, false, &la);
	a->cands.idx[1][0] = (int8_t)ice_add_local(a->ice, 2, &la);
	CHECK(!ice_set_remote_creds(a->ice, "peer", 4, "0123456789abcdefghijkl", 22));
	CHECK(!dtls_cert_new(&cert));
	ma.rtp.handler = ma.rtcp.handler = &a->h;
	mb.rtp.handler = mb.rtcp.handler = &b->h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[CAP];
	struct secure_media *a;
	struct stream *in;
	union sockaddr_u src;
	uint64_t errs;
	size_t len;

	if (!cert)
		setup();
	a = ma.sec;
	if (!a->dtls || dtls_state(a->dtls) >= DTLS_FAILED) {
		dtls_free(a->dtls);
		CHECK(!dtls_new(&a->dtls, cert, false));
	}
	if (!rtcp_ep || dtls_state(rtcp_ep) >= DTLS_FAILED) {
		dtls_free(rtcp_ep);
		CHECK(!dtls_new(&rtcp_ep, cert, false));
	}
	if (size < 1 || size - 1 > CAP - SRTPW_TAILROOM)
		return 0;
	ma.rtcp_mux = data[0] & 2;
	a->rtcp.dtls = data[0] & 8 ? rtcp_ep : NULL;
	in = data[0] & 1 ? &ma.rtcp : &ma.rtp;
	len = size - 1;
	memcpy(buf, data + 1, len);
	if (data[0] & 4) {
		if (in->component == COMP_RTCP || (len > 1 && buf[1] >= 192 && buf[1] <= 223))
			srtpw_protect_rtcp(&sender, buf, &len, CAP);
		else
			srtpw_protect_rtp(&sender, buf, &len, CAP);
	}
	netaddr_parse("127.0.0.1:4000", 0, false, &src);
	if (a->h.ops->early(&a->h, in, &src, buf, len, 1000000) != EARLY_PASS)
		return 0;
	errs = in->stats.errors;
	if (a->h.ops->auth(&a->h, in, buf, &len))
		return 0;
	a->h.ops->packet(&a->h, in, buf, len, CAP, (struct relay_emitter *)emitter, 1000000);
	/* dropped packets are counted; a forwarded one was re-protected for side B */
	CHECK(in->stats.errors == errs || in->stats.errors == errs + 1);
	return 0;
}
