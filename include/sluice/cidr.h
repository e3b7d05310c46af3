/* Address prefixes ("10.0.0.0/8", "2001:db8::/32"): parse, match, print. Used for
 * access lists (--ng-allow). IPv4 and IPv6; an IPv4 prefix also matches the same
 * address written as an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
#ifndef SLUICE_CIDR_H
#define SLUICE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

#define CIDR_STRLEN (INET6_ADDRSTRLEN + 4)      /* "v6addr/128" */

struct cidr {
	uint8_t addr[16];       /* network address, host bits zero; IPv4 in the first 4 */
	uint8_t prefix;         /* 0..32 (IPv4) or 0..128 (IPv6) */
	uint8_t family;         /* AF_INET or AF_INET6 */
};

/* "IP/LEN", "IP" (a single host: /32 or /128), "[v6]" or "[v6]/LEN". Host bits set in
 * IP are cleared; *host_bits (may be NULL) says whether there were any, so a caller can
 * warn about "192.168.1.10/24". 0 or -EINVAL. */
int cidr_parse(const char *s, struct cidr *out, bool *host_bits);
/* Does a's address (port ignored) lie inside c? */
bool cidr_match(const struct cidr *c, const union sockaddr_u *a);
/* True if any of the n prefixes matches. */
bool cidr_match_any(const struct cidr *list, size_t n, const union sockaddr_u *a);
/* "10.0.0.0/8", "2001:db8::/32". Returns buf. */
const char *cidr_str(const struct cidr *c, char *buf, size_t len);

#endif
