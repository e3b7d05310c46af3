/* Trickle ICE SDP fragments (RFC 8840 application/trickle-ice-sdpfrag): the session
 * part may carry a=ice-ufrag / a=ice-pwd (and a=ice-options, ignored); then one section
 * per media, opened by an m= line or, leniently, by an a=mid line alone, each with its
 * a=mid, optional a=ice-ufrag / a=ice-pwd, a=candidate lines and a=end-of-candidates.
 *
 * The parse only splits and sorts lines: candidate values are left for
 * ice_parse_candidate(). Strings point into the input, which must outlive the result.
 * Bounded: at most SDPFRAG_MAX_MEDIA sections and SDPFRAG_MAX_CAND candidates each
 * (more are counted, not kept); nothing is allocated. */
#ifndef SLUICE_SDPFRAG_H
#define SLUICE_SDPFRAG_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/sdp.h"

#define SDPFRAG_MAX_MEDIA SDP_MAX_MEDIA
#define SDPFRAG_MAX_CAND  16    /* a browser trickles one at a time; SDP batches are small */

struct sdpfrag_media {
	int index;                      /* m= line order from 0; -1: opened by a=mid alone */
	struct sdp_str mid;             /* len 0: none */
	struct sdp_str ufrag, pwd;      /* this section's; len 0: none */
	struct sdp_str cand[SDPFRAG_MAX_CAND];  /* values after "a=candidate:" */
	unsigned n_cand;
	unsigned over;                  /* candidates beyond SDPFRAG_MAX_CAND, not kept */
	bool end_of_candidates;
};

struct sdpfrag {
	struct sdp_str ufrag, pwd;      /* session level; len 0: none */
	bool end_of_candidates;         /* session level */
	unsigned session_cand;          /* a=candidate before any section: no media to go to */
	struct sdpfrag_media media[SDPFRAG_MAX_MEDIA];
	unsigned n_media;
};

/* Parse len bytes (LF or CRLF line ends; the empty fragment is valid and has no
 * sections). 0, or -EINVAL (a line that is not "x=...", a control byte, an m= line
 * without a media type) / -E2BIG (more than SDPFRAG_MAX_MEDIA sections) with a static
 * reason in *why. Lines other than those above are ignored. */
int sdpfrag_parse(const char *s, size_t len, struct sdpfrag *f, const char **why);
/* The ufrag in effect for section i: its own, else the session's (len 0: none). */
struct sdp_str sdpfrag_ufrag(const struct sdpfrag *f, unsigned i);

#endif
