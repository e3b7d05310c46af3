/* One NG request decoded from its bencode/JSON dictionary into plain fields.
 * Keys may arrive in any order; flags may arrive in the "flags" list or as structured
 * keys (Kamailio 5.6 sends "replace", "ICE", "transport-protocol", "rtcp-mux", ...);
 * "key=value" strings inside "flags" are taken as that key. Unknown keys and flags are
 * ignored. Strings point into the request tree. */
#ifndef SLUICE_NG_REQUEST_H
#define SLUICE_NG_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"
#include "sluice/netaddr.h"
#include "ng_codec_flags.h"

enum ng_cmd {
	NG_UNKNOWN = 0, NG_PING, NG_OFFER, NG_ANSWER, NG_DELETE, NG_QUERY, NG_LIST,
	NG_STATISTICS, NG_PLAY_DTMF, NG_START_RECORDING, NG_STOP_RECORDING,
	NG_PAUSE_RECORDING, NG_CAPTURE, NG_BLOCK, NG_START_FORWARDING, NG_STOP_FORWARDING,
	NG_PLAY_MEDIA, NG_SUBSCRIBE,    /* the subscription commands and publish */
};

/* ICE key: OPTIONAL is FORCE toward a side whose SDP has no ICE, else DEFAULT (sluice is
 * the only candidate: it never passes the endpoint's on). FORCE_RELAY: toward a side
 * whose SDP has no ICE, the sender's c=/m= stay and sluice adds itself as relay
 * candidates (ice_policy.c); with ICE in the SDP it is FORCE. */
enum ng_ice { NG_ICE_DEFAULT = 0, NG_ICE_REMOVE, NG_ICE_FORCE, NG_ICE_OPTIONAL,
	      NG_ICE_FORCE_RELAY };

/* ICE-lite key (offers): sluice acts as a lite agent toward the answerer (FWD), the
 * offerer (BKW), both, or neither (OFF); KEEP leaves what an earlier offer set. */
enum ng_ice_lite { NG_ICE_LITE_KEEP = 0, NG_ICE_LITE_OFF, NG_ICE_LITE_FWD, NG_ICE_LITE_BKW,
		   NG_ICE_LITE_BOTH };

enum ng_dtls { NG_DTLS_DEFAULT = 0, NG_DTLS_OFF, NG_DTLS_PASSIVE, NG_DTLS_ACTIVE };

/* SDES session parameters (RFC 4568 6.3) a request turns on or off in our keys */
enum ng_sdes_param { NG_SDES_UNENC_SRTP = 1, NG_SDES_UNENC_SRTCP = 2, NG_SDES_UNAUTH_SRTP = 4 };

/* OSRTP (RFC 8643) */
enum ng_osrtp { NG_OSRTP_OFFER = 1, NG_OSRTP_ACCEPT = 2 };

/* SDES / DTLS / OSRTP options (ng_crypto_flags.c). Suite masks use SDES_BIT(). */
struct ng_crypto_opts {
	bool sdes_off;                  /* offer no a=crypto, accept none */
	unsigned sdes_no;               /* suites excluded */
	unsigned sdes_only;             /* only these suites; 0 = no restriction */
	bool sdes_pad;                  /* keep base64 padding in inline: keys */
	bool sdes_lifetime;             /* add |2^31 to our keys */
	uint8_t sdes_set, sdes_clear;   /* enum ng_sdes_param: forced on / off */
	enum ng_dtls dtls;              /* role toward the side the SDP goes to */
	enum ng_dtls dtls_reverse;      /* role toward the side that offered DTLS to us */
	unsigned dtls_hash;             /* enum dtls_hash of our a=fingerprint; 0: default */
	unsigned osrtp;                 /* enum ng_osrtp bits */
};

enum ng_rtcp_mux {                      /* bit set */
	NG_MUX_OFFER = 1, NG_MUX_REQUIRE = 2, NG_MUX_DEMUX = 4, NG_MUX_ACCEPT = 8,
	NG_MUX_REJECT = 16,
};

#define NG_UNSUP_WORDS 2
#define NG_MAX_FROM_TAGS 8

struct ng_str {
	const char *s;
	size_t len;
};

struct ng_request {
	enum ng_cmd cmd;
	struct ng_str command;
	struct ng_str call_id, from_tag, to_tag, via_branch, sdp, label;
	struct ng_str to_label;         /* selects the other party (block/silence media) */
	bool set_label;                 /* label came as set-label: always sets */
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
	bool replace_sdp_version;       /* o= version ours: +1 only when the SDP changed */
	bool replace_username;          /* o= username the same in all SDP to one side */
	bool replace_zero_address;      /* c=0.0.0.0 (hold) written as our address */
	bool strip_extmap;              /* drop a=extmap lines */
	bool original_sendrecv;         /* direction attributes as the SDP had them */
	bool single_codec;              /* answer: only the first codec (and DTMF, CN) */
	enum ng_ice_lite ice_lite;      /* ICE-lite key */
	int tos;                        /* TOS key: 0-255; -1 keep the call's; -2 not given
	                                   or 256+ (an offer goes back to --tos) */
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
	struct {                        /* play media: "file" or "blob"; "repeat-times" (1),
	                                   "start-pos" (file frames), "duration" (ms
	                                   played at most; 0 none) */
		struct ng_str file, blob;
		unsigned repeat_times;
		uint64_t start_pos, duration;
	} play;
	struct {                        /* block DTMF, offer, answer (ng_dtmf_flags.c) */
		int delay_buffer;       /* "delay-buffer" ms, 0..30000; -1 not given */
		int dtmf_delay;         /* "DTMF-delay" ms, 0..30000; -1 not given */
		int mode;               /* "DTMF-security": enum dtmf_replace_mode, -2 off,
		                           -1 not given */
		int volume;             /* "volume": -dBm0 of the tone 0..63; -1 not given */
		int digit;              /* "digit"/"code" of the DTMF mode; -1 not given */
		uint16_t freqs[8];      /* "frequency"/"frequencies" Hz */
		unsigned n_freqs;
		char trigger[17];       /* "trigger" digits ("" not given) */
		char trigger_end[17];   /* "trigger-end" digits */
		int trig_mode;          /* "DTMF-security-trigger" as mode; -1 not given */
		int trig_end_mode;      /* "DTMF-security-trigger-end" */
		int trig_end_ms;        /* "trigger-end-time" ms; -1 not given */
		int trig_end_digits;    /* "trigger-end-digits"; -1 not given */
	} dsec;
	bool all;                       /* "all" flag or all=all: every party */
	bool allow_transcoding;         /* subscribe answer: the subscriber may get another
	                                   codec than the source's */
	struct ng_str from_tags[NG_MAX_FROM_TAGS];  /* "from-tags" list, or flags
	                                   "from-tags-TAG" (subscribe request) */
	unsigned n_from_tags;
	unsigned unknown_flags;         /* count, for the debug log */
	uint64_t unsupported[NG_UNSUP_WORDS];   /* documented but not implemented: bits of
	                                   the ng_unsupported table */
};

/* Decode dict into req. 0, or -EINVAL with a static reason in *err (e.g. "No call-id
 * in message"). Checks the keys the command needs. */
int ng_request_decode(const struct bval *dict, struct ng_request *req, const char **err);
const char *ng_cmd_name(enum ng_cmd c);
/* The command names sluice knows, as rtpengine spells them ("block media" and
 * "unblock DTMF" are two names of NG_BLOCK): how many, the i-th (NULL past the end),
 * and the index of a request's "command" (any case) or -1. */
size_t ng_cmd_count(void);
const char *ng_cmd_spelling(size_t i);
int ng_cmd_lookup(const char *s, size_t len);

/* ng_crypto_flags.c: one "flags" entry ("SDES-no-X", "DTLS=passive", "OSRTP-offer",
 * "pad-crypto", ...). True if it was an SDES/DTLS/OSRTP option (taken, or marked
 * unsupported), false if not ours. */
bool ng_crypto_flag(struct ng_request *r, const char *s, size_t len);
/* The structured keys "SDES", "OSRTP" (list or string), "DTLS", "DTLS-reverse",
 * "DTLS-fingerprint" (string). 0 or -EINVAL. */
int ng_crypto_keys(const struct bval *dict, struct ng_request *r);

/* ng_dtmf_flags.c: the DTMF-security keys and delay-buffer of a dictionary into
 * r->dsec (values it cannot read are ignored), and the same for one "KEY=VALUE" flag
 * (true if KEY is one of them). */
void ng_dtmf_keys(const struct bval *dict, struct ng_request *r);
bool ng_dtmf_flag(struct ng_request *r, const char *k, size_t kl, const char *v, size_t vl);

/* ng_unsupported.c: documented rtpengine flags, keys and values sluice does not
 * implement. Index of name (case-insensitive, ' ' = '-' = '_') or -1. */
int ng_unsupported_find(const char *s, size_t len);
/* Mark name in r->unsupported if it is in the table; false if it is not. */
bool ng_unsupported_mark(struct ng_request *r, const char *s, size_t len);
/* The same for "KEY=VALUE". */
bool ng_unsupported_kv(struct ng_request *r, const char *key, const char *v, size_t vlen);
/* NOTICE for each of r's unsupported entries not in noticed yet, then add them:
 * once per daemon lifetime each. */
void ng_unsupported_notice(uint64_t noticed[NG_UNSUP_WORDS], const struct ng_request *r);
unsigned ng_unsupported_count(void);
const char *ng_unsupported_name(unsigned i);

#endif
