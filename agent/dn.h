/*
 * dn.h - distinguished names compared as LDAP compares them (RFC 4514)
 *
 * dn_norm() writes the one form that equal DNs share: no spaces around
 * the separators, attribute types and values in lower case (ASCII only;
 * UTF-8 bytes pass unchanged), every value unescaped and written again the
 * same way (a backslash before , + " \ < > ; = and a leading # or space or
 * a trailing space; \00 for NUL; other bytes as they are), a value given
 * as #hex kept as lower-case hex.  What the Windows build uses where the
 * POSIX build has libldap's ldap_str2dn() and ldap_dn2str(); the two agree
 * on which DNs are equal (test_dn checks it against libldap).
 *
 * Pure: no I/O.
 */
#ifndef L2S_DN_H
#define L2S_DN_H

#include <stddef.h>

#include "err.h"

/* The normal form of dn (the caller frees *out).  L2S_EPARSE "invalid DN
 * 'DN'" when dn is not a DN; L2S_ENOMEM. */
int dn_norm(const char *dn, char **out, struct err *err);

/* Is dn plain: RDNs of one type=value each, types a letter then letters,
 * digits or '-', values of letters, digits, '-', '.', '_', '@' and inner
 * spaces, nothing around the separators?  Then its normal form is dn in
 * ASCII lower case, whoever normalises it: a shortcut past the parsers. */
int dn_plain(const char *dn);
/* The same for the len bytes at dn (a NUL among them: not plain). */
int dn_plainn(const char *dn, size_t len);
/* A copy of the len bytes at s, NUL-ended, with ASCII letters in lower
 * case whatever the locale (UTF-8 bytes pass unchanged): the normal form
 * of a plain DN.  NULL out of memory. */
char *dn_lower(const char *s, size_t len);
/* The same into out, which has room for len + 1 bytes. */
void dn_lower_to(char *out, const char *s, size_t len);

#endif
