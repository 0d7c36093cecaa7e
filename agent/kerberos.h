/*
 * kerberos.h - a ticket from a keytab, for the SASL GSSAPI bind
 *
 * A domain-joined host keeps its own key in a keytab (/etc/krb5.keytab,
 * or one exported for a service account).  kerberos_login() gets a
 * ticket-granting ticket for principal with that key into a credential
 * cache private to this process (MEMORY:, never a file) and points
 * KRB5CCNAME at it, so the GSSAPI bind that follows uses it.  No password
 * is involved anywhere.  Without a keytab the bind uses whatever default
 * credential cache the environment names (kinit -k, k5start, sssd).
 *
 * Not thread-safe (it sets an environment variable).
 */
#ifndef L2S_KERBEROS_H
#define L2S_KERBEROS_H

#include "err.h"

/* Log in as principal (NULL: the keytab's first principal) with keytab.
 * L2S_EAUTH when the KDC refuses or the keytab holds no key for the
 * principal, L2S_EIO when the keytab cannot be read, L2S_ELDAP when no KDC
 * answers; err names the keytab and principal, never a key. */
int kerberos_login(const char *keytab, const char *principal,
    struct err *err);

#endif
