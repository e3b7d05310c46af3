/* STUN message parse/build, integrity, fingerprint, RFC 7983 demux. */
#include "sluice/stun.h"
#include "sluice/be.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

#define FP_XOR 0x5354554eu

static uint32_t fingerprint(const uint8_t *p, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len) ^ FP_XOR;
}

bool stun_is_stun(const uint8_t *p, size_t len)
{
	return len >= STUN_HDR_LEN && p[0] < 4 && be_get32(p + 4) == STUN_MAGIC &&
	       (size_t)be_get16(p + 2) + STUN_HDR_LEN == len && !(be_get16(p + 2) & 3);
}

enum stun_demux stun_demux(const uint8_t *p, size_t len)
{
	if (len == 0)
		return STUN_DEMUX_OTHER;
	if (p[0] <= 3)
		return STUN_DEMUX_STUN;
	if (p[0] >= 20 && p[0] <= 63)
		return STUN_DEMUX_DTLS;
	if (p[0] >= 128 && p[0] <= 191)
		return STUN_DEMUX_RTP;
	return STUN_DEMUX_OTHER;        /* ZRTP 16-19, TURN channels 64-79, junk */
}

/* (XOR-)MAPPED-ADDRESS value v[0..len). */
static int parse_addr(const uint8_t *v, size_t len, bool xor, const uint8_t *hdr,
		      union sockaddr_u *out)
{
	uint16_t port;

	if (len < 4)
		return -EINVAL;
	port = be_get16(v + 2);
	if (xor)
		port ^= (uint16_t)(STUN_MAGIC >> 16);
	memset(out, 0, sizeof(*out));
	if (v[1] == 1 && len == 8) {
		out->sin.sin_family = AF_INET;
		memcpy(&out->sin.sin_addr, v + 4, 4);
		if (xor)
			for (int i = 0; i < 4; i++)
				((uint8_t *)&out->sin.sin_addr)[i] ^= hdr[4 + i];
	} else if (v[1] == 2 && len == 20) {
		out->sin6.sin6_family = AF_INET6;
		memcpy(&out->sin6.sin6_addr, v + 4, 16);
		if (xor)    /* cookie || transaction id: header bytes 4..19 */
			for (int i = 0; i < 16; i++)
				out->sin6.sin6_addr.s6_addr[i] ^= hdr[4 + i];
	} else {
		return -EINVAL;
	}
	netaddr_set_port(out, port);
	return 0;
}

static int parse_attr(struct stun_msg *m, uint16_t t, const uint8_t *v, size_t alen)
{
	switch (t) {
	case STUN_A_USERNAME:
		if (alen > STUN_USERNAME_MAX)
			return -EINVAL;
		if (!m->username) {
			m->username = (const char *)v;
			m->username_len = alen;
		}
		return 0;
	case STUN_A_XOR_MAPPED_ADDRESS:
	case STUN_A_MAPPED_ADDRESS:
		if (m->has_mapped && t == STUN_A_MAPPED_ADDRESS)
			return 0;       /* the XOR form wins */
		if (parse_addr(v, alen, t == STUN_A_XOR_MAPPED_ADDRESS, m->raw, &m->mapped))
			return -EINVAL;
		m->has_mapped = true;
		return 0;
	case STUN_A_PRIORITY:
		if (alen != 4)
			return -EINVAL;
		if (!m->has_priority)
			m->priority = be_get32(v);
		m->has_priority = true;
		return 0;
	case STUN_A_USE_CANDIDATE:
		if (alen != 0)
			return -EINVAL;
		m->use_candidate = true;
		return 0;
	case STUN_A_ICE_CONTROLLED:
	case STUN_A_ICE_CONTROLLING:
		if (alen != 8)
			return -EINVAL;
		if (!m->controlled && !m->controlling)
			m->tiebreaker = (uint64_t)be_get32(v) << 32 | be_get32(v + 4);
		if (t == STUN_A_ICE_CONTROLLED)
			m->controlled = true;
		else
			m->controlling = true;
		return 0;
	case STUN_A_ERROR_CODE:
		if (alen < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
			return -EINVAL;
		if (!m->has_error) {
			m->error_code = (uint16_t)((v[2] & 7) * 100 + v[3]);
			m->reason = (const char *)v + 4;
			m->reason_len = alen - 4;
		}
		m->has_error = true;
		return 0;
	case STUN_A_SOFTWARE:
	case STUN_A_UNKNOWN_ATTRIBUTES:
		return 0;
	default:
		if (t < 0x8000 && m->n_unknown < STUN_UNKNOWN_MAX)
			m->unknown[m->n_unknown++] = t;
		return 0;
	}
}

int stun_parse(const uint8_t *p, size_t len, struct stun_msg *m)
{
	size_t off = STUN_HDR_LEN;

	memset(m, 0, sizeof(*m));
	if (len < STUN_HDR_LEN || (p[0] & 0xc0) || be_get32(p + 4) != STUN_MAGIC)
		return -EINVAL;
	if (len > STUN_MAX_LEN)
		return -EMSGSIZE;
	if ((be_get16(p + 2) & 3) || (size_t)be_get16(p + 2) + STUN_HDR_LEN != len)
		return -EINVAL;
	m->type = be_get16(p);
	memcpy(m->tid, p + 8, STUN_TID_LEN);
	m->raw = p;
	m->len = len;

	while (off < len) {
		uint16_t t, alen;
		size_t padded;
		int ret;

		if (len - off < 4)
			return -EINVAL;
		t = be_get16(p + off);
		alen = be_get16(p + off + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		if (len - off - 4 < padded)
			return -EINVAL;
		if (t == STUN_A_FINGERPRINT) {
			if (alen != 4 || off + 8 != len)
				return -EINVAL;         /* must be last */
			if (be_get32(p + off + 4) != fingerprint(p, off))
				return -EBADMSG;
			m->has_fingerprint = true;
		} else if (t == STUN_A_MESSAGE_INTEGRITY && !m->mi_off) {
			if (alen != STUN_MI_LEN)
				return -EINVAL;
			m->mi_off = off;
		} else if (!m->mi_off) {        /* anything after integrity is ignored */
			ret = parse_attr(m, t, p + off + 4, alen);
			if (ret)
				return ret;
		}
		off += 4 + padded;
	}
	return 0;
}

/* HMAC-SHA1 over msg[0..mi_off) with the header length covering the MI attribute. */
static int integrity(const uint8_t *msg, size_t mi_off, const void *key, size_t key_len,
		     uint8_t out[STUN_MI_LEN])
{
	static const uint8_t empty[1];
	uint8_t tmp[STUN_MAX_LEN];
	unsigned int olen = 0;

	if (mi_off < STUN_HDR_LEN || mi_off > sizeof(tmp) || key_len > 4096)
		return -EINVAL;
	memcpy(tmp, msg, mi_off);
	be_put16(tmp + 2, (uint16_t)(mi_off + 4 + STUN_MI_LEN - STUN_HDR_LEN));
	if (!HMAC(EVP_sha1(), key_len ? key : empty, (int)key_len, tmp, mi_off, out, &olen) ||
	    olen != STUN_MI_LEN)
		return -EIO;
	return 0;
}

int stun_check_integrity(const struct stun_msg *m, const void *key, size_t key_len)
{
	uint8_t mac[STUN_MI_LEN];
	int ret;

	if (!m->mi_off)
		return -ENOENT;
	ret = integrity(m->raw, m->mi_off, key, key_len, mac);
	if (ret)
		return ret == -EIO ? -EIO : -EACCES;
	if (CRYPTO_memcmp(mac, m->raw + m->mi_off + 4, STUN_MI_LEN))
		return -EACCES;
	return 0;
}

bool stun_username_is_for(const struct stun_msg *m, const char *local_ufrag)
{
	size_t n = strlen(local_ufrag);

	return m->username && n && m->username_len > n && m->username[n] == ':' &&
	       !memcmp(m->username, local_ufrag, n);
}

/* ---- building ---- */

static void set_len(struct stun_builder *b, size_t body)
{
	be_put16(b->buf + 2, (uint16_t)body);
}

void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		     const uint8_t tid[STUN_TID_LEN])
{
	b->buf = buf;
	b->cap = cap > STUN_MAX_LEN ? STUN_MAX_LEN : cap;
	b->len = 0;
	b->err = 0;
	if (b->cap < STUN_HDR_LEN || (type & 0xc000)) {
		b->err = b->cap < STUN_HDR_LEN ? -ENOSPC : -EINVAL;
		return;
	}
	be_put16(buf, type);
	be_put16(buf + 2, 0);
	be_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	b->len = STUN_HDR_LEN;
}

/* Reserve an attribute; returns a pointer to its value or NULL (error set). */
static uint8_t *add(struct stun_builder *b, uint16_t type, size_t vlen)
{
	size_t padded = (vlen + 3) & ~(size_t)3;
	uint8_t *v;

	if (b->err)
		return NULL;
	if (vlen > 0xffff || b->cap - b->len < 4 + padded) {
		b->err = -ENOSPC;
		return NULL;
	}
	be_put16(b->buf + b->len, type);
	be_put16(b->buf + b->len + 2, (uint16_t)vlen);
	v = b->buf + b->len + 4;
	memset(v + vlen, 0, padded - vlen);
	b->len += 4 + padded;
	set_len(b, b->len - STUN_HDR_LEN);
	return v;
}

static void add_bytes(struct stun_builder *b, uint16_t type, const void *d, size_t n)
{
	uint8_t *v = add(b, type, n);

	if (v && n)
		memcpy(v, d, n);
}

void stun_add_username(struct stun_builder *b, const char *s, size_t len)
{
	if (len > STUN_USERNAME_MAX && !b->err)
		b->err = -EINVAL;
	add_bytes(b, STUN_A_USERNAME, s, len);
}

void stun_add_priority(struct stun_builder *b, uint32_t prio)
{
	uint8_t *v = add(b, STUN_A_PRIORITY, 4);

	if (v)
		be_put32(v, prio);
}

void stun_add_use_candidate(struct stun_builder *b)
{
	add(b, STUN_A_USE_CANDIDATE, 0);
}

void stun_add_ice_role(struct stun_builder *b, bool controlling, uint64_t tiebreaker)
{
	uint8_t *v = add(b, controlling ? STUN_A_ICE_CONTROLLING : STUN_A_ICE_CONTROLLED, 8);

	if (v) {
		be_put32(v, (uint32_t)(tiebreaker >> 32));
		be_put32(v + 4, (uint32_t)tiebreaker);
	}
}

void stun_add_xor_mapped(struct stun_builder *b, const union sockaddr_u *a)
{
	bool v6 = a->sa.sa_family == AF_INET6;
	uint8_t *v;

	if (a->sa.sa_family != AF_INET && !v6) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	v = add(b, STUN_A_XOR_MAPPED_ADDRESS, v6 ? 20 : 8);
	if (!v)
		return;
	v[0] = 0;
	v[1] = v6 ? 2 : 1;
	be_put16(v + 2, netaddr_port(a) ^ (uint16_t)(STUN_MAGIC >> 16));
	if (v6) {
		for (int i = 0; i < 16; i++)
			v[4 + i] = a->sin6.sin6_addr.s6_addr[i] ^ b->buf[4 + i];
	} else {
		memcpy(v + 4, &a->sin.sin_addr, 4);
		for (int i = 0; i < 4; i++)
			v[4 + i] ^= b->buf[4 + i];
	}
}

static const char *default_reason(uint16_t code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 420: return "Unknown Attribute";
	case 487: return "Role Conflict";
	case 500: return "Server Error";
	default:  return "Error";
	}
}

void stun_add_error(struct stun_builder *b, uint16_t code, const char *reason)
{
	size_t rl;
	uint8_t *v;

	if (code < 300 || code > 699) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	if (!reason)
		reason = default_reason(code);
	rl = strnlen(reason, 763);
	v = add(b, STUN_A_ERROR_CODE, 4 + rl);
	if (!v)
		return;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rl);
}

void stun_add_unknown(struct stun_builder *b, const uint16_t *types, unsigned n)
{
	uint8_t *v = add(b, STUN_A_UNKNOWN_ATTRIBUTES, 2 * (size_t)n);

	for (unsigned i = 0; v && i < n; i++)
		be_put16(v + 2 * i, types[i]);
}

void stun_add_software(struct stun_builder *b, const char *s)
{
	add_bytes(b, STUN_A_SOFTWARE, s, strnlen(s, 763));
}

void stun_add_integrity(struct stun_builder *b, const void *key, size_t key_len)
{
	size_t mi_off = b->len;
	uint8_t *v = add(b, STUN_A_MESSAGE_INTEGRITY, STUN_MI_LEN);
	int ret;

	if (!v)
		return;
	ret = integrity(b->buf, mi_off, key, key_len, v);
	if (ret)
		b->err = ret;
}

void stun_add_fingerprint(struct stun_builder *b)
{
	size_t off = b->len;
	uint8_t *v = add(b, STUN_A_FINGERPRINT, 4);

	if (v)  /* header length already covers the attribute */
		be_put32(v, fingerprint(b->buf, off));
}

int stun_finish(struct stun_builder *b)
{
	return b->err ? b->err : (int)b->len;
}

int stun_new_tid(uint8_t tid[STUN_TID_LEN])
{
	return RAND_bytes(tid, STUN_TID_LEN) == 1 ? 0 : -EIO;
}
