/*
 * supervise.h - run the agent as a child, stop it, restart it when it dies
 *
 * The agent runs as "<AgentPath>" -c "<Config>" run inside a job object
 * that kills it (and anything it started) when the wrapper goes away.  Its
 * standard output and error go through a pipe to the log file, a whole line
 * at a time.
 *
 * Stopping: the supervisor owns two named events whose names the child
 * finds in its environment: L2S_STOP_EVENT (manual reset; the agent stops
 * and exits 0 when it is set) and L2S_RELOAD_EVENT (auto reset; the agent
 * rereads its configuration).  A child still running a few seconds after
 * the stop event gets a CTRL_BREAK (it runs in its own process group on the
 * wrapper's console); one still running StopTimeoutSeconds after the
 * request is terminated with its job.
 *
 * Restarting: a child that exits while no stop was asked for (any exit
 * code, or a crash) is started again after 1, 2, 4, ... seconds, capped;
 * the delay starts over once a child has run long enough.  After
 * max_failures exits in a row the supervisor gives up, so that the service
 * stops with an error and the SCM's recovery actions apply.
 */
#ifndef L2S_SVC_SUPERVISE_H
#define L2S_SVC_SUPERVISE_H

#include "eventlog.h"
#include "logfile.h"
#include "svc.h"

struct supervisor {
	const struct svc_settings *set;	/* borrowed, outlives the supervisor */
	struct logfile *log;		/* borrowed */
	struct eventlog *ev;		/* borrowed; may be NULL */
	HANDLE stop;			/* owned: named, manual reset */
	HANDLE reload;			/* owned: named, auto reset */
	wchar_t stop_name[80];
	wchar_t reload_name[80];
	/* Called about once a second while a stop is in progress, with the
	 * time the rest may take (a service reports SERVICE_STOP_PENDING
	 * checkpoints from it); NULL for none. */
	void (*pending)(void *ctx, DWORD wait_hint_ms);
	void *pending_ctx;
};

/* Create the named events and put their names in this process's
 * environment (the child inherits it).  set, log and ev are borrowed for
 * the supervisor's lifetime. */
int supervise_init(struct supervisor *sv, const struct svc_settings *set,
    struct logfile *log, struct eventlog *ev, struct svc_err *e);
void supervise_close(struct supervisor *sv);

/* Ask for a stop or a reload; any thread, any time after init. */
void supervise_stop(struct supervisor *sv);
void supervise_reload(struct supervisor *sv);

/* Run children until a stop is asked for (0) or the supervisor gives up
 * (-1: e says why, *exit_code is the last child's exit code, or 1 when
 * that was 0). */
int supervise_run(struct supervisor *sv, DWORD *exit_code,
    struct svc_err *e);

/* Append arg to cmd (of n characters) quoted the way CommandLineToArgvW
 * reads it back; -1 when it does not fit. */
int supervise_quote(wchar_t *cmd, size_t n, const wchar_t *arg);

#endif
