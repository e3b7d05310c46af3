/* sluice-ktest control-abuse: the module's control files against garbage, oversized,
 * truncated, wrong-version/cmd/len, non-zero reserved/pad, out-of-order and bit-flipped
 * messages, run in a network namespace of its own (t/kernel/guest.sh: nsenter), so the
 * test knows every instance there is.
 *
 * Every write is checked against an errno. A reference model of the checks that
 * include/sluice/kernel_abi.h documents (kmodel.c, written from that contract, not from
 * the module) predicts the result of each write and, when it is accepted, its effect on
 * the table; the scripted cases also name their errno literally, which checks the model.
 *
 * Leaks: the module allocates entries, instances and small tables with kmalloc, and
 * the counters and large tables with vmalloc. Both are counted per object, exactly:
 * vmalloc areas in /proc/vmallocinfo (their caller is a sluice function), kmalloc
 * objects in the allocation traces SLUB keeps with slub_debug=U (run-vm.sh boots with
 * it on the kmalloc caches): every live object whose allocating stack passes through
 * the module. The storm phase sends ABUSE_ALLOC_MSGS messages that reach an allocation
 * in the module and fail after it (or succeed and are undone); with the table back
 * where it started, the counts must be equal again, so even one leaked object over the
 * whole run fails. Without the traces (another kernel command line) the bytes in use
 * in the kmalloc caches are compared instead, with a tolerance (LEAK_LIMIT) far below
 * one leaked entry (192 bytes) per allocating message. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/kmod.h"
#include "../../daemon/nft.h"
#include "kmodel.h"
#include "ktest.h"

#define T_ID		KM_ID	/* the instance under test */
#define T_CAP		KM_CAP
#define NET_CTL		KMOD_PROC_DIR "/control"
#define V		SLUICE_ABI_VERSION
#define MAXMSG		KM_MAXMSG
#define BITFLIPS	6000
#define ABUSE_ALLOC_MSGS 6000
#define LEAK_LIMIT	(128u << 10)	/* bytes of kmalloc growth tolerated */

static int t_ctl = -1;		/* T_ID's control file */
static unsigned int n_writes, n_ok;
static unsigned int n_errno[256];

/* ---- writes ---- */

static int wr(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	n_writes++;
	if (n < 0) {
		n_errno[errno & 0xff]++;
		return -errno;
	}
	n_ok++;
	return (size_t)n == len ? 0 : -EMSGSIZE;	/* a short count is never right */
}

static int net_fd(void)
{
	return open(NET_CTL, O_WRONLY | O_CLOEXEC);
}

static const char *ename(int e)
{
	return e ? strerror(-e) : "accepted";
}

/* Writes to T_ID's control file: the result must be `want` (when >= -4095: also what
 * the model predicts) and the model follows an accepted message. */
static int send_inst(const void *buf, size_t len, int want, const char *what)
{
	int pred = kmodel_predict_inst(buf, len), got;

	FAILIF(pred != want, "%s (len %zu): model predicts %s, case says %s", what, len,
	       ename(pred), ename(want));
	got = wr(t_ctl, buf, len);
	FAILIF(got != want, "%s (len %zu): got %s, want %s", what, len, ename(got), ename(want));
	if (!got)
		kmodel_apply_inst(buf);
	return 0;
}

static int send_net(const void *buf, size_t len, int want, const char *what)
{
	int pred = kmodel_predict_net(buf, len), got, fd = net_fd();

	FAILIF(fd < 0, "open %s: %s", NET_CTL, strerror(errno));
	got = wr(fd, buf, len);
	close(fd);
	FAILIF(pred != want, "%s (len %zu): model predicts %s, case says %s", what, len,
	       ename(pred), ename(want));
	FAILIF(got != want, "%s (len %zu): got %s, want %s", what, len, ename(got), ename(want));
	if (!got)
		kmodel_apply_net(buf);
	return 0;
}

#define INST(buf, len, err, what) \
	do { if (send_inst((buf), (len), -(err), (what))) return -1; } while (0)
#define NET(buf, len, err, what) \
	do { if (send_net((buf), (len), -(err), (what))) return -1; } while (0)

/* ---- valid messages ---- */

static void mk_hdr(struct sluice_msg_hdr *h, uint16_t cmd, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->version = V;
	h->cmd = cmd;
	h->len = (uint16_t)len;
}

/* A stream on 127.0.0.1:port (v6: [::1]:port) to 127.0.0.1:40002. */
static struct sluice_msg_stream msg_stream(uint16_t cmd, uint32_t slot, uint16_t port, bool v6)
{
	struct sluice_msg_stream m;
	struct kmod_stream s = { 0 };

	mk_hdr(&m.hdr, cmd, sizeof(m));
	m.slot = slot;
	m.pad = 0;
	s.local = kt_ep(v6 ? "[::1]:1" : "127.0.0.1:1");
	netaddr_set_port(&s.local, port);
	s.expect_src.sa.sa_family = AF_UNSPEC;
	s.out_src = kt_ep("127.0.0.1:30002");
	s.out_dst = kt_ep("127.0.0.1:40002");
	kmod_stream_to_abi(&s, &m.stream);
	return m;
}

static struct sluice_msg_slot msg_slot(uint32_t slot)
{
	struct sluice_msg_slot m;

	mk_hdr(&m.hdr, SLUICE_CMD_DEL, sizeof(m));
	m.slot = slot;
	m.pad = 0;
	return m;
}

static struct sluice_msg_instance msg_instance(uint16_t cmd, uint32_t id, uint32_t cap)
{
	struct sluice_msg_instance m;

	mk_hdr(&m.hdr, cmd, sizeof(m));
	m.id = id;
	m.capacity = cap;
	return m;
}

/* ---- deterministic randomness (seeded: a failure names its seed and message) ---- */

static uint64_t rng = 0x5eed11abcdefull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void rnd_fill(void *p, size_t n)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)rnd();
}

/* ---- memory ---- */

struct mem {
	uint64_t kmalloc;	/* bytes in use in kmalloc-* caches */
	uint64_t slab;		/* all caches */
	unsigned int vm_areas;	/* module vmalloc areas */
	uint64_t vm_bytes;
	bool traced;		/* slub_debug=U: the two below are known */
	long mod_objs;		/* live kmalloc objects allocated through the module */
	uint64_t mod_bytes;
};

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t r = write(fd, s, strlen(s));	/* best effort */

		(void)r;
		close(fd);
	}
}

/* Frees what can be freed, so two readings compare live objects: dropped caches run the
 * shrinkers (kfree_rcu's among them), shrinking a slab cache empties its per-CPU lists. */
static void settle(void)
{
	char path[300];
	struct dirent *de;
	DIR *d;

	sync();
	write_file("/proc/sys/vm/drop_caches", "3");
	usleep(200000);		/* RCU grace periods for kfree_rcu()'d entries */
	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "kmalloc-", 8)) {
			snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", de->d_name);
			write_file(path, "1");
		}
	closedir(d);
}

#define SLAB_TRACES "/sys/kernel/debug/slab"

/* One cache's allocation traces: records "COUNT SYMBOL ..." followed by the stack, one
 * frame a line, and a blank line (no stack: the next record follows at once). A record
 * counts for the module when any of its lines names a sluice function (kzalloc inlines
 * into the module; kvcalloc's and the proc files' allocations show the module in their
 * stack). */
static void mem_traces(struct mem *m, const char *cache)
{
	char path[300], line[512];
	unsigned long size = 0, count = 0;
	bool ours = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/object_size", cache);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu", &size) != 1)
		size = 0;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), SLAB_TRACES "/%s/alloc_traces", cache);
	f = fopen(path, "r");
	if (!f)
		return;
	for (;;) {
		char *ok = fgets(line, sizeof(line), f);
		unsigned long n;
		char sym[2];
		bool head = ok && sscanf(line, "%lu %1s", &n, sym) == 2;

		if (!ok || line[0] == '\n' || head) {	/* a record ends */
			if (ours) {
				m->mod_objs += (long)count;
				m->mod_bytes += (uint64_t)count * size;
			}
			ours = false;
			count = 0;
			if (!ok)
				break;
		}
		if (head)
			count = n;
		if (strstr(line, "[sluice]"))
			ours = true;
	}
	fclose(f);
}

static int mem_read(struct mem *m)
{
	char line[512], name[128];
	unsigned long act, num, size;
	FILE *f;

	memset(m, 0, sizeof(*m));
	f = fopen("/proc/slabinfo", "r");
	FAILIF(!f, "/proc/slabinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lu %lu %lu", name, &act, &num, &size) == 4) {
			m->slab += (uint64_t)act * size;
			if (!strncmp(name, "kmalloc-", 8))
				m->kmalloc += (uint64_t)act * size;
		}
	fclose(f);
	if (access(SLAB_TRACES, F_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	{
		DIR *d = opendir(SLAB_TRACES);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, "kmalloc-", 8)) {
				char path[300];

				snprintf(path, sizeof(path), SLAB_TRACES "/%s/alloc_traces", de->d_name);
				if (!access(path, R_OK))
					m->traced = true;
				mem_traces(m, de->d_name);
			}
		if (d)
			closedir(d);
	}
	f = fopen("/proc/vmallocinfo", "r");
	FAILIF(!f, "/proc/vmallocinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long bytes;

		if (strstr(line, "[sluice]") && sscanf(line, "%*s %lu", &bytes) == 1) {
			m->vm_areas++;
			m->vm_bytes += bytes;
		}
	}
	fclose(f);
	return 0;
}

/* The module's own count of T_ID's entries (the list file's first line). */
static int list_entries(void)
{
	char path[64];
	unsigned int id, cap, n;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/list", T_ID);
	f = fopen(path, "r");
	if (!f)
		return -1;
	r = fscanf(f, "instance %u capacity %u entries %u", &id, &cap, &n);
	fclose(f);
	return r == 3 ? (int)n : -1;
}

static int check_entries(const char *when)
{
	int n = list_entries();

	FAILIF(n != (int)kmodel.entries, "%s: module lists %d entries, model %u", when, n,
	       kmodel.entries);
	return 0;
}

/* ---- scripted cases ---- */

static struct mem mem0;

static int setup(void)
{
	struct sluice_msg_instance c = msg_instance(SLUICE_CMD_INSTANCE_CREATE, T_ID, T_CAP);
	char path[64];
	DIR *d;
	struct dirent *de;

	d = opendir(KMOD_PROC_DIR);
	FAILIF(!d, "%s: %s", KMOD_PROC_DIR, strerror(errno));
	while ((de = readdir(d)))
		FAILIF(de->d_name[0] >= '0' && de->d_name[0] <= '9',
		       "instance %s exists in a fresh namespace", de->d_name);
	closedir(d);
	NET(&c, sizeof(c), 0, "create the instance under test");
	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/control", T_ID);
	t_ctl = open(path, O_WRONLY | O_CLOEXEC);
	FAILIF(t_ctl < 0, "open %s: %s", path, strerror(errno));
	if (check_entries("fresh"))
		return -1;
	settle();
	return mem_read(&mem0);	/* with the instance under test, empty */
}

/* Each valid message, for the loops below. */
struct sample {
	const char *name;
	bool net;
	size_t len;
	union {
		struct sluice_msg_hdr h;
		struct sluice_msg_stream s;
		struct sluice_msg_slot d;
		struct sluice_msg_instance i;
		struct sluice_msg_token t;
		unsigned char b[MAXMSG];
	} u;
};

static size_t samples(struct sample *out)
{
	size_t n = 0;

	out[n] = (struct sample){ "ADD", false, sizeof(struct sluice_msg_stream) };
	out[n++].u.s = msg_stream(SLUICE_CMD_ADD, 5, 20000, false);
	out[n] = (struct sample){ "UPDATE", false, sizeof(struct sluice_msg_stream) };
	out[n++].u.s = msg_stream(SLUICE_CMD_UPDATE, 5, 20000, true);
	out[n] = (struct sample){ "DEL", false, sizeof(struct sluice_msg_slot) };
	out[n++].u.d = msg_slot(5);
	out[n] = (struct sample){ "FLUSH", false, sizeof(struct sluice_msg_hdr) };
	mk_hdr(&out[n++].u.h, SLUICE_CMD_FLUSH, sizeof(struct sluice_msg_hdr));
	out[n] = (struct sample){ "SET_TOKEN", false, sizeof(struct sluice_msg_token) };
	mk_hdr(&out[n].u.h, SLUICE_CMD_SET_TOKEN, sizeof(struct sluice_msg_token));
	out[n++].u.t.token = 0x5eed5eed5eed5eedull;
	out[n] = (struct sample){ "CREATE", true, sizeof(struct sluice_msg_instance) };
	out[n++].u.i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 16);
	out[n] = (struct sample){ "DESTROY", true, sizeof(struct sluice_msg_instance) };
	out[n++].u.i = msg_instance(SLUICE_CMD_INSTANCE_DESTROY, 9, 0);
	return n;
}

static int send_sample(const struct sample *s, const void *buf, size_t len, int err,
		       const char *what)
{
	char w[160];

	snprintf(w, sizeof(w), "%s: %s", s->name, what);
	return s->net ? send_net(buf, len, -err, w) : send_inst(buf, len, -err, w);
}

#define SAMPLE(s, buf, len, err, what) \
	do { if (send_sample((s), (buf), (len), (err), (what))) return -1; } while (0)

/* Garbage, sizes, truncation, extension, versions, commands, lengths. */
static int t_shapes(void)
{
	static unsigned char big[65536 + 16];
	static const size_t sizes[] = { 0, 1, 8, 15, 16, 17, 23, 24, 25, 100, 135, 136, 137,
					256, 4096, 65535, 65536 };
	static const uint32_t versions[] = { 0, V - 1, V + 1, V | 0x100, V << 24, 0xffffffffu };
	static const uint16_t cmds[] = { 0, 0x40, 8, SLUICE_CMD_ADD | 0x100, 0x7fff, 0xffff };
	struct sample smp[8];
	size_t ns = samples(smp);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		bool fits = len >= 16 && len <= MAXMSG;
		struct sluice_msg_hdr h;

		rnd_fill(big, len);
		memcpy(&h, big, sizeof(h));
		if (h.version == V)
			big[0] ^= 0x80;
		INST(big, len, fits ? EPROTO : EINVAL, "random bytes");
		NET(big, len, fits ? EPROTO : EINVAL, "random bytes");
		/* a well-formed header on an oversized body */
		mk_hdr(&h, SLUICE_CMD_ADD, len);
		memcpy(big, &h, sizeof(h));
		if (len > MAXMSG) {
			INST(big, len, EINVAL, "oversized with a header");
			memset(big, 0, len);
			NET(big, len, EINVAL, "oversized zeros");
		}
	}
	for (size_t k = 0; k < ns; k++) {
		struct sample *s = &smp[k];
		unsigned char m[2 * MAXMSG];

		/* every prefix: as cut (header says the full length) and re-labelled */
		for (size_t p = 0; p < s->len; p++) {
			memcpy(m, s->u.b, s->len);
			SAMPLE(s, m, p, EINVAL, "truncated");
			if (p >= offsetof(struct sluice_msg_hdr, reserved)) {
				((struct sluice_msg_hdr *)m)->len = (uint16_t)p;
				SAMPLE(s, m, p, EINVAL, "truncated, header length adjusted");
			}
		}
		/* trailing bytes, and two messages in one write */
		for (size_t x = 1; x <= 8; x++) {
			memset(m, 0, sizeof(m));
			memcpy(m, s->u.b, s->len);
			SAMPLE(s, m, s->len + x, EINVAL, "trailing bytes");
			((struct sluice_msg_hdr *)m)->len = (uint16_t)(s->len + x);
			SAMPLE(s, m, s->len + x, EINVAL, "trailing bytes, header length adjusted");
		}
		memcpy(m, s->u.b, s->len);
		memcpy(m + s->len, s->u.b, s->len);
		SAMPLE(s, m, 2 * s->len, EINVAL, "two messages in one write");
		for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
			memcpy(m, s->u.b, s->len);
			((struct sluice_msg_hdr *)m)->version = versions[v];
			SAMPLE(s, m, s->len, EPROTO, "wrong version");
		}
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			memcpy(m, s->u.b, s->len);
			((struct sluice_msg_hdr *)m)->cmd = cmds[c];
			SAMPLE(s, m, s->len, EOPNOTSUPP, "unknown cmd");
		}
		static const int dl[] = { -1, 1, 2 };
		for (size_t j = 0; j < 3; j++) {
			memcpy(m, s->u.b, s->len);
			((struct sluice_msg_hdr *)m)->len = (uint16_t)(s->len + dl[j]);
			SAMPLE(s, m, s->len, EINVAL, "header length != write length");
		}
		memcpy(m, s->u.b, s->len);
		((struct sluice_msg_hdr *)m)->len = 0;
		SAMPLE(s, m, s->len, EINVAL, "header length 0");
		((struct sluice_msg_hdr *)m)->len = 0xffff;
		SAMPLE(s, m, s->len, EINVAL, "header length 65535");
	}
	/* commands of the other file, with the other file's length */
	{
		struct sluice_msg_instance i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 16);
		struct sluice_msg_stream a = msg_stream(SLUICE_CMD_ADD, 1, 20000, false);
		struct sluice_msg_slot d = msg_slot(1);
		struct sluice_msg_hdr f;

		INST(&i, sizeof(i), EOPNOTSUPP, "CREATE on an instance file");
		i.hdr.cmd = SLUICE_CMD_INSTANCE_DESTROY;
		i.capacity = 0;
		INST(&i, sizeof(i), EOPNOTSUPP, "DESTROY on an instance file");
		NET(&a, sizeof(a), EOPNOTSUPP, "ADD on the namespace file");
		a.hdr.cmd = SLUICE_CMD_UPDATE;
		NET(&a, sizeof(a), EOPNOTSUPP, "UPDATE on the namespace file");
		NET(&d, sizeof(d), EOPNOTSUPP, "DEL on the namespace file");
		mk_hdr(&f, SLUICE_CMD_FLUSH, sizeof(f));
		NET(&f, sizeof(f), EOPNOTSUPP, "FLUSH on the namespace file");
	}
	return check_entries("after shapes");
}

/* Every must-be-zero byte, and every bad field value, of every message. */
static int t_fields(void)
{
	struct pad { const char *what; size_t off, len; };
	static const struct pad hdr_pads[] = {
		{ "hdr.reserved", offsetof(struct sluice_msg_hdr, reserved), 4 },
		{ "hdr.pad", offsetof(struct sluice_msg_hdr, pad), 4 },
	};
#define SP(f, n) { #f, offsetof(struct sluice_msg_stream, f), n }
	static const struct pad stream_pads[] = {
		SP(pad, 4), SP(stream.pad, 3),
		/* without SLUICE_SF_QUALITY (m0 has none): no clock, no jitter */
		SP(stream.clock_rate, 4), SP(stream.jitter16, 4),
		SP(stream.local.pad0, 1), SP(stream.local.pad1, 4),
		SP(stream.expect_src.pad0, 1), SP(stream.expect_src.pad1, 4),
		SP(stream.out_src.pad0, 1), SP(stream.out_src.pad1, 4),
		SP(stream.out_dst.pad0, 1), SP(stream.out_dst.pad1, 4),
		/* an IPv4 address uses 4 of its 16 bytes */
		{ "local.addr[4..15]", offsetof(struct sluice_msg_stream, stream.local.addr) + 4, 12 },
		{ "out_dst.addr[4..15]", offsetof(struct sluice_msg_stream, stream.out_dst.addr) + 4, 12 },
		/* "any source" is all zero */
		{ "expect_src(none).port", offsetof(struct sluice_msg_stream, stream.expect_src.port), 2 },
		{ "expect_src(none).addr", offsetof(struct sluice_msg_stream, stream.expect_src.addr), 16 },
	};
#undef SP
	struct sluice_msg_stream m0 = msg_stream(SLUICE_CMD_ADD, 5, 20000, false), m;
	struct sluice_msg_slot d0 = msg_slot(5), d;
	struct sluice_msg_instance i;
	char w[96];

	for (int cmd = SLUICE_CMD_ADD; cmd <= SLUICE_CMD_UPDATE; cmd++)
		for (size_t p = 0; p < sizeof(stream_pads) / sizeof(stream_pads[0]); p++)
			for (size_t b = 0; b < stream_pads[p].len; b++) {
				m = m0;
				m.hdr.cmd = (uint16_t)cmd;
				((unsigned char *)&m)[stream_pads[p].off + b] = b & 1 ? 0x80 : 1;
				snprintf(w, sizeof(w), "cmd %d: %s byte %zu", cmd, stream_pads[p].what, b);
				INST(&m, sizeof(m), EINVAL, w);
			}
	for (size_t p = 0; p < 2; p++)
		for (size_t b = 0; b < 4; b++) {
			struct sluice_msg_hdr f;
			struct sluice_msg_instance c = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 16);

			m = m0;
			d = d0;
			mk_hdr(&f, SLUICE_CMD_FLUSH, sizeof(f));
			((unsigned char *)&m)[hdr_pads[p].off + b] = 1;
			((unsigned char *)&d)[hdr_pads[p].off + b] = 1;
			((unsigned char *)&f)[hdr_pads[p].off + b] = 1;
			((unsigned char *)&c)[hdr_pads[p].off + b] = 1;
			INST(&m, sizeof(m), EINVAL, hdr_pads[p].what);
			INST(&d, sizeof(d), EINVAL, hdr_pads[p].what);
			INST(&f, sizeof(f), EINVAL, hdr_pads[p].what);
			NET(&c, sizeof(c), EINVAL, hdr_pads[p].what);
		}
	for (size_t b = 0; b < 4; b++) {
		d = d0;
		((unsigned char *)&d.pad)[b] = 1;
		INST(&d, sizeof(d), EINVAL, "DEL pad");
		i = msg_instance(SLUICE_CMD_INSTANCE_DESTROY, 9, 0);
		((unsigned char *)&i.capacity)[b] = 1;
		NET(&i, sizeof(i), EINVAL, "DESTROY with a capacity");
	}
	/* bad values */
	static const uint8_t fams[] = { 0, 1, 2, 5, 10, 0x84, 0xff };
	for (size_t f = 0; f < sizeof(fams); f++) {
		m = m0;
		m.stream.local.family = fams[f];
		INST(&m, sizeof(m), EINVAL, "local family");
		m = m0;
		m.stream.out_src.family = fams[f];
		INST(&m, sizeof(m), EINVAL, "out_src family");
	}
	for (unsigned int bit = 3; bit < 32; bit++) {
		if (SLUICE_SF_ALL & (1u << bit))
			continue;
		m = m0;
		m.stream.flags = SLUICE_SF_ALL | (1u << bit);
		INST(&m, sizeof(m), EINVAL, "unknown flag");
	}
	m = m0;
	m.stream.local.port = 0;
	INST(&m, sizeof(m), EINVAL, "local port 0");
	m = m0;
	m.stream.out_dst.port = 0;
	INST(&m, sizeof(m), EINVAL, "out_dst port 0");
	m = m0;
	memset(m.stream.out_src.addr, 0, 4);
	INST(&m, sizeof(m), EINVAL, "out_src 0.0.0.0");
	m = msg_stream(SLUICE_CMD_ADD, 5, 20000, true);
	memset(m.stream.local.addr, 0, 16);
	INST(&m, sizeof(m), EINVAL, "local ::");
	m = m0;
	m.stream.expect_src = m.stream.out_dst;
	m.stream.expect_src.family = SLUICE_FAMILY_INET6;
	INST(&m, sizeof(m), EINVAL, "expect_src family != local family");
	m = m0;
	m.stream.out_dst.family = SLUICE_FAMILY_INET6;
	INST(&m, sizeof(m), EINVAL, "out_src/out_dst families differ");
	m = m0;
	m.stream.expect_src.port = htons(5);
	INST(&m, sizeof(m), EINVAL, "expect_src none with a port");
	/* the quality's clock and jitter seed */
	m = m0;
	m.stream.flags = SLUICE_SF_QUALITY;
	m.stream.jitter16 = 1;
	INST(&m, sizeof(m), EINVAL, "jitter16 without a clock");
	static const uint32_t clocks[] = { SLUICE_MAX_CLOCK_RATE + 1, 0x80000000u, 0xffffffffu };
	for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
		m.stream.clock_rate = clocks[c];
		m.stream.jitter16 = 0;
		INST(&m, sizeof(m), EINVAL, "clock_rate > SLUICE_MAX_CLOCK_RATE");
	}
	return check_entries("after fields");
}

/* Messages in an order the table does not allow. */
static int t_order(void)
{
	struct sluice_msg_stream a3 = msg_stream(SLUICE_CMD_ADD, 3, 20000, false);
	struct sluice_msg_stream a4 = msg_stream(SLUICE_CMD_ADD, 4, 20002, false), m;
	struct sluice_msg_slot d;
	struct sluice_msg_instance i;
	struct sluice_msg_hdr f;
	static const uint32_t out_of_range[] = { T_CAP, T_CAP + 1, 1u << 31, 0xffffffffu };

	m = a3;
	m.hdr.cmd = SLUICE_CMD_UPDATE;
	INST(&m, sizeof(m), ENOENT, "UPDATE of a slot never added");
	d = msg_slot(3);
	INST(&d, sizeof(d), ENOENT, "DEL of a slot never added");
	INST(&a3, sizeof(a3), 0, "ADD");
	INST(&a3, sizeof(a3), EBUSY, "ADD to the same slot");
	m = a3;
	m.slot = 4;
	INST(&m, sizeof(m), EEXIST, "ADD of a local another slot holds");
	INST(&a4, sizeof(a4), 0, "ADD slot 4");
	m = a3;
	m.hdr.cmd = SLUICE_CMD_UPDATE;
	m.slot = 4;
	INST(&m, sizeof(m), EEXIST, "UPDATE to a local another slot holds");
	m = a4;
	m.hdr.cmd = SLUICE_CMD_UPDATE;
	m.stream.flags = SLUICE_SF_MISMATCH_PASS;
	INST(&m, sizeof(m), 0, "UPDATE in place");
	INST(&d, sizeof(d), 0, "DEL");
	INST(&d, sizeof(d), ENOENT, "DEL twice");
	m = a3;
	m.hdr.cmd = SLUICE_CMD_UPDATE;
	INST(&m, sizeof(m), ENOENT, "UPDATE after DEL");
	for (size_t k = 0; k < 4; k++) {
		m = a3;
		m.slot = out_of_range[k];
		INST(&m, sizeof(m), ERANGE, "ADD to a slot out of range");
		m.hdr.cmd = SLUICE_CMD_UPDATE;
		INST(&m, sizeof(m), ERANGE, "UPDATE of a slot out of range");
		d = msg_slot(out_of_range[k]);
		INST(&d, sizeof(d), ERANGE, "DEL of a slot out of range");
	}
	mk_hdr(&f, SLUICE_CMD_FLUSH, sizeof(f));
	INST(&f, sizeof(f), 0, "FLUSH");
	INST(&f, sizeof(f), 0, "FLUSH of an empty table");
	if (check_entries("after flush"))
		return -1;
	i = msg_instance(SLUICE_CMD_INSTANCE_DESTROY, 9, 0);
	NET(&i, sizeof(i), ENOENT, "DESTROY of a missing instance");
	i.id = SLUICE_MAX_INSTANCES;
	NET(&i, sizeof(i), ERANGE, "DESTROY id 256");
	i.id = 0xffffffffu;
	NET(&i, sizeof(i), ERANGE, "DESTROY id 2^32-1");
	i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, SLUICE_MAX_INSTANCES, 16);
	NET(&i, sizeof(i), ERANGE, "CREATE id 256");
	i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 0);
	NET(&i, sizeof(i), ERANGE, "CREATE capacity 0");
	i.capacity = SLUICE_MAX_CAPACITY + 1;
	NET(&i, sizeof(i), ERANGE, "CREATE capacity max+1");
	i.capacity = 0xffffffffu;
	NET(&i, sizeof(i), ERANGE, "CREATE capacity 2^32-1");
	i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, T_ID, 16);
	NET(&i, sizeof(i), EEXIST, "CREATE of an existing instance");
	return 0;
}

/* An instance's files after DESTROY: open descriptors fail with EIO, paths are gone. */
static int t_after_destroy(void)
{
	struct sluice_msg_instance c = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 4);
	struct sluice_msg_instance x = msg_instance(SLUICE_CMD_INSTANCE_DESTROY, 9, 0);
	struct sluice_msg_stream a = msg_stream(SLUICE_CMD_ADD, 1, 20000, false);
	struct sluice_msg_slot d = msg_slot(1);
	struct sluice_msg_hdr f;
	static unsigned char big[65536];
	int ctl, st, r;
	void *p;

	NET(&c, sizeof(c), 0, "CREATE 9");
	ctl = open(KMOD_PROC_DIR "/9/control", O_WRONLY | O_CLOEXEC);
	st = open(KMOD_PROC_DIR "/9/stats", O_RDONLY | O_CLOEXEC);
	FAILIF(ctl < 0 || st < 0, "open instance 9 files: %s", strerror(errno));
	FAILIF((r = wr(ctl, &a, sizeof(a))), "ADD on 9: %s", ename(r));
	NET(&x, sizeof(x), 0, "DESTROY 9 with an entry and open files");
	mk_hdr(&f, SLUICE_CMD_FLUSH, sizeof(f));
	FAILIF((r = wr(ctl, &a, sizeof(a))) != -EIO, "ADD after destroy: %s", ename(r));
	FAILIF((r = wr(ctl, &d, sizeof(d))) != -EIO, "DEL after destroy: %s", ename(r));
	FAILIF((r = wr(ctl, &f, sizeof(f))) != -EIO, "FLUSH after destroy: %s", ename(r));
	FAILIF((r = wr(ctl, big, sizeof(big))) != -EIO, "64 KiB after destroy: %s", ename(r));
	FAILIF((r = wr(ctl, big, 0)) != -EIO, "empty write after destroy: %s", ename(r));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, st, 0);
	FAILIF(p != MAP_FAILED, "stats mmap after destroy succeeded");
	FAILIF(errno != EIO, "stats mmap after destroy: %s, want EIO", strerror(errno));
	close(ctl);
	close(st);
	FAILIF(open(KMOD_PROC_DIR "/9/control", O_WRONLY) >= 0 || errno != ENOENT,
	       "control of a destroyed instance: %s, want ENOENT", strerror(errno));
	NET(&x, sizeof(x), ENOENT, "DESTROY twice");
	NET(&c, sizeof(c), 0, "CREATE 9 again");
	ctl = open(KMOD_PROC_DIR "/9/control", O_WRONLY | O_CLOEXEC);
	FAILIF(ctl < 0, "reopen 9: %s", strerror(errno));
	FAILIF((r = wr(ctl, &d, sizeof(d))) != -ENOENT, "recreated 9 kept its entry: DEL %s",
	       ename(r));
	close(ctl);
	NET(&x, sizeof(x), 0, "DESTROY 9");
	return 0;
}

/* Buffers the module cannot read, writev(), and files that take no writes. */
static int t_faults(void)
{
	struct sluice_msg_slot d = msg_slot(1);
	struct sluice_msg_stream a = msg_stream(SLUICE_CMD_ADD, 1, 20000, false);
	struct iovec iov[2] = { { &a, 40 }, { (char *)&a + 40, sizeof(a) - 40 } };
	long pg = sysconf(_SC_PAGESIZE);
	char *two, path[64];
	int r, fd;

	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FAILIF(two == MAP_FAILED, "mmap");
	memcpy(two + pg - 12, &d, 12);
	munmap(two + pg, pg);
	FAILIF((r = wr(t_ctl, two + pg - 12, sizeof(d))) != -EFAULT,
	       "message across an unmapped page: %s, want EFAULT", ename(r));
	FAILIF((r = wr(t_ctl, (void *)8, sizeof(a))) != -EFAULT,
	       "unmapped buffer: %s, want EFAULT", ename(r));
	fd = net_fd();
	FAILIF((r = wr(fd, (void *)8, sizeof(struct sluice_msg_instance))) != -EFAULT,
	       "unmapped buffer on the namespace file: %s", ename(r));
	close(fd);
	munmap(two, pg);
	/* one message per write() call: writev() of two halves is two writes */
	r = (int)writev(t_ctl, iov, 2);
	FAILIF(r != -1 || errno != EINVAL, "ADD split over two iovecs: %d %s, want EINVAL", r,
	       strerror(errno));
	if (check_entries("after faults"))
		return -1;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/%s", T_ID, k ? "list" : "stats");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		FAILIF(fd < 0, "open %s for writing: %s", path, strerror(errno));
		r = wr(fd, &d, sizeof(d));
		close(fd);
		FAILIF(r != -EIO, "write to %s: %s, want EIO", path, ename(r));
	}
	return 0;
}

/* A caller without CAP_NET_ADMIN, and an unprivileged user in user+net namespaces of
 * its own: exit status 0 when refused as expected, else a number naming the check. */
static int child_noadmin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];
	struct sluice_msg_slot d = msg_slot(1);
	struct sluice_msg_instance i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 9, 4);
	char path[64];
	int fd;

	if (syscall(SYS_capget, &h, c))
		return 10;
	c[0].effective &= ~(1u << CAP_NET_ADMIN);
	if (syscall(SYS_capset, &h, c))
		return 11;
	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/control", T_ID);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return 12;
	if (write(fd, &d, sizeof(d)) != -1 || errno != EPERM)
		return 13;
	if (write(fd, "garbage", 7) != -1 || errno != EPERM)
		return 14;
	close(fd);
	fd = open(NET_CTL, O_WRONLY);
	if (fd < 0)
		return 15;
	if (write(fd, &i, sizeof(i)) != -1 || errno != EPERM)
		return 16;
	return 0;
}

static int write_map(const char *file, const char *map)
{
	int fd = open(file, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, map, strlen(map));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(map) ? 0 : -1;
}

static int child_userns(void)
{
	struct sluice_msg_instance i = msg_instance(SLUICE_CMD_INSTANCE_CREATE, 1,
						   SLUICE_MAX_CAPACITY);
	int fd;

	/* the kernel refuses user namespaces to chrooted callers, and the test runs
	 * chrooted into the host root: step out to the guest's own root first */
	if (chdir("/proc/1/root") || chroot(".") || chdir("/"))
		return 19;
	if (setgid(65534) || setuid(65534))
		return 20;
	prctl(PR_SET_DUMPABLE, 1);	/* else /proc/self stays root's after setuid */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return 21;
	if (write_map("/proc/self/setgroups", "deny"))
		return 22;
	if (write_map("/proc/self/uid_map", "0 65534 1"))
		return 23;
	if (write_map("/proc/self/gid_map", "0 65534 1"))
		return 24;
	/* now root of its own user namespace, with CAP_NET_ADMIN over its own netns;
	 * its /proc/net/sluice files belong to it (they inherit the netns owner) */
	fd = open(NET_CTL, O_WRONLY);
	if (fd < 0) {
		printf("userns: open %s: %s\n", NET_CTL, strerror(errno));
		return errno == EACCES ? 0 : 25;
	}
	if (write(fd, &i, sizeof(i)) == (ssize_t)sizeof(i)) {
		printf("userns: CREATE of %u slots accepted\n", i.capacity);
		return 26;	/* any local user could allocate kernel memory */
	}
	printf("userns: CREATE refused: %s\n", strerror(errno));
	return errno == EPERM ? 0 : 27;
}

static int in_child(int (*fn)(void), const char *what)
{
	int st = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = fn();

		fflush(stdout);
		_exit(r);
	}
	FAILIF(pid < 0 || waitpid(pid, &st, 0) != pid, "fork/wait");
	FAILIF(!WIFEXITED(st) || WEXITSTATUS(st), "%s: check %d failed (see kabuse.c)", what,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int t_privilege(void)
{
	if (in_child(child_noadmin, "without CAP_NET_ADMIN"))
		return -1;
	return in_child(child_userns, "unprivileged user in its own user+net namespace");
}

static int t_scripted(void)
{
	if (t_shapes() || t_fields() || t_order() || t_after_destroy() || t_faults() ||
	    t_privilege())
		return -1;
	return check_entries("after the scripted cases");
}

/* ---- bit flips ---- */

/* A valid message of a random kind on a small set of slots and ports, so that the
 * table's own refusals (EBUSY, EEXIST, ENOENT) come up as often as format errors. */
static size_t random_valid(unsigned char *buf, bool *net)
{
	uint32_t k = rnd() % 100, slot = rnd() % T_CAP;
	uint16_t port = (uint16_t)(20000 + 2 * (rnd() % 12));
	struct sluice_msg_stream s;
	struct sluice_msg_slot d;
	struct sluice_msg_instance i;

	*net = false;
	if (k < 35 || k >= 90) {
		s = msg_stream(k < 35 ? SLUICE_CMD_ADD : SLUICE_CMD_UPDATE, slot, port, rnd() & 1);
		if (rnd() & 1)
			s.stream.flags = rnd() & SLUICE_SF_ALL;
		if (s.stream.flags & SLUICE_SF_QUALITY) {	/* a measured stream */
			s.stream.clock_rate = rnd() & 1 ? 8000 : 48000;
			s.stream.jitter16 = rnd() % 3 ? 0 : rnd();
		}
		memcpy(buf, &s, sizeof(s));
		return sizeof(s);
	}
	if (k < 60) {
		d = msg_slot(slot);
		memcpy(buf, &d, sizeof(d));
		return sizeof(d);
	}
	if (k < 62) {
		mk_hdr((struct sluice_msg_hdr *)buf, SLUICE_CMD_FLUSH, sizeof(struct sluice_msg_hdr));
		return sizeof(struct sluice_msg_hdr);
	}
	*net = true;
	i = k < 76 ? msg_instance(SLUICE_CMD_INSTANCE_CREATE, 100 + rnd() % 8, 1 + rnd() % 64)
		   : msg_instance(SLUICE_CMD_INSTANCE_DESTROY, 100 + rnd() % 8, 0);
	memcpy(buf, &i, sizeof(i));
	return sizeof(i);
}

static int t_bitflips(void)
{
	unsigned char m[MAXMSG + 8];
	unsigned int accepted = 0;
	int net = net_fd();

	FAILIF(net < 0, "open %s: %s", NET_CTL, strerror(errno));
	for (unsigned int n = 0; n < BITFLIPS; n++) {
		bool to_net;
		size_t len;
		int pred, got;

		memset(m, 0, sizeof(m));
		len = random_valid(m, &to_net);
		for (uint32_t f = 1 + rnd() % 3; f; f--) {
			size_t bit = rnd() % (len * 8);

			m[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		}
		if (rnd() % 10 == 0) {	/* and the length, sometimes */
			len = rnd() & 1 ? len - 1 - rnd() % 8 : len + 1 + rnd() % 8;
			if (rnd() & 1)
				((struct sluice_msg_hdr *)m)->len = (uint16_t)len;
		}
		if (rnd() % 10 == 0)	/* and sometimes to the other file */
			to_net = !to_net;
		pred = to_net ? kmodel_predict_net(m, len) : kmodel_predict_inst(m, len);
		if (to_net && !pred && ((struct sluice_msg_instance *)m)->id == T_ID)
			continue;	/* would destroy the instance under test */
		got = wr(to_net ? net : t_ctl, m, len);
		FAILIF(got != pred, "message %u (seed %#llx): %s on %s, model %s; "
		       "bytes %02x%02x%02x%02x %02x%02x%02x%02x", n, 0x5eed11abcdefull,
		       ename(got), to_net ? "namespace file" : "instance file", ename(pred),
		       m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
		if (got)
			continue;
		accepted++;
		if (!to_net) {
			kmodel_apply_inst(m);
			continue;
		}
		kmodel_apply_net(m);
		if (((struct sluice_msg_instance *)m)->hdr.cmd == SLUICE_CMD_INSTANCE_CREATE) {
			struct sluice_msg_instance x = msg_instance(SLUICE_CMD_INSTANCE_DESTROY,
								   ((struct sluice_msg_instance *)m)->id, 0);

			got = wr(net, &x, sizeof(x));
			FAILIF(got, "DESTROY of instance %u made by message %u: %s", x.id, n, ename(got));
			kmodel_apply_net(&x);
		}
	}
	close(net);
	printf("bitflips: %u messages, %u accepted, table holds %u\n", BITFLIPS, accepted,
	       kmodel.entries);
	return check_entries("after bit flips");
}

/* ---- the allocation storm and the leak check ---- */

/* Messages that reach an allocation in the module: refused after it (EBUSY, EEXIST,
 * ENOENT of ADD/UPDATE; EEXIST of CREATE, which allocates a whole instance first: with
 * 1000 slots its two tables are 8 KiB kmallocs, inside the measured caches, and its
 * counters a 128 KiB vmalloc), or accepted and undone (ADD + DEL, UPDATE: freed after an
 * RCU grace period). */
static int t_storm(unsigned int *alloc_msgs)
{
	struct sluice_msg_stream a = msg_stream(SLUICE_CMD_ADD, 0, 21000, false), m;
	struct sluice_msg_slot d;
	struct sluice_msg_instance c = msg_instance(SLUICE_CMD_INSTANCE_CREATE, T_ID, 1000);
	struct sluice_msg_hdr f;
	unsigned int n = 0;

	mk_hdr(&f, SLUICE_CMD_FLUSH, sizeof(f));
	INST(&f, sizeof(f), 0, "FLUSH");
	INST(&a, sizeof(a), 0, "ADD slot 0");
	for (unsigned int it = 0; n < ABUSE_ALLOC_MSGS; it++) {
		INST(&a, sizeof(a), EBUSY, "ADD to an occupied slot");
		m = a;
		m.slot = 1 + n % (T_CAP - 1);
		INST(&m, sizeof(m), EEXIST, "ADD of a local in use");
		m.hdr.cmd = SLUICE_CMD_UPDATE;
		INST(&m, sizeof(m), ENOENT, "UPDATE of an empty slot");
		m = msg_stream(SLUICE_CMD_ADD, 1 + n % (T_CAP - 1), 22000, n & 1);
		INST(&m, sizeof(m), 0, "ADD");
		m.hdr.cmd = SLUICE_CMD_UPDATE;
		m.stream.flags = SLUICE_SF_SET_TOS;
		INST(&m, sizeof(m), 0, "UPDATE");
		m.stream.local = a.stream.local;
		INST(&m, sizeof(m), EEXIST, "UPDATE to a local in use");
		d = msg_slot(m.slot);
		INST(&d, sizeof(d), 0, "DEL");
		n += 7;
		if (it % 10 == 9) {
			NET(&c, sizeof(c), EEXIST, "CREATE of an existing instance (1000 slots)");
			n++;
		}
	}
	INST(&f, sizeof(f), 0, "FLUSH");
	*alloc_msgs = n;
	return check_entries("after the storm");
}

static bool mem_back(const struct mem *m1)
{
	if (m1->vm_areas != mem0.vm_areas)
		return false;
	if (m1->traced)
		return m1->mod_objs == mem0.mod_objs;
	return (int64_t)m1->kmalloc - (int64_t)mem0.kmalloc < (int64_t)LEAK_LIMIT;
}

static int t_no_leak(unsigned int alloc_msgs)
{
	struct mem m1;

	/* back to where mem0 was taken: the instance under test, empty; entries freed by
	 * kfree_rcu() go once their grace period and batch are over */
	for (int tries = 0; tries < 8; tries++) {
		settle();
		if (mem_read(&m1))
			return -1;
		if (mem_back(&m1))
			break;
	}
	printf("memory: module kmalloc objects %ld -> %ld (%llu -> %llu bytes)%s; module vmalloc "
	       "areas %u -> %u (%llu -> %llu bytes); kmalloc caches %+lld bytes, all slab %+lld "
	       "(one leaked entry per allocating message would be +%u)\n",
	       mem0.mod_objs, m1.mod_objs, (unsigned long long)mem0.mod_bytes,
	       (unsigned long long)m1.mod_bytes, m1.traced ? "" : " (no slub_debug=U traces)",
	       mem0.vm_areas, m1.vm_areas, (unsigned long long)mem0.vm_bytes,
	       (unsigned long long)m1.vm_bytes, (long long)m1.kmalloc - (long long)mem0.kmalloc,
	       (long long)m1.slab - (long long)mem0.slab, alloc_msgs * 192);
	FAILIF(m1.vm_areas != mem0.vm_areas, "module vmalloc areas %u, were %u", m1.vm_areas,
	       mem0.vm_areas);
	FAILIF(m1.traced && !mem0.mod_objs, "no module kmalloc object traced: the trace parser "
	       "is broken (the instance under test has some)");
	FAILIF(m1.traced && m1.mod_objs != mem0.mod_objs, "module kmalloc objects %ld, were %ld "
	       "(+%lld bytes) after %u writes, %u reaching an allocation", m1.mod_objs,
	       mem0.mod_objs, (long long)(m1.mod_bytes - mem0.mod_bytes), n_writes, alloc_msgs);
	FAILIF(!m1.traced && !mem_back(&m1), "kmalloc caches grew by %lld bytes over %u writes "
	       "(%u reaching an allocation)", (long long)m1.kmalloc - (long long)mem0.kmalloc,
	       n_writes, alloc_msgs);
	return 0;
}

/* ---- and afterwards the instance still works ---- */

static int t_works(void)
{
	struct sluice_msg_stream a = msg_stream(SLUICE_CMD_ADD, 0, 30000, false);
	union sockaddr_u to = kt_ep("127.0.0.1:30000"), b = kt_ep("127.0.0.1:40002"), from;
	int tx, rx, r, got = 0;
	struct kmod *k;
	struct kmod_counters c;
	char buf[64];

	r = sluice_nft_install(T_ID, NULL);
	FAILIF(r, "nft install: %s", strerror(-r));
	INST(&a, sizeof(a), 0, "ADD after the abuse");
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FAILIF(tx < 0 || rx < 0 || bind(rx, &b.sa, netaddr_len(&b)), "sockets: %s", strerror(errno));
	for (int i = 0; i < 10; i++)
		sendto(tx, "sluice-abuse", 12, 0, &to.sa, netaddr_len(&to));
	for (;;) {
		struct pollfd p = { .fd = rx, .events = POLLIN };
		socklen_t sl = sizeof(from);
		char s1[NETADDR_STRLEN];

		if (poll(&p, 1, 500) <= 0)
			break;
		r = (int)recvfrom(rx, buf, sizeof(buf), 0, &from.sa, &sl);
		FAILIF(r != 12 || memcmp(buf, "sluice-abuse", 12), "payload differs (%d bytes)", r);
		FAILIF(netaddr_port(&from) != 30002, "from %s, want 127.0.0.1:30002",
		       netaddr_str(&from, s1, sizeof(s1)));
		got++;
	}
	close(tx);
	close(rx);
	FAILIF(got != 10, "forwarded %d of 10 packets", got);
	r = kmod_open(&k, T_ID, 0, KMOD_OPEN_NOCREATE);
	FAILIF(r, "kmod_open: %s", strerror(-r));
	kmod_read(k, 0, &c);
	kmod_close(k, false);
	FAILIF(c.packets != 10 || c.bytes != 120 || c.errors || c.mismatch,
	       "counters packets %llu bytes %llu errors %llu mismatch %llu, want 10 120 0 0",
	       (unsigned long long)c.packets, (unsigned long long)c.bytes,
	       (unsigned long long)c.errors, (unsigned long long)c.mismatch);
	r = sluice_nft_remove(T_ID);
	FAILIF(r, "nft remove: %s", strerror(-r));
	return 0;
}

int kabuse_run(void)
{
	unsigned int alloc_msgs = 0;
	int fail = 0, r;
	uint64_t t0 = kt_now_ns();

	r = setup();
	kt_report("control_abuse_setup", r);
	if (r)
		return 1;
	r = t_scripted();
	kt_report("control_abuse_scripted", r);
	fail |= r;
	r = t_bitflips();
	kt_report("control_abuse_bitflips", r);
	fail |= r;
	r = t_storm(&alloc_msgs);
	if (!r)
		r = t_no_leak(alloc_msgs);
	kt_report("control_abuse_no_leak", r);
	fail |= r;
	r = t_works();
	kt_report("control_abuse_instance_works", r);
	fail |= r;
	printf("control abuse: %u writes (%u accepted) in %.1f s; errno counts:", n_writes, n_ok,
	       (double)(kt_now_ns() - t0) / 1e9);
	for (int e = 0; e < 256; e++)
		if (n_errno[e])
			printf(" %s %u", strerrorname_np(e) ? strerrorname_np(e) : "?", n_errno[e]);
	printf("\n");
	close(t_ctl);
	return fail ? 1 : 0;
}
