/* Query/delete statistics. */
#include "call_stats.h"

#include <errno.h>
#include <string.h>

#include "call_ops.h"
#include "daemon.h"
#include "kernel.h"
#include "quality_track.h"
#include "transcode_handler.h"
#include "secure.h"
#include "sluice/delay_line.h"

/* Monotonic packet time -> wall-clock seconds (0 = never). */
static int64_t wall_s(int64_t mono)
{
	if (!mono)
		return 0;
	return (now_us() - (mono_us() - mono)) / 1000000;
}

static struct bval *addr_dict(struct arena *a, const union sockaddr_u *u)
{
	struct bval *d = bv_new_dict(a);
	char ip[NETADDR_STRLEN];

	bv_dict_add_str(a, d, "family", u->sa.sa_family == AF_INET6 ? "IPv6" : "IPv4");
	bv_dict_add_str(a, d, "address", netaddr_ntop(u, ip, sizeof(ip)));
	bv_dict_add_int(a, d, "port", netaddr_port(u));
	return d;
}

static struct bval *counters(struct arena *a, const struct stream_stats *s)
{
	struct bval *d = bv_new_dict(a);

	bv_dict_add_int(a, d, "packets", (int64_t)s->packets);
	bv_dict_add_int(a, d, "bytes", (int64_t)s->bytes);
	bv_dict_add_int(a, d, "errors", (int64_t)s->errors);
	return d;
}

static struct bval *stream_dict(const struct daemon *dm, struct arena *a,
			       const struct stream *s)
{
	struct bval *d = bv_new_dict(a), *flags = bv_new_list(a);
	char ip[NETADDR_STRLEN];
	union sockaddr_u lf;
	struct stream_stats st;
	int64_t last;
	const char *why = kernel_why_not(dm, s);

	bv_dict_add_int(a, d, "local port", netaddr_port(&s->local));
	bv_dict_add_str(a, d, "local address", netaddr_ntop(&s->local, ip, sizeof(ip)));
	bv_dict_add_str(a, d, "family", s->local.sa.sa_family == AF_INET6 ? "IPv6" : "IPv4");
	if (s->latched)
		bv_dict_add(a, d, "endpoint", addr_dict(a, &s->endpoint));
	else if (s->has_advertised)
		bv_dict_add(a, d, "endpoint", addr_dict(a, &s->advertised));
	if (s->has_advertised)
		bv_dict_add(a, d, "advertised endpoint", addr_dict(a, &s->advertised));
	stream_read_stats(s, &st, &last);
	bv_dict_add_int(a, d, "last packet", wall_s(last));
	bv_list_add(flags, bv_new_strz(a, s->component == COMP_RTP ? "RTP" : "RTCP"));
	if (s->has_advertised || s->latched)
		bv_list_add(flags, bv_new_strz(a, "filled"));
	if (s->confirmed)
		bv_list_add(flags, bv_new_strz(a, "confirmed"));
	if (s->media->party->opts.strict_source)
		bv_list_add(flags, bv_new_strz(a, "strict source"));
	if (s->media->party->opts.media_handover)
		bv_list_add(flags, bv_new_strz(a, "media handover"));
	bv_list_add(flags, bv_new_strz(a, why ? "userspace" : "kernelized"));
	bv_dict_add(a, d, "flags", flags);
	bv_dict_add_str(a, d, "forwarding", why ? "userspace" : "kernel");
	if (why)
		bv_dict_add_str(a, d, "not in kernel", why);
	if (s->has_ssrc)
		bv_dict_add_int(a, d, "SSRC", s->ssrc);
	if (s->component == COMP_RTP && s->media->delay) {     /* NG delay-buffer */
		bv_dict_add_int(a, d, "delay buffer", s->media->delay_ms);
		bv_dict_add_int(a, d, "delay dropped",
				(int64_t)delay_line_dropped(s->media->delay));
	}
	bv_dict_add_int(a, d, "foreign packets", (int64_t)st.foreign);
	if (kernel_last_foreign(s->media->party->call, s, &lf))
		bv_dict_add(a, d, "last foreign source", addr_dict(a, &lf));
	bv_dict_add(a, d, "stats", counters(a, &st));
	struct bval *q = quality_stream_dict(a, s);
	if (q)
		bv_dict_add(a, d, "quality", q);
	return d;
}

static struct bval *media_dict(const struct daemon *dm, struct arena *a, const struct media *m)
{
	struct bval *d = bv_new_dict(a), *streams = bv_new_list(a), *flags = bv_new_list(a);

	bv_dict_add_int(a, d, "index", m->index);
	bv_dict_add_str(a, d, "type", m->type);
	bv_dict_add_str(a, d, "protocol", m->proto);
	if (m->codec[0])
		bv_dict_add_str(a, d, "codec", m->codec);
	bv_list_add(streams, stream_dict(dm, a, &m->rtp));
	bv_list_add(streams, stream_dict(dm, a, &m->rtcp));
	bv_dict_add(a, d, "streams", streams);
	if (m->rtcp_mux)
		bv_list_add(flags, bv_new_strz(a, "RTCP-mux"));
	if (m->dir == SDP_DIR_SENDRECV || m->dir == SDP_DIR_SENDONLY)
		bv_list_add(flags, bv_new_strz(a, "send"));
	if (m->dir == SDP_DIR_SENDRECV || m->dir == SDP_DIR_RECVONLY)
		bv_list_add(flags, bv_new_strz(a, "recv"));
	if (m->transcoding)
		bv_list_add(flags, bv_new_strz(a, "transcoding"));
	if (m->bundle || m->bundle_tag)
		bv_list_add(flags, bv_new_strz(a, "BUNDLE"));
	bv_dict_add(a, d, "flags", flags);
	if (m->mid[0])
		bv_dict_add_str(a, d, "mid", m->mid);
	if (m->bundle || m->bundle_tag)         /* index of the section carrying the group */
		bv_dict_add_int(a, d, "BUNDLE transport", m->bundle ? m->bundle->index : m->index);
	xcode_stats_add(a, d, m);
	secure_stats_add(a, d, m);
	return d;
}

static struct bval *party_dict(const struct daemon *dm, struct arena *a, const struct party *p,
			       const char *tag,
			       const char *via)
{
	struct bval *d = bv_new_dict(a), *medias = bv_new_list(a);

	bv_dict_add_str(a, d, "tag", tag);
	if (via && via[0])
		bv_dict_add_str(a, d, "via-branch", via);
	if (p->label[0])
		bv_dict_add_str(a, d, "label", p->label);
	bv_dict_add_int(a, d, "created", p->created_us / 1000000);
	if (p->peer && p->peer->n_tags)
		bv_dict_add_str(a, d, "in dialogue with", p->peer->tags[0].tag);
	for (unsigned i = 0; i < p->n_media; i++)
		if (p->media[i])
			bv_list_add(medias, media_dict(dm, a, p->media[i]));
	bv_dict_add(a, d, "medias", medias);
	return d;
}

int call_stats_add(struct daemon *d, struct call *c, struct arena *a, struct bval *dict)
{
	struct bval *tags = bv_new_dict(a), *totals = bv_new_dict(a);
	struct stream_stats rtp = { 0 }, rtcp = { 0 };

	bv_dict_add_int(a, dict, "created", c->created_us / 1000000);
	bv_dict_add_int(a, dict, "created_us", c->created_us % 1000000);
	bv_dict_add_int(a, dict, "last signal", wall_s(c->last_signal_us));
	pthread_mutex_lock(&c->lock);
	kernel_quality_fold_call(c, mono_fine_us());    /* the kernel's latest figures */
	for (const struct party *p = c->parties; p; p = p->next) {
		if (p->pub_answerer)
			continue;       /* publish's stand-in (publish.h) */
		if (!p->n_tags)
			bv_dict_add(a, tags, "", party_dict(d, a, p, "", NULL));
		for (unsigned t = 0; t < p->n_tags; t++)
			bv_dict_add(a, tags, p->tags[t].tag,
				    party_dict(d, a, p, p->tags[t].tag, p->tags[t].via_branch));
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *m = p->media[i];
			if (!m)
				continue;
			struct stream_stats s1, s2;
			int64_t l;

			stream_read_stats(&m->rtp, &s1, &l);
			stream_read_stats(&m->rtcp, &s2, &l);
			rtp.packets += s1.packets;
			rtp.bytes += s1.bytes;
			rtp.errors += s1.errors;
			rtcp.packets += s2.packets;
			rtcp.bytes += s2.bytes;
			rtcp.errors += s2.errors;
		}
	}
	quality_ssrc_section(a, dict, c);
	pthread_mutex_unlock(&c->lock);
	bv_dict_add(a, dict, "tags", tags);
	bv_dict_add(a, totals, "RTP", counters(a, &rtp));
	bv_dict_add(a, totals, "RTCP", counters(a, &rtcp));
	bv_dict_add(a, dict, "totals", totals);
	return totals->c.n == 2 ? 0 : -ENOMEM;
}
