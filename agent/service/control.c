/*
 * control.c - the SCM and registry side of install/uninstall/start/stop/status
 */
#include <wchar.h>

#include "control.h"
#include "supervise.h"

#define KEY_SERVICES	L"SYSTEM\\CurrentControlSet\\Services\\"
#define KEY_EVENTLOG	KEY_SERVICES L"EventLog\\Application\\"
#define WAIT_START_MS	30000

static void
params_key(wchar_t *buf, size_t n, const wchar_t *name)
{
	svc_format(buf, n, KEY_SERVICES L"%ls\\Parameters", name);
}

static int
open_service(SC_HANDLE *scm, SC_HANDLE *svc, const wchar_t *name,
    DWORD access, const wchar_t *what, struct svc_err *e)
{
	*svc = NULL;
	*scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (*scm == NULL)
		return svc_err_win(e, L"OpenSCManagerW", GetLastError(),
		    L"cannot %ls service '%ls'", what, name);
	*svc = OpenServiceW(*scm, name, access);
	if (*svc == NULL)
		return svc_err_win(e, L"OpenServiceW", GetLastError(),
		    L"cannot %ls service '%ls'", what, name);
	return 0;
}

static void
close_service(SC_HANDLE scm, SC_HANDLE svc)
{
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
}

static int
set_sz(HKEY k, const wchar_t *value, DWORD type, const wchar_t *data,
    const wchar_t *key, struct svc_err *e)
{
	LSTATUS r;

	r = RegSetValueExW(k, value, 0, type, (const BYTE *)data,
	    (DWORD)((wcslen(data) + 1) * sizeof(wchar_t)));
	if (r != ERROR_SUCCESS)
		return svc_err_win(e, L"RegSetValueExW", (DWORD)r,
		    L"cannot write '%ls' in 'HKLM\\%ls'", value, key);
	return 0;
}

static int
set_dword(HKEY k, const wchar_t *value, DWORD data, const wchar_t *key,
    struct svc_err *e)
{
	LSTATUS r;

	r = RegSetValueExW(k, value, 0, REG_DWORD, (const BYTE *)&data,
	    sizeof(data));
	if (r != ERROR_SUCCESS)
		return svc_err_win(e, L"RegSetValueExW", (DWORD)r,
		    L"cannot write '%ls' in 'HKLM\\%ls'", value, key);
	return 0;
}

static int
write_parameters(const struct svc_settings *s, struct svc_err *e)
{
	wchar_t key[512];
	HKEY k = NULL;
	LSTATUS r;
	int rc = -1;

	params_key(key, 512, s->name);
	r = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0,
	    KEY_SET_VALUE, NULL, &k, NULL);
	if (r != ERROR_SUCCESS) {
		svc_err_win(e, L"RegCreateKeyExW", (DWORD)r,
		    L"cannot create 'HKLM\\%ls'", key);
		k = NULL;
		goto done;
	}
	if (set_sz(k, L"AgentPath", REG_SZ, s->agent, key, e) != 0 ||
	    set_sz(k, L"Config", REG_SZ, s->config, key, e) != 0 ||
	    set_sz(k, L"LogFile", REG_SZ, s->log, key, e) != 0 ||
	    set_dword(k, L"StopTimeoutSeconds", s->stop_timeout_s, key,
	    e) != 0 ||
	    set_dword(k, L"LogMaxBytes", s->log_max_bytes, key, e) != 0 ||
	    set_dword(k, L"LogKeep", s->log_keep, key, e) != 0)
		goto done;
	rc = 0;
done:
	if (k != NULL)
		RegCloseKey(k);
	return rc;
}

static int
write_event_source(const wchar_t *name, const wchar_t *self,
    struct svc_err *e)
{
	wchar_t key[512];
	HKEY k = NULL;
	LSTATUS r;
	int rc = -1;

	svc_format(key, 512, KEY_EVENTLOG L"%ls", name);
	r = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0,
	    KEY_SET_VALUE, NULL, &k, NULL);
	if (r != ERROR_SUCCESS) {
		svc_err_win(e, L"RegCreateKeyExW", (DWORD)r,
		    L"cannot register event source 'HKLM\\%ls'", key);
		k = NULL;
		goto done;
	}
	if (set_sz(k, L"EventMessageFile", REG_EXPAND_SZ, self, key, e) != 0 ||
	    set_dword(k, L"TypesSupported", EVENTLOG_ERROR_TYPE |
	    EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE, key, e) != 0)
		goto done;
	rc = 0;
done:
	if (k != NULL)
		RegCloseKey(k);
	return rc;
}

/* Recovery: restart after 60 s, twice, then nothing; the count resets
 * after a day; applied also when the service stops with an exit code
 * other than 0 (the wrapper giving up).  Best effort: a failure here is a
 * warning, the service works without it. */
static void
set_recovery(SC_HANDLE svc)
{
	SC_ACTION act[3] = {
		{ SC_ACTION_RESTART, 60000 },
		{ SC_ACTION_RESTART, 60000 },
		{ SC_ACTION_NONE, 0 },
	};
	SERVICE_FAILURE_ACTIONSW fa;
	SERVICE_FAILURE_ACTIONS_FLAG flag;
	struct svc_err e;

	ZeroMemory(&fa, sizeof(fa));
	fa.dwResetPeriod = 24 * 60 * 60;
	fa.cActions = 3;
	fa.lpsaActions = act;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) {
		svc_err_win(&e, L"ChangeServiceConfig2W", GetLastError(),
		    L"warning: cannot set the recovery actions");
		svc_errout(SVC_PROGRAM L": %ls", e.msg);
	}
	flag.fFailureActionsOnNonCrashFailures = TRUE;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG,
	    &flag)) {
		svc_err_win(&e, L"ChangeServiceConfig2W", GetLastError(),
		    L"warning: cannot apply the recovery actions to a non-zero "
		    L"exit code");
		svc_errout(SVC_PROGRAM L": %ls", e.msg);
	}
}

static void
delete_event_source(const wchar_t *name)
{
	wchar_t key[512];

	svc_format(key, 512, KEY_EVENTLOG L"%ls", name);
	RegDeleteTreeW(HKEY_LOCAL_MACHINE, key);
	RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
}

int
control_install(const struct svc_settings *s, struct svc_err *e)
{
	wchar_t self[SVC_PATH_MAX], image[2 * SVC_PATH_MAX], display[400];
	wchar_t account[SVC_PATH_MAX];
	const wchar_t *start_name;
	SERVICE_DESCRIPTIONW desc;
	SERVICE_SID_INFO sid;
	SC_HANDLE scm = NULL, svc = NULL;
	int rc = -1;

	if (svc_self_path(self, SVC_PATH_MAX, e) != 0)
		goto done;
	image[0] = L'\0';
	if (supervise_quote(image, 2 * SVC_PATH_MAX, self) != 0 ||
	    supervise_quote(image, 2 * SVC_PATH_MAX, L"service") != 0 ||
	    supervise_quote(image, 2 * SVC_PATH_MAX, L"--name") != 0 ||
	    supervise_quote(image, 2 * SVC_PATH_MAX, s->name) != 0) {
		svc_err_set(e, L"cannot install service '%ls': path '%ls' is "
		    L"too long", s->name, self);
		goto done;
	}
	if (s->account[0] == L'\0')
		svc_format(account, SVC_PATH_MAX, L"NT SERVICE\\%ls", s->name);
	else
		svc_copy(account, SVC_PATH_MAX, s->account);
	start_name = _wcsicmp(account, L"LocalSystem") == 0 ? NULL : account;
	if (wcscmp(s->name, SVC_DEFAULT_NAME) == 0)
		svc_format(display, 400, L"ldap2scim directory sync");
	else
		svc_format(display, 400, L"ldap2scim directory sync (%ls)",
		    s->name);
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE |
	    SC_MANAGER_CONNECT);
	if (scm == NULL) {
		svc_err_win(e, L"OpenSCManagerW", GetLastError(),
		    L"cannot install service '%ls'", s->name);
		goto done;
	}
	/* No password: virtual and group-managed accounts have none the
	 * SCM needs, LocalSystem neither. */
	svc = CreateServiceW(scm, s->name, display, SERVICE_ALL_ACCESS,
	    SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
	    SERVICE_ERROR_NORMAL, image, NULL, NULL, NULL, start_name, NULL);
	if (svc == NULL) {
		svc_err_win(e, L"CreateServiceW", GetLastError(),
		    L"cannot install service '%ls'", s->name);
		goto done;
	}
	desc.lpDescription = L"Synchronises users and groups from an LDAP "
	    L"directory to a SCIM 2.0 service (runs ldap2scim.exe).";
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
	if (_wcsnicmp(account, L"NT SERVICE\\", 11) == 0) {
		sid.dwServiceSidType = SERVICE_SID_TYPE_UNRESTRICTED;
		ChangeServiceConfig2W(svc, SERVICE_CONFIG_SERVICE_SID_INFO,
		    &sid);
	}
	set_recovery(svc);
	if (write_parameters(s, e) != 0 ||
	    write_event_source(s->name, self, e) != 0) {
		DeleteService(svc);
		delete_event_source(s->name);
		goto done;
	}
	svc_out(L"installed service '%ls' (account %ls, agent '%ls', "
	    L"config '%ls', log '%ls')", s->name, account, s->agent,
	    s->config, s->log);
	rc = 0;
done:
	close_service(scm, svc);
	return rc;
}

/* Poll until the state is want (1), or is neither want nor pending (0),
 * or ms passed (-1). */
static int
wait_state(SC_HANDLE svc, DWORD want, DWORD pending, DWORD ms,
    SERVICE_STATUS_PROCESS *st)
{
	ULONGLONG until = GetTickCount64() + ms;
	DWORD need;

	for (;;) {
		if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO,
		    (BYTE *)st, sizeof(*st), &need))
			return 0;
		if (st->dwCurrentState == want)
			return 1;
		if (st->dwCurrentState != pending &&
		    !(pending == SERVICE_STOP_PENDING &&
		    st->dwCurrentState == SERVICE_RUNNING))
			return 0;
		if (GetTickCount64() >= until)
			return -1;
		Sleep(200);
	}
}

static DWORD
stop_wait_ms(const wchar_t *name)
{
	struct svc_settings s;
	struct svc_err e;

	svc_settings_defaults(&s);
	svc_copy(s.name, SVC_NAME_MAX, name);
	control_read_settings(&s, &e);
	return (s.stop_timeout_s + 15) * 1000;
}

static int
stop_service(SC_HANDLE svc, const wchar_t *name, struct svc_err *e)
{
	SERVICE_STATUS ss;
	SERVICE_STATUS_PROCESS st;
	int r;

	if (!ControlService(svc, SERVICE_CONTROL_STOP, &ss)) {
		DWORD err = GetLastError();

		if (err == ERROR_SERVICE_NOT_ACTIVE) {
			svc_out(L"service '%ls' is not running", name);
			return 0;
		}
		return svc_err_win(e, L"ControlService", err,
		    L"cannot stop service '%ls'", name);
	}
	r = wait_state(svc, SERVICE_STOPPED, SERVICE_STOP_PENDING,
	    stop_wait_ms(name), &st);
	if (r != 1)
		return svc_err_set(e, L"service '%ls' did not stop (state %lu)",
		    name, (unsigned long)st.dwCurrentState);
	svc_out(L"stopped service '%ls'", name);
	return 0;
}

int
control_uninstall(const wchar_t *name, struct svc_err *e)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS_PROCESS st;
	wchar_t key[512];
	DWORD need;
	int rc = -1;

	if (open_service(&scm, &svc, name, DELETE | SERVICE_STOP |
	    SERVICE_QUERY_STATUS, L"uninstall", e) != 0)
		goto done;
	if (QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st,
	    sizeof(st), &need) && st.dwCurrentState != SERVICE_STOPPED &&
	    stop_service(svc, name, e) != 0)
		goto done;
	if (!DeleteService(svc)) {
		svc_err_win(e, L"DeleteService", GetLastError(),
		    L"cannot uninstall service '%ls'", name);
		goto done;
	}
	params_key(key, 512, name);
	RegDeleteTreeW(HKEY_LOCAL_MACHINE, key);
	RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
	delete_event_source(name);
	svc_out(L"uninstalled service '%ls'", name);
	rc = 0;
done:
	close_service(scm, svc);
	return rc;
}

int
control_start(const wchar_t *name, struct svc_err *e)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS_PROCESS st;
	int rc = -1, r;

	if (open_service(&scm, &svc, name, SERVICE_START |
	    SERVICE_QUERY_STATUS, L"start", e) != 0)
		goto done;
	if (!StartServiceW(svc, 0, NULL)) {
		svc_err_win(e, L"StartServiceW", GetLastError(),
		    L"cannot start service '%ls'", name);
		goto done;
	}
	r = wait_state(svc, SERVICE_RUNNING, SERVICE_START_PENDING,
	    WAIT_START_MS, &st);
	if (r != 1) {
		svc_err_set(e, L"service '%ls' did not start (state %lu, exit "
		    L"code %lu, service exit code %lu)", name,
		    (unsigned long)st.dwCurrentState,
		    (unsigned long)st.dwWin32ExitCode,
		    (unsigned long)st.dwServiceSpecificExitCode);
		goto done;
	}
	svc_out(L"started service '%ls' (pid %lu)", name,
	    (unsigned long)st.dwProcessId);
	rc = 0;
done:
	close_service(scm, svc);
	return rc;
}

int
control_stop(const wchar_t *name, struct svc_err *e)
{
	SC_HANDLE scm = NULL, svc = NULL;
	int rc = -1;

	if (open_service(&scm, &svc, name, SERVICE_STOP |
	    SERVICE_QUERY_STATUS, L"stop", e) != 0)
		goto done;
	rc = stop_service(svc, name, e);
done:
	close_service(scm, svc);
	return rc;
}

static const wchar_t *
state_name(DWORD state)
{
	switch (state) {
	case SERVICE_STOPPED:		return L"stopped";
	case SERVICE_START_PENDING:	return L"starting";
	case SERVICE_STOP_PENDING:	return L"stopping";
	case SERVICE_RUNNING:		return L"running";
	case SERVICE_CONTINUE_PENDING:	return L"continuing";
	case SERVICE_PAUSE_PENDING:	return L"pausing";
	case SERVICE_PAUSED:		return L"paused";
	default:			return L"unknown";
	}
}

int
control_status(const wchar_t *name, struct svc_err *e)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS_PROCESS st;
	DWORD need;
	int rc = -1;

	if (open_service(&scm, &svc, name, SERVICE_QUERY_STATUS, L"query",
	    e) != 0)
		goto done;
	if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st,
	    sizeof(st), &need)) {
		svc_err_win(e, L"QueryServiceStatusEx", GetLastError(),
		    L"cannot query service '%ls'", name);
		goto done;
	}
	svc_out(L"service: %ls", name);
	svc_out(L"state: %ls", state_name(st.dwCurrentState));
	if (st.dwProcessId != 0)
		svc_out(L"pid: %lu", (unsigned long)st.dwProcessId);
	if (st.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR)
		svc_out(L"exit code: %lu (service specific)",
		    (unsigned long)st.dwServiceSpecificExitCode);
	else
		svc_out(L"exit code: %lu", (unsigned long)st.dwWin32ExitCode);
	rc = 0;
done:
	close_service(scm, svc);
	return rc;
}

static void
read_sz(HKEY k, const wchar_t *value, wchar_t *dst, size_t n)
{
	wchar_t buf[SVC_PATH_MAX];
	DWORD size = sizeof(buf);

	if (RegGetValueW(k, NULL, value, RRF_RT_REG_SZ,
	    NULL, buf, &size) == ERROR_SUCCESS && buf[0] != L'\0')
		svc_copy(dst, n, buf);
}

static void
read_dword(HKEY k, const wchar_t *value, DWORD *dst)
{
	DWORD v, size = sizeof(v);

	if (RegGetValueW(k, NULL, value, RRF_RT_REG_DWORD, NULL, &v,
	    &size) == ERROR_SUCCESS)
		*dst = v;
}

int
control_read_settings(struct svc_settings *s, struct svc_err *e)
{
	wchar_t key[512];
	HKEY k;
	LSTATUS r;

	params_key(key, 512, s->name);
	r = RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_QUERY_VALUE, &k);
	if (r != ERROR_SUCCESS)
		return svc_err_win(e, L"RegOpenKeyExW", (DWORD)r,
		    L"cannot read the settings 'HKLM\\%ls'", key);
	read_sz(k, L"AgentPath", s->agent, SVC_PATH_MAX);
	read_sz(k, L"Config", s->config, SVC_PATH_MAX);
	read_sz(k, L"LogFile", s->log, SVC_PATH_MAX);
	read_dword(k, L"StopTimeoutSeconds", &s->stop_timeout_s);
	read_dword(k, L"LogMaxBytes", &s->log_max_bytes);
	read_dword(k, L"LogKeep", &s->log_keep);
	/* Not written by install: for tuning by hand. */
	read_dword(k, L"BackoffMs", &s->backoff_ms);
	read_dword(k, L"BackoffMaxMs", &s->backoff_max_ms);
	read_dword(k, L"ResetAfterMs", &s->reset_after_ms);
	read_dword(k, L"MaxFailures", &s->max_failures);
	RegCloseKey(k);
	if (s->stop_timeout_s == 0)
		s->stop_timeout_s = 1;
	if (s->backoff_ms == 0)
		s->backoff_ms = 1;
	return 0;
}
