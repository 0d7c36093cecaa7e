/*
 * logfile.c - size-rotated log file for the agent's output
 *
 * The size is tracked in memory from the file's size at open; rotation
 * renames with MoveFileExW while holding the lock, so a line is written to
 * exactly one file.  The file is opened with FILE_SHARE_DELETE so that
 * readers (a tail, an editor) do not block the rotation.
 */
#include <stdlib.h>
#include <wchar.h>

#include "logfile.h"

struct logfile {
	CRITICAL_SECTION lock;
	HANDLE h;
	wchar_t path[SVC_PATH_MAX];
	DWORD max_bytes;
	DWORD keep;
	ULONGLONG size;
	int echo;
};

static HANDLE
open_append(const wchar_t *path)
{
	return CreateFileW(path, FILE_APPEND_DATA | SYNCHRONIZE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
}

/* Create the directory holding path when it is missing (one level: the
 * %ProgramData%\ldap2scim of a fresh install). */
static void
make_parent(const wchar_t *path)
{
	wchar_t dir[SVC_PATH_MAX];
	wchar_t *slash;

	if (svc_copy(dir, SVC_PATH_MAX, path) != 0)
		return;
	slash = wcsrchr(dir, L'\\');
	if (slash == NULL || slash == dir || slash[-1] == L':')
		return;
	*slash = L'\0';
	CreateDirectoryW(dir, NULL);	/* ERROR_ALREADY_EXISTS is fine */
}

int
logfile_open(struct logfile **out, const wchar_t *path, DWORD max_bytes,
    DWORD keep, int echo, struct svc_err *e)
{
	struct logfile *lf = NULL;
	LARGE_INTEGER size;
	int rc = -1;

	*out = NULL;
	lf = calloc(1, sizeof(*lf));
	if (lf == NULL) {
		svc_err_set(e, L"cannot open log file '%ls': out of memory",
		    path);
		goto done;
	}
	InitializeCriticalSection(&lf->lock);
	lf->h = INVALID_HANDLE_VALUE;
	if (svc_copy(lf->path, SVC_PATH_MAX - 16, path) != 0) {
		svc_err_set(e, L"log file path '%ls' is too long", path);
		goto done;
	}
	lf->max_bytes = max_bytes < 256 ? 256 : max_bytes;
	lf->keep = keep;
	lf->echo = echo;
	make_parent(path);
	lf->h = open_append(path);
	if (lf->h == INVALID_HANDLE_VALUE) {
		svc_err_win(e, L"CreateFileW", GetLastError(),
		    L"cannot open log file '%ls'", path);
		goto done;
	}
	if (!GetFileSizeEx(lf->h, &size)) {
		svc_err_win(e, L"GetFileSizeEx", GetLastError(),
		    L"cannot read the size of log file '%ls'", path);
		goto done;
	}
	lf->size = (ULONGLONG)size.QuadPart;
	*out = lf;
	lf = NULL;
	rc = 0;
done:
	logfile_close(lf);
	return rc;
}

void
logfile_close(struct logfile *lf)
{
	if (lf == NULL)
		return;
	if (lf->h != INVALID_HANDLE_VALUE)
		CloseHandle(lf->h);
	DeleteCriticalSection(&lf->lock);
	free(lf);
}

/* X.log.<keep> is dropped, X.log.<i> becomes X.log.<i+1>, X.log becomes
 * X.log.1, and a new X.log is opened.  With keep 0 X.log is emptied.
 * Called with the lock held. */
static void
rotate(struct logfile *lf)
{
	wchar_t from[SVC_PATH_MAX], to[SVC_PATH_MAX];
	DWORD i;

	CloseHandle(lf->h);
	lf->h = INVALID_HANDLE_VALUE;
	if (lf->keep == 0) {
		DeleteFileW(lf->path);
	} else {
		svc_format(to, SVC_PATH_MAX, L"%ls.%lu", lf->path,
		    (unsigned long)lf->keep);
		DeleteFileW(to);
		for (i = lf->keep; i > 1; i--) {
			svc_format(from, SVC_PATH_MAX, L"%ls.%lu", lf->path,
			    (unsigned long)(i - 1));
			svc_format(to, SVC_PATH_MAX, L"%ls.%lu", lf->path,
			    (unsigned long)i);
			MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING);
		}
		svc_format(to, SVC_PATH_MAX, L"%ls.1", lf->path);
		MoveFileExW(lf->path, to, MOVEFILE_REPLACE_EXISTING);
	}
	lf->h = open_append(lf->path);
	lf->size = 0;
	if (lf->h != INVALID_HANDLE_VALUE) {
		LARGE_INTEGER size;

		/* The rename failed (the file is held open without
		 * FILE_SHARE_DELETE): carry on appending to it. */
		if (GetFileSizeEx(lf->h, &size))
			lf->size = (ULONGLONG)size.QuadPart;
	}
}

/* Write buf (a whole line with its newline) under the lock. */
static void
write_locked(struct logfile *lf, const char *buf, size_t len)
{
	DWORD done;

	if (lf->size > 0 && lf->size + len > lf->max_bytes)
		rotate(lf);
	if (lf->h != INVALID_HANDLE_VALUE &&
	    WriteFile(lf->h, buf, (DWORD)len, &done, NULL))
		lf->size += done;
	if (lf->echo)
		svc_write_utf8(GetStdHandle(STD_OUTPUT_HANDLE), buf, len);
}

void
logfile_line(struct logfile *lf, const char *line, size_t len)
{
	char *buf;

	if (lf == NULL)
		return;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* Cut a line that cannot fit in one file, at a UTF-8 boundary, so
	 * that no file ever exceeds max_bytes (\r\n takes two bytes). */
	if (len + 2 > lf->max_bytes) {
		len = lf->max_bytes - 2;
		while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
			len--;
	}
	buf = malloc(len + 2);
	if (buf == NULL)
		return;
	memcpy(buf, line, len);
	buf[len] = '\r';
	buf[len + 1] = '\n';
	EnterCriticalSection(&lf->lock);
	write_locked(lf, buf, len + 2);
	LeaveCriticalSection(&lf->lock);
	free(buf);
}

void
logfile_say(struct logfile *lf, const wchar_t *fmt, ...)
{
	wchar_t text[SVC_MSG_MAX], line[SVC_MSG_MAX + 64];
	char u8[4 * (SVC_MSG_MAX + 64)];
	SYSTEMTIME t;
	va_list ap;
	size_t len;

	if (lf == NULL)
		return;
	va_start(ap, fmt);
	svc_vformat(text, SVC_MSG_MAX, fmt, ap);
	va_end(ap);
	GetSystemTime(&t);
	svc_format(line, SVC_MSG_MAX + 64,
	    L"%04u-%02u-%02uT%02u:%02u:%02u.%03uZ " SVC_PROGRAM L": %ls",
	    t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
	    t.wMilliseconds, text);
	len = svc_utf8(line, u8, sizeof(u8));
	logfile_line(lf, u8, len);
}
