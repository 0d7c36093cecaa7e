/*
 * ldap.h - one connection to the directory, and paged searches over it
 *
 * Hides all libldap detail (as nslcd's myldap.c does).  ldapconn_open()
 * tries each URI in order until one connects, applies StartTLS or LDAPS
 * with the configured CA file (verification on unless tls_verify is false),
 * and binds.  ldapconn_search() runs one subtree search with the paged
 * results control and hands each entry to a callback as it arrives;
 * referral chasing is off and search references are skipped.  A search
 * returns L2S_OK only when every page arrived: any error, time or size
 * limit, or lost connection between pages makes it fail, so the caller can
 * mark the read incomplete.
 *
 * Not thread-safe: one connection per thread.
 */
#ifndef L2S_LDAP_H
#define L2S_LDAP_H

#include "config.h"
#include "entry.h"
#include "err.h"

struct ldapconn;

/* Connect and bind.  password is borrowed and may be NULL (anonymous, GSSAPI,
 * EXTERNAL); it never appears in an error.  On success the caller owns *out
 * (ldapconn_close()).  Errors: L2S_ELDAP (no URI reachable, TLS failure),
 * L2S_EAUTH (bind refused), with a message naming the URI and bind DN. */
int ldapconn_open(struct ldapconn **out, const struct config_ldap *cfg,
    const char *password, struct err *err);
void ldapconn_close(struct ldapconn *c);

/* The URI that answered; borrowed. */
const char *ldapconn_uri(const struct ldapconn *c);

/* Work to do while a search waits for the server: fn(arg) does a piece of
 * it (a few milliseconds) and returns 1 while there is more, 0 when it is
 * done (it is then not called again).  NULL: none. */
typedef int (*ldap_idle_fn)(void *arg);
void ldapconn_set_idle(struct ldapconn *c, ldap_idle_fn fn, void *arg);

/* Called once per entry; e is borrowed for the call only.  A non-zero
 * return stops the search, which then returns that value. */
typedef int (*ldap_entry_fn)(void *arg, const struct entry *e,
    struct err *err);

/* Subtree search under base with filter, asking for attrs (NULL-terminated;
 * operational attributes such as entryUUID must be named), page_size from
 * the config.  L2S_OK only when the whole result arrived.  L2S_ELDAP when
 * the server went away, timed out or lacks the base; L2S_EUNSAFE when it
 * answered with less than the whole result (size, time or admin limit,
 * referral, partial results, a paging failure). */
int ldapconn_search(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err);

/* Read dn if it matches filter (fn sees it once, or not at all).
 * L2S_ENOTFOUND when dn does not exist; otherwise as ldapconn_read(). */
int ldapconn_read_if(struct ldapconn *c, const char *dn, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err);

/* ldapconn_search() with Active Directory's Show Deleted control: deleted
 * objects (tombstones) are returned as well. */
int ldapconn_search_deleted(struct ldapconn *c, const char *base,
    const char *filter, const char *const *attrs, ldap_entry_fn fn, void *arg,
    struct err *err);

/* Read the one entry dn (base scope, no paging) asking for attrs; fn sees
 * it once.  Outcomes as ldapconn_search(); L2S_ELDAP when dn is gone. */
int ldapconn_read(struct ldapconn *c, const char *dn,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err);

/*
 * RFC 4533 content synchronisation, refreshOnly: what changed under base
 * for filter since cookie (NULL: everything there is).  fn is called for
 * each entry the server reports: SYNC_UPSERT with the whole entry (added or
 * modified), SYNC_DELETE, and SYNC_PRESENT (unchanged, present phase);
 * uuid is the entry's entryUUID as lower-case text, e NULL except for
 * upserts.  Deletes listed in a syncIdSet come as SYNC_DELETE, presents as
 * SYNC_PRESENT, with e NULL.
 *
 * On L2S_OK, out->cookie (owned, may be NULL when the server sent none) is
 * the cookie for the next call, and out->present_phase says the server
 * used the present phase: every entry it did not report as present or
 * upserted is gone.  out->refresh_required is set (and L2S_OK returned)
 * when the server cannot serve the cookie (e-syncRefreshRequired): read
 * everything instead.  A failed search is L2S_ELDAP or L2S_EUNSAFE as for
 * ldapconn_search().  Cookies travel as hex text.
 */
enum ldap_sync_event { SYNC_PRESENT, SYNC_UPSERT, SYNC_DELETE };

typedef int (*ldap_sync_fn)(void *arg, enum ldap_sync_event ev,
    const char *uuid, const struct entry *e, struct err *err);

struct ldap_sync_out {
	char *cookie;		/* owned, hex */
	int present_phase;
	int refresh_required;
	size_t events;		/* how many fn calls */
};

int ldapconn_sync(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err);


/* Read one attribute of the root DSE (first value; caller frees *out, NULL
 * when absent).  For dialect detection. */
int ldapconn_rootdse(struct ldapconn *c, const char *attr, char **out,
    struct err *err);

/* Normalise a DN for comparison (RFC 4514 form, attribute types and values
 * lower-cased).  The caller owns *out.  L2S_EPARSE for an invalid DN. */
int ldap_dn_norm(const char *dn, char **out, struct err *err);

#endif
