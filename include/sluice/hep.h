/* HEP v3 (Homer Encapsulation Protocol, EEP) encoding: a captured datagram or report
 * with its addresses, time, protocol type, capture agent id and correlation id, as
 * chunks (vendor 0) after the "HEP3" header. */
#ifndef SLUICE_HEP_H
#define SLUICE_HEP_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

/* payload protocol types (chunk 0x000b) */
enum hep_proto { HEP_PROTO_SIP = 1, HEP_PROTO_RTCP_JSON = 5, HEP_PROTO_QOS_JSON = 32,
		 HEP_PROTO_LOG = 100 };

struct hep_msg {
	const union sockaddr_u *src, *dst;      /* same family */
	int64_t time_us;                        /* wall clock */
	uint8_t proto;                          /* enum hep_proto */
	uint32_t capture_id;
	const char *correlation;                /* call-id; NULL: none */
	size_t correlation_len;
	const void *payload;
	size_t len;
};

/* Bytes written to out, or -ENOSPC / -EINVAL (families differ). */
int hep_encode(uint8_t *out, size_t cap, const struct hep_msg *m);

#endif
