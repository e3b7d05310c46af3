/* Shared by the recording files (rec_*.c) only: the writer's objects and messages. */
#ifndef SLUICE_REC_INTERNAL_H
#define SLUICE_REC_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "rec.h"
#include "sluice/bytering.h"
#include "sluice/netaddr.h"
#include "sluice/pcapw.h"

#define REC_NAME_MAX    160             /* file base name, without folder and suffix */
#define REC_F_RING      1u              /* the copy goes to the capture ring */
/* folder + '/' + name + "-GEN" + suffix + ".tmp"; rec_start() keeps it under PATH_MAX */
#define REC_PATH_MAX    (PATH_MAX + REC_NAME_MAX + 64)

/* One packet copy in a worker's queue; in the capture ring the same layout is kept. */
struct rec_pkt {
	struct rec_sink *sink;
	int64_t time_ns;                /* CLOCK_REALTIME */
	uint32_t gen;                   /* recording file; 0: none */
	uint16_t len;
	uint8_t party;
	uint8_t flags;                  /* REC_F_* */
	union sockaddr_u src, dst;
	uint8_t data[];
};

struct ring_chunk;

/* Per call, owned by the writer thread once created; the control thread only reads the
 * atomics and the immutable name. */
struct rec_sink {
	char name[REC_NAME_MAX];        /* immutable: file base name */
	char *callid;                   /* immutable: for the writer's log lines */
	uint64_t gen_packets;           /* writer: packets in the file of file_gen */
	/* writer only */
	struct pcapw *file;
	uint32_t file_gen;              /* gen of file; files of older gens are done */
	uint32_t failed_gen;            /* this gen hit a write error: its copies dropped */
	struct ring_chunk *ring_head, *ring_tail;       /* capture ring, oldest first */
	/* for query */
	_Atomic uint64_t written;       /* packets in files, all gens */
	_Atomic int error;              /* last write error (errno), 0: none */
	_Atomic uint64_t ring_packets;  /* in the capture ring now */
};

enum rec_msg_type { REC_MSG_OPEN, REC_MSG_CLOSE, REC_MSG_CAPTURE, REC_MSG_DESTROY };

/* A capture's result; the control thread waits for done. */
struct rec_capture {
	char path[REC_PATH_MAX];
	int party;                      /* -1: all */
	bool done;
	bool abandoned;                 /* the waiter gave up: the writer frees it */
	int error;                      /* errno */
	uint64_t packets;
	int64_t first_ns, last_ns;
};

struct rec_msg {
	struct rec_msg *next;
	enum rec_msg_type type;
	struct rec_sink *sink;
	uint32_t gen;
	json_object *meta;              /* CLOSE: the metadata file's content (owned) */
	struct rec_capture *cap;        /* CAPTURE */
};

struct rec {
	struct daemon *d;
	char pcap_dir[PATH_MAX], meta_dir[PATH_MAX], capture_dir[PATH_MAX];
	enum pcapw_link link;
	int64_t ring_ns;                /* capture ring length; 0: off */
	size_t ring_max_chunks;
	unsigned n_workers;
	struct bytering *q;             /* one per worker */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;           /* msgs, stop, and the capture condition */
	pthread_cond_t wake, done;
	struct rec_msg *msgs, **msgs_tail;
	bool stop;
	/* writer only */
	size_t ring_chunks;             /* chunks in use */
	struct ring_chunk *ring_old, *ring_new;     /* every chunk, oldest first */
	struct ring_chunk *ring_free;
	/* counters (statistics) */
	_Atomic uint64_t queue_drops;   /* copies a full worker queue refused */
	_Atomic uint64_t ring_drops;    /* copies the ring's memory cap pushed out early */
	_Atomic uint64_t written, write_errors, files, captures;
	_Atomic uint64_t ring_bytes;
};

/* rec_ctl.c: a file name for a call-id (see docs/recording.md), random suffix included. */
void rec_safe_name(const char *callid, size_t len, char *out, size_t outlen);

/* rec_writer.c */
int rec_writer_start(struct rec *r);
void rec_writer_stop(struct rec *r);
void rec_post(struct rec *r, struct rec_msg *m);
/* Post a capture (cap malloc'ed) and wait at most timeout_ms for the writer to finish
 * it. 0: done, the caller frees cap; -ETIMEDOUT: the writer will free it. */
int rec_capture_wait(struct rec *r, struct rec_sink *sink, struct rec_capture *cap,
		     unsigned timeout_ms);
/* "pcaps/NAME[-GEN].pcap" for a gen (gen 1 has no suffix). */
void rec_file_name(const struct rec_sink *s, uint32_t gen, const char *suffix, char *out,
		   size_t outlen);

/* rec_ring.c (writer thread) */
size_t ring_chunks_for(uint64_t bytes);
void ring_add(struct rec *r, struct rec_sink *s, const struct rec_pkt *p, int64_t now_ns);
void ring_trim(struct rec *r, struct rec_sink *s, int64_t now_ns);
void ring_release(struct rec *r, struct rec_sink *s);
void ring_free_all(struct rec *r);
/* Write what s's ring holds of the last ring_ns (party: -1 all) to w. */
int ring_dump(struct rec *r, struct rec_sink *s, struct pcapw *w, int party, int64_t now_ns,
	      struct rec_capture *cap);

#endif
