/* HEP v3 to Homer (--homer, --homer-protocol, --homer-id, as rtpengine): the RTCP that
 * passes through the relay (as JSON, HEP type 5) and a quality report at call end (JSON,
 * HEP type 32), each correlated by call-id. Workers only copy RTCP into a queue of their
 * own; one thread encodes and sends, so a slow or absent collector never holds up media
 * (what cannot be sent is dropped and counted). */
#ifndef SLUICE_HEP_SENDER_H
#define SLUICE_HEP_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"
#include "sluice/netaddr.h"

struct daemon;
struct call;
struct hep;

int hep_start(struct daemon *d, char *err, size_t errlen);
void hep_stop(struct daemon *d);
/* Worker, call lock held: an RTCP compound of call c from src to dst (decrypted). */
void hep_rtcp(struct hep *h, unsigned worker, const struct call *c,
	      const union sockaddr_u *src, const union sockaddr_u *dst,
	      const uint8_t *p, size_t len);
/* Control thread, at call end: the call's quality report. */
void hep_call_report(struct daemon *d, struct call *c);
/* Homer's RTCP JSON of the first SR or RR of a compound (json-c object), or NULL. */
struct json_object *hep_rtcp_json(const uint8_t *p, size_t len);
/* statistics: the "homer" section. */
struct bval *hep_statistics(struct daemon *d, struct arena *a);

#endif
