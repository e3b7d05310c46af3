/* SPDX-License-Identifier: GPL-2.0 */
/* Every kernel API difference the module cares about, in one place. The
 * SLUICE_HAVE_* macros come from compat_generated.h, written at build time by
 * compat/probe.sh, which compiles each compat/probes/<name>.c against the target
 * kernel's headers: the signature is probed, never the version number (distribution
 * kernels backport API changes, as Debian 6.1 did with nft_expr_ops.validate). */
#ifndef SLUICE_COMPAT_H
#define SLUICE_COMPAT_H

#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <net/netfilter/nf_tables.h>
#include "compat_generated.h"

#ifndef SLUICE_HAVE_SANITY
#error "compat probes did not run: compat_generated.h is incomplete"
#endif

/* 5.17 renamed PDE_DATA() to pde_data() */
#ifndef SLUICE_HAVE_PDE_DATA
#define pde_data(inode) PDE_DATA(inode)
#endif

/* 6.3 made vma->vm_flags read-only behind vm_flags_{set,clear}() */
#ifdef SLUICE_HAVE_VM_FLAGS_CLEAR
#define sluice_vm_flags_clear(vma, f) vm_flags_clear(vma, f)
#else
#define sluice_vm_flags_clear(vma, f) ((vma)->vm_flags &= ~(f))
#endif

/* nft_expr_ops.dump gained "bool reset" (6.2, backported to some 6.1) */
#ifdef SLUICE_HAVE_NFT_DUMP_RESET
#define SLUICE_NFT_DUMP_EXTRA_ARGS , bool reset
#else
#define SLUICE_NFT_DUMP_EXTRA_ARGS
#endif

/* nft_expr_ops.validate lost its "data" argument (6.12, backported to 6.1.y) */
#ifdef SLUICE_HAVE_NFT_VALIDATE_DATA
#define SLUICE_NFT_VALIDATE_EXTRA_ARGS , const struct nft_data **data
#else
#define SLUICE_NFT_VALIDATE_EXTRA_ARGS
#endif

/* register tracking (5.17): we neither read nor write registers */
#ifdef SLUICE_HAVE_NFT_REDUCE
#define SLUICE_NFT_REDUCE_INIT .reduce = NFT_REDUCE_READONLY,
#else
#define SLUICE_NFT_REDUCE_INIT
#endif

/* 5.15 replaced nft_pktinfo.tprot_set by a flags bit */
static inline bool sluice_pkt_l4proto(const struct nft_pktinfo *pkt)
{
#ifdef SLUICE_HAVE_NFT_PKTINFO_FLAGS
	return pkt->flags & NFT_PKTINFO_L4PROTO;
#else
	return pkt->tprot_set;
#endif
}

#endif
