/*
 * buf.h - a growable, always NUL-terminated byte buffer
 *
 * Used wherever text is assembled piece by piece (DN normalisation, plan
 * output, JSON paths).  A buffer that failed to grow remembers it: later
 * appends are no-ops and buf_failed() is true, so callers check once at the
 * end instead of after every append.
 */
#ifndef L2S_BUF_H
#define L2S_BUF_H

#include <stddef.h>

#include "compiler.h"

struct buf {
	char *s;		/* owned; NUL-terminated when len > 0 or after any append */
	size_t len, cap;
	int failed;		/* an allocation failed; contents are incomplete */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	L2S_PRINTF(2, 3);
void buf_reset(struct buf *b);		/* empty, keep memory */
void buf_free(struct buf *b);		/* release memory, back to BUF_INIT */
int buf_failed(const struct buf *b);

/* The contents ("" when empty); borrowed, valid until the next append. */
const char *buf_str(const struct buf *b);

/* Hand the contents to the caller (free() it); NULL if the buffer failed.
 * The buffer is reset to BUF_INIT. */
char *buf_take(struct buf *b);

/* A copy of the first n bytes of s (fewer when s ends first), ended by a
 * NUL; the caller frees it.  NULL out of memory.  (strndup(), which not
 * every C library has.) */
char *str_ndup(const char *s, size_t n);

#endif
