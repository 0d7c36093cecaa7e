/*
 * test_platform.c - the run lock, secret files and the interruptible sleep
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "platform.h"
#include "tap.h"

static char dir[] = "/tmp/test_platform.XXXXXX";

static void
path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
lock_should_refuse_a_second_run(void)
{
	struct platform_lock *l = NULL, *l2 = NULL;
	struct err err = ERR_INIT;
	char path[256], want[400];
	int pfd[2], status, rc;
	char res[ERR_MSG_MAX + 16];
	ssize_t n;
	pid_t pid;

	path_in(path, sizeof(path), "state.db.lock");
	rc = platform_lock(&l, path, &err);
	is_int(rc, L2S_OK, "lock is taken when nobody holds it");

	if (pipe(pfd) != 0)
		exit(2);
	pid = fork();
	if (pid == 0) {
		struct platform_lock *cl = NULL;
		struct err cerr = ERR_INIT;
		int crc;

		close(pfd[0]);
		crc = platform_lock(&cl, path, &cerr);
		dprintf(pfd[1], "%d %s", crc, cerr.msg);
		platform_unlock(cl);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], res, sizeof(res) - 1);
	res[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	snprintf(want, sizeof(want), "%d another ldap2scim run holds the "
	    "lock '%s' (pid %ld)", L2S_ELOCKED, path, (long)getpid());
	is_str(res, want, "lock held by another process is refused with "
	    "the holder's pid");

	rc = platform_lock(&l2, path, &err);
	is_int(rc, L2S_ELOCKED, "lock is exclusive within one process too");
	platform_unlock(l2);
	platform_unlock(l);

	l = NULL;
	rc = platform_lock(&l, path, &err);
	is_int(rc, L2S_OK, "lock is taken again after unlock");
	platform_unlock(l);

	rc = platform_lock(&l, "/nonexistent-dir/x.lock", &err);
	is_int(rc, L2S_EIO, "lock in a missing directory fails");
	is_str(err.msg, "cannot open lock file '/nonexistent-dir/x.lock': "
	    "No such file or directory", "lock error names the file");
	ok(l == NULL, "failed lock leaves the handle NULL");
}

static void
secret_should_strip_one_newline(void)
{
	struct err err = ERR_INIT;
	const char *warning = "unset";
	char path[256], *s = NULL;
	int rc;

	path_in(path, sizeof(path), "pass");
	write_file(path, "s3cret\n\n", 8, 0600);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_int(rc, L2S_OK, "secret with newlines is read");
	is_str(s, "s3cret\n", "only one trailing newline is stripped");
	ok(warning == NULL, "mode 600 gives no warning");
	platform_secret_free(s);

	write_file(path, "s3cret\r\n", 8, 0600);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_str(s, "s3cret", "a CRLF line end is stripped");
	platform_secret_free(s);

	write_file(path, "\xef\xbb\xbfs3cret\n", 10, 0600);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_str(s, "s3cret", "a UTF-8 byte order mark at the start is dropped");
	platform_secret_free(s);

	write_file(path, "\xef\xbb\xbf\n", 4, 0600);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_int(rc, L2S_EIO, "a byte order mark and a newline are no secret");
	like(err.msg, "is empty", "and the file is called empty");

	write_file(path, "no newline", 10, 0400);
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_OK, "secret without newline is read, warning NULL ok");
	is_str(s, "no newline", "secret without newline is kept whole");
	platform_secret_free(s);
}

static void
secret_should_check_permissions(void)
{
	struct err err = ERR_INIT;
	const char *warning = NULL;
	char path[256], want[400], *s = NULL;
	int rc;

	path_in(path, sizeof(path), "world");
	write_file(path, "pw\n", 3, 0644);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_int(rc, L2S_EIO, "world-readable secret is refused");
	snprintf(want, sizeof(want), "secret file '%s' is readable by "
	    "everyone: chmod o-r it", path);
	is_str(err.msg, want, "world-readable refusal says what to do");
	ok(s == NULL, "refused secret leaves *out NULL");

	path_in(path, sizeof(path), "group");
	write_file(path, "pw\n", 3, 0640);
	rc = platform_read_secret(path, &s, &warning, &err);
	is_int(rc, L2S_OK, "group-readable secret is read");
	is_str(warning, "is readable by its group",
	    "group-readable secret warns");
	is_str(s, "pw", "group-readable secret value");
	platform_secret_free(s);
}

static void
secret_should_refuse_bad_files(void)
{
	struct err err = ERR_INIT;
	char path[256], want[400], *s = NULL, *big;
	int rc;

	path_in(path, sizeof(path), "empty");
	write_file(path, "\n", 1, 0600);
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_EIO, "secret of just a newline is refused");
	snprintf(want, sizeof(want), "secret file '%s' is empty", path);
	is_str(err.msg, want, "empty secret message");

	path_in(path, sizeof(path), "missing");
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_EIO, "missing secret file fails");
	snprintf(want, sizeof(want), "cannot open secret file '%s': No such "
	    "file or directory", path);
	is_str(err.msg, want, "missing secret message names the file");

	rc = platform_read_secret(dir, &s, NULL, &err);
	is_int(rc, L2S_EIO, "a directory is not a secret file");
	like(err.msg, "is not a regular file", "directory message");

	big = malloc(64 * 1024 + 2);
	memset(big, 'x', 64 * 1024 + 2);
	path_in(path, sizeof(path), "big");
	write_file(path, big, 64 * 1024 + 1, 0600);
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_EIO, "secret over 64 KiB is refused");
	like(err.msg, "is larger than 64 KiB", "oversized secret message");
	write_file(path, big, 64 * 1024, 0600);
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_OK, "secret of exactly 64 KiB is read");
	ok(s != NULL && strlen(s) == 64 * 1024, "64 KiB secret is whole");
	platform_secret_free(s);
	free(big);

	path_in(path, sizeof(path), "nul");
	write_file(path, "a\0b\n", 4, 0600);
	rc = platform_read_secret(path, &s, NULL, &err);
	is_int(rc, L2S_EIO, "secret with a NUL byte is refused");
	like(err.msg, "contains a NUL byte", "NUL byte message");

	platform_secret_free(NULL);
	ok(1, "freeing a NULL secret is a no-op");
}

static void
sleep_should_end_on_time_or_on_request(void)
{
	struct err err = ERR_INIT;
	double t0;
	int r;

	is_int(platform_signals(&err), L2S_OK, "signal handlers install");
	ok(!platform_stop_requested(), "no stop requested at start");

	t0 = now_s();
	r = platform_sleep(1);
	is_int(r, 0, "sleep that runs out returns 0");
	ok(now_s() - t0 >= 0.95, "sleep lasts its time");

	raise(SIGHUP);
	ok(!platform_stop_requested(), "SIGHUP does not ask for a stop");
	t0 = now_s();
	r = platform_sleep(5);
	is_int(r, 1, "a pending reload interrupts sleep");
	ok(now_s() - t0 < 0.5, "reload interrupt is prompt");
	is_int(platform_take_reload(), 1, "SIGHUP asks for a reload");
	is_int(platform_take_reload(), 0, "reload flag is cleared by reading");

	raise(SIGTERM);
	ok(platform_stop_requested(), "SIGTERM asks for a stop");
	t0 = now_s();
	r = platform_sleep(5);
	is_int(r, 1, "a stop request interrupts sleep");
	ok(now_s() - t0 < 0.5, "stop interrupt is prompt");
}

static void
sleep_should_end_when_stop_requested_midway(void)
{
	double t0;
	pid_t pid;
	int status, r;

	/* In a child: the stop flag is process-wide and already set here. */
	pid = fork();
	if (pid == 0) {
		struct err err = ERR_INIT;

		platform_signals(&err);
		if (platform_stop_requested())
			_exit(3);
		/* A SIGINT from the parent in 300 ms stops the sleep. */
		_exit(platform_sleep(10) == 1 ? 0 : 4);
	}
	t0 = now_s();
	usleep(300000);
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	is_int(r, 0, "SIGINT during sleep ends it with 1");
	ok(now_s() - t0 < 2.0, "SIGINT ends sleep within 100 ms slices");
}

static void
sleep_should_end_after_request_stop(void)
{
	pid_t pid;
	int status, r;

	/* In a fresh child, so that no earlier signal set the flag. */
	pid = fork();
	if (pid == 0) {
		if (platform_stop_requested())
			_exit(3);
		platform_request_stop();
		if (!platform_stop_requested())
			_exit(4);
		_exit(platform_sleep(10) == 1 ? 0 : 5);
	}
	waitpid(pid, &status, 0);
	r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	is_int(r, 0, "sleep after platform_request_stop returns 1 at once");
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	lock_should_refuse_a_second_run();
	secret_should_strip_one_newline();
	secret_should_check_permissions();
	secret_should_refuse_bad_files();
	sleep_should_end_when_stop_requested_midway();
	sleep_should_end_after_request_stop();
	sleep_should_end_on_time_or_on_request();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return tap_done();
}
