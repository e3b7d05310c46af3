/* HEP v3 encoder (see hep.h). Chunk: vendor 0 (16 bit), type (16), length (16, header
 * included), value; all in network byte order. */
#include "sluice/hep.h"
#include "sluice/be.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct out {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void chunk(struct out *o, uint16_t type, const void *v, size_t len)
{
	if (o->err || o->len + 6 + len > o->cap || 6 + len > 0xffff) {
		o->err = -ENOSPC;
		return;
	}
	be_put16(o->p + o->len, 0);
	be_put16(o->p + o->len + 2, type);
	be_put16(o->p + o->len + 4, (uint16_t)(6 + len));
	memcpy(o->p + o->len + 6, v, len);
	o->len += 6 + len;
}

static void chunk8(struct out *o, uint16_t type, uint8_t v)
{
	chunk(o, type, &v, 1);
}

static void chunk16(struct out *o, uint16_t type, uint16_t v)
{
	uint8_t b[2];

	be_put16(b, v);
	chunk(o, type, b, 2);
}

static void chunk32(struct out *o, uint16_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	chunk(o, type, b, 4);
}

int hep_encode(uint8_t *out, size_t cap, const struct hep_msg *m)
{
	struct out o = { .p = out, .cap = cap, .len = 6 };
	bool v6 = m->src->sa.sa_family == AF_INET6;

	if (m->src->sa.sa_family != m->dst->sa.sa_family)
		return -EINVAL;
	if (cap < 6)
		return -ENOSPC;
	memcpy(out, "HEP3", 4);
	chunk8(&o, 0x0001, v6 ? 10 : 2);        /* family: AF_INET / AF_INET6 numbers */
	chunk8(&o, 0x0002, 17);                 /* UDP */
	if (v6) {
		chunk(&o, 0x0005, &m->src->sin6.sin6_addr, 16);
		chunk(&o, 0x0006, &m->dst->sin6.sin6_addr, 16);
	} else {
		chunk(&o, 0x0003, &m->src->sin.sin_addr, 4);
		chunk(&o, 0x0004, &m->dst->sin.sin_addr, 4);
	}
	chunk16(&o, 0x0007, netaddr_port(m->src));
	chunk16(&o, 0x0008, netaddr_port(m->dst));
	chunk32(&o, 0x0009, (uint32_t)(m->time_us / 1000000));
	chunk32(&o, 0x000a, (uint32_t)(m->time_us % 1000000));
	chunk8(&o, 0x000b, m->proto);
	chunk32(&o, 0x000c, m->capture_id);
	if (m->correlation)
		chunk(&o, 0x0011, m->correlation, m->correlation_len);
	chunk(&o, 0x000f, m->payload, m->len);
	if (o.err)
		return o.err;
	if (o.len > 0xffff)
		return -ENOSPC;
	be_put16(out + 4, (uint16_t)o.len);
	return (int)o.len;
}
