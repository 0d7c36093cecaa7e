/*
 * test_log.c - log lines: secrets masked everywhere, one line per event
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static char last[16384];

static void
sink(enum log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
}

int
main(void)
{
	char *big;

	log_init(LOG_LVL_DEBUG, LOG_FMT_TEXT);
	log_set_sink(sink, NULL);

	log_secret("s3cr3t-t0ken");
	log_warnx("refused with 's3cr3t-t0ken' twice: s3cr3t-t0ken");
	is_str(last, "refused with '***' twice: ***",
	    "a registered secret is masked wherever it appears");

	alarm(5);	/* a loop that never ends fails the test */
	log_secret("**");
	log_warnx("stars ** and more ****");
	is_str(last, "stars ** and more ****",
	    "a secret made of '*' is masked without looping on its own mask");
	alarm(0);

	big = malloc(6000);
	if (big == NULL)
		return 1;
	memset(big, 'x', 6000);
	memcpy(big + 4090, "s3cr3t-t0ken", 12);
	big[5999] = '\0';
	log_warnx("%s", big);
	ok(strstr(last, "s3cr3t") == NULL && strstr(last, "t0ken") == NULL,
	    "a secret across the line-length cut is masked, not half shown");
	free(big);

	log_info("two\nlines\r");
	is_str(last, "two lines ", "an event is one line: newlines become spaces");

	log_set_level(LOG_LVL_WARN);
	last[0] = '\0';
	log_info("quiet");
	is_str(last, "", "lines under the level are dropped");

	log_forget_secrets();
	log_warnx("s3cr3t-t0ken");
	is_str(last, "s3cr3t-t0ken", "forgotten secrets are no longer masked");
	return tap_done();
}
