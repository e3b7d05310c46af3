/* Socket address parsing and formatting. */
#include "sluice/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse_ip(const char *s, size_t len, int af_hint, union sockaddr_u *out)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (af_hint != AF_INET6 && inet_pton(AF_INET, buf, &out->sin.sin_addr) == 1) {
		out->sin.sin_family = AF_INET;
		return 0;
	}
	if (af_hint != AF_INET && inet_pton(AF_INET6, buf, &out->sin6.sin6_addr) == 1) {
		out->sin6.sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int netaddr_parse(const char *s, uint16_t default_port, bool loopback_default,
		  union sockaddr_u *out)
{
	const char *host = s, *colon;
	size_t hlen;
	uint16_t port = default_port;

	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {           /* "PORT" */
		if (parse_port(s, &port))
			return -EINVAL;
		netaddr_parse_ip(loopback_default ? "127.0.0.1" : "0.0.0.0",
				 loopback_default ? 9 : 7, AF_INET, out);
		netaddr_set_port(out, port);
		return 0;
	}
	if (*s == '[') {                                      /* "[v6]" or "[v6]:PORT" */
		const char *close = strchr(s, ']');
		if (!close)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':') {
			if (parse_port(close + 2, &port))
				return -EINVAL;
		} else if (close[1]) {
			return -EINVAL;
		}
		if (netaddr_parse_ip(host, hlen, AF_INET6, out))
			return -EINVAL;
		netaddr_set_port(out, port);
		return 0;
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))                   /* bare IPv6 */
		colon = NULL;
	hlen = colon ? (size_t)(colon - s) : strlen(s);
	if (colon && parse_port(colon + 1, &port))
		return -EINVAL;
	if (hlen == 9 && !strncmp(host, "localhost", 9))
		host = "127.0.0.1";
	if (netaddr_parse_ip(host, host == s ? hlen : 9, 0, out))
		return -EINVAL;
	netaddr_set_port(out, port);
	return 0;
}

socklen_t netaddr_len(const union sockaddr_u *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->sin6) : sizeof(a->sin);
}

uint16_t netaddr_port(const union sockaddr_u *a)
{
	if (a->sa.sa_family == AF_INET6)
		return ntohs(a->sin6.sin6_port);
	if (a->sa.sa_family == AF_INET)
		return ntohs(a->sin.sin_port);
	return 0;
}

void netaddr_set_port(union sockaddr_u *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->sin6.sin6_port = htons(port);
	else
		a->sin.sin_port = htons(port);
}

const char *netaddr_ntop(const union sockaddr_u *a, char *buf, size_t len)
{
	const void *src = a->sa.sa_family == AF_INET6 ? (const void *)&a->sin6.sin6_addr
						      : (const void *)&a->sin.sin_addr;
	if (!len)
		return buf;
	if ((a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6) ||
	    !inet_ntop(a->sa.sa_family, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *netaddr_str(const union sockaddr_u *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	netaddr_ntop(a, ip, sizeof(ip));
	if (a->sa.sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, netaddr_port(a));
	else
		snprintf(buf, len, "%s:%u", ip, netaddr_port(a));
	return buf;
}

bool netaddr_ip_eq(const union sockaddr_u *a, const union sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16);
	return false;
}

bool netaddr_eq(const union sockaddr_u *a, const union sockaddr_u *b)
{
	return netaddr_ip_eq(a, b) && netaddr_port(a) == netaddr_port(b);
}

bool netaddr_is_any(const union sockaddr_u *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
	return true;
}

bool netaddr_is_private(const union sockaddr_u *a)
{
	if (a->sa.sa_family == AF_INET) {
		uint32_t v = ntohl(a->sin.sin_addr.s_addr);

		return (v >> 24) == 10 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8 ||
		       (v >> 22) == (100u << 2 | 1) || (v >> 16) == 0xa9fe;
	}
	if (a->sa.sa_family == AF_INET6) {
		const uint8_t *b = a->sin6.sin6_addr.s6_addr;

		return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	return false;
}
