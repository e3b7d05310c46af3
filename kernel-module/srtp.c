// SPDX-License-Identifier: GPL-2.0
/* SRTP (RFC 3711, RFC 7714) for the module's entries: AES-CM-128 with HMAC-SHA1-80/32
 * and AEAD-AES-128/256-GCM through the kernel crypto API, the packet index (ROC)
 * estimate and the replay window. See srtp.h for lifetimes, sluice/kernel_srtp_abi.h
 * for what the daemon sees. */
#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <crypto/algapi.h>
#include <linux/proc_fs.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "sluice.h"
#include "srtp.h"

#define SRTP_SHA1_LEN	20
#define SRTP_GCM_TAG	16

struct sluice_srtp_suite_info {
	u8	key_len;
	u8	salt_len;
	u8	tag_len;
	bool	aead;
};

static const struct sluice_srtp_suite_info sluice_srtp_suites[SLUICE_SRTP_SUITES] = {
	[SLUICE_SRTP_AES_CM_128_HMAC_SHA1_80]	= { 16, 14, 10, false },
	[SLUICE_SRTP_AES_CM_128_HMAC_SHA1_32]	= { 16, 14, 4, false },
	[SLUICE_SRTP_AEAD_AES_128_GCM]		= { 16, 12, SRTP_GCM_TAG, true },
	[SLUICE_SRTP_AEAD_AES_256_GCM]		= { 32, 12, SRTP_GCM_TAG, true },
};

/* One direction. The transforms and salt are fixed after set-up; ->lock guards the
 * index state and the GCM request (one per direction, so none is allocated per
 * packet). */
struct sluice_srtp_dir {
	spinlock_t			lock;
	u8				suite;		/* SLUICE_SRTP_NONE: no transform */
	u8				tag_len;
	bool				aead;
	u8				salt[14];
	struct crypto_sync_skcipher	*ctr;		/* AES-CM: ctr(aes) */
	struct crypto_shash		*hmac;		/* AES-CM: hmac(sha1) */
	struct crypto_aead		*gcm;		/* GCM: gcm(aes) */
	struct aead_request		*req;		/* GCM */
	/* under lock */
	bool				valid;		/* ssrc/top bound */
	u32				ssrc;
	u64				top;		/* highest index: ROC << 16 | seq */
	u64				win[2];		/* decrypt: bit i = top - i received */
};

struct sluice_srtp {
	struct sluice_srtp_dir	dec, enc;
	atomic64_t		decrypted, encrypted, auth_failed, replayed, malformed, passed;
	struct rcu_work		free_work;
};

static struct workqueue_struct *sluice_srtp_wq;

/* Byte-wise reads of the RTP header (any alignment; no <asm|linux/unaligned.h>, which
 * moved in 6.12). */
static inline u16 srtp_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 srtp_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* ---- index and replay window (RFC 3711 3.3.1, 3.3.2) ---- */

/* The index of seq given the highest one seen; the first packet is at ROC 0, and a
 * guess of ROC -1 is read as ROC 0 (userspace lib/srtp_replay.c does the same). */
static u64 srtp_index(const struct sluice_srtp_dir *d, u16 seq)
{
	u64 roc;
	u16 s_l;

	if (!d->valid)
		return seq;
	roc = d->top >> 16;
	s_l = d->top & 0xffff;
	if (s_l < 32768) {
		if ((int)seq - (int)s_l > 32768 && roc)
			roc--;
	} else if ((int)s_l - 32768 > (int)seq) {
		roc++;
	}
	return roc << 16 | seq;
}

static bool srtp_replayed(const struct sluice_srtp_dir *d, u64 idx)
{
	u64 delta;

	if (!d->valid || idx > d->top)
		return false;
	delta = d->top - idx;
	if (delta >= SLUICE_SRTP_WINDOW)
		return true;
	return d->win[delta / 64] >> (delta % 64) & 1;
}

/* Records idx; the window slides when it is above the top. */
static void srtp_advance(struct sluice_srtp_dir *d, u64 idx)
{
	u64 shift;

	if (!d->valid || idx > d->top) {
		shift = d->valid ? idx - d->top : SLUICE_SRTP_WINDOW;
		if (shift >= 128) {
			d->win[0] = d->win[1] = 0;
		} else if (shift >= 64) {
			d->win[1] = d->win[0] << (shift - 64);
			d->win[0] = 0;
		} else {
			d->win[1] = d->win[1] << shift | d->win[0] >> (64 - shift);
			d->win[0] <<= shift;
		}
		d->top = idx;
		d->valid = true;
		d->win[0] |= 1;
		return;
	}
	shift = d->top - idx;
	if (shift < SLUICE_SRTP_WINDOW)
		d->win[shift / 64] |= 1ull << (shift % 64);
}

/* ---- the transforms ---- */

static int srtp_rtp_hlen(const u8 *p, unsigned int len)
{
	unsigned int h;

	if (len < 12 || p[0] >> 6 != 2)
		return -EINVAL;
	h = 12 + 4 * (p[0] & 0xf);
	if (p[0] & 0x10) {
		if (len < h + 4)
			return -EINVAL;
		h += 4 + 4 * srtp_be16(p + h + 2);
	}
	return h <= len ? h : -EINVAL;
}

/* AES-CM (RFC 3711 4.1.1): IV = salt << 16 ^ SSRC << 64 ^ index << 16. */
static int srtp_cm_crypt(const struct sluice_srtp_dir *d, u32 ssrc, u64 idx, u8 *p,
			 unsigned int len)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, d->ctr);
	struct scatterlist sg;
	u8 iv[16];
	int i, ret;

	if (!len)
		return 0;
	memcpy(iv, d->salt, 14);
	iv[14] = iv[15] = 0;
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= ssrc >> (24 - 8 * i);
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= idx >> (40 - 8 * i);
	sg_init_one(&sg, p, len);
	skcipher_request_set_sync_tfm(req, d->ctr);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, len, iv);
	ret = crypto_skcipher_encrypt(req);
	skcipher_request_zero(req);
	return ret;
}

/* HMAC-SHA1 over the authenticated portion and the ROC (RFC 3711 4.2). */
static int srtp_cm_tag(const struct sluice_srtp_dir *d, const u8 *p, unsigned int len,
		       u32 roc, u8 out[SRTP_SHA1_LEN])
{
	SHASH_DESC_ON_STACK(desc, d->hmac);
	__be32 r = cpu_to_be32(roc);
	int ret;

	desc->tfm = d->hmac;
	ret = crypto_shash_init(desc);
	if (!ret)
		ret = crypto_shash_update(desc, p, len);
	if (!ret)
		ret = crypto_shash_finup(desc, (const u8 *)&r, sizeof(r), out);
	shash_desc_zero(desc);
	return ret;
}

/* AEAD-AES-GCM (RFC 7714 8): IV = salt ^ (0, 0, SSRC, ROC, SEQ); the header is the
 * associated data; clen is the plaintext (seal) or ciphertext with tag (open). */
static int srtp_gcm(const struct sluice_srtp_dir *d, bool seal, u32 ssrc, u64 idx, u8 *p,
		    unsigned int hlen, unsigned int clen)
{
	struct scatterlist sg;
	u8 iv[12];
	int i;

	memcpy(iv, d->salt, 12);
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= ssrc >> (24 - 8 * i);
	for (i = 0; i < 6; i++)
		iv[6 + i] ^= idx >> (40 - 8 * i);
	sg_init_one(&sg, p, hlen + clen + (seal ? SRTP_GCM_TAG : 0));
	aead_request_set_callback(d->req, 0, NULL, NULL);
	aead_request_set_crypt(d->req, &sg, &sg, clen, iv);
	aead_request_set_ad(d->req, hlen);
	return seal ? crypto_aead_encrypt(d->req) : crypto_aead_decrypt(d->req);
}

/* SRTP -> RTP in place. 0 and *len shortened, SLUICE_SRTP_PASS (another SSRC), or
 * -EINVAL (malformed), -EALREADY (replay), -EBADMSG (tag). d->lock held. */
static int srtp_open(struct sluice_srtp_dir *d, u8 *p, unsigned int *len)
{
	int hlen = srtp_rtp_hlen(p, *len);
	unsigned int body;
	u8 mac[SRTP_SHA1_LEN];
	u32 ssrc;
	u64 idx;
	int ret;

	if (hlen < 0 || *len < hlen + d->tag_len)
		return -EINVAL;
	ssrc = srtp_be32(p + 8);
	if (d->valid && ssrc != d->ssrc)
		return SLUICE_SRTP_PASS;
	idx = srtp_index(d, srtp_be16(p + 2));
	if (srtp_replayed(d, idx))
		return -EALREADY;
	body = *len - hlen - d->tag_len;
	if (d->aead) {
		ret = srtp_gcm(d, false, ssrc, idx, p, hlen, body + d->tag_len);
	} else {
		ret = srtp_cm_tag(d, p, hlen + body, idx >> 16, mac);
		if (!ret && crypto_memneq(mac, p + hlen + body, d->tag_len))
			ret = -EBADMSG;
		if (!ret)
			ret = srtp_cm_crypt(d, ssrc, idx, p + hlen, body);
	}
	if (ret)
		return ret == -EBADMSG ? ret : -EINVAL;
	d->ssrc = ssrc;
	srtp_advance(d, idx);
	*len = hlen + body;
	return 0;
}

/* RTP -> SRTP in place; the caller made d->tag_len bytes of room after *len. */
static int srtp_seal(struct sluice_srtp_dir *d, u8 *p, unsigned int *len)
{
	int hlen = srtp_rtp_hlen(p, *len);
	unsigned int body;
	u32 ssrc;
	u64 idx;
	int ret;

	if (hlen < 0)
		return -EINVAL;
	ssrc = srtp_be32(p + 8);
	if (d->valid && ssrc != d->ssrc)
		return SLUICE_SRTP_PASS;
	idx = srtp_index(d, srtp_be16(p + 2));
	body = *len - hlen;
	if (d->aead) {
		ret = srtp_gcm(d, true, ssrc, idx, p, hlen, body);
	} else {
		u8 mac[SRTP_SHA1_LEN];

		ret = srtp_cm_crypt(d, ssrc, idx, p + hlen, body);
		if (!ret)
			ret = srtp_cm_tag(d, p, hlen + body, idx >> 16, mac);
		if (!ret)
			memcpy(p + hlen + body, mac, d->tag_len);
	}
	if (ret)
		return -EINVAL;
	d->ssrc = ssrc;
	if (!d->valid || idx > d->top) {
		d->top = idx;
		d->valid = true;
	}
	*len = hlen + body + d->tag_len;
	return 0;
}

/* ---- the packet path ---- */

static struct sluice_srtp *sluice_srtp_rcu(const struct sluice_instance *inst, u32 slot)
{
	struct sluice_srtp_table *t = rcu_dereference(inst->srtp);

	return t ? rcu_dereference(t->slot[slot]) : NULL;
}

static void srtp_count(struct sluice_srtp *s, int ret)
{
	switch (ret) {
	case -EBADMSG:
		atomic64_inc(&s->auth_failed);
		break;
	case -EALREADY:
		atomic64_inc(&s->replayed);
		break;
	case SLUICE_SRTP_PASS:
		atomic64_inc(&s->passed);
		break;
	default:
		atomic64_inc(&s->malformed);
	}
}

/* Not SRTP for the kernel: anything but RTP by its first byte (RFC 7983: STUN, DTLS,
 * ZRTP share the port) and RTCP (RFC 5761 4). */
static bool srtp_not_rtp(const u8 *p, unsigned int len)
{
	return len < 2 || p[0] < 128 || p[0] > 191 || (p[1] >= 192 && p[1] <= 223);
}

/* Would the encrypting side refuse this SSRC? Asked before decrypting, so a packet
 * handed to userspace is never one already decrypted. A racing first packet of
 * another SSRC can still win the binding: that packet is then dropped. */
static bool srtp_enc_other(struct sluice_srtp_dir *d, const u8 *p, unsigned int len)
{
	return d->suite && len >= 12 && READ_ONCE(d->valid) &&
	       srtp_be32(p + 8) != READ_ONCE(d->ssrc);
}

static int srtp_decrypt(struct sluice_srtp *s, u8 *p, unsigned int *plen)
{
	int ret;

	spin_lock_bh(&s->dec.lock);
	ret = srtp_open(&s->dec, p, plen);
	spin_unlock_bh(&s->dec.lock);
	if (!ret)
		atomic64_inc(&s->decrypted);
	return ret;
}

static int srtp_encrypt(struct sluice_srtp *s, struct sk_buff *skb, unsigned int off,
			unsigned int *plen, bool decrypted)
{
	unsigned int room = s->enc.tag_len;
	int ret;

	if (skb_tailroom(skb) < room &&
	    pskb_expand_head(skb, 0, room - skb_tailroom(skb), GFP_ATOMIC))
		return -ENOMEM;
	__skb_put(skb, room);
	spin_lock_bh(&s->enc.lock);
	ret = srtp_seal(&s->enc, skb->data + off, plen);
	spin_unlock_bh(&s->enc.lock);
	if (ret) {
		__skb_trim(skb, skb->len - room);
		/* a decrypted packet must not reach userspace as if it arrived so */
		return ret == SLUICE_SRTP_PASS && decrypted ? -EINVAL : ret;
	}
	atomic64_inc(&s->encrypted);
	return 0;
}

int sluice_srtp_packet(const struct sluice_instance *inst, u32 slot, struct sk_buff *skb,
		       unsigned int off, unsigned int *plen)
{
	struct sluice_srtp *s = sluice_srtp_rcu(inst, slot);
	const u8 *p;
	int ret;

	if (unlikely(!s))
		return SLUICE_SRTP_PASS;
	if (unlikely(skb_ensure_writable(skb, off + *plen) || skb_linearize(skb))) {
		ret = -ENOMEM;
		goto bad;
	}
	/* linear and ours from here; the skb ends at the payload (sluice_check_udp) */
	p = skb->data + off;
	if (unlikely(srtp_not_rtp(p, *plen) || srtp_enc_other(&s->enc, p, *plen))) {
		ret = SLUICE_SRTP_PASS;
		goto bad;
	}
	if (s->dec.suite) {
		ret = srtp_decrypt(s, skb->data + off, plen);
		if (ret)
			goto bad;
		__skb_trim(skb, off + *plen);
	}
	if (s->enc.suite) {
		ret = srtp_encrypt(s, skb, off, plen, s->dec.suite);
		if (ret)
			goto bad;
	}
	return SLUICE_SRTP_FWD;
bad:
	srtp_count(s, ret);
	return ret;
}

/* ---- set-up ---- */

static void srtp_dir_free(struct sluice_srtp_dir *d)
{
	if (d->req)
		aead_request_free(d->req);
	if (d->gcm)
		crypto_free_aead(d->gcm);
	if (d->ctr)
		crypto_free_sync_skcipher(d->ctr);
	if (d->hmac)
		crypto_free_shash(d->hmac);
	memzero_explicit(d->salt, sizeof(d->salt));
}

static int srtp_dir_keys(struct sluice_srtp_dir *d, const struct sluice_srtp_key *k,
			 const struct sluice_srtp_suite_info *si)
{
	int ret;

	if (si->aead) {
		d->gcm = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_ALG_ASYNC);
		if (IS_ERR(d->gcm)) {
			ret = PTR_ERR(d->gcm);
			d->gcm = NULL;
			return ret;
		}
		ret = crypto_aead_setkey(d->gcm, k->key, si->key_len);
		if (!ret)
			ret = crypto_aead_setauthsize(d->gcm, SRTP_GCM_TAG);
		if (ret)
			return ret;
		d->req = aead_request_alloc(d->gcm, GFP_KERNEL);
		return d->req ? 0 : -ENOMEM;
	}
	d->ctr = crypto_alloc_sync_skcipher("ctr(aes)", 0, 0);
	if (IS_ERR(d->ctr)) {
		ret = PTR_ERR(d->ctr);
		d->ctr = NULL;
		return ret;
	}
	d->hmac = crypto_alloc_shash("hmac(sha1)", 0, 0);
	if (IS_ERR(d->hmac)) {
		ret = PTR_ERR(d->hmac);
		d->hmac = NULL;
		return ret;
	}
	ret = crypto_sync_skcipher_setkey(d->ctr, k->key, si->key_len);
	if (!ret)
		ret = crypto_shash_setkey(d->hmac, k->auth, SRTP_SHA1_LEN);
	return ret;
}

static int srtp_dir_init(struct sluice_srtp_dir *d, const struct sluice_srtp_key *k)
{
	const struct sluice_srtp_suite_info *si = &sluice_srtp_suites[k->suite];

	spin_lock_init(&d->lock);
	if (k->suite == SLUICE_SRTP_NONE)
		return 0;
	d->suite = k->suite;
	d->tag_len = si->tag_len;
	d->aead = si->aead;
	memcpy(d->salt, k->salt, si->salt_len);
	d->valid = k->idx.valid;
	d->ssrc = k->idx.ssrc;
	d->top = (u64)k->idx.roc << 16 | k->idx.seq;
	d->win[0] = k->idx.window[0];
	d->win[1] = k->idx.window[1];
	return srtp_dir_keys(d, k, si);
}

static int srtp_key_check(const struct sluice_srtp_key *k, bool decrypt)
{
	const struct sluice_srtp_suite_info *si;
	const struct sluice_srtp_index *x = &k->idx;

	if (k->suite == SLUICE_SRTP_NONE)
		return memchr_inv(k, 0, sizeof(*k)) ? -EINVAL : 0;
	if (k->suite >= SLUICE_SRTP_SUITES || k->pad2 || memchr_inv(k->pad, 0, sizeof(k->pad)))
		return -EINVAL;
	si = &sluice_srtp_suites[k->suite];
	if (memchr_inv(k->key + si->key_len, 0, sizeof(k->key) - si->key_len) ||
	    memchr_inv(k->salt + si->salt_len, 0, sizeof(k->salt) - si->salt_len) ||
	    (si->aead && memchr_inv(k->auth, 0, sizeof(k->auth))))
		return -EINVAL;
	if (x->pad || x->pad2 || x->valid > 1)
		return -EINVAL;
	if (!x->valid && (x->ssrc || x->roc || x->seq))
		return -EINVAL;
	if ((!x->valid || !decrypt) && (x->window[0] || x->window[1]))
		return -EINVAL;
	return 0;
}

static void sluice_srtp_free(struct sluice_srtp *s)
{
	srtp_dir_free(&s->dec);
	srtp_dir_free(&s->enc);
	kfree_sensitive(s);
}

static void sluice_srtp_free_work(struct work_struct *w)
{
	sluice_srtp_free(container_of(to_rcu_work(w), struct sluice_srtp, free_work));
}

/* After a grace period, in process context (freeing a transform may sleep). */
static void sluice_srtp_put(struct sluice_srtp *s)
{
	if (!s)
		return;
	INIT_RCU_WORK(&s->free_work, sluice_srtp_free_work);
	queue_rcu_work(sluice_srtp_wq, &s->free_work);
}

/* inst->lock held: the table, made on first use. */
static struct sluice_srtp_table *srtp_table(struct sluice_instance *inst)
{
	struct sluice_srtp_table *t;

	t = rcu_dereference_protected(inst->srtp, lockdep_is_held(&inst->lock));
	if (t)
		return t;
	t = kvzalloc(struct_size(t, slot, inst->capacity), GFP_KERNEL);
	if (!t)
		return NULL;
	t->n = inst->capacity;
	rcu_assign_pointer(inst->srtp, t);
	return t;
}

/* inst->lock held. Installs s (may be NULL) and returns the slot's previous. */
static struct sluice_srtp *srtp_swap(struct sluice_instance *inst, u32 slot,
				     struct sluice_srtp *s)
{
	struct sluice_srtp_table *t = srtp_table(inst);
	struct sluice_srtp *old;

	if (!t)
		return ERR_PTR(-ENOMEM);
	old = rcu_dereference_protected(t->slot[slot], lockdep_is_held(&inst->lock));
	rcu_assign_pointer(t->slot[slot], s);
	return old;
}

int sluice_srtp_set(struct sluice_instance *inst, const struct sluice_msg_srtp *m)
{
	struct sluice_srtp *s, *old;
	int ret;

	if (m->pad)
		return -EINVAL;
	if (m->slot >= inst->capacity)
		return -ERANGE;
	ret = srtp_key_check(&m->decrypt, true);
	if (!ret)
		ret = srtp_key_check(&m->encrypt, false);
	if (ret)
		return ret;
	if (m->decrypt.suite == SLUICE_SRTP_NONE && m->encrypt.suite == SLUICE_SRTP_NONE)
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	ret = srtp_dir_init(&s->dec, &m->decrypt);
	if (!ret)
		ret = srtp_dir_init(&s->enc, &m->encrypt);
	if (ret)
		goto err;
	mutex_lock(&inst->lock);
	old = srtp_swap(inst, m->slot, s);
	mutex_unlock(&inst->lock);
	if (IS_ERR(old)) {
		ret = PTR_ERR(old);
		goto err;
	}
	sluice_srtp_put(old);
	return 0;
err:
	sluice_srtp_free(s);
	return ret;
}

int sluice_srtp_del(struct sluice_instance *inst, u32 slot)
{
	struct sluice_srtp_table *t;
	struct sluice_srtp *old = NULL;

	if (slot >= inst->capacity)
		return -ERANGE;
	mutex_lock(&inst->lock);
	t = rcu_dereference_protected(inst->srtp, lockdep_is_held(&inst->lock));
	if (t) {
		old = rcu_dereference_protected(t->slot[slot], lockdep_is_held(&inst->lock));
		RCU_INIT_POINTER(t->slot[slot], NULL);
	}
	mutex_unlock(&inst->lock);
	sluice_srtp_put(old);
	return old ? 0 : -ENOENT;
}

void sluice_srtp_flush(struct sluice_instance *inst)
{
	struct sluice_srtp_table *t;
	u32 i;

	mutex_lock(&inst->lock);
	t = rcu_dereference_protected(inst->srtp, lockdep_is_held(&inst->lock));
	for (i = 0; t && i < t->n; i++) {
		sluice_srtp_put(rcu_dereference_protected(t->slot[i],
							  lockdep_is_held(&inst->lock)));
		RCU_INIT_POINTER(t->slot[i], NULL);
		if (!(i & 1023))
			cond_resched();
	}
	mutex_unlock(&inst->lock);
}

bool sluice_srtp_has(struct sluice_instance *inst, u32 slot)
{
	bool has;

	rcu_read_lock();
	has = slot < inst->capacity && sluice_srtp_rcu(inst, slot);
	rcu_read_unlock();
	return has;
}

void sluice_srtp_free_all(struct sluice_instance *inst)
{
	struct sluice_srtp_table *t = rcu_dereference_raw(inst->srtp);
	u32 i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		struct sluice_srtp *s = rcu_dereference_raw(t->slot[i]);

		if (s)
			sluice_srtp_free(s);
	}
	kvfree(t);
	RCU_INIT_POINTER(inst->srtp, NULL);
}

/* ---- read-back: /proc/net/sluice/<id>/srtp ---- */

static void srtp_dir_read(struct sluice_srtp_dir *d, struct sluice_srtp_index *x, u8 *suite)
{
	*suite = d->suite;
	spin_lock_bh(&d->lock);
	x->valid = d->valid;
	x->ssrc = d->ssrc;
	x->roc = d->top >> 16;
	x->seq = d->top & 0xffff;
	x->window[0] = d->win[0];
	x->window[1] = d->win[1];
	spin_unlock_bh(&d->lock);
}

static int srtp_state(const struct sluice_instance *inst, u32 slot,
		      struct sluice_srtp_state *st)
{
	struct sluice_srtp *s;

	memset(st, 0, sizeof(*st));
	rcu_read_lock();
	s = sluice_srtp_rcu(inst, slot);
	if (s) {
		srtp_dir_read(&s->dec, &st->decrypt, &st->decrypt_suite);
		srtp_dir_read(&s->enc, &st->encrypt, &st->encrypt_suite);
		st->decrypted = atomic64_read(&s->decrypted);
		st->encrypted = atomic64_read(&s->encrypted);
		st->auth_failed = atomic64_read(&s->auth_failed);
		st->replayed = atomic64_read(&s->replayed);
		st->malformed = atomic64_read(&s->malformed);
		st->passed = atomic64_read(&s->passed);
	}
	rcu_read_unlock();
	return s ? 0 : -ENOENT;
}

static ssize_t sluice_srtp_file_read(struct file *file, char __user *buf, size_t len,
				     loff_t *ppos)
{
	struct sluice_instance *inst = pde_data(file_inode(file));
	struct sluice_srtp_state st;
	loff_t slot;
	int ret;

	if (len != sizeof(st) || *ppos < 0 || *ppos % sizeof(st))
		return -EINVAL;
	slot = *ppos / sizeof(st);
	if (slot >= inst->capacity)
		return -ERANGE;
	ret = srtp_state(inst, (u32)slot, &st);
	if (ret)
		return ret;
	if (copy_to_user(buf, &st, sizeof(st)))
		return -EFAULT;
	return sizeof(st);
}

static const struct proc_ops sluice_srtp_ops = {
	.proc_read	= sluice_srtp_file_read,
	.proc_lseek	= default_llseek,
};

struct proc_dir_entry *sluice_srtp_proc_init(struct sluice_instance *inst)
{
	return proc_create_data("srtp", 0400, inst->dir, &sluice_srtp_ops, inst);
}

int sluice_srtp_init(void)
{
	sluice_srtp_wq = alloc_workqueue("sluice_srtp", WQ_UNBOUND, 0);
	return sluice_srtp_wq ? 0 : -ENOMEM;
}

/* Every instance is gone: wait for the frees queued behind a grace period. */
void sluice_srtp_exit(void)
{
	rcu_barrier();
	destroy_workqueue(sluice_srtp_wq);
}
