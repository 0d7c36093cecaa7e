/*
 * log.c - log lines to stderr or a test's sink, with secrets masked
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "progress.h"

#define LOG_LINE_MAX 4096
#define LOG_SECRETS_MAX 16

static enum log_level log_max = LOG_LVL_INFO;
static enum log_format log_fmt = LOG_FMT_TEXT;
static log_sink_fn log_sink;
static void *log_sink_arg;
static char *log_secrets[LOG_SECRETS_MAX];

static const char *log_names[] = { "error", "warning", "info", "debug" };

void
log_init(enum log_level max, enum log_format fmt)
{
	log_max = max;
	log_fmt = fmt;
}

void
log_set_level(enum log_level max)
{
	log_max = max;
}

enum log_level
log_get_level(void)
{
	return log_max;
}

void
log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

int
log_secret(const char *secret)
{
	int i;

	if (secret == NULL || secret[0] == '\0')
		return 0;
	for (i = 0; i < LOG_SECRETS_MAX; i++) {
		if (log_secrets[i] != NULL && strcmp(log_secrets[i], secret) == 0)
			return 0;
		if (log_secrets[i] == NULL) {
			log_secrets[i] = strdup(secret);
			return log_secrets[i] != NULL ? 0 : -1;
		}
	}
	/* Full: drop the oldest, a rotated token replaces an old one. */
	free(log_secrets[0]);
	memmove(log_secrets, log_secrets + 1, sizeof(log_secrets[0]) * (LOG_SECRETS_MAX - 1));
	log_secrets[LOG_SECRETS_MAX - 1] = strdup(secret);
	return log_secrets[LOG_SECRETS_MAX - 1] != NULL ? 0 : -1;
}

void
log_forget_secrets(void)
{
	int i;

	for (i = 0; i < LOG_SECRETS_MAX; i++) {
		free(log_secrets[i]);
		log_secrets[i] = NULL;
	}
}

char *
log_mask(char *s, unsigned long size)
{
	int i;

	for (i = 0; i < LOG_SECRETS_MAX && log_secrets[i] != NULL; i++) {
		size_t n = strlen(log_secrets[i]);
		char *p = s;

		while ((p = strstr(p, log_secrets[i])) != NULL) {
			/* "***" is never longer than a secret of 3+ bytes;
			 * shorter secrets are masked as one '*' per byte.
			 * Search on after the mask: a secret made of '*'
			 * must not be found again in its own mask. */
			size_t m = n >= 3 ? 3 : n;

			memset(p, '*', m);
			memmove(p + m, p + n, strlen(p + n) + 1);
			p += m;
		}
	}
	(void)size;
	return s;
}

static void
log_json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_putc(b, (char)c);
		}
	}
	buf_putc(b, '"');
}

static void
log_emit(enum log_level lvl, const char *msg)
{
	struct buf b = BUF_INIT;

	if (log_sink != NULL) {
		log_sink(lvl, msg, log_sink_arg);
		return;
	}
	if (log_fmt == LOG_FMT_JSON) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
		    log_names[lvl]);
		log_json_string(&b, msg);
		buf_puts(&b, "}\n");
	} else {
		buf_printf(&b, "ldap2scim: %s%s%s\n",
		    lvl == LOG_LVL_INFO ? "" : log_names[lvl],
		    lvl == LOG_LVL_INFO ? "" : ": ", msg);
	}
	if (!buf_failed(&b)) {
		progress_clear();	/* never a log line inside a progress line */
		fputs(buf_str(&b), stderr);
	}
	buf_free(&b);
}

static void
log_vlog(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	char small[LOG_LINE_MAX], *line = small;
	int saved = errno, len;
	size_t n;
	va_list ap2;

	if (lvl > log_max)
		return;
	/* Format whole, mask, then cut: a secret at the cut is masked too. */
	va_copy(ap2, ap);
	len = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (len >= (int)sizeof(small) && (line = malloc((size_t)len + 1)) != NULL)
		vsnprintf(line, (size_t)len + 1, fmt, ap);
	else
		line = small;
	log_mask(line, 0);
	if (line != small) {
		snprintf(small, sizeof(small), "%s", line);
		free(line);
		line = small;
	}
	if (with_errno) {
		n = strlen(line);
		snprintf(line + n, sizeof(small) - n, ": %s", strerror(saved));
	}
	/* One event, one line. */
	for (n = 0; line[n] != '\0'; n++)
		if (line[n] == '\n' || line[n] == '\r')
			line[n] = ' ';
	log_emit(lvl, line);
	errno = saved;
}

#define LOG_FN(name, lvl, with_errno)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vlog(lvl, with_errno, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_LVL_ERROR, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
