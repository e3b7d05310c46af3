/* SPDX-License-Identifier: GPL-2.0 */
/* SRTP of the module's entries (srtp.c; the ABI in sluice/kernel_srtp_abi.h).
 *
 * A slot's SRTP lives beside its entry, in inst->srtp (RCU pointers, changed under
 * inst->lock), so an UPDATE keeps the keys and the packet index and a DEL leaves the
 * state readable. Transforms are allocated by SRTP_SET (process context) and freed
 * after a grace period from a workqueue; the packet path only uses them, under the
 * direction's spinlock (synchronous transforms: nothing sleeps, nothing allocates but
 * a tailroom expansion when the skb has none for the tag). */
#ifndef SLUICE_SRTP_KMOD_H
#define SLUICE_SRTP_KMOD_H

#include <linux/skbuff.h>

struct sluice_instance;
struct sluice_srtp;

struct sluice_srtp_table {
	u32			n;		/* inst->capacity */
	struct sluice_srtp __rcu *slot[];
};

/* sluice_srtp_packet() verdicts besides -errno (drop) */
#define SLUICE_SRTP_FWD		0	/* transformed: forward, *plen is the new length */
#define SLUICE_SRTP_PASS	1	/* not ours (RTCP, other SSRC, no keys): userspace */

int sluice_srtp_init(void);
void sluice_srtp_exit(void);

/* Control side, inst->lock not held (taken inside). */
int sluice_srtp_set(struct sluice_instance *inst, const struct sluice_msg_srtp *m);
int sluice_srtp_del(struct sluice_instance *inst, u32 slot);
void sluice_srtp_flush(struct sluice_instance *inst);
bool sluice_srtp_has(struct sluice_instance *inst, u32 slot);
/* Only once no reader can see the instance (after synchronize_rcu). */
void sluice_srtp_free_all(struct sluice_instance *inst);
struct proc_dir_entry;
/* The instance's "srtp" file (NULL: out of memory); its owner is set by the caller. */
struct proc_dir_entry *sluice_srtp_proc_init(struct sluice_instance *inst);

/* Packet path (RCU read side, softirq): the UDP payload at skb->data + off, *plen
 * bytes. */
int sluice_srtp_packet(const struct sluice_instance *inst, u32 slot, struct sk_buff *skb,
		       unsigned int off, unsigned int *plen);

#endif
