#include <net/netfilter/nf_tables.h>
static int f(struct sk_buff *skb, const struct nft_expr *expr, bool reset) { return 0; }
static const struct nft_expr_ops o __maybe_unused = { .dump = f };
