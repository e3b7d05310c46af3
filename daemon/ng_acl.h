/* Who may talk NG: the --ng-allow prefixes. With none configured every source is
 * allowed (NG listens on loopback by default). A denied datagram or TCP connection gets
 * no reply at all; it is counted, and logged at most once per 10 s with the last source.
 * Control thread only. */
#ifndef SLUICE_NG_ACL_H
#define SLUICE_NG_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/cidr.h"
#include "sluice/netaddr.h"

#define NG_ACL_LOG_INTERVAL_US (10 * 1000000LL)

enum ng_acl_kind { NG_ACL_DATAGRAM, NG_ACL_CONNECTION };

struct ng_acl {
	const struct cidr *allow;       /* from the frozen config */
	unsigned n_allow;
	uint64_t denied_datagrams, denied_connections;
	/* rate-limited log: denials since the last line, the latest source */
	uint64_t unlogged;
	union sockaddr_u last;
	int64_t last_log_us;            /* 0: never logged */
};

void ng_acl_init(struct ng_acl *acl, const struct cidr *allow, unsigned n_allow);
/* True if from may talk NG; false: counted (and maybe logged), drop it. */
bool ng_acl_check(struct ng_acl *acl, const union sockaddr_u *from, enum ng_acl_kind kind,
		  int64_t now_mono_us);
/* Periodic: log denials that arrived after the last line once the interval is over. */
void ng_acl_tick(struct ng_acl *acl, int64_t now_mono_us);

#endif
