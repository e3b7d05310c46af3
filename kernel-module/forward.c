// SPDX-License-Identifier: GPL-2.0
/* The packet path: match a UDP packet to an entry, check its source, rewrite the
 * addresses and ports (IPv4 or IPv6, the family may change) and send it through a route
 * lookup. Runs in softirq under RCU; allocates nothing but what the stack does. */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/udp.h>
#include <net/dsfield.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_tables.h>
#include <net/route.h>
#include <net/udp.h>
#include "sluice.h"
#include "compat.h"

static inline void sluice_count(__u64 *ctr, u64 n)
{
	BUILD_BUG_ON(sizeof(atomic64_t) != sizeof(*ctr));
	atomic64_add(n, (atomic64_t *)ctr);
}

/* Fills the packet's source and destination endpoints and its DSCP/ECN byte. */
static void sluice_parse(const struct sk_buff *skb, u8 pf, const struct udphdr *uh,
			 struct sluice_ep *src, struct sluice_ep *dst, u8 *tos)
{
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		src->family = dst->family = SLUICE_FAMILY_INET;
		src->a6.s6_addr32[0] = iph->saddr;
		dst->a6.s6_addr32[0] = iph->daddr;
		*tos = iph->tos;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		src->family = dst->family = SLUICE_FAMILY_INET6;
		src->a6 = ip6h->saddr;
		dst->a6 = ip6h->daddr;
		*tos = ipv6_get_dsfield(ip6h);
	}
	src->port = uh->source;
	dst->port = uh->dest;
}

/* Trims to the UDP length and verifies the checksum we are about to replace, so the
 * kernel path never launders a corrupt packet into a valid one. */
static int sluice_check_udp(struct sk_buff *skb, unsigned int thoff, u8 pf,
			    unsigned int hook, unsigned int *ulen)
{
	const struct udphdr *uh;

	if (!pskb_may_pull(skb, thoff + sizeof(*uh)))
		return -EINVAL;
	uh = (const struct udphdr *)(skb->data + thoff);
	*ulen = ntohs(uh->len);
	if (*ulen < sizeof(*uh) || thoff + *ulen > skb->len)
		return -EINVAL;
	if (thoff + *ulen < skb->len && pskb_trim_rcsum(skb, thoff + *ulen))
		return -ENOMEM;
	uh = (const struct udphdr *)(skb->data + thoff);
	if (pf == NFPROTO_IPV4 && !uh->check)
		return 0;
	if (nf_checksum(skb, hook, thoff, IPPROTO_UDP, pf))
		return -EBADMSG;
	return 0;
}

static struct dst_entry *sluice_route(struct net *net, const struct sluice_entry *e,
				      struct flowi *fl)
{
	struct dst_entry *dst;

	memset(fl, 0, sizeof(*fl));
	if (e->out_dst.family == SLUICE_FAMILY_INET) {
		struct flowi4 *fl4 = &fl->u.ip4;
		struct rtable *rt;

		fl4->daddr = e->out_dst.a6.s6_addr32[0];
		fl4->saddr = e->out_src.a6.s6_addr32[0];
		fl4->flowi4_proto = IPPROTO_UDP;
		fl4->fl4_sport = e->out_src.port;
		fl4->fl4_dport = e->out_dst.port;
		rt = ip_route_output_key(net, fl4);
		return IS_ERR(rt) ? ERR_CAST(rt) : &rt->dst;
	}
	fl->u.ip6.daddr = e->out_dst.a6;
	fl->u.ip6.saddr = e->out_src.a6;
	fl->u.ip6.flowi6_proto = IPPROTO_UDP;
	fl->u.ip6.fl6_sport = e->out_src.port;
	fl->u.ip6.fl6_dport = e->out_dst.port;
	dst = ip6_route_output(net, NULL, &fl->u.ip6);
	if (dst->error) {
		int err = dst->error;

		dst_release(dst);
		return ERR_PTR(err);
	}
	return dst;
}

static void sluice_push_udp(struct sk_buff *skb, const struct sluice_entry *e,
			    unsigned int ulen)
{
	struct udphdr *uh = skb_push(skb, sizeof(*uh));

	skb_reset_transport_header(skb);
	uh->source = e->out_src.port;
	uh->dest = e->out_dst.port;
	uh->len = htons(ulen);
	uh->check = 0;
}

static int sluice_send4(struct net *net, struct sk_buff *skb, const struct flowi4 *fl4,
			u8 tos, unsigned int ulen)
{
	struct iphdr *iph = skb_push(skb, sizeof(*iph));

	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = tos;
	iph->tot_len = htons(skb->len);
	iph->frag_off = 0;
	iph->ttl = ip4_dst_hoplimit(skb_dst(skb));
	iph->protocol = IPPROTO_UDP;
	iph->saddr = fl4->saddr;
	iph->daddr = fl4->daddr;
	__ip_select_ident(net, iph, 1);
	skb->protocol = htons(ETH_P_IP);
	udp_set_csum(false, skb, iph->saddr, iph->daddr, ulen);
	return ip_local_out(net, NULL, skb);
}

static int sluice_send6(struct net *net, struct sk_buff *skb, const struct flowi6 *fl6,
			u8 tos, unsigned int ulen)
{
	struct ipv6hdr *ip6h = skb_push(skb, sizeof(*ip6h));

	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6h, tos, 0);
	ip6h->payload_len = htons(ulen);
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = ip6_dst_hoplimit(skb_dst(skb));
	ip6h->saddr = fl6->saddr;
	ip6h->daddr = fl6->daddr;
	skb->protocol = htons(ETH_P_IPV6);
	udp6_set_csum(false, skb, &ip6h->saddr, &ip6h->daddr, ulen);
	return ip6_local_out(net, NULL, skb);
}

/* Takes the skb (NF_STOLEN) or refuses it (NF_DROP: the caller frees it). */
static unsigned int sluice_xmit(const struct sluice_instance *inst,
				const struct sluice_entry *e, struct sk_buff *skb,
				unsigned int thoff, u8 pf, unsigned int hook, u8 tos)
{
	struct net *net = inst->net;
	struct sluice_stats *st = e->stats;
	unsigned int ulen, hlen;
	struct dst_entry *dst;
	struct flowi fl;
	int ret;

	ret = sluice_check_udp(skb, thoff, pf, hook, &ulen);
	if (unlikely(ret))
		goto drop;
	if (e->flags & SLUICE_SF_SRTP) {	/* srtp.c: decrypt and/or encrypt */
		unsigned int plen = ulen - sizeof(struct udphdr);

		ret = sluice_srtp_packet(inst, e->slot, skb, thoff + sizeof(struct udphdr),
					 &plen);
		if (ret == SLUICE_SRTP_PASS)
			return NFT_CONTINUE;
		if (unlikely(ret))
			goto drop;
		ulen = plen + sizeof(struct udphdr);
	}
	if (e->flags & SLUICE_SF_QUALITY)	/* as it arrived, checked */
		sluice_quality_rtp(e, skb, thoff + sizeof(struct udphdr),
				   ulen - sizeof(struct udphdr));
	dst = sluice_route(net, e, &fl);
	if (unlikely(IS_ERR(dst))) {
		ret = PTR_ERR(dst);
		goto drop;
	}
	hlen = sizeof(struct udphdr) + (e->out_dst.family == SLUICE_FAMILY_INET ?
					 sizeof(struct iphdr) : sizeof(struct ipv6hdr));
	/* data: network header -> payload; then room for the new headers */
	__skb_pull(skb, thoff + sizeof(struct udphdr));
	if (unlikely(skb_cow_head(skb, hlen + LL_RESERVED_SPACE(dst->dev)))) {
		dst_release(dst);
		ret = -ENOMEM;
		goto drop;
	}
	skb_scrub_packet(skb, true);	/* old dst, conntrack, mark, tstamp, socket */
	memset(skb->cb, 0, sizeof(skb->cb));
	skb->ip_summed = CHECKSUM_NONE;	/* checked above; udp_set_csum recomputes */
	skb_clear_hash(skb);
	skb_dst_set(skb, dst);
	sluice_push_udp(skb, e, ulen);
	if (e->out_dst.family == SLUICE_FAMILY_INET)
		ret = sluice_send4(net, skb, &fl.u.ip4, tos, ulen);
	else
		ret = sluice_send6(net, skb, &fl.u.ip6, tos, ulen);
	ret = net_xmit_eval(ret);
	if (unlikely(ret)) {
		sluice_count(&st->errors, 1);
	} else {
		sluice_count(&st->packets, 1);
		sluice_count(&st->bytes, ulen - sizeof(struct udphdr));
		WRITE_ONCE(st->last_ns, ktime_get_coarse_ns());
	}
	return NF_STOLEN;

drop:
	sluice_count(&st->errors, 1);
	net_dbg_ratelimited("sluice: slot %u: packet dropped: %d\n", e->slot, ret);
	return NF_DROP;
}

unsigned int sluice_forward(const struct sluice_instance *inst, struct sk_buff *skb,
			    unsigned int thoff, u8 pf, unsigned int hook)
{
	struct sluice_ep src, dst;
	const struct sluice_entry *e;
	const struct udphdr *uh;
	struct udphdr _uh;
	u8 tos;

	if (unlikely(skb_is_gso(skb)))
		return NFT_CONTINUE;	/* aggregated by GRO: leave it to the socket */
	uh = skb_header_pointer(skb, thoff, sizeof(_uh), &_uh);
	if (unlikely(!uh))
		return NFT_CONTINUE;
	sluice_parse(skb, pf, uh, &src, &dst, &tos);
	e = sluice_table_lookup(inst, &dst);
	if (!e)
		return NFT_CONTINUE;
	if (e->expect.family != SLUICE_FAMILY_NONE && !sluice_ep_eq(&e->expect, &src)) {
		sluice_count(&e->stats->mismatch, 1);
		sluice_stats_mismatch(e->stats, &src);
		return e->flags & SLUICE_SF_MISMATCH_PASS ? NFT_CONTINUE : NF_DROP;
	}
	if (e->flags & SLUICE_SF_SET_TOS)
		tos = e->tos;
	return sluice_xmit(inst, e, skb, thoff, pf, hook, tos);
}
