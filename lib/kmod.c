/* Userspace side of the kernel module ABI: instance files, slot bookkeeping and the
 * read-only counter mapping. See include/sluice/kmod.h. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sluice/kmod.h"
#include "sluice/kmod_srtp.h"

struct kmod {
	unsigned int		id;
	unsigned int		capacity;
	unsigned int		used;
	unsigned int		next;		/* next-fit cursor */
	int			ctl_fd;
	int			lock_fd;	/* KMOD_OPEN_EXCL: the owner's name, else -1 */
	const volatile struct sluice_stats_hdr *map;
	size_t			map_len;
	uint64_t		*bitmap;	/* slots this handle believes taken */
};

#define KMOD_GLOBAL_CTL	KMOD_PROC_DIR "/control"

static void kmod_path(char *buf, size_t len, unsigned int id, const char *file)
{
	snprintf(buf, len, KMOD_PROC_DIR "/%u/%s", id, file);
}

static void kmod_hdr(struct sluice_msg_hdr *h, uint16_t cmd, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->version = SLUICE_ABI_VERSION;
	h->cmd = cmd;
	h->len = (uint16_t)len;
}

static int kmod_write_fd(int fd, const void *msg, size_t len)
{
	ssize_t n = write(fd, msg, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int kmod_write_raw_global(const void *msg, size_t len)
{
	int fd = open(KMOD_GLOBAL_CTL, O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = kmod_write_fd(fd, msg, len);
	close(fd);
	return ret;
}

int kmod_write_raw(struct kmod *k, const void *msg, size_t len)
{
	return kmod_write_fd(k->ctl_fd, msg, len);
}

bool kmod_available(void)
{
	return access(KMOD_GLOBAL_CTL, F_OK) == 0;
}

static int kmod_instance_msg(uint16_t cmd, unsigned int id, unsigned int capacity)
{
	struct sluice_msg_instance m;

	kmod_hdr(&m.hdr, cmd, sizeof(m));
	m.id = id;
	m.capacity = capacity;
	return kmod_write_raw_global(&m, sizeof(m));
}

int kmod_destroy(unsigned int id)
{
	return kmod_instance_msg(SLUICE_CMD_INSTANCE_DESTROY, id, 0);
}

/* Maps the header first to learn the capacity, then the whole array. */
static int kmod_map(struct kmod *k)
{
	const struct sluice_stats_hdr *h;
	long page = sysconf(_SC_PAGESIZE);
	char path[96];
	int fd, ret = 0;

	kmod_path(path, sizeof(path), k->id, "stats");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	h = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	if (h->magic != SLUICE_STATS_MAGIC || h->version != SLUICE_ABI_VERSION ||
	    h->slot_size != sizeof(struct sluice_stats) ||
	    h->hdr_size != sizeof(struct sluice_stats_hdr) || !h->capacity ||
	    h->capacity > SLUICE_MAX_CAPACITY) {
		munmap((void *)h, page);
		ret = -EPROTO;
		goto out;
	}
	k->capacity = h->capacity;
	k->map_len = sizeof(*h) + (size_t)k->capacity * sizeof(struct sluice_stats);
	munmap((void *)h, page);
	h = mmap(NULL, k->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	k->map = h;
out:
	close(fd);
	return ret;
}

/* The owner of instance id in this network namespace holds an abstract unix socket
 * name: abstract names are per network namespace, as instances are, and go away with
 * the process however it ends. -EBUSY if another process holds it. */
static int kmod_lock(unsigned int id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "sluice/kernel-instance/%u", id);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
							  1 + (size_t)n))) {
		int e = errno == EADDRINUSE ? -EBUSY : -errno;

		close(fd);
		return e;
	}
	return fd;
}

int kmod_open(struct kmod **out, unsigned int id, unsigned int capacity, unsigned int flags)
{
	struct kmod *k;
	char path[96];
	int ret;

	*out = NULL;
	if (id >= SLUICE_MAX_INSTANCES || capacity > SLUICE_MAX_CAPACITY)
		return -ERANGE;
	if (!kmod_available())
		return -ENOENT;
	if (!(flags & KMOD_OPEN_NOCREATE)) {
		ret = kmod_instance_msg(SLUICE_CMD_INSTANCE_CREATE, id,
					capacity ? capacity : KMOD_DEFAULT_CAPACITY);
		if (ret && ret != -EEXIST)
			return ret;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->id = id;
	k->lock_fd = -1;
	if ((flags & KMOD_OPEN_EXCL) && (ret = k->lock_fd = kmod_lock(id)) < 0)
		goto err_free;
	kmod_path(path, sizeof(path), id, "control");
	k->ctl_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (k->ctl_fd < 0) {
		ret = -errno;
		goto err_free;
	}

	ret = kmod_map(k);
	if (ret)
		goto err_close;
	k->bitmap = calloc((k->capacity + 63) / 64, sizeof(uint64_t));
	if (!k->bitmap) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	if (flags & KMOD_OPEN_FLUSH) {
		ret = kmod_flush(k);
		if (ret)
			goto err_unmap;
	}
	*out = k;
	return 0;

err_unmap:
	free(k->bitmap);
	munmap((void *)k->map, k->map_len);
err_close:
	close(k->ctl_fd);
err_free:
	if (k->lock_fd >= 0)
		close(k->lock_fd);
	free(k);
	return ret;
}

void kmod_close(struct kmod *k, bool destroy)
{
	if (!k)
		return;
	munmap((void *)k->map, k->map_len);
	close(k->ctl_fd);
	if (destroy)
		kmod_destroy(k->id);
	if (k->lock_fd >= 0)
		close(k->lock_fd);
	free(k->bitmap);
	free(k);
}

unsigned int kmod_id(const struct kmod *k) { return k->id; }
unsigned int kmod_capacity(const struct kmod *k) { return k->capacity; }
unsigned int kmod_used(const struct kmod *k) { return k->used; }

static bool kmod_slot_taken(const struct kmod *k, unsigned int s)
{
	return k->bitmap[s / 64] & (1ull << (s % 64));
}

static void kmod_slot_set(struct kmod *k, unsigned int s, bool taken)
{
	if (taken == kmod_slot_taken(k, s))
		return;
	k->bitmap[s / 64] ^= 1ull << (s % 64);
	if (taken)
		k->used++;
	else
		k->used--;
}

static int kmod_addr_to_abi(const union sockaddr_u *a, struct sluice_addr *out, bool may_be_any)
{
	memset(out, 0, sizeof(*out));
	switch (a->sa.sa_family) {
	case AF_UNSPEC:
		return may_be_any ? 0 : -EINVAL;
	case AF_INET:
		out->family = SLUICE_FAMILY_INET;
		out->port = a->sin.sin_port;
		memcpy(out->addr, &a->sin.sin_addr, 4);
		return 0;
	case AF_INET6:
		out->family = SLUICE_FAMILY_INET6;
		out->port = a->sin6.sin6_port;
		memcpy(out->addr, &a->sin6.sin6_addr, 16);
		return 0;
	}
	return -EINVAL;
}

int kmod_stream_to_abi(const struct kmod_stream *s, struct sluice_stream *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = kmod_addr_to_abi(&s->local, &out->local, false)) ||
	    (ret = kmod_addr_to_abi(&s->expect_src, &out->expect_src, true)) ||
	    (ret = kmod_addr_to_abi(&s->out_src, &out->out_src, false)) ||
	    (ret = kmod_addr_to_abi(&s->out_dst, &out->out_dst, false)))
		return ret;
	out->flags = s->flags;
	out->tos = s->tos;
	out->clock_rate = s->clock_rate;
	out->jitter16 = s->jitter16;
	return 0;
}

static int kmod_stream_msg(struct kmod *k, uint16_t cmd, unsigned int slot,
			   const struct kmod_stream *s)
{
	struct sluice_msg_stream m;
	int ret;

	kmod_hdr(&m.hdr, cmd, sizeof(m));
	m.slot = slot;
	m.pad = 0;
	ret = kmod_stream_to_abi(s, &m.stream);
	return ret ? ret : kmod_write_fd(k->ctl_fd, &m, sizeof(m));
}

/* Next-fit: delays reuse of a freed slot, so a packet still in flight on the old entry
 * (within one RCU grace period of the delete) cannot land on a fresh stream's counters. */
static int kmod_add_with(struct kmod *k, const struct kmod_stream *s,
			 const struct kmod_srtp *x)
{
	unsigned int tries, slot;
	int ret;

	for (tries = 0; tries < k->capacity; tries++) {
		slot = k->next;
		k->next = (k->next + 1) % k->capacity;
		if (kmod_slot_taken(k, slot))
			continue;
		if (x && (ret = kmod_srtp_set(k, (int)slot, x)))
			return ret;
		ret = kmod_stream_msg(k, SLUICE_CMD_ADD, slot, s);
		if (ret && x)
			kmod_srtp_del(k, (int)slot);
		if (ret == -EBUSY) {	/* taken by someone else (no flush at open) */
			kmod_slot_set(k, slot, true);
			continue;
		}
		if (ret)
			return ret;
		kmod_slot_set(k, slot, true);
		return (int)slot;
	}
	return -ENOSPC;
}

int kmod_add(struct kmod *k, const struct kmod_stream *s)
{
	return kmod_add_with(k, s, NULL);
}

int kmod_add_srtp(struct kmod *k, const struct kmod_stream *s, const struct kmod_srtp *x)
{
	struct kmod_stream with = *s;

	with.flags |= SLUICE_SF_SRTP;
	return kmod_add_with(k, &with, x);
}

int kmod_update(struct kmod *k, int slot, const struct kmod_stream *s)
{
	if (slot < 0 || (unsigned int)slot >= k->capacity)
		return -ERANGE;
	return kmod_stream_msg(k, SLUICE_CMD_UPDATE, (unsigned int)slot, s);
}

int kmod_del(struct kmod *k, int slot)
{
	struct sluice_msg_slot m;
	int ret;

	if (slot < 0 || (unsigned int)slot >= k->capacity)
		return -ERANGE;
	kmod_hdr(&m.hdr, SLUICE_CMD_DEL, sizeof(m));
	m.slot = (unsigned int)slot;
	m.pad = 0;
	ret = kmod_write_fd(k->ctl_fd, &m, sizeof(m));
	if (!ret || ret == -ENOENT)
		kmod_slot_set(k, (unsigned int)slot, false);
	return ret;
}

int kmod_flush(struct kmod *k)
{
	struct sluice_msg_hdr m;
	int ret;

	kmod_hdr(&m, SLUICE_CMD_FLUSH, sizeof(m));
	ret = kmod_write_fd(k->ctl_fd, &m, sizeof(m));
	if (!ret) {
		memset(k->bitmap, 0, (k->capacity + 63) / 64 * sizeof(uint64_t));
		k->used = 0;
	}
	return ret;
}

const volatile struct sluice_stats *kmod_stats(const struct kmod *k, int slot)
{
	if (slot < 0 || (unsigned int)slot >= k->capacity)
		return NULL;
	return (const volatile struct sluice_stats *)(k->map + 1) + slot;
}

/* ABI address -> sockaddr; false for family NONE or anything unknown. */
static bool kmod_addr_from_abi(const struct sluice_addr *a, union sockaddr_u *out)
{
	memset(out, 0, sizeof(*out));
	switch (a->family) {
	case SLUICE_FAMILY_INET:
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = a->port;
		memcpy(&out->sin.sin_addr, a->addr, 4);
		return true;
	case SLUICE_FAMILY_INET6:
		out->sin6.sin6_family = AF_INET6;
		out->sin6.sin6_port = a->port;
		memcpy(&out->sin6.sin6_addr, a->addr, 16);
		return true;
	}
	return false;
}

/* The reader side of the protocol in kernel_abi.h: copy between two loads of the
 * sequence counter, retry while a write is in progress or happened meanwhile. */
static bool kmod_read_mismatch(const volatile struct sluice_stats *st, struct sluice_addr *src,
			       uint64_t *ns)
{
	for (int i = 0; i < KMOD_SEQ_TRIES; i++) {
		uint32_t s1 = __atomic_load_n(&st->mismatch_seq, __ATOMIC_ACQUIRE);

		if (s1 & 1)
			continue;
		memcpy(src, (const void *)&st->mismatch_src, sizeof(*src));
		*ns = st->mismatch_ns;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&st->mismatch_seq, __ATOMIC_RELAXED) == s1)
			return true;
	}
	return false;
}

void kmod_read_stats(const volatile struct sluice_stats *st, struct kmod_counters *out)
{
	struct sluice_addr src;
	uint64_t ns;

	out->packets = st->packets;
	out->bytes = st->bytes;
	out->errors = st->errors;
	out->mismatch = st->mismatch;
	out->last_ns = st->last_ns;
	out->gen = st->gen;
	out->active = st->active;
	memset(&out->last_mismatch, 0, sizeof(out->last_mismatch));	/* AF_UNSPEC */
	out->last_mismatch_ns = 0;
	if (kmod_read_mismatch(st, &src, &ns) && kmod_addr_from_abi(&src, &out->last_mismatch))
		out->last_mismatch_ns = ns;
}

int kmod_read(const struct kmod *k, int slot, struct kmod_counters *out)
{
	const volatile struct sluice_stats *st = kmod_stats(k, slot);

	if (!st)
		return -ERANGE;
	kmod_read_stats(st, out);
	return 0;
}

int kmod_read_quality_stats(const volatile struct sluice_stats *st, struct quality_seg *out)
{
	const volatile struct sluice_quality *line = &st->quality;
	struct sluice_quality q;

	for (int i = 0; i < KMOD_SEQ_TRIES; i++) {
		uint32_t s1 = __atomic_load_n(&line->seq, __ATOMIC_ACQUIRE);

		if (s1 & 1)
			continue;
		memcpy(&q, (const void *)line, sizeof(q));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&line->seq, __ATOMIC_RELAXED) != s1)
			continue;
		*out = (struct quality_seg){
			.epoch = q.epoch, .ssrc = q.ssrc, .ext_max = q.ext_max,
			.base_seq = q.base_seq, .pt = q.pt, .clock = q.clock_rate,
			.jitter16 = q.jitter16, .received = q.received,
			.duplicates = q.duplicates, .reordered = q.reordered, .busy = q.busy,
		};
		return 0;
	}
	return -EAGAIN;
}

int kmod_read_quality(const struct kmod *k, int slot, struct quality_seg *out)
{
	const volatile struct sluice_stats *st = kmod_stats(k, slot);

	return st ? kmod_read_quality_stats(st, out) : -ERANGE;
}

uint64_t kmod_token(const struct kmod *k)
{
	return __atomic_load_n(&k->map->token, __ATOMIC_RELAXED);
}

int kmod_set_token(struct kmod *k, uint64_t token)
{
	struct sluice_msg_token m;

	kmod_hdr(&m.hdr, SLUICE_CMD_SET_TOKEN, sizeof(m));
	m.token = token;
	return kmod_write_fd(k->ctl_fd, &m, sizeof(m));
}

/* "SLOT LOCAL ..." -> slot and local; false for anything else. */
static bool kmod_entry_parse(const char *line, struct kmod_entry *e)
{
	char addr[NETADDR_STRLEN];
	unsigned int slot;

	if (sscanf(line, "%u %63s", &slot, addr) != 2 || slot > SLUICE_MAX_CAPACITY ||
	    netaddr_parse(addr, 0, false, &e->local) || !netaddr_port(&e->local))
		return false;
	e->slot = (int)slot;
	return true;
}

int kmod_entries(const struct kmod *k, struct kmod_entry **out, unsigned int *n)
{
	struct kmod_entry *v = NULL, *nv, e;
	unsigned int cap = 0;
	char path[96], line[1024];
	bool at_start = false;		/* the line read starts a line of the file */
	FILE *f;

	*out = NULL;
	*n = 0;
	kmod_path(path, sizeof(path), k->id, "list");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))	/* "instance I capacity C entries N" */
		goto out;
	at_start = strchr(line, '\n') != NULL;
	while (fgets(line, sizeof(line), f)) {
		bool start = at_start;

		at_start = strchr(line, '\n') != NULL;	/* else the rest follows */
		if (!start || !kmod_entry_parse(line, &e) || (unsigned int)e.slot >= k->capacity)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				free(v);
				fclose(f);
				*n = 0;
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = e;
	}
out:
	fclose(f);
	*out = v;
	return 0;
}

int kmod_adopt(struct kmod *k, int slot)
{
	const volatile struct sluice_stats *st = kmod_stats(k, slot);

	if (!st)
		return -ERANGE;
	if (!st->active)
		return -ENOENT;
	kmod_slot_set(k, (unsigned int)slot, true);
	return 0;
}
