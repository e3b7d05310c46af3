/* sluice-ktest srtp: SRTP in the module (issue 16), on the topology of guest.sh.
 *
 *   phone a 10.0.1.2:41000  --SRTP-->  10.0.1.1:31000 [decrypt]  10.0.2.1:31002 --RTP-->
 *   phone b 10.0.2.2:41002;  the reverse entry encrypts: b --RTP--> 31002 --SRTP--> a
 *
 * Packets are made and checked with this tree's userspace SRTP (lib/srtp*, keyed from
 * the same master key the daemon would derive the kernel's session keys from), so the
 * scenarios prove the module byte-exact against an independent implementation: every
 * payload is compared, every counter asserted. Instance 5, its own nft table. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sluice/kmod_srtp.h"
#include "sluice/netaddr.h"
#include "sluice/srtp.h"
#include "../../daemon/nft.h"
#include "ktest.h"

#define KS_ID		5u
#define A_RELAY		"10.0.1.1:31000"
#define B_RELAY		"10.0.2.1:31002"
#define A_PHONE		"10.0.1.2:41000"
#define B_PHONE		"10.0.2.2:41002"
#define KS_SSRC		0x11223344u

static struct kmod *k;
static int root_ns = -1;
static int relay_a, relay_b, phone_a, phone_b;
static int slot_ab = -1, slot_ba = -1;	/* a->b decrypts, b->a encrypts */
static struct srtpw_key mkey;		/* the current master key (per scenario) */

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

static int sock_at(const char *ns, const char *addr)
{
	union sockaddr_u a = kt_ep(addr);
	int fd;

	if (enter_ns(ns)) {
		perror("setns");
		exit(2);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &a.sa, netaddr_len(&a))) {
		fprintf(stderr, "bind %s: %s\n", addr, strerror(errno));
		exit(2);
	}
	enter_ns(NULL);
	return fd;
}

static void drain_all(void)
{
	const int fds[] = { relay_a, relay_b, phone_a, phone_b };
	char buf[2048];

	for (size_t i = 0; i < 4; i++)
		while (recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
}

/* Plain RTP packet i of a stream: PT 0, a payload that changes with i. */
static size_t rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, unsigned int i)
{
	size_t len = 12 + 20 + (i * 37) % 160;

	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int b = 0; b < 4; b++) {
		p[4 + b] = (uint8_t)((i * 160) >> (24 - 8 * b));
		p[8 + b] = (uint8_t)(ssrc >> (24 - 8 * b));
	}
	for (size_t j = 12; j < len; j++)
		p[j] = (uint8_t)(i * 131 + j * 7);
	return len;
}

static int send_to(int fd, const char *to, const uint8_t *p, size_t len)
{
	union sockaddr_u a = kt_ep(to);

	return sendto(fd, p, len, 0, &a.sa, netaddr_len(&a)) == (ssize_t)len ? 0 : -1;
}

/* One datagram within ms, or -1. */
static ssize_t recv_one(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, cap, 0);
}

static void new_master(enum srtpw_suite suite, uint8_t seed)
{
	memset(&mkey, 0, sizeof(mkey));
	mkey.suite = suite;
	for (unsigned i = 0; i < sizeof(mkey.master); i++)
		mkey.master[i] = (uint8_t)(seed * 29 + i * 13 + 1);
}

static struct sluice_srtp_state st_read(int slot)
{
	struct sluice_srtp_state st;

	memset(&st, 0xff, sizeof(st));
	if (kmod_srtp_read(k, slot, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

#define ST_FMT "dec %llu enc %llu auth %llu replay %llu malformed %llu passed %llu"
#define ST_ARGS(s) (unsigned long long)(s).decrypted, (unsigned long long)(s).encrypted, \
	(unsigned long long)(s).auth_failed, (unsigned long long)(s).replayed, \
	(unsigned long long)(s).malformed, (unsigned long long)(s).passed

static int st_check(int slot, uint64_t dec, uint64_t enc, uint64_t auth, uint64_t rep,
		    uint64_t passed)
{
	struct sluice_srtp_state s = st_read(slot);

	FAILIF(s.decrypted != dec || s.encrypted != enc || s.auth_failed != auth ||
	       s.replayed != rep || s.malformed != 0 || s.passed != passed,
	       "slot %d: " ST_FMT ", want dec %llu enc %llu auth %llu replay %llu passed %llu",
	       slot, ST_ARGS(s), (unsigned long long)dec, (unsigned long long)enc,
	       (unsigned long long)auth, (unsigned long long)rep, (unsigned long long)passed);
	return 0;
}

/* Both entries with the current master key: a->b decrypts, b->a encrypts. */
static int push(void)
{
	struct kmod_stream ab = { 0 }, ba = { 0 };
	struct kmod_srtp x;

	if (slot_ab >= 0) {
		kmod_del(k, slot_ab);
		kmod_srtp_del(k, slot_ab);
	}
	if (slot_ba >= 0) {
		kmod_del(k, slot_ba);
		kmod_srtp_del(k, slot_ba);
	}
	ab.local = kt_ep(A_RELAY);
	ab.expect_src = kt_ep(A_PHONE);
	ab.out_src = kt_ep(B_RELAY);
	ab.out_dst = kt_ep(B_PHONE);
	ba.local = kt_ep(B_RELAY);
	ba.expect_src = kt_ep(B_PHONE);
	ba.out_src = kt_ep(A_RELAY);
	ba.out_dst = kt_ep(A_PHONE);
	memset(&x, 0, sizeof(x));
	FAILIF(srtpw_kernel_key(&mkey, &x.decrypt), "srtpw_kernel_key");
	slot_ab = kmod_add_srtp(k, &ab, &x);
	FAILIF(slot_ab < 0, "kmod_add_srtp a->b: %s", strerror(-slot_ab));
	x.encrypt = x.decrypt;
	memset(&x.decrypt, 0, sizeof(x.decrypt));
	slot_ba = kmod_add_srtp(k, &ba, &x);
	FAILIF(slot_ba < 0, "kmod_add_srtp b->a: %s", strerror(-slot_ba));
	return 0;
}

/* a sends n SRTP packets from seq0 (protected by tx); b must get each plain packet
 * byte-exact. */
static int srtp_a_to_b(struct srtpw *tx, uint16_t seq0, unsigned int n)
{
	uint8_t p[512], q[512], got[2048];
	size_t len, plen;
	ssize_t r;
	int e;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t seq = (uint16_t)(seq0 + i);

		plen = len = rtp(p, seq, KS_SSRC, seq);
		memcpy(q, p, len);
		e = srtpw_protect_rtp(tx, q, &len, sizeof(q));
		FAILIF(e, "protect seq %u: %s", seq, srtpw_strerror(e));
		FAILIF(send_to(phone_a, A_RELAY, q, len), "send");
		r = recv_one(phone_b, got, sizeof(got), 1000);
		FAILIF(r < 0, "seq %u: nothing arrived at b", seq);
		FAILIF((size_t)r != plen || memcmp(got, p, plen),
		       "seq %u: b got %zd bytes, not the plain packet (%zu)", seq, r, plen);
	}
	return 0;
}

/* b sends n plain packets from seq0; a must be able to unprotect each (rx) back to
 * the original. */
static int rtp_b_to_a(struct srtpw *rx, uint16_t seq0, unsigned int n)
{
	uint8_t p[512], got[2048];
	size_t len, glen;
	ssize_t r;
	int e;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t seq = (uint16_t)(seq0 + i);

		len = rtp(p, seq, KS_SSRC + 1, seq);
		FAILIF(send_to(phone_b, B_RELAY, p, len), "send");
		r = recv_one(phone_a, got, sizeof(got), 1000);
		FAILIF(r < 0, "seq %u: nothing arrived at a", seq);
		glen = (size_t)r;
		e = srtpw_unprotect_rtp(rx, got, &glen);
		FAILIF(e, "seq %u: a cannot unprotect what arrived (%zd bytes): %s", seq, r,
		       srtpw_strerror(e));
		FAILIF(glen != len || memcmp(got, p, len), "seq %u: unprotected differs", seq);
	}
	return 0;
}

/* Both directions for the current key: n packets each, counters exact. */
static int both_ways(uint16_t seq0, unsigned int n)
{
	struct srtpw tx = { 0 }, rx = { 0 };
	int ret;

	if (push())
		return -1;
	FAILIF(srtpw_init(&tx, &mkey, SRTPW_OUTBOUND) || srtpw_init(&rx, &mkey, SRTPW_INBOUND),
	       "srtpw_init");
	ret = srtp_a_to_b(&tx, seq0, n);
	if (!ret)
		ret = rtp_b_to_a(&rx, seq0, n);
	srtpw_free(&tx);
	srtpw_free(&rx);
	if (ret)
		return ret;
	if (st_check(slot_ab, n, 0, 0, 0, 0) || st_check(slot_ba, 0, n, 0, 0, 0))
		return -1;
	{
		struct kmod_counters c;

		FAILIF(kmod_read(k, slot_ab, &c) || c.packets != n || c.errors,
		       "a->b counters packets %llu errors %llu, want %u 0",
		       (unsigned long long)c.packets, (unsigned long long)c.errors, n);
	}
	return 0;
}

static int t_open(void)
{
	int r = kmod_open(&k, KS_ID, 64, KMOD_OPEN_FLUSH | KMOD_OPEN_EXCL);

	FAILIF(r, "kmod_open: %s", strerror(-r));
	r = sluice_nft_install(KS_ID, NULL);
	FAILIF(r, "nft install: %s", strerror(-r));
	return 0;
}

static int t_enokey(void)
{
	struct kmod_stream s = { 0 };
	int r;

	s.local = kt_ep("10.0.1.1:31010");
	s.expect_src.sa.sa_family = AF_UNSPEC;
	s.out_src = kt_ep(B_RELAY);
	s.out_dst = kt_ep(B_PHONE);
	s.flags = SLUICE_SF_SRTP;
	r = kmod_add(k, &s);
	FAILIF(r != -ENOKEY, "ADD with SLUICE_SF_SRTP and no keys: %s, want ENOKEY",
	       r < 0 ? strerror(-r) : "accepted");
	return 0;
}

static int t_cm80(void)
{
	new_master(SRTPW_AES_CM_128_HMAC_SHA1_80, 1);
	return both_ways(1000, 40);
}

static int t_cm32(void)
{
	new_master(SRTPW_AES_CM_128_HMAC_SHA1_32, 2);
	return both_ways(5, 40);
}

static int t_gcm128(void)
{
	new_master(SRTPW_AEAD_AES_128_GCM, 3);
	return both_ways(300, 40);
}

static int t_gcm256(void)
{
	new_master(SRTPW_AEAD_AES_256_GCM, 4);
	return both_ways(40000, 40);
}

/* A tampered payload byte, then a tampered tag: both dropped and counted (module and
 * entry errors); a replay of a packet already forwarded: dropped, counted. */
static int tamper_replay(enum srtpw_suite suite)
{
	struct srtpw tx = { 0 };
	uint8_t p[512], bad[512];
	size_t len;
	struct kmod_counters c;
	int ret;

	new_master(suite, 5);
	if (push())
		return -1;
	FAILIF(srtpw_init(&tx, &mkey, SRTPW_OUTBOUND), "srtpw_init");
	ret = srtp_a_to_b(&tx, 7000, 3);
	len = rtp(p, 7003, KS_SSRC, 7003);
	if (!ret)
		ret = srtpw_protect_rtp(&tx, p, &len, sizeof(p));
	srtpw_free(&tx);
	if (ret)
		return -1;
	memcpy(bad, p, len);
	bad[20] ^= 0x01;				/* payload */
	FAILIF(send_to(phone_a, A_RELAY, bad, len), "send");
	memcpy(bad, p, len);
	bad[len - 1] ^= 0x80;				/* tag */
	FAILIF(send_to(phone_a, A_RELAY, bad, len), "send");
	FAILIF(recv_one(phone_b, bad, sizeof(bad), 300) >= 0, "a tampered packet reached b");
	FAILIF(recv_one(relay_a, bad, sizeof(bad), 50) >= 0, "a tampered packet reached userspace");
	/* the genuine one still passes after them; then it again: a replay */
	FAILIF(send_to(phone_a, A_RELAY, p, len), "send");
	FAILIF(recv_one(phone_b, bad, sizeof(bad), 1000) < 0, "the genuine packet was lost");
	FAILIF(send_to(phone_a, A_RELAY, p, len), "send");
	FAILIF(recv_one(phone_b, bad, sizeof(bad), 300) >= 0, "a replayed packet reached b");
	if (st_check(slot_ab, 4, 0, 2, 1, 0))
		return -1;
	FAILIF(kmod_read(k, slot_ab, &c) || c.packets != 4 || c.errors != 3,
	       "entry counters packets %llu errors %llu, want 4 3",
	       (unsigned long long)c.packets, (unsigned long long)c.errors);
	return 0;
}

static int t_tamper_replay_cm(void)
{
	return tamper_replay(SRTPW_AES_CM_128_HMAC_SHA1_80);
}

static int t_tamper_replay_gcm(void)
{
	return tamper_replay(SRTPW_AEAD_AES_128_GCM);
}

/* Sequence numbers across 65535 -> 0 both ways: the module's ROC follows (the peers'
 * userspace contexts do the same on their side); read back: ROC 1. */
static int t_roc_wrap(void)
{
	struct sluice_srtp_state s;

	new_master(SRTPW_AES_CM_128_HMAC_SHA1_80, 6);
	if (both_ways(65530, 12))
		return -1;
	s = st_read(slot_ab);
	FAILIF(!s.decrypt.valid || s.decrypt.ssrc != KS_SSRC || s.decrypt.roc != 1 ||
	       s.decrypt.seq != 5 || s.decrypt.window[0] != 0xfff || s.decrypt.window[1],
	       "decrypt state valid %u ssrc %08x roc %u seq %u window %llx:%llx, want 1 %08x 1 5 0:fff",
	       s.decrypt.valid, s.decrypt.ssrc, s.decrypt.roc, s.decrypt.seq,
	       (unsigned long long)s.decrypt.window[1], (unsigned long long)s.decrypt.window[0],
	       KS_SSRC);
	s = st_read(slot_ba);
	FAILIF(!s.encrypt.valid || s.encrypt.roc != 1 || s.encrypt.seq != 5,
	       "encrypt state valid %u roc %u seq %u, want 1 1 5", s.encrypt.valid,
	       s.encrypt.roc, s.encrypt.seq);
	return 0;
}

/* Re-INVITE with new keys: SRTP_SET on the live slot. The old key's packets now fail,
 * the new key's pass, and the entry's counters go on. */
static int t_rekey(void)
{
	struct srtpw old = { 0 }, tx = { 0 };
	struct kmod_srtp x;
	uint8_t p[512];
	size_t len;
	int ret;

	new_master(SRTPW_AES_CM_128_HMAC_SHA1_80, 7);
	if (push())
		return -1;
	FAILIF(srtpw_init(&old, &mkey, SRTPW_OUTBOUND), "srtpw_init");
	ret = srtp_a_to_b(&old, 100, 5);
	new_master(SRTPW_AES_CM_128_HMAC_SHA1_32, 8);
	memset(&x, 0, sizeof(x));
	if (!ret && (srtpw_kernel_key(&mkey, &x.decrypt) || kmod_srtp_set(k, slot_ab, &x)))
		ret = -1;
	if (!ret && srtpw_init(&tx, &mkey, SRTPW_OUTBOUND))
		ret = -1;
	len = rtp(p, 105, KS_SSRC, 105);
	if (!ret)
		ret = srtpw_protect_rtp(&old, p, &len, sizeof(p)) ? -1 : 0;
	if (!ret) {
		send_to(phone_a, A_RELAY, p, len);
		if (recv_one(phone_b, p, sizeof(p), 300) >= 0) {
			snprintf(kt_why, sizeof(kt_why), "the old key's packet passed the rekey");
			ret = -1;
		}
	}
	if (!ret)
		ret = srtp_a_to_b(&tx, 106, 5);
	srtpw_free(&old);
	srtpw_free(&tx);
	if (ret)
		return -1;
	return st_check(slot_ab, 5, 0, 1, 0, 0);
}

/* RTCP, STUN and another SSRC are not the kernel's: they reach the relay socket
 * untouched. */
static int t_passed(void)
{
	struct srtpw tx = { 0 };
	uint8_t p[512], got[2048];
	size_t len;
	ssize_t r;

	new_master(SRTPW_AES_CM_128_HMAC_SHA1_80, 9);
	if (push())
		return -1;
	FAILIF(srtpw_init(&tx, &mkey, SRTPW_OUTBOUND), "srtpw_init");
	if (srtp_a_to_b(&tx, 1, 2)) {
		srtpw_free(&tx);
		return -1;
	}
	len = rtp(p, 3, KS_SSRC + 7, 3);		/* another SSRC */
	srtpw_protect_rtp(&tx, p, &len, sizeof(p));
	srtpw_free(&tx);
	FAILIF(send_to(phone_a, A_RELAY, p, len), "send");
	r = recv_one(relay_a, got, sizeof(got), 1000);
	FAILIF(r != (ssize_t)len || memcmp(got, p, len), "other SSRC: relay got %zd bytes", r);
	p[1] = 200;					/* an RTCP SR, as far as byte 2 goes */
	FAILIF(send_to(phone_a, A_RELAY, p, len), "send");
	r = recv_one(relay_a, got, sizeof(got), 1000);
	FAILIF(r != (ssize_t)len || memcmp(got, p, len), "RTCP: relay got %zd bytes", r);
	p[0] = 0x00;					/* STUN (ICE consent) by RFC 7983 */
	p[1] = 0x01;
	FAILIF(send_to(phone_a, A_RELAY, p, len), "send");
	r = recv_one(relay_a, got, sizeof(got), 1000);
	FAILIF(r != (ssize_t)len || memcmp(got, p, len), "STUN: relay got %zd bytes", r);
	FAILIF(recv_one(phone_b, got, sizeof(got), 100) >= 0, "b got a passed packet");
	return st_check(slot_ab, 2, 0, 0, 0, 3);
}

/* Leaving the kernel without a glitch: after DEL the state reads back, a userspace
 * context resumes from it (a replay of the last packet is refused there, the next one
 * accepted) and the slot's SRTP goes with SRTP_DEL. */
static int t_handback(void)
{
	struct srtpw tx = { 0 }, rx = { 0 };
	struct sluice_srtp_state s;
	uint8_t p[512], last[512];
	size_t len, llen;
	int e, ret = -1;

	new_master(SRTPW_AEAD_AES_128_GCM, 10);
	if (push())
		return -1;
	FAILIF(srtpw_init(&tx, &mkey, SRTPW_OUTBOUND) || srtpw_init(&rx, &mkey, SRTPW_INBOUND),
	       "srtpw_init");
	if (srtp_a_to_b(&tx, 65000, 10))
		goto out;
	llen = rtp(last, 65009, KS_SSRC, 65009);	/* what a sent last, protected again */
	{
		struct srtpw tx2 = { 0 };

		srtpw_init(&tx2, &mkey, SRTPW_OUTBOUND);
		e = srtpw_protect_rtp(&tx2, last, &llen, sizeof(last));
		srtpw_free(&tx2);
	}
	kmod_del(k, slot_ab);
	s = st_read(slot_ab);
	if (s.decrypted != 10 || !s.decrypt.valid || s.decrypt.seq != 65009) {
		snprintf(kt_why, sizeof(kt_why), "read back after DEL: dec %llu valid %u seq %u",
			 (unsigned long long)s.decrypted, s.decrypt.valid, s.decrypt.seq);
		goto out;
	}
	if (e || srtpw_kernel_resume(&rx, &s.decrypt)) {
		snprintf(kt_why, sizeof(kt_why), "resume");
		goto out;
	}
	e = srtpw_unprotect_rtp(&rx, last, &llen);
	if (e != -EALREADY) {
		snprintf(kt_why, sizeof(kt_why), "userspace took a replay of the kernel's last "
			 "packet: %s", srtpw_strerror(e));
		goto out;
	}
	len = rtp(p, 65010, KS_SSRC, 65010);
	srtpw_protect_rtp(&tx, p, &len, sizeof(p));
	e = srtpw_unprotect_rtp(&rx, p, &len);
	if (e) {
		snprintf(kt_why, sizeof(kt_why), "userspace refused the next packet: %s",
			 srtpw_strerror(e));
		goto out;
	}
	if (kmod_srtp_del(k, slot_ab) || kmod_srtp_read(k, slot_ab, &s) != -ENOENT) {
		snprintf(kt_why, sizeof(kt_why), "SRTP_DEL did not forget the slot");
		goto out;
	}
	slot_ab = -1;
	ret = 0;
out:
	srtpw_free(&tx);
	srtpw_free(&rx);
	return ret;
}

static int t_close(void)
{
	int r = sluice_nft_remove(KS_ID);

	kmod_close(k, true);
	k = NULL;
	FAILIF(r, "nft remove: %s", strerror(-r));
	return 0;
}

int ksrtp_run(void)
{
	static const struct { const char *name; int (*fn)(void); } tests[] = {
		{ "srtp_open", t_open },
		{ "srtp_add_without_keys_refused", t_enokey },
		{ "srtp_aes_cm_80_both_ways", t_cm80 },
		{ "srtp_aes_cm_32_both_ways", t_cm32 },
		{ "srtp_aead_gcm_128_both_ways", t_gcm128 },
		{ "srtp_aead_gcm_256_both_ways", t_gcm256 },
		{ "srtp_tampered_and_replayed_dropped_cm", t_tamper_replay_cm },
		{ "srtp_tampered_and_replayed_dropped_gcm", t_tamper_replay_gcm },
		{ "srtp_roc_wrap_both_ways", t_roc_wrap },
		{ "srtp_rekey_live", t_rekey },
		{ "srtp_rtcp_and_other_ssrc_to_userspace", t_passed },
		{ "srtp_handback_to_userspace", t_handback },
		{ "srtp_close", t_close },
	};
	int fails = 0;

	root_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	relay_a = sock_at(NULL, A_RELAY);
	relay_b = sock_at(NULL, B_RELAY);
	phone_a = sock_at("a", A_PHONE);
	phone_b = sock_at("b", B_PHONE);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int r;

		if (i > 0 && !k && tests[i].fn != t_close) {
			snprintf(kt_why, sizeof(kt_why), "no instance");
			r = -1;
		} else {
			drain_all();
			r = tests[i].fn();
		}
		kt_report(tests[i].name, r);
		fails += r != 0;
	}
	return fails ? 1 : 0;
}
