// SPDX-License-Identifier: GPL-2.0
/* Per-stream counters in memory shared read-only with the daemon, so it reads the
 * counters of thousands of streams without a system call per stream. */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>
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

static void sluice_mismatch_write(struct sluice_stats *st, const struct sluice_ep *src, u64 ns)
{
	struct sluice_addr a = { .family = src->family, .port = (__force __u16)src->port };

	if (src->family == SLUICE_FAMILY_INET)
		memcpy(a.addr, &src->a6.s6_addr32[0], 4);
	else if (src->family == SLUICE_FAMILY_INET6)
		memcpy(a.addr, &src->a6, 16);
	st->mismatch_src = a;
	WRITE_ONCE(st->mismatch_ns, ns);
}

/* Packet path, source mismatch: keeps the cost to one compare-and-swap and 32 bytes on
 * the slot's second cache line. When two CPUs record at once, one of them skips: the
 * record is "a recent mismatching source", the counter stays exact. */
void sluice_stats_mismatch(struct sluice_stats *st, const struct sluice_ep *src)
{
	u32 seq;

	if (!sluice_seq_trylock(&st->mismatch_seq, &seq))
		return;
	sluice_mismatch_write(st, src, ktime_get_coarse_ns());
	sluice_seq_unlock(&st->mismatch_seq, seq);
}

/* For the list file: a consistent copy, or false if writers kept it busy. */
bool sluice_stats_mismatch_read(const struct sluice_stats *st, struct sluice_ep *src, u64 *ns)
{
	struct sluice_addr a;
	unsigned int tries;
	u32 s;

	for (tries = 0; tries < 64; tries++) {
		s = smp_load_acquire(&st->mismatch_seq);
		if (s & 1) {
			cpu_relax();
			continue;
		}
		a = st->mismatch_src;
		*ns = READ_ONCE(st->mismatch_ns);
		smp_rmb();
		if (READ_ONCE(st->mismatch_seq) != s)
			continue;
		memset(src, 0, sizeof(*src));
		src->family = a.family;
		src->port = (__force __be16)a.port;
		memcpy(&src->a6, a.addr, a.family == SLUICE_FAMILY_INET ? 4 : 16);
		return a.family == SLUICE_FAMILY_INET || a.family == SLUICE_FAMILY_INET6;
	}
	return false;
}

/* Under inst->lock, with no entry on the slot. A packet still running on the slot's
 * previous entry (inside its RCU grace period) may count once more; the mismatch record
 * and the quality line are cleared under their own protocol, so a reader never sees
 * half of each. jitter16: the new stream's quality starts from it. */
void sluice_stats_reset(struct sluice_stats *st, u32 jitter16)
{
	static const struct sluice_ep none;
	u32 seq;

	WRITE_ONCE(st->packets, 0);
	WRITE_ONCE(st->bytes, 0);
	WRITE_ONCE(st->errors, 0);
	WRITE_ONCE(st->mismatch, 0);
	WRITE_ONCE(st->last_ns, 0);
	while (!sluice_seq_trylock(&st->mismatch_seq, &seq))
		cpu_relax();	/* a packet path writer: never sleeps, done in ns */
	sluice_mismatch_write(st, &none, 0);
	sluice_seq_unlock(&st->mismatch_seq, seq);
	sluice_quality_reset(&st->quality, jitter16);
}

void sluice_stats_mark(struct sluice_stats *st, bool active)
{
	WRITE_ONCE(st->gen, st->gen + 1);
	WRITE_ONCE(st->active, active);
}
