/* Growable byte buffer for building replies, SDP bodies and log lines. */
#ifndef SLUICE_STRBUF_H
#define SLUICE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;      /* always NUL-terminated when len > 0 or after sb_init */
	size_t len;
	size_t cap;
	bool oom;       /* sticky: set on any failed growth; later appends are no-ops */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);                  /* len = 0, keeps capacity */
int sb_append(struct strbuf *sb, const void *p, size_t n);   /* 0 or -ENOMEM */
int sb_puts(struct strbuf *sb, const char *s);
int sb_putc(struct strbuf *sb, char c);
int sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
