// SPDX-License-Identifier: GPL-2.0
/* sluice: kernel fast path of the sluice RTP relay. Module init/exit and the
 * per-network-namespace state. */
#include <linux/module.h>
#include <net/netns/generic.h>
#include "sluice.h"
#include "compat.h"

static unsigned int sluice_net_id __read_mostly;

struct sluice_net *sluice_net(const struct net *net)
{
	return net_generic(net, sluice_net_id);
}

static int __net_init sluice_net_init(struct net *net)
{
	struct sluice_net *sn = sluice_net(net);

	mutex_init(&sn->lock);
	return sluice_proc_net_init(sn, net);
}

static void __net_exit sluice_net_exit(struct net *net)
{
	struct sluice_net *sn = sluice_net(net);

	sluice_proc_ctl_exit(sn);	/* no new instances from here on */
	sluice_instance_destroy_all(sn);
	sluice_proc_net_exit(sn, net);
}

static struct pernet_operations sluice_net_ops = {
	.init	= sluice_net_init,
	.exit	= sluice_net_exit,
	.id	= &sluice_net_id,
	.size	= sizeof(struct sluice_net),
};

static int __init sluice_init(void)
{
	int ret;

	ret = sluice_srtp_init();
	if (ret)
		return ret;
	ret = register_pernet_subsys(&sluice_net_ops);
	if (ret)
		goto err_srtp;
	ret = sluice_expr_register();
	if (ret)
		goto err_pernet;
	pr_info("sluice " SLUICE_MOD_VERSION " loaded (ABI %u)\n", SLUICE_ABI_VERSION);
	return 0;

err_pernet:
	unregister_pernet_subsys(&sluice_net_ops);
err_srtp:
	sluice_srtp_exit();
	return ret;
}

/* Rules using the expression hold a module reference, so none exist here; packets
 * still inside an eval finished before nft_unregister_expr() returned. */
static void __exit sluice_exit(void)
{
	sluice_expr_unregister();
	unregister_pernet_subsys(&sluice_net_ops);
	sluice_srtp_exit();
	pr_info("sluice unloaded\n");
}

module_init(sluice_init);
module_exit(sluice_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sluice RTP relay kernel forwarding");
MODULE_VERSION(SLUICE_MOD_VERSION);
MODULE_ALIAS_NFT_EXPR(SLUICE_NFT_EXPR_NAME);
