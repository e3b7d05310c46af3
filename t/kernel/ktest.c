/* sluice-ktest: module-level scenarios, run inside the test VM by t/kernel/guest.sh.
 *
 * Topology (made by guest.sh; this program only opens sockets in the namespaces):
 *
 *    netns a                  relay (root netns)                 netns b
 *   +-----------+   veth   +----------------------+   veth   +-----------+
 *   | a0        |----------| ra            rb     |----------| b0        |
 *   | 10.0.1.2  |          | 10.0.1.1   10.0.2.1  |          | 10.0.2.2  |
 *   | fd01::2   |          | fd01::1    fd02::1   |          | fd02::2   |
 *   +-----------+          +----------------------+          +-----------+
 *
 * usage: sluice-ktest RESULTS_FILE all | leave-live | remove-rules | netns-instance |
 *                     control-abuse (kabuse.c) | srtp (ksrtp.c)
 *        sluice-ktest - stats INSTANCE SLOT      (one slot's counters, for daemon_tests.py)
 * Writes "PASS name" / "FAIL name: why" lines to RESULTS_FILE (appending). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sluice/kmod.h"
#include "sluice/netaddr.h"
#include "../../daemon/nft.h"
#include "ktest.h"

static FILE *results;
static int root_ns = -1;
char kt_why[512];
static int n_pass, n_fail;

void kt_report(const char *name, int ret)
{
	if (ret == 0) {
		fprintf(results, "PASS %s\n", name);
		printf("PASS %s\n", name);
		n_pass++;
	} else {
		fprintf(results, "FAIL %s: %s\n", name, kt_why);
		printf("FAIL %s: %s\n", name, kt_why);
		n_fail++;
	}
	fflush(results);
	fflush(stdout);
	kt_why[0] = 0;
}

uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

union sockaddr_u kt_ep(const char *s)
{
	union sockaddr_u a;

	if (netaddr_parse(s, 0, false, &a)) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
	return a;
}

static int enter_ns(const char *ns)
{
	char path[128];
	int fd, ret;

	if (!ns)
		return setns(root_ns, CLONE_NEWNET);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

/* A UDP socket bound to `addr` inside netns `ns` (NULL = relay/root). */
static int sock_at(const char *ns, const char *addr)
{
	union sockaddr_u a = kt_ep(addr);
	int fd, one = 1;

	if (enter_ns(ns)) {
		perror("setns");
		exit(2);
	}
	fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, &a.sa, netaddr_len(&a))) {
		fprintf(stderr, "bind %s in %s: %s\n", addr, ns ? ns : "root", strerror(errno));
		exit(2);
	}
	enter_ns(NULL);
	return fd;
}

static size_t payload(unsigned int i, unsigned char *buf)
{
	size_t len = 12 + (i * 37) % 300;

	for (size_t j = 0; j < len; j++)
		buf[j] = (unsigned char)(i * 131 + j * 7);
	return len;
}

struct sent {
	unsigned int n;
	uint64_t bytes;
};

static struct sent send_n(int fd, const char *to, unsigned int first, unsigned int n)
{
	union sockaddr_u a = kt_ep(to);
	unsigned char buf[400];
	struct sent s = { 0, 0 };

	for (unsigned int i = first; i < first + n; i++) {
		size_t len = payload(i, buf);

		if (sendto(fd, buf, len, 0, &a.sa, netaddr_len(&a)) == (ssize_t)len) {
			s.n++;
			s.bytes += len;
		}
		if ((i & 15) == 15)
			usleep(1000);	/* keep veth/backlog queues short */
	}
	return s;
}

/* Receives until `n` packets arrived or `ms` passed with nothing. Checks every payload
 * (byte-identical, in order from `first`) and the source address when from != NULL.
 * Returns the number received, or -1 with kt_why set on a mismatch. */
static int recv_n(int fd, unsigned int first, unsigned int n, const char *from, int ms)
{
	union sockaddr_u want, got;
	unsigned char buf[2048], exp[400];
	unsigned int got_n = 0;
	char s1[NETADDR_STRLEN], s2[NETADDR_STRLEN];

	if (from)
		want = kt_ep(from);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		socklen_t sl = sizeof(got);
		ssize_t r;
		size_t el;

		if (got_n >= n && n)
			ms = 50;	/* anything extra would be a bug: look briefly */
		if (poll(&p, 1, ms) <= 0)
			break;
		r = recvfrom(fd, buf, sizeof(buf), 0, &got.sa, &sl);
		if (r < 0)
			break;
		el = payload(first + got_n, exp);
		FAILIF(got_n >= n, "more packets than sent (%u)", n);
		FAILIF((size_t)r != el || memcmp(buf, exp, el),
		       "payload of packet %u differs (len %zd, want %zu)", got_n, r, el);
		FAILIF(from && !netaddr_eq(&got, &want), "packet %u from %s, want %s", got_n,
		       netaddr_str(&got, s1, sizeof(s1)), netaddr_str(&want, s2, sizeof(s2)));
		got_n++;
	}
	return (int)got_n;
}

static int expect_none(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	FAILIF(poll(&p, 1, 150) > 0, "%s: got a packet, want none", what);
	return 0;
}

/* Empties every socket, so one failing scenario does not spill into the next. */
static void drain(const int *fds, size_t n)
{
	char buf[2048];

	for (size_t i = 0; i < n; i++)
		while (recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
}

static struct kmod_stream stream(const char *local, const char *expect, const char *osrc,
				 const char *odst, unsigned int flags)
{
	struct kmod_stream s = { .flags = flags };

	s.local = kt_ep(local);
	if (expect)
		s.expect_src = kt_ep(expect);
	else
		s.expect_src.sa.sa_family = AF_UNSPEC;
	s.out_src = kt_ep(osrc);
	s.out_dst = kt_ep(odst);
	return s;
}

static int check_ctr(struct kmod *k, int slot, uint64_t pk, uint64_t by, uint64_t er,
		     uint64_t mm)
{
	struct kmod_counters c;

	FAILIF(kmod_read(k, slot, &c), "kmod_read(%d) failed", slot);
	FAILIF(c.packets != pk || c.bytes != by || c.errors != er || c.mismatch != mm,
	       "slot %d counters packets %llu bytes %llu errors %llu mismatch %llu, want %llu %llu %llu %llu",
	       slot, (unsigned long long)c.packets, (unsigned long long)c.bytes,
	       (unsigned long long)c.errors, (unsigned long long)c.mismatch,
	       (unsigned long long)pk, (unsigned long long)by, (unsigned long long)er,
	       (unsigned long long)mm);
	return 0;
}

/* The slot's mismatch record names `from` (NULL: none) with a time in [t0, now]. */
static int check_last(struct kmod *k, int slot, const char *from, uint64_t t0)
{
	char s1[NETADDR_STRLEN], s2[NETADDR_STRLEN];
	struct kmod_counters c;
	union sockaddr_u want;

	FAILIF(kmod_read(k, slot, &c), "kmod_read(%d) failed", slot);
	if (!from) {
		FAILIF(c.last_mismatch.sa.sa_family != AF_UNSPEC || c.last_mismatch_ns,
		       "slot %d: mismatch record %s at %llu, want none", slot,
		       netaddr_str(&c.last_mismatch, s1, sizeof(s1)),
		       (unsigned long long)c.last_mismatch_ns);
		return 0;
	}
	want = kt_ep(from);
	FAILIF(!netaddr_eq(&c.last_mismatch, &want), "slot %d: last mismatch %s (family %d), want %s",
	       slot, netaddr_str(&c.last_mismatch, s1, sizeof(s1)), c.last_mismatch.sa.sa_family,
	       netaddr_str(&want, s2, sizeof(s2)));
	/* coarse clock: up to a tick (4 ms at HZ=250) behind the fine one */
	FAILIF(c.last_mismatch_ns + 50000000ull < t0 || c.last_mismatch_ns > kt_now_ns(),
	       "slot %d: last mismatch at %llu, outside [%llu, now]", slot,
	       (unsigned long long)c.last_mismatch_ns, (unsigned long long)t0);
	return 0;
}

/* The list file shows `from` as the entry's mismatch_from (NULL: no such key). */
static int check_list_from(struct kmod *k, int slot, const char *from)
{
	char path[64], line[512], key[32];
	const char *got = NULL;
	FILE *f;

	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/list", kmod_id(k));
	f = fopen(path, "r");
	FAILIF(!f, "open %s: %s", path, strerror(errno));
	snprintf(key, sizeof(key), "%d ", slot);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		got = strstr(line, " mismatch_from ");
		break;
	}
	fclose(f);
	if (!from) {
		FAILIF(got, "list shows%s", got);
		return 0;
	}
	FAILIF(!got || strncmp(got + 15, from, strlen(from)) || !strchr(" \n", got[15 + strlen(from)]),
	       "list: mismatch_from %s, want %s", got ? got + 15 : "(none)", from);
	return 0;
}

/* ---- scenarios ---- */

static struct kmod *k1, *k2;

static int t_open(void)
{
	int ret;

	FAILIF(!kmod_available(), "module not loaded (%s missing)", KMOD_PROC_DIR);
	ret = kmod_open(&k1, 1, 1024, KMOD_OPEN_FLUSH);
	FAILIF(ret, "kmod_open(1): %s", strerror(-ret));
	FAILIF(kmod_capacity(k1) != 1024, "capacity %u", kmod_capacity(k1));
	ret = kmod_open(&k2, 2, 64, KMOD_OPEN_FLUSH);
	FAILIF(ret, "kmod_open(2): %s", strerror(-ret));
	return 0;
}

static int t_nft_install(void)
{
	int ret;

	ret = sluice_nft_install(1, NULL);
	FAILIF(ret, "install(1): %s", strerror(-ret));
	FAILIF(sluice_nft_count(1) != 1, "count after install = %d", sluice_nft_count(1));
	/* a stale table (daemon killed) is replaced, not duplicated */
	ret = sluice_nft_install(1, NULL);
	FAILIF(ret, "reinstall(1): %s", strerror(-ret));
	FAILIF(sluice_nft_count(1) != 1, "count after reinstall = %d", sluice_nft_count(1));
	ret = sluice_nft_install(2, NULL);
	FAILIF(ret, "install(2): %s", strerror(-ret));
	FAILIF(sluice_nft_count(2) != 1, "count(2) = %d", sluice_nft_count(2));
	FAILIF(sluice_nft_remove(3) != 0, "remove of an absent table must succeed");
	return 0;
}

static int relay_a, relay_b, phone_a, phone_b, relay_a6, relay_b6, phone_a6, phone_b6;
static int slot_v4, slot_v6a, slot_v6b;

static int t_fwd_ipv4(void)
{
	struct kmod_stream s = stream("10.0.1.1:30000", NULL, "10.0.2.1:30002", "10.0.2.2:40002", 0);
	struct kmod_counters c;
	struct sent sn;
	uint64_t t0 = kt_now_ns();
	int r;

	slot_v4 = kmod_add(k1, &s);
	FAILIF(slot_v4 < 0, "kmod_add: %s", strerror(-slot_v4));
	sn = send_n(phone_a, "10.0.1.1:30000", 0, 200);
	r = recv_n(phone_b, 0, sn.n, "10.0.2.1:30002", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "phone b got %d of %u", r, sn.n);
	if (expect_none(relay_a, "relay socket (userspace)"))
		return -1;
	if (check_ctr(k1, slot_v4, sn.n, sn.bytes, 0, 0))
		return -1;
	kmod_read(k1, slot_v4, &c);
	FAILIF(!c.active, "slot not active");
	FAILIF(c.last_ns + 50000000ull < t0 || c.last_ns > kt_now_ns(),
	       "last_ns %llu outside [%llu, now]", (unsigned long long)c.last_ns,
	       (unsigned long long)t0);
	return 0;
}

static int t_fwd_ipv6(void)
{
	struct kmod_stream ab = stream("[fd01::1]:30000", NULL, "[fd02::1]:30002", "[fd02::2]:40002", 0);
	struct kmod_stream ba = stream("[fd02::1]:30002", NULL, "[fd01::1]:30000", "[fd01::2]:40000", 0);
	struct sent sn;
	int r;

	slot_v6a = kmod_add(k1, &ab);
	slot_v6b = kmod_add(k1, &ba);
	FAILIF(slot_v6a < 0 || slot_v6b < 0, "kmod_add: %d %d", slot_v6a, slot_v6b);
	sn = send_n(phone_a6, "[fd01::1]:30000", 1000, 150);
	r = recv_n(phone_b6, 1000, sn.n, "[fd02::1]:30002", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "a->b: phone b got %d of %u", r, sn.n);
	if (check_ctr(k1, slot_v6a, sn.n, sn.bytes, 0, 0))
		return -1;
	sn = send_n(phone_b6, "[fd02::1]:30002", 2000, 120);
	r = recv_n(phone_a6, 2000, sn.n, "[fd01::1]:30000", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "b->a: phone a got %d of %u", r, sn.n);
	if (check_ctr(k1, slot_v6b, sn.n, sn.bytes, 0, 0))
		return -1;
	if (expect_none(relay_a6, "relay a6") || expect_none(relay_b6, "relay b6"))
		return -1;
	return 0;
}

static int t_fwd_v4_to_v6(void)
{
	struct kmod_stream s = stream("10.0.1.1:30010", NULL, "[fd02::1]:30012", "[fd02::2]:40002", 0);
	int fd = sock_at(NULL, "10.0.1.1:30010"), slot, r;
	struct sent sn;

	slot = kmod_add(k1, &s);
	FAILIF(slot < 0, "kmod_add: %s", strerror(-slot));
	sn = send_n(phone_a, "10.0.1.1:30010", 3000, 60);
	r = recv_n(phone_b6, 3000, sn.n, "[fd02::1]:30012", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "phone b6 got %d of %u", r, sn.n);
	if (expect_none(fd, "relay socket"))
		return -1;
	close(fd);
	return check_ctr(k1, slot, sn.n, sn.bytes, 0, 0);
}

static int t_src_check_drop(void)
{
	struct kmod_stream s = stream("10.0.1.1:30000", "10.0.1.2:40000", "10.0.2.1:30002",
				      "10.0.2.2:40002", 0);
	int stranger = sock_at("a", "10.0.1.2:40001"), ret, r;
	struct kmod_counters before;
	struct sent sn, ok;
	uint64_t t0;

	kmod_read(k1, slot_v4, &before);
	if (check_last(k1, slot_v4, NULL, 0))
		return -1;
	ret = kmod_update(k1, slot_v4, &s);
	FAILIF(ret, "kmod_update: %s", strerror(-ret));
	t0 = kt_now_ns();
	sn = send_n(stranger, "10.0.1.1:30000", 0, 25);
	if (expect_none(phone_b, "phone b (stranger's packets)") ||
	    expect_none(relay_a, "relay socket (stranger's packets)"))
		return -1;
	if (check_ctr(k1, slot_v4, before.packets, before.bytes, 0, sn.n) ||
	    check_last(k1, slot_v4, "10.0.1.2:40001", t0) ||
	    check_list_from(k1, slot_v4, "10.0.1.2:40001"))
		return -1;
	ok = send_n(phone_a, "10.0.1.1:30000", 500, 20);
	r = recv_n(phone_b, 500, ok.n, "10.0.2.1:30002", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != ok.n, "latched source: phone b got %d of %u", r, ok.n);
	close(stranger);
	/* the latched source's packets leave the record alone */
	return check_ctr(k1, slot_v4, before.packets + ok.n, before.bytes + ok.bytes, 0, sn.n) ||
	       check_last(k1, slot_v4, "10.0.1.2:40001", t0);
}

static int t_src_check_pass(void)
{
	struct kmod_stream s = stream("10.0.1.1:30000", "10.0.1.2:40000", "10.0.2.1:30002",
				      "10.0.2.2:40002", SLUICE_SF_MISMATCH_PASS);
	int stranger = sock_at("a", "10.0.1.2:40003"), ret, r;
	struct kmod_counters before;
	struct sent sn;
	uint64_t t0;

	kmod_read(k1, slot_v4, &before);
	ret = kmod_update(k1, slot_v4, &s);
	FAILIF(ret, "kmod_update: %s", strerror(-ret));
	t0 = kt_now_ns();
	sn = send_n(stranger, "10.0.1.1:30000", 700, 15);
	r = recv_n(relay_a, 700, sn.n, "10.0.1.2:40003", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "relay socket got %d of %u stranger packets", r, sn.n);
	if (expect_none(phone_b, "phone b"))
		return -1;
	close(stranger);
	return check_ctr(k1, slot_v4, before.packets, before.bytes, 0, before.mismatch + sn.n) ||
	       check_last(k1, slot_v4, "10.0.1.2:40003", t0);
}

static void hdr(struct sluice_msg_hdr *h, uint16_t cmd, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->version = SLUICE_ABI_VERSION;
	h->cmd = cmd;
	h->len = (uint16_t)len;
}

/* IPv6: the record holds the whole address; UPDATE keeps it (as the counters), DEL
 * leaves it readable, a new ADD on the slot clears it. */
static int t_mismatch_record_v6(void)
{
	struct kmod_stream s = stream("[fd01::1]:30000", "[fd01::2]:40000", "[fd02::1]:30002",
				      "[fd02::2]:40002", 0);
	int stranger = sock_at("a", "[fd01::2]:40005"), ret;
	struct sluice_msg_stream add;
	struct sluice_msg_slot del;
	struct kmod_counters c;
	struct sent sn;
	uint64_t t0;

	ret = kmod_update(k1, slot_v6a, &s);
	FAILIF(ret, "kmod_update: %s", strerror(-ret));
	kmod_read(k1, slot_v6a, &c);
	t0 = kt_now_ns();
	sn = send_n(stranger, "[fd01::1]:30000", 4000, 10);
	close(stranger);
	if (expect_none(phone_b6, "phone b6 (stranger's packets)") ||
	    check_ctr(k1, slot_v6a, c.packets, c.bytes, 0, c.mismatch + sn.n) ||
	    check_last(k1, slot_v6a, "[fd01::2]:40005", t0) ||
	    check_list_from(k1, slot_v6a, "[fd01::2]:40005"))
		return -1;
	s.flags = SLUICE_SF_SET_TOS;
	ret = kmod_update(k1, slot_v6a, &s);
	FAILIF(ret, "kmod_update: %s", strerror(-ret));
	if (check_last(k1, slot_v6a, "[fd01::2]:40005", t0))
		return -1;
	FAILIF(kmod_del(k1, slot_v6a), "kmod_del");
	if (check_last(k1, slot_v6a, "[fd01::2]:40005", t0))
		return -1;
	/* kmod_add() would pick the next slot (next-fit): re-ADD this one raw */
	hdr(&add.hdr, SLUICE_CMD_ADD, sizeof(add));
	add.slot = (uint32_t)slot_v6a;
	add.pad = 0;
	kmod_stream_to_abi(&s, &add.stream);
	ret = kmod_write_raw(k1, &add, sizeof(add));
	FAILIF(ret, "raw ADD: %s", strerror(-ret));
	if (check_last(k1, slot_v6a, NULL, 0) || check_ctr(k1, slot_v6a, 0, 0, 0, 0) ||
	    check_list_from(k1, slot_v6a, NULL))
		return -1;
	hdr(&del.hdr, SLUICE_CMD_DEL, sizeof(del));
	del.slot = (uint32_t)slot_v6a;
	del.pad = 0;
	ret = kmod_write_raw(k1, &del, sizeof(del));
	FAILIF(ret, "raw DEL: %s", strerror(-ret));
	return 0;
}

static int t_delete(void)
{
	struct kmod_counters before, after;
	struct sent sn;
	int ret, r;

	kmod_read(k1, slot_v4, &before);
	ret = kmod_del(k1, slot_v4);
	FAILIF(ret, "kmod_del: %s", strerror(-ret));
	sn = send_n(phone_a, "10.0.1.1:30000", 800, 30);
	r = recv_n(relay_a, 800, sn.n, "10.0.1.2:40000", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "relay socket got %d of %u after delete", r, sn.n);
	if (expect_none(phone_b, "phone b after delete"))
		return -1;
	kmod_read(k1, slot_v4, &after);
	FAILIF(after.active, "slot still active after delete");
	FAILIF(after.gen == before.gen, "gen unchanged by delete");
	FAILIF(kmod_del(k1, slot_v4) != -ENOENT, "second delete must fail with ENOENT");
	/* counters of a deleted stream stay readable for the final stats */
	return check_ctr(k1, slot_v4, before.packets, before.bytes, 0, before.mismatch);
}

static int t_nomatch(void)
{
	struct kmod_stream s = stream("10.0.1.1:30040", NULL, "10.0.2.1:30042", "10.0.2.2:40002", 0);
	int other = sock_at(NULL, "10.0.1.1:30020"), slot, r;
	struct sent sn;

	slot = kmod_add(k1, &s);	/* an entry exists, just not for this port */
	FAILIF(slot < 0, "kmod_add: %s", strerror(-slot));
	sn = send_n(phone_a, "10.0.1.1:30020", 900, 40);
	r = recv_n(other, 900, sn.n, "10.0.1.2:40000", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "userspace socket got %d of %u", r, sn.n);
	if (expect_none(phone_b, "phone b"))
		return -1;
	close(other);
	kmod_del(k1, slot);
	return check_ctr(k1, slot, 0, 0, 0, 0);
}

static int t_instances_isolated(void)
{
	struct kmod_stream s = stream("10.0.1.1:30030", NULL, "10.0.2.1:30032", "10.0.2.2:40002", 0);
	int sock30 = sock_at(NULL, "10.0.1.1:30030"), slot2, r;
	struct kmod_counters c;
	struct sent sn;

	slot2 = kmod_add(k2, &s);
	FAILIF(slot2 < 0, "kmod_add(k2): %s", strerror(-slot2));
	/* instance 1 knows nothing of it */
	FAILIF(kmod_del(k1, (int)kmod_capacity(k1) - 1) != -ENOENT, "k1 sees a foreign slot");
	FAILIF(kmod_flush(k1), "flush k1");
	sn = send_n(phone_a, "10.0.1.1:30030", 1100, 30);
	r = recv_n(phone_b, 1100, sn.n, "10.0.2.1:30032", 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "instance 2 forwarded %d of %u after k1 flush", r, sn.n);
	if (expect_none(sock30, "userspace socket"))
		return -1;
	if (check_ctr(k2, slot2, sn.n, sn.bytes, 0, 0))
		return -1;
	/* instance 1's counters did not move: its slot with the same index is empty */
	kmod_read(k1, slot2, &c);
	FAILIF(c.active, "k1 slot %d active", slot2);
	/* the same local address may be pushed in instance 1 independently */
	r = kmod_add(k1, &s);
	FAILIF(r < 0, "same local in k1: %s", strerror(-r));
	FAILIF(kmod_del(k1, r), "del k1");
	close(sock30);
	return 0;
}

static int t_flush(void)
{
	char local[40];
	int slots[5], r;
	struct sent sn;
	int sock = sock_at(NULL, "10.0.1.1:30050");

	for (int i = 0; i < 5; i++) {
		struct kmod_stream s;

		snprintf(local, sizeof(local), "10.0.1.1:%d", 30050 + 2 * i);
		s = stream(local, NULL, "10.0.2.1:30070", "10.0.2.2:40002", 0);
		slots[i] = kmod_add(k1, &s);
		FAILIF(slots[i] < 0, "add %d: %s", i, strerror(-slots[i]));
	}
	FAILIF(kmod_used(k1) != 5, "used %u", kmod_used(k1));
	FAILIF(kmod_flush(k1), "flush");
	FAILIF(kmod_used(k1) != 0, "used %u after flush", kmod_used(k1));
	for (int i = 0; i < 5; i++) {
		struct kmod_counters c;

		kmod_read(k1, slots[i], &c);
		FAILIF(c.active, "slot %d active after flush", slots[i]);
	}
	sn = send_n(phone_a, "10.0.1.1:30050", 1200, 20);
	r = recv_n(sock, 1200, sn.n, NULL, 1000);
	if (r < 0)
		return -1;
	FAILIF((unsigned int)r != sn.n, "userspace got %d of %u after flush", r, sn.n);
	close(sock);
	return expect_none(phone_b, "phone b after flush");
}

/* Hitless restart (docs/ha.md): the owner token survives flush and a second handle,
 * and a handle opened without flushing lists the entries it finds and adopts them:
 * UPDATE keeps their counters, DEL removes them. */
static int t_token_adopt(void)
{
	struct kmod_stream s = stream("10.0.1.1:30080", NULL, "10.0.2.1:30082", "10.0.2.2:40002", 0);
	struct kmod_entry *e = NULL;
	struct kmod_counters c;
	struct kmod *k;
	unsigned int n = 0;
	int slot, r, found = 0;

	FAILIF(kmod_token(k2) != 0, "token %llx before any was set",
	       (unsigned long long)kmod_token(k2));
	FAILIF((r = kmod_set_token(k2, 0x0123456789abcdefull)), "set token: %s", strerror(-r));
	FAILIF(kmod_flush(k2), "flush");
	FAILIF(kmod_token(k2) != 0x0123456789abcdefull, "token %llx after flush",
	       (unsigned long long)kmod_token(k2));
	slot = kmod_add(k2, &s);
	FAILIF(slot < 0, "add: %s", strerror(-slot));
	s.local = kt_ep("10.0.1.1:30084");
	FAILIF((r = kmod_add(k2, &s)) < 0, "add 2: %s", strerror(-r));
	FAILIF((r = kmod_open(&k, 2, 0, KMOD_OPEN_NOCREATE)), "second open: %s", strerror(-r));
	FAILIF(kmod_token(k) != 0x0123456789abcdefull, "second handle reads token %llx",
	       (unsigned long long)kmod_token(k));
	r = kmod_entries(k, &e, &n);
	for (unsigned int i = 0; !r && i < n; i++)
		found += (e[i].slot == slot && netaddr_port(&e[i].local) == 30080) ||
			 netaddr_port(&e[i].local) == 30084;
	free(e);
	if (r || n != 2 || found != 2) {
		kmod_close(k, false);
		FAILIF(1, "entries: %s, %u listed, %d as added", strerror(-r), n, found);
	}
	FAILIF(kmod_adopt(k, (int)kmod_capacity(k) - 1) != -ENOENT, "adopt of an empty slot");
	if (kmod_adopt(k, slot) || kmod_used(k) != 1) {
		kmod_close(k, false);
		FAILIF(1, "adopt: used %u", kmod_used(k));
	}
	s.local = kt_ep("10.0.1.1:30080");
	s.out_dst = kt_ep("10.0.2.2:40004");
	r = kmod_update(k, slot, &s);
	kmod_read(k, slot, &c);
	if (!r)
		r = kmod_del(k, slot);
	kmod_close(k, false);
	FAILIF(r, "update/del of the adopted entry: %s", strerror(-r));
	FAILIF(!c.active, "adopted entry inactive after update");
	return kmod_flush(k2) ? -1 : 0;
}

/* ---- the control interface refuses garbage ---- */

static struct sluice_msg_stream good_add(uint32_t slot, const char *local)
{
	struct sluice_msg_stream m;
	struct kmod_stream s = stream(local, NULL, "10.0.2.1:30002", "10.0.2.2:40002", 0);

	hdr(&m.hdr, SLUICE_CMD_ADD, sizeof(m));
	m.slot = slot;
	m.pad = 0;
	kmod_stream_to_abi(&s, &m.stream);
	return m;
}

static int expect_err(int got, int want, const char *what)
{
	FAILIF(got != -want, "%s: got %d (%s), want -%d (%s)", what, got,
	       got ? strerror(-got) : "accepted", want, strerror(want));
	return 0;
}

#define EXPECT(call, err, what) do { if (expect_err((call), (err), (what))) return -1; } while (0)

static int t_garbage(void)
{
	struct sluice_msg_stream m;
	struct sluice_msg_slot d;
	struct sluice_msg_instance in;
	unsigned char big[4096] = { 0 };

	m = good_add(0, "10.0.1.1:31000");
	m.hdr.version = SLUICE_ABI_VERSION + 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EPROTO, "next version");
	m.hdr.version = SLUICE_ABI_VERSION - 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EPROTO, "previous version");
	m = good_add(0, "10.0.1.1:31000");
	EXPECT(kmod_write_raw(k1, &m, 8), EINVAL, "short write");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m) - 1), EINVAL, "len != hdr.len");
	EXPECT(kmod_write_raw(k1, big, sizeof(big)), EINVAL, "4096-byte write");
	m.hdr.reserved = 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "reserved != 0");
	m = good_add(0, "10.0.1.1:31000");
	m.hdr.cmd = 99;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EOPNOTSUPP, "unknown cmd");
	m.hdr.cmd = SLUICE_CMD_INSTANCE_CREATE;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EOPNOTSUPP, "instance cmd on instance file");
	m = good_add(kmod_capacity(k1), "10.0.1.1:31000");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), ERANGE, "slot == capacity");
	m = good_add(0xffffffffu, "10.0.1.1:31000");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), ERANGE, "slot 2^32-1");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.local.family = 5;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "family 5");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.out_dst.port = 0;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "port 0");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.local.addr[7] = 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "IPv4 with bytes past 4");
	m = good_add(0, "10.0.1.1:31000");
	memset(m.stream.out_src.addr, 0, 16);
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "0.0.0.0 source");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.local.pad1 = 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "addr pad");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.flags = 0x40000000;	/* not in SLUICE_SF_ALL */
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "unknown flag");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.jitter16 = 7;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "jitter16 without SLUICE_SF_QUALITY");
	m.stream.flags = SLUICE_SF_QUALITY;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "jitter16 without a clock");
	m.stream.clock_rate = SLUICE_MAX_CLOCK_RATE + 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "clock beyond SLUICE_MAX_CLOCK_RATE");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.clock_rate = 8000;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "clock without SLUICE_SF_QUALITY");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.expect_src.family = SLUICE_FAMILY_INET6;
	m.stream.expect_src.port = htons(5);
	m.stream.expect_src.addr[15] = 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "expect family != local family");
	m = good_add(0, "10.0.1.1:31000");
	m.stream.out_dst.family = SLUICE_FAMILY_INET6;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "out_src/out_dst families differ");
	m = good_add(0, "10.0.1.1:31000");
	m.pad = 1;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EINVAL, "msg pad");
	m = good_add(0, "10.0.1.1:31000");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), 0, "valid add");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EBUSY, "add to occupied slot");
	m = good_add(1, "10.0.1.1:31000");
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), EEXIST, "add of a local already pushed");
	m.hdr.cmd = SLUICE_CMD_UPDATE;
	EXPECT(kmod_write_raw(k1, &m, sizeof(m)), ENOENT, "update of an empty slot");
	hdr(&d.hdr, SLUICE_CMD_DEL, sizeof(d));
	d.slot = 5;
	d.pad = 0;
	EXPECT(kmod_write_raw(k1, &d, sizeof(d)), ENOENT, "delete of an empty slot");
	d.slot = 0;
	EXPECT(kmod_write_raw(k1, &d, sizeof(d)), 0, "valid delete");
	hdr(&in.hdr, SLUICE_CMD_INSTANCE_CREATE, sizeof(in));
	in.id = SLUICE_MAX_INSTANCES;
	in.capacity = 10;
	EXPECT(kmod_write_raw_global(&in, sizeof(in)), ERANGE, "instance id 256");
	in.id = 9;
	in.capacity = 0;
	EXPECT(kmod_write_raw_global(&in, sizeof(in)), ERANGE, "capacity 0");
	in.capacity = SLUICE_MAX_CAPACITY + 1;
	EXPECT(kmod_write_raw_global(&in, sizeof(in)), ERANGE, "capacity too large");
	in.id = 1;
	in.capacity = 10;
	EXPECT(kmod_write_raw_global(&in, sizeof(in)), EEXIST, "create existing");
	hdr(&in.hdr, SLUICE_CMD_INSTANCE_DESTROY, sizeof(in));
	in.id = 77;
	in.capacity = 0;
	EXPECT(kmod_write_raw_global(&in, sizeof(in)), ENOENT, "destroy missing");
	hdr(&m.hdr, SLUICE_CMD_FLUSH, sizeof(m.hdr) + 1);
	EXPECT(kmod_write_raw(k1, &m, sizeof(m.hdr) + 1), EINVAL, "flush with trailing byte");
	return 0;
}

/* Random and mutated messages: nothing may crash; dmesg is checked by guest.sh. */
static int t_fuzz(void)
{
	union { struct sluice_msg_stream s; unsigned char b[160]; } u;
	unsigned int accepted = 0, seed = 12345;
	int r;

	srand(seed);
	for (int i = 0; i < 30000; i++) {
		size_t len;

		if (i % 3 == 0) {
			for (size_t j = 0; j < sizeof(u); j++)
				u.b[j] = (unsigned char)rand();
			len = (size_t)rand() % sizeof(u);
		} else {
			u.s = good_add((uint32_t)rand() % 2048,
				       i & 1 ? "10.0.1.1:32000" : "[fd01::1]:32000");
			for (int f = 0; f < 1 + rand() % 3; f++)
				u.b[rand() % sizeof(u.s)] ^= (unsigned char)(1u << (rand() % 8));
			u.s.hdr.cmd = (uint16_t)(1 + rand() % 7);
			len = sizeof(u.s);
			if (u.s.hdr.cmd == SLUICE_CMD_DEL)
				len = sizeof(struct sluice_msg_slot);
			else if (u.s.hdr.cmd == SLUICE_CMD_FLUSH)
				len = sizeof(struct sluice_msg_hdr);
			u.s.hdr.len = (uint16_t)len;
		}
		r = kmod_write_raw(k1, &u, len);
		if (r == 0)
			accepted++;
		else if (r != -EINVAL && r != -ERANGE && r != -EPROTO && r != -EOPNOTSUPP &&
			 r != -EBUSY && r != -EEXIST && r != -ENOENT &&
			 r != -ENOKEY)	/* a flipped SLUICE_SF_SRTP without keys */
			FAILIF(1, "message %d: unexpected error %d", i, r);
		if (i % 7 == 0)
			kmod_write_raw_global(&u, len);
	}
	printf("fuzz: %u of 30000 messages accepted\n", accepted);
	FAILIF(kmod_flush(k1), "flush after fuzz");
	return 0;
}

static int t_mmap_readonly(void)
{
	char path[64];
	void *p;
	int fd;

	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/stats", kmod_id(k1));
	fd = open(path, O_RDWR);	/* root may open it read-write ... */
	FAILIF(fd < 0, "open %s: %s", path, strerror(errno));
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FAILIF(p != MAP_FAILED, "writable mapping allowed");	/* ... but never map it writable */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	FAILIF(p == MAP_FAILED, "read mapping: %s", strerror(errno));
	FAILIF(mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect to writable allowed");
	munmap(p, 4096);
	p = mmap(NULL, 64 << 20, PROT_READ, MAP_SHARED, fd, 0);
	FAILIF(p != MAP_FAILED, "mapping larger than the stats area allowed");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096 * 100);
	FAILIF(p != MAP_FAILED, "mapping at an offset allowed");
	close(fd);
	return 0;
}

/* Destroying an instance whose counters are mapped: the mapping stays readable. */
static int t_destroy_mapped(void)
{
	struct kmod_stream s = stream("10.0.1.1:30090", NULL, "10.0.2.1:30092", "10.0.2.2:40002", 0);
	struct kmod *k3;
	struct kmod_counters c;
	int ret, slot;

	ret = kmod_open(&k3, 3, 16, KMOD_OPEN_FLUSH);
	FAILIF(ret, "open 3: %s", strerror(-ret));
	slot = kmod_add(k3, &s);
	FAILIF(slot < 0, "add: %s", strerror(-slot));
	FAILIF(kmod_destroy(3), "destroy 3");
	FAILIF(kmod_read(k3, slot, &c) || !c.active, "mapping unreadable after destroy");
	ret = kmod_add(k3, &s);
	FAILIF(ret != -EIO && ret != -ENOENT, "add after destroy: %d", ret);
	FAILIF(access(KMOD_PROC_DIR "/3", F_OK) == 0, "/proc dir of instance 3 still there");
	kmod_close(k3, false);
	return 0;
}

/* ---- modes ---- */

static void open_sockets(void)
{
	relay_a = sock_at(NULL, "10.0.1.1:30000");
	relay_b = sock_at(NULL, "10.0.2.1:30002");
	phone_a = sock_at("a", "10.0.1.2:40000");
	phone_b = sock_at("b", "10.0.2.2:40002");
	relay_a6 = sock_at(NULL, "[fd01::1]:30000");
	relay_b6 = sock_at(NULL, "[fd02::1]:30002");
	phone_a6 = sock_at("a", "[fd01::2]:40000");
	phone_b6 = sock_at("b", "[fd02::2]:40002");
}

static int run_all(void)
{
	static const struct { const char *name; int (*fn)(void); } tests[] = {
		{ "open_instances", t_open },
		{ "nft_install_replaces_stale", t_nft_install },
		{ "forward_ipv4", t_fwd_ipv4 },
		{ "forward_ipv6_both_ways", t_fwd_ipv6 },
		{ "forward_ipv4_to_ipv6", t_fwd_v4_to_v6 },
		{ "source_check_drops_strangers", t_src_check_drop },
		{ "source_mismatch_passed_to_userspace", t_src_check_pass },
		{ "mismatch_record_ipv6_update_add", t_mismatch_record_v6 },
		{ "delete_returns_to_userspace", t_delete },
		{ "nonmatching_untouched", t_nomatch },
		{ "instances_isolated", t_instances_isolated },
		{ "flush", t_flush },
		{ "owner_token_and_adoption", t_token_adopt },
		{ "control_refuses_garbage", t_garbage },
		{ "control_fuzz", t_fuzz },
		{ "stats_mapping_readonly", t_mmap_readonly },
		{ "destroy_while_mapped", t_destroy_mapped },
	};

	open_sockets();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (i > 0 && !k1) {	/* nothing else can work */
			snprintf(kt_why, sizeof(kt_why), "no instance");
			kt_report(tests[i].name, -1);
			continue;
		}
		const int all_fds[] = { relay_a, relay_b, phone_a, phone_b,
					relay_a6, relay_b6, phone_a6, phone_b6 };

		usleep(20000);
		drain(all_fds, sizeof(all_fds) / sizeof(all_fds[0]));
		kt_report(tests[i].name, tests[i].fn());
	}
	kmod_close(k1, false);
	kmod_close(k2, false);
	return n_fail ? 1 : 0;
}

/* Leaves entries in instances 1 and 2 (and their rules) for the unload test. */
static int leave_live(void)
{
	struct kmod_stream s = stream("10.0.1.1:30100", NULL, "10.0.2.1:30102", "10.0.2.2:40002", 0);
	struct kmod_stream s6 = stream("[fd01::1]:30100", NULL, "[fd02::1]:30102", "[fd02::2]:40002", 0);
	int a, b, c;

	if (kmod_open(&k1, 1, 0, 0) || kmod_open(&k2, 2, 0, 0))
		return 1;
	a = kmod_add(k1, &s);
	b = kmod_add(k1, &s6);
	c = kmod_add(k2, &s);
	kmod_close(k1, false);
	kmod_close(k2, false);
	return a < 0 || b < 0 || c < 0;
}

/* One slot's counters through the kmod API, for daemon_tests.py (the daemon owns the
 * instance; a second, non-exclusive handle only reads): one line of key=value. */
static int print_stats(unsigned int id, int slot)
{
	char a[NETADDR_STRLEN] = "none";
	struct kmod_counters c;
	struct kmod *k;
	int r = kmod_open(&k, id, 0, KMOD_OPEN_NOCREATE);

	if (r) {
		fprintf(stderr, "kmod_open(%u): %s\n", id, strerror(-r));
		return 1;
	}
	r = kmod_read(k, slot, &c);
	kmod_close(k, false);
	if (r) {
		fprintf(stderr, "kmod_read(%d): %s\n", slot, strerror(-r));
		return 1;
	}
	if (c.last_mismatch.sa.sa_family != AF_UNSPEC)
		netaddr_str(&c.last_mismatch, a, sizeof(a));
	printf("packets=%llu bytes=%llu errors=%llu mismatch=%llu active=%d gen=%u "
	       "last_mismatch=%s last_mismatch_ns=%llu now_ns=%llu\n",
	       (unsigned long long)c.packets, (unsigned long long)c.bytes,
	       (unsigned long long)c.errors, (unsigned long long)c.mismatch, c.active, c.gen, a,
	       (unsigned long long)c.last_mismatch_ns, (unsigned long long)kt_now_ns());
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc == 5 && !strcmp(argv[2], "stats"))
		return print_stats((unsigned int)atoi(argv[3]), atoi(argv[4]));
	if (argc != 3) {
		fprintf(stderr, "usage: %s RESULTS all|leave-live|remove-rules|netns-instance|"
			"control-abuse\n       %s - stats INSTANCE SLOT\n", argv[0], argv[0]);
		return 2;
	}
	results = fopen(argv[1], "a");
	root_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!results || root_ns < 0) {
		perror("setup");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[2], "all"))
		return run_all();
	if (!strcmp(argv[2], "leave-live"))
		return leave_live();
	if (!strcmp(argv[2], "srtp"))
		return ksrtp_run();
	if (!strcmp(argv[2], "control-abuse"))	/* in a fresh network namespace */
		return kabuse_run();
	if (!strcmp(argv[2], "remove-rules"))
		return sluice_nft_remove(1) || sluice_nft_remove(2) || sluice_nft_count(1) != 0;
	if (!strcmp(argv[2], "netns-instance")) {	/* an instance that dies with its netns */
		struct kmod *k;

		ret = kmod_open(&k, 0, 128, 0);
		if (!ret)
			ret = sluice_nft_install(0, NULL);
		if (!ret) {
			struct kmod_stream s = stream("10.9.0.1:5000", NULL, "10.9.0.1:5002",
						      "10.9.0.2:6000", 0);
			ret = kmod_add(k, &s) < 0;
		}
		kmod_close(k, false);
		return ret ? 1 : 0;
	}
	fprintf(stderr, "unknown mode %s\n", argv[2]);
	return 2;
}
