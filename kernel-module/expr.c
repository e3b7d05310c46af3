// SPDX-License-Identifier: GPL-2.0
/* The nftables expression "sluice": `sluice instance N` in a prerouting or input chain
 * of an ip, ip6 or inet table hands UDP packets to instance N. Non-matching packets
 * continue with the next expression (NFT_CONTINUE), untouched. The rule holds a module
 * reference, so the module cannot go while a rule uses it. */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <net/netfilter/nf_tables.h>
#include "sluice.h"
#include "compat.h"

struct sluice_expr {
	u32	instance;
};

static void sluice_expr_eval(const struct nft_expr *expr, struct nft_regs *regs,
			     const struct nft_pktinfo *pkt)
{
	const struct sluice_expr *priv = nft_expr_priv(expr);
	const struct sluice_instance *inst;
	unsigned int verdict;
	u8 pf = nft_pf(pkt);

	if (!sluice_pkt_l4proto(pkt) || pkt->tprot != IPPROTO_UDP || pkt->fragoff)
		return;
	if (pf != NFPROTO_IPV4 && pf != NFPROTO_IPV6)
		return;
	inst = sluice_instance_rcu(sluice_net(nft_net(pkt)), priv->instance);
	if (!inst)
		return;
	verdict = sluice_forward(inst, pkt->skb, nft_thoff(pkt), pf, nft_hook(pkt));
	if (verdict != NFT_CONTINUE)
		regs->verdict.code = verdict;
}

static const struct nla_policy sluice_expr_policy[SLUICE_NFTA_MAX + 1] = {
	[SLUICE_NFTA_INSTANCE]	= { .type = NLA_U32 },
};

static int sluice_expr_init(const struct nft_ctx *ctx, const struct nft_expr *expr,
			    const struct nlattr * const tb[])
{
	struct sluice_expr *priv = nft_expr_priv(expr);
	u32 id;

	switch (ctx->family) {
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
	case NFPROTO_INET:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!tb[SLUICE_NFTA_INSTANCE])
		return -EINVAL;
	id = ntohl(nla_get_be32(tb[SLUICE_NFTA_INSTANCE]));
	if (id >= SLUICE_MAX_INSTANCES)
		return -ERANGE;
	priv->instance = id;
	return 0;
}

static int sluice_expr_dump(struct sk_buff *skb, const struct nft_expr *expr
			    SLUICE_NFT_DUMP_EXTRA_ARGS)
{
	const struct sluice_expr *priv = nft_expr_priv(expr);

	return nla_put_be32(skb, SLUICE_NFTA_INSTANCE, htonl(priv->instance));
}

/* Forwarding needs a packet addressed to this host: prerouting or input only. */
static int sluice_expr_validate(const struct nft_ctx *ctx, const struct nft_expr *expr
				SLUICE_NFT_VALIDATE_EXTRA_ARGS)
{
	return nft_chain_validate_hooks(ctx->chain, (1 << NF_INET_PRE_ROUTING) |
						    (1 << NF_INET_LOCAL_IN));
}

static struct nft_expr_type sluice_expr_type;

static const struct nft_expr_ops sluice_expr_ops = {
	.type		= &sluice_expr_type,
	.size		= NFT_EXPR_SIZE(sizeof(struct sluice_expr)),
	.eval		= sluice_expr_eval,
	.init		= sluice_expr_init,
	.dump		= sluice_expr_dump,
	.validate	= sluice_expr_validate,
	SLUICE_NFT_REDUCE_INIT
};

static struct nft_expr_type sluice_expr_type __read_mostly = {
	.name		= SLUICE_NFT_EXPR_NAME,
	.ops		= &sluice_expr_ops,
	.policy		= sluice_expr_policy,
	.maxattr	= SLUICE_NFTA_MAX,
	.owner		= THIS_MODULE,
};

int sluice_expr_register(void)
{
	return nft_register_expr(&sluice_expr_type);
}

void sluice_expr_unregister(void)
{
	nft_unregister_expr(&sluice_expr_type);
}
