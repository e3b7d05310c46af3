/* SDES-SRTP toward a subscriber (subscribe.h): "transport-protocol": "RTP/SAVP" (or
 * RTP/SAVPF) in subscribe request offers our a=crypto lines, as offer_answer.c does
 * toward an answerer (crypto_policy.c: the same suites, SDES flags and keys, kept
 * across a re-request); subscribe answer takes the subscriber's line for one of them;
 * each copy is then protected with that key before it leaves. DTLS and ICE are not
 * offered to subscribers. */
#include "subscribe_srtp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "secure.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

#define SRTP_ROOM 64                    /* tailroom for an SRTP tag and MKI */
#define COPY_MAX  4096

static bool srtp_proto(const struct ng_str *p)
{
	return (p->len == 8 && !strncasecmp(p->s, "RTP/SAVP", 8)) ||
	       (p->len == 9 && !strncasecmp(p->s, "RTP/SAVPF", 9));
}

int subscribe_srtp_offer(struct daemon *d, const struct ng_request *req, struct media *sm,
			 const char **err)
{
	static __thread struct sdp one;         /* the section secure_out looks at */
	const struct ng_str *p = &req->transport_protocol;
	struct secure_ctx x = { .d = d, .req = req, .sdp = &one, .offer = true };
	struct sdp_media_rewrite mr = { 0 };
	struct secure_media *sec;
	struct strbuf lines;
	char tp[16];
	int e;

	if (!p->len || (p->len == 7 && !strncasecmp(p->s, "RTP/AVP", 7))) {
		if (sm->sec) {                  /* a re-request made it plain again */
			pthread_mutex_lock(&sm->party->call->lock);
			secure_srtp_clear(sm->sec);
			sm->sec->tp = SEC_PLAIN;
			pthread_mutex_unlock(&sm->party->call->lock);
		}
		return 0;
	}
	if (!srtp_proto(p)) {
		*err = "A subscription speaks RTP/AVP or SDES-SRTP (RTP/SAVP, RTP/SAVPF)";
		return -ENOTSUP;
	}
	memcpy(tp, p->s, p->len);
	tp[p->len] = '\0';
	memset(&one, 0, sizeof(one));
	one.n_media = sm->index;
	one.media[sm->index - 1].port = sm->port;
	x.tp_opt = tp;
	if (!(sec = secure_get(sm))) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	sb_init(&lines);
	pthread_mutex_lock(&sm->party->call->lock);
	sec->no_dtls = true;                    /* SDES only: no handshake with monitors */
	e = secure_out(&x, sm, sm, sm->index - 1, &mr, &lines, err);
	if (!e)
		memcpy(sm->proto, tp, p->len + 1);
	pthread_mutex_unlock(&sm->party->call->lock);
	sb_free(&lines);                        /* written again by subscribe_srtp_sdp() */
	return e;
}

int subscribe_srtp_sdp(const struct media *sm, struct strbuf *sb)
{
	char v[SDES_VALUE_MAX];
	int e = 0;

	if (!sm->sec || sm->sec->tp != SEC_SDES)
		return 0;
	for (unsigned k = 0; k < sm->sec->n_ours; k++) {
		if (sdes_format(&sm->sec->ours[k], v, sizeof(v)) < 0)
			return -EINVAL;
		e |= sb_printf(sb, "a=crypto:%s\r\n", v);
	}
	return e ? -ENOMEM : 0;
}

int subscribe_srtp_answer(struct daemon *d, const struct ng_request *req,
			  const struct sdp *sdp, unsigned i, struct media *sm, const char **err)
{
	struct secure_ctx x = { .d = d, .req = req, .sdp = sdp, .offer = false, .tp_opt = "" };
	int e;

	if (!sm->sec)
		return 0;       /* offered plain: an SRTP answer is refused by its codecs' check */
	pthread_mutex_lock(&sm->party->call->lock);
	e = secure_in(&x, sm, i, err);
	pthread_mutex_unlock(&sm->party->call->lock);
	return e;
}

bool subscribe_srtp_emit(struct relay_emitter *e, struct stream *dst, const uint8_t *pkt,
			 size_t len)
{
	static __thread uint8_t buf[COPY_MAX + SRTP_ROOM];
	struct secure_media *sec = dst->media->sec;

	if (!sec || sec->tp == SEC_PLAIN)
		return false;
	if (len <= COPY_MAX) {
		memcpy(buf, pkt, len);
		if (!secure_encrypt(sec, buf, &len, sizeof(buf), false, COMP_RTP))
			relay_emit(e, dst, buf, len);
	}
	return true;
}
