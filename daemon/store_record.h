/* One call as kept in Redis: a plain record of what a restart needs, apart from the
 * daemon's objects, and its JSON form (docs/redis.md). Parsing is bounded and total:
 * a record comes back from the network, so anything malformed, truncated, of another
 * version or out of range is refused with -EINVAL and a static reason, never trusted.
 *
 * Ownership: a record owns its strings and arrays; store_call_free() releases them. */
#ifndef SLUICE_STORE_RECORD_H
#define SLUICE_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "config.h"
#include "sluice/ice.h"
#include "sluice/netaddr.h"
#include "sluice/sdes.h"
#include "sluice/srtp.h"

#define STORE_VERSION     1
#define STORE_MAX_PARTIES 16
#define STORE_MAX_NG      4             /* offers and answers replayed at restore */
#define STORE_MAX_SUB     8             /* ... then subscribe requests and answers */
#define STORE_MAX_REPLAY  (STORE_MAX_NG + STORE_MAX_SUB)
#define STORE_MAX_SDES    8             /* SEC_SDES_MAX */
#define STORE_NG_MAX      (256 * 1024)  /* bytes of one stored NG request */
#define STORE_CALLID_MAX  1024
#define STORE_MAX_SRTP    4             /* SSRCs kept per SRTP direction */

struct store_ep {                       /* one stream's peer */
	union sockaddr_u advertised;    /* family 0: none */
	union sockaddr_u endpoint;      /* family 0: none */
	bool latched, confirmed;
	bool has_stats;                 /* absent in records of older daemons */
	uint64_t packets, bytes, errors;        /* the stream's counters when written */
};

struct store_media {
	unsigned index;                 /* 1-based m= line */
	char type[16];
	char iface[CFG_NAME_MAX];
	uint16_t port;                  /* local RTP port, RTCP = port + 1 */
	char codec[CALL_CODEC_MAX];
	bool transcoding, rtcp_mux;
	uint8_t transport;              /* enum sec_transport */
	struct store_ep rtp, rtcp;
	char sdes[STORE_MAX_SDES][SDES_VALUE_MAX];      /* our a=crypto values to this side */
	unsigned n_sdes;
	char ice_ufrag[ICE_UFRAG_LEN + 1], ice_pwd[ICE_PWD_LEN + 1];    /* ours; "" none */
	/* where the SRTP contexts were (ROC, SRTCP index): rx from this side, tx to it */
	struct srtpw_ssrc_state srtp_rx[STORE_MAX_SRTP], srtp_tx[STORE_MAX_SRTP];
	unsigned n_srtp_rx, n_srtp_tx;
};

struct store_party {
	char tags[CALL_MAX_TAGS][CALL_TAG_MAX];
	unsigned n_tags;
	char peer_tag[CALL_TAG_MAX];    /* first tag of the peer party, "" none */
	char label[64];
	struct party_opts opts;
	struct store_media *media;
	unsigned n_media;
};

struct store_call {
	char *callid;
	int64_t created;                /* unix seconds */
	bool recording;
	struct store_party *parties;
	unsigned n_parties;
	char *ng[STORE_MAX_REPLAY];     /* NG requests (JSON objects), oldest first:
	                                   offers and answers, then subscriptions */
	unsigned n_ng;
};

void store_call_free(struct store_call *c);
/* JSON text of c (NUL-terminated, malloc'd; the caller frees), or NULL on ENOMEM. */
char *store_call_to_json(const struct store_call *c, const char *instance);
/* Parse len bytes. 0, or -EINVAL with *err, or -ENOMEM; *c is zeroed on failure. */
int store_call_from_json(const char *buf, size_t len, struct store_call *c, const char **err);

#endif
