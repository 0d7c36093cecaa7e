/*
 * log.h - the agent's log lines
 *
 * OpenBSD's names: log_warn() appends strerror(errno), log_warnx() does not.
 * Lines go to a sink: stderr by default (text or JSON, one line per event),
 * or a function a test installs.  Any string registered with log_secret()
 * is replaced by "***" in every line before it reaches the sink, as a last
 * line of defence: callers still never format secrets into messages.
 *
 * Not thread-safe; the agent logs from one thread.
 */
#ifndef L2S_LOG_H
#define L2S_LOG_H

#include "compiler.h"

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

typedef void (*log_sink_fn)(enum log_level lvl, const char *line, void *arg);

void log_init(enum log_level max, enum log_format fmt);
void log_set_level(enum log_level max);
enum log_level log_get_level(void);
/* Replace the sink; NULL restores stderr.  arg is borrowed. */
void log_set_sink(log_sink_fn fn, void *arg);

/* Register a secret to mask (copied; empty strings ignored); 0 or -1. */
int log_secret(const char *secret);
void log_forget_secrets(void);

void log_error(const char *fmt, ...) L2S_PRINTF(1, 2);
void log_warn(const char *fmt, ...) L2S_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) L2S_PRINTF(1, 2);
void log_info(const char *fmt, ...) L2S_PRINTF(1, 2);
void log_debug(const char *fmt, ...) L2S_PRINTF(1, 2);

/* Mask registered secrets in s, in place when the result fits; returns s. */
char *log_mask(char *s, unsigned long size);

#endif
