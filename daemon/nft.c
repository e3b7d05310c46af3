/* nftables glue for the kernel fast path, through libnftnl/libmnl. See nft.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft.h"
#include "sluice/kernel_abi.h"

struct nft_conn {
	struct mnl_socket	*nl;
	unsigned int		portid;
	uint32_t		seq;
};

static int nft_conn_open(struct nft_conn *c)
{
	struct timeval tv = { .tv_sec = 5 };	/* a lost reply must not hang the daemon */

	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl)
		return -errno;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		mnl_socket_close(c->nl);
		return ret;
	}
	setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	return 0;
}

static void nft_conn_close(struct nft_conn *c)
{
	mnl_socket_close(c->nl);
}

/* Reads until `acks` acknowledgements arrived; returns the first error reported. */
static int nft_wait_acks(struct nft_conn *c, unsigned int acks)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int first_err = 0;

	while (acks) {
		ssize_t n = mnl_socket_recvfrom(c->nl, buf, sizeof(buf));
		struct nlmsghdr *nlh;
		int len;

		if (n < 0)
			return -errno;
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (e->error && !first_err)
				first_err = e->error;
			if (acks)
				acks--;
		}
	}
	return first_err;
}

struct nft_batch {
	char			*buf;
	struct mnl_nlmsg_batch	*b;
	unsigned int		msgs;
};

static int nft_batch_start(struct nft_batch *bt, struct nft_conn *c)
{
	size_t size = 2 * MNL_SOCKET_BUFFER_SIZE;

	bt->buf = malloc(size);
	if (!bt->buf)
		return -ENOMEM;
	bt->b = mnl_nlmsg_batch_start(bt->buf, size);
	bt->msgs = 0;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), c->seq++);
	mnl_nlmsg_batch_next(bt->b);
	return 0;
}

static void *nft_batch_cur(struct nft_batch *bt)
{
	return mnl_nlmsg_batch_current(bt->b);
}

static void nft_batch_next(struct nft_batch *bt)
{
	mnl_nlmsg_batch_next(bt->b);
	bt->msgs++;
}

static int nft_batch_commit(struct nft_batch *bt, struct nft_conn *c)
{
	int ret;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), c->seq++);
	mnl_nlmsg_batch_next(bt->b);
	if (mnl_socket_sendto(c->nl, mnl_nlmsg_batch_head(bt->b),
			      mnl_nlmsg_batch_size(bt->b)) < 0)
		ret = -errno;
	else
		ret = nft_wait_acks(c, bt->msgs);
	mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
	return ret;
}

static void nft_table_name(char *buf, size_t len, unsigned int instance)
{
	snprintf(buf, len, SLUICE_NFT_TABLE_FMT, instance);
}

static int nft_put_table(struct nft_batch *bt, struct nft_conn *c, const char *name,
			 uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = nftnl_table_nlmsg_build_hdr(nft_batch_cur(bt), type, NFPROTO_INET,
					  flags | NLM_F_ACK, c->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nft_batch_next(bt);
	return 0;
}

static int nft_put_chain(struct nft_batch *bt, struct nft_conn *c, const char *table,
			 unsigned int instance, const struct sluice_nft_opts *o)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;
	char comment[128];

	if (!ch)
		return -ENOMEM;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, SLUICE_NFT_CHAIN);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM,
			    o->prerouting ? NF_INET_PRE_ROUTING : NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, o->priority);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	/* `nft list` skips rules with expressions it does not know: say what is there */
	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!ud) {
		nftnl_chain_free(ch);
		return -ENOMEM;
	}
	snprintf(comment, sizeof(comment),
		 "sluiced: rule 'sluice instance %u' (kernel module expression, not shown by nft)",
		 instance);
	nftnl_udata_put_strz(ud, NFTNL_UDATA_CHAIN_COMMENT, comment);
	nftnl_chain_set_data(ch, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(ud),
			     nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	nlh = nftnl_chain_nlmsg_build_hdr(nft_batch_cur(bt), NFT_MSG_NEWCHAIN, NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK, c->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	nft_batch_next(bt);
	return 0;
}

/* libnftnl only builds the expressions it knows: the rule goes out without any and the
 * NFTA_RULE_EXPRESSIONS nest with the module's expression is appended here. */
static int nft_put_rule(struct nft_batch *bt, struct nft_conn *c, const char *table,
			unsigned int instance)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlattr *list, *elem, *data;
	struct nlmsghdr *nlh;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, SLUICE_NFT_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nlh = nftnl_rule_nlmsg_build_hdr(nft_batch_cur(bt), NFT_MSG_NEWRULE, NFPROTO_INET,
					 NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, c->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);

	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, SLUICE_NFT_EXPR_NAME);
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u32(nlh, SLUICE_NFTA_INSTANCE, htonl(instance));
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	nft_batch_next(bt);
	return 0;
}

int sluice_nft_install(unsigned int instance, const struct sluice_nft_opts *opts)
{
	static const struct sluice_nft_opts defaults;
	struct nft_conn c;
	struct nft_batch bt;
	char table[32];
	int ret;

	if (instance >= SLUICE_MAX_INSTANCES)
		return -ERANGE;
	if (!opts)
		opts = &defaults;
	nft_table_name(table, sizeof(table), instance);
	ret = nft_conn_open(&c);
	if (ret)
		return ret;
	ret = nft_batch_start(&bt, &c);
	if (ret)
		goto out;
	/* create-if-missing, delete, create: one transaction replaces any stale table */
	if ((ret = nft_put_table(&bt, &c, table, NFT_MSG_NEWTABLE, NLM_F_CREATE)) ||
	    (ret = nft_put_table(&bt, &c, table, NFT_MSG_DELTABLE, 0)) ||
	    (ret = nft_put_table(&bt, &c, table, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL)) ||
	    (ret = nft_put_chain(&bt, &c, table, instance, opts)) ||
	    (ret = nft_put_rule(&bt, &c, table, instance))) {
		mnl_nlmsg_batch_stop(bt.b);
		free(bt.buf);
		goto out;
	}
	ret = nft_batch_commit(&bt, &c);
out:
	nft_conn_close(&c);
	return ret;
}

int sluice_nft_remove(unsigned int instance)
{
	struct nft_conn c;
	struct nft_batch bt;
	char table[32];
	int ret;

	if (instance >= SLUICE_MAX_INSTANCES)
		return -ERANGE;
	nft_table_name(table, sizeof(table), instance);
	ret = nft_conn_open(&c);
	if (ret)
		return ret;
	ret = nft_batch_start(&bt, &c);
	if (!ret) {
		nft_put_table(&bt, &c, table, NFT_MSG_DELTABLE, 0);
		ret = nft_batch_commit(&bt, &c);
	}
	nft_conn_close(&c);
	return ret == -ENOENT ? 0 : ret;
}

/* ---- reading the rules back (tests, diagnostics) ---- */

struct nft_count_ctx {
	unsigned int	instance;
	int		found;
};

static int nft_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= 8)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Does this NFTA_LIST_ELEM hold `sluice instance <instance>`? */
static bool nft_elem_is_ours(const struct nlattr *elem, unsigned int instance)
{
	const struct nlattr *tb[9] = { 0 }, *db[9] = { 0 };

	if (mnl_attr_parse_nested(elem, nft_attr_cb, tb) < 0 || !tb[NFTA_EXPR_NAME] ||
	    strcmp(mnl_attr_get_str(tb[NFTA_EXPR_NAME]), SLUICE_NFT_EXPR_NAME) ||
	    !tb[NFTA_EXPR_DATA])
		return false;
	if (mnl_attr_parse_nested(tb[NFTA_EXPR_DATA], nft_attr_cb, db) < 0 ||
	    !db[SLUICE_NFTA_INSTANCE] ||
	    mnl_attr_get_payload_len(db[SLUICE_NFTA_INSTANCE]) != 4)
		return false;
	return ntohl(mnl_attr_get_u32(db[SLUICE_NFTA_INSTANCE])) == instance;
}

static int nft_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_count_ctx *ctx = data;
	const struct nlattr *tb[9] = { 0 }, *elem;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nft_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[NFTA_RULE_EXPRESSIONS])
		return MNL_CB_OK;
	mnl_attr_for_each_nested(elem, tb[NFTA_RULE_EXPRESSIONS])
		if (nft_elem_is_ours(elem, ctx->instance))
			ctx->found++;
	return MNL_CB_OK;
}

int sluice_nft_count(unsigned int instance)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nft_count_ctx ctx = { .instance = instance };
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	struct nft_conn c;
	char table[32];
	uint32_t seq;
	ssize_t n;
	int ret;

	if (instance >= SLUICE_MAX_INSTANCES)
		return -ERANGE;
	nft_table_name(table, sizeof(table), instance);
	ret = nft_conn_open(&c);
	if (ret)
		return ret;
	r = nftnl_rule_alloc();
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	seq = c.seq++;
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(c.nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(c.nl, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, c.portid, nft_rule_cb, &ctx);
	} while (ret > 0);
	ret = ret < 0 ? -errno : ctx.found;
out:
	nft_conn_close(&c);
	return ret;
}
