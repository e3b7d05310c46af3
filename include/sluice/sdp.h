/* SDP (RFC 8866) parsing and rewriting emission.
 *
 * sdp_parse() splits a body into lines (CRLF or LF), classifies the ones a media relay
 * cares about, and records per-section facts (origin, connection, m= fields, rtcp,
 * direction, ICE). Strings point into the input, which must outlive the struct.
 * sdp_emit() writes the body back line by line, changing only what a struct sdp_rewrite
 * asks for; every other line is copied as it was (output always uses CRLF).
 * The module knows nothing of calls: the daemon's policy fills the rewrite. */
#ifndef SLUICE_SDP_H
#define SLUICE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/strbuf.h"

#define SDP_MAX_LEN     65536   /* bytes of body accepted */
#define SDP_MAX_LINES   1024
#define SDP_MAX_MEDIA   32
#define SDP_ADDR_MAX    64      /* connection address text, NUL-terminated */

struct sdp_str {
	const char *s;
	size_t len;
};

enum sdp_af { SDP_AF_NONE = 0, SDP_AF_IP4, SDP_AF_IP6 };

enum sdp_dir { SDP_DIR_NONE = 0, SDP_DIR_SENDRECV, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY,
	       SDP_DIR_INACTIVE };

enum sdp_line_kind {
	SDP_L_OTHER = 0,
	SDP_L_VERSION,          /* v= */
	SDP_L_ORIGIN,           /* o= */
	SDP_L_SESSION_NAME,     /* s= */
	SDP_L_CONN,             /* c= */
	SDP_L_MEDIA,            /* m= */
	SDP_L_RTCP,             /* a=rtcp:... */
	SDP_L_RTCP_MUX,         /* a=rtcp-mux */
	SDP_L_DIRECTION,        /* a=sendrecv / sendonly / recvonly / inactive */
	SDP_L_ICE,              /* a=ice-ufrag, ice-pwd, ice-options, ice-lite, ice-mismatch,
	                           candidate, remote-candidates, end-of-candidates */
};

struct sdp_line {
	char type;              /* 'v', 'o', 'a', ... */
	struct sdp_str value;   /* text after "x=", without line ending */
	enum sdp_line_kind kind;
};

struct sdp_conn {
	bool present;
	enum sdp_af af;
	char addr[SDP_ADDR_MAX];   /* "1.2.3.4", "::1", or a hostname as given */
};

struct sdp_origin {
	bool present;
	struct sdp_str username, sess_id, sess_version, nettype;
	enum sdp_af af;
	char addr[SDP_ADDR_MAX];
};

struct sdp_media {
	struct sdp_str type;        /* "audio", "video", "image", ... */
	uint16_t port;              /* 0 = rejected */
	uint16_t port_count;        /* the "/2" of "m=audio 4000/2 ..."; 1 when absent */
	struct sdp_str proto;       /* "RTP/AVP", "UDP/TLS/RTP/SAVPF", "udptl", ... */
	struct sdp_str formats;     /* everything after the proto, e.g. "0 8 101" */
	struct sdp_conn conn;       /* media-level c= (present=false if none) */
	bool has_rtcp;              /* a=rtcp present */
	uint16_t rtcp_port;
	struct sdp_conn rtcp_conn;  /* optional address of a=rtcp */
	bool rtcp_mux;
	bool has_ice;
	enum sdp_dir dir;           /* media-level direction attribute, NONE if absent */
	unsigned first_line;        /* index of the m= line in sdp.lines */
	unsigned n_lines;           /* lines of this section including m= */
};

struct sdp {
	struct sdp_line lines[SDP_MAX_LINES];
	unsigned n_lines;
	unsigned n_session_lines;   /* lines before the first m= */
	struct sdp_origin origin;
	struct sdp_conn conn;       /* session-level c= */
	struct sdp_str session_name;
	enum sdp_dir dir;           /* session-level direction attribute */
	bool has_ice;               /* session-level ICE attributes */
	struct sdp_media media[SDP_MAX_MEDIA];
	unsigned n_media;
};

/* Parse body[0..len). Returns 0, or -EINVAL with a static human-readable reason in
 * *err (e.g. "line 4: malformed m= line"), or -E2BIG past SDP_MAX_LEN / SDP_MAX_LINES /
 * SDP_MAX_MEDIA. Requires v= first, one o= and s= in the session part, every m= well
 * formed (numeric port 0-65535, proto and at least one format). Never reads past len.
 * Lines end in CRLF or LF (the last may have none); trailing empty lines are ignored,
 * any other empty line is an error. c= must be "IN IP4|IP6 addr[/...]".
 * *err (err may be NULL) is a literal or, when it names a line, a thread-local buffer
 * that stays valid until the next sdp_parse() call on the same thread. */
int sdp_parse(struct sdp *sdp, const char *body, size_t len, const char **err);

/* The effective connection of media i: its own c= or else the session c= (which may
 * have present == false). NULL if i >= n_media. */
const struct sdp_conn *sdp_media_conn(const struct sdp *sdp, unsigned i);
/* The effective direction of media i (media attribute, else session attribute,
 * else SENDRECV). */
enum sdp_dir sdp_media_dir(const struct sdp *sdp, unsigned i);
/* Find the n-th (0-based) attribute "a=name" or "a=name:value" in media i
 * (i = -1: session level). On match *value is the text after "name:" (empty for flags).
 * Returns true if found. */
bool sdp_attr(const struct sdp *sdp, int media, const char *name, unsigned n,
	      struct sdp_str *value);

const char *sdp_dir_name(enum sdp_dir d);   /* "sendrecv", ... ; NULL for NONE */

/* One payload type of an RTP m= line, with what a=rtpmap / a=fmtp say about it. */
struct sdp_pt {
	uint8_t pt;
	bool rtpmap;                /* an a=rtpmap:<pt> line was found */
	struct sdp_str enc;         /* "PCMU", "opus", "telephone-event"; empty if unknown */
	uint32_t clock;             /* 8000, 48000, ...; 0 if unknown */
	uint8_t channels;           /* 1 unless the rtpmap gives another count */
	struct sdp_str fmtp;        /* value of a=fmtp:<pt> after "<pt> ", empty if none */
};

/* Payload types of media i in m= order. Static types without a=rtpmap get their
 * RFC 3551 encoding (0 PCMU, 3 GSM, 4 G723, 8 PCMA, 9 G722, 13 CN, 18 G729; clock 8000)
 * with rtpmap = false. The first a=rtpmap / a=fmtp per type wins; malformed ones are
 * ignored. Returns the number of entries written, -EINVAL if i >= n_media or a format
 * is not a number 0-127 (e.g. image/udptl "t38"), -E2BIG if there are more than max.
 * O(lines x formats). */
int sdp_rtpmap(const struct sdp *sdp, unsigned i, struct sdp_pt *out, unsigned max);

/* The SSRC of media i's first a=ssrc line (RFC 5576). true if there is a well-formed one. */
bool sdp_media_ssrc(const struct sdp *sdp, unsigned i, uint32_t *ssrc);

/* The n-th (0-based) session-level a=group:BUNDLE line (RFC 8843) as media indices, in
 * the line's order (the first is the tagged section): each mid is looked up among the
 * sections' a=mid values; unknown and repeated mids are skipped. Returns the number of
 * indices written (at most SDP_MAX_MEDIA), or -ENOENT if there is no n-th BUNDLE group. */
int sdp_bundle_group(const struct sdp *sdp, unsigned n, unsigned idx[SDP_MAX_MEDIA]);

enum sdp_rtcp_mux_rw { SDP_MUX_KEEP = 0, SDP_MUX_ADD, SDP_MUX_REMOVE };

struct sdp_media_rewrite {
	bool set_port;              /* write port below into m= (port 0 stays rejected) */
	uint16_t port;
	enum sdp_af af;             /* with addr: connection to advertise for this media; */
	const char *addr;           /* NULL = keep. Media-level c= is rewritten if present,
	                               inserted after m=/i= lines if absent and addr differs
	                               from the session-level address being emitted */
	bool rewrite_rtcp;          /* drop every existing a=rtcp line; then, if write_rtcp, */
	bool write_rtcp;            /* append "a=rtcp:PORT" as the last line of the section
	                               (write_rtcp implies the drop) */
	uint16_t rtcp_port;
	bool full_rtcp;             /*   ... as "a=rtcp:PORT IN IP4 ADDR", ADDR being this
	                               media's connection as emitted */
	enum sdp_rtcp_mux_rw rtcp_mux;
	bool remove_ice;            /* drop SDP_L_ICE lines of this section */
	const char *proto;          /* replace transport protocol; NULL = keep */
	enum sdp_dir dir;           /* replace/insert direction attribute; NONE = keep */
	/* codec list rewrite (RTP sections; the daemon's codec policy fills it) */
	const char *formats;        /* replace the m= format list ("0 101"); NULL = keep */
	uint8_t drop_pt[16];        /* bit pt set: drop that payload type's a=rtpmap,
	                               a=fmtp and a=rtcp-fb lines */
	const char *codec_lines;    /* whole lines, each ending in CRLF, written after the
	                               section's last a=rtpmap/a=fmtp line (kept or
	                               dropped), else after its m=, i= and c= lines */
	unsigned ptime;             /* replace every a=ptime value, or append a=ptime;
	                               0 = keep */
	const char *const *drop_attrs; /* NULL-terminated names of a= attributes to drop
	                               ("crypto" drops every a=crypto:...); NULL = none */
	bool drop_bundle_only;      /* drop a=bundle-only */
	const char *const *drop_more;  /* a second list like drop_attrs (flag-driven) */
	bool keep_dir;              /* with reorder: direction attributes stay where they
	                               are and none is added (dir must be NONE) */
	const char *append;         /* complete lines, each ending in CRLF, added last */
	const char *add_mid;        /* a=mid value for a section without one: written where
	                               a=mid goes (with reorder), else added last */
};

static inline void sdp_drop_pt_set(struct sdp_media_rewrite *mr, unsigned pt)
{
	if (pt < 128)
		mr->drop_pt[pt / 8] |= (uint8_t)(1u << (pt % 8));
}

struct sdp_rewrite {
	const char *origin_addr;    /* replace o= address (and addrtype); NULL = keep */
	enum sdp_af origin_af;
	const char *session_conn;   /* replace session-level c= (if present); NULL = keep */
	enum sdp_af session_conn_af;
	const char *session_name;   /* replace s= value; NULL = keep */
	bool remove_ice;            /* drop session-level SDP_L_ICE lines */
	const char *const *drop_attrs; /* session-level a= attributes to drop, as above */
	const char *const *drop_more;  /* a second such list */
	bool keep_dir;              /* with reorder: the session direction stays there */
	bool drop_bundle_groups;    /* drop a=group:BUNDLE lines (other groups stay) */
	const char *append;         /* complete lines (CRLF) added after the session's own */
	bool reorder;               /* rtpengine's layout (sdp_emit below) */
	struct sdp_media_rewrite media[SDP_MAX_MEDIA];
};

/* Emit sdp with the rewrite applied (rw may be NULL: identity, CRLF line ends),
 * appending to out. An af of SDP_AF_NONE next to an address means "infer": IP6 if the
 * address contains ':', else IP4. Lines added to a media section go to its end in this
 * order: direction (if it had none), a=ptime (if it had none), a=rtcp-mux, a=rtcp,
 * then `append`; codec_lines go where the codec attributes are (see above). An
 * attribute named in drop_attrs is dropped whatever its kind (ICE, rtcp... included).
 * The text in `append` is copied as is: the caller keeps it well formed.
 *
 * With reorder, the layout rtpengine writes (what proxies and phones behind it are used
 * to): the session's direction attribute moves into every media section, and each
 * media section is written as m=; its i=, c=, b=, k= lines; its other attributes in
 * their order; a=mid; per payload type of the m= line a=rtpmap (RFC 3551's name for a
 * static type that had none), a=fmtp, a=rtcp-fb; the direction (always); a=rtcp;
 * a=rtcp-mux; `append` with a=ptime put before its first a=ice- line. A rejected
 * section (port 0) is its m= line alone. 0 or -ENOMEM. */
int sdp_emit(const struct sdp *sdp, const struct sdp_rewrite *rw, struct strbuf *out);

#endif
