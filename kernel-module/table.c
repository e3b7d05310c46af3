// SPDX-License-Identifier: GPL-2.0
/* The stream table of one instance: a slot array (the daemon's handle, also the index
 * of the stream's counters) and a hash on the local address/port for the packet path.
 * Writers hold inst->lock; readers use RCU. Entries are never modified once published. */
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include "sluice.h"

static u32 sluice_hash_seed __read_mostly;

static u32 sluice_ep_hash(const struct sluice_ep *ep)
{
	return jhash2((const u32 *)&ep->a6, 4, sluice_hash_seed ^ ep->port ^ (ep->family << 16));
}

static void sluice_ep_from_abi(struct sluice_ep *ep, const struct sluice_addr *a)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = a->family;
	ep->port = (__force __be16)a->port;
	if (a->family == SLUICE_FAMILY_INET)
		memcpy(&ep->a6, a->addr, 4);
	else if (a->family == SLUICE_FAMILY_INET6)
		memcpy(&ep->a6, a->addr, 16);
}

static struct hlist_head *sluice_bucket(const struct sluice_instance *inst,
					const struct sluice_ep *ep)
{
	return &inst->hash[sluice_ep_hash(ep) & inst->hash_mask];
}

int sluice_table_init(struct sluice_instance *inst)
{
	u32 buckets = roundup_pow_of_two(inst->capacity);

	net_get_random_once(&sluice_hash_seed, sizeof(sluice_hash_seed));
	inst->hash = kvcalloc(buckets, sizeof(*inst->hash), GFP_KERNEL);
	inst->slots = kvcalloc(inst->capacity, sizeof(*inst->slots), GFP_KERNEL);
	if (!inst->hash || !inst->slots) {
		kvfree(inst->hash);
		kvfree(inst->slots);
		inst->hash = NULL;
		inst->slots = NULL;
		return -ENOMEM;
	}
	inst->hash_mask = buckets - 1;
	return 0;
}

/* Only once no reader can see the instance any more (after synchronize_rcu). */
void sluice_table_free(struct sluice_instance *inst)
{
	struct sluice_entry *e;
	u32 i;

	if (inst->slots) {
		for (i = 0; i < inst->capacity; i++) {
			e = rcu_dereference_raw(inst->slots[i]);
			kfree(e);
		}
	}
	kvfree(inst->slots);
	kvfree(inst->hash);
	sluice_srtp_free_all(inst);
	inst->slots = NULL;
	inst->hash = NULL;
}

struct sluice_entry *sluice_table_lookup(const struct sluice_instance *inst,
					 const struct sluice_ep *local)
{
	struct sluice_entry *e;

	hlist_for_each_entry_rcu(e, sluice_bucket(inst, local), hnode)
		if (sluice_ep_eq(&e->local, local))
			return e;
	return NULL;
}

static struct sluice_entry *sluice_slot(const struct sluice_instance *inst, u32 slot)
{
	return rcu_dereference_protected(inst->slots[slot], lockdep_is_held(&inst->lock));
}

static struct sluice_entry *sluice_entry_new(const struct sluice_instance *inst, u32 slot,
					     const struct sluice_stream *s)
{
	struct sluice_entry *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (!e)
		return NULL;
	e->slot = slot;
	e->stats = &inst->shm->slots[slot];
	e->flags = s->flags;
	e->clock_rate = s->clock_rate;
	e->q_mult = sluice_quality_mult(s->clock_rate);
	e->tos = s->tos;
	sluice_ep_from_abi(&e->local, &s->local);
	sluice_ep_from_abi(&e->expect, &s->expect_src);
	sluice_ep_from_abi(&e->out_src, &s->out_src);
	sluice_ep_from_abi(&e->out_dst, &s->out_dst);
	return e;
}

/* Is `local` used by an entry other than `self`? Caller holds inst->lock. */
static bool sluice_local_taken(const struct sluice_instance *inst,
			       const struct sluice_ep *local, const struct sluice_entry *self)
{
	struct sluice_entry *e;

	hlist_for_each_entry(e, sluice_bucket(inst, local), hnode)
		if (e != self && sluice_ep_eq(&e->local, local))
			return true;
	return false;
}

int sluice_table_add(struct sluice_instance *inst, u32 slot, const struct sluice_stream *s)
{
	struct sluice_entry *e;
	int ret = 0;

	e = sluice_entry_new(inst, slot, s);
	if (!e)
		return -ENOMEM;
	mutex_lock(&inst->lock);
	if (sluice_slot(inst, slot))
		ret = -EBUSY;
	else if (sluice_local_taken(inst, &e->local, NULL))
		ret = -EEXIST;
	if (ret)
		goto out;
	sluice_stats_reset(e->stats, s->jitter16);
	sluice_stats_mark(e->stats, true);
	rcu_assign_pointer(inst->slots[slot], e);
	hlist_add_head_rcu(&e->hnode, sluice_bucket(inst, &e->local));
	inst->count++;
	e = NULL;
out:
	mutex_unlock(&inst->lock);
	kfree(e);
	return ret;
}

int sluice_table_update(struct sluice_instance *inst, u32 slot, const struct sluice_stream *s)
{
	struct sluice_entry *e, *old;
	int ret = 0;

	e = sluice_entry_new(inst, slot, s);
	if (!e)
		return -ENOMEM;
	mutex_lock(&inst->lock);
	old = sluice_slot(inst, slot);
	if (!old)
		ret = -ENOENT;
	else if (sluice_local_taken(inst, &e->local, old))
		ret = -EEXIST;
	if (ret)
		goto out;
	if (sluice_ep_eq(&old->local, &e->local)) {
		hlist_replace_rcu(&old->hnode, &e->hnode);
	} else {
		hlist_del_rcu(&old->hnode);
		hlist_add_head_rcu(&e->hnode, sluice_bucket(inst, &e->local));
	}
	rcu_assign_pointer(inst->slots[slot], e);
	sluice_stats_mark(e->stats, true);
	kfree_rcu(old, rcu);
	e = NULL;
out:
	mutex_unlock(&inst->lock);
	kfree(e);
	return ret;
}

/* Caller holds inst->lock. Counters stay readable until the slot is added again. */
static void sluice_unlink(struct sluice_instance *inst, struct sluice_entry *e)
{
	hlist_del_rcu(&e->hnode);
	RCU_INIT_POINTER(inst->slots[e->slot], NULL);
	sluice_stats_mark(e->stats, false);
	inst->count--;
	kfree_rcu(e, rcu);
}

int sluice_table_del(struct sluice_instance *inst, u32 slot)
{
	struct sluice_entry *e;
	int ret = 0;

	mutex_lock(&inst->lock);
	e = sluice_slot(inst, slot);
	if (e)
		sluice_unlink(inst, e);
	else
		ret = -ENOENT;
	mutex_unlock(&inst->lock);
	return ret;
}

/* O(capacity): walks the slot array, which is bounded and flush is rare. */
void sluice_table_flush(struct sluice_instance *inst)
{
	struct sluice_entry *e;
	u32 i;

	mutex_lock(&inst->lock);
	for (i = 0; i < inst->capacity && inst->count; i++) {
		e = sluice_slot(inst, i);
		if (e)
			sluice_unlink(inst, e);
		if (!(i & 1023))
			cond_resched();
	}
	mutex_unlock(&inst->lock);
}
