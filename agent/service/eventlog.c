/*
 * eventlog.c - ReportEventW with the message table's ids
 */
#include "eventlog.h"

void
eventlog_open(struct eventlog *ev, const wchar_t *source)
{
	ev->h = RegisterEventSourceW(NULL, source);
}

void
eventlog_close(struct eventlog *ev)
{
	if (ev != NULL && ev->h != NULL)
		DeregisterEventSource(ev->h);
	if (ev != NULL)
		ev->h = NULL;
}

void
eventlog_report(struct eventlog *ev, DWORD id, WORD nstr, const wchar_t **str)
{
	WORD type;

	if (ev == NULL || ev->h == NULL)
		return;
	switch (id >> 30) {
	case 3:
		type = EVENTLOG_ERROR_TYPE;
		break;
	case 2:
		type = EVENTLOG_WARNING_TYPE;
		break;
	default:
		type = EVENTLOG_INFORMATION_TYPE;
		break;
	}
	ReportEventW(ev->h, type, 0, id, NULL, nstr, 0, str, NULL);
}
