/* sluice-bench: NG + RTP load generator for sluiced and rtpengine.
 *
 * One thread, one event loop (loop.c): the NG client (ng.c) sets calls up and tears them
 * down (calls.c), the media engine (media.c) sends paced RTP for every ready call and
 * receives what the relay forwards, and the mode drivers (main.c) decide when to measure.
 * Nothing on the packet path allocates. */
#ifndef SLUICE_BENCH_H
#define SLUICE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/netaddr.h"
#include "sluice/srtp.h"
#include "sluice/strbuf.h"

#define BENCH_MAGIC      0x534c424eu     /* "SLBN": first payload word of our packets */
#define BENCH_HDR        12              /* RTP header, no CSRC */
#define BENCH_STAMP      (4 + 4 + 4 + 8) /* magic, stream id, seq, send time */
#define BENCH_PKT_MAX    1400
#define SEQ_WINDOW       1024            /* per-stream duplicate window, packets */
#define WHEEL_SLOTS      40              /* send slots per packet interval */
#define XC_FRAMES        50              /* transcode mode: 1 s of pre-encoded 20 ms frames */
#define XC_FRAME_MAX     400
#define XC_RING          256             /* transcode mode: send times kept per stream */

/* big-endian fields of the packets we write and read */
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- hist.c: latency histogram, ~1.6 % resolution, no allocation per sample ---- */
#define HIST_SUB   64
#define HIST_EXP   40
struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t b[HIST_EXP * HIST_SUB];
};
void hist_reset(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* Value at quantile q (0..1), the midpoint of its bucket; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* ---- procstat.c ---- */
struct proc_sample {
	bool ok;
	uint64_t cpu_ns;        /* utime + stime of all threads, dead ones included */
	uint64_t user_ns;       /* utime alone (the relay's own code, not the kernel's) */
	uint64_t rss_kib;       /* VmRSS */
	int64_t at_ns;          /* CLOCK_MONOTONIC when sampled */
};
int proc_sample(int pid, struct proc_sample *s);   /* 0 or -errno (pid <= 0: -ENOENT) */
int proc_fd_count(int pid);                       /* entries of /proc/PID/fd, or -errno */
/* CPU time of the live threads of pid, summed per thread name (comm). */
#define PROC_THREAD_NAMES 8
struct proc_threads {
	bool ok;
	unsigned n;
	struct {
		char comm[16];
		uint64_t cpu_ns;
	} t[PROC_THREAD_NAMES];
};
int proc_threads(int pid, struct proc_threads *t); /* 0 or -errno */
uint64_t self_cpu_ns(void);
int64_t mono_ns(void);

/* ---- dirsize.c ---- */
/* Sum of the sizes of the regular files under path (a few levels deep), or -errno. */
int64_t dir_bytes(const char *path);

/* ---- measurement window: counts packets by their send time ---- */
struct window {
	int64_t t0, t1;         /* [t0, t1) in CLOCK_MONOTONIC ns; t1 == 0: not armed */
	uint64_t sent;          /* packets sent inside the window */
	uint64_t recv;          /* of those, received (first copy) */
	uint64_t recv_arrival;  /* packets whose arrival fell inside the window */
	struct hist lat;        /* one-way latency of recv, ns: send time to the kernel's
	                           receive timestamp (SO_TIMESTAMPNS), so the generator's
	                           own read delay is not charged to the relay */
	struct hist lat_app;    /* send time to the moment the generator read it */
};

/* ---- per stream: one direction of one call ---- */
struct stream {
	int fd;                 /* sender's socket (connected to the relay port) */
	uint32_t id;            /* global index: call * 2 + side */
	uint32_t ssrc;
	uint16_t rtp_seq0;
	uint32_t rtp_ts0;
	uint32_t seq;           /* next sequence number to send (ours, from 0) */
	bool active;
	bool in_flight;         /* an io_uring send of buf not yet completed */
	uint64_t sent;
	uint64_t send_errors;
	/* receive side (at the peer's socket) */
	uint64_t recv;          /* unique packets */
	uint64_t dups, reordered, too_late;
	uint32_t highest;       /* highest seq received + 1 (0: none yet) */
	uint64_t seen[SEQ_WINDOW / 64];
	uint8_t buf[BENCH_PKT_MAX];
	/* transcode mode (xcode.c): no stamp survives a transcoder */
	int64_t sent_at[XC_RING];       /* send time of packet seq, by seq % XC_RING */
	bool rx_started;
	uint16_t rx_last_seq;           /* relay's sequence number of the newest output */
	int64_t rx_last_idx;
	/* srtp.c: what this side sends (its own key) and what the relay sends it */
	struct srtpw tx, rx;
};

/* ---- calls.c ---- */
enum call_state { CALL_IDLE, CALL_OFFER, CALL_ANSWER, CALL_READY, CALL_DELETE, CALL_DONE,
		  CALL_FAILED };

struct call {
	uint32_t idx;
	enum call_state state;
	char callid[40], ftag[20], ttag[20];
	uint16_t port[2];               /* our RTP ports: [0] caller A, [1] callee B */
	int fd[2];
	union sockaddr_u relay_dst[2];  /* where A (0) and B (1) send */
	uint64_t relay_pkts[2];         /* delete reply: packets the relay counted per tag */
	uint64_t relay_total;           /* delete reply: totals RTP packets */
	int64_t t_cmd;                  /* when the pending command went out */
	uint32_t srtp_tag;              /* SRTP callee: tag of the relay's line it answers */
};

/* ---- ng.c: pipelined NG client, one UDP socket ---- */
struct ng_client;
typedef void (*ng_cb)(void *ctx, const char *body, size_t len, int err);
int ng_open(struct ng_client **out, const char *server, int timeout_ms, int retries);
void ng_close(struct ng_client *ng);
int ng_fd(const struct ng_client *ng);
unsigned ng_inflight(const struct ng_client *ng);
/* Queue msg (a complete bencode dictionary body); cb runs from ng_poll/ng_tick with the
 * reply body (bencode, valid during the call) or err = -ETIMEDOUT / -EIO. */
int ng_send(struct ng_client *ng, const struct strbuf *body, ng_cb cb, void *ctx);
void ng_poll(struct ng_client *ng);              /* read replies (socket readable) */
void ng_tick(struct ng_client *ng, int64_t now); /* retransmit / time out */
uint64_t ng_timeouts(const struct ng_client *ng);

/* ---- the whole run ---- */
struct opts {
	const char *mode;
	const char *ng;
	int pid;
	unsigned calls;
	double duration, warmup;
	unsigned pps;
	unsigned payload;
	const char *bind;
	unsigned port_base;
	unsigned step, max_calls;
	double ramp_loss_pct, ramp_p99_ms, ramp_cpu_pct;
	unsigned inflight, cycles;
	unsigned setup_inflight;
	bool json;
	bool no_uring;
	int ng_timeout_ms;
	bool transcode;                 /* transcode mode: PCMU <-> Opus calls */
	const char *xcodec;             /* transcode: the callee's codec (opus, AMR-WB, GSM...) */
	bool record;                    /* offers carry record-call: yes */
	const char *watch_dir;          /* window: growth of this folder (bytes/s) */
	double rate;                    /* churn: new calls per second */
	unsigned alive;                 /* churn: answered calls kept */
	double sample;                  /* churn: seconds per time-series row */
	/* soak mode (soak.h) */
	double min_life, max_life;      /* seconds of media per call */
	unsigned abandon_pct;           /* calls left to the relay's timeout */
	unsigned relay_timeout;         /* the relay's --timeout, seconds */
	double gone_grace;              /* abandoned call must be gone timeout + this */
	unsigned settle_ms;             /* media stopped this long before delete/re-offer */
	double rss_slope_limit;         /* KiB/min; < 0: reported, not enforced */
	unsigned port_pairs;            /* our port pool: port_base .. + 2 * port_pairs */
	const char *rss_csv;            /* write the RSS samples there ("seconds,kib") */
	double idle_wait;               /* after the end, wait this long with no calls */
	double idle_growth_limit;       /* KiB: RSS then, less RSS at the start */
	const char *srtp;               /* caller A's SDES suite (srtp mode; NULL: plain) */
	const char *srtp_b;             /* callee B's suite (NULL: B plain) */
};

/* The media side of the event loop (loop.c). */
struct bench;
struct soak;
struct loop_ops {
	void (*send_due)(struct bench *b, int64_t now);         /* send what is due */
	int64_t (*next_due)(const struct bench *b);             /* next send time, 0: none */
	void (*readable)(struct bench *b, uint32_t tag);        /* a socket added with tag */
	void (*tick)(struct bench *b, int64_t now);             /* every 10 ms; may be NULL */
};

struct bench {
	struct opts o;
	const struct loop_ops *ops;     /* NULL: media.c (set by loop_init) */
	struct soak *soak;              /* soak mode's state (soak.h) */
	int epfd;
	struct ng_client *ng;
	struct media *media;
	struct call *calls;
	unsigned n_calls, cap_calls;
	struct stream *streams;         /* 2 per call, indexed call * 2 + side */
	unsigned next_port;
	union sockaddr_u bind_addr;
	/* setup / teardown bookkeeping */
	unsigned setup_ok, setup_err, pending;
	unsigned del_ok, del_err;
	uint64_t stats_mismatch, stats_inconsistent;
	char first_error[256];
	char first_mismatch[256];
	struct hist lat_offer, lat_answer, lat_delete;
	uint64_t misrouted, foreign, truncated, recv_errors;
	enum srtpw_suite srtp_suite[2]; /* per side; SRTPW_SUITE_NONE: plain */
	uint64_t srtp_errors;           /* received packets that did not unprotect */
	uint64_t payload_errors;        /* SRTP runs: payload not what was sent */
	struct window win;
	int64_t sched_lag_max;
	struct strbuf out;              /* JSON being built */
};

/* calls.c */
int calls_alloc(struct bench *b, unsigned cap);
/* Start offer+answer for calls [from, to); each becomes CALL_READY or CALL_FAILED. With
 * media, a ready call starts sending at once. */
void calls_setup(struct bench *b, unsigned from, unsigned to, bool media);
void calls_delete_all(struct bench *b);
/* ctrl mode: one offer+answer+delete cycle on slot call c (no media, no sockets). */
void calls_cycle_start(struct bench *b, struct call *c);
extern uint64_t calls_cycles_done;
/* churn mode: call slots are b->calls (cap = alive + room for those being set up or
 * deleted). start: one new offer+answer if a slot is free; answered calls beyond alive
 * are deleted oldest first (each completed delete counts in calls_cycles_done); stop:
 * delete all, start none. */
int calls_churn_init(struct bench *b, unsigned alive);
bool calls_churn_start(struct bench *b);
void calls_churn_stop(struct bench *b);
unsigned calls_churn_alive(void);
/* churn.c */
struct rep;
int mode_churn(struct bench *b, struct rep *r);
/* main.c: a latency histogram as {n, p50_us, p99_us, max_us} */
void rep_lat(struct rep *r, const char *k, const struct hist *h);
void bench_error(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t bench_rnd64(void);

/* callmsg.c: the NG messages of a call (shared by calls.c and soak) */
struct bval;
struct call_sdp {
	uint16_t port;                  /* RTP; RTCP is port + 1 */
	uint32_t ssrc;
	bool caller;                    /* the caller's SDP carries a=rtcp-rsize */
	const char *dir;                /* direction attribute; NULL: sendrecv */
	bool hold_zero;                 /* c=0.0.0.0 (RFC 2543 hold) */
	uint32_t sess_id, sess_ver;     /* o= line */
};
void callmsg_sdp(struct strbuf *sb, const struct call_sdp *p);
struct ng_cmd {
	const char *cmd, *callid, *from_tag, *to_tag;   /* all but cmd may be NULL */
	const struct strbuf *sdp;                       /* may be NULL */
	bool codec_transcode;           /* codec {mask [PCMU], transcode [xcodec]} */
	const char *xcodec;             /* NULL: opus */
	bool record_call;               /* record-call: yes */
	const char *transport_protocol; /* NULL: none */
};
/* Queue the request (with received-from 127.0.0.1, as Kamailio sends it). */
int callmsg_send(struct bench *b, const struct ng_cmd *m, ng_cb cb, void *ctx);
/* Decode a reply: the dictionary if its result is "ok", else NULL. With reason NULL a
 * failure goes to bench_error; else *reason gets the relay's error-reason (or NULL for
 * a timeout or an undecodable reply, which go to bench_error), valid until the next
 * callmsg_send() or callmsg_reset(). */
struct bval *callmsg_reply(struct bench *b, const char *what, const char *callid,
			   const char *body, size_t len, int err, const char **reason);
void callmsg_reset(void);               /* free what the last replies decoded */
/* Relay address of the first m= line of the reply SDP: RTP, and RTCP (a=rtcp, else
 * port + 1) if rtcp is not NULL. 0 or -EINVAL. */
int callmsg_dest(struct bval *r, union sockaddr_u *rtp, union sockaddr_u *rtcp);
/* What the relay counted on one tag's first medium: [0] RTP streams, [1] RTCP streams. */
struct tag_stats {
	uint64_t packets[2], bytes[2], errors[2];
};
int callmsg_tag_stats(struct bval *r, const char *tag, struct tag_stats *out);
int callmsg_total_rtp(struct bval *r, uint64_t *packets);       /* totals.RTP.packets */

/* media.c */
int media_init(struct bench *b);
void media_free(struct bench *b);
/* Bind the RTP socket of one endpoint at the next free even port. */
int media_endpoint_open(struct bench *b, uint32_t ep, uint16_t *port);
/* Connect both sockets of call c to its relay ports and start sending. */
int media_call_start(struct bench *b, struct call *c);
void media_stop_sending(struct bench *b);
void media_readable(struct bench *b, uint32_t ep);
void media_send_due(struct bench *b, int64_t now);
int64_t media_next_due(const struct bench *b);
uint64_t media_total(const struct bench *b, int what);
enum { TOT_SENT, TOT_RECV, TOT_DUPS, TOT_REORD, TOT_LATE, TOT_SEND_ERR };
bool media_uring(const struct bench *b);

/* xcode.c: transcode mode */
int xcode_init(struct bench *b);        /* pre-encode the audio loops */
const char *xcode_name(void);           /* the callee codec's name for the transcode flag */
void xcode_sdp(struct strbuf *sb, uint16_t port, uint32_t ssrc, bool caller, uint64_t r);
/* Write payload type, timestamp and audio of packet seq into p; returns its length. */
size_t xcode_packet(struct stream *s, uint32_t seq, uint8_t *p);
/* A packet received at endpoint ep: false if it is not a transcoded packet of ours, else
 * its stream index and the send time of the input it came from (0 if unknown). */
bool xcode_rx(struct bench *b, uint32_t ep, const uint8_t *p, size_t len, int64_t now,
	      uint32_t *seq, int64_t *sent_at);

/* srtp.c: SDES-SRTP sides. init: -EINVAL for an unknown suite name. own_key: a fresh
 * key for `side` (tx context) and its SDP turned into RTP/SAVP with that a=crypto line;
 * relay_key: the relay's key of the side's suite from a reply (rx context), its tag in
 * *tag. protect/unprotect: in place, no-ops for a plain side. */
int bsrtp_init(struct bench *b);
bool bsrtp_side(const struct bench *b, int side);
int bsrtp_own_key(struct bench *b, struct call *c, int side, uint32_t tag, struct strbuf *sdp);
int bsrtp_relay_key(struct bench *b, struct call *c, int side, struct bval *reply,
		    uint32_t *tag);
int bsrtp_protect(struct stream *s, uint8_t *p, size_t *len);
/* With SRTP the payload after the stamp is a pattern of seq, checked on arrival. */
void bsrtp_fill(uint8_t *p, size_t len, uint32_t seq);
bool bsrtp_check(const uint8_t *p, size_t len, uint32_t seq);
int bsrtp_unprotect(struct stream *s, uint8_t *p, size_t *len);
void bsrtp_free(struct bench *b);

/* loop.c: run the event loop until deadline (ns) or until done(b) is true. */
void loop_run(struct bench *b, int64_t deadline, bool (*done)(struct bench *b));
int loop_init(struct bench *b);
int loop_add_fd(struct bench *b, int fd, uint32_t tag);
void loop_del_fd(struct bench *b, int fd);
#define LOOP_TAG_NG 0xffffffffu

#endif
