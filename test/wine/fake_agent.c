/*
 * fake_agent.c - stands in for ldap2scim.exe in the service wrapper's tests
 *
 * Run by the wrapper as: fake_agent.exe -c CONFIG run.  CONFIG is a text
 * file whose first line says how to behave:
 *   graceful       wait for L2S_STOP_EVENT, print "fake agent stopping",
 *                  exit 0 (a reload event prints "fake agent reloading")
 *   stubborn       ignore the stop event and CTRL_BREAK, sleep
 *   break          ignore the stop event, exit 0 on CTRL_BREAK
 *   exit3          exit 3 at once
 *   sleepexit MS   sleep MS milliseconds, then exit 3
 *   chatty N       print N lines of varying length, then act as graceful
 * Every start appends "start <pid> <ms since boot>" to CONFIG.starts.
 *
 * Helpers for the test script:
 *   fake_agent.exe signal NAME   set the named event NAME (exit 1 if absent)
 *   fake_agent.exe alive PID     exit 0 if process PID runs, 1 if not
 *   fake_agent.exe message EXE ID [STR...]
 *                                print message ID (hex) of EXE's message
 *                                table with the insertion strings STR
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv);

static HANDLE broke;

static BOOL WINAPI
ignore_all(DWORD type)
{
	(void)type;
	return TRUE;
}

static BOOL WINAPI
on_break(DWORD type)
{
	if (type == CTRL_BREAK_EVENT || type == CTRL_C_EVENT) {
		SetEvent(broke);
		return TRUE;
	}
	return FALSE;
}

static HANDLE
open_env_event(const wchar_t *var)
{
	wchar_t name[256];
	DWORD n = GetEnvironmentVariableW(var, name, 256);

	if (n == 0 || n >= 256) {
		fprintf(stderr, "fake agent: %ls is not set\n", var);
		return NULL;
	}
	return OpenEventW(SYNCHRONIZE, FALSE, name);
}

static int
graceful(void)
{
	HANDLE ev[2];
	DWORD w;

	ev[0] = open_env_event(L"L2S_STOP_EVENT");
	ev[1] = open_env_event(L"L2S_RELOAD_EVENT");
	if (ev[0] == NULL || ev[1] == NULL) {
		fprintf(stderr, "fake agent: cannot open the events\n");
		return 9;
	}
	printf("fake agent waiting for the stop event\n");
	fprintf(stderr, "fake agent on stderr\n");
	for (;;) {
		w = WaitForMultipleObjects(2, ev, FALSE, INFINITE);
		if (w == WAIT_OBJECT_0)
			break;
		printf("fake agent reloading\n");
	}
	printf("fake agent stopping\n");
	return 0;
}

static void
record_start(const wchar_t *config)
{
	wchar_t path[1100];
	FILE *f;

	swprintf(path, 1100, L"%ls.starts", config);
	f = _wfopen(path, L"a");
	if (f == NULL)
		return;
	fprintf(f, "start %lu %llu\n", (unsigned long)GetCurrentProcessId(),
	    (unsigned long long)GetTickCount64());
	fclose(f);
}

static int
agent(const wchar_t *config)
{
	char mode[64] = "", line[128] = "";
	unsigned long n = 0, i, k;
	FILE *f;

	setvbuf(stdout, NULL, _IONBF, 0);
	record_start(config);
	f = _wfopen(config, L"r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
		fprintf(stderr, "fake agent: cannot read %ls\n", config);
		return 8;
	}
	fclose(f);
	if (sscanf(line, "%63s %lu", mode, &n) < 1)
		return 8;
	printf("fake agent started pid %lu mode %s\n",
	    (unsigned long)GetCurrentProcessId(), mode);
	if (strcmp(mode, "graceful") == 0)
		return graceful();
	if (strcmp(mode, "stubborn") == 0) {
		SetConsoleCtrlHandler(ignore_all, TRUE);
		printf("fake agent ignoring stop\n");
		Sleep(600000);
		return 0;
	}
	if (strcmp(mode, "break") == 0) {
		broke = CreateEventW(NULL, TRUE, FALSE, NULL);
		SetConsoleCtrlHandler(on_break, TRUE);
		WaitForSingleObject(broke, 600000);
		printf("fake agent got CTRL_BREAK\n");
		return 0;
	}
	if (strcmp(mode, "exit3") == 0) {
		printf("fake agent failing\n");
		return 3;
	}
	if (strcmp(mode, "sleepexit") == 0) {
		Sleep(n);
		printf("fake agent failing after %lu ms\n", n);
		return 3;
	}
	if (strcmp(mode, "chatty") == 0) {
		for (i = 0; i < n; i++) {
			printf("chatty line %05lu ", i);
			for (k = 0; k < i % 97; k++)
				putchar('a' + (int)(k % 26));
			printf(" end\n");
		}
		printf("chatty unicode \xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "de \xe2\x9c\x93 done\n");
		return graceful();
	}
	fprintf(stderr, "fake agent: unknown mode '%s'\n", mode);
	return 8;
}

static int
message(const wchar_t *exe, DWORD id, int n, wchar_t **str)
{
	HMODULE m = LoadLibraryExW(exe, NULL, LOAD_LIBRARY_AS_DATAFILE);
	DWORD_PTR args[9];
	wchar_t buf[2048];
	char u8[8192];
	int i;

	if (m == NULL)
		return 1;
	for (i = 0; i < n && i < 9; i++)
		args[i] = (DWORD_PTR)str[i];
	for (; i < 9; i++)
		args[i] = (DWORD_PTR)L"?";
	if (FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE |
	    FORMAT_MESSAGE_ARGUMENT_ARRAY, m, id, 0, buf, 2048,
	    (va_list *)(void *)args) == 0)
		return 1;
	WideCharToMultiByte(CP_UTF8, 0, buf, -1, u8, sizeof(u8), NULL, NULL);
	fputs(u8, stdout);
	return 0;
}

int
wmain(int argc, wchar_t **argv)
{
	HANDLE h;
	DWORD code;

	if (argc == 3 && wcscmp(argv[1], L"signal") == 0) {
		h = OpenEventW(EVENT_MODIFY_STATE, FALSE, argv[2]);
		if (h == NULL || !SetEvent(h))
			return 1;
		CloseHandle(h);
		return 0;
	}
	if (argc == 3 && wcscmp(argv[1], L"alive") == 0) {
		h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE,
		    FALSE, (DWORD)wcstoul(argv[2], NULL, 10));
		if (h == NULL)
			return 1;
		code = WaitForSingleObject(h, 0);
		CloseHandle(h);
		return code == WAIT_TIMEOUT ? 0 : 1;
	}
	if (argc >= 4 && wcscmp(argv[1], L"message") == 0)
		return message(argv[2], wcstoul(argv[3], NULL, 16), argc - 4,
		    argv + 4);
	if (argc == 4 && wcscmp(argv[1], L"-c") == 0 &&
	    wcscmp(argv[3], L"run") == 0)
		return agent(argv[2]);
	fprintf(stderr, "usage: fake_agent -c CONFIG run | signal NAME | "
	    "alive PID\n");
	return 2;
}
