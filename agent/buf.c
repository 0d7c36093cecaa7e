/*
 * buf.c - growable byte buffer
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int
buf_grow(struct buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->failed)
		return -1;
	if (extra > (size_t)-1 / 2 - b->len - 1) {
		b->failed = 1;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(b->s, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->s = p;
	b->cap = cap;
	return 0;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	/* Room already there (len + n + 1 <= cap) needs no call. */
	if ((b->failed || n >= b->cap - b->len) && buf_grow(b, n) != 0)
		return;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if (buf_grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

int
buf_failed(const struct buf *b)
{
	return b->failed;
}

const char *
buf_str(const struct buf *b)
{
	return b->s != NULL ? b->s : "";
}

char *
buf_take(struct buf *b)
{
	char *s;

	if (b->failed) {
		buf_free(b);
		return NULL;
	}
	s = b->s != NULL ? b->s : strdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

char *
str_ndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);
	char *d;

	if (end != NULL)
		n = (size_t)(end - s);
	d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
