/*
 * util.c - error text, formatting, UTF-8 output and default settings
 *
 * Small helpers the rest of the wrapper uses.  Nothing here allocates:
 * every result goes into a buffer the caller provides.
 */
#include <stdio.h>
#include <wchar.h>

#include "svc.h"

void
svc_vformat(wchar_t *buf, size_t n, const wchar_t *fmt, va_list ap)
{
	int r;

	if (n == 0)
		return;
	r = vswprintf(buf, n, fmt, ap);
	if (r < 0)
		buf[n - 1] = L'\0';	/* cut short: keep what fits */
}

void
svc_format(wchar_t *buf, size_t n, const wchar_t *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	svc_vformat(buf, n, fmt, ap);
	va_end(ap);
}

int
svc_err_set(struct svc_err *e, const wchar_t *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	svc_vformat(e->msg, SVC_MSG_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

void
svc_errtext(DWORD code, wchar_t *buf, size_t n)
{
	DWORD len;

	len = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
	    NULL, code, 0, buf, (DWORD)n, NULL);
	if (len == 0) {
		svc_format(buf, n, L"unknown error");
		return;
	}
	while (len > 0 && (buf[len - 1] == L' ' || buf[len - 1] == L'\r' ||
	    buf[len - 1] == L'\n' || buf[len - 1] == L'.'))
		buf[--len] = L'\0';
}

int
svc_err_win(struct svc_err *e, const wchar_t *call, DWORD code,
    const wchar_t *fmt, ...)
{
	wchar_t text[512];
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	svc_vformat(e->msg, SVC_MSG_MAX, fmt, ap);
	va_end(ap);
	svc_errtext(code, text, 512);
	used = wcslen(e->msg);
	svc_format(e->msg + used, SVC_MSG_MAX - used, L": %ls failed: %ls (%lu)",
	    call, text, (unsigned long)code);
	return -1;
}

size_t
svc_utf8(const wchar_t *s, char *buf, size_t n)
{
	int r;
	size_t len;

	if (n == 0)
		return 0;
	r = WideCharToMultiByte(CP_UTF8, 0, s, -1, buf, (int)n, NULL, NULL);
	if (r > 0)
		return (size_t)r - 1;
	/* Too long for buf: keep a prefix that fits (halving its length until
	 * it does; a message cut short is better than none). */
	len = wcslen(s);
	while (len > 0) {
		len /= 2;
		r = WideCharToMultiByte(CP_UTF8, 0, s, (int)len, buf,
		    (int)n - 1, NULL, NULL);
		if (r > 0) {
			buf[r] = '\0';
			return (size_t)r;
		}
	}
	buf[0] = '\0';
	return 0;
}

void
svc_write_utf8(HANDLE h, const char *s, size_t len)
{
	DWORD mode, done;
	wchar_t wbuf[4096];
	int wn;

	if (h == NULL || h == INVALID_HANDLE_VALUE || len == 0)
		return;
	if (GetConsoleMode(h, &mode) && len < 4096) {
		wn = MultiByteToWideChar(CP_UTF8, 0, s, (int)len, wbuf, 4096);
		if (wn > 0) {
			WriteConsoleW(h, wbuf, (DWORD)wn, &done, NULL);
			return;
		}
	}
	while (len > 0) {
		if (!WriteFile(h, s, (DWORD)len, &done, NULL) || done == 0)
			return;
		s += done;
		len -= done;
	}
}

static void
print_line(DWORD which, const wchar_t *fmt, va_list ap)
{
	wchar_t line[SVC_MSG_MAX + 2];
	char u8[4 * SVC_MSG_MAX + 4];
	size_t len;

	svc_vformat(line, SVC_MSG_MAX, fmt, ap);
	len = svc_utf8(line, u8, sizeof(u8) - 2);
	u8[len++] = '\r';
	u8[len++] = '\n';
	svc_write_utf8(GetStdHandle(which), u8, len);
}

void
svc_out(const wchar_t *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(STD_OUTPUT_HANDLE, fmt, ap);
	va_end(ap);
}

void
svc_errout(const wchar_t *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(STD_ERROR_HANDLE, fmt, ap);
	va_end(ap);
}

int
svc_copy(wchar_t *dst, size_t n, const wchar_t *src)
{
	size_t len = wcslen(src);

	if (len >= n)
		return -1;
	wmemcpy(dst, src, len + 1);
	return 0;
}

int
svc_self_path(wchar_t *buf, size_t n, struct svc_err *e)
{
	DWORD r;

	r = GetModuleFileNameW(NULL, buf, (DWORD)n);
	if (r == 0 || r >= n)
		return svc_err_win(e, L"GetModuleFileNameW",
		    r == 0 ? GetLastError() : ERROR_INSUFFICIENT_BUFFER,
		    L"cannot find the path of this program");
	return 0;
}

void
svc_settings_defaults(struct svc_settings *s)
{
	wchar_t pd[SVC_PATH_MAX];
	wchar_t *slash;
	struct svc_err e;
	DWORD r;

	ZeroMemory(s, sizeof(*s));
	svc_copy(s->name, SVC_NAME_MAX, SVC_DEFAULT_NAME);
	if (svc_self_path(s->agent, SVC_PATH_MAX, &e) == 0) {
		slash = wcsrchr(s->agent, L'\\');
		if (slash != NULL && (size_t)(slash - s->agent) + 16 <
		    SVC_PATH_MAX)
			wcscpy(slash + 1, L"ldap2scim.exe");
		else
			svc_copy(s->agent, SVC_PATH_MAX, L"ldap2scim.exe");
	} else {
		svc_copy(s->agent, SVC_PATH_MAX, L"ldap2scim.exe");
	}
	r = GetEnvironmentVariableW(L"ProgramData", pd, SVC_PATH_MAX - 64);
	if (r == 0 || r >= SVC_PATH_MAX - 64)
		svc_copy(pd, SVC_PATH_MAX, L"C:\\ProgramData");
	svc_format(s->config, SVC_PATH_MAX, L"%ls\\ldap2scim\\ldap2scim.yaml",
	    pd);
	svc_format(s->log, SVC_PATH_MAX, L"%ls\\ldap2scim\\ldap2scim.log", pd);
	s->stop_timeout_s = SVC_DEFAULT_STOP_TIMEOUT_S;
	s->log_max_bytes = SVC_DEFAULT_LOG_MAX_BYTES;
	s->log_keep = SVC_DEFAULT_LOG_KEEP;
	s->backoff_ms = SVC_DEFAULT_BACKOFF_MS;
	s->backoff_max_ms = SVC_DEFAULT_BACKOFF_MAX_MS;
	s->reset_after_ms = SVC_DEFAULT_RESET_AFTER_MS;
	s->break_after_ms = 0;
	s->max_failures = SVC_DEFAULT_MAX_FAILURES;
}
