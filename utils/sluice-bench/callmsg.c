/* The NG messages of a call, shared by the bench modes (calls.c) and soak (soak_call.c):
 * a baresip-like SDP body, the request dictionary as Kamailio's rtpengine module sends
 * it, reply decoding, the relay's address in a reply SDP and the per-tag counters of a
 * delete or query reply. Replies are decoded into one arena that callmsg_send() resets:
 * take what you need from a reply before sending the next request. */
#include <errno.h>
#include <string.h>

#include "bench.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/ngwire.h"
#include "sluice/sdp.h"

static struct {
	bool init;
	struct arena a;
	struct sdp sdp;
} cm;

static struct arena *arena(void)
{
	if (!cm.init) {
		arena_init(&cm.a, 0);
		cm.init = true;
	}
	return &cm.a;
}

void callmsg_reset(void)
{
	arena_reset(arena());
}

void callmsg_sdp(struct strbuf *sb, const struct call_sdp *p)
{
	sb_printf(sb,
		  "v=0\r\n"
		  "o=- %u %u IN IP4 127.0.0.1\r\n"
		  "s=-\r\n"
		  "c=IN IP4 %s\r\n"
		  "t=0 0\r\n"
		  "a=tool:baresip 1.0.0\r\n"
		  "m=audio %u RTP/AVP 0 8 101\r\n"
		  "a=rtpmap:0 PCMU/8000\r\n"
		  "a=rtpmap:8 PCMA/8000\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\n"
		  "a=fmtp:101 0-15\r\n"
		  "a=%s\r\n"
		  "a=label:1\r\n"
		  "%s"
		  "a=ssrc:%u cname:sip:%s@127.0.0.1:%u\r\n"
		  "a=minptime:20\r\n"
		  "a=ptime:20\r\n",
		  p->sess_id, p->sess_ver, p->hold_zero ? "0.0.0.0" : "127.0.0.1", p->port,
		  p->dir ? p->dir : "sendrecv", p->caller ? "a=rtcp-rsize\r\n" : "", p->ssrc,
		  p->caller ? "caller" : "callee", p->caller ? 5080 : 5060);
}

int callmsg_send(struct bench *b, const struct ng_cmd *m, ng_cb cb, void *ctx)
{
	struct arena *a = arena();
	struct bval *d, *l;
	struct strbuf sb;
	int ret;

	d = bv_new_dict(a);
	sb_init(&sb);
	l = bv_dict_add(a, d, "supports", bv_new_list(a));
	bv_list_add(l, bv_new_strz(a, "load limit"));
	if (m->sdp)
		bv_dict_add(a, d, "sdp", bv_new_str(a, m->sdp->buf, m->sdp->len));
	if (m->codec_transcode) {       /* as Kamailio sends codec-* flags */
		struct bval *cd = bv_dict_add(a, d, "codec", bv_new_dict(a));
		bv_list_add(bv_dict_add(a, cd, "mask", bv_new_list(a)), bv_new_strz(a, "PCMU"));
		bv_list_add(bv_dict_add(a, cd, "transcode", bv_new_list(a)),
			    bv_new_strz(a, m->xcodec ? m->xcodec : "opus"));
	}
	if (m->record_call)             /* as Kamailio sends record-call=yes */
		bv_dict_add_str(a, d, "record-call", "yes");
	if (m->transport_protocol)
		bv_dict_add_str(a, d, "transport-protocol", m->transport_protocol);
	if (m->callid)
		bv_dict_add_str(a, d, "call-id", m->callid);
	l = bv_dict_add(a, d, "received-from", bv_new_list(a));
	bv_list_add(l, bv_new_strz(a, "IP4"));
	bv_list_add(l, bv_new_strz(a, "127.0.0.1"));
	if (m->from_tag)
		bv_dict_add_str(a, d, "from-tag", m->from_tag);
	if (m->to_tag)
		bv_dict_add_str(a, d, "to-tag", m->to_tag);
	bv_dict_add_str(a, d, "command", m->cmd);
	ret = bv_encode(d, &sb);
	if (!ret)
		ret = ng_send(b->ng, &sb, cb, ctx);
	sb_free(&sb);
	arena_reset(a);
	return ret;
}

struct bval *callmsg_reply(struct bench *b, const char *what, const char *callid,
			   const char *body, size_t len, int err, const char **reason)
{
	struct bval *r;
	size_t rl = 0;
	const char *why;

	if (reason)
		*reason = NULL;
	if (err) {
		bench_error(b, "%s %s: %s", what, callid, strerror(-err));
		return NULL;
	}
	if (ngwire_decode(arena(), body, len, &r, NULL) || r->type != BV_DICT) {
		bench_error(b, "%s %s: undecodable reply", what, callid);
		return NULL;
	}
	if (!bv_str_eq(bv_dict_get(r, "result"), "ok")) {
		why = bv_dict_get_str(r, "error-reason", &rl);
		if (reason)
			*reason = why && rl ? arena_strndup(arena(), why, rl) : "failed";
		else
			bench_error(b, "%s %s: %.*s", what, callid, (int)(why ? rl : 6),
				    why ? why : "failed");
		return NULL;
	}
	return r;
}

int callmsg_dest(struct bval *r, union sockaddr_u *rtp, union sockaddr_u *rtcp)
{
	size_t len;
	const char *s = bv_dict_get_str(r, "sdp", &len);
	const struct sdp_media *m = &cm.sdp.media[0];
	const struct sdp_conn *conn;

	if (!s || sdp_parse(&cm.sdp, s, len, NULL) || !cm.sdp.n_media || !m->port)
		return -EINVAL;
	conn = sdp_media_conn(&cm.sdp, 0);
	if (!conn || !conn->present ||
	    netaddr_parse_ip(conn->addr, strlen(conn->addr), 0, rtp))
		return -EINVAL;
	netaddr_set_port(rtp, m->port);
	if (!rtcp)
		return 0;
	*rtcp = *rtp;
	if (m->has_rtcp && m->rtcp_conn.present &&
	    netaddr_parse_ip(m->rtcp_conn.addr, strlen(m->rtcp_conn.addr), 0, rtcp))
		return -EINVAL;
	netaddr_set_port(rtcp, m->has_rtcp ? m->rtcp_port : (uint16_t)(m->port + 1));
	return 0;
}

int callmsg_tag_stats(struct bval *r, const char *tag, struct tag_stats *out)
{
	struct bval *tags = bv_dict_get(r, "tags");
	struct bval *t = tags ? bv_dict_get(tags, tag) : NULL, *medias, *m, *streams;

	memset(out, 0, sizeof(*out));
	if (!t || !(medias = bv_dict_get(t, "medias")) || medias->type != BV_LIST ||
	    !(m = medias->c.first) || !(streams = bv_dict_get(m, "streams")) ||
	    streams->type != BV_LIST)
		return -EINVAL;
	for (struct bval *s = streams->c.first; s; s = s->next) {
		struct bval *flags = bv_dict_get(s, "flags"), *st = bv_dict_get(s, "stats");
		struct bval *p = st ? bv_dict_get(st, "packets") : NULL;
		struct bval *by = st ? bv_dict_get(st, "bytes") : NULL;
		struct bval *er = st ? bv_dict_get(st, "errors") : NULL;
		int kind = -1;

		for (struct bval *f = flags ? flags->c.first : NULL; f; f = f->next)
			kind = bv_str_eq(f, "RTP") ? 0 : bv_str_eq(f, "RTCP") ? 1 : kind;
		if (kind < 0 || !p || p->type != BV_INT || !by || by->type != BV_INT)
			continue;
		out->packets[kind] += (uint64_t)p->i;
		out->bytes[kind] += (uint64_t)by->i;
		out->errors[kind] += er && er->type == BV_INT ? (uint64_t)er->i : 0;
	}
	return 0;
}

int callmsg_total_rtp(struct bval *r, uint64_t *packets)
{
	struct bval *tot = bv_dict_get(r, "totals");
	struct bval *rtp = tot ? bv_dict_get(tot, "RTP") : NULL;
	struct bval *p = rtp ? bv_dict_get(rtp, "packets") : NULL;

	if (!p || p->type != BV_INT)
		return -EINVAL;
	*packets = (uint64_t)p->i;
	return 0;
}
