/* What the sluice-ktest modes share: one PASS/FAIL line per scenario. */
#ifndef SLUICE_KTEST_H
#define SLUICE_KTEST_H

#include <stdint.h>
#include <stdio.h>

#include "sluice/netaddr.h"

/* A scenario returns 0 or -1 with the reason in kt_why (FAILIF sets it). */
extern char kt_why[512];
#define FAILIF(cond, ...) do { if (cond) { snprintf(kt_why, sizeof(kt_why), __VA_ARGS__); return -1; } } while (0)

/* Appends "PASS name" or "FAIL name: kt_why" to the results file and stdout. */
void kt_report(const char *name, int ret);
uint64_t kt_now_ns(void);		/* CLOCK_MONOTONIC */
union sockaddr_u kt_ep(const char *s);	/* "IP:PORT"; exits on a typo */

/* kabuse.c: the control-file abuse scenarios, in a network namespace of their own. */
int kabuse_run(void);
/* ksrtp.c: SRTP in the module, on guest.sh's topology (instance 5). */
int ksrtp_run(void);

#endif
