/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by the module's files. Lifetime and locking:
 *
 *  sluice_net (one per netns)   ->inst[id] RCU pointers, changed under ->lock.
 *  sluice_instance              created/destroyed through /proc/net/sluice/control;
 *                               owns its entries, hash, slot table and shared stats.
 *                               ->lock (mutex) serialises all writers (control file);
 *                               the packet path only reads, under RCU.
 *  sluice_entry                 immutable once published; UPDATE publishes a new one
 *                               and frees the old one after a grace period.
 */
#ifndef SLUICE_KMOD_H
#define SLUICE_KMOD_H

#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/sched/clock.h>
#include <linux/in6.h>
#include <linux/proc_fs.h>
#include <net/net_namespace.h>
#include <sluice/kernel_abi.h>
#include "srtp.h"

#define SLUICE_MOD_VERSION "0.1"

/* an IPv4 address lives in a6.s6_addr32[0], the rest zero */
struct sluice_ep {
	struct in6_addr	a6;
	__be16		port;
	u8		family;		/* SLUICE_FAMILY_* */
};

static inline bool sluice_ep_eq(const struct sluice_ep *a, const struct sluice_ep *b)
{
	return a->port == b->port && a->family == b->family &&
	       !memcmp(&a->a6, &b->a6, sizeof(a->a6));
}

struct sluice_entry {
	struct hlist_node	hnode;		/* inst->hash, RCU */
	struct rcu_head		rcu;
	struct sluice_stats	*stats;		/* &inst->shm->slots[slot] */
	u32			slot;
	u32			flags;		/* SLUICE_SF_* */
	u32			clock_rate;	/* SLUICE_SF_QUALITY: RTP clock, 0 = no jitter */
	u32			q_mult;		/* ns -> clock units (quality_calc.h), 0 = none */
	u8			tos;
	struct sluice_ep	local;		/* hash key */
	struct sluice_ep	expect;		/* family NONE = any */
	struct sluice_ep	out_src;
	struct sluice_ep	out_dst;
};

struct sluice_shm {
	struct sluice_stats_hdr	hdr;
	struct sluice_stats	slots[];
};

struct sluice_instance {
	u32			id;
	u32			capacity;
	struct net		*net;		/* not refcounted: dies with the netns */
	struct mutex		lock;		/* guards hash/slots changes, shm gen/active */
	struct hlist_head	*hash;		/* hash_mask + 1 buckets */
	u32			hash_mask;
	u32			count;		/* live entries, under lock */
	struct sluice_entry __rcu **slots;	/* capacity pointers */
	struct sluice_shm	*shm;		/* vmalloc_user, mmap'd read-only */
	size_t			shm_size;
	struct proc_dir_entry	*dir;
	struct sluice_srtp_table __rcu *srtp;	/* srtp.h; NULL until the first SRTP_SET */
};

struct sluice_net {
	struct mutex		lock;		/* guards inst[] changes */
	struct sluice_instance __rcu *inst[SLUICE_MAX_INSTANCES];
	struct proc_dir_entry	*dir;		/* /proc/net/sluice */
	struct proc_dir_entry	*ctl;		/* /proc/net/sluice/control */
};

struct sluice_net *sluice_net(const struct net *net);

/* Write side of the sequence counters of the shared stats (kernel_abi.h): take makes
 * the counter odd with a compare-and-swap (full barrier) and fails, without waiting, if
 * it already is; unlock makes it even again with a release store. No writer ever waits
 * on the packet path. */
static inline bool sluice_seq_trylock(u32 *ctr, u32 *seq)
{
	u32 s = READ_ONCE(*ctr);

	if (s & 1)
		return false;
	*seq = s;
	return cmpxchg(ctr, s, s + 1) == s;
}

static inline void sluice_seq_unlock(u32 *ctr, u32 seq)
{
	smp_store_release(ctr, seq + 2);
}

/* A packet's arrival for the jitter: the CPU's scheduler clock (ns). Only differences
 * between packets of one stream matter, and a stream stays on one CPU (RSS/RPS hash
 * its flow), so it need not be CLOCK_MONOTONIC; it costs a TSC read where
 * ktime_get_ns() reads the clocksource, which on an HPET-only machine (and a TCG
 * guest) is a device access under a global lock. */
static inline u64 sluice_q_now(void)
{
	return local_clock();
}

/* instance.c */
int sluice_instance_create(struct sluice_net *sn, struct net *net, u32 id, u32 capacity);
int sluice_instance_destroy(struct sluice_net *sn, u32 id);
void sluice_instance_destroy_all(struct sluice_net *sn);
void sluice_instance_set_token(struct sluice_instance *inst, u64 token);
static inline struct sluice_instance *sluice_instance_rcu(const struct sluice_net *sn, u32 id)
{
	return rcu_dereference(sn->inst[id]);
}

/* control.c: /proc files */
int sluice_proc_net_init(struct sluice_net *sn, struct net *net);
void sluice_proc_ctl_exit(struct sluice_net *sn);
void sluice_proc_net_exit(struct sluice_net *sn, struct net *net);
int sluice_proc_instance_init(struct sluice_net *sn, struct sluice_instance *inst);
void sluice_proc_instance_exit(struct sluice_instance *inst);

/* table.c: entries of one instance */
int sluice_table_init(struct sluice_instance *inst);
void sluice_table_free(struct sluice_instance *inst);
int sluice_table_add(struct sluice_instance *inst, u32 slot, const struct sluice_stream *s);
int sluice_table_update(struct sluice_instance *inst, u32 slot, const struct sluice_stream *s);
int sluice_table_del(struct sluice_instance *inst, u32 slot);
void sluice_table_flush(struct sluice_instance *inst);
struct sluice_entry *sluice_table_lookup(const struct sluice_instance *inst,
					 const struct sluice_ep *local);

/* stats.c: shared counters */
int sluice_stats_init(struct sluice_instance *inst);
void sluice_stats_free(struct sluice_instance *inst);
int sluice_stats_mmap(struct sluice_instance *inst, struct vm_area_struct *vma);
void sluice_stats_reset(struct sluice_stats *st, u32 jitter16);
void sluice_stats_mismatch(struct sluice_stats *st, const struct sluice_ep *src);
bool sluice_stats_mismatch_read(const struct sluice_stats *st, struct sluice_ep *src, u64 *ns);
void sluice_stats_mark(struct sluice_stats *st, bool active);

/* quality.c: RTP quality of SLUICE_SF_QUALITY entries */
u32 sluice_quality_mult(u32 clock_rate);
void sluice_quality_rtp(const struct sluice_entry *e, const struct sk_buff *skb,
			unsigned int off, unsigned int len);
void sluice_quality_reset(struct sluice_quality *q, u32 jitter16);
bool sluice_quality_read(const struct sluice_quality *q, struct sluice_quality *out);

/* forward.c: the packet path */
unsigned int sluice_forward(const struct sluice_instance *inst, struct sk_buff *skb,
			    unsigned int thoff, u8 pf, unsigned int hook);

/* expr.c: nftables expression */
int sluice_expr_register(void);
void sluice_expr_unregister(void);

#endif
