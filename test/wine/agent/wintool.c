/*
 * wintool.c - what the integration tests do with POSIX tools, done the
 * Windows way for the Windows agent under wine (test/lib/agent.sh):
 *
 *   wintool.exe hold-lock PATH READY RELEASE
 *       take the run lock PATH as the agent does (platform_lock), create
 *       the file READY, hold the lock until the file RELEASE exists
 *   wintool.exe events STOP RELOAD READY RELEASE
 *       create the named events the service wrapper would (STOP manual
 *       reset, RELOAD auto reset), create READY, keep them until RELEASE
 *   wintool.exe set NAME
 *       signal the named event NAME
 *
 * Exit status 0, or 1 with a message on stderr.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "platform.h"

static wchar_t *
to_wide(const char *s)
{
	static wchar_t w[2][512];
	static int next;
	wchar_t *p = w[next++ % 2];

	MultiByteToWideChar(CP_UTF8, 0, s, -1, p, 512);
	return p;
}

static int
touch(const char *path)
{
	FILE *f = platform_fopen(path, "wb");

	return f != NULL && fclose(f) == 0 ? 0 : -1;
}

static void
wait_for(const char *path)
{
	struct platform_stat st;
	int i;

	for (i = 0; i < 1200 && platform_stat(path, &st) != 0; i++)
		Sleep(100);	/* two minutes at most */
}

int
main(int argc, char **argv)
{
	struct err err = ERR_INIT;

	if (platform_args(&argc, &argv) != 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "hold-lock") == 0) {
		struct platform_lock *l = NULL;

		if (platform_lock(&l, argv[2], &err) != L2S_OK) {
			fprintf(stderr, "wintool: %s\n", err.msg);
			return 1;
		}
		if (touch(argv[3]) != 0)
			return 1;
		wait_for(argv[4]);
		platform_unlock(l);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "events") == 0) {
		HANDLE stop = CreateEventW(NULL, TRUE, FALSE, to_wide(argv[2]));
		HANDLE reload = CreateEventW(NULL, FALSE, FALSE,
		    to_wide(argv[3]));

		if (stop == NULL || reload == NULL || touch(argv[4]) != 0) {
			fprintf(stderr, "wintool: cannot create the events\n");
			return 1;
		}
		wait_for(argv[5]);
		CloseHandle(stop);
		CloseHandle(reload);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "set") == 0) {
		HANDLE h = OpenEventW(EVENT_MODIFY_STATE, FALSE,
		    to_wide(argv[2]));

		if (h == NULL || !SetEvent(h)) {
			fprintf(stderr, "wintool: cannot signal '%s'\n", argv[2]);
			return 1;
		}
		CloseHandle(h);
		return 0;
	}
	fprintf(stderr, "usage: wintool.exe hold-lock PATH READY RELEASE | "
	    "events STOP RELOAD READY RELEASE | set NAME\n");
	return 2;
}
