/*
 * eventlog.h - start, stop and failure events in the Application log
 *
 * The source is the service's name (registered by install, with this
 * executable as its EventMessageFile); the ids are the MSG_* of
 * messages.mc.  Reporting is best effort: a missing source or a full log
 * never stops the service.  A NULL or closed eventlog reports nothing, which
 * is what run --console uses.
 */
#ifndef L2S_SVC_EVENTLOG_H
#define L2S_SVC_EVENTLOG_H

#include "messages.h"
#include "svc.h"

struct eventlog {
	HANDLE h;	/* from RegisterEventSourceW, or NULL */
};

#define EVENTLOG_INIT { NULL }

void eventlog_open(struct eventlog *ev, const wchar_t *source);
void eventlog_close(struct eventlog *ev);

/* Report message id with nstr insertion strings (borrowed).  The type
 * (information, warning, error) follows from the id's severity. */
void eventlog_report(struct eventlog *ev, DWORD id, WORD nstr,
    const wchar_t **str);

#endif
