/* Blocking and silencing what a side sends (see media_block.h). */
#include "media_block.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "call_ops.h"
#include "dtmf_delay.h"
#include "dtmf_trigger.h"
#include "kernel.h"
#include "media_delay.h"
#include "ng_request.h"
#include "sluice/log.h"
#include "sluice/rtp.h"

/* The side's G.711 payload type (its first codec), which silence and tones in place of
 * events are written in; -1 none. */
static int g711_pt(const struct media *m)
{
	return m->codec_pt == 0 || m->codec_pt == 8 ? m->codec_pt : -1;
}

bool media_block_pass(struct stream *t, uint8_t *p, size_t *lenp, size_t cap)
{
	const struct party_opts *o = &t->media->party->opts;
	uint8_t block = o->block, pt;
	size_t off, plen, len = *lenp;
	bool dtmf;

	if (t->component != COMP_RTP || len < 12 || rtp_is_rtcp(p, len))
		return true;            /* RTCP is never held back */
	pt = p[1] & 0x7f;
	dtmf = t->media->dtmf_pt >= 0 && pt == t->media->dtmf_pt;
	if (dtmf)
		return !(block & BLOCK_DTMF) ||
		       dtmf_replace_packet(&t->media->dtmf_rep, &o->dtmf_sec,
					   g711_pt(t->media), p, lenp, cap);
	if (block & BLOCK_MEDIA)
		return false;
	if (!(block & SILENCE_MEDIA))
		return true;
	/* G.711 silence in place; other codecs would need the transcoder: held back */
	if ((pt != 0 && pt != 8) || rtp_payload(p, len, &off, &plen))
		return false;
	memset(p + off, pt == 0 ? 0xff : 0xd5, plen);
	return true;
}

void media_block_dtmf_opts(struct party *p, const struct ng_request *req)
{
	struct dtmf_replace_cfg *c = &p->opts.dtmf_sec;

	for (unsigned i = 0; req->dsec.delay_buffer >= 0 && i < p->n_media; i++)
		if (p->media[i] && media_delay_set(p->media[i], (unsigned)req->dsec.delay_buffer))
			clog(LOG_WARNING, p->call->callid, NULL, "delay-buffer: out of memory");
	for (unsigned i = 0; req->dsec.dtmf_delay >= 0 && i < p->n_media; i++)
		if (p->media[i] && dtmf_delay_set(p->media[i], (unsigned)req->dsec.dtmf_delay))
			clog(LOG_WARNING, p->call->callid, NULL, "DTMF-delay: out of memory");
	if (dtmf_trigger_set(p, req))
		clog(LOG_WARNING, p->call->callid, NULL, "DTMF trigger: out of memory");
	else if (req->dsec.trigger[0] && req->dsec.mode == -1)
		p->opts.block &= (uint8_t)~BLOCK_DTMF;  /* blocking waits for the trigger */
	if (req->dsec.mode == -2)
		p->opts.block &= (uint8_t)~BLOCK_DTMF;
	else if (req->dsec.mode >= 0) {
		c->mode = (uint8_t)req->dsec.mode;
		p->opts.block |= BLOCK_DTMF;
	}
	if (req->dsec.volume >= 0) {
		c->volume = (uint8_t)req->dsec.volume;
		c->has_volume = true;
	}
	if (req->dsec.digit >= 0)
		c->digit = (uint8_t)req->dsec.digit;
	if (req->dsec.n_freqs) {
		c->n_freqs = (uint8_t)req->dsec.n_freqs;
		memcpy(c->freqs, req->dsec.freqs, sizeof(c->freqs));
	}
}

struct block_cmd { const char *name; uint8_t bit; bool on; };

static const struct block_cmd *cmd_of(const struct ng_request *req)
{
	static const struct block_cmd cmds[] = {
		{ "block DTMF", BLOCK_DTMF, true }, { "unblock DTMF", BLOCK_DTMF, false },
		{ "block media", BLOCK_MEDIA, true }, { "unblock media", BLOCK_MEDIA, false },
		{ "silence media", SILENCE_MEDIA, true },
		{ "unsilence media", SILENCE_MEDIA, false },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strlen(cmds[i].name) == req->command.len &&
		    !strncasecmp(cmds[i].name, req->command.s, req->command.len))
			return &cmds[i];
	return NULL;
}

static bool label_is(const struct party *p, const struct ng_str *l)
{
	return p && strlen(p->label) == l->len && !memcmp(p->label, l->s, l->len);
}

/* from-tag, else label (not a set-label, which sets rather than selects), else every
 * side; to-label then asks that the side's peer carries it (rtpengine's second
 * participant: with two parties the direction follows). */
static bool party_selected(const struct party *p, const struct ng_request *req)
{
	if (req->from_tag.len) {
		for (unsigned i = 0; i < p->n_tags; i++)
			if (strlen(p->tags[i].tag) == req->from_tag.len &&
			    !memcmp(p->tags[i].tag, req->from_tag.s, req->from_tag.len))
				return true;
		if (req->set_label || !req->label.len)
			return false;
	}
	if (req->label.len && !req->set_label)
		return label_is(p, &req->label);
	return !req->from_tag.len;      /* neither given: every side */
}

/* A to-label no party carries is ignored, as rtpengine does. */
static bool party_wanted(const struct party *p, const struct ng_request *req)
{
	bool known = false;

	for (const struct party *q = p->call->parties; q && req->to_label.len; q = q->next)
		known |= label_is(q, &req->to_label);
	return party_selected(p, req) && (!known || label_is(p->peer, &req->to_label));
}

int media_block_command(struct daemon *d, const struct ng_request *req, struct arena *a,
			struct bval *reply, const char **err)
{
	const struct block_cmd *bc;
	struct call *c;
	unsigned n = 0;

	if (req->cmd == NG_START_FORWARDING || req->cmd == NG_STOP_FORWARDING) {
		*err = "Forwarding needs rtpengine's proc recording, which sluice does not "
		       "have (see docs/recording.md)";
		return -ENOTSUP;
	}
	if (!(bc = cmd_of(req))) {
		*err = "Unrecognized command";
		return -EINVAL;
	}
	if (!(c = call_find(d, req->call_id.s, req->call_id.len))) {
		*err = "Unknown call-id";
		return -ENOENT;
	}
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next) {
		if (!party_wanted(p, req))
			continue;
		if (req->set_label)
			snprintf(p->label, sizeof(p->label), "%.*s", (int)req->label.len,
				 req->label.s);
		if (bc->on)
			p->opts.block |= bc->bit;
		else
			p->opts.block &= (uint8_t)~bc->bit;
		if (bc->bit == BLOCK_DTMF && bc->on)
			media_block_dtmf_opts(p, req);
		else if (bc->bit == BLOCK_DTMF)
			dtmf_trigger_free(p);   /* unblock DTMF forgets a trigger too */
		else if (req->dsec.delay_buffer >= 0)   /* honoured by every block command */
			for (unsigned i = 0; i < p->n_media; i++)
				if (p->media[i])
					media_delay_set(p->media[i],
							(unsigned)req->dsec.delay_buffer);
		n++;
	}
	pthread_mutex_unlock(&c->lock);
	if (!n) {
		*err = "Unknown call party (from-tag or label)";
		return -ENOENT;
	}
	clog(LOG_INFO, c->callid, NULL, "%s (%u side%s)", bc->name,
	     n, n == 1 ? "" : "s");
	kernel_sync_call(d, c);         /* blocked streams leave the kernel, and come back */
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}
