/* A party with n media sections built by hand, as the control thread would have them
 * (no sockets, no call): for the BUNDLE unit test and fuzz target. */
#ifndef SLUICE_T_PARTY_FIXTURE_H
#define SLUICE_T_PARTY_FIXTURE_H

#include <string.h>

#include "../../daemon/call.h"

static inline void fixture_party(struct party *p, struct media *m, unsigned n)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].party = p;
		m[i].index = i + 1;
		m[i].port = (uint16_t)(30000 + 2 * i);
		m[i].rtp.media = m[i].rtcp.media = &m[i];
		m[i].rtp.component = COMP_RTP;
		m[i].rtcp.component = COMP_RTCP;
		p->media[i] = &m[i];
	}
	p->n_media = n;
}

#endif
