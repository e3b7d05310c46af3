#include <net/netfilter/nf_tables.h>
static const struct nft_expr_ops o __maybe_unused = { .reduce = NFT_REDUCE_READONLY };
