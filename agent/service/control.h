/*
 * control.h - install, uninstall, start, stop and status through the SCM
 *
 * install creates the service (own process, automatic start, the given
 * account with no password: a virtual account NT SERVICE\<name>, a
 * group-managed service account DOMAIN\name$, or LocalSystem), sets its
 * description and recovery actions (restart after 60 s twice, then none;
 * reset after a day; also on a non-zero exit code), writes its Parameters
 * and registers the Event Log source.  uninstall undoes all of it.
 *
 * Every function prints what it did on standard output and returns 0, or
 * -1 with e naming the call and the Windows error text.
 */
#ifndef L2S_SVC_CONTROL_H
#define L2S_SVC_CONTROL_H

#include "svc.h"

int control_install(const struct svc_settings *s, struct svc_err *e);
int control_uninstall(const wchar_t *name, struct svc_err *e);
int control_start(const wchar_t *name, struct svc_err *e);
int control_stop(const wchar_t *name, struct svc_err *e);
int control_status(const wchar_t *name, struct svc_err *e);

/* Fill s from the Parameters key of the service s->name; values that are
 * missing keep what s holds (the defaults). */
int control_read_settings(struct svc_settings *s, struct svc_err *e);

#endif
