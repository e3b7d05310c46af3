/* NG codec control: the "codec" dictionary (strip, mask, transcode, offer, set, except,
 * accept, consume lists), the equivalent string flags ("codec-strip-PCMA",
 * "codec-transcode-opus/48000/2", ...), "always-transcode", "ptime" and
 * "ptime-reverse". Entries are codec names ("PCMU"), full names
 * ("opus/48000/2[/fmtp]") or "all". Strings point into the request tree. */
#ifndef SLUICE_NG_CODEC_FLAGS_H
#define SLUICE_NG_CODEC_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/bencode.h"

#define NG_CODEC_MAX 16         /* entries kept per list; more are counted and ignored */

enum ng_codec_list {
	NG_CODEC_STRIP = 0,     /* remove from the offer and from what the offerer may use */
	NG_CODEC_MASK,          /* remove from the offer, keep for the offerer (transcode) */
	NG_CODEC_TRANSCODE,     /* add to the offer if missing ("offer" is an alias) */
	NG_CODEC_SET,           /* change clock/channels/fmtp of an offered codec */
	NG_CODEC_EXCEPT,        /* exempt from strip/mask "all" */
	NG_CODEC_ACCEPT,        /* answer the offerer with this codec, transcoding if needed */
	NG_CODEC_CONSUME,       /* mask, and transcode even without other flags */
	NG_CODEC__LISTS
};

struct ng_codec_name {
	const char *s;          /* whole entry as given, e.g. "opus/48000/2" */
	size_t len;
};

struct ng_codec_flags {
	struct ng_codec_name list[NG_CODEC__LISTS][NG_CODEC_MAX];
	unsigned n[NG_CODEC__LISTS];
	unsigned dropped;       /* entries beyond NG_CODEC_MAX */
	bool always_transcode;
	unsigned ptime;         /* ms, 0 = not given */
	unsigned ptime_reverse;
};

/* One string flag. Returns true if it was a codec flag (taken or, if malformed, counted
 * as dropped), false if it is not ours. */
bool ng_codec_flag(struct ng_codec_flags *f, const char *s, size_t len);
/* The "codec" dictionary and the "ptime"/"ptime-reverse" keys of a request.
 * 0 or -EINVAL with a static reason in *err. */
int ng_codec_keys(const struct bval *dict, struct ng_codec_flags *f, const char **err);
/* True if any codec flag was given (the offer/answer policy is engaged). */
bool ng_codec_any(const struct ng_codec_flags *f);
/* Splits a name entry: encoding name, clock (0 = any), channels (0 = any), fmtp (may
 * be empty). */
void ng_codec_name_split(const struct ng_codec_name *n, struct ng_codec_name *enc,
			 unsigned *clock, unsigned *channels, struct ng_codec_name *fmtp);
bool ng_codec_name_is(const struct ng_codec_name *n, const char *lit);

#endif
