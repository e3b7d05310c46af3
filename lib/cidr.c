/* Address prefixes: a byte-wise compare of the first prefix bits. */
#include "sluice/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Clear the bits after prefix; true if any was set. */
static bool clear_host_bits(uint8_t *addr, unsigned nbytes, unsigned prefix)
{
	bool any = false;

	for (unsigned i = 0; i < nbytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		any |= (addr[i] & ~mask) != 0;
		addr[i] &= mask;
	}
	return any;
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	char *end;
	long v;

	/* digits only: no sign, no spaces, no "0x" */
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 3)
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || (unsigned long)v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int cidr_parse(const char *s, struct cidr *out, bool *host_bits)
{
	const char *slash, *ip = s;
	size_t iplen;
	union sockaddr_u a;
	unsigned max, prefix;
	bool hb;

	if (!s || !*s)
		return -EINVAL;
	slash = strchr(s, '/');
	iplen = slash ? (size_t)(slash - s) : strlen(s);
	if (iplen >= 2 && s[0] == '[' && s[iplen - 1] == ']') {
		ip = s + 1;
		iplen -= 2;
		if (netaddr_parse_ip(ip, iplen, AF_INET6, &a))
			return -EINVAL;
	} else if (netaddr_parse_ip(ip, iplen, 0, &a)) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)a.sa.sa_family;
	max = out->family == AF_INET6 ? 128 : 32;
	if (out->family == AF_INET6)
		memcpy(out->addr, &a.sin6.sin6_addr, 16);
	else
		memcpy(out->addr, &a.sin.sin_addr, 4);
	prefix = max;
	if (slash && parse_prefix(slash + 1, max, &prefix))
		return -EINVAL;
	out->prefix = (uint8_t)prefix;
	hb = clear_host_bits(out->addr, max / 8, prefix);
	if (host_bits)
		*host_bits = hb;
	return 0;
}

static bool prefix_eq(const uint8_t *net, const uint8_t *addr, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(net, addr, full))
		return false;
	return !rest || !((net[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

bool cidr_match(const struct cidr *c, const union sockaddr_u *a)
{
	const uint8_t *v6;

	if (a->sa.sa_family == AF_INET)
		return c->family == AF_INET &&
		       prefix_eq(c->addr, (const uint8_t *)&a->sin.sin_addr, c->prefix);
	if (a->sa.sa_family != AF_INET6)
		return false;
	v6 = (const uint8_t *)&a->sin6.sin6_addr;
	if (c->family == AF_INET6)
		return prefix_eq(c->addr, v6, c->prefix);
	/* a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d */
	return c->family == AF_INET && !memcmp(v6, v4mapped, sizeof(v4mapped)) &&
	       prefix_eq(c->addr, v6 + 12, c->prefix);
}

bool cidr_match_any(const struct cidr *list, size_t n, const union sockaddr_u *a)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], a))
			return true;
	return false;
}

const char *cidr_str(const struct cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == AF_INET6 ? AF_INET6 : AF_INET, c->addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	snprintf(buf, len, "%s/%u", ip, c->prefix);
	return buf;
}
