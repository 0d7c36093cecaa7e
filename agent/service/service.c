/*
 * service.c - ldap2scim-service.exe: command line, console mode, SCM glue
 *
 *   install [--name N] [--config P] [--agent P] [--account A] [--log P]
 *           [--stop-timeout S]
 *   uninstall | start | stop | status [--name N]
 *   run --console [--name N] [--config P] [--agent P] [--log P]
 *                 [--stop-timeout S]
 *
 * The SCM starts the service as "<this exe>" service --name N (install
 * writes that ImagePath); the service reads its Parameters key, then runs
 * the same supervision loop as run --console.  Hidden options for tests and
 * tuning: --log-max-bytes, --log-keep, --backoff-ms, --backoff-max-ms,
 * --reset-after-ms, --break-after-ms, --max-failures, and (run --console)
 * --stop-event NAME, a named event that asks the graceful stop like Ctrl-C.
 *
 * Exit status: 0 ok, 1 failure (the message names the call and the Windows
 * error text), 2 usage.
 */
#include <stdlib.h>
#include <wchar.h>

#include "control.h"
#include "eventlog.h"
#include "logfile.h"
#include "supervise.h"
#include "svc.h"

int wmain(int argc, wchar_t **argv);

enum { CMD_INSTALL = 1, CMD_UNINSTALL = 2, CMD_START = 4, CMD_STOP = 8,
	CMD_STATUS = 16, CMD_RUN = 32, CMD_SERVICE = 64 };

#define CMD_ALL	0x7f
#define CMD_CFG	(CMD_INSTALL | CMD_RUN)

struct option {
	const wchar_t *name;
	int commands;		/* where it is allowed */
	size_t offset;		/* in struct svc_settings */
	int is_path;		/* a string of SVC_PATH_MAX, else a DWORD */
	DWORD min, max;
};

#define OFF(f) offsetof(struct svc_settings, f)

static const struct option options[] = {
	{ L"name", CMD_ALL, OFF(name), 2, 0, 0 },
	{ L"config", CMD_CFG, OFF(config), 1, 0, 0 },
	{ L"agent", CMD_CFG, OFF(agent), 1, 0, 0 },
	{ L"log", CMD_CFG, OFF(log), 1, 0, 0 },
	{ L"account", CMD_INSTALL, OFF(account), 1, 0, 0 },
	{ L"stop-timeout", CMD_CFG, OFF(stop_timeout_s), 0, 1, 86400 },
	{ L"log-max-bytes", CMD_CFG, OFF(log_max_bytes), 0, 256, 0x7fffffff },
	{ L"log-keep", CMD_CFG, OFF(log_keep), 0, 0, 1000 },
	{ L"backoff-ms", CMD_RUN, OFF(backoff_ms), 0, 1, 86400000 },
	{ L"backoff-max-ms", CMD_RUN, OFF(backoff_max_ms), 0, 1, 86400000 },
	{ L"reset-after-ms", CMD_RUN, OFF(reset_after_ms), 0, 0, 86400000 },
	{ L"break-after-ms", CMD_RUN, OFF(break_after_ms), 0, 1, 86400000 },
	{ L"max-failures", CMD_RUN, OFF(max_failures), 0, 0, 1000000 },
	{ L"stop-event", CMD_RUN, OFF(stop_event), 1, 0, 0 },
};

static const struct {
	const wchar_t *name;
	int cmd;
} commands[] = {
	{ L"install", CMD_INSTALL }, { L"uninstall", CMD_UNINSTALL },
	{ L"start", CMD_START }, { L"stop", CMD_STOP },
	{ L"status", CMD_STATUS }, { L"run", CMD_RUN },
	{ L"service", CMD_SERVICE },
};

static void
usage(void)
{
	svc_errout(L"usage: " SVC_PROGRAM L" install [--name N] [--config P] "
	    L"[--agent P] [--account A] [--log P] [--stop-timeout S]");
	svc_errout(L"       " SVC_PROGRAM L" uninstall|start|stop|status "
	    L"[--name N]");
	svc_errout(L"       " SVC_PROGRAM L" run --console [--name N] "
	    L"[--config P] [--agent P] [--log P] [--stop-timeout S]");
}

static int
usage_error(const wchar_t *fmt, const wchar_t *arg)
{
	wchar_t msg[SVC_MSG_MAX];

	svc_format(msg, SVC_MSG_MAX, fmt, arg);
	svc_errout(SVC_PROGRAM L": %ls", msg);
	usage();
	return 2;
}

/* The value of a DWORD option: digits only, within [min, max]. */
static int
parse_dword(const wchar_t *s, DWORD min, DWORD max, DWORD *out)
{
	unsigned long long v = 0;

	if (*s == L'\0')
		return -1;
	for (; *s != L'\0'; s++) {
		if (*s < L'0' || *s > L'9')
			return -1;
		v = v * 10 + (unsigned long long)(*s - L'0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = (DWORD)v;
	return 0;
}

static int
valid_name(const wchar_t *s)
{
	if (*s == L'\0')
		return 0;
	for (; *s != L'\0'; s++)
		if (*s == L'\\' || *s == L'/' || *s < L' ')
			return 0;
	return 1;
}

/* Parse argv[2..] into s for command cmd; 0, or 2 after a usage message. */
static int
parse_options(int argc, wchar_t **argv, int cmd, struct svc_settings *s,
    int *console)
{
	const struct option *o;
	const wchar_t *arg, *val, *eq;
	wchar_t *field;
	size_t k, len;
	int i;

	*console = 0;
	for (i = 2; i < argc; i++) {
		arg = argv[i];
		if (cmd == CMD_RUN && wcscmp(arg, L"--console") == 0) {
			*console = 1;
			continue;
		}
		if (wcsncmp(arg, L"--", 2) != 0)
			return usage_error(L"unexpected argument '%ls'", arg);
		eq = wcschr(arg, L'=');
		len = eq != NULL ? (size_t)(eq - arg - 2) : wcslen(arg + 2);
		o = NULL;
		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
			if (wcslen(options[k].name) == len &&
			    wcsncmp(options[k].name, arg + 2, len) == 0 &&
			    (options[k].commands & cmd) != 0)
				o = &options[k];
		if (o == NULL)
			return usage_error(L"unknown option '%ls'", arg);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error(L"option '%ls' needs a value", arg);
		field = (wchar_t *)((char *)s + o->offset);
		if (o->is_path == 2) {
			if (!valid_name(val) || svc_copy(field, SVC_NAME_MAX,
			    val) != 0)
				return usage_error(L"invalid service name '%ls'",
				    val);
		} else if (o->is_path) {
			if (*val == L'\0' || svc_copy(field, SVC_PATH_MAX,
			    val) != 0)
				return usage_error(L"invalid value '%ls'", val);
		} else if (parse_dword(val, o->min, o->max,
		    (DWORD *)(void *)field) != 0) {
			return usage_error(L"invalid number '%ls'", val);
		}
	}
	if (cmd == CMD_RUN && !*console)
		return usage_error(L"%ls needs --console (the SCM runs the "
		    L"service itself)", L"run");
	return 0;
}

/* Paths the service uses must not depend on its working directory. */
static int
make_absolute(wchar_t *path, struct svc_err *e)
{
	wchar_t full[SVC_PATH_MAX];
	DWORD r;

	r = GetFullPathNameW(path, SVC_PATH_MAX, full, NULL);
	if (r == 0 || r >= SVC_PATH_MAX)
		return svc_err_win(e, L"GetFullPathNameW", r == 0 ?
		    GetLastError() : ERROR_FILENAME_EXCED_RANGE,
		    L"cannot resolve path '%ls'", path);
	wcscpy(path, full);
	return 0;
}

/* ---- run --console ---------------------------------------------------- */

static struct supervisor *console_sv;

static BOOL WINAPI
console_ctrl(DWORD type)
{
	switch (type) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
	case CTRL_CLOSE_EVENT:
		if (console_sv != NULL)
			supervise_stop(console_sv);
		return TRUE;
	default:
		return FALSE;
	}
}

struct stop_watch {
	HANDLE ev;
	struct supervisor *sv;
};

static DWORD WINAPI
stop_watch_main(void *arg)
{
	struct stop_watch *w = arg;

	HANDLE h[2];

	/* Ends on the external event (asking the stop) or on the
	 * supervisor's own stop event (set when run_console ends). */
	h[0] = w->ev;
	h[1] = w->sv->stop;
	if (WaitForMultipleObjects(2, h, FALSE, INFINITE) == WAIT_OBJECT_0)
		supervise_stop(w->sv);
	return 0;
}

/* The child shares our console so that CTRL_BREAK can reach it; started
 * without one (output redirected, or from a service), make a hidden one and
 * keep the standard handles we were given. */
static void
own_console(void)
{
	HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
	HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
	HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
	HWND w;

	if (!AllocConsole())
		return;		/* we have one already */
	w = GetConsoleWindow();
	if (w != NULL)
		ShowWindow(w, SW_HIDE);
	SetStdHandle(STD_INPUT_HANDLE, in);
	SetStdHandle(STD_OUTPUT_HANDLE, out);
	SetStdHandle(STD_ERROR_HANDLE, err);
}

static int
run_console(struct svc_settings *s)
{
	struct logfile *log = NULL;
	struct supervisor sv;
	struct stop_watch watch = { NULL, NULL };
	struct svc_err e;
	HANDLE thread = NULL;
	DWORD code;
	int rc = 1;

	ZeroMemory(&sv, sizeof(sv));
	if (logfile_open(&log, s->log, s->log_max_bytes, s->log_keep, 1,
	    &e) != 0 || supervise_init(&sv, s, log, NULL, &e) != 0)
		goto done;
	console_sv = &sv;
	own_console();
	SetConsoleCtrlHandler(console_ctrl, TRUE);
	if (s->stop_event[0] != L'\0') {
		watch.ev = CreateEventW(NULL, TRUE, FALSE, s->stop_event);
		if (watch.ev == NULL) {
			svc_err_win(&e, L"CreateEventW", GetLastError(),
			    L"cannot create stop event '%ls'", s->stop_event);
			goto done;
		}
		watch.sv = &sv;
		thread = CreateThread(NULL, 0, stop_watch_main, &watch, 0,
		    NULL);
		if (thread == NULL) {
			svc_err_win(&e, L"CreateThread", GetLastError(),
			    L"cannot watch stop event '%ls'", s->stop_event);
			goto done;
		}
	}
	logfile_say(log, L"console mode started (pid %lu, stop event %ls)",
	    (unsigned long)GetCurrentProcessId(), sv.stop_name);
	if (supervise_run(&sv, &code, &e) != 0)
		goto done;
	logfile_say(log, L"console mode stopped");
	rc = 0;
done:
	if (rc != 0)
		svc_errout(SVC_PROGRAM L": %ls", e.msg);
	console_sv = NULL;
	if (thread != NULL) {
		supervise_stop(&sv);	/* ends the watch thread */
		WaitForSingleObject(thread, INFINITE);
		CloseHandle(thread);
	}
	if (watch.ev != NULL)
		CloseHandle(watch.ev);
	supervise_close(&sv);
	logfile_close(log);
	return rc;
}

/* ---- the service ------------------------------------------------------ */

static struct {
	struct svc_settings set;
	struct supervisor sv;
	int sv_ready;
	SERVICE_STATUS_HANDLE handle;
	SERVICE_STATUS status;
	CRITICAL_SECTION lock;
} svc;

static void
report(DWORD state, DWORD exit_code, DWORD specific, DWORD hint_ms)
{
	EnterCriticalSection(&svc.lock);
	svc.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	if (state != svc.status.dwCurrentState)
		svc.status.dwCheckPoint = 0;
	svc.status.dwCurrentState = state;
	svc.status.dwControlsAccepted = state == SERVICE_RUNNING ?
	    SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
	    SERVICE_ACCEPT_PARAMCHANGE : 0;
	svc.status.dwWin32ExitCode = exit_code;
	svc.status.dwServiceSpecificExitCode = specific;
	svc.status.dwWaitHint = hint_ms;
	if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
		svc.status.dwCheckPoint++;
	else
		svc.status.dwCheckPoint = 0;
	if (svc.handle != NULL)
		SetServiceStatus(svc.handle, &svc.status);
	LeaveCriticalSection(&svc.lock);
}

static void
stop_pending(void *ctx, DWORD hint_ms)
{
	(void)ctx;
	report(SERVICE_STOP_PENDING, NO_ERROR, 0, hint_ms);
}

static DWORD WINAPI
handler(DWORD control, DWORD type, void *data, void *ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (control) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		report(SERVICE_STOP_PENDING, NO_ERROR, 0,
		    (svc.set.stop_timeout_s + 5) * 1000);
		if (svc.sv_ready)
			supervise_stop(&svc.sv);
		return NO_ERROR;
	case SERVICE_CONTROL_PARAMCHANGE:
		if (svc.sv_ready)
			supervise_reload(&svc.sv);
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

/* The CTRL_BREAK we send goes to the child's process group only; this
 * keeps the console's other events (logoff, close) from ending us. */
static BOOL WINAPI
service_ctrl(DWORD type)
{
	(void)type;
	return TRUE;
}

static void WINAPI
service_main(DWORD argc, wchar_t **argv)
{
	struct eventlog ev = EVENTLOG_INIT;
	struct logfile *log = NULL;
	struct svc_err e;
	const wchar_t *str[4];
	DWORD code = 0;
	int rc = -1;

	(void)argc;
	(void)argv;
	svc.handle = RegisterServiceCtrlHandlerExW(svc.set.name, handler,
	    NULL);
	if (svc.handle == NULL)
		return;
	report(SERVICE_START_PENDING, NO_ERROR, 0, 10000);
	eventlog_open(&ev, svc.set.name);
	if (control_read_settings(&svc.set, &e) != 0)
		goto done;
	/* A console of our own, hidden: the child shares it, so that
	 * CTRL_BREAK can reach it. */
	own_console();
	SetConsoleCtrlHandler(service_ctrl, TRUE);
	if (logfile_open(&log, svc.set.log, svc.set.log_max_bytes,
	    svc.set.log_keep, 0, &e) != 0)
		goto done;
	if (supervise_init(&svc.sv, &svc.set, log, &ev, &e) != 0)
		goto done;
	svc.sv.pending = stop_pending;
	svc.sv_ready = 1;
	report(SERVICE_RUNNING, NO_ERROR, 0, 0);
	logfile_say(log, L"service '%ls' started (pid %lu)", svc.set.name,
	    (unsigned long)GetCurrentProcessId());
	str[0] = svc.set.name;
	str[1] = svc.set.agent;
	str[2] = svc.set.config;
	str[3] = svc.set.log;
	eventlog_report(&ev, MSG_SERVICE_STARTED, 4, str);
	rc = supervise_run(&svc.sv, &code, &e);
	if (rc == 0) {
		logfile_say(log, L"service '%ls' stopped", svc.set.name);
		str[0] = svc.set.name;
		eventlog_report(&ev, MSG_SERVICE_STOPPED, 1, str);
	}
done:
	if (rc != 0) {
		logfile_say(log, L"service '%ls' failed: %ls", svc.set.name,
		    e.msg);
		str[0] = svc.set.name;
		str[1] = e.msg;
		eventlog_report(&ev, MSG_SERVICE_FAILED, 2, str);
	}
	eventlog_close(&ev);
	logfile_close(log);
	/* The SCM may end the process once it sees SERVICE_STOPPED. */
	if (rc != 0)
		report(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR,
		    code != 0 ? code : 1, 0);
	else
		report(SERVICE_STOPPED, NO_ERROR, 0, 0);
}

static int
run_service(void)
{
	SERVICE_TABLE_ENTRYW table[2];
	struct svc_err e;

	InitializeCriticalSection(&svc.lock);
	table[0].lpServiceName = svc.set.name;
	table[0].lpServiceProc = service_main;
	table[1].lpServiceName = NULL;
	table[1].lpServiceProc = NULL;
	if (!StartServiceCtrlDispatcherW(table)) {
		svc_err_win(&e, L"StartServiceCtrlDispatcherW", GetLastError(),
		    L"cannot run as service '%ls' (the SCM runs this command; "
		    L"use run --console)", svc.set.name);
		svc_errout(SVC_PROGRAM L": %ls", e.msg);
		return 1;
	}
	return 0;
}

int
wmain(int argc, wchar_t **argv)
{
	struct svc_settings *s = &svc.set;
	struct svc_err e;
	int cmd = 0, console, r;
	size_t k;

	if (argc < 2)
		return usage_error(L"%ls", L"a command is needed");
	if (wcscmp(argv[1], L"--help") == 0 || wcscmp(argv[1], L"-h") == 0) {
		usage();
		return 0;
	}
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (wcscmp(argv[1], commands[k].name) == 0)
			cmd = commands[k].cmd;
	if (cmd == 0)
		return usage_error(L"unknown command '%ls'", argv[1]);
	svc_settings_defaults(s);
	r = parse_options(argc, argv, cmd, s, &console);
	if (r != 0)
		return r;
	switch (cmd) {
	case CMD_INSTALL:
		if (make_absolute(s->agent, &e) != 0 ||
		    make_absolute(s->config, &e) != 0 ||
		    make_absolute(s->log, &e) != 0 ||
		    control_install(s, &e) != 0)
			break;
		return 0;
	case CMD_UNINSTALL:
		if (control_uninstall(s->name, &e) != 0)
			break;
		return 0;
	case CMD_START:
		if (control_start(s->name, &e) != 0)
			break;
		return 0;
	case CMD_STOP:
		if (control_stop(s->name, &e) != 0)
			break;
		return 0;
	case CMD_STATUS:
		if (control_status(s->name, &e) != 0)
			break;
		return 0;
	case CMD_RUN:
		return run_console(s);
	case CMD_SERVICE:
		return run_service();
	}
	svc_errout(SVC_PROGRAM L": %ls", e.msg);
	return 1;
}
