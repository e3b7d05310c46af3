/* Codec negotiation policy: pure functions from SDP codec lists and NG codec flags to
 * what each rewritten SDP lists and whether media is forwarded or transcoded.
 *
 * Offer (A -> B): strip removes a codec for good; mask/consume hide it from B but A
 * may still use it (sluice transcodes); transcode/offer add codecs A did not offer, with
 * fresh payload type numbers, in front of the supplemental ones (telephone-event, CN);
 * telephone-event is added for every new clock rate when A offered it (or when it is
 * named in transcode). set changes a codec's channels/fmtp, except exempts codecs from
 * "all".
 *
 * Answer (B -> A): each side hears only codecs it offered. If B picked a codec A
 * offered (and telephone-event and ptime agree, and always-transcode is off) media is
 * forwarded, with payload type numbers mapped when the two sides numbered the codec
 * differently. Otherwise a transcoder runs in each direction between B's codec and A's
 * preferred supported codec (an accept-listed one first); A is answered with that codec
 * and its telephone-event. */
#ifndef SLUICE_CODEC_POLICY_H
#define SLUICE_CODEC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ng_codec_flags.h"
#include "sluice/codec.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

#define CP_MAX      24          /* payload types per media section considered */
#define CP_ENC_MAX  32
#define CP_FMTP_MAX 128

struct cp_codec {
	uint8_t pt;
	char enc[CP_ENC_MAX];           /* encoding name as written ("PCMU", "opus") */
	unsigned clock;
	unsigned channels;
	char fmtp[CP_FMTP_MAX];         /* a=fmtp value after "<pt> ", may be empty */
	const struct codec_def *def;    /* NULL: unknown to the codec library */
	bool rtpmap;                    /* the SDP had an a=rtpmap line for it */
};

struct cp_list {
	struct cp_codec c[CP_MAX];
	unsigned n;
	unsigned ptime;                 /* a=ptime of the section, 0 if none */
	bool not_audio;                 /* m=video etc.: transcode adds nothing to it */
};

/* What the offer decided, kept in the offerer's media until the answer. */
struct cp_offer {
	struct cp_list a;               /* codecs A may use: its offer after set and strip */
	struct cp_list b;               /* codecs the offer to B lists */
	bool changed;                   /* b is not A's offer as written */
	bool always_transcode;
	unsigned ptime_b;               /* forced packetisation towards B (ptime) */
	unsigned ptime_a;               /* forced towards A (ptime-reverse) */
	struct ng_codec_name accept[NG_CODEC_MAX];  /* copied names (request memory is gone) */
	char accept_buf[NG_CODEC_MAX][CP_ENC_MAX];
	unsigned n_accept;
};

struct cp_answer {
	struct cp_list to_a;            /* what the answer to A lists, in A's numbers */
	bool changed;                   /* to_a is not B's answer as written */
	bool transcode;
	/* forwarding: payload type maps, identity when false */
	bool remap;
	uint8_t map_ab[128], map_ba[128];
	/* transcoding */
	struct cp_codec a_codec, b_codec;
	int a_te, b_te;                 /* telephone-event payload types, -1 if none */
	unsigned a_ptime, b_ptime;      /* packetisation each side receives, 0 = default */
};

/* Codec list of media i of sdp. -EINVAL for a non-RTP section (non-numeric formats),
 * -E2BIG past CP_MAX. */
int cp_list_from_sdp(const struct sdp *sdp, unsigned i, struct cp_list *out);
bool cp_is_te(const struct cp_codec *c);
/* telephone-event or comfort noise: never the audio codec. */
bool cp_is_supplemental(const struct cp_codec *c);
/* Apply an answer request's `strip` list to the answer; true if it changed. */
bool cp_strip_answer(const struct ng_codec_flags *f, struct cp_list *l);
/* Reorder a list that goes into a rewritten answer as rtpengine does. */
void cp_order_answer(struct cp_list *l);
/* "PCMU/8000", "opus/48000/2" into buf. */
void cp_codec_name(const struct cp_codec *c, char *buf, size_t cap);

/* The reason (a static sentence naming the codec) why a codec that transcode/offer
 * asks for cannot be produced by this build's libavcodec (AMR without
 * libavcodec-extra), NULL if all can. Names sluice does not know at all are not
 * reported: like rtpengine, it ignores them. */
const char *cp_unavailable(const struct ng_codec_flags *f);
/* Decide the offer. 0, or -EINVAL when nothing would be left to offer. */
int cp_offer(const struct cp_list *in, const struct ng_codec_flags *f, struct cp_offer *out);
/* Decide the answer from the offer's state, B's answer and the answer's own flags (only
 * ptime, ptime-reverse and always-transcode are read from them; may be NULL). 0, or
 * -ENOENT when B answered no codec at all. */
int cp_answer(const struct cp_offer *o, const struct cp_list *b_ans,
	      const struct ng_codec_flags *f, struct cp_answer *out);

/* The SDP rewrite that turns section `orig` (as parsed) into `want`: a new m= format
 * list, the payload types whose a=rtpmap/a=fmtp/a=rtcp-fb lines go, and the lines to
 * add. fmt/lines receive the text (their memory backs the rewrite). ptime (0 = keep)
 * replaces a=ptime. 0 or -ENOMEM. */
int cp_rewrite(const struct cp_list *orig, const struct cp_list *want, unsigned ptime,
	       struct strbuf *fmt, struct strbuf *lines, struct sdp_media_rewrite *mr);

#endif
