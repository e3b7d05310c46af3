// SPDX-License-Identifier: GPL-2.0
/* The control interface: /proc/net/sluice/control (instances) and, per instance,
 * /proc/net/sluice/<id>/{control,stats,list}. Every message is checked here before
 * anything else sees it; see include/sluice/kernel_abi.h for the errno contract. */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "sluice.h"
#include "compat.h"

union sluice_msg {
	struct sluice_msg_hdr		hdr;
	struct sluice_msg_instance	inst;
	struct sluice_msg_stream	stream;
	struct sluice_msg_slot		slot;
	struct sluice_msg_token		token;
	struct sluice_msg_srtp		srtp;
};

static int sluice_addr_check(const struct sluice_addr *a, bool may_be_none)
{
	unsigned int i;
	u8 nonzero = 0;

	if (a->pad0 || a->pad1)
		return -EINVAL;
	switch (a->family) {
	case SLUICE_FAMILY_NONE:
		if (!may_be_none || a->port)
			return -EINVAL;
		for (i = 0; i < sizeof(a->addr); i++)
			if (a->addr[i])
				return -EINVAL;
		return 0;
	case SLUICE_FAMILY_INET:
		for (i = 4; i < sizeof(a->addr); i++)
			if (a->addr[i])
				return -EINVAL;
		nonzero = a->addr[0] | a->addr[1] | a->addr[2] | a->addr[3];
		break;
	case SLUICE_FAMILY_INET6:
		for (i = 0; i < sizeof(a->addr); i++)
			nonzero |= a->addr[i];
		break;
	default:
		return -EINVAL;
	}
	/* wildcard addresses never appear on a packet and give no source to send from */
	return a->port && nonzero ? 0 : -EINVAL;
}

static int sluice_stream_check(const struct sluice_stream *s)
{
	int ret;

	if (s->flags & ~SLUICE_SF_ALL)
		return -EINVAL;
	if (s->pad[0] || s->pad[1] || s->pad[2])
		return -EINVAL;
	/* the clock and the jitter to continue from belong to a measured stream */
	if (s->clock_rate > SLUICE_MAX_CLOCK_RATE ||
	    (!(s->flags & SLUICE_SF_QUALITY) && (s->clock_rate || s->jitter16)) ||
	    (!s->clock_rate && s->jitter16))
		return -EINVAL;
	if ((ret = sluice_addr_check(&s->local, false)) ||
	    (ret = sluice_addr_check(&s->expect_src, true)) ||
	    (ret = sluice_addr_check(&s->out_src, false)) ||
	    (ret = sluice_addr_check(&s->out_dst, false)))
		return ret;
	if (s->expect_src.family != SLUICE_FAMILY_NONE &&
	    s->expect_src.family != s->local.family)
		return -EINVAL;
	if (s->out_src.family != s->out_dst.family)
		return -EINVAL;
	return 0;
}

/* Copies one message of exactly `len` bytes and checks the header. */
static int sluice_msg_get(union sluice_msg *m, const char __user *buf, size_t len)
{
	if (len < sizeof(m->hdr) || len > sizeof(*m))
		return -EINVAL;
	if (copy_from_user(m, buf, len))
		return -EFAULT;
	if (m->hdr.version != SLUICE_ABI_VERSION)
		return -EPROTO;
	if (m->hdr.len != len || m->hdr.reserved || m->hdr.pad)
		return -EINVAL;
	return 0;
}

static int sluice_need(const union sluice_msg *m, size_t size)
{
	return m->hdr.len == size ? 0 : -EINVAL;
}

static bool sluice_may_control(const struct file *file, const struct net *net)
{
	return file_ns_capable(file, net->user_ns, CAP_NET_ADMIN);
}

/* ---- /proc/net/sluice/control ---- */

static ssize_t sluice_netctl_write(struct file *file, const char __user *buf, size_t len,
				   loff_t *ppos)
{
	struct net *net = pde_data(file_inode(file));
	union sluice_msg m;
	int ret;

	if (!sluice_may_control(file, net))
		return -EPERM;
	ret = sluice_msg_get(&m, buf, len);
	if (ret)
		return ret;
	switch (m.hdr.cmd) {
	case SLUICE_CMD_INSTANCE_CREATE:
		ret = sluice_need(&m, sizeof(m.inst));
		if (!ret)
			ret = sluice_instance_create(sluice_net(net), net, m.inst.id,
						     m.inst.capacity);
		break;
	case SLUICE_CMD_INSTANCE_DESTROY:
		ret = sluice_need(&m, sizeof(m.inst));
		if (!ret && m.inst.capacity)
			ret = -EINVAL;
		if (!ret)
			ret = sluice_instance_destroy(sluice_net(net), m.inst.id);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	return ret ? ret : len;
}

static const struct proc_ops sluice_netctl_ops = {
	.proc_write	= sluice_netctl_write,
	.proc_lseek	= noop_llseek,
};

/* ---- /proc/net/sluice/<id>/control ---- */

static int sluice_ctl_stream(struct sluice_instance *inst, const union sluice_msg *m)
{
	int ret;

	ret = sluice_need(m, sizeof(m->stream));
	if (ret)
		return ret;
	if (m->stream.pad)
		return -EINVAL;
	if (m->stream.slot >= inst->capacity)
		return -ERANGE;
	ret = sluice_stream_check(&m->stream.stream);
	if (ret)
		return ret;
	/* keys first: an SRTP entry never forwards a packet untransformed */
	if ((m->stream.stream.flags & SLUICE_SF_SRTP) && !sluice_srtp_has(inst, m->stream.slot))
		return -ENOKEY;
	if (m->hdr.cmd == SLUICE_CMD_ADD)
		return sluice_table_add(inst, m->stream.slot, &m->stream.stream);
	return sluice_table_update(inst, m->stream.slot, &m->stream.stream);
}

static ssize_t sluice_ctl_write(struct file *file, const char __user *buf, size_t len,
				loff_t *ppos)
{
	struct sluice_instance *inst = pde_data(file_inode(file));
	union sluice_msg m;
	int ret;

	if (!sluice_may_control(file, inst->net))
		return -EPERM;
	ret = sluice_msg_get(&m, buf, len);
	if (ret)
		return ret;
	switch (m.hdr.cmd) {
	case SLUICE_CMD_ADD:
	case SLUICE_CMD_UPDATE:
		ret = sluice_ctl_stream(inst, &m);
		break;
	case SLUICE_CMD_DEL:
		ret = sluice_need(&m, sizeof(m.slot));
		if (!ret && m.slot.pad)
			ret = -EINVAL;
		if (!ret && m.slot.slot >= inst->capacity)
			ret = -ERANGE;
		if (!ret)
			ret = sluice_table_del(inst, m.slot.slot);
		break;
	case SLUICE_CMD_FLUSH:
		ret = sluice_need(&m, sizeof(m.hdr));
		if (!ret) {
			sluice_table_flush(inst);
			sluice_srtp_flush(inst);
		}
		break;
	case SLUICE_CMD_SRTP_SET:
		ret = sluice_need(&m, sizeof(m.srtp));
		if (!ret)
			ret = sluice_srtp_set(inst, &m.srtp);
		break;
	case SLUICE_CMD_SRTP_DEL:
		ret = sluice_need(&m, sizeof(m.slot));
		if (!ret && m.slot.pad)
			ret = -EINVAL;
		if (!ret)
			ret = sluice_srtp_del(inst, m.slot.slot);
		break;
	case SLUICE_CMD_SET_TOKEN:
		ret = sluice_need(&m, sizeof(m.token));
		if (!ret)
			sluice_instance_set_token(inst, m.token.token);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	return ret ? ret : len;
}

static const struct proc_ops sluice_ctl_ops = {
	.proc_write	= sluice_ctl_write,
	.proc_lseek	= noop_llseek,
};

/* ---- /proc/net/sluice/<id>/stats ---- */

static int sluice_stats_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return sluice_stats_mmap(pde_data(file_inode(file)), vma);
}

static const struct proc_ops sluice_stats_ops = {
	.proc_mmap	= sluice_stats_file_mmap,
	.proc_lseek	= noop_llseek,
};

/* ---- /proc/net/sluice/<id>/list: text, for people ---- */

static void sluice_seq_ep(struct seq_file *sf, const struct sluice_ep *ep)
{
	if (ep->family == SLUICE_FAMILY_INET)
		seq_printf(sf, " %pI4:%u", &ep->a6.s6_addr32[0], ntohs(ep->port));
	else if (ep->family == SLUICE_FAMILY_INET6)
		seq_printf(sf, " [%pI6c]:%u", &ep->a6, ntohs(ep->port));
	else
		seq_puts(sf, " any");
}

static void sluice_seq_quality(struct seq_file *sf, const struct sluice_quality *line)
{
	struct sluice_quality q;

	if (!sluice_quality_read(line, &q) || !q.epoch)
		return;
	seq_printf(sf, " ssrc %08x expected %u received %llu duplicates %u reordered %u"
		   " jitter16 %u clock %u", q.ssrc, q.ext_max - q.base_seq + 1, q.received,
		   q.duplicates, q.reordered, q.jitter16, q.clock_rate);
}

static int sluice_list_show(struct seq_file *sf, void *v)
{
	struct sluice_instance *inst = sf->private;
	struct sluice_entry *e;
	struct sluice_ep from;
	u64 ns;
	u32 i;

	mutex_lock(&inst->lock);
	seq_printf(sf, "instance %u capacity %u entries %u\n", inst->id, inst->capacity,
		   inst->count);
	for (i = 0; i < inst->capacity; i++) {
		e = rcu_dereference_protected(inst->slots[i], lockdep_is_held(&inst->lock));
		if (!e)
			continue;
		seq_printf(sf, "%u", i);
		sluice_seq_ep(sf, &e->local);
		sluice_seq_ep(sf, &e->expect);
		sluice_seq_ep(sf, &e->out_src);
		sluice_seq_ep(sf, &e->out_dst);
		seq_printf(sf, " flags %#x packets %llu bytes %llu errors %llu mismatch %llu",
			   e->flags, READ_ONCE(e->stats->packets), READ_ONCE(e->stats->bytes),
			   READ_ONCE(e->stats->errors), READ_ONCE(e->stats->mismatch));
		if (sluice_stats_mismatch_read(e->stats, &from, &ns)) {
			seq_puts(sf, " mismatch_from");
			sluice_seq_ep(sf, &from);
		}
		if (e->flags & SLUICE_SF_QUALITY)
			sluice_seq_quality(sf, &e->stats->quality);
		seq_putc(sf, '\n');
	}
	mutex_unlock(&inst->lock);
	return 0;
}

static int sluice_list_open(struct inode *inode, struct file *file)
{
	return single_open(file, sluice_list_show, pde_data(inode));
}

static const struct proc_ops sluice_list_ops = {
	.proc_open	= sluice_list_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

/* ---- setup ---- */

/* Owner of the control files, so a daemon running as its own system user (with
 * CAP_NET_ADMIN, still checked on every write) can open them: the packaged unit loads
 * the module with the daemon user's ids. Writable at run time; applies to files created
 * afterwards (a new table, a new network namespace). */
static uint proc_uid;
static uint proc_gid;
module_param(proc_uid, uint, 0644);
MODULE_PARM_DESC(proc_uid, "owner uid of the /proc/net/sluice control files (default 0)");
module_param(proc_gid, uint, 0644);
MODULE_PARM_DESC(proc_gid, "owner gid of the /proc/net/sluice control files (default 0)");

static void sluice_proc_own(struct proc_dir_entry *de)
{
	kuid_t uid = make_kuid(&init_user_ns, READ_ONCE(proc_uid));
	kgid_t gid = make_kgid(&init_user_ns, READ_ONCE(proc_gid));

	if (de && uid_valid(uid) && gid_valid(gid))
		proc_set_user(de, uid, gid);
}

int sluice_proc_instance_init(struct sluice_net *sn, struct sluice_instance *inst)
{
	struct proc_dir_entry *ctl, *stats, *list, *srtp;
	char name[12];

	snprintf(name, sizeof(name), "%u", inst->id);
	inst->dir = proc_mkdir_data(name, 0555, sn->dir, inst);
	if (!inst->dir)
		return -ENOMEM;
	ctl = proc_create_data("control", 0600, inst->dir, &sluice_ctl_ops, inst);
	stats = proc_create_data("stats", 0400, inst->dir, &sluice_stats_ops, inst);
	list = proc_create_data("list", 0400, inst->dir, &sluice_list_ops, inst);
	srtp = sluice_srtp_proc_init(inst);
	if (!ctl || !stats || !list || !srtp) {
		proc_remove(inst->dir);
		inst->dir = NULL;
		return -ENOMEM;
	}
	sluice_proc_own(ctl);
	sluice_proc_own(stats);
	sluice_proc_own(list);
	sluice_proc_own(srtp);          /* the daemon reads an entry's SRTP state back */
	return 0;
}

void sluice_proc_instance_exit(struct sluice_instance *inst)
{
	proc_remove(inst->dir);
	inst->dir = NULL;
}

int sluice_proc_net_init(struct sluice_net *sn, struct net *net)
{
	sn->dir = proc_net_mkdir(net, "sluice", net->proc_net);
	if (!sn->dir)
		return -ENOMEM;
	sn->ctl = proc_create_data("control", 0600, sn->dir, &sluice_netctl_ops, net);
	if (!sn->ctl) {
		proc_remove(sn->dir);
		return -ENOMEM;
	}
	sluice_proc_own(sn->ctl);
	return 0;
}

void sluice_proc_ctl_exit(struct sluice_net *sn)
{
	proc_remove(sn->ctl);
	sn->ctl = NULL;
}

void sluice_proc_net_exit(struct sluice_net *sn, struct net *net)
{
	proc_remove(sn->dir);
	sn->dir = NULL;
}
