#include <net/netfilter/nf_tables.h>
static int f(const struct nft_ctx *ctx, const struct nft_expr *expr,
	     const struct nft_data **data) { return 0; }
static const struct nft_expr_ops o __maybe_unused = { .validate = f };
