/* The reference model of the control interface (see kmodel.h). */
#include <errno.h>
#include <string.h>

#include "kmodel.h"

struct kmodel kmodel;

static bool zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool addr_ok(const struct sluice_addr *a, bool may_be_none)
{
	if (a->pad0 || a->pad1)
		return false;
	switch (a->family) {
	case SLUICE_FAMILY_NONE:
		return may_be_none && !a->port && zero(a->addr, 16);
	case SLUICE_FAMILY_INET:
		return a->port && zero(a->addr + 4, 12) && !zero(a->addr, 4);
	case SLUICE_FAMILY_INET6:
		return a->port && !zero(a->addr, 16);
	}
	return false;
}

static bool stream_ok(const struct sluice_stream *s)
{
	if ((s->flags & ~SLUICE_SF_ALL) || !zero(s->pad, sizeof(s->pad)))
		return false;
	/* a clock (at most SLUICE_MAX_CLOCK_RATE) and a jitter seed (which needs a clock)
	 * only for a measured stream */
	if (s->clock_rate > SLUICE_MAX_CLOCK_RATE || (s->jitter16 && !s->clock_rate) ||
	    (!(s->flags & SLUICE_SF_QUALITY) && s->clock_rate))
		return false;
	if (!addr_ok(&s->local, false) || !addr_ok(&s->expect_src, true) ||
	    !addr_ok(&s->out_src, false) || !addr_ok(&s->out_dst, false))
		return false;
	if (s->expect_src.family != SLUICE_FAMILY_NONE && s->expect_src.family != s->local.family)
		return false;
	return s->out_src.family == s->out_dst.family;
}

/* kernel_srtp_abi.h: lengths per suite, zero beyond them */
static bool srtp_key_ok(const struct sluice_srtp_key *k, bool decrypt)
{
	static const unsigned char klen[] = { 0, 16, 16, 16, 32 }, slen[] = { 0, 14, 14, 12, 12 };
	const struct sluice_srtp_index *x = &k->idx;

	if (k->suite == SLUICE_SRTP_NONE)
		return zero(k, sizeof(*k));
	if (k->suite >= SLUICE_SRTP_SUITES || k->pad2 || !zero(k->pad, sizeof(k->pad)) ||
	    !zero(k->key + klen[k->suite], sizeof(k->key) - klen[k->suite]) ||
	    !zero(k->salt + slen[k->suite], sizeof(k->salt) - slen[k->suite]) ||
	    (k->suite >= SLUICE_SRTP_AEAD_AES_128_GCM && !zero(k->auth, sizeof(k->auth))))
		return false;
	if (x->pad || x->pad2 || x->valid > 1 || (!x->valid && (x->ssrc || x->roc || x->seq)))
		return false;
	return (x->valid && decrypt) || (!x->window[0] && !x->window[1]);
}

static int predict_srtp(const void *buf, size_t len)
{
	struct sluice_msg_srtp m;

	if (len != sizeof(m))
		return -EINVAL;
	memcpy(&m, buf, sizeof(m));
	if (m.pad)
		return -EINVAL;
	if (m.slot >= KM_CAP)
		return -ERANGE;
	if (!srtp_key_ok(&m.decrypt, true) || !srtp_key_ok(&m.encrypt, false) ||
	    (m.decrypt.suite == SLUICE_SRTP_NONE && m.encrypt.suite == SLUICE_SRTP_NONE))
		return -EINVAL;
	return 0;
}

static bool same_local(const struct sluice_addr *a, const struct sluice_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

/* Slot holding `local`, other than `self`; -1 if none. */
static int local_owner(const struct sluice_addr *local, int self)
{
	for (unsigned int i = 0; i < KM_CAP; i++)
		if (kmodel.used[i] && (int)i != self && same_local(&kmodel.local[i], local))
			return (int)i;
	return -1;
}

/* The header checks both control files share. */
static int predict_hdr(const void *buf, size_t len)
{
	struct sluice_msg_hdr h;

	if (len < sizeof(h) || len > KM_MAXMSG)
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.version != SLUICE_ABI_VERSION)
		return -EPROTO;
	if (h.len != len || h.reserved || h.pad)
		return -EINVAL;
	return 0;
}

int kmodel_predict_inst(const void *buf, size_t len)
{
	struct sluice_msg_stream m;
	struct sluice_msg_slot d = { 0 };
	int r = predict_hdr(buf, len);

	if (r)
		return r;
	memset(&m, 0, sizeof(m));
	memcpy(&m, buf, len < sizeof(m) ? len : sizeof(m));
	switch (m.hdr.cmd) {
	case SLUICE_CMD_ADD:
	case SLUICE_CMD_UPDATE:
		if (len != sizeof(m) || m.pad)
			return -EINVAL;
		if (m.slot >= KM_CAP)
			return -ERANGE;
		if (!stream_ok(&m.stream))
			return -EINVAL;
		if ((m.stream.flags & SLUICE_SF_SRTP) && !kmodel.srtp[m.slot])
			return -ENOKEY;
		if (m.hdr.cmd == SLUICE_CMD_ADD)
			return kmodel.used[m.slot] ? -EBUSY :
			       local_owner(&m.stream.local, -1) >= 0 ? -EEXIST : 0;
		return !kmodel.used[m.slot] ? -ENOENT :
		       local_owner(&m.stream.local, (int)m.slot) >= 0 ? -EEXIST : 0;
	case SLUICE_CMD_DEL:
		memcpy(&d, buf, sizeof(d) < len ? sizeof(d) : len);
		if (len != sizeof(d) || d.pad)
			return -EINVAL;
		if (d.slot >= KM_CAP)
			return -ERANGE;
		return kmodel.used[d.slot] ? 0 : -ENOENT;
	case SLUICE_CMD_FLUSH:
		return len == sizeof(struct sluice_msg_hdr) ? 0 : -EINVAL;
	case SLUICE_CMD_SET_TOKEN:	/* any value; the table does not change */
		return len == sizeof(struct sluice_msg_token) ? 0 : -EINVAL;
	case SLUICE_CMD_SRTP_SET:
		return predict_srtp(buf, len);
	case SLUICE_CMD_SRTP_DEL:
		memcpy(&d, buf, sizeof(d) < len ? sizeof(d) : len);
		if (len != sizeof(d) || d.pad)
			return -EINVAL;
		if (d.slot >= KM_CAP)
			return -ERANGE;
		return kmodel.srtp[d.slot] ? 0 : -ENOENT;
	}
	return -EOPNOTSUPP;
}

void kmodel_apply_inst(const void *buf)
{
	const struct sluice_msg_stream *m = buf;
	const struct sluice_msg_slot *d = buf;
	const struct sluice_msg_srtp *x = buf;

	switch (m->hdr.cmd) {
	case SLUICE_CMD_ADD:
		kmodel.entries++;
		/* fall through */
	case SLUICE_CMD_UPDATE:
		kmodel.used[m->slot] = true;
		kmodel.local[m->slot] = m->stream.local;
		break;
	case SLUICE_CMD_DEL:
		kmodel.used[d->slot] = false;
		kmodel.entries--;
		break;
	case SLUICE_CMD_FLUSH:
		memset(kmodel.used, 0, sizeof(kmodel.used));
		memset(kmodel.srtp, 0, sizeof(kmodel.srtp));
		kmodel.entries = 0;
		break;
	case SLUICE_CMD_SRTP_SET:
		kmodel.srtp[x->slot] = true;
		break;
	case SLUICE_CMD_SRTP_DEL:
		kmodel.srtp[d->slot] = false;
		break;
	}
}

int kmodel_predict_net(const void *buf, size_t len)
{
	struct sluice_msg_instance m;
	int r = predict_hdr(buf, len);

	if (r)
		return r;
	memset(&m, 0, sizeof(m));
	memcpy(&m, buf, len < sizeof(m) ? len : sizeof(m));
	switch (m.hdr.cmd) {
	case SLUICE_CMD_INSTANCE_CREATE:
		if (len != sizeof(m))
			return -EINVAL;
		if (m.id >= SLUICE_MAX_INSTANCES || !m.capacity || m.capacity > SLUICE_MAX_CAPACITY)
			return -ERANGE;
		return kmodel.inst[m.id] ? -EEXIST : 0;
	case SLUICE_CMD_INSTANCE_DESTROY:
		if (len != sizeof(m) || m.capacity)
			return -EINVAL;
		if (m.id >= SLUICE_MAX_INSTANCES)
			return -ERANGE;
		return kmodel.inst[m.id] ? 0 : -ENOENT;
	}
	return -EOPNOTSUPP;
}

void kmodel_apply_net(const void *buf)
{
	const struct sluice_msg_instance *m = buf;

	kmodel.inst[m->id] = m->hdr.cmd == SLUICE_CMD_INSTANCE_CREATE;
}
