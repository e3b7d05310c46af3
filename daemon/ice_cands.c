/* Our ICE host candidates toward a side: one per socket of each component's stream
 * (secure.h, struct ice_locals; the sockets: media_socks.h).
 *
 * SDP form and order, as rtpengine 10.5 writes them: component 1's candidates, then
 * component 2's (none once rtcp-mux is settled), each in socket order, i.e. the address
 * the m=/c= lines name first, then the other addresses of its family, then those of the
 * other family; e.g. toward an IPv4 side of an interface with 127.0.0.1 and ::1:
 *
 *   a=candidate:F1 1 UDP 2130706431 127.0.0.1 30000 typ host
 *   a=candidate:F2 1 UDP 2130706175 ::1 30100 typ host
 *   a=candidate:F1 2 UDP 2130706430 127.0.0.1 30001 typ host
 *   a=candidate:F2 2 UDP 2130706174 ::1 30101 typ host
 *
 * The foundation is one per address, the local preference (bits 8-23 of the priority)
 * 65535 for the first address and one less for each further one (lib/ice.c). */
#include "secure.h"

#include <string.h>

#include "daemon.h"
#include "media_socks.h"
#include "sluice/strbuf.h"

_Static_assert(STREAM_MAX_SOCKS * ICE_MAX_COMP <= ICE_MAX_LOCAL,
	       "the agent holds a candidate per socket and component");
_Static_assert(STREAM_MAX_SOCKS <= 127, "ice_locals indexes are int8_t");

void ice_cands_reset(struct ice_locals *l)
{
	memset(l->idx, -1, sizeof(l->idx));
}

static unsigned n_socks(const struct media *m)
{
	return 1u + (m->xsocks ? m->xsocks->n : 0);
}

/* The advertised address and port of socket k of component comp (1-based). */
static void cand_addr(const struct media *m, unsigned comp, unsigned k, union sockaddr_u *a)
{
	uint16_t port;

	if (k == 0) {
		*a = m->iface->advertised;
		port = m->port;
	} else {
		*a = m->xsocks->iface[k - 1]->advertised;
		port = m->xsocks->port[k - 1];
	}
	netaddr_set_port(a, (uint16_t)(port + comp - 1));
}

/* rtpengine's foundations: 16 letters and digits, one per address and per family of the
 * section's own address (so one address has another foundation in an IPv6 section
 * than in an IPv4 one), the same in every call. RFC 8445 5.1.1.3 asks only that
 * candidates of one base share one, which they do. */
static void foundation(const union sockaddr_u *own, const union sockaddr_u *addr, char *out,
		       size_t size)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char ip[NETADDR_STRLEN];
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	size_t i;

	h = (h ^ (uint8_t)own->sa.sa_family) * 1099511628211ull;
	netaddr_ntop(addr, ip, sizeof(ip));
	for (i = 0; ip[i]; i++)
		h = (h ^ (uint8_t)ip[i]) * 1099511628211ull;
	for (i = 0; i < 16 && i + 1 < size; i++) {
		out[i] = b62[h % 62];
		h = h / 62 ^ (h << 17) * 31;
	}
	out[i] = '\0';
}

int ice_cands_add(struct secure_media *sm)
{
	const struct media *m = sm->m;

	ice_cands_reset(&sm->cands);
	for (unsigned c = 1; c <= ICE_MAX_COMP && c <= sm->ice->n_comp; c++)
		for (unsigned k = 0; k < n_socks(m); k++) {
			union sockaddr_u a;
			int i;

			cand_addr(m, c, k, &a);
			i = ice_add_local_type(sm->ice, c, &a, sm->ice_relay ? ICE_CAND_RELAY
									 : ICE_CAND_HOST);
			if (i < 0 && k == 0)
				return i;
			if (i < 0)
				continue;
			sm->cands.idx[c - 1][k] = (int8_t)i;
			foundation(&m->iface->advertised, &a, sm->ice->local[i].foundation,
				   sizeof(sm->ice->local[i].foundation));
		}
	return 0;
}

int ice_cands_rebound(struct secure_media *sm)
{
	int e;

	if (!sm)
		return 0;
	if (!sm->ice) {         /* the next agent toward the side starts a new session */
		sm->ice_ufrag[0] = sm->ice_pwd[0] = '\0';
		return 0;
	}
	if ((e = ice_restart_local(sm->ice)))
		return e;
	memcpy(sm->ice_ufrag, sm->ice->ufrag, sizeof(sm->ice_ufrag));
	memcpy(sm->ice_pwd, sm->ice->pwd, sizeof(sm->ice_pwd));
	return ice_cands_add(sm);
}

int ice_cands_local(const struct secure_media *sm, const struct stream *s, unsigned k)
{
	unsigned c = s->component == COMP_RTCP ? 1 : 0;

	return k < STREAM_MAX_SOCKS ? sm->cands.idx[c][k] : -1;
}

struct stream *ice_cands_socket(struct secure_media *sm, unsigned local, unsigned *k)
{
	for (unsigned c = 0; c < ICE_MAX_COMP; c++)
		for (unsigned j = 0; j < STREAM_MAX_SOCKS; j++)
			if (sm->cands.idx[c][j] >= 0 && (unsigned)sm->cands.idx[c][j] == local) {
				*k = j;
				return c ? &sm->m->rtcp : &sm->m->rtp;
			}
	return NULL;
}

void ice_cands_sdp(const struct secure_media *sm, struct strbuf *lines)
{
	char cand[ICE_CAND_MAX];

	for (unsigned c = 0; c < ICE_MAX_COMP && c < sm->ice->n_comp; c++)
		for (unsigned k = 0; k < STREAM_MAX_SOCKS; k++)
			if (sm->cands.idx[c][k] >= 0 &&
			    ice_format_candidate(sm->ice, (unsigned)sm->cands.idx[c][k], cand,
						 sizeof(cand)) >= 0)
				sb_printf(lines, "a=candidate:%s\r\n", cand);
}
