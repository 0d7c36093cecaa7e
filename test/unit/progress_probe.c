/*
 * progress_probe.c - drive agent/progress.c for
 * test/integration/progress_test.sh
 *
 *   progress_probe COUNT
 *
 * Counts to COUNT in a phase named "counting" (total COUNT), one thing a
 * millisecond, logs "half way" at COUNT/2, ends the phase and logs "done".
 * Everything goes to stderr: a progress line only when it is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "progress.h"

int
main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000L };
	struct progress *p;
	size_t i, count;

	if (argc != 2) {
		fprintf(stderr, "usage: progress_probe COUNT\n");
		return 2;
	}
	count = (size_t)strtoul(argv[1], NULL, 10);
	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	p = progress_start("counting", "things", count);
	for (i = 1; i <= count; i++) {
		nanosleep(&ms, NULL);
		progress_update(p, i);
		if (i == count / 2)
			log_warnx("half way");
	}
	progress_end(p);
	log_info("done");
	return 0;
}
