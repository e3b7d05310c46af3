/* NG source check against --ng-allow, with counters and a rate-limited log line. */
#include "ng_acl.h"

#include <string.h>

#include "sluice/log.h"

void ng_acl_init(struct ng_acl *acl, const struct cidr *allow, unsigned n_allow)
{
	memset(acl, 0, sizeof(*acl));
	acl->allow = allow;
	acl->n_allow = n_allow;
}

static void log_denied(struct ng_acl *acl, int64_t now)
{
	char a[NETADDR_STRLEN];

	ilog(LOG_WARNING, "NG: denied %llu datagram(s)/connection(s) from sources outside "
	     "--ng-allow, last from %s (totals: %llu datagrams, %llu connections)",
	     (unsigned long long)acl->unlogged, netaddr_str(&acl->last, a, sizeof(a)),
	     (unsigned long long)acl->denied_datagrams,
	     (unsigned long long)acl->denied_connections);
	acl->unlogged = 0;
	acl->last_log_us = now;
}

static bool may_log(const struct ng_acl *acl, int64_t now)
{
	return !acl->last_log_us || now - acl->last_log_us >= NG_ACL_LOG_INTERVAL_US;
}

bool ng_acl_check(struct ng_acl *acl, const union sockaddr_u *from, enum ng_acl_kind kind,
		  int64_t now)
{
	if (!acl->n_allow || cidr_match_any(acl->allow, acl->n_allow, from))
		return true;
	if (kind == NG_ACL_CONNECTION)
		acl->denied_connections++;
	else
		acl->denied_datagrams++;
	acl->unlogged++;
	acl->last = *from;
	if (may_log(acl, now))
		log_denied(acl, now);
	return false;
}

void ng_acl_tick(struct ng_acl *acl, int64_t now)
{
	if (acl->unlogged && may_log(acl, now))
		log_denied(acl, now);
}
