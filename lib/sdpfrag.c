/* Trickle ICE SDP fragment parsing (RFC 8840). Every read is bounded by the input
 * length; nothing here assumes NUL-terminated input. */
#include "sluice/sdpfrag.h"

#include <errno.h>
#include <string.h>

static bool attr_is(struct sdp_str v, const char *name, struct sdp_str *val)
{
	size_t n = strlen(name);

	if (v.len < n || memcmp(v.s, name, n))
		return false;
	if (v.len == n) {               /* flag attribute */
		*val = (struct sdp_str){ v.s + n, 0 };
		return true;
	}
	if (v.s[n] != ':')
		return false;
	*val = (struct sdp_str){ v.s + n + 1, v.len - n - 1 };
	return true;
}

static struct sdpfrag_media *new_section(struct sdpfrag *f, int index)
{
	struct sdpfrag_media *m;

	if (f->n_media >= SDPFRAG_MAX_MEDIA)
		return NULL;
	m = &f->media[f->n_media++];
	memset(m, 0, sizeof(*m));
	m->index = index;
	return m;
}

/* One a= line of the session part (cur NULL) or of section cur. */
static int take_attr(struct sdpfrag *f, struct sdpfrag_media **cur, struct sdp_str v,
		     const char **why)
{
	struct sdpfrag_media *m = *cur;
	struct sdp_str val;

	if (attr_is(v, "mid", &val)) {
		/* a second a=mid (or one before any m=) opens a section of its own */
		if (!m || m->mid.len) {
			if (!(m = new_section(f, -1))) {
				*why = "too many media sections";
				return -E2BIG;
			}
			*cur = m;
		}
		m->mid = val;
	} else if (attr_is(v, "ice-ufrag", &val)) {
		*(m ? &m->ufrag : &f->ufrag) = val;
	} else if (attr_is(v, "ice-pwd", &val)) {
		*(m ? &m->pwd : &f->pwd) = val;
	} else if (attr_is(v, "end-of-candidates", &val)) {
		*(m ? &m->end_of_candidates : &f->end_of_candidates) = true;
	} else if (attr_is(v, "candidate", &val)) {
		if (!m)
			f->session_cand++;
		else if (m->n_cand < SDPFRAG_MAX_CAND)
			m->cand[m->n_cand++] = val;
		else
			m->over++;
	}
	return 0;
}

static int take_line(struct sdpfrag *f, struct sdpfrag_media **cur, int *n_m,
		     const char *s, size_t len, const char **why)
{
	struct sdp_str v = { s + 2, len - 2 };

	if (len < 2 || s[0] < 'a' || s[0] > 'z' || s[1] != '=') {
		*why = "not an SDP line";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' && s[i] != '\t') {
			*why = "control character";
			return -EINVAL;
		}
	switch (s[0]) {
	case 'm':
		if (v.len == 0 || v.s[0] == ' ') {
			*why = "m= line without a media type";
			return -EINVAL;
		}
		if (!(*cur = new_section(f, (*n_m)++))) {
			*why = "too many media sections";
			return -E2BIG;
		}
		return 0;
	case 'a':
		return take_attr(f, cur, v, why);
	default:                        /* v=, o=, c= ... carry nothing for trickle */
		return 0;
	}
}

int sdpfrag_parse(const char *s, size_t len, struct sdpfrag *f, const char **why)
{
	const char *p = s, *end = s + len;
	struct sdpfrag_media *cur = NULL;
	const char *dummy;
	int n_m = 0, e;

	if (!why)
		why = &dummy;
	memset(f, 0, offsetof(struct sdpfrag, media));
	f->n_media = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t l = (size_t)(eol - p);

		if (l && p[l - 1] == '\r')
			l--;
		if (l && (e = take_line(f, &cur, &n_m, p, l, why)))
			return e;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

struct sdp_str sdpfrag_ufrag(const struct sdpfrag *f, unsigned i)
{
	if (i < f->n_media && f->media[i].ufrag.len)
		return f->media[i].ufrag;
	return f->ufrag;
}
