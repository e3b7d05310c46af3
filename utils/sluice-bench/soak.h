/* soak mode: calls that come and go for a long time, with re-INVITEs, holds and abandoned
 * calls, against one relay whose memory, fds and counters are checked (docs/soak.md).
 *
 * soak.c       the driver: phases, RSS/fd sampling, report and verdict
 * soak_call.c  one call's life over NG (setup, re-INVITEs, holds, delete or abandon)
 * soak_media.c the phones: sockets from a port pool, paced RTP + RTCP, receive checks
 *
 * Every packet names its call (serial), the side that sent it, RTP or RTCP and its
 * sequence, so a phone knows a misrouted packet when it sees one. */
#ifndef SLUICE_BENCH_SOAK_H
#define SLUICE_BENCH_SOAK_H

#include "bench.h"

#define SOAK_MAGIC      0x534c534bu     /* "SLSK" */
#define SOAK_STAMP      24              /* magic, serial, side << 8 | kind, seq, send ns */
#define SOAK_RTCP_LEN   (28 + 12 + SOAK_STAMP - 4)  /* SR + APP "SLSK" carrying the stamp */
#define SOAK_DRAIN_MAX  (2 * 1000000000LL)   /* wait at most this for packets in flight */
#define SOAK_TAG_BITS   3               /* epoll tag: call << 3 | side << 2 | gen << 1 | kind */

enum { K_RTP, K_RTCP };

/* One phone: RTP on an even port, RTCP on the next. A port change (re-INVITE) opens the
 * other pair, switches to it when the answer is in, and keeps the old pair receiving
 * for a second (the relay sends to the old one until it hears from the new). */
struct phone {
	int fd[2][2];                   /* [pair][RTP, RTCP]; -1: closed */
	uint16_t port[2];               /* even port of each pair */
	int cur;                        /* the pair it sends from and advertises */
	bool moving;                    /* pair cur ^ 1 is being offered (port change) */
	int64_t old_until;              /* pair cur ^ 1, the old one, closes then (0: none) */
	union sockaddr_u dst[2];        /* relay RTP / RTCP address told in SDP */
	bool sending;
	uint32_t ssrc, ts0;
	uint16_t seq0;
	uint32_t seq;                   /* RTP packets sent (ours, from 0) */
	uint32_t rtcp_seq;
	uint64_t sent[2], bytes[2];     /* what left this phone, RTP / RTCP */
	uint64_t recv[2];               /* what arrived from the other phone */
	uint32_t rx_next[2];            /* highest sequence arrived from it + 1 */
	uint32_t sess_id, sess_ver;
	const char *dir;                /* direction of its next SDP */
	bool hold_zero;                 /* next SDP says c=0.0.0.0 */
};

enum soak_state {
	S_IDLE,                 /* slot free */
	S_OFFER, S_ANSWER,      /* setup, a request in flight */
	S_TALK,                 /* media flowing */
	S_PAUSE,                /* senders paused before a re-offer (at: send it) */
	S_REOFFER, S_REANSWER,  /* re-INVITE, a request in flight */
	S_HELD,                 /* on hold (at: resume) */
	S_STOPPING,             /* media stopped (at: delete or abandon) */
	S_DELETE,               /* delete in flight */
};

enum soak_action { A_NONE, A_REINVITE, A_MOVE, A_HOLD, A_HOLD_ZERO, A__N };

struct scall {
	uint32_t slot, serial;
	enum soak_state st;
	int64_t at;                     /* timer of S_PAUSE / S_HELD / S_STOPPING */
	int64_t paused_at;              /* when S_PAUSE / S_STOPPING stopped senders */
	int64_t end_at, next_action_at;
	bool abandon;                   /* fate: stop media and never delete */
	bool failed;                    /* an NG request failed: delete without checks */
	enum soak_action act;
	int offerer, mover;             /* side sending the re-offer; side changing port */
	int phase;                      /* holds: 0 going on hold, 1 resuming */
	char callid[48], tag[2][20];
	char story[40];                 /* its actions, for error messages: "R0 M01 H1 Z0" */
	struct phone ph[2];             /* [0] caller A, [1] callee B */
};

/* An abandoned call, queried once the relay's timeout should have ended it. */
struct soak_gone {
	char callid[48];
	int64_t check_at;
	int state;                      /* 0 waiting, 1 query in flight, 2 done */
};

struct soak_counts {
	uint64_t started, setup_ok, deleted, abandoned, failed;
	uint64_t actions[A__N];
	uint64_t stats_checked, stats_mismatch;
	uint64_t gone_ok, gone_alive, gone_unclear;
	uint64_t misrouted, wrong_source, foreign, send_errors, recv_errors, port_busy;
	uint64_t sent[2], recv[2];      /* all phones, RTP / RTCP */
	uint64_t dup_suspect;           /* streams that received more than was sent */
	uint64_t slow_drains, drain_timeouts;   /* in flight after `settle`; after DRAIN_MAX */
	int64_t drain_max;              /* longest wait for packets in flight, ns */
	uint64_t late;                  /* RTP forwarded more than `settle` after it was sent */
};

struct soak {
	struct scall *calls;
	unsigned n;
	uint32_t serial;
	int64_t t_stop;                 /* no new calls or actions from then on */
	bool stopping;
	/* port pool: FIFO of even ports, so a freed pair rests as long as possible */
	uint16_t *pool;
	unsigned pool_cap, pool_head, pool_len;
	/* abandoned calls waiting for their check */
	struct soak_gone *gone;
	unsigned gone_cap, gone_head, gone_len;
	/* pacing (soak_media.c) */
	int64_t period, next_due;
	unsigned slot;
	struct soak_counts k;
	struct hist lat;                /* RTP one-way latency through the relay, ns */
	char first_misroute[256];
	char first_mismatch[256];
	char first_alive[160];
};

/* soak_media.c */
int soak_media_init(struct bench *b);
void soak_media_free(struct bench *b);
/* A fresh phone of call c with its first pair open. 0 or -errno. */
void soak_phone_reset(struct phone *p);    /* no sockets, nothing sent */
int soak_phone_open(struct bench *b, struct scall *c, int side);
void soak_phone_close(struct bench *b, struct phone *p);
/* Port change: open the other pair (the old one, if still open, is closed first). */
int soak_phone_move(struct bench *b, struct scall *c, int side);
/* The port change is answered: the offered pair becomes current; the old one keeps
 * receiving for a second, then soak_phone_expire() closes it. */
void soak_phone_switch(struct phone *p, int64_t now);
void soak_phone_expire(struct bench *b, struct phone *p, int64_t now);
uint16_t soak_phone_port(const struct phone *p);    /* the port its SDP advertises */
/* Has everything `side` sent arrived at the other phone (so the relay has seen it)? */
bool soak_drained(const struct scall *c, int side);
void soak_send_due(struct bench *b, int64_t now);
int64_t soak_next_due(const struct bench *b);
void soak_readable(struct bench *b, uint32_t tag);

/* soak.c: the mode (main.c parses its options); exit status as the other modes */
struct rep;
int mode_soak(struct bench *b, struct rep *r);

/* soak_call.c */
/* Run every call's timers: start calls in free slots, actions, ends, abandon checks. */
void soak_calls_tick(struct bench *b, int64_t now);
bool soak_calls_idle(struct bench *b);        /* no call and no check left */

#endif
