/* Minimal, bounded RTP/RTCP header inspection for the relay (RFC 3550, RFC 5761). */
#ifndef SLUICE_RTP_H
#define SLUICE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5761 demultiplexing: version 2 and a second byte in 192..223 (RTCP PT 200-204
 * and neighbours with or without the marker bit) means RTCP. */
bool rtp_is_rtcp(const uint8_t *p, size_t len);
/* SSRC of an RTP packet (version 2, at least 12 bytes). 0 or -EINVAL. */
int rtp_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc);
/* Offset and length of an RTP packet's payload, after CSRCs and the header extension
 * and before padding (version 2, at least 12 bytes). 0, or -EINVAL if the header or
 * the padding does not fit. */
int rtp_payload(const uint8_t *p, size_t len, size_t *off, size_t *plen);
/* Sender SSRC of a compound RTCP packet's first part (version 2, at least 8 bytes). */
int rtcp_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc);

#endif
