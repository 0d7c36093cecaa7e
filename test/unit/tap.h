/*
 * tap.h - the smallest TAP producer that serves the unit tests
 *
 * ok(cond, name...) prints "ok N - name" or "not ok N - name" with the
 * place of the failing assertion; is_int/is_str also print what differed.
 * tap_done() prints the plan and returns the exit status (0 when all passed).
 */
#ifndef L2S_TAP_H
#define L2S_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

static int tap_n, tap_failed;

static inline int L2S_PRINTF(4, 5)
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!ok(g_ == w_, __VA_ARGS__))					\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = (g_ == NULL && w_ == NULL) ||			\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	if (!ok(same_, __VA_ARGS__))					\
		printf("#   got '%s'\n#  want '%s'\n",			\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

#define like(got, needle, ...) do {					\
	const char *g_ = (got), *n_ = (needle);				\
	if (!ok(g_ != NULL && strstr(g_, n_) != NULL, __VA_ARGS__))	\
		printf("#   got '%s'\n#   not containing '%s'\n",	\
		    g_ ? g_ : "(null)", n_);				\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif
