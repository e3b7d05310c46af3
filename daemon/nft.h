/* The nftables rule that hands UDP packets to the sluice kernel module.
 *
 * Each instance gets its own table, `inet sluice_<instance>`, holding one base chain
 * `input` (type filter, hook input by default) with one rule: the module's native
 * expression `sluice instance <instance>` (built by hand: the nft command line and
 * libnftnl do not know it). Matching packets are forwarded by the module; all others
 * continue untouched. Tables of other instances and of other software are never
 * touched. Every function opens its own netlink socket and acts in the caller's
 * network namespace; returns 0 or -errno (EPERM without CAP_NET_ADMIN; ENOENT for the
 * rule when the module is not loaded and cannot be autoloaded). */
#ifndef SLUICE_DAEMON_NFT_H
#define SLUICE_DAEMON_NFT_H

#include <stdbool.h>

#define SLUICE_NFT_TABLE_FMT	"sluice_%u"
#define SLUICE_NFT_CHAIN	"input"

struct sluice_nft_opts {
	bool	prerouting;	/* hook prerouting instead of input (skips the input route
				 * lookup, but also the host's input filter chains) */
	int	priority;	/* chain priority; 0 = filter */
};

/* (Re)creates the table atomically: a stale table of the same instance (left by a
 * killed daemon) is replaced in the same transaction. opts NULL = defaults. */
int sluice_nft_install(unsigned int instance, const struct sluice_nft_opts *opts);
/* Deletes the table; 0 also when it did not exist. */
int sluice_nft_remove(unsigned int instance);
/* Number of rules in the instance's table whose expression is `sluice instance
 * <instance>`: 1 after install, 0 when the table does not exist. */
int sluice_nft_count(unsigned int instance);

#endif
