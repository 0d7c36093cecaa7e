/*
 * test_progress.c - the progress line: its text, and when it is drawn
 *
 * progress_format() is checked on known inputs.  The drawing is checked on
 * a pseudo-terminal opened here and put in place of stderr, with a window
 * size of our choosing; nothing needs a real terminal.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"
#include "tap.h"

static char got[1024];

static const char *
fmt(size_t size, const char *what, const char *unit, size_t done,
    size_t total, double seconds)
{
	memset(got, 'X', sizeof(got));
	progress_format(got, size, what, unit, done, total, seconds);
	return got;
}

static void
test_format(void)
{
	is_str(fmt(sizeof(got), "reading", "objects", 52000, 0, 0.0),
	    "reading: 52,000 objects",
	    "a phase just started shows the count and no rate");
	is_str(fmt(sizeof(got), "reading", "objects", 52000, 0, 0.4),
	    "reading: 52,000 objects",
	    "no rate is shown before half a second, when it means nothing");
	is_str(fmt(sizeof(got), "reading", "objects", 82500, 0, 2.0),
	    "reading: 82,500 objects, 41,250/s",
	    "without a total the line shows the count and the rate, no ETA");
	is_str(fmt(sizeof(got), "applying", "operations", 3200, 105000,
	    3200.0 / 1150.0),
	    "applying: 3,200/105,000 operations, 1,150/s, ETA 1m29s",
	    "with a total the line shows done/total, the rate and the ETA");
	is_str(fmt(sizeof(got), "applying", "operations", 3200, 105000, 0.1),
	    "applying: 3,200/105,000 operations",
	    "no ETA without a rate");
	is_str(fmt(sizeof(got), "applying", "operations", 0, 10, 5.0),
	    "applying: 0/10 operations, 0/s",
	    "no ETA when nothing was done yet: a zero rate predicts nothing");
	is_str(fmt(sizeof(got), "x", "things", 100, 550, 10.0),
	    "x: 100/550 things, 10/s, ETA 45s",
	    "an ETA under a minute is in seconds");
	is_str(fmt(sizeof(got), "x", "things", 100, 750, 10.0),
	    "x: 100/750 things, 10/s, ETA 1m05s",
	    "an ETA under an hour is in minutes and two-digit seconds");
	is_str(fmt(sizeof(got), "x", "things", 100, 75100, 10.0),
	    "x: 100/75,100 things, 10/s, ETA 2h05m",
	    "a longer ETA is in hours and two-digit minutes");
	is_str(fmt(sizeof(got), "x", "things", 550, 550, 10.0),
	    "x: 550/550 things, 55/s, ETA 0s",
	    "the ETA of a finished phase is 0s");
	is_str(fmt(sizeof(got), "x", "things", 600, 550, 10.0),
	    "x: 600/550 things, 60/s",
	    "no ETA once done passes the total");
	is_str(fmt(sizeof(got), "x", "things", 1, 100000000, 1000.0),
	    "x: 1/100,000,000 things, 0/s",
	    "no ETA beyond 9999 hours");
	is_str(fmt(sizeof(got), "n", "", 999, 1000, 0.0), "n: 999/1,000",
	    "thousands get a separator from 1,000 on, and no unit means "
	    "no trailing space");
	is_str(fmt(sizeof(got), "n", "u", 0, 0, 0.0), "n: 0 u",
	    "zero is shown as 0");
	is_str(fmt(sizeof(got), "n", "u", SIZE_MAX, 0, 0.0),
	    SIZE_MAX == 18446744073709551615ULL ?
	    "n: 18,446,744,073,709,551,615 u" : "n: 4,294,967,295 u",
	    "the biggest count is grouped by three");
	is_str(fmt(sizeof(got), "n", "u", 1234567, 0, 1.0),
	    "n: 1,234,567 u, 1,234,567/s", "a big rate is grouped too");
	is_str(fmt(sizeof(got), NULL, NULL, 5, 0, 0.0), ": 5",
	    "a NULL name and unit are empty");

	is_str(fmt(10, "applying", "operations", 3200, 105000, 9.0),
	    "applying:", "a line is cut to the size given, NUL included");
	is_str(fmt(36, "applying", "operations", 3200, 105000, 2.0),
	    "applying: 3,200/105,000 operations",
	    "a line that does not fit loses its rate and ETA whole first");
	is_str(fmt(46, "applying", "operations", 3200, 105000, 2.0),
	    "applying: 3,200/105,000 operations, 1,600/s",
	    "then its ETA alone, when the rate still fits");
	is_str(fmt(56, "applying", "operations", 3200, 105000, 2.0),
	    "applying: 3,200/105,000 operations, 1,600/s, ETA 1m04s",
	    "a line that fits exactly is whole");
	is_str(fmt(30, "applying", "operations", 3200, 105000, 2.0),
	    "applying: 3,200/105,000 opera",
	    "a line too narrow even without the rate is cut");
	is_str(fmt(1, "applying", "operations", 1, 2, 9.0), "",
	    "a size of one leaves an empty string");
	fmt(0, "applying", "operations", 1, 2, 9.0);
	ok(got[0] == 'X', "a size of zero writes nothing");
	is_str(fmt(6, "\xc3\xa9\xc3\xa9\xc3\xa9", "u", 1, 0, 0.0),
	    "\xc3\xa9\xc3\xa9",
	    "a cut never leaves half a UTF-8 character");
	is_str(fmt(7, "\xc3\xa9\xc3\xa9\xc3\xa9", "u", 1, 0, 0.0),
	    "\xc3\xa9\xc3\xa9\xc3\xa9",
	    "a cut right after a whole UTF-8 character keeps it");
}

static void
test_not_a_terminal(void)
{
	struct progress *p;
	int saved, null;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	if (saved == -1 || null == -1 || dup2(null, STDERR_FILENO) == -1) {
		ok(0, "stderr can be pointed at /dev/null: %s", strerror(errno));
		return;
	}
	close(null);
	p = progress_start("reading", "objects", 10);
	ok(p == NULL, "progress_start returns NULL when stderr is not a terminal");
	progress_update(p, 5);
	progress_clear();
	progress_end(p);
	ok(1, "progress_update, progress_clear and progress_end accept NULL");
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* --- on a pseudo-terminal ------------------------------------------------ */

static int master = -1;

/* What the terminal received since the last call, in got. */
static const char *
screen(void)
{
	struct pollfd pfd = { master, POLLIN, 0 };
	size_t n = 0;
	int wait = 150;	/* the pty hands output over asynchronously */
	ssize_t r;

	fflush(stderr);
	while (n < sizeof(got) - 1 && poll(&pfd, 1, wait) == 1) {
		r = read(master, got + n, sizeof(got) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		wait = 20;
	}
	got[n] = '\0';
	return got;
}

static int
pty_open(int cols)
{
	struct winsize ws;
	struct termios t;
	int slave;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master == -1 || grantpt(master) == -1 || unlockpt(master) == -1)
		return -1;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave == -1)
		return -1;
	/* Raw: what the program writes is what the master reads. */
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = 24;
	ioctl(slave, TIOCSWINSZ, &ws);
	return slave;
}

/* "\r", n spaces, "\r": what wipes a line of n columns. */
static const char *
wipe(size_t n)
{
	static char w[256];

	if (n > sizeof(w) - 3)
		n = sizeof(w) - 3;
	w[0] = '\r';
	memset(w + 1, ' ', n);
	w[n + 1] = '\r';
	w[n + 2] = '\0';
	return w;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

static void
test_terminal(void)
{
	struct progress *p, *q;
	int saved, slave;
	char want[256];
	size_t i, len, shown;
	int good;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	slave = pty_open(40);
	if (saved == -1 || slave == -1 || dup2(slave, STDERR_FILENO) == -1) {
		ok(0, "a pseudo-terminal can replace stderr: %s", strerror(errno));
		return;
	}
	close(slave);
	setenv("TERM", "xterm", 1);
	unsetenv("L2S_NO_PROGRESS");

	p = progress_start("reading", "objects", 0);
	ok(p != NULL, "progress_start returns a progress on a terminal");
	is_str(screen(), "", "starting a phase draws nothing yet");

	progress_update(p, 1234);
	progress_update(p, 2000);
	is_str(screen(), "\rreading: 1,234 objects",
	    "the first update draws at once, the next within 250 ms does not");

	log_warnx("slow server");
	is_str(screen(), "\r                      \rldap2scim: warning: slow server\n",
	    "a log line first wipes the progress line with spaces");
	progress_clear();
	is_str(screen(), "", "clearing a wiped line writes nothing");

	pause_ms(300);
	progress_update(p, 3000);
	screen();
	like(got, "\rreading: 3,000 objects, ",
	    "after 250 ms an update draws the line again, with a rate");
	shown = strlen(got) - 1;
	pause_ms(300);
	progress_update(p, 5);
	screen();
	ok(strlen(got) > shown + 2 && got[1 + shown] == '\r',
	    "a shorter line is drawn over the width of the longer one");
	len = strlen(got) > shown + 2 ? strlen(got + 2 + shown) : 0;
	good = strncmp(got, "\rreading: 5 objects, ", 21) == 0 &&
	    strcspn(got + 1, "\r") == shown &&
	    strspn(got + 1 + len, " ") == shown - len &&
	    strncmp(got + 2 + shown, got + 1, len) == 0;
	if (!ok(good, "spaces cover the rest of the longer line, and the "
	    "line is drawn again to leave the cursor at its end"))
		printf("#   got '%s'\n", got);

	progress_end(p);
	is_str(screen(), wipe(len), "progress_end wipes the line");

	p = progress_start("applying a very long phase name", "operations",
	    105000);
	progress_update(p, 3200);
	screen();
	snprintf(want, sizeof(want), "\r%.39s",
	    "applying a very long phase name: 3,200/105,000 operations");
	is_str(got, want,
	    "the line is cut to one column less than the terminal's width");

	q = progress_start("second", "things", 0);
	is_str(screen(), "\r                                       \r",
	    "a second progress_start wipes the first one's line");
	progress_update(p, 3300);
	pause_ms(300);
	progress_update(p, 3400);
	is_str(screen(), "", "the first progress draws nothing once replaced");
	progress_end(p);
	is_str(screen(), "", "ending the replaced progress writes nothing");
	progress_update(q, 7);
	like(screen(), "\rsecond: 7 things", "the second progress draws");
	len = strlen(got) - 1;
	progress_end(q);
	is_str(screen(), wipe(len), "and is wiped at its end");

	p = progress_start("x", "things", 0);
	for (i = 0; i < 20; i++)
		progress_update(p, i);
	progress_end(p);
	log_info("after the end");
	is_str(screen(), "\rx: 0 things\r           \rldap2scim: after the end\n",
	    "after progress_end a log line is written alone");

	setenv("TERM", "dumb", 1);
	p = progress_start("x", "things", 0);
	ok(p == NULL, "TERM=dumb counts as not a terminal");
	progress_end(p);
	setenv("TERM", "xterm", 1);
	setenv("L2S_NO_PROGRESS", "1", 1);
	p = progress_start("x", "things", 0);
	ok(p == NULL, "L2S_NO_PROGRESS=1 turns the progress line off");
	progress_end(p);
	setenv("L2S_NO_PROGRESS", "0", 1);
	p = progress_start("x", "things", 0);
	ok(p != NULL, "L2S_NO_PROGRESS=0 leaves it on");
	progress_end(p);
	unsetenv("L2S_NO_PROGRESS");

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(master);
}

int
main(void)
{
	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	test_format();
	test_not_a_terminal();
	test_terminal();
	return tap_done();
}
