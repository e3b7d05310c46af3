/* RTP/RTCP header peeking. */
#include "sluice/rtp.h"

#include <errno.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool rtp_is_rtcp(const uint8_t *p, size_t len)
{
	return len >= 8 && (p[0] >> 6) == 2 && p[1] >= 192 && p[1] <= 223;
}

int rtp_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc)
{
	if (len < 12 || (p[0] >> 6) != 2)
		return -EINVAL;
	*ssrc = be32(p + 8);
	return 0;
}

int rtp_payload(const uint8_t *p, size_t len, size_t *off, size_t *plen)
{
	size_t o, end = len;

	if (len < 12 || (p[0] >> 6) != 2)
		return -EINVAL;
	o = 12 + 4u * (p[0] & 0x0f);
	if (o > len)
		return -EINVAL;
	if (p[0] & 0x10) {
		if (o + 4 > len)
			return -EINVAL;
		o += 4 + 4u * ((size_t)p[o + 2] << 8 | p[o + 3]);
		if (o > len)
			return -EINVAL;
	}
	if ((p[0] & 0x20) && len > o) {
		if (p[len - 1] > len - o)
			return -EINVAL;
		end = len - p[len - 1];
	}
	*off = o;
	*plen = end - o;
	return 0;
}

int rtcp_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc)
{
	if (len < 8 || (p[0] >> 6) != 2)
		return -EINVAL;
	*ssrc = be32(p + 4);
	return 0;
}
