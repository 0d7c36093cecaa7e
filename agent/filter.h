/*
 * filter.h - LDAP search filters as text (RFC 4515)
 *
 * Pure string work, no libldap: checking a filter from the config before
 * any connection is made, and escaping values that are put into filters.
 */
#ifndef L2S_FILTER_H
#define L2S_FILTER_H

#include "err.h"

/* L2S_OK when filter is a valid RFC 4515 filter (outer parentheses
 * required); else L2S_EPARSE with what is wrong and the offset. */
int filter_check(const char *filter, struct err *err);

/* Escape '*', '(', ')', '\\' and NUL as \XX.  The caller owns the result;
 * NULL on ENOMEM. */
char *filter_escape(const char *value);

#endif
