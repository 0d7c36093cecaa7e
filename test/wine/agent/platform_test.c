/*
 * platform_test.c - platform_win32.c under wine: the run lock, the stop
 * and reload events, the interruptible sleep, secret files and their
 * access lists, files replaced whole, private files, listings, UTF-8
 * names, the default paths
 *
 *   platform_test.exe DIR      (DIR: an empty directory, Windows path)
 *
 * TAP on stdout.  Built by `make windows-tests`, run by platform_test.sh.
 */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "platform.h"
#include "tap.h"

static const char *dir;

static void
path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s\\%s", dir, name);
}

static wchar_t *
to_wide(const char *s)
{
	static wchar_t w[1024];

	MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 1024);
	return w;
}

static void
put(const char *path, const char *text)
{
	FILE *f = platform_fopen(path, "wb");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = platform_fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Does path's access list let Everyone (WD) do anything? */
static int
everyone_allowed(const char *path)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	LPWSTR text = NULL;
	int yes;

	if (GetNamedSecurityInfoW(to_wide(path), SE_FILE_OBJECT,
	    DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &sd) !=
	    ERROR_SUCCESS)
		return -1;
	if (dacl == NULL) {
		LocalFree(sd);
		return 1;
	}
	ConvertSecurityDescriptorToStringSecurityDescriptorW(sd,
	    SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, NULL);
	yes = text == NULL || wcsstr(text, L";;;WD)") != NULL;
	LocalFree(text);
	LocalFree(sd);
	return yes;
}

static void
lock_tests(void)
{
	struct platform_lock *a = NULL, *b = NULL;
	struct err err = ERR_INIT;
	char path[512], want[64];

	path_in(path, sizeof(path), "state.db.lock");
	is_int(platform_lock(&a, path, &err), L2S_OK,
	    "the lock is taken when nobody holds it");
	is_int(platform_lock(&b, path, &err), L2S_ELOCKED,
	    "a second lock on the same file is refused");
	snprintf(want, sizeof(want), "(pid %lu)",
	    (unsigned long)GetCurrentProcessId());
	like(err.msg, want, "and the refusal names the holder's pid");
	like(err.msg, "another ldap2scim run holds the lock",
	    "and says another run holds it");
	platform_unlock(a);
	is_int(platform_lock(&b, path, &err), L2S_OK,
	    "once released the lock is taken again");
	platform_unlock(b);
	put(path, "");
	is_str(slurp(path), "", "an unlocked lock file holds no stale pid");
}

/*
 * The shell test made DIR\world.pass (mode 0644) and DIR\owner.pass
 * (0600), both "s3cret\r\n": wine shows a file's mode bits as its access
 * list (others' read bit as an entry for Everyone), which is what the
 * check reads.
 */
static void
secret_tests(void)
{
	struct err err = ERR_INIT;
	const char *warning = NULL;
	char path[512], *s = NULL;

	path_in(path, sizeof(path), "world.pass");
	ok(everyone_allowed(path) == 1,
	    "a world-readable file shows an entry for Everyone");
	is_int(platform_read_secret(path, &s, &warning, &err), L2S_EIO,
	    "a secret file everyone may read is refused");
	like(err.msg, "is readable by everyone", "and the refusal says so");
	like(err.msg, "world.pass", "and names the file");
	ok(s == NULL, "and no secret is returned");

	path_in(path, sizeof(path), "owner.pass");
	ok(everyone_allowed(path) == 0,
	    "an owner-only file shows no entry for Everyone");
	is_int(platform_read_secret(path, &s, &warning, &err), L2S_OK,
	    "a secret file only its owner may read is read");
	is_str(s, "s3cret", "with its CR LF stripped");
	ok(warning == NULL, "and no warning");
	platform_secret_free(s);
	s = NULL;

	path_in(path, sizeof(path), "missing.pass");
	is_int(platform_read_secret(path, &s, &warning, &err), L2S_EIO,
	    "a missing secret file is an error");
	like(err.msg, "cannot open secret file", "which says it cannot open it");
	like(err.msg, "missing.pass", "and names the file");
}

struct seen {
	int n, photo, sub, other;
};

static int
count_file(void *arg, const char *name)
{
	struct seen *s = arg;

	s->n++;
	if (strcmp(name, "a.jpg") == 0)
		s->photo++;
	else if (strcmp(name, "sub") == 0)
		s->sub++;
	else if (strcmp(name, "caf\xc3\xa9.png") == 0)
		s->other++;
	return 0;
}

static void
file_tests(void)
{
	struct err err = ERR_INIT;
	struct platform_stat st;
	struct seen seen = { 0, 0, 0, 0 };
	char path[512], sub[512];
	int found;

	path_in(sub, sizeof(sub), "photos");
	CreateDirectoryW(to_wide(sub), NULL);
	is_int(platform_write_file(sub, "a.jpg", "first", 5, "photo", &err),
	    L2S_OK, "a file is written whole");
	is_int(platform_write_file(sub, "a.jpg", "second!", 7, "photo", &err),
	    L2S_OK, "and replaced whole");
	path_in(path, sizeof(path), "photos\\a.jpg");
	is_str(slurp(path), "second!", "the reader finds the new contents");
	ok(platform_stat(path, &st) == 0 && st.is_reg && st.size == 7,
	    "platform_stat sees a regular file of 7 bytes");

	is_int(platform_write_file(sub, "caf\xc3\xa9.png", "x", 1, "photo",
	    &err), L2S_OK, "a file with a UTF-8 name is written");
	path_in(path, sizeof(path), "photos\\caf\xc3\xa9.png");
	is_str(slurp(path), "x", "and opens by its UTF-8 name");
	path_in(path, sizeof(path), "photos\\sub");
	CreateDirectoryW(to_wide(path), NULL);
	is_int(platform_each_file(sub, count_file, &seen, "photo directory",
	    &err), 0, "the photo directory is listed");
	is_int(seen.n, 2, "with its two files and no temporary left");
	ok(seen.photo == 1 && seen.other == 1 && seen.sub == 0,
	    "directories are not listed, UTF-8 names come back as written");
	path_in(path, sizeof(path), "photos\\caf\xc3\xa9.png");
	is_int(platform_remove(path), 0, "a file with a UTF-8 name is removed");
	ok(platform_stat(path, &st) == -1 && errno == ENOENT,
	    "and is gone (ENOENT)");

	path_in(path, sizeof(path), "nowhere");
	is_int(platform_write_file(path, "a.jpg", "x", 1, "photo", &err),
	    L2S_EIO, "writing into a missing directory fails");
	like(err.msg, "cannot create a file in photo directory",
	    "and says where");
	seen.n = 0;
	found = platform_each_file(path, count_file, &seen, "photo directory",
	    &err);
	is_int(found, L2S_EIO, "listing a missing directory fails");
	like(err.msg, "cannot read photo directory", "and says so");

	path_in(path, sizeof(path), "state.db");
	is_int(platform_create_private(path, "state file", &err), L2S_OK,
	    "a private file is created");
	put(path, "kept");
	is_int(platform_create_private(path, "state file", &err), L2S_OK,
	    "creating it again is no error");
	is_str(slurp(path), "kept", "and leaves its contents alone");
	ok(everyone_allowed(path) == 0,
	    "the private file's access list gives Everyone nothing");
	path_in(path, sizeof(path), "nowhere\\state.db");
	is_int(platform_create_private(path, "state file", &err), L2S_EIO,
	    "a private file in a missing directory fails");
	like(err.msg, "cannot create state file", "and names what it is");
}

static DWORD WINAPI
set_later(LPVOID h)
{
	Sleep(300);
	SetEvent((HANDLE)h);
	return 0;
}

static void
event_tests(void)
{
	struct err err = ERR_INIT;
	HANDLE stop, reload, t;
	ULONGLONG t0;
	int r;

	SetEnvironmentVariableW(L"L2S_STOP_EVENT", L"Local\\l2s-test-none");
	is_int(platform_signals(&err), L2S_EIO,
	    "a stop event name that names no event is an error");
	like(err.msg, "l2s-test-none", "which names the event");
	like(err.msg, "L2S_STOP_EVENT", "and the variable");

	stop = CreateEventW(NULL, TRUE, FALSE, L"Local\\l2s-test-stop");
	reload = CreateEventW(NULL, FALSE, FALSE, L"Local\\l2s-test-reload");
	SetEnvironmentVariableW(L"L2S_STOP_EVENT", L"Local\\l2s-test-stop");
	SetEnvironmentVariableW(L"L2S_RELOAD_EVENT", L"Local\\l2s-test-reload");
	is_int(platform_signals(&err), L2S_OK,
	    "the wrapper's stop and reload events are opened");
	ok(!platform_stop_requested(), "no stop is requested at first");
	ok(!platform_take_reload(), "nor a reload");

	t0 = GetTickCount64();
	r = platform_sleep(1);
	ok(r == 0 && GetTickCount64() - t0 >= 900,
	    "an undisturbed sleep of 1 s lasts it");

	t = CreateThread(NULL, 0, set_later, reload, 0, NULL);
	t0 = GetTickCount64();
	r = platform_sleep(20);
	ok(r == 1 && GetTickCount64() - t0 < 5000,
	    "the reload event ends a sleep early");
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
	ok(platform_take_reload(), "and the reload is taken");
	ok(!platform_take_reload(), "once");
	ok(!platform_stop_requested(), "a reload is no stop");

	SetEvent(reload);
	ok(platform_take_reload(), "a reload signalled between sleeps is taken");

	t = CreateThread(NULL, 0, set_later, stop, 0, NULL);
	t0 = GetTickCount64();
	r = platform_sleep_ms(20000);
	ok(r == 1 && GetTickCount64() - t0 < 5000,
	    "the stop event ends a retry's sleep early");
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
	ok(platform_stop_requested(), "and a stop is requested from then on");
	ok(platform_sleep(5) == 1, "later sleeps end at once");
	CloseHandle(stop);
	CloseHandle(reload);
}

static void
path_tests(void)
{
	const char *c = platform_default_config();
	size_t n = strlen(c);
	const char *tail = "\\ldap2scim\\ldap2scim.yaml";
	wchar_t pd[MAX_PATH];
	char want[MAX_PATH * 3];

	ok(n > strlen(tail) && strcmp(c + n - strlen(tail), tail) == 0,
	    "the default config is ldap2scim\\ldap2scim.yaml (%s)", c);
	GetEnvironmentVariableW(L"ProgramData", pd, MAX_PATH);
	WideCharToMultiByte(CP_UTF8, 0, pd, -1, want, sizeof(want), NULL,
	    NULL);
	ok(strncmp(c, want, strlen(want)) == 0,
	    "under %%ProgramData%% (%s)", want);
}

static void
args_tests(void)
{
	int argc = 0;
	char **argv = NULL;

	is_int(platform_args(&argc, &argv), 0, "the command line is read");
	ok(argc >= 3 && strcmp(argv[2], "caf\xc3\xa9") == 0,
	    "a non-ASCII argument arrives in UTF-8");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: platform_test.exe DIR [caf\xc3\xa9]\n");
		return 2;
	}
	dir = argv[1];
	lock_tests();
	secret_tests();
	file_tests();
	path_tests();
	args_tests();
	event_tests();
	return tap_done();
}
