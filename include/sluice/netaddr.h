/* Socket address helpers shared by daemon, tools and tests. IPv4 and IPv6. */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* IPv4 or IPv6 only: 28 bytes, not sockaddr_storage's 128 (the relay copies one per
 * packet batch and keeps several per stream). */
union sockaddr_u {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

#define NETADDR_STRLEN 64   /* fits "[v6addr%scope]:65535" */

/* Parse "IP", "IP:PORT", "[IPv6]:PORT", "IPv6" (bare), "PORT" (-> 127.0.0.1:PORT when
 * loopback_default, else 0.0.0.0:PORT) or "localhost[:PORT]". default_port applies when no
 * port is given. No DNS. Returns 0 or -EINVAL. */
int netaddr_parse(const char *s, uint16_t default_port, bool loopback_default,
		  union sockaddr_u *out);
/* Parse a bare address (no port) of either family. af_hint: 0, AF_INET or AF_INET6. */
int netaddr_parse_ip(const char *s, size_t len, int af_hint, union sockaddr_u *out);
socklen_t netaddr_len(const union sockaddr_u *a);
uint16_t netaddr_port(const union sockaddr_u *a);
void netaddr_set_port(union sockaddr_u *a, uint16_t port);
/* Address only ("1.2.3.4", "::1"). Returns buf. */
const char *netaddr_ntop(const union sockaddr_u *a, char *buf, size_t len);
/* "1.2.3.4:5" or "[::1]:5". Returns buf. */
const char *netaddr_str(const union sockaddr_u *a, char *buf, size_t len);
/* Same family, address and port. */
bool netaddr_eq(const union sockaddr_u *a, const union sockaddr_u *b);
/* Same family and address, port ignored. */
bool netaddr_ip_eq(const union sockaddr_u *a, const union sockaddr_u *b);
/* 0.0.0.0 / :: */
bool netaddr_is_any(const union sockaddr_u *a);
/* An address that cannot be a phone's public one: RFC 1918, 100.64/10 (carrier-grade
 * NAT), 169.254/16, IPv6 unique-local fc00::/7 and link-local fe80::/10. */
bool netaddr_is_private(const union sockaddr_u *a);

#endif
