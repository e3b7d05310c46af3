/* pcap files of relayed UDP datagrams, written with libpcap. The relay sees payloads
 * only (its sockets strip the headers), so each packet gets synthesized IPv4/IPv6 and
 * UDP headers (checksums included) carrying its real addresses and ports; with
 * PCAPW_ETH an Ethernet header too (zero MACs), for tools that want one. */
#ifndef SLUICE_PCAPW_H
#define SLUICE_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

enum pcapw_link { PCAPW_RAW = 0, PCAPW_ETH };

struct pcapw;

/* Write a pcap file header on fd (taken over: closed by pcapw_close, or on failure).
 * Open fd read-write: after a failed write the file is read back to cut it after its
 * last whole record.
 * NULL with a message in err. */
struct pcapw *pcapw_open_fd(int fd, enum pcapw_link link, char *err, size_t errlen);
/* One datagram from src to dst (same family) at time_ns (CLOCK_REALTIME). 0, -EINVAL
 * (families differ, too long; nothing written), or another -errno (-ENOSPC, -EIO...):
 * the file can no longer be written and the caller should close it. */
int pcapw_write(struct pcapw *w, int64_t time_ns, const union sockaddr_u *src,
		const union sockaddr_u *dst, const uint8_t *payload, size_t len);
/* Flush and close. 0, or -errno if anything written could not be stored. */
int pcapw_close(struct pcapw *w);
/* Packets in the file (after a failed write: those that are whole in it). */
uint64_t pcapw_packets(const struct pcapw *w);

#endif
