/* play media's clock: a section's announcement sent frame by frame from the media
 * worker's timer, spliced into the side's stream (see play_clock.h). */
#include "play_clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "call.h"
#include "media_handler.h"
#include "sluice/play_rewrite.h"
#include "sluice/rtp.h"
#include "sluice/rtp_splice.h"

#define PTIME_MS    20
#define PTIME_US    (PTIME_MS * 1000)
#define CATCH_UP    5                   /* frames one late tick may still send */
#define SRTP_ROOM   64                  /* tailroom for an SRTP tag, index and MKI */
#define FRAME_MAX   (12 + 1500 + SRTP_ROOM)

/* The announcement of one section's stream (media->media_play). */
struct media_player {
	struct play_rewrite *rw;        /* [L] playing, or done; NULL: none */
	struct rtp_splice sp;           /* [L] the stream toward the party (rtp_splice.h) */
	int64_t next_us;                /* [L] the next frame's time (mono_fine_us) */
	bool started;                   /* [L] its first frame went out: the side's own
	                                   packets wait until it ends */
	int last_pt;                    /* [L] the side's last audio payload type, -1 */
};

static uint32_t rnd32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)time(NULL) * 2654435761u;
	return v;
}

struct media_player *play_clock_new(void)
{
	struct media_player *mp = calloc(1, sizeof(*mp));

	if (mp) {
		rtp_splice_init(&mp->sp, rnd32(), (uint16_t)rnd32(), rnd32());
		mp->last_pt = -1;
	}
	return mp;
}

/* A replacement goes on on the same clock; else the first frame goes out one ptime
 * from now, time for a stream just taken from the kernel to show the side's own
 * numbering first. */
struct play_rewrite *play_clock_install(struct media_player *mp, struct play_rewrite *rw,
					int64_t now, int64_t *due)
{
	struct play_rewrite *old = mp->rw;

	mp->rw = rw;
	mp->started = mp->started && play_rw_busy(old);
	if (!mp->started)
		mp->next_us = now + PTIME_US;
	*due = mp->next_us;
	return old;
}

struct play_rewrite *play_clock_stop(struct media_player *mp)
{
	struct play_rewrite *old = mp->rw;

	mp->rw = NULL;          /* the timer finds nothing more to play */
	mp->started = false;
	return old;
}

const char *play_clock_why(const struct stream *s)
{
	const struct media_player *mp = s->media->media_play;

	if (s->component != COMP_RTP || !mp)
		return NULL;
	if (play_rw_busy(mp->rw))
		return "playing media";
	return rtp_splice_active(&mp->sp) ? "renumbered after play media" : NULL;
}

/* The RTP clock of payload type pt the side sends. */
static unsigned clock_of(const struct media *m, unsigned pt)
{
	const struct codec_def *def;

	if ((int)pt == m->codec_pt || pt >= 96)
		return (int)pt == m->dtmf_pt && m->dtmf_clock ? m->dtmf_clock : m->clock;
	def = codec_by_static_pt(pt);
	return def ? def->clock_rate : m->clock;
}

int play_clock_packet(struct stream *t, uint8_t *pkt, size_t len, int64_t now)
{
	struct media_player *mp = t->media->media_play;
	unsigned pt;
	bool was;

	if (t->component != COMP_RTP || len < 12 || rtp_is_rtcp(pkt, len))
		return 0;
	if (mp->started && play_rw_busy(mp->rw))
		return -1;
	pt = pkt[1] & 0x7f;
	was = rtp_splice_active(&mp->sp);
	rtp_splice_sender(&mp->sp, pkt, len, clock_of(t->media, pt), now);
	if ((int)pt != t->media->dtmf_pt && pt != 13)   /* not an event nor comfort noise */
		mp->last_pt = (int)pt;
	if (was != rtp_splice_active(&mp->sp))
		t->media->party->call->kdirty = true;   /* the kernel may forward it again */
	return 0;
}

/* Before the first frame: the splice knows where the side's stream is unless packets
 * went by it since: through the kernel (while no announcement played and no shift was
 * on), or before the player existed. Then the stream's quality figures say it (the
 * module's counters are folded in when the entry is withdrawn): SSRC, highest sequence
 * number, and the timestamp from its last packet's transit time (RFC 3550 A.8: arrival
 * in clock units minus timestamp), measured on userspace's clock. */
static void hint(struct stream *s, struct media_player *mp, const struct play_rw_frame *f,
		 int64_t now)
{
	const struct quality_rx *q = &s->qrx;
	const struct rtp_splice *sp = &mp->sp;
	bool ts_known = q->have_transit && q->clock == f->clock;
	int64_t ts = now * (int64_t)f->clock / 1000000 - q->transit;

	if (!q->init || rtp_splice_active(sp) ||
	    (sp->seen && sp->ssrc == q->ssrc && sp->seq == q->max_seq))
		return;         /* nothing went by it: userspace saw every packet */
	rtp_splice_hint(&mp->sp, q->ssrc, q->max_seq, ts_known, (uint32_t)ts, now);
}

/* One frame of the announcement, sent as s's side would send it. */
static void send_frame(struct stream *s, struct media_player *mp, struct relay_emitter *e,
		       int64_t now)
{
	uint8_t pkt[FRAME_MAX];
	struct play_rw_frame f;
	struct rtp_splice_hdr h;
	int n;

	n = play_rw_frame(mp->rw, mp->last_pt, PTIME_MS, pkt + 12, sizeof(pkt) - 12 - SRTP_ROOM,
			  &f);
	if (n < 0) {
		play_rw_stop(mp->rw);   /* the codec cannot frame it: nothing more to play */
		return;
	}
	if (!mp->started) {
		mp->started = true;
		hint(s, mp, &f, now);
	}
	if (!n)
		return;                 /* DTX: nothing to send for this frame */
	rtp_splice_own(&mp->sp, f.step, f.clock, now, &h);
	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((h.marker ? 0x80 : 0) | (f.pt & 0x7f));
	pkt[2] = (uint8_t)(h.seq >> 8);
	pkt[3] = (uint8_t)h.seq;
	for (int i = 0; i < 4; i++) {
		pkt[4 + i] = (uint8_t)(h.ts >> (24 - 8 * i));
		pkt[8 + i] = (uint8_t)(h.ssrc >> (24 - 8 * i));
	}
	relay_deliver(e, s, pkt, 12 + (size_t)n, sizeof(pkt), now);
}

void play_clock_tick(struct stream *s, struct relay_emitter *e, int64_t now)
{
	struct media_player *mp = s->media->media_play;

	if (!mp || !play_rw_busy(mp->rw))
		return;
	for (int k = 0; k < CATCH_UP && mp->next_us <= now && play_rw_busy(mp->rw); k++) {
		send_frame(s, mp, e, now);
		mp->next_us += PTIME_US;
	}
	if (mp->next_us <= now)
		mp->next_us = now + PTIME_US;   /* too far behind: later, not in a burst */
	if (play_rw_busy(mp->rw)) {
		relay_play_timer_set(e, s, mp->next_us);
		return;
	}
	mp->started = false;
	s->media->party->call->kdirty = true;   /* over: the kernel may forward it again */
}

void play_clock_free(struct media_player *mp)
{
	if (!mp)
		return;
	play_rw_free(mp->rw);
	free(mp);
}
