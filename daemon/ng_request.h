/* One NG request decoded from its bencode/JSON dictionary into plain fields.
 * Keys may arrive in any order; flags may arrive in the "flags" list or as structured
 * keys (Kamailio 5.6 sends "replace", "ICE", "transport-protocol", "rtcp-mux", ...);
 * "key=value" strings inside "flags" are taken as that key. Unknown keys and flags are
 * ignored. Strings point into the request tree. */
#ifndef SLUICE_NG_REQUEST_H
#define SLUICE_NG_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/bencode.h"
#include "sluice/netaddr.h"
#include "ng_codec_flags.h"

enum ng_cmd {
	NG_UNKNOWN = 0, NG_PING, NG_OFFER, NG_ANSWER, NG_DELETE, NG_QUERY, NG_LIST,
	NG_STATISTICS, NG_PLAY_DTMF, NG_START_RECORDING, NG_STOP_RECORDING,
	NG_PAUSE_RECORDING, NG_CAPTURE, NG_BLOCK, NG_START_FORWARDING, NG_STOP_FORWARDING,
};

enum ng_ice { NG_ICE_DEFAULT = 0, NG_ICE_REMOVE, NG_ICE_FORCE };

enum ng_dtls { NG_DTLS_DEFAULT = 0, NG_DTLS_OFF, NG_DTLS_PASSIVE, NG_DTLS_ACTIVE };

/* SDES / DTLS options (ng_crypto_flags.c). Suite masks use SDES_BIT(). */
struct ng_crypto_opts {
	bool sdes_off;                  /* offer no a=crypto, accept none */
	unsigned sdes_no;               /* suites excluded */
	unsigned sdes_only;             /* only these suites; 0 = no restriction */
	enum ng_dtls dtls;
	bool ice_force_relay;           /* ICE=force-relay (no relay candidates: as force) */
};

enum ng_rtcp_mux {                      /* bit set */
	NG_MUX_OFFER = 1, NG_MUX_REQUIRE = 2, NG_MUX_DEMUX = 4, NG_MUX_ACCEPT = 8,
	NG_MUX_REJECT = 16,
};

struct ng_str {
	const char *s;
	size_t len;
};

struct ng_request {
	enum ng_cmd cmd;
	struct ng_str command;
	struct ng_str call_id, from_tag, to_tag, via_branch, sdp, label;
	struct ng_str transport_protocol, media_address, address_family;
	struct ng_str direction[2];
	unsigned n_direction;
	union sockaddr_u received_from;
	bool has_received_from;
	long long delete_delay;         /* -1 = not given */
	enum ng_ice ice;
	unsigned rtcp_mux;              /* enum ng_rtcp_mux bits */
	struct ng_crypto_opts crypto;
	bool trust_address, sip_source, symmetric, asymmetric, strict_source;
	bool port_latching, no_rtcp_attr, full_rtcp_attr, loop_protect;
	bool replace_origin, replace_session_conn, replace_session_name;
	bool fragment;                  /* offer/answer: sdp is a trickle ICE SDP fragment */
	bool media_handover;            /* a fixed latch follows a new source */
	int endpoint_learning;          /* enum endpoint_learning; -1: not given */
	int record_call;                /* "record-call": 1 yes/on, 0 no/off, -1 not given */
	struct ng_str metadata;         /* stored with the recording */
	bool supports_load_limit;       /* "supports" lists "load limit": a refused new
	                                   call is answered result "load limit" */
	bool has_limit;                 /* list: "limit" given (an integer, or a string of
	                                   digits; anything else is ignored, as rtpengine) */
	long long limit;
	struct ng_codec_flags codec;    /* codec control, ptime (ng_codec_flags.h) */
	struct {                        /* play DTMF: "code"/"digit", "duration" ms,
	                                   "volume" dB (sign ignored), "pause" ms */
		unsigned event;         /* 0-15 */
		unsigned duration, volume, pause;
	} dtmf;
	unsigned unknown_flags;         /* count, for the debug log */
};

/* Decode dict into req. 0, or -EINVAL with a static reason in *err (e.g. "No call-id
 * in message"). Checks the keys the command needs. */
int ng_request_decode(const struct bval *dict, struct ng_request *req, const char **err);
const char *ng_cmd_name(enum ng_cmd c);

/* ng_crypto_flags.c: one "flags" entry ("SDES-no-X", "DTLS=passive", ...). True if it
 * was an SDES/DTLS/ICE=force-relay option (taken, or ignored as an unsupported SDES-
 * variant), false if not ours. */
bool ng_crypto_flag(struct ng_request *r, const char *s, size_t len);
/* The structured keys "SDES" (list or string) and "DTLS" (string). 0 or -EINVAL. */
int ng_crypto_keys(const struct bval *dict, struct ng_request *r);

#endif
