/*
 * platform_win32.c - the run lock, stop requests, sleep, secret files,
 * files and the event log on Windows
 *
 * Strings are UTF-8 inside the agent and UTF-16 at every Windows call
 * (the W functions), so that any path or message survives.
 *
 * The lock is LockFileEx() on a byte far past the end of a file beside the
 * state; the holder writes its pid at the start, which others can still
 * read.  The lock dies with its holder's handle, so with its process.
 *
 * Stop and reload: Ctrl-C and Ctrl-Break set the stop event (so do a
 * console's close and a shutdown, though Windows may end the process
 * before the cycle in flight does); the service wrapper names two more events in the environment,
 * L2S_STOP_EVENT (manual reset: once set, stays set) and L2S_RELOAD_EVENT
 * (auto reset: each reload is taken once).  A sleep waits on them all, so
 * a stop ends it at once.
 *
 * Secret files: refused when their access list lets anyone read them but
 * their owner, the account the agent runs as, SYSTEM and Administrators
 * (or has no access list, or cannot be read).
 */
#ifdef _WIN32

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include "buf.h"
#include "err.h"
#include "platform.h"
#include "platform_win32.h"
#include "secret.h"

/* The byte locked: far past any pid written at the start. */
#define LOCK_OFFSET 0x40000000UL

/* Event log ids of the agent's lines: messages 100 to 102 of the table in
 * agent/service/messages.mc, with their severity bits. */
#define EVENT_AGENT_INFO	0x40000064UL
#define EVENT_AGENT_WARNING	0x80000065UL
#define EVENT_AGENT_ERROR	0xC0000066UL

struct platform_lock {
	HANDLE h;
};

static HANDLE stop_event;	/* ours: Ctrl-C and friends */
static HANDLE ext_stop;		/* the wrapper's, or NULL */
static HANDLE ext_reload;	/* the wrapper's, or NULL */
static volatile LONG reload_flag;
static HANDLE event_log;

/* --- strings --- */

wchar_t *
platform_wide(const char *s)
{
	wchar_t *w;
	int n;

	if (s == NULL)
		return NULL;
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0) {
		errno = EINVAL;
		return NULL;
	}
	w = malloc((size_t)n * sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
	return w;
}

char *
platform_narrow(const wchar_t *w)
{
	char *s;
	int n;

	if (w == NULL)
		return NULL;
	n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0 || (s = malloc((size_t)n)) == NULL)
		return NULL;
	WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	return s;
}

/* The text of Windows error code e, in static storage (UTF-8, no final
 * period or line end). */
static const char *
win_error(DWORD e)
{
	static char out[512];
	wchar_t w[256];
	DWORD n;
	char *s;

	n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, w,
	    sizeof(w) / sizeof(w[0]), NULL);
	while (n > 0 && (w[n - 1] == L'\r' || w[n - 1] == L'\n' ||
	    w[n - 1] == L'.' || w[n - 1] == L' '))
		w[--n] = L'\0';
	if (n == 0 || (s = platform_narrow(w)) == NULL) {
		snprintf(out, sizeof(out), "Windows error %lu",
		    (unsigned long)e);
		return out;
	}
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	return out;
}

/* A failed Win32 call as errno, for callers that speak errno. */
static void
set_errno(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
		errno = ENOENT;
		break;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
		errno = EACCES;
		break;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		errno = EEXIST;
		break;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		errno = ENOMEM;
		break;
	default:
		errno = EIO;
		break;
	}
}

/* CreateFileW of a UTF-8 path. */
static HANDLE
open_file(const char *path, DWORD access, DWORD share, DWORD disposition,
    DWORD flags, SECURITY_ATTRIBUTES *sa)
{
	wchar_t *w = platform_wide(path);
	HANDLE h;

	if (w == NULL) {
		SetLastError(errno == ENOMEM ? ERROR_NOT_ENOUGH_MEMORY :
		    ERROR_INVALID_NAME);
		return INVALID_HANDLE_VALUE;
	}
	h = CreateFileW(w, access, share, sa, disposition, flags, NULL);
	free(w);
	return h;
}

/* --- paths --- */

const char *
platform_default_config(void)
{
	static char path[MAX_PATH * 3];
	wchar_t dir[MAX_PATH];
	DWORD n;
	char *s;

	if (path[0] != '\0')
		return path;
	n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
	if (n == 0 || n >= MAX_PATH)
		wcscpy(dir, L"C:\\ProgramData");
	s = platform_narrow(dir);
	snprintf(path, sizeof(path), "%s\\ldap2scim\\ldap2scim.yaml",
	    s != NULL ? s : "C:\\ProgramData");
	free(s);
	return path;
}

int
platform_args(int *argc, char ***argv)
{
	wchar_t **w;
	char **v;
	int n, i;

	w = CommandLineToArgvW(GetCommandLineW(), &n);
	if (w == NULL)
		return -1;
	v = calloc((size_t)n + 1, sizeof(*v));
	for (i = 0; v != NULL && i < n; i++)
		if ((v[i] = platform_narrow(w[i])) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			v = NULL;
		}
	LocalFree(w);
	if (v == NULL)
		return -1;
	*argc = n;
	*argv = v;	/* kept until exit, as main()'s own */
	/* Lines end in LF as everywhere: no CR LF translation, so that what
	 * reads the output (a log file, a pipe) gets the same bytes. */
	_setmode(_fileno(stdout), _O_BINARY);
	_setmode(_fileno(stderr), _O_BINARY);
	/* Each log line out at once, also into a file or a pipe (the C
	 * library here buffers stderr when it is not a console). */
	setvbuf(stderr, NULL, _IONBF, 0);
	return 0;
}

FILE *
platform_fopen(const char *path, const char *mode)
{
	wchar_t *w = platform_wide(path), *m = platform_wide(mode);
	FILE *f = NULL;

	if (w != NULL && m != NULL)
		f = _wfopen(w, m);
	free(w);
	free(m);
	return f;
}

int
platform_stat(const char *path, struct platform_stat *st)
{
	WIN32_FILE_ATTRIBUTE_DATA a;
	wchar_t *w = platform_wide(path);
	BOOL got;

	if (w == NULL)
		return -1;
	got = GetFileAttributesExW(w, GetFileExInfoStandard, &a);
	free(w);
	if (!got) {
		set_errno(GetLastError());
		return -1;
	}
	st->size = ((long long)a.nFileSizeHigh << 32) | a.nFileSizeLow;
	st->is_dir = (a.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
	st->is_reg = !st->is_dir &&
	    (a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0;
	return 0;
}

int
platform_remove(const char *path)
{
	wchar_t *w = platform_wide(path);
	BOOL ok;

	if (w == NULL)
		return -1;
	ok = DeleteFileW(w);
	free(w);
	if (!ok) {
		set_errno(GetLastError());
		return -1;
	}
	return 0;
}

/* --- the run lock --- */

/* The pid at the start of the lock file, or 0. */
static long
lock_holder(HANDLE h)
{
	char s[32];
	DWORD n = 0;
	OVERLAPPED o;
	long pid;
	char *end;

	memset(&o, 0, sizeof(o));
	if (!ReadFile(h, s, sizeof(s) - 1, &n, &o) || n == 0)
		return 0;
	s[n] = '\0';
	pid = strtol(s, &end, 10);
	if (end == s || pid <= 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return pid;
}

int
platform_lock(struct platform_lock **out, const char *path, struct err *err)
{
	struct platform_lock *l = NULL;
	OVERLAPPED o;
	HANDLE h;
	char pid[32];
	DWORD e, n;
	long holder;
	int rc = L2S_OK;

	*out = NULL;
	h = open_file(path, GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
	    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return err_set(err, L2S_EIO, "cannot open lock file '%s': %s",
		    path, win_error(GetLastError()));
	memset(&o, 0, sizeof(o));
	o.Offset = LOCK_OFFSET;
	if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK |
	    LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &o)) {
		e = GetLastError();
		if (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) {
			holder = lock_holder(h);
			if (holder > 0)
				rc = err_set(err, L2S_ELOCKED, "another "
				    "ldap2scim run holds the lock '%s' "
				    "(pid %ld)", path, holder);
			else
				rc = err_set(err, L2S_ELOCKED, "another "
				    "ldap2scim run holds the lock '%s'", path);
		} else {
			rc = err_set(err, L2S_EIO, "cannot lock '%s': %s",
			    path, win_error(e));
		}
		goto done;
	}
	/* Ours now: record who holds it (best effort, for messages only). */
	n = (DWORD)snprintf(pid, sizeof(pid), "%lu\n",
	    (unsigned long)GetCurrentProcessId());
	memset(&o, 0, sizeof(o));
	if (WriteFile(h, pid, n, &n, &o)) {
		LARGE_INTEGER end;

		end.QuadPart = n;
		if (SetFilePointerEx(h, end, NULL, FILE_BEGIN))
			SetEndOfFile(h);
	}
	l = malloc(sizeof(*l));
	if (l == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	l->h = h;
	h = INVALID_HANDLE_VALUE;
	*out = l;
done:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	return rc;
}

void
platform_unlock(struct platform_lock *l)
{
	LARGE_INTEGER zero;

	if (l == NULL)
		return;
	/* Leave the file: empty it, so that no stale pid is shown. */
	zero.QuadPart = 0;
	if (SetFilePointerEx(l->h, zero, NULL, FILE_BEGIN))
		SetEndOfFile(l->h);
	CloseHandle(l->h);	/* releases the lock */
	free(l);
}

/* --- stop and reload --- */

static BOOL WINAPI
on_console(DWORD type)
{
	switch (type) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
	case CTRL_CLOSE_EVENT:
	case CTRL_SHUTDOWN_EVENT:
		SetEvent(stop_event);
		return TRUE;
	default:
		return FALSE;
	}
}

/* Open the event named by environment variable var, if set. */
static int
open_named(const wchar_t *var, const char *what, HANDLE *out,
    struct err *err)
{
	wchar_t name[256];
	DWORD n;
	char *s;

	*out = NULL;
	n = GetEnvironmentVariableW(var, name, sizeof(name) / sizeof(name[0]));
	if (n == 0)
		return L2S_OK;
	if (n >= sizeof(name) / sizeof(name[0]))
		return err_set(err, L2S_EIO, "%s: the event name is too long",
		    what);
	*out = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name);
	if (*out == NULL) {
		s = platform_narrow(name);
		n = GetLastError();
		err_set(err, L2S_EIO, "cannot open the event '%s' named by %s: "
		    "%s", s != NULL ? s : "?", what, win_error(n));
		free(s);
		return L2S_EIO;
	}
	return L2S_OK;
}

int
platform_signals(struct err *err)
{
	int rc;

	/* Lines go out as UTF-8; a console shows them as such. */
	SetConsoleOutputCP(CP_UTF8);
	if (stop_event == NULL &&
	    (stop_event = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL)
		return err_set(err, L2S_EIO, "cannot create the stop event: %s",
		    win_error(GetLastError()));
	if (!SetConsoleCtrlHandler(on_console, TRUE))
		return err_set(err, L2S_EIO, "cannot install the console "
		    "handler: %s", win_error(GetLastError()));
	if (ext_stop == NULL) {
		rc = open_named(L"L2S_STOP_EVENT", "L2S_STOP_EVENT", &ext_stop,
		    err);
		if (rc != L2S_OK)
			return rc;
	}
	if (ext_reload == NULL) {
		rc = open_named(L"L2S_RELOAD_EVENT", "L2S_RELOAD_EVENT",
		    &ext_reload, err);
		if (rc != L2S_OK)
			return rc;
	}
	return L2S_OK;
}

static int
is_set(HANDLE h)
{
	return h != NULL && WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
}

int
platform_stop_requested(void)
{
	return is_set(stop_event) || is_set(ext_stop);
}

int
platform_take_reload(void)
{
	/* The auto-reset event is consumed by the wait that sees it. */
	if (is_set(ext_reload))
		InterlockedExchange(&reload_flag, 1);
	return InterlockedExchange(&reload_flag, 0) != 0;
}

void
platform_request_stop(void)
{
	if (stop_event == NULL)
		stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (stop_event != NULL)
		SetEvent(stop_event);
}

/* Wait up to ms; 1 when a stop (or, with on_reload, a reload) ended it. */
static int
sleep_for(long long ms, int on_reload)
{
	HANDLE h[3];
	DWORD n = 0, r, t;
	ULONGLONG end;

	if (platform_stop_requested() || (on_reload && reload_flag))
		return 1;
	if (stop_event != NULL)
		h[n++] = stop_event;
	if (ext_stop != NULL)
		h[n++] = ext_stop;
	if (on_reload && ext_reload != NULL)
		h[n++] = ext_reload;
	if (ms < 0)
		ms = 0;
	end = GetTickCount64() + (ULONGLONG)ms;
	for (;;) {
		ULONGLONG now = GetTickCount64();

		if (now >= end)
			return 0;
		t = end - now > 0x7fffffffULL ? 0x7fffffffUL :
		    (DWORD)(end - now);
		r = n > 0 ? WaitForMultipleObjects(n, h, FALSE, t) :
		    (Sleep(t), WAIT_TIMEOUT);
		if (r == WAIT_TIMEOUT)
			return 0;
		if (r < WAIT_OBJECT_0 + n) {
			if (h[r - WAIT_OBJECT_0] == ext_reload)
				InterlockedExchange(&reload_flag, 1);
			return 1;
		}
		return 0;	/* a failed wait: as if it ran out */
	}
}

int
platform_sleep(int seconds)
{
	return sleep_for(seconds > 0 ? (long long)seconds * 1000 : 0, 1);
}

int
platform_sleep_ms(long ms)
{
	return sleep_for(ms, 0);
}

/* --- secret files --- */

/* The account sid names, for a message: "everyone", or DOMAIN\name, or
 * the SID itself; into out. */
static void
sid_name(PSID sid, char *out, size_t size)
{
	wchar_t name[256], dom[256];
	DWORD n = 256, d = 256;
	SID_NAME_USE use;
	LPWSTR text = NULL;
	char *s = NULL;
	BYTE world[SECURITY_MAX_SID_SIZE];
	DWORD wn = sizeof(world);

	if (CreateWellKnownSid(WinWorldSid, NULL, world, &wn) &&
	    EqualSid(sid, world)) {
		snprintf(out, size, "everyone");
		return;
	}
	if (LookupAccountSidW(NULL, sid, name, &n, dom, &d, &use)) {
		wchar_t full[520];

		_snwprintf(full, sizeof(full) / sizeof(full[0]), L"%ls%ls%ls",
		    dom, dom[0] != L'\0' ? L"\\" : L"", name);
		full[519] = L'\0';
		s = platform_narrow(full);
	} else if (ConvertSidToStringSidW(sid, &text)) {
		s = platform_narrow(text);
		LocalFree(text);
	}
	snprintf(out, size, "%s", s != NULL ? s : "another account");
	free(s);
}

/* May sid read the secret: SYSTEM, Administrators, the file's owner, or
 * the account this process runs as? */
static int
sid_may_read(PSID sid, PSID owner, PSID self)
{
	BYTE buf[SECURITY_MAX_SID_SIZE];
	DWORD n;

	if ((owner != NULL && EqualSid(sid, owner)) ||
	    (self != NULL && EqualSid(sid, self)))
		return 1;
	n = sizeof(buf);
	if (CreateWellKnownSid(WinLocalSystemSid, NULL, buf, &n) &&
	    EqualSid(sid, buf))
		return 1;
	n = sizeof(buf);
	return CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, buf, &n) &&
	    EqualSid(sid, buf);
}

/*
 * NULL when only the owner, the account this process runs as, SYSTEM and
 * Administrators may read the open file h; else who else may, into who
 * (or why that cannot be told: then the file is refused too).
 */
static const char *
readable_by(HANDLE h, char *who, size_t size)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	PSID owner = NULL;
	TOKEN_USER *tu = NULL;
	HANDLE tok = NULL;
	ACL_SIZE_INFORMATION info;
	const char *why = NULL;
	DWORD e, i, n = 0;

	e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION |
	    DACL_SECURITY_INFORMATION, &owner, NULL, &dacl, NULL, &sd);
	if (e == ERROR_NOT_SUPPORTED)
		return NULL;	/* no access lists here (FAT): nothing to tell */
	if (e != ERROR_SUCCESS) {
		snprintf(who, size, "anyone (its access list cannot be read: "
		    "%s)", win_error(e));
		return who;
	}
	if (dacl == NULL) {
		why = "everyone (it has no access list)";
		goto done;
	}
	if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
		GetTokenInformation(tok, TokenUser, NULL, 0, &n);
		tu = n > 0 ? malloc(n) : NULL;
		if (tu != NULL && !GetTokenInformation(tok, TokenUser, tu, n, &n)) {
			free(tu);
			tu = NULL;
		}
		CloseHandle(tok);
	}
	if (!GetAclInformation(dacl, &info, sizeof(info), AclSizeInformation)) {
		why = "anyone (its access list cannot be read)";
		goto done;
	}
	for (i = 0; i < info.AceCount && why == NULL; i++) {
		ACE_HEADER *hd;
		ACCESS_ALLOWED_ACE *ace;

		if (!GetAce(dacl, i, (void **)&hd) ||
		    (hd->AceFlags & INHERIT_ONLY_ACE) != 0 ||
		    hd->AceType == ACCESS_DENIED_ACE_TYPE)
			continue;
		if (hd->AceType != ACCESS_ALLOWED_ACE_TYPE) {
			/* object or callback entries: not told apart here */
			why = "an account its access list names in a form not "
			    "checked here";
			break;
		}
		ace = (ACCESS_ALLOWED_ACE *)hd;
		if ((ace->Mask & (FILE_READ_DATA | GENERIC_READ | GENERIC_ALL |
		    MAXIMUM_ALLOWED)) == 0 ||
		    sid_may_read((PSID)&ace->SidStart, owner,
		    tu != NULL ? tu->User.Sid : NULL))
			continue;
		sid_name((PSID)&ace->SidStart, who, size);
		why = who;
	}
done:
	free(tu);
	LocalFree(sd);
	return why;
}

int
platform_read_secret(const char *path, char **out, const char **warning,
    struct err *err)
{
	HANDLE h;
	char *big = NULL, whobuf[300];
	const char *who;
	DWORD n = 0;
	int rc = L2S_OK;

	*out = NULL;
	if (warning != NULL)
		*warning = NULL;
	h = open_file(path, GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING,
	    FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();

		set_errno(e);
		return err_set(err, L2S_EIO, "cannot open secret file '%s': %s",
		    path, win_error(e));
	}
	if (GetFileType(h) != FILE_TYPE_DISK) {
		rc = err_set(err, L2S_EIO, "secret file '%s' is not a regular "
		    "file", path);
		goto done;
	}
	who = readable_by(h, whobuf, sizeof(whobuf));
	if (who != NULL) {
		rc = err_set(err, L2S_EIO, "secret file '%s' is readable by "
		    "%s: allow only the service account and administrators",
		    path, who);
		goto done;
	}
	/* SECRET_MAX + 1 bytes at most: secret_take() refuses more. */
	big = malloc(SECRET_MAX + 1);
	if (big == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (!ReadFile(h, big, SECRET_MAX + 1, &n, NULL)) {
		rc = err_set(err, L2S_EIO, "cannot read secret file '%s': %s",
		    path, win_error(GetLastError()));
		goto done;
	}
	rc = secret_take(path, big, n, out, err);
done:
	if (big != NULL) {
		SecureZeroMemory(big, SECRET_MAX + 1);
		free(big);
	}
	CloseHandle(h);
	return rc;
}

void
platform_secret_free(char *s)
{
	if (s == NULL)
		return;
	SecureZeroMemory(s, strlen(s));
	free(s);
}

/* --- files --- */

int
platform_write_file(const char *dir, const char *name, const void *p,
    size_t len, const char *what, struct err *err)
{
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	HANDLE h = INVALID_HANDLE_VALUE;
	wchar_t *wtmp = NULL, *wpath = NULL;
	DWORD n, e = 0;
	int rc, tries, i, made = 0;

	buf_printf(&path, "%s\\%s", dir, name);
	if (buf_failed(&path))
		return err_set(err, L2S_ENOMEM, "out of memory");
	for (tries = 0; tries < 100 && h == INVALID_HANDLE_VALUE; tries++) {
		ULONGLONG r = GetTickCount64() * 2654435761ULL ^
		    ((ULONGLONG)GetCurrentProcessId() << 20) ^
		    (ULONGLONG)tries * 40503ULL;

		buf_reset(&tmp);
		buf_printf(&tmp, "%s\\.%s.", dir, name);
		for (i = 0; i < 6; i++, r /= 62)
			buf_putc(&tmp, letters[r % 62]);
		if (buf_failed(&tmp)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		h = open_file(tmp.s, GENERIC_WRITE, 0, CREATE_NEW,
		    FILE_ATTRIBUTE_NORMAL, NULL);
		e = GetLastError();
		if (h == INVALID_HANDLE_VALUE && e != ERROR_FILE_EXISTS)
			break;
	}
	if (h == INVALID_HANDLE_VALUE) {
		rc = err_set(err, L2S_EIO, "cannot create a file in %s "
		    "directory '%s': %s", what, dir, win_error(e));
		goto done;
	}
	made = 1;
	while (len > 0) {
		DWORD chunk = len > 0x40000000 ? 0x40000000 : (DWORD)len;

		if (!WriteFile(h, p, chunk, &n, NULL) || n == 0)
			break;
		p = (const char *)p + n;
		len -= n;
	}
	if (len > 0 || !FlushFileBuffers(h)) {
		rc = err_set(err, L2S_EIO, "cannot write %s '%s': %s", what,
		    path.s, win_error(GetLastError()));
		goto done;
	}
	CloseHandle(h);
	h = INVALID_HANDLE_VALUE;
	wtmp = platform_wide(tmp.s);
	wpath = platform_wide(path.s);
	if (wtmp == NULL || wpath == NULL || !MoveFileExW(wtmp, wpath,
	    MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		rc = err_set(err, L2S_EIO, "cannot write %s '%s': %s", what,
		    path.s, win_error(GetLastError()));
		goto done;
	}
	made = 0;		/* renamed: nothing to remove */
	rc = L2S_OK;
done:
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	if (made)
		platform_remove(tmp.s);
	free(wtmp);
	free(wpath);
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

int
platform_create_private(const char *path, const char *what, struct err *err)
{
	SECURITY_ATTRIBUTES sa;
	PSECURITY_DESCRIPTOR sd = NULL;
	HANDLE h;
	DWORD e;

	/* Protected: nothing inherited; full control for the owner, SYSTEM
	 * and the Administrators group only. */
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
	    L"D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1, &sd,
	    NULL))
		return err_set(err, L2S_EIO, "cannot create %s '%s': %s", what,
		    path, win_error(GetLastError()));
	sa.nLength = sizeof(sa);
	sa.lpSecurityDescriptor = sd;
	sa.bInheritHandle = FALSE;
	h = open_file(path, GENERIC_READ | GENERIC_WRITE, 0, CREATE_NEW,
	    FILE_ATTRIBUTE_NORMAL, &sa);
	e = GetLastError();
	LocalFree(sd);
	if (h == INVALID_HANDLE_VALUE) {
		if (e == ERROR_FILE_EXISTS)
			return L2S_OK;
		return err_set(err, L2S_EIO, "cannot create %s '%s': %s", what,
		    path, win_error(e));
	}
	CloseHandle(h);
	return L2S_OK;
}

int
platform_each_file(const char *dir, int (*fn)(void *arg, const char *name),
    void *arg, const char *what, struct err *err)
{
	struct buf pat = BUF_INIT;
	WIN32_FIND_DATAW fd;
	HANDLE h;
	wchar_t *w;
	DWORD e;
	int rc = 0;

	buf_printf(&pat, "%s\\*", dir);
	if (buf_failed(&pat))
		return err_set(err, L2S_ENOMEM, "out of memory");
	w = platform_wide(pat.s);
	buf_free(&pat);
	if (w == NULL)
		return err_set(err, L2S_EIO, "cannot read %s '%s': not a valid "
		    "name", what, dir);
	h = FindFirstFileW(w, &fd);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		e = GetLastError();
		if (e == ERROR_FILE_NOT_FOUND)
			return 0;	/* empty */
		return err_set(err, L2S_EIO, "cannot read %s '%s': %s", what,
		    dir, win_error(e));
	}
	do {
		char *name;

		if (fd.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY |
		    FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE))
			continue;
		name = platform_narrow(fd.cFileName);
		if (name == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			break;
		}
		rc = fn(arg, name);
		free(name);
		if (rc != 0)
			break;
	} while (FindNextFileW(h, &fd));
	if (rc == 0 && (e = GetLastError()) != ERROR_NO_MORE_FILES)
		rc = err_set(err, L2S_EIO, "cannot read %s '%s': %s", what, dir,
		    win_error(e));
	FindClose(h);
	return rc;
}

/* --- the terminal --- */

int
platform_stderr_tty(void)
{
	DWORD mode;

	return GetConsoleMode(GetStdHandle(STD_ERROR_HANDLE), &mode) != 0;
}

int
platform_stderr_columns(void)
{
	CONSOLE_SCREEN_BUFFER_INFO info;

	if (!GetConsoleScreenBufferInfo(GetStdHandle(STD_ERROR_HANDLE), &info))
		return 0;
	return info.srWindow.Right - info.srWindow.Left + 1;
}

/* --- the event log --- */

int
platform_syslog_open(const char *ident, struct err *err)
{
	wchar_t source[256];
	DWORD n;
	wchar_t *w;

	/* Under the service wrapper: the source it registered, its name. */
	n = GetEnvironmentVariableW(L"L2S_EVENT_SOURCE", source,
	    sizeof(source) / sizeof(source[0]));
	if (n > 0 && n < sizeof(source) / sizeof(source[0])) {
		event_log = RegisterEventSourceW(NULL, source);
		if (event_log == NULL)
			return err_set(err, L2S_EIO, "cannot open the event "
			    "log: %s", win_error(GetLastError()));
		return L2S_OK;
	}
	w = platform_wide(ident);

	if (w == NULL)
		return err_set(err, L2S_EIO, "cannot open the event log: "
		    "bad source name");
	event_log = RegisterEventSourceW(NULL, w);
	free(w);
	if (event_log == NULL)
		return err_set(err, L2S_EIO, "cannot open the event log: %s",
		    win_error(GetLastError()));
	return L2S_OK;
}

void
platform_syslog(enum log_level lvl, const char *line)
{
	const wchar_t *strings[1];
	wchar_t *w;
	WORD type;
	DWORD id;

	if (event_log == NULL || (w = platform_wide(line)) == NULL)
		return;
	switch (lvl) {
	case LOG_LVL_ERROR:
		type = EVENTLOG_ERROR_TYPE;
		id = EVENT_AGENT_ERROR;
		break;
	case LOG_LVL_WARN:
		type = EVENTLOG_WARNING_TYPE;
		id = EVENT_AGENT_WARNING;
		break;
	default:
		type = EVENTLOG_INFORMATION_TYPE;
		id = EVENT_AGENT_INFO;
		break;
	}
	strings[0] = w;
	ReportEventW(event_log, type, 0, id, NULL, 1, 0, strings, NULL);
	free(w);
}

void
platform_syslog_close(void)
{
	if (event_log != NULL)
		DeregisterEventSource(event_log);
	event_log = NULL;
}

#endif /* _WIN32 */
