/* A reference model of the control interface, written from the contract in
 * include/sluice/kernel_abi.h (not from the module): which errno a write to a control
 * file must get, and what an accepted message does to the table. kabuse.c checks the
 * module against it, write by write. */
#ifndef SLUICE_KMODEL_H
#define SLUICE_KMODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/kernel_abi.h"

#define KM_ID	7u	/* the instance the model follows (the one under test) */
#define KM_CAP	48u	/* its capacity: not a power of two, so slot flips land on both sides */
#define KM_MAXMSG sizeof(struct sluice_msg_srtp)	/* the longest message */

/* What the namespace holds: the instances, and the model instance's table. */
struct kmodel {
	bool inst[SLUICE_MAX_INSTANCES];
	bool used[KM_CAP];
	struct sluice_addr local[KM_CAP];
	bool srtp[KM_CAP];		/* the slot has SRTP keys (SLUICE_CMD_SRTP_SET) */
	unsigned int entries;
};
extern struct kmodel kmodel;

/* 0 or -errno for `len` bytes written to KM_ID's control file; nothing changes. */
int kmodel_predict_inst(const void *buf, size_t len);
/* After the module accepted it: the table follows. */
void kmodel_apply_inst(const void *buf);
/* The same for the namespace's control file (instances). */
int kmodel_predict_net(const void *buf, size_t len);
void kmodel_apply_net(const void *buf);

#endif
