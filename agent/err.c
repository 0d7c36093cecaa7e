/*
 * err.c - filling and prefixing one-line error messages
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	va_list ap;
	size_t n;
	int w;

	if (e == NULL)
		return L2S_OK;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	w = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	if (n >= sizeof(e->msg) - 1)
		return e->code;
	/* Append ": " and the old message, truncated to fit. */
	e->msg[n++] = ':';
	if (n < sizeof(e->msg) - 1)
		e->msg[n++] = ' ';
	e->msg[n] = '\0';
	strncat(e->msg, old, sizeof(e->msg) - n - 1);
	return e->code;
}

const char *
err_name(int code)
{
	switch (code) {
	case L2S_OK:		return "success";
	case L2S_ENOMEM:	return "out of memory";
	case L2S_EIO:		return "input/output error";
	case L2S_EPARSE:	return "parse error";
	case L2S_ETEMP:		return "temporary failure";
	case L2S_EAUTH:		return "authentication refused";
	case L2S_ECONFLICT:	return "conflict";
	case L2S_EUNSAFE:	return "refused as unsafe";
	case L2S_ELDAP:		return "LDAP error";
	case L2S_ESCIM:		return "SCIM request refused";
	case L2S_ELOCKED:	return "locked by another run";
	case L2S_ENOTFOUND:	return "not found";
	}
	return "unknown error";
}
