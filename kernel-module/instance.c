// SPDX-License-Identifier: GPL-2.0
/* Instances (tables): created and destroyed through /proc/net/sluice/control; the
 * packet path finds them by id under RCU. */
#include <linux/slab.h>
#include "sluice.h"

static void sluice_instance_free(struct sluice_instance *inst)
{
	sluice_table_free(inst);
	sluice_stats_free(inst);
	kfree(inst);
}

int sluice_instance_create(struct sluice_net *sn, struct net *net, u32 id, u32 capacity)
{
	struct sluice_instance *inst;
	int ret;

	if (id >= SLUICE_MAX_INSTANCES || !capacity || capacity > SLUICE_MAX_CAPACITY)
		return -ERANGE;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return -ENOMEM;
	inst->id = id;
	inst->capacity = capacity;
	inst->net = net;
	mutex_init(&inst->lock);
	ret = sluice_stats_init(inst);
	if (ret)
		goto err_free;
	ret = sluice_table_init(inst);
	if (ret)
		goto err_free;

	mutex_lock(&sn->lock);
	if (rcu_access_pointer(sn->inst[id])) {
		ret = -EEXIST;
		goto err_unlock;
	}
	ret = sluice_proc_instance_init(sn, inst);
	if (ret)
		goto err_unlock;
	rcu_assign_pointer(sn->inst[id], inst);
	mutex_unlock(&sn->lock);
	return 0;

err_unlock:
	mutex_unlock(&sn->lock);
err_free:
	sluice_instance_free(inst);
	return ret;
}

/* Caller holds sn->lock. proc_remove() waits for running control writes and makes
 * later ones fail; synchronize_rcu() waits for packets inside the instance. */
static void sluice_instance_teardown(struct sluice_net *sn, u32 id)
{
	struct sluice_instance *inst;

	inst = rcu_dereference_protected(sn->inst[id], lockdep_is_held(&sn->lock));
	RCU_INIT_POINTER(sn->inst[id], NULL);
	sluice_proc_instance_exit(inst);
	synchronize_rcu();
	sluice_instance_free(inst);
}

int sluice_instance_destroy(struct sluice_net *sn, u32 id)
{
	int ret = 0;

	if (id >= SLUICE_MAX_INSTANCES)
		return -ERANGE;
	mutex_lock(&sn->lock);
	if (rcu_access_pointer(sn->inst[id]))
		sluice_instance_teardown(sn, id);
	else
		ret = -ENOENT;
	mutex_unlock(&sn->lock);
	return ret;
}

void sluice_instance_destroy_all(struct sluice_net *sn)
{
	u32 id;

	mutex_lock(&sn->lock);
	for (id = 0; id < SLUICE_MAX_INSTANCES; id++)
		if (rcu_access_pointer(sn->inst[id]))
			sluice_instance_teardown(sn, id);
	mutex_unlock(&sn->lock);
}

/* One aligned 64-bit store into the shared header: readers see the old or the new. */
void sluice_instance_set_token(struct sluice_instance *inst, u64 token)
{
	mutex_lock(&inst->lock);
	WRITE_ONCE(inst->shm->hdr.token, token);
	mutex_unlock(&inst->lock);
}
