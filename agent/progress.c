/*
 * progress.c - one progress line on stderr while a long phase runs
 *
 * Shown only when stderr is a terminal, TERM is not "dumb" and
 * L2S_NO_PROGRESS is unset (or "0").  The line is drawn with "\r" and
 * cleared by padding with spaces over what was shown before: no escape
 * sequence, so any terminal understands it.  It is kept one column
 * narrower than the terminal so the cursor never reaches the margin and
 * the line never wraps.
 *
 * One progress is shown at a time: progress_start() detaches the one
 * running (its line is wiped, later updates to it draw nothing; its owner
 * still frees it with progress_end()).  Nothing is allocated after start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "progress.h"

#define PROGRESS_REDRAW_MS 250
#define PROGRESS_WIDTH_DEFAULT 80
#define PROGRESS_LINE_MAX 512		/* bytes drawn at most, whatever the width */
#define PROGRESS_NAME_MAX 64
#define PROGRESS_RATE_MIN_SECONDS 0.5	/* before that, a rate means nothing */
#define PROGRESS_ETA_MAX_SECONDS (9999.0 * 3600.0)

struct progress {
	char what[PROGRESS_NAME_MAX];
	char unit[PROGRESS_NAME_MAX];
	size_t total;
	int active;		/* the one progress_clear() acts on */
	int ever_drawn;
	size_t shown;		/* columns of the line on screen now, 0 when none */
	struct timespec start;
	struct timespec last;	/* when the line was last drawn */
	char line[PROGRESS_LINE_MAX];
	/* "\r", the line, spaces over the rest of the old line, NUL */
	char out[1 + 2 * PROGRESS_LINE_MAX + 1];
};

static struct progress *progress_shown;

static int
progress_wanted(void)
{
	const char *term = getenv("TERM");
	const char *off = getenv("L2S_NO_PROGRESS");

	if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0)
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return platform_stderr_tty();
}

/* Columns the line may use: one less than the terminal's width. */
static size_t
progress_width(void)
{
	size_t cols = (size_t)platform_stderr_columns();

	if (cols == 0)
		cols = PROGRESS_WIDTH_DEFAULT;
	if (cols > PROGRESS_LINE_MAX)
		cols = PROGRESS_LINE_MAX;
	return cols - 1;
}

static void
progress_now(struct timespec *ts)
{
	if (clock_gettime(CLOCK_MONOTONIC, ts) == -1) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	}
}

static double
progress_seconds(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) +
	    (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* Write out[0..n) to stderr, whole. */
static void
progress_write(const char *out, size_t n)
{
	fwrite(out, 1, n, stderr);
	fflush(stderr);
}

/* "\r", spaces over what is shown, "\r". */
static void
progress_wipe(struct progress *p)
{
	size_t n = 0;

	if (p->shown == 0)
		return;
	p->out[n++] = '\r';
	memset(p->out + n, ' ', p->shown);
	n += p->shown;
	p->out[n++] = '\r';
	progress_write(p->out, n);
	p->shown = 0;
}

static void
progress_draw(struct progress *p, size_t done, const struct timespec *now)
{
	size_t width = progress_width(), len, n = 0;

	if (width + 1 > sizeof(p->line))
		width = sizeof(p->line) - 1;
	progress_format(p->line, width + 1, p->what, p->unit, done, p->total,
	    progress_seconds(&p->start, now));
	len = strlen(p->line);
	p->out[n++] = '\r';
	memcpy(p->out + n, p->line, len);
	n += len;
	if (p->shown > len) {
		/* Cover the rest of a longer line drawn before, then come
		 * back so the cursor sits at the end of this one. */
		memset(p->out + n, ' ', p->shown - len);
		n += p->shown - len;
		p->out[n++] = '\r';
		memcpy(p->out + n, p->line, len);
		n += len;
	}
	progress_write(p->out, n);
	p->shown = len;
	p->last = *now;
	p->ever_drawn = 1;
}

/* what and unit are copied (cut to PROGRESS_NAME_MAX - 1 bytes). */
struct progress *
progress_start(const char *what, const char *unit, size_t total)
{
	struct progress *p;

	if (!progress_wanted())
		return NULL;
	if (progress_shown != NULL) {
		progress_wipe(progress_shown);
		progress_shown->active = 0;
		progress_shown = NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	snprintf(p->what, sizeof(p->what), "%s", what != NULL ? what : "");
	snprintf(p->unit, sizeof(p->unit), "%s", unit != NULL ? unit : "");
	p->total = total;
	p->active = 1;
	progress_now(&p->start);
	progress_shown = p;
	return p;
}

void
progress_update(struct progress *p, size_t done)
{
	struct timespec now;

	if (p == NULL || !p->active)
		return;
	progress_now(&now);
	if (p->ever_drawn &&
	    progress_seconds(&p->last, &now) * 1000.0 < PROGRESS_REDRAW_MS)
		return;
	progress_draw(p, done, &now);
}

void
progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->active) {
		progress_wipe(p);
		progress_shown = NULL;
	}
	free(p);
}

void
progress_clear(void)
{
	if (progress_shown != NULL)
		progress_wipe(progress_shown);
}

/* Where progress_format() writes: out[0..size), NUL-terminated, truncated. */
struct progress_out {
	char *s;
	size_t size;
	size_t len;
	int cut;
};

static void
progress_put(struct progress_out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->size == 0)
		return;
	if (o->len + n >= o->size) {
		n = o->size - 1 - o->len;
		o->cut = 1;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

/* n with a "," between groups of three digits, whatever the locale. */
static void
progress_put_count(struct progress_out *o, size_t n)
{
	char digits[32], grouped[48];
	size_t len, i, j = 0;

	snprintf(digits, sizeof(digits), "%zu", n);
	len = strlen(digits);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			grouped[j++] = ',';
		grouped[j++] = digits[i];
	}
	grouped[j] = '\0';
	progress_put(o, grouped);
}

/* 45s, 1m29s, 2h05m. */
static void
progress_put_eta(struct progress_out *o, double seconds)
{
	unsigned long s = (unsigned long)(seconds + 0.5);
	char text[32];

	if (s < 60)
		snprintf(text, sizeof(text), "%lus", s);
	else if (s < 3600)
		snprintf(text, sizeof(text), "%lum%02lus", s / 60, s % 60);
	else
		snprintf(text, sizeof(text), "%luh%02lum", s / 3600,
		    s / 60 % 60);
	progress_put(o, text);
}

/* Never leave half a UTF-8 character at a cut. */
static void
progress_cut_utf8(struct progress_out *o)
{
	size_t i, need;
	unsigned char lead;

	if (o->len == 0)
		return;
	/* Back to where the last character starts. */
	i = o->len - 1;
	while (i > 0 && ((unsigned char)o->s[i] & 0xC0) == 0x80)
		i--;
	lead = (unsigned char)o->s[i];
	if (lead < 0xC0)
		return;		/* ASCII, or not UTF-8: not ours to fix */
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (o->len - i < need) {
		o->len = i;
		o->s[o->len] = '\0';
	}
}

/* Append s whole when it fits, else nothing; 1 when appended. */
static int
progress_put_whole(struct progress_out *o, const char *s)
{
	if (o->cut || o->len + strlen(s) >= o->size)
		return 0;
	progress_put(o, s);
	return 1;
}

/*
 * "what: done[/total] unit[, rate/s[, ETA eta]]".  When the line does not
 * fit, the ETA goes first, then the rate; only then is the rest cut.
 */
void
progress_format(char *out, size_t size, const char *what, const char *unit,
    size_t done, size_t total, double seconds)
{
	struct progress_out o = { out, size, 0, 0 };
	char tail[64];
	struct progress_out t = { tail, sizeof(tail), 0, 0 };
	double rate = 0.0;

	if (size == 0)
		return;
	out[0] = '\0';
	progress_put(&o, what != NULL ? what : "");
	progress_put(&o, ": ");
	progress_put_count(&o, done);
	if (total > 0) {
		progress_put(&o, "/");
		progress_put_count(&o, total);
	}
	if (unit != NULL && unit[0] != '\0') {
		progress_put(&o, " ");
		progress_put(&o, unit);
	}
	if (o.cut) {
		progress_cut_utf8(&o);
		return;
	}
	if (!(seconds >= PROGRESS_RATE_MIN_SECONDS))
		return;		/* too early for a rate to mean anything */
	rate = (double)done / seconds;
	if (rate > 1e15)
		rate = 1e15;	/* stays a size_t when rounded */
	progress_put(&t, ", ");
	progress_put_count(&t, (size_t)(rate + 0.5));
	progress_put(&t, "/s");
	if (!progress_put_whole(&o, tail))
		return;
	if (total == 0 || rate <= 0.0 || done > total ||
	    (double)(total - done) / rate > PROGRESS_ETA_MAX_SECONDS)
		return;
	t.len = 0;
	progress_put(&t, ", ETA ");
	progress_put_eta(&t, (double)(total - done) / rate);
	progress_put_whole(&o, tail);
}
