/* SRTP of kernel entries, userspace side (lib/kmod_srtp.c, lib/srtp_kernel.c; the
 * module's contract is in sluice/kernel_srtp_abi.h).
 *
 *   srtpw_kernel_key(&key, &ks.decrypt)        session keys of a master key (RFC 3711 4.3)
 *   srtpw_kernel_index(&ctx, &ks.decrypt.idx)  where the userspace context stands
 *   slot = kmod_add_srtp(k, &stream, &ks)      keys first, then the entry (SF_SRTP)
 *   kmod_srtp_set(k, slot, &ks)                rekey (re-INVITE): new keys and state
 *   kmod_del(k, slot); kmod_srtp_read(k, slot, &st); kmod_srtp_del(k, slot)
 *   srtpw_kernel_resume(&ctx, &st.decrypt)     userspace continues where the kernel was
 * All return 0 (kmod_add_srtp: the slot) or -errno. */
#ifndef SLUICE_KMOD_SRTP_H
#define SLUICE_KMOD_SRTP_H

#include <sluice/kmod.h>
#include <sluice/srtp.h>

struct kmod_srtp {
	struct sluice_srtp_key decrypt;	/* SRTP arriving -> RTP; suite NONE: none */
	struct sluice_srtp_key encrypt;	/* RTP -> SRTP leaving; suite NONE: none */
};

/* kmod_add() for a stream with SLUICE_SF_SRTP (added here): the slot's keys are set
 * before its entry exists, so no packet is forwarded untransformed. The instance must
 * be this handle's alone (KMOD_OPEN_EXCL): a free-looking slot's SRTP is overwritten. */
int kmod_add_srtp(struct kmod *k, const struct kmod_stream *s, const struct kmod_srtp *x);
int kmod_srtp_set(struct kmod *k, int slot, const struct kmod_srtp *x);
/* -ENOENT: the slot had none. */
int kmod_srtp_del(struct kmod *k, int slot);
/* The slot's SRTP state and counters (one pread of the srtp file). -ENOENT: none. */
int kmod_srtp_read(const struct kmod *k, int slot, struct sluice_srtp_state *out);

/* The module's suite for a key, with the derived SRTP session keys (idx zeroed).
 * -ENOTSUP: a suite or session parameter the module lacks (other suites, MKI,
 * UNENCRYPTED_ / UNAUTHENTICATED_SRTP, a replay window other than 64..128). */
int srtpw_kernel_key(const struct srtpw_key *k, struct sluice_srtp_key *out);
/* Would srtpw_kernel_key() take it? (No key derivation.) */
bool srtpw_kernel_supported(const struct srtpw_key *k);
/* The state of the SSRC the context used last (valid 0 if none): for an inbound
 * context the highest index and the replay window, outbound the highest index sent. */
void srtpw_kernel_index(const struct srtpw *s, struct sluice_srtp_index *out);
/* The opposite: the context takes over the SSRC's state from the kernel (replacing
 * what it had for that SSRC). No-op for valid 0. -ENOENT: s unset. */
int srtpw_kernel_resume(struct srtpw *s, const struct sluice_srtp_index *x);

#endif
