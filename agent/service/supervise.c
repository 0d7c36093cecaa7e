/*
 * supervise.c - the child process, its job object, stop, kill and restart
 */
#include <stdlib.h>
#include <wchar.h>

#include "supervise.h"

#define RELAY_BUF		65536
#define REPEATED_FAILURES	3
#define CMD_MAX			(3 * SVC_PATH_MAX + 32)

struct child {
	HANDLE process;
	HANDLE job;
	HANDLE relay;		/* the output relay thread */
	DWORD pid;
	ULONGLONG started;	/* GetTickCount64() at start */
};

#define CHILD_INIT { NULL, NULL, NULL, 0, 0 }

/* What the relay thread owns: the pipe's read end, and the log (borrowed). */
struct relay {
	HANDLE rd;
	struct logfile *log;
};

static LONG event_seq;

int
supervise_quote(wchar_t *cmd, size_t n, const wchar_t *arg)
{
	size_t len = wcslen(cmd), slashes = 0, k;
	const wchar_t *p;

#define PUT(c) do { if (len + 1 >= n) return -1; cmd[len++] = (c); } while (0)
	if (len > 0)
		PUT(L' ');
	PUT(L'"');
	for (p = arg; *p != L'\0'; p++) {
		if (*p == L'\\') {
			slashes++;
			continue;
		}
		/* Backslashes before a quote are doubled, plus one for it. */
		for (k = 0; k < (*p == L'"' ? 2 * slashes + 1 : slashes); k++)
			PUT(L'\\');
		slashes = 0;
		PUT(*p);
	}
	for (k = 0; k < 2 * slashes; k++)	/* before the closing quote */
		PUT(L'\\');
	PUT(L'"');
#undef PUT
	cmd[len] = L'\0';
	return 0;
}

int
supervise_init(struct supervisor *sv, const struct svc_settings *set,
    struct logfile *log, struct eventlog *ev, struct svc_err *e)
{
	LONG n = InterlockedIncrement(&event_seq);
	DWORD pid = GetCurrentProcessId();

	ZeroMemory(sv, sizeof(*sv));
	sv->set = set;
	sv->log = log;
	sv->ev = ev;
	svc_format(sv->stop_name, 80, L"Local\\ldap2scim-stop-%lu-%ld",
	    (unsigned long)pid, (long)n);
	svc_format(sv->reload_name, 80, L"Local\\ldap2scim-reload-%lu-%ld",
	    (unsigned long)pid, (long)n);
	sv->stop = CreateEventW(NULL, TRUE, FALSE, sv->stop_name);
	if (sv->stop == NULL)
		return svc_err_win(e, L"CreateEventW", GetLastError(),
		    L"cannot create stop event '%ls'", sv->stop_name);
	sv->reload = CreateEventW(NULL, FALSE, FALSE, sv->reload_name);
	if (sv->reload == NULL)
		return svc_err_win(e, L"CreateEventW", GetLastError(),
		    L"cannot create reload event '%ls'", sv->reload_name);
	/* L2S_EVENT_SOURCE: the agent's --syslog lines go under the source
	 * this service registered (its name). */
	if (!SetEnvironmentVariableW(L"L2S_STOP_EVENT", sv->stop_name) ||
	    !SetEnvironmentVariableW(L"L2S_RELOAD_EVENT", sv->reload_name) ||
	    !SetEnvironmentVariableW(L"L2S_EVENT_SOURCE", set->name))
		return svc_err_win(e, L"SetEnvironmentVariableW",
		    GetLastError(), L"cannot pass the event names to the agent");
	return 0;
}

void
supervise_close(struct supervisor *sv)
{
	if (sv->stop != NULL)
		CloseHandle(sv->stop);
	if (sv->reload != NULL)
		CloseHandle(sv->reload);
	sv->stop = sv->reload = NULL;
}

void
supervise_stop(struct supervisor *sv)
{
	if (sv->stop != NULL)
		SetEvent(sv->stop);
}

void
supervise_reload(struct supervisor *sv)
{
	if (sv->reload != NULL)
		SetEvent(sv->reload);
	logfile_say(sv->log, L"reload requested");
}

/* The relay thread: read the pipe until every writer closed it, write
 * whole lines; a line longer than the buffer is written in pieces. */
static DWORD WINAPI
relay_main(void *arg)
{
	struct relay *r = arg;
	char *buf = malloc(RELAY_BUF);
	size_t used = 0, start, i;
	DWORD got;

	while (buf != NULL) {
		if (!ReadFile(r->rd, buf + used, (DWORD)(RELAY_BUF - used),
		    &got, NULL) || got == 0)
			break;
		used += got;
		start = 0;
		for (i = 0; i < used; i++) {
			if (buf[i] != '\n')
				continue;
			logfile_line(r->log, buf + start, i - start);
			start = i + 1;
		}
		if (start == 0 && used == RELAY_BUF) {
			logfile_line(r->log, buf, used);
			used = 0;
		} else {
			memmove(buf, buf + start, used - start);
			used -= start;
		}
	}
	if (buf != NULL && used > 0)
		logfile_line(r->log, buf, used);
	free(buf);
	CloseHandle(r->rd);
	free(r);
	return 0;
}

static void
child_close(struct child *c)
{
	if (c->job != NULL)
		CloseHandle(c->job);	/* kills what is left in it */
	if (c->relay != NULL) {
		if (WaitForSingleObject(c->relay, 5000) != WAIT_OBJECT_0) {
			CancelSynchronousIo(c->relay);
			WaitForSingleObject(c->relay, 5000);
		}
		CloseHandle(c->relay);
	}
	if (c->process != NULL)
		CloseHandle(c->process);
	ZeroMemory(c, sizeof(*c));
}

static int
child_start(struct supervisor *sv, struct child *c, struct svc_err *e)
{
	const struct svc_settings *set = sv->set;
	SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim;
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	HANDLE rd = NULL, wr = NULL, nul = INVALID_HANDLE_VALUE;
	struct relay *r = NULL;
	wchar_t *cmd = NULL;
	int rc = -1;

	ZeroMemory(&pi, sizeof(pi));
	cmd = calloc(CMD_MAX, sizeof(*cmd));
	if (cmd == NULL || (r = malloc(sizeof(*r))) == NULL) {
		svc_err_set(e, L"cannot start agent '%ls': out of memory",
		    set->agent);
		goto done;
	}
	if (supervise_quote(cmd, CMD_MAX, set->agent) != 0 ||
	    supervise_quote(cmd, CMD_MAX, L"-c") != 0 ||
	    supervise_quote(cmd, CMD_MAX, set->config) != 0 ||
	    supervise_quote(cmd, CMD_MAX, L"run") != 0) {
		svc_err_set(e, L"cannot start agent '%ls': command line too long",
		    set->agent);
		goto done;
	}
	if (!CreatePipe(&rd, &wr, &inherit, 0) ||
	    !SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0)) {
		svc_err_win(e, L"CreatePipe", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		goto done;
	}
	nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ |
	    FILE_SHARE_WRITE, &inherit, OPEN_EXISTING, 0, NULL);
	if (nul == INVALID_HANDLE_VALUE) {
		svc_err_win(e, L"CreateFileW", GetLastError(),
		    L"cannot start agent '%ls': cannot open NUL", set->agent);
		goto done;
	}
	c->job = CreateJobObjectW(NULL, NULL);
	if (c->job == NULL) {
		svc_err_win(e, L"CreateJobObjectW", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		goto done;
	}
	ZeroMemory(&lim, sizeof(lim));
	lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (!SetInformationJobObject(c->job, JobObjectExtendedLimitInformation,
	    &lim, sizeof(lim))) {
		svc_err_win(e, L"SetInformationJobObject", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		goto done;
	}
	ZeroMemory(&si, sizeof(si));
	si.cb = sizeof(si);
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdInput = nul;
	si.hStdOutput = wr;
	si.hStdError = wr;
	if (!CreateProcessW(set->agent, cmd, NULL, NULL, TRUE,
	    CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP, NULL, NULL, &si,
	    &pi)) {
		svc_err_win(e, L"CreateProcessW", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		goto done;
	}
	c->process = pi.hProcess;
	c->pid = pi.dwProcessId;
	c->started = GetTickCount64();
	if (!AssignProcessToJobObject(c->job, pi.hProcess)) {
		svc_err_win(e, L"AssignProcessToJobObject", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		TerminateProcess(pi.hProcess, 1);
		goto done;
	}
	if (ResumeThread(pi.hThread) == (DWORD)-1) {
		svc_err_win(e, L"ResumeThread", GetLastError(),
		    L"cannot start agent '%ls'", set->agent);
		TerminateProcess(pi.hProcess, 1);
		goto done;
	}
	/* Our copy of the write end closes now, so the relay sees the end of
	 * the output once the child (and what it started) closed theirs. */
	CloseHandle(wr);
	wr = NULL;
	r->rd = rd;
	r->log = sv->log;
	c->relay = CreateThread(NULL, 0, relay_main, r, 0, NULL);
	if (c->relay == NULL) {
		svc_err_win(e, L"CreateThread", GetLastError(),
		    L"cannot relay the output of agent '%ls'", set->agent);
		TerminateProcess(pi.hProcess, 1);
		goto done;
	}
	rd = NULL;	/* the relay thread owns it, and r */
	r = NULL;
	rc = 0;
done:
	if (pi.hThread != NULL)
		CloseHandle(pi.hThread);
	if (rd != NULL)
		CloseHandle(rd);
	if (wr != NULL)
		CloseHandle(wr);
	if (nul != INVALID_HANDLE_VALUE)
		CloseHandle(nul);
	free(r);
	free(cmd);
	if (rc != 0)
		child_close(c);
	return rc;
}

/* Wait up to ms for the child to exit, calling the pending callback about
 * once a second with hint_ms; 1 when it exited. */
static int
wait_child(struct supervisor *sv, struct child *c, ULONGLONG until,
    DWORD hint_ms)
{
	ULONGLONG now;
	DWORD step;

	for (;;) {
		if (sv->pending != NULL)
			sv->pending(sv->pending_ctx, hint_ms);
		now = GetTickCount64();
		if (now >= until)
			return WaitForSingleObject(c->process, 0) ==
			    WAIT_OBJECT_0;
		step = until - now > 1000 ? 1000 : (DWORD)(until - now);
		if (WaitForSingleObject(c->process, step) == WAIT_OBJECT_0)
			return 1;
	}
}

static void
describe_code(DWORD code, wchar_t *buf, size_t n)
{
	if (code >= 0xC0000000UL)
		svc_format(buf, n, L"0x%08lX", (unsigned long)code);
	else
		svc_format(buf, n, L"%lu", (unsigned long)code);
}

/* The stop sequence: the event is already set; CTRL_BREAK after a few
 * seconds, the job terminated after StopTimeoutSeconds. */
static void
child_stop(struct supervisor *sv, struct child *c)
{
	const struct svc_settings *set = sv->set;
	ULONGLONG t0 = GetTickCount64();
	DWORD timeout_ms = set->stop_timeout_s * 1000;
	DWORD break_ms = set->break_after_ms;
	wchar_t pid[16], secs[16];
	const wchar_t *str[2];
	struct svc_err e;

	if (break_ms == 0)
		break_ms = timeout_ms / 2 < SVC_BREAK_AFTER_MAX_MS ?
		    timeout_ms / 2 : SVC_BREAK_AFTER_MAX_MS;
	if (break_ms > timeout_ms)
		break_ms = timeout_ms;
	logfile_say(sv->log, L"stop requested: waiting up to %lu s for child "
	    L"pid %lu", (unsigned long)set->stop_timeout_s,
	    (unsigned long)c->pid);
	if (wait_child(sv, c, t0 + break_ms, timeout_ms + 5000))
		return;
	if (GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, c->pid)) {
		logfile_say(sv->log, L"child pid %lu still running after %lu ms:"
		    L" sent CTRL_BREAK", (unsigned long)c->pid,
		    (unsigned long)break_ms);
	} else {
		svc_err_win(&e, L"GenerateConsoleCtrlEvent", GetLastError(),
		    L"child pid %lu still running after %lu ms: cannot send "
		    L"CTRL_BREAK", (unsigned long)c->pid,
		    (unsigned long)break_ms);
		logfile_say(sv->log, L"%ls", e.msg);
	}
	if (wait_child(sv, c, t0 + timeout_ms, timeout_ms + 5000))
		return;
	if (!TerminateJobObject(c->job, 1)) {
		svc_err_win(&e, L"TerminateJobObject", GetLastError(),
		    L"cannot kill child pid %lu", (unsigned long)c->pid);
		logfile_say(sv->log, L"%ls", e.msg);
		TerminateProcess(c->process, 1);
	}
	logfile_say(sv->log, L"killed child pid %lu after %lu s",
	    (unsigned long)c->pid, (unsigned long)set->stop_timeout_s);
	svc_format(pid, 16, L"%lu", (unsigned long)c->pid);
	svc_format(secs, 16, L"%lu", (unsigned long)set->stop_timeout_s);
	str[0] = pid;
	str[1] = secs;
	eventlog_report(sv->ev, MSG_AGENT_KILLED, 2, str);
	wait_child(sv, c, GetTickCount64() + 5000, 5000);
}

/* Collect the exit code and log it; returns the code. */
static DWORD
child_reap(struct supervisor *sv, struct child *c, int report)
{
	DWORD code = 1;
	wchar_t codes[16], pid[16];
	const wchar_t *str[3];

	if (!GetExitCodeProcess(c->process, &code) || code == STILL_ACTIVE)
		code = 1;
	describe_code(code, codes, 16);
	svc_format(pid, 16, L"%lu", (unsigned long)c->pid);
	child_close(c);		/* the relay has written the last lines */
	logfile_say(sv->log, L"child pid %ls exited with %ls", pid, codes);
	if (report) {
		str[0] = pid;
		str[1] = codes;
		str[2] = sv->set->log;
		eventlog_report(sv->ev, MSG_AGENT_EXITED, 3, str);
	}
	return code;
}

static void
say_delay(struct supervisor *sv, DWORD ms)
{
	if (ms % 1000 == 0)
		logfile_say(sv->log, L"restarting in %lu s",
		    (unsigned long)(ms / 1000));
	else
		logfile_say(sv->log, L"restarting in %lu ms",
		    (unsigned long)ms);
}

int
supervise_run(struct supervisor *sv, DWORD *exit_code, struct svc_err *e)
{
	const struct svc_settings *set = sv->set;
	struct child c = CHILD_INIT;
	DWORD delay = set->backoff_ms, last_delay = 0, failures = 0, code;
	HANDLE wait[2];
	wchar_t num[16], num2[16];
	const wchar_t *str[3];
	struct svc_err se;
	int starts = 0;

	*exit_code = 0;
	for (;;) {
		ULONGLONG ran = 0;

		if (WaitForSingleObject(sv->stop, 0) == WAIT_OBJECT_0)
			break;
		if (child_start(sv, &c, &se) != 0) {
			logfile_say(sv->log, L"%ls", se.msg);
			str[0] = se.msg;
			eventlog_report(sv->ev, MSG_START_FAILED, 1, str);
			code = 1;
		} else {
			logfile_say(sv->log, L"started child pid %lu: %ls -c "
			    L"%ls run", (unsigned long)c.pid, set->agent,
			    set->config);
			if (starts++ > 0) {
				svc_format(num, 16, L"%lu",
				    (unsigned long)c.pid);
				svc_format(num2, 16, L"%lu",
				    (unsigned long)last_delay);
				str[0] = num;
				str[1] = num2;
				eventlog_report(sv->ev, MSG_AGENT_RESTARTED, 2,
				    str);
			}
			wait[0] = c.process;
			wait[1] = sv->stop;
			if (WaitForMultipleObjects(2, wait, FALSE, INFINITE) !=
			    WAIT_OBJECT_0) {
				child_stop(sv, &c);
				child_reap(sv, &c, 0);
				break;
			}
			ran = GetTickCount64() - c.started;
			code = child_reap(sv, &c, 1);
		}
		if (ran >= set->reset_after_ms) {
			delay = set->backoff_ms;
			failures = 0;
		}
		failures++;
		*exit_code = code != 0 ? code : 1;
		if (set->max_failures > 0 && failures >= set->max_failures) {
			svc_format(num, 16, L"%lu", (unsigned long)failures);
			str[0] = num;
			str[1] = set->log;
			eventlog_report(sv->ev, MSG_GAVE_UP, 2, str);
			logfile_say(sv->log, L"giving up after %lu failures in "
			    L"a row", (unsigned long)failures);
			return svc_err_set(e, L"the agent failed %lu times in "
			    L"a row; see the log '%ls'",
			    (unsigned long)failures, set->log);
		}
		if (failures == REPEATED_FAILURES) {
			svc_format(num, 16, L"%lu", (unsigned long)failures);
			svc_format(num2, 16, L"%lu", (unsigned long)delay);
			str[0] = num;
			str[1] = num2;
			str[2] = set->log;
			eventlog_report(sv->ev, MSG_REPEATED_FAILURES, 3, str);
		}
		say_delay(sv, delay);
		if (WaitForSingleObject(sv->stop, delay) == WAIT_OBJECT_0) {
			logfile_say(sv->log, L"stop requested while waiting to "
			    L"restart");
			break;
		}
		last_delay = delay;
		delay = delay > set->backoff_max_ms / 2 ? set->backoff_max_ms :
		    delay * 2;
	}
	*exit_code = 0;
	return 0;
}
