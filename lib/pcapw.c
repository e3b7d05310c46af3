/* pcap writer (see pcapw.h): libpcap writes the file, we only build the headers. */
#include "sluice/pcapw.h"
#include "sluice/be.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAPLEN   65535
#define HDR_MAX   (14 + 40 + 8)
#define IOBUF     (64 * 1024)

struct pcapw {
	pcap_t *dead;
	pcap_dumper_t *d;
	FILE *f;
	enum pcapw_link link;
	uint64_t packets;
	uint64_t good;                  /* file offset after the last flush: a record boundary */
	uint64_t good_packets;          /* records up to there */
	size_t pending;                 /* bytes in the stdio buffer since */
	bool failed;
	char *iobuf;                    /* stdio's buffer: glibc ignores a size without one */
};

/* One packet is built at a time per thread; kept out of struct pcapw so that an open
 * file costs its stdio buffer only. */
static __thread uint8_t pkt[HDR_MAX + SNAPLEN];

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IP + UDP headers for a datagram of len bytes; returns the header length. */
static size_t build_ip_udp(uint8_t *h, const union sockaddr_u *src,
			   const union sockaddr_u *dst, const uint8_t *payload, size_t len)
{
	size_t ulen = 8 + len;
	uint8_t *u;
	uint32_t s;

	if (src->sa.sa_family == AF_INET) {
		memset(h, 0, 20);
		h[0] = 0x45;
		be_put16(h + 2, (uint16_t)(20 + ulen));
		h[6] = 0x40;                    /* don't fragment */
		h[8] = 64;
		h[9] = IPPROTO_UDP;
		memcpy(h + 12, &src->sin.sin_addr, 4);
		memcpy(h + 16, &dst->sin.sin_addr, 4);
		be_put16(h + 10, fold(sum16(0, h, 20)));
		u = h + 20;
		s = sum16(0, h + 12, 8);        /* pseudo header: addresses, proto, length */
	} else {
		memset(h, 0, 40);
		h[0] = 0x60;
		be_put16(h + 4, (uint16_t)ulen);
		h[6] = IPPROTO_UDP;
		h[7] = 64;
		memcpy(h + 8, &src->sin6.sin6_addr, 16);
		memcpy(h + 24, &dst->sin6.sin6_addr, 16);
		u = h + 40;
		s = sum16(0, h + 8, 32);
	}
	be_put16(u, netaddr_port(src));
	be_put16(u + 2, netaddr_port(dst));
	be_put16(u + 4, (uint16_t)ulen);
	u[6] = u[7] = 0;
	s += IPPROTO_UDP + (uint32_t)ulen;
	s = sum16(s, u, 8);
	s = sum16(s, payload, len);
	s = fold(s);
	be_put16(u + 6, s ? (uint16_t)s : 0xffff);   /* 0 means "no checksum" on the wire */
	return (size_t)(u + 8 - h);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);               /* libpcap writes host byte order */
	return v;
}

/* A write failed (disk full): cut the file after the last whole record, so that what
 * was written stays a pcap any reader opens. The stdio buffer is flushed only at record
 * boundaries (see pcapw_write), so at most one buffer's worth after `good` is read. */
static void cut_partial(struct pcapw *w)
{
	int fd = fileno(w->f);
	struct stat st;
	uint8_t *buf;
	size_t n, off;

	w->failed = true;
	__fpurge(w->f);                 /* or fclose would write the rest after the cut */
	if (fstat(fd, &st) || (uint64_t)st.st_size <= w->good)
		return;
	n = (size_t)((uint64_t)st.st_size - w->good);
	if (n > IOBUF || !(buf = malloc(n)))
		return;
	if (pread(fd, buf, n, (off_t)w->good) == (ssize_t)n) {
		off = w->good == 0 ? 24 : 0;    /* the file header */
		if (off > n)
			off = 0;
		w->packets = w->good_packets;
		while (off + 16 <= n && off + 16 + get32(buf + off + 8) <= n) {
			off += 16 + get32(buf + off + 8);
			w->packets++;
		}
		if (ftruncate(fd, (off_t)(w->good + off))) {
			/* nothing better to do: the reader will say the last one is cut */
		}
	}
	free(buf);
}

static int flush_at_boundary(struct pcapw *w)
{
	errno = 0;
	if (fflush(w->f)) {
		int e = errno ? -errno : -EIO;

		cut_partial(w);
		return e;
	}
	w->good += w->pending;
	w->good_packets = w->packets;
	w->pending = 0;
	return 0;
}

struct pcapw *pcapw_open_fd(int fd, enum pcapw_link link, char *err, size_t errlen)
{
	struct pcapw *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	w->link = link;
	w->dead = pcap_open_dead(link == PCAPW_ETH ? DLT_EN10MB : DLT_RAW, SNAPLEN);
	w->f = w->dead ? fdopen(fd, "w") : NULL;
	if (!w->f) {
		snprintf(err, errlen, "%s", w->dead ? strerror(errno) : "pcap_open_dead failed");
		close(fd);
		goto fail;
	}
	if (!(w->iobuf = malloc(IOBUF)) || setvbuf(w->f, w->iobuf, _IOFBF, IOBUF)) {
		snprintf(err, errlen, "out of memory");
		fclose(w->f);
		goto fail;
	}
	w->d = pcap_dump_fopen(w->dead, w->f);
	if (!w->d) {
		snprintf(err, errlen, "%s", pcap_geterr(w->dead));
		fclose(w->f);
		goto fail;
	}
	w->pending = 24;                /* the file header pcap_dump_fopen wrote */
	return w;
fail:
	if (w->dead)
		pcap_close(w->dead);
	free(w->iobuf);
	free(w);
	return NULL;
}

int pcapw_write(struct pcapw *w, int64_t time_ns, const union sockaddr_u *src,
		const union sockaddr_u *dst, const uint8_t *payload, size_t len)
{
	struct pcap_pkthdr ph;
	size_t off = w->link == PCAPW_ETH ? 14 : 0, hl;

	if (src->sa.sa_family != dst->sa.sa_family ||
	    (src->sa.sa_family != AF_INET && src->sa.sa_family != AF_INET6) ||
	    len > SNAPLEN - HDR_MAX)
		return -EINVAL;
	if (off) {
		memset(pkt, 0, 12);
		be_put16(pkt + 12, src->sa.sa_family == AF_INET ? 0x0800 : 0x86dd);
	}
	hl = build_ip_udp(pkt + off, src, dst, payload, len);
	memcpy(pkt + off + hl, payload, len);
	ph.ts.tv_sec = time_ns / 1000000000;
	ph.ts.tv_usec = (time_ns % 1000000000) / 1000;
	ph.caplen = ph.len = (bpf_u_int32)(off + hl + len);
	if (w->failed)
		return -EIO;
	/* flush before stdio would, so the file only ever ends on a record boundary */
	if (w->pending + 16 + ph.caplen > IOBUF) {
		int e = flush_at_boundary(w);

		if (e)
			return e;
	}
	errno = 0;
	pcap_dump((u_char *)w->d, &ph, pkt);
	if (ferror(w->f)) {
		int e = errno && errno != EINVAL ? -errno : -EIO;

		cut_partial(w);
		return e;
	}
	w->pending += 16 + ph.caplen;
	w->packets++;
	return 0;
}

int pcapw_close(struct pcapw *w)
{
	int e;

	if (!w)
		return 0;
	e = w->failed ? -EIO : flush_at_boundary(w);
	pcap_dump_close(w->d);          /* fclose */
	pcap_close(w->dead);
	free(w->iobuf);
	free(w);
	return e;
}

uint64_t pcapw_packets(const struct pcapw *w)
{
	return w->packets;
}
