/*
 * progress.h - one progress line on stderr while a long phase runs
 *
 * Only for a person watching: when stderr is not a terminal (cron, a
 * service, a pipe, a test) progress_start() returns NULL and nothing is
 * ever written.  Every function accepts NULL.
 *
 * The line is redrawn in place ("\r", then the line cleared to its end) at
 * most a few times a second, and wiped by progress_end():
 *
 *   reading: 52,000 objects, 41,250/s
 *   applying: 3,200/105,000 operations, 1,150/s, ETA 1m29s
 *
 * Log lines written while a progress line is shown first wipe it (log.c
 * calls progress_clear()); the next update draws it again below them.
 * Not thread-safe, like the log.
 */
#ifndef L2S_PROGRESS_H
#define L2S_PROGRESS_H

#include <stddef.h>

struct progress;

/* Start a phase: what names it ("reading"), unit the things counted
 * ("objects", "operations"), total is how many there will be or 0 when
 * unknown (no ETA then).  NULL when stderr is not a terminal, or on ENOMEM
 * (progress is never worth failing for).  The caller owns the result. */
struct progress *progress_start(const char *what, const char *unit,
    size_t total);

/* done things so far; redraws when enough time passed since the last draw. */
void progress_update(struct progress *p, size_t done);

/* Wipe the line and free p. */
void progress_end(struct progress *p);

/* Wipe the line of the progress shown now, if any (for the log). */
void progress_clear(void);

/* The line for done of total after seconds, without "\r" (exposed for unit
 * tests).  Writes at most size bytes including the NUL into out. */
void progress_format(char *out, size_t size, const char *what,
    const char *unit, size_t done, size_t total, double seconds);

#endif
