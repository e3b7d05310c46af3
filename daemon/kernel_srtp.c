/* SRTP streams in the kernel (issue 16): which secure streams the module can forward,
 * the keys and packet index pushed with them, and the state handed back to userspace
 * when the entry goes (see kernel.h). Control thread, call lock held.
 *
 * The module takes one direction of SRTP <-> RTP (or SRTP <-> SRTP with two keys) of
 * the RTP component when nothing else needs userspace: no transcoding, no ICE (consent
 * checks and the candidate pair live in userspace), DTLS done. RTCP (SRTCP), STUN and
 * DTLS arriving on the port are handed to userspace by the module, so the secure
 * handler stays on the stream and keeps serving them. */
#include "kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "secure.h"
#include "sluice/kmod_srtp.h"

#define WHY_PREFIX "needs userspace processing "

/* One side's part of the direction: what it sends us (rx) or what we send it (tx).
 * out NULL: only whether the module could. */
static const char *side(const struct secure_media *sm, bool rx, struct sluice_srtp_key *out)
{
	const struct srtpw *ctx;
	const struct srtpw_key *key;

	if (!sm || sm->tp == SEC_PLAIN)
		return NULL;
	if (sm->tp == SEC_DTLS && !sm->dtls_keyed)
		return WHY_PREFIX "(DTLS handshake)";
	ctx = rx ? &sm->rx : &sm->tx;
	key = rx ? &sm->rx_key : &sm->tx_key;
	if (!srtpw_is_set(ctx))
		return WHY_PREFIX "(SRTP keys unknown)";
	if (!srtpw_kernel_supported(key))
		return WHY_PREFIX "(SRTP suite or parameters not in the kernel)";
	if (!out)
		return NULL;
	if (srtpw_kernel_key(key, out))
		return WHY_PREFIX "(SRTP key derivation failed)";
	srtpw_kernel_index(ctx, &out->idx);
	return NULL;
}

const char *kernel_srtp_plan(const struct stream *s, struct kmod_srtp *x, bool *srtp)
{
	const struct stream *sink = s->sink;
	const struct secure_media *in = s->media->sec, *out = sink->media->sec;
	struct kmod_srtp none;
	const char *why;

	*srtp = false;
	if (!x)
		x = &none;
	memset(x, 0, sizeof(*x));
	if (!s->handler && !sink->handler)
		return NULL;
	if (s->xform || sink->xform)
		return WHY_PREFIX "(transcoding)";
	if ((in && in->ice) || (out && out->ice))
		return WHY_PREFIX "(ICE)";
	if (s->component != COMP_RTP)
		return WHY_PREFIX "(SRTCP)";
	why = side(in, true, x == &none ? NULL : &x->decrypt);
	if (!why)
		why = side(out, false, x == &none ? NULL : &x->encrypt);
	if (why)
		return why;
	*srtp = (in && in->tp != SEC_PLAIN) || (out && out->tp != SEC_PLAIN);
	return *srtp ? NULL : WHY_PREFIX "(secure handler)";
}

/* The keys alone: a change (re-INVITE) means a new entry, whatever the index says. */
static bool same_keys(const struct sluice_srtp_key *a, const struct sluice_srtp_key *b)
{
	return a->suite == b->suite && !memcmp(a->key, b->key, sizeof(a->key)) &&
	       !memcmp(a->salt, b->salt, sizeof(a->salt)) &&
	       !memcmp(a->auth, b->auth, sizeof(a->auth));
}

bool kernel_srtp_changed(const struct stream *s, const struct kmod_srtp *x, bool srtp)
{
	if (!s->ksrtp)
		return srtp;
	return !srtp || !same_keys(&s->ksrtp->decrypt, &x->decrypt) ||
	       !same_keys(&s->ksrtp->encrypt, &x->encrypt);
}

int kernel_srtp_add(struct daemon *d, struct stream *s, const struct kmod_stream *ks,
		    const struct kmod_srtp *x)
{
	int r;

	if (!s->ksrtp && !(s->ksrtp = malloc(sizeof(*s->ksrtp))))
		return -ENOMEM;
	r = kmod_add_srtp(d->kmod, ks, x);
	if (r < 0) {
		free(s->ksrtp);
		s->ksrtp = NULL;
		return r;
	}
	*s->ksrtp = *x;
	return r;
}

/* After the entry's DEL: userspace continues from the kernel's index and window (no
 * replay let through, no ROC lost), and the kernel's SRTP counts join the side's.
 * resume false (new keys: the state belongs to the old ones): the counts only. */
void kernel_srtp_handback(struct daemon *d, struct stream *s, bool resume)
{
	struct secure_media *in = s->media->sec, *out = s->sink ? s->sink->media->sec : NULL;
	struct sluice_srtp_state st;

	if (!s->ksrtp)
		return;
	if (!kmod_srtp_read(d->kmod, s->kslot, &st)) {
		if (in && st.decrypt_suite) {
			if (resume)
				srtpw_kernel_resume(&in->rx, &st.decrypt);
			in->stats.srtp_in += st.decrypted;
			in->stats.auth_fail += st.auth_failed;
			in->stats.replay += st.replayed;
			in->stats.other_err += st.malformed;
		}
		if (out && st.encrypt_suite) {
			if (resume)
				srtpw_kernel_resume(&out->tx, &st.encrypt);
			out->stats.srtp_out += st.encrypted;
		}
	}
	kmod_srtp_del(d->kmod, s->kslot);
	memset(s->ksrtp, 0, sizeof(*s->ksrtp));
	free(s->ksrtp);
	s->ksrtp = NULL;
}

void kernel_srtp_stats(const struct secure_media *sm, struct secure_stats *st)
{
	const struct stream *in = &sm->m->rtp, *peer = in->sink;
	const struct call *c = sm->m->party->call;
	struct sluice_srtp_state k;

	if (!c->kmod)
		return;
	if (in->ksrtp && in->kslot >= 0 && !kmod_srtp_read(c->kmod, in->kslot, &k)) {
		st->srtp_in += k.decrypted;
		st->auth_fail += k.auth_failed;
		st->replay += k.replayed;
		st->other_err += k.malformed;
	}
	if (peer && peer->sink == in && peer->ksrtp && peer->kslot >= 0 &&
	    !kmod_srtp_read(c->kmod, peer->kslot, &k))
		st->srtp_out += k.encrypted;
}
