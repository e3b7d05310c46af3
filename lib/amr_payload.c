/* RFC 4867 payload packing; the contract is in include/sluice/amr_payload.h. */
#include "sluice/amr_payload.h"

#include <errno.h>
#include <string.h>

/* RFC 4867 / 3GPP TS 26.101 and 26.201: speech bits per frame type; -1 reserved. */
static const int16_t nb_bits[16] = {
	95, 103, 118, 134, 148, 159, 204, 244, 39, -1, -1, -1, -1, -1, -1, 0,
};
static const int16_t wb_bits[16] = {
	132, 177, 253, 285, 317, 365, 397, 461, 477, 40, -1, -1, -1, -1, 0, 0,
};

int amr_frame_bits(bool wb, unsigned ft)
{
	int b;

	if (ft > 15)
		return -EINVAL;
	b = wb ? wb_bits[ft] : nb_bits[ft];
	return b < 0 ? -EINVAL : b;
}

unsigned amr_modes(bool wb)
{
	return wb ? 9 : 8;
}

/* MSB-first bit cursor over a bounded buffer. */
struct bits {
	uint8_t *buf;
	const uint8_t *rbuf;
	size_t len;                 /* bytes */
	size_t pos;                 /* bits */
};

static bool bits_left(const struct bits *b, size_t n)
{
	return b->pos + n <= b->len * 8;
}

static unsigned get_bit(struct bits *b)
{
	unsigned v = (b->rbuf[b->pos / 8] >> (7 - b->pos % 8)) & 1;

	b->pos++;
	return v;
}

static unsigned get_bits(struct bits *b, unsigned n)
{
	unsigned v = 0;

	while (n--)
		v = v << 1 | get_bit(b);
	return v;
}

static void put_bit(struct bits *b, unsigned v)
{
	if (v)
		b->buf[b->pos / 8] |= (uint8_t)(0x80 >> (b->pos % 8));
	b->pos++;
}

static void put_bits(struct bits *b, unsigned v, unsigned n)
{
	while (n--)
		put_bit(b, (v >> n) & 1);
}

static void align(struct bits *b)
{
	b->pos = (b->pos + 7) / 8 * 8;
}

static int read_toc(struct bits *b, bool wb, bool oa, struct amr_payload *out)
{
	unsigned more = 1;

	out->n = 0;
	while (more) {
		struct amr_frame *f;

		if (out->n == AMR_MAX_FRAMES || !bits_left(b, oa ? 8 : 6))
			return -EINVAL;
		f = &out->f[out->n++];
		more = get_bit(b);
		f->ft = (uint8_t)get_bits(b, 4);
		f->q = get_bit(b);
		if (oa)
			get_bits(b, 2);         /* padding */
		if (amr_frame_bits(wb, f->ft) < 0)
			return -EINVAL;
	}
	return 0;
}

static int read_frame(struct bits *b, bool wb, bool oa, struct amr_frame *f)
{
	unsigned n = (unsigned)amr_frame_bits(wb, f->ft);

	memset(f->data, 0, sizeof(f->data));
	if (!bits_left(b, n))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (get_bit(b))
			f->data[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (oa)
		align(b);
	return 0;
}

int amr_payload_parse(const uint8_t *in, size_t len, bool wb, bool octet_aligned,
		      struct amr_payload *out)
{
	struct bits b = { .rbuf = in, .len = len };
	int ret;

	if (!in || !len || !out)
		return -EINVAL;
	out->cmr = (uint8_t)get_bits(&b, 4);
	if (octet_aligned)
		get_bits(&b, 4);                /* reserved */
	ret = read_toc(&b, wb, octet_aligned, out);
	if (ret)
		return ret;
	for (unsigned i = 0; i < out->n; i++) {
		ret = read_frame(&b, wb, octet_aligned, &out->f[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Total payload bits, to check the space before writing anything. */
static size_t payload_bits(const struct amr_payload *p, bool wb, bool oa)
{
	size_t n = oa ? 8 : 4;

	for (unsigned i = 0; i < p->n; i++) {
		size_t fb = (size_t)amr_frame_bits(wb, p->f[i].ft);

		n += oa ? 8 + (fb + 7) / 8 * 8 : 6 + fb;
	}
	return n;
}

int amr_payload_build(const struct amr_payload *p, bool wb, bool octet_aligned,
		      uint8_t *out, size_t cap)
{
	struct bits b = { .buf = out, .len = cap };
	size_t bytes;

	if (!p || !p->n || p->n > AMR_MAX_FRAMES || p->cmr > 15)
		return -EINVAL;
	for (unsigned i = 0; i < p->n; i++)
		if (amr_frame_bits(wb, p->f[i].ft) < 0)
			return -EINVAL;
	bytes = (payload_bits(p, wb, octet_aligned) + 7) / 8;
	if (bytes > cap)
		return -ENOSPC;
	memset(out, 0, bytes);
	put_bits(&b, p->cmr, 4);
	if (octet_aligned)
		put_bits(&b, 0, 4);
	for (unsigned i = 0; i < p->n; i++) {
		put_bit(&b, i + 1 < p->n);
		put_bits(&b, p->f[i].ft, 4);
		put_bit(&b, p->f[i].q);
		if (octet_aligned)
			put_bits(&b, 0, 2);
	}
	for (unsigned i = 0; i < p->n; i++) {
		unsigned n = (unsigned)amr_frame_bits(wb, p->f[i].ft);

		for (unsigned k = 0; k < n; k++)
			put_bit(&b, (p->f[i].data[k / 8] >> (7 - k % 8)) & 1);
		if (octet_aligned)
			align(&b);
	}
	return (int)bytes;
}

int amr_frame_to_storage(const struct amr_frame *f, bool wb, uint8_t *out, size_t cap)
{
	int bits = amr_frame_bits(wb, f->ft);
	size_t n;

	if (bits < 0)
		return -EINVAL;
	n = 1 + ((size_t)bits + 7) / 8;
	if (n > cap)
		return -ENOSPC;
	out[0] = (uint8_t)(f->ft << 3 | (f->q ? 0x04 : 0));
	memcpy(out + 1, f->data, n - 1);
	return (int)n;
}

int amr_frame_from_storage(const uint8_t *in, size_t len, bool wb, struct amr_frame *f)
{
	int bits;
	size_t n;

	if (!len)
		return -EINVAL;
	f->ft = (in[0] >> 3) & 0x0f;
	f->q = in[0] & 0x04;
	bits = amr_frame_bits(wb, f->ft);
	if (bits < 0)
		return -EINVAL;
	n = ((size_t)bits + 7) / 8;
	if (1 + n > len)
		return -EINVAL;
	memset(f->data, 0, sizeof(f->data));
	memcpy(f->data, in + 1, n);
	/* the padding bits of the last byte are not speech */
	if (bits % 8)
		f->data[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
	return (int)(1 + n);
}
