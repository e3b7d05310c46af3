#include <net/netfilter/nf_tables.h>
static bool __maybe_unused f(const struct nft_pktinfo *pkt) { return pkt->flags & NFT_PKTINFO_L4PROTO; }
