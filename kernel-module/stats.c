// SPDX-License-Identifier: GPL-2.0
/* Per-stream counters in memory shared read-only with the daemon, so it reads the
 * counters of thousands of streams without a system call per stream. */
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "sluice.h"
#include "compat.h"

int sluice_stats_init(struct sluice_instance *inst)
{
	size_t size = sizeof(struct sluice_shm) + (size_t)inst->capacity * sizeof(struct sluice_stats);

	inst->shm_size = PAGE_ALIGN(size);
	inst->shm = vmalloc_user(inst->shm_size);	/* zeroed */
	if (!inst->shm)
		return -ENOMEM;
	inst->shm->hdr.magic = SLUICE_STATS_MAGIC;
	inst->shm->hdr.version = SLUICE_ABI_VERSION;
	inst->shm->hdr.instance = inst->id;
	inst->shm->hdr.capacity = inst->capacity;
	inst->shm->hdr.slot_size = sizeof(struct sluice_stats);
	inst->shm->hdr.hdr_size = sizeof(struct sluice_stats_hdr);
	return 0;
}

/* A live mapping holds its own page references (vm_insert_page), so the pages
 * outlive vfree() until the daemon unmaps them. */
void sluice_stats_free(struct sluice_instance *inst)
{
	vfree(inst->shm);
	inst->shm = NULL;
}

int sluice_stats_mmap(struct sluice_instance *inst, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_end - vma->vm_start > inst->shm_size)
		return -EINVAL;
	sluice_vm_flags_clear(vma, VM_MAYWRITE);
	return remap_vmalloc_range(vma, inst->shm, 0);
}

/* Under inst->lock, with no entry on the slot: no concurrent writer. */
void sluice_stats_reset(struct sluice_stats *st)
{
	WRITE_ONCE(st->packets, 0);
	WRITE_ONCE(st->bytes, 0);
	WRITE_ONCE(st->errors, 0);
	WRITE_ONCE(st->mismatch, 0);
	WRITE_ONCE(st->last_ns, 0);
}

void sluice_stats_mark(struct sluice_stats *st, bool active)
{
	WRITE_ONCE(st->gen, st->gen + 1);
	WRITE_ONCE(st->active, active);
}
