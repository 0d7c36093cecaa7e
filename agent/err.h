/*
 * err.h - outcomes a caller acts on, and the message that explains them
 *
 * Every function that can fail returns L2S_OK (0) or one of the negative
 * outcomes below, and fills a struct err with a one-line, lower-case message
 * in git's grammar ("cannot open state file '/x': Permission denied").
 * Pure modules never log: they fill the error so that tests can assert on it
 * and the caller decides what becomes a warning.
 *
 * A message never contains a secret: callers format DNs, paths, URLs and
 * attribute names into it, never passwords or tokens.
 */
#ifndef L2S_ERR_H
#define L2S_ERR_H

#include <stddef.h>

#include "compiler.h"

enum {
	L2S_OK = 0,
	L2S_ENOMEM = -1,
	L2S_EIO = -2,		/* local file or socket */
	L2S_EPARSE = -3,	/* config, JSON or LDAP value not understood */
	L2S_ETEMP = -4,		/* try again next cycle: timeout, 5xx, 429, down */
	L2S_EAUTH = -5,		/* credentials refused: retrying will not help */
	L2S_ECONFLICT = -6,	/* SCIM 409 */
	L2S_EUNSAFE = -7,	/* refused: read incomplete or change implausible */
	L2S_ELDAP = -8,		/* LDAP server unreachable or answered an error */
	L2S_ESCIM = -9,		/* SCIM service refused a request (4xx other than auth) */
	L2S_ELOCKED = -10,	/* another run holds the lock */
	L2S_ENOTFOUND = -11,	/* SCIM 404 or a missing local object */
};

#define ERR_MSG_MAX 1024

struct err {
	int code;			/* the outcome, as returned */
	char msg[ERR_MSG_MAX];		/* one line, no trailing newline */
};

#define ERR_INIT { 0, "" }

/* What ERR_INIT gives, for a struct err on a path taken per entry or per
 * value: the initializer writes all ERR_MSG_MAX bytes, this the two that
 * mean anything. */
static inline void
err_clear(struct err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}

/* Fill e (when not NULL) and return code; format is printf-style. */
int err_set(struct err *e, int code, const char *fmt, ...)
	L2S_PRINTF(3, 4);

/* Prefix the message already in e with "prefix: "; returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...)
	L2S_PRINTF(2, 3);

/* A short name for an outcome ("out of memory", "temporary failure"). */
const char *err_name(int code);

#endif
