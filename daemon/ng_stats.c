/* NG control statistics. */
#include "ng_stats.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* rtpengine's commands in the order and with the short names its statistics use */
static const struct {
	const char *name, *abbr;
} cmds[NG_STATS_N_CMDS] = {
	{ "ping", "ping" }, { "offer", "offer" }, { "answer", "answer" },
	{ "delete", "delete" }, { "query", "query" }, { "list", "list" },
	{ "start recording", "startrec" }, { "stop recording", "stoprec" },
	{ "start forwarding", "startfwd" }, { "stop forwarding", "stopfwd" },
	{ "block DTMF", "blkdtmf" }, { "unblock DTMF", "unblkdtmf" },
	{ "block media", "blkmedia" }, { "unblock media", "unblkmedia" },
	{ "play media", "playmedia" }, { "stop media", "stopmedia" },
	{ "play DTMF", "playdtmf" }, { "statistics", "stats" },
	{ "silence media", "slnmedia" }, { "unsilence media", "unslnmedia" },
	{ "publish", "pub" }, { "subscribe request", "subreq" },
	{ "subscribe answer", "subans" }, { "unsubscribe", "unsub" },
};

static int cmd_index(const char *cmd, size_t len)
{
	for (int i = 0; i < NG_STATS_N_CMDS; i++)
		if (strlen(cmds[i].name) == len && !strncasecmp(cmds[i].name, cmd, len))
			return i;
	return -1;
}

static struct ng_stats_proxy *proxy_of(struct ng_stats *s, const union sockaddr_u *from)
{
	union sockaddr_u ip = *from;
	struct ng_stats_proxy *p;

	netaddr_set_port(&ip, 0);
	for (unsigned i = 0; i < s->n_proxies; i++)
		if (netaddr_ip_eq(&s->proxy[i].addr, &ip))
			return &s->proxy[i];
	if (s->n_proxies == NG_STATS_MAX_PROXIES) {
		s->other_used = true;
		return &s->other;
	}
	p = &s->proxy[s->n_proxies++];
	p->addr = ip;
	return p;
}

void ng_stats_record(struct ng_stats *s, const char *cmd, size_t len,
		     const union sockaddr_u *from, int64_t dur_us, bool error)
{
	struct ng_stats_proxy *p = proxy_of(s, from);
	int i = cmd ? cmd_index(cmd, len) : -1;
	struct ng_stats_interval *iv;

	if (dur_us < 0)
		dur_us = 0;
	p->errors += error;
	if (i < 0)
		return;
	p->count[i]++;
	p->dur_us[i] += (uint64_t)dur_us;
	s->total[i]++;
	s->this_second[i]++;
	iv = &s->iv[i];
	if (!iv->count || dur_us < iv->min_us)
		iv->min_us = dur_us;
	if (dur_us > iv->max_us)
		iv->max_us = dur_us;
	iv->sum_us += dur_us;
	iv->count++;
}

void ng_stats_second(struct ng_stats *s)
{
	for (int i = 0; i < NG_STATS_N_CMDS; i++) {
		struct ng_stats_interval *iv = &s->iv[i];
		uint64_t n = s->this_second[i];

		if (!s->iv_seconds || n < iv->rate_min)
			iv->rate_min = n;
		if (n > iv->rate_max)
			iv->rate_max = n;
		iv->rate_sum += n;
		s->this_second[i] = 0;
	}
	s->iv_seconds++;
}

/* rtpengine writes durations as decimal seconds with 6 places, as strings */
static void add_secs(struct arena *a, struct bval *d, const char *key, int64_t us)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld.%06lld", (long long)(us / 1000000),
		 (long long)(us % 1000000));
	bv_dict_add_str(a, d, key, buf);
}

static struct bval *proxy_dict(const struct ng_stats_proxy *p, const char *name,
			       struct arena *a)
{
	struct bval *d = bv_new_dict(a);
	char key[48];

	bv_dict_add_str(a, d, "proxy", name);
	for (int i = 0; i < NG_STATS_N_CMDS; i++) {
		snprintf(key, sizeof(key), "%scount", cmds[i].abbr);
		bv_dict_add_int(a, d, key, (int64_t)p->count[i]);
		snprintf(key, sizeof(key), "%sduration", cmds[i].abbr);
		add_secs(a, d, key, (int64_t)p->dur_us[i]);
	}
	bv_dict_add_int(a, d, "errorcount", (int64_t)p->errors);
	return d;
}

void ng_stats_add_control(const struct ng_stats *s, struct arena *a, struct bval *dict)
{
	struct bval *list = bv_new_list(a);
	char name[NETADDR_STRLEN], key[48];

	for (unsigned i = 0; i < s->n_proxies; i++)
		bv_list_add(list, proxy_dict(&s->proxy[i],
					     netaddr_ntop(&s->proxy[i].addr, name, sizeof(name)),
					     a));
	if (s->other_used)
		bv_list_add(list, proxy_dict(&s->other, "other", a));
	bv_dict_add(a, dict, "proxies", list);
	for (int i = 0; i < NG_STATS_N_CMDS; i++) {
		snprintf(key, sizeof(key), "total%scount", cmds[i].abbr);
		bv_dict_add_int(a, dict, key, (int64_t)s->total[i]);
	}
}

static void add_uint_str(struct arena *a, struct bval *d, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	bv_dict_add_str(a, d, key, buf);
}

void ng_stats_add_interval(struct ng_stats *s, struct arena *a, struct bval *dict)
{
	char key[64];

	for (int i = 0; i < NG_STATS_N_CMDS; i++) {
		const struct ng_stats_interval *iv = &s->iv[i];

		snprintf(key, sizeof(key), "min%sdelay", cmds[i].name);
		add_secs(a, dict, key, iv->min_us);
		snprintf(key, sizeof(key), "max%sdelay", cmds[i].name);
		add_secs(a, dict, key, iv->max_us);
		snprintf(key, sizeof(key), "avg%sdelay", cmds[i].name);
		add_secs(a, dict, key, iv->count ? iv->sum_us / (int64_t)iv->count : 0);
	}
	for (int i = 0; i < NG_STATS_N_CMDS; i++) {
		const struct ng_stats_interval *iv = &s->iv[i];

		snprintf(key, sizeof(key), "min%srequestrate", cmds[i].name);
		add_uint_str(a, dict, key, iv->rate_min);
		snprintf(key, sizeof(key), "max%srequestrate", cmds[i].name);
		add_uint_str(a, dict, key, iv->rate_max);
		snprintf(key, sizeof(key), "avg%srequestrate", cmds[i].name);
		add_uint_str(a, dict, key, s->iv_seconds ? iv->rate_sum / s->iv_seconds : 0);
	}
	memset(s->iv, 0, sizeof(s->iv));
	s->iv_seconds = 0;
}
