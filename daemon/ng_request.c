/* NG request decoding. */
#include "ng_request.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "sluice/log.h"
#include "sluice/rfc4733.h"

static const struct { const char *name; enum ng_cmd cmd; } commands[] = {
	{ "ping", NG_PING }, { "offer", NG_OFFER }, { "answer", NG_ANSWER },
	{ "delete", NG_DELETE }, { "query", NG_QUERY }, { "list", NG_LIST },
	{ "statistics", NG_STATISTICS }, { "play DTMF", NG_PLAY_DTMF },
	{ "start recording", NG_START_RECORDING }, { "stop recording", NG_STOP_RECORDING },
	{ "pause recording", NG_PAUSE_RECORDING }, { "capture", NG_CAPTURE },
	{ "block DTMF", NG_BLOCK }, { "unblock DTMF", NG_BLOCK }, { "block media", NG_BLOCK },
	{ "unblock media", NG_BLOCK }, { "silence media", NG_BLOCK },
	{ "unsilence media", NG_BLOCK }, { "start forwarding", NG_START_FORWARDING },
	{ "stop forwarding", NG_STOP_FORWARDING },
	{ "play media", NG_PLAY_MEDIA }, { "stop media", NG_PLAY_MEDIA },
	{ "publish", NG_SUBSCRIBE }, { "subscribe request", NG_SUBSCRIBE },
	{ "subscribe answer", NG_SUBSCRIBE }, { "unsubscribe", NG_SUBSCRIBE },
};

const char *ng_cmd_name(enum ng_cmd c)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == c)
			return commands[i].name;
	return "unknown";
}

/* Case-insensitive, a space equal to a hyphen (rtpengine: "Spaces in each string may be
 * replaced by hyphens"). */
static bool str_is(const char *s, size_t len, const char *lit)
{
	if (strlen(lit) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = s[i] == ' ' ? '-' : s[i], b = lit[i] == ' ' ? '-' : lit[i];

		if (tolower((unsigned char)a) != tolower((unsigned char)b))
			return false;
	}
	return true;
}

size_t ng_cmd_count(void)
{
	return sizeof(commands) / sizeof(commands[0]);
}

const char *ng_cmd_spelling(size_t i)
{
	return i < ng_cmd_count() ? commands[i].name : NULL;
}

int ng_cmd_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < ng_cmd_count(); i++)
		if (str_is(s, len, commands[i].name))
			return (int)i;
	return -1;
}

static int get_str(const struct bval *dict, const char *key, struct ng_str *out)
{
	struct bval *v = bv_dict_get(dict, key);

	if (!v)
		return 0;
	if (v->type != BV_STR)
		return -EINVAL;
	out->s = v->str.s;
	out->len = v->str.len;
	return 0;
}

static void set_ice(struct ng_request *r, const char *s, size_t len)
{
	if (str_is(s, len, "remove"))
		r->ice = NG_ICE_REMOVE;
	else if (str_is(s, len, "force"))
		r->ice = NG_ICE_FORCE;
	else if (str_is(s, len, "optional"))
		r->ice = NG_ICE_OPTIONAL;
	else if (str_is(s, len, "default"))
		r->ice = NG_ICE_DEFAULT;
	else if (str_is(s, len, "force-relay") || str_is(s, len, "force_relay"))
		r->ice = NG_ICE_FORCE_RELAY;
	else
		ng_unsupported_kv(r, "ICE", s, len);
}

/* rtpengine's values for the ICE-lite key, with the synonyms it takes */
static void set_ice_lite(struct ng_request *r, const char *s, size_t len)
{
	static const struct { const char *v; enum ng_ice_lite m; } vals[] = {
		{ "off", NG_ICE_LITE_OFF }, { "none", NG_ICE_LITE_OFF }, { "no", NG_ICE_LITE_OFF },
		{ "forward", NG_ICE_LITE_FWD }, { "offer", NG_ICE_LITE_FWD },
		{ "fwd", NG_ICE_LITE_FWD }, { "fw", NG_ICE_LITE_FWD },
		{ "backward", NG_ICE_LITE_BKW }, { "backwards", NG_ICE_LITE_BKW },
		{ "reverse", NG_ICE_LITE_BKW }, { "answer", NG_ICE_LITE_BKW },
		{ "back", NG_ICE_LITE_BKW }, { "bkw", NG_ICE_LITE_BKW }, { "bk", NG_ICE_LITE_BKW },
		{ "both", NG_ICE_LITE_BOTH },
	};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (str_is(s, len, vals[i].v)) {
			r->ice_lite = vals[i].m;
			return;
		}
	ng_unsupported_kv(r, "ICE-lite", s, len);
}

/* "on"/"yes" (or the bare flag); other values leave it off */
static bool on_value(const char *s, size_t len)
{
	return str_is(s, len, "on") || str_is(s, len, "yes") || str_is(s, len, "true");
}

static void set_generate_rtcp(struct ng_request *r, const char *s, size_t len)
{
	/* sluice consumes RTCP and makes its own where it is the RTP endpoint: the
	 * transcoder's legs (docs/ng.md), so the flag puts the call there */
	if (on_value(s, len))
		r->codec.always_transcode = true;
}

static void set_mux(struct ng_request *r, const char *s, size_t len)
{
	static const struct { const char *n; unsigned bit; } m[] = {
		{ "offer", NG_MUX_OFFER }, { "require", NG_MUX_REQUIRE },
		{ "demux", NG_MUX_DEMUX }, { "accept", NG_MUX_ACCEPT },
		{ "reject", NG_MUX_REJECT },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (str_is(s, len, m[i].n))
			r->rtcp_mux |= m[i].bit;
}

static void set_replace(struct ng_request *r, const char *s, size_t len)
{
	if (str_is(s, len, "origin"))
		r->replace_origin = true;
	else if (str_is(s, len, "session-connection") || str_is(s, len, "session connection"))
		r->replace_session_conn = true;
	else if (str_is(s, len, "session-name") || str_is(s, len, "session name"))
		r->replace_session_name = true;
	else if (str_is(s, len, "sdp-version") || str_is(s, len, "sdp version"))
		r->replace_sdp_version = true;
	else if (str_is(s, len, "username"))
		r->replace_username = true;
	else if (str_is(s, len, "zero-address") || str_is(s, len, "zero address"))
		r->replace_zero_address = true;
	else
		r->unknown_flags++;
}

static bool set_direction(struct ng_request *r, const char *s, size_t len)
{
	if (r->n_direction >= 2)
		return false;
	r->direction[r->n_direction].s = s;
	r->direction[r->n_direction].len = len;
	r->n_direction++;
	return true;
}

/* "yes"/"on" and "no"/"off", as rtpengine; anything else is not an answer. */
static bool set_record_call(struct ng_request *r, const char *s, size_t len)
{
	if (str_is(s, len, "yes") || str_is(s, len, "on"))
		r->record_call = 1;
	else if (str_is(s, len, "no") || str_is(s, len, "off"))
		r->record_call = 0;
	else
		return false;
	return true;
}

static bool set_learning(struct ng_request *r, const char *s, size_t len)
{
	int el = endpoint_learning_parse(s, len);

	if (el >= 0)
		r->endpoint_learning = el;
	return el >= 0;
}

static void from_tags_cb(struct ng_request *r, const char *s, size_t len)
{
	if (r->n_from_tags < NG_MAX_FROM_TAGS && len)
		r->from_tags[r->n_from_tags++] = (struct ng_str){ s, len };
}

/* One entry of the "flags" list. */
static void take_flag(struct ng_request *r, const char *s, size_t len)
{
	static const struct { const char *n; size_t off; } bools[] = {
		{ "trust-address", offsetof(struct ng_request, trust_address) },
		{ "SIP-source-address", offsetof(struct ng_request, sip_source) },
		{ "symmetric", offsetof(struct ng_request, symmetric) },
		{ "asymmetric", offsetof(struct ng_request, asymmetric) },
		{ "strict-source", offsetof(struct ng_request, strict_source) },
		{ "port-latching", offsetof(struct ng_request, port_latching) },
		{ "no-rtcp-attribute", offsetof(struct ng_request, no_rtcp_attr) },
		{ "full-rtcp-attribute", offsetof(struct ng_request, full_rtcp_attr) },
		{ "loop-protect", offsetof(struct ng_request, loop_protect) },
		{ "replace-origin", offsetof(struct ng_request, replace_origin) },
		{ "replace-session-connection", offsetof(struct ng_request, replace_session_conn) },
		{ "replace-session-name", offsetof(struct ng_request, replace_session_name) },
		{ "fragment", offsetof(struct ng_request, fragment) },
		{ "media-handover", offsetof(struct ng_request, media_handover) },
		{ "strip-extmap", offsetof(struct ng_request, strip_extmap) },
		{ "original-sendrecv", offsetof(struct ng_request, original_sendrecv) },
		{ "single-codec", offsetof(struct ng_request, single_codec) },
		{ "all", offsetof(struct ng_request, all) },
		{ "allow-transcoding", offsetof(struct ng_request, allow_transcoding) },
	};
	/* accepted without effect: rtpengine 10.5 ignores them as obsolete */
	static const char *const noops[] = {
		"reorder-codecs", "asymmetric-codecs", "symmetric-codecs",
	};
	const char *eq = memchr(s, '=', len);

	if (ng_crypto_flag(r, s, len))
		return;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (str_is(s, len, bools[i].n)) {
			*(bool *)((char *)r + bools[i].off) = true;
			return;
		}
	for (size_t i = 0; i < sizeof(noops) / sizeof(noops[0]); i++)
		if (str_is(s, len, noops[i]))
			return;
	if (str_is(s, len, "generate-RTCP")) {
		r->codec.always_transcode = true;
		return;
	}
	if (len > 18 && !memcmp(s, "endpoint-learning-", 18) &&
	    set_learning(r, s + 18, len - 18))
		return;
	if (str_is(s, len, "record-call") || str_is(s, len, "record call")) {
		r->record_call = 1;
		return;
	}
	if (eq) {
		const char *v = eq + 1;
		size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
		if (str_is(s, klen, "ICE"))
			set_ice(r, v, vlen);
		else if (str_is(s, klen, "ICE-lite"))
			set_ice_lite(r, v, vlen);
		else if (str_is(s, klen, "generate-RTCP"))
			set_generate_rtcp(r, v, vlen);
		else if (str_is(s, klen, "rtcp-mux"))
			set_mux(r, v, vlen);
		else if (str_is(s, klen, "replace"))
			set_replace(r, v, vlen);
		else if (str_is(s, klen, "transport-protocol"))
			r->transport_protocol = (struct ng_str){ v, vlen };
		else if (str_is(s, klen, "direction"))
			set_direction(r, v, vlen);
		else if (str_is(s, klen, "address-family"))
			r->address_family = (struct ng_str){ v, vlen };
		else if (str_is(s, klen, "media-address"))
			r->media_address = (struct ng_str){ v, vlen };
		else if (str_is(s, klen, "record-call") || str_is(s, klen, "record call"))
			set_record_call(r, v, vlen);
		else if (str_is(s, klen, "metadata"))
			r->metadata = (struct ng_str){ v, vlen };
		else if ((r->cmd == NG_OFFER || r->cmd == NG_ANSWER || r->cmd == NG_BLOCK) &&
			 ng_dtmf_flag(r, s, klen, v, vlen))
			;
		else if (!ng_codec_flag(&r->codec, s, len) && !ng_unsupported_mark(r, s, len) &&
			 !ng_unsupported_mark(r, s, klen))
			r->unknown_flags++;
		return;
	}
	if (len > 10 && !strncasecmp(s, "from-tags-", 10)) {
		from_tags_cb(r, s + 10, len - 10);
		return;
	}
	if (ng_unsupported_mark(r, s, len))
		return;
	if (len > 5 && !strncasecmp(s, "T.38-", 5))
		ng_unsupported_mark(r, "T.38", 4);
	else if (len > 4 && !strncasecmp(s, "ICE-", 4))
		set_ice(r, s + 4, len - 4);
	else if (len > 9 && !strncasecmp(s, "rtcp-mux-", 9))
		set_mux(r, s + 9, len - 9);
	else if (len > 8 && !strncasecmp(s, "replace-", 8))
		set_replace(r, s + 8, len - 8);
	else if (len > 4 && (!strncmp(s, "RTP/", 4) || !strncmp(s, "UDP/", 4)))
		r->transport_protocol = (struct ng_str){ s, len };
	else if (!ng_codec_flag(&r->codec, s, len) && !ng_unsupported_mark(r, s, len))
		r->unknown_flags++;
}

/* A key that holds a list of strings (or, leniently, one string; never for "flags",
 * whose string form would be ambiguous). */
static int each_str(const struct bval *dict, const char *key, struct ng_request *r,
		    void (*fn)(struct ng_request *, const char *, size_t))
{
	struct bval *v = bv_dict_get(dict, key);

	if (!v)
		return 0;
	if (v->type == BV_STR && strcmp(key, "flags")) {
		fn(r, v->str.s, v->str.len);
		return 0;
	}
	if (v->type != BV_LIST)
		return -EINVAL;
	for (struct bval *e = v->c.first; e; e = e->next) {
		if (e->type != BV_STR)
			return -EINVAL;
		fn(r, e->str.s, e->str.len);
	}
	return 0;
}

static void supports_cb(struct ng_request *r, const char *s, size_t len)
{
	if (str_is(s, len, "load limit"))
		r->supports_load_limit = true;
}

static void dir_cb(struct ng_request *r, const char *s, size_t len)
{
	set_direction(r, s, len);
}

static int get_received_from(const struct bval *dict, struct ng_request *r)
{
	struct bval *v = bv_dict_get(dict, "received-from"), *fam, *addr;

	if (!v)
		return 0;
	if (v->type != BV_LIST || v->c.n != 2)
		return -EINVAL;
	fam = v->c.first;
	addr = fam->next;
	if (fam->type != BV_STR || addr->type != BV_STR)
		return -EINVAL;
	if (netaddr_parse_ip(addr->str.s, addr->str.len,
			     str_is(fam->str.s, fam->str.len, "IP6") ? AF_INET6 : AF_INET,
			     &r->received_from))
		return -EINVAL;
	r->has_received_from = true;
	return 0;
}

static int get_int(const struct bval *dict, const char *key, long long *out)
{
	struct bval *v = bv_dict_get(dict, key);
	char buf[24], *end;

	if (!v)
		return 0;
	if (v->type == BV_INT) {
		*out = v->i;
		return 0;
	}
	if (v->type != BV_STR || v->str.len == 0 || v->str.len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v->str.s, v->str.len);
	buf[v->str.len] = '\0';
	*out = strtoll(buf, &end, 10);
	return *end ? -EINVAL : 0;
}

/* Keys of an offer or answer that rtpengine documents and sluice does not implement:
 * marked for the NOTICE (ng_unsupported.c). */
static void unsupported_keys(const struct bval *d, struct ng_request *r)
{
	for (const struct bval *e = d->c.first; e; e = e->next)
		ng_unsupported_mark(r, e->key, e->key_len);
}

/* The label keys: "label" (or "from-label") names the party the request is about;
 * "set-label" sets it whatever the command; "to-label" names the other party. */
static int get_labels(const struct bval *d, struct ng_request *r)
{
	struct ng_str set = { 0 };

	if (get_str(d, "label", &r->label) || get_str(d, "to-label", &r->to_label) ||
	    get_str(d, "set-label", &set))
		return -EINVAL;
	if (!r->label.s && get_str(d, "from-label", &r->label))
		return -EINVAL;
	if (set.s) {
		r->label = set;
		r->set_label = true;
	}
	return 0;
}

/* TOS: 0-255 sets it for the call, negative keeps the call's, absent or 256 and more
 * go back to --tos (rtpengine's reading). */
static int get_tos(const struct bval *d, struct ng_request *r)
{
	long long v = -2;

	if (get_int(d, "TOS", &v))
		return -EINVAL;
	r->tos = v > 255 ? -2 : v < 0 && v != -2 ? -1 : (int)v;
	return 0;
}

static int decode_keys(const struct bval *d, struct ng_request *r, const char **err)
{
	struct ng_str ice = { 0 }, learning = { 0 }, rec = { 0 }, rec2 = { 0 }, lite = { 0 };
	struct ng_str grtcp = { 0 }, all = { 0 };

#define WANT(expr, why) do { if (expr) { *err = why; return -EINVAL; } } while (0)
	WANT(get_str(d, "call-id", &r->call_id), "Invalid call-id");
	WANT(get_str(d, "from-tag", &r->from_tag), "Invalid from-tag");
	WANT(get_str(d, "to-tag", &r->to_tag), "Invalid to-tag");
	WANT(get_str(d, "via-branch", &r->via_branch), "Invalid via-branch");
	WANT(get_str(d, "sdp", &r->sdp), "Invalid SDP body (not a string)");
	WANT(get_labels(d, r), "Invalid label");
	WANT(get_tos(d, r), "Invalid TOS");
	WANT(get_str(d, "ICE-lite", &lite), "Invalid ICE-lite option");
	WANT(get_str(d, "generate RTCP", &grtcp) ||
	     (!grtcp.s && get_str(d, "generate-RTCP", &grtcp)), "Invalid generate RTCP option");
	WANT(get_str(d, "transport-protocol", &r->transport_protocol), "Invalid transport-protocol");
	WANT(get_str(d, "media-address", &r->media_address), "Invalid media-address");
	WANT(get_str(d, "address-family", &r->address_family), "Invalid address-family");
	WANT(get_str(d, "ICE", &ice), "Invalid ICE option");
	WANT(get_str(d, "endpoint-learning", &learning) ||
	     (learning.s && !set_learning(r, learning.s, learning.len)),
	     "Invalid endpoint-learning");
	WANT(get_str(d, "record-call", &rec) || get_str(d, "record call", &rec2) ||
	     (rec.s && !set_record_call(r, rec.s, rec.len)) ||
	     (rec2.s && !set_record_call(r, rec2.s, rec2.len)), "Invalid record-call value");
	WANT(get_str(d, "metadata", &r->metadata), "Invalid metadata");
	WANT(each_str(d, "flags", r, take_flag), "Invalid flags list");
	WANT(each_str(d, "replace", r, set_replace), "Invalid replace list");
	WANT(each_str(d, "rtcp-mux", r, set_mux), "Invalid rtcp-mux list");
	WANT(each_str(d, "direction", r, dir_cb), "Invalid direction list");
	WANT(get_received_from(d, r), "Invalid received-from");
	WANT(each_str(d, "supports", r, supports_cb), "Invalid supports list");
	WANT(each_str(d, "from-tags", r, from_tags_cb), "Invalid from-tags list");
	WANT(get_str(d, "all", &all), "Invalid all key");
	/* "all": every party (play media, subscribe request); rtpengine's other values
	 * (offer-answer, flows, ...) select flows sluice does not have */
	if (all.s && (str_is(all.s, all.len, "all") || str_is(all.s, all.len, "yes")))
		r->all = true;
	r->has_limit = !get_int(d, "limit", &r->limit) && bv_dict_get(d, "limit");
	if (ng_codec_keys(d, &r->codec, err))
		return -EINVAL;
	WANT(ng_crypto_keys(d, r), "Invalid SDES or DTLS option");
	/* bounded like the delete-delay option: the caller multiplies it into µs */
	WANT(get_int(d, "delete-delay", &r->delete_delay) || r->delete_delay < -1 ||
	     r->delete_delay > INT_MAX, "Invalid delete-delay");
#undef WANT
	if (ice.s)
		set_ice(r, ice.s, ice.len);
	if (lite.s)
		set_ice_lite(r, lite.s, lite.len);
	if (grtcp.s)
		set_generate_rtcp(r, grtcp.s, grtcp.len);
	if (r->transport_protocol.s &&
	    ng_unsupported_kv(r, "transport-protocol", r->transport_protocol.s,
			      r->transport_protocol.len))
		r->transport_protocol = (struct ng_str){ 0 };
	return 0;
}

static long long clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* rtpengine's defaults and bounds: 250 ms (100..5000), -8 dB, pause 100 ms (100..5000). */
static int decode_dtmf(const struct bval *d, struct ng_request *r, const char **err)
{
	struct bval *v = bv_dict_get(d, "code");
	const char *key = "code";
	long long ev = -1, dur = 250, vol = -8, pause = 100;

	if (!v) {
		v = bv_dict_get(d, "digit");
		key = "digit";
	}
	if (!v) {
		*err = "No digit or code in message";
		return -EINVAL;
	}
	if (v->type == BV_STR && v->str.len == 1)
		ev = rfc4733_digit_event(v->str.s[0]);
	else if (get_int(d, key, &ev))
		ev = -1;
	if (ev < 0 || ev > 15) {
		*err = "Invalid DTMF digit or code";
		return -EINVAL;
	}
	if (get_int(d, "duration", &dur) || get_int(d, "volume", &vol) ||
	    get_int(d, "pause", &pause)) {
		*err = "Invalid DTMF duration, volume or pause";
		return -EINVAL;
	}
	r->dtmf.event = (unsigned)ev;
	r->dtmf.duration = (unsigned)clamp(dur, 100, 5000);
	vol = clamp(vol, -63, 63);
	r->dtmf.volume = (unsigned)(vol < 0 ? -vol : vol);
	r->dtmf.pause = (unsigned)clamp(pause, 100, 5000);
	return 0;
}

/* play media: rtpengine's keys; repeat-times at least 1, the others not negative. */
static int decode_play(const struct bval *d, struct ng_request *r, const char **err)
{
	long long rep = 1, pos = 0, dur = 0;
	if (get_str(d, "file", &r->play.file) || get_str(d, "blob", &r->play.blob)) {
		*err = "Invalid file or blob";
		return -EINVAL;
	}
	if (get_int(d, "repeat-times", &rep) || get_int(d, "start-pos", &pos) ||
	    get_int(d, "duration", &dur) || pos < 0 || dur < 0 || dur > INT_MAX) {
		*err = "Invalid repeat-times, start-pos or duration";
		return -EINVAL;
	}
	r->play.repeat_times = (unsigned)clamp(rep, 1, 10000);
	r->play.start_pos = (uint64_t)pos;
	r->play.duration = (uint64_t)dur;
	return 0;
}

int ng_request_decode(const struct bval *dict, struct ng_request *r, const char **err)
{
	struct ng_str cmd = { 0 };

	memset(r, 0, sizeof(*r));
	r->delete_delay = -1;
	r->endpoint_learning = -1;
	r->record_call = -1;
	r->tos = -2;
	r->dsec.delay_buffer = r->dsec.dtmf_delay = r->dsec.mode = -1;
	r->dsec.volume = r->dsec.digit = -1;
	r->dsec.trig_mode = r->dsec.trig_end_mode = -1;
	r->dsec.trig_end_ms = r->dsec.trig_end_digits = -1;
	if (!dict || dict->type != BV_DICT) {
		*err = "Message is not a dictionary";
		return -EINVAL;
	}
	if (get_str(dict, "command", &cmd) || !cmd.s) {
		*err = "No command in message";
		return -EINVAL;
	}
	r->command = cmd;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (str_is(cmd.s, cmd.len, commands[i].name))
			r->cmd = commands[i].cmd;
	if (r->cmd == NG_UNKNOWN) {
		*err = "Unrecognized command";
		return -EINVAL;
	}
	if (decode_keys(dict, r, err))
		return -EINVAL;
	if (r->cmd == NG_OFFER || r->cmd == NG_ANSWER || r->cmd == NG_BLOCK)
		ng_dtmf_keys(dict, r);
	if (r->cmd == NG_OFFER || r->cmd == NG_ANSWER)
		unsupported_keys(dict, r);
	switch (r->cmd) {
	case NG_OFFER:
	case NG_ANSWER:
		if (!r->sdp.s) {
			*err = "No SDP body in message";
			return -EINVAL;
		}
		/* fallthrough */
	case NG_PLAY_DTMF:
		if (r->cmd == NG_PLAY_DTMF && decode_dtmf(dict, r, err))
			return -EINVAL;
		/* fallthrough */
	case NG_PLAY_MEDIA:
		if (r->cmd == NG_PLAY_MEDIA && decode_play(dict, r, err))
			return -EINVAL;
		/* fallthrough */
	case NG_SUBSCRIBE:
	case NG_DELETE:
	case NG_QUERY:
	case NG_START_RECORDING:
	case NG_STOP_RECORDING:
	case NG_PAUSE_RECORDING:
	case NG_CAPTURE:
	case NG_BLOCK:
	case NG_START_FORWARDING:
	case NG_STOP_FORWARDING:
		if (!r->call_id.len) {
			*err = "No call-id in message";
			return -EINVAL;
		}
		if ((r->cmd == NG_OFFER || r->cmd == NG_ANSWER || r->cmd == NG_PLAY_DTMF) &&
		    !r->from_tag.len && !(r->cmd == NG_PLAY_DTMF && r->label.len)) {
			*err = "No from-tag in message";
			return -EINVAL;
		}
		if (r->cmd == NG_ANSWER && !r->to_tag.len) {
			*err = "No to-tag in message";
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	return 0;
}
