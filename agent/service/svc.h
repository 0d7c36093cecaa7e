/*
 * svc.h - what every part of ldap2scim-service.exe shares
 *
 * The wrapper runs the agent (ldap2scim.exe) as a Windows service: it talks
 * to the Service Control Manager, starts the agent as a child inside a job
 * object, stops it through a named event, restarts it with backoff when it
 * dies, relays its output to a rotated log file and writes the Event Log.
 *
 * This header holds the settings (from the command line or the service's
 * Parameters registry key), the error message type and the small helpers
 * for Windows error text, UTF-8 conversion and console output.  Strings are
 * UTF-16 inside the wrapper (the W functions throughout) and UTF-8 on the way
 * out (log file, redirected standard output).  Settings use fixed buffers so
 * that a struct svc_settings can be copied and owns nothing.
 */
#ifndef L2S_SVC_H
#define L2S_SVC_H

#include <windows.h>
#include <stdarg.h>
#include <stddef.h>

#define SVC_PROGRAM	L"ldap2scim-service"
#define SVC_DEFAULT_NAME L"ldap2scim"
#define SVC_NAME_MAX	256
#define SVC_PATH_MAX	1024
#define SVC_MSG_MAX	1024

/* Defaults of the Parameters registry values and of the hidden options. */
#define SVC_DEFAULT_STOP_TIMEOUT_S	30
#define SVC_DEFAULT_LOG_MAX_BYTES	(10UL * 1024 * 1024)
#define SVC_DEFAULT_LOG_KEEP		5
#define SVC_DEFAULT_BACKOFF_MS		1000
#define SVC_DEFAULT_BACKOFF_MAX_MS	60000
#define SVC_DEFAULT_RESET_AFTER_MS	60000
#define SVC_DEFAULT_MAX_FAILURES	10
#define SVC_BREAK_AFTER_MAX_MS		5000

struct svc_settings {
	wchar_t name[SVC_NAME_MAX];	/* service name = Event Log source */
	wchar_t agent[SVC_PATH_MAX];	/* AgentPath */
	wchar_t config[SVC_PATH_MAX];	/* Config */
	wchar_t log[SVC_PATH_MAX];	/* LogFile */
	wchar_t account[SVC_PATH_MAX];	/* install only; "" = NT SERVICE\name */
	wchar_t stop_event[SVC_PATH_MAX]; /* run --console: external stop event */
	DWORD stop_timeout_s;		/* StopTimeoutSeconds */
	DWORD log_max_bytes;		/* LogMaxBytes */
	DWORD log_keep;			/* LogKeep */
	DWORD backoff_ms;		/* first restart delay, doubled each time */
	DWORD backoff_max_ms;		/* cap of the restart delay */
	DWORD reset_after_ms;		/* a child running this long resets it */
	DWORD break_after_ms;		/* CTRL_BREAK after the event; 0 = auto */
	DWORD max_failures;		/* give up after this many in a row */
};

/* An error message: one line, lower case, no final period. */
struct svc_err {
	wchar_t msg[SVC_MSG_MAX];
};

/* Fill e with a printf-style message (%ls for strings); returns -1. */
int svc_err_set(struct svc_err *e, const wchar_t *fmt, ...);
/* The same, followed by ": <call> failed: <Windows text> (<code>)". */
int svc_err_win(struct svc_err *e, const wchar_t *call, DWORD code,
    const wchar_t *fmt, ...);

/* The Windows text for code (FormatMessageW) without the final period and
 * line break, into buf of n characters. */
void svc_errtext(DWORD code, wchar_t *buf, size_t n);

/* Format into buf of n characters; the result is always terminated (and
 * cut short when it does not fit). */
void svc_vformat(wchar_t *buf, size_t n, const wchar_t *fmt, va_list ap);
void svc_format(wchar_t *buf, size_t n, const wchar_t *fmt, ...);

/* Convert s to UTF-8 into buf of n bytes (cut at a character boundary);
 * returns the length written, excluding the terminating NUL. */
size_t svc_utf8(const wchar_t *s, char *buf, size_t n);

/* Write len bytes of UTF-8 to h: WriteConsoleW when h is a console, the
 * bytes themselves otherwise (a pipe or a file). */
void svc_write_utf8(HANDLE h, const char *s, size_t len);
/* Print a line (a newline is added) to standard output or standard error. */
void svc_out(const wchar_t *fmt, ...);
void svc_errout(const wchar_t *fmt, ...);

/* Copy src into dst of n characters; -1 (dst unchanged) when too long. */
int svc_copy(wchar_t *dst, size_t n, const wchar_t *src);

/* The full path of this executable, and the defaults derived from it and
 * from %ProgramData% (agent beside the wrapper, config and log under
 * %ProgramData%\ldap2scim). */
int svc_self_path(wchar_t *buf, size_t n, struct svc_err *e);
void svc_settings_defaults(struct svc_settings *s);

#endif
