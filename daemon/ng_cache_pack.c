/* Raw deflate with a preset dictionary. Replies are short: without a dictionary deflate
 * has nothing to refer back to in the first few hundred bytes and an offer reply shrinks
 * by a third; with the strings every reply repeats already "seen", by more than half,
 * and a delete reply's statistics (the same keys per stream) by far more. Level 1: the
 * reply is built on the request path and every microsecond there is the proxy's. */
#include "ng_cache_pack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define WBITS  15                       /* negative in the calls: raw deflate */
#define LEVEL  1
#define MEMLVL 8

/* What NG replies are made of. deflate finds a match more cheaply the closer it is to
 * the data, so the most common strings come last. Changing it makes every reply packed
 * before unreadable: the cache lives in memory only, so that is safe. */
static const char dict[] =
	"4:wait5:sfrag7:warning13:error-reason5:error"
	"a=ssrc:cname:\r\na=msid:\r\na=extmap:\r\na=rtcp-fb:\r\na=mid:\r\n"
	"a=group:BUNDLE \r\na=msid-semantic: WMS\r\n"
	"a=fingerprint:sha-256 \r\na=setup:actpass\r\na=setup:active\r\na=setup:passive\r\n"
	"a=crypto:1 AEAD_AES_256_GCM inline:\r\na=crypto:2 AEAD_AES_128_GCM inline:\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"
	"UDP/TLS/RTP/SAVPF RTP/SAVPF RTP/SAVP RTP/AVPF \r\n"
	"a=ice-ufrag:\r\na=ice-pwd:\r\na=ice-options:trickle\r\na=ice-lite\r\n"
	"a=end-of-candidates\r\na=candidate: 1 UDP 2130706431  typ host\r\na=candidate: 2 UDP "
	"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:9 G722/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"
	"a=rtpmap:96 telephone-event/48000\r\n"
	"a=sendonly\r\na=recvonly\r\na=inactive\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
	"a=maxptime:\r\na=ptime:20\r\n"
	"c=IN IP6 ::1\r\n"
	"v=0\r\no=- 1 IN IP4 \r\ns=-\r\ns=SIP Call\r\nt=0 0\r\nm=audio  RTP/AVP 0 8 101\r\n"
	"c=IN IP4 127.0.0.1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\na=rtcp:"
	"7:totalsd4:RTCPd3:RTPd6:mediasld5:indexi1e4:type5:audio8:protocol7:RTP/AVP"
	"5:codec9:PCMU/80009:PCMA/80009:G722/800010:opus/48000"
	"4:ssrcd11:average MOSd10:lowest MOSd11:highest MOSd3:MOS11:packet loss6:jitter"
	"15:round-trip time9:reporting8:userspace6:kernel13:not in kernel"
	"7:createdi10:created_usi11:last signali16:in dialogue with4:tagsd1:ad3:tag1:"
	"6:filled4:send4:recv5:flagsl3:RTP4:RTCP"
	"10:forwarding9:userspace15:foreign packetsi0e11:last packeti"
	"19:advertised endpointd6:family4:IPv48:endpointd6:family4:IPv47:address9:127.0.0.1"
	"4:porti5:statsd7:packetsi0e5:bytesi0e6:errorsi0eeed10:local porti"
	"13:local address9:127.0.0.16:family4:IPv4"
	"7:streamsld10:local porti3:sdp6:result2:oke";

struct ng_pack {
	z_stream def, inf;
	unsigned char *buf;             /* packed output, then unpacked output */
	size_t cap;
	int def_ok, inf_ok;
};

static int reserve(struct ng_pack *p, size_t n)
{
	unsigned char *b;

	if (n <= p->cap)
		return 0;
	if (!(b = realloc(p->buf, n)))
		return -1;
	p->buf = b;
	p->cap = n;
	return 0;
}

struct ng_pack *ng_pack_new(void)
{
	struct ng_pack *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->def_ok = deflateInit2(&p->def, LEVEL, Z_DEFLATED, -WBITS, MEMLVL,
				 Z_DEFAULT_STRATEGY) == Z_OK;
	p->inf_ok = inflateInit2(&p->inf, -WBITS) == Z_OK;
	if (!p->def_ok || !p->inf_ok) {
		ng_pack_free(p);
		return NULL;
	}
	return p;
}

void ng_pack_free(struct ng_pack *p)
{
	if (!p)
		return;
	if (p->def_ok)
		deflateEnd(&p->def);
	if (p->inf_ok)
		inflateEnd(&p->inf);
	free(p->buf);
	free(p);
}

const void *ng_pack_deflate(struct ng_pack *p, const void *in, size_t n, size_t *zlen)
{
	z_stream *z = &p->def;
	size_t bound;

	if (n < 32 || n > UINT32_MAX)
		return NULL;            /* "d6:result2:oke" gains nothing */
	if (deflateReset(z) != Z_OK ||
	    deflateSetDictionary(z, (const Bytef *)dict, sizeof(dict) - 1) != Z_OK)
		return NULL;
	bound = deflateBound(z, (uLong)n);
	if (reserve(p, bound))
		return NULL;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	z->next_out = p->buf;
	z->avail_out = (uInt)bound;
	if (deflate(z, Z_FINISH) != Z_STREAM_END || z->total_out >= n)
		return NULL;
	*zlen = z->total_out;
	return p->buf;
}

const char *ng_pack_inflate(struct ng_pack *p, const void *zin, size_t zlen, size_t n)
{
	z_stream *z = &p->inf;
	int r;

	if (reserve(p, n + 1) || inflateReset(z) != Z_OK ||
	    inflateSetDictionary(z, (const Bytef *)dict, sizeof(dict) - 1) != Z_OK)
		return NULL;
	z->next_in = (Bytef *)(uintptr_t)zin;
	z->avail_in = (uInt)zlen;
	z->next_out = p->buf;
	z->avail_out = (uInt)(n + 1);   /* one spare byte: more output than n is an error */
	r = inflate(z, Z_FINISH);
	if (r != Z_STREAM_END || z->total_out != n)
		return NULL;
	return (const char *)p->buf;
}
