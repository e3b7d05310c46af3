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
	NG_STATISTICS,
};

enum ng_ice { NG_ICE_DEFAULT = 0, NG_ICE_REMOVE, NG_ICE_FORCE };

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
	bool trust_address, sip_source, symmetric, asymmetric, strict_source;
	bool port_latching, no_rtcp_attr, full_rtcp_attr, loop_protect;
	bool replace_origin, replace_session_conn, replace_session_name;
	struct ng_codec_flags codec;    /* codec control, ptime (ng_codec_flags.h) */
	unsigned unknown_flags;         /* count, for the debug log */
};

/* Decode dict into req. 0, or -EINVAL with a static reason in *err (e.g. "No call-id
 * in message"). Checks the keys the command needs. */
int ng_request_decode(const struct bval *dict, struct ng_request *req, const char **err);
const char *ng_cmd_name(enum ng_cmd c);

#endif
