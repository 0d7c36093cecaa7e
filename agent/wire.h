/*
 * wire.h - what ldap.c asks of an LDAP client library
 *
 * ldap.c holds what is the same everywhere: walking the URIs, the bind's
 * messages, paging, handing each entry on as it arrives, deciding what a
 * failed search means.  A wire does the talking: wire_openldap.c with
 * OpenLDAP's libldap (Linux and the BSDs), wire_winldap.c with Windows'
 * own Wldap32.  The Makefile builds one of them; nothing else includes a
 * client library's header.
 *
 * Result codes: what a server answered is LDAP's own code (RFC 4511, the
 * same in both libraries); what a client library reports about itself is
 * given in OpenLDAP's negative numbers below, whatever the library.
 *
 * Strings are UTF-8 (a wire converts when its library speaks UTF-16).
 * Strings a wire hands out (diag, matched) are freed with wire_free().
 */
#ifndef L2S_WIRE_H
#define L2S_WIRE_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "entry.h"
#include "err.h"
#include "ldap.h"

#define WIRE_SUCCESS			0
#define WIRE_STRONG_AUTH_REQUIRED	8
#define WIRE_CONFIDENTIALITY_REQUIRED	13
#define WIRE_NO_SUCH_OBJECT		32
#define WIRE_INVALID_CREDENTIALS	49
#define WIRE_INSUFFICIENT_ACCESS	50
#define WIRE_BUSY			51
#define WIRE_UNAVAILABLE		52
#define WIRE_SERVER_DOWN		(-1)
#define WIRE_LOCAL_ERROR		(-2)
#define WIRE_DECODING_ERROR		(-4)
#define WIRE_TIMEOUT			(-5)
#define WIRE_AUTH_UNKNOWN		(-6)
#define WIRE_FILTER_ERROR		(-7)
#define WIRE_PARAM_ERROR		(-9)
#define WIRE_NO_MEMORY			(-10)
#define WIRE_CONNECT_ERROR		(-11)
#define WIRE_NOT_SUPPORTED		(-12)

struct wire;		/* one connection */
struct wire_msg;	/* one message received */

/* A paged results cookie: owned bytes (free()), len 0 for none. */
struct wire_cookie {
	char *p;
	size_t len;
};

/*
 * The arrays one entry is decoded into, reused from entry to entry: the
 * struct entry handed to callers points into them (and, for values, into
 * the message), valid until the next entry.
 */
struct wire_slot {
	size_t name_off;	/* into names */
	size_t first_val;	/* into vals */
	size_t nvals;
};

struct wire_entrybuf {
	struct buf names;	/* DN and attribute names, NUL-separated */
	struct wire_slot *slots;
	size_t nslots, slots_cap;
	struct entry_attr *attrs;
	size_t attrs_cap;
	struct value *vals;
	size_t nvals, vals_cap;
};

/* --- provided by ldap.c to the wires --- */

/* Start an entry: its DN (copied). */
void entrybuf_start(struct wire_entrybuf *b, const char *dn, size_t len);
/* Start the next attribute (its name copied); its values follow. */
int entrybuf_attr(struct wire_entrybuf *b, const char *name, size_t len);
/* A value of the current attribute: borrowed, [p, p + len) must stay
 * valid while the entry is used. */
int entrybuf_value(struct wire_entrybuf *b, const char *p, size_t len);
/* The entry, once every attribute is in: 0, or -1 out of memory. */
int entrybuf_finish(struct wire_entrybuf *b, struct entry *e);
void entrybuf_free(struct wire_entrybuf *b);

/* ldaps://, ldapi:// (any case); will the connection to uri run inside
 * TLS (LDAPS, or StartTLS as cfg asks)? */
int wire_uri_ldaps(const char *uri);
int wire_uri_ldapi(const char *uri);
int wire_uses_tls(const struct config_ldap *cfg, const char *uri);

/* "Text of code" or "Text of code (diag)" appended to b. */
void wire_describe(struct buf *b, int code, const char *diag);
/* Fill err for a failed search ("search 'BASE' 'FILTER': what"); returns
 * L2S_ELDAP (unreachable, no such base, refused) or L2S_EUNSAFE (an answer
 * that is not the whole result). */
int wire_search_fail(struct err *err, const char *base, const char *filter,
    int code, const char *diag, const char *matched);

/* --- provided by each wire --- */

/*
 * Connect to uri: options (protocol 3, no referrals, timeouts, TLS with
 * cfg's CA file and verification), the connection itself (and the LDAPS
 * handshake), StartTLS when cfg asks.  L2S_OK with *out set; L2S_ETEMP when
 * this URI cannot be used but another might ("'URI': why" appended to
 * tried, "; "-separated); any other outcome is final, in err.
 */
int wire_connect(struct wire **out, const struct config_ldap *cfg,
    const char *uri, struct buf *tried, struct err *err);
/*
 * Bind as cfg says.  L2S_OK when the server answered: *code is its result
 * (WIRE_SUCCESS: bound), *diag its text or NULL.  Any other return is a
 * local failure (a Kerberos login, a method this build lacks) in err.
 */
int wire_bind(struct wire *w, const struct config_ldap *cfg, const char *uri,
    const char *password, int *code, char **diag, struct err *err);
void wire_close(struct wire *w);

/*
 * Send a search: subtree with a critical paged results control of
 * page_size and cookie (len 0 on the first page), or (subtree 0) a
 * base-object read without it; show_deleted adds AD's Show Deleted control.
 * WIRE_SUCCESS with *msgid, or a code and *diag.
 */
int wire_search(struct wire *w, const char *base, int subtree,
    const char *filter, const char *const *attrs, int page_size,
    const struct wire_cookie *cookie, int show_deleted, int *msgid,
    char **diag);

enum wire_got {
	WIRE_GOT_ENTRY,		/* a SearchResultEntry */
	WIRE_GOT_DONE,		/* the SearchResultDone */
	WIRE_GOT_OTHER,		/* a reference or anything else: skip it */
	WIRE_GOT_NOTHING,	/* nothing within the timeout */
	WIRE_GOT_ERROR		/* the connection failed: *code, *diag */
};

/* The next message of search msgid, waiting up to timeout seconds (0:
 * forever; WIRE_POLL: not at all, NOTHING unless one is in already).  *m
 * (ENTRY, DONE, OTHER) is freed with wire_msgfree() or wire_done(). */
#define WIRE_POLL (-1)
enum wire_got wire_next(struct wire *w, int msgid, int timeout,
    struct wire_msg **m, int *code, char **diag);
/* Decode an entry into b: WIRE_SUCCESS, WIRE_NO_MEMORY or
 * WIRE_DECODING_ERROR.  e points into b and into m. */
int wire_entry(struct wire *w, struct wire_msg *m, struct wire_entrybuf *b,
    struct entry *e);
/*
 * The end of a search, m freed: WIRE_SUCCESS with the server's *code,
 * *matched and *diag (or NULL), and for a paged search the next cookie
 * (len 0: that was the last page); else a code for a result that could
 * not be read.
 */
int wire_done(struct wire *w, struct wire_msg *m, int paged, int *code,
    char **matched, char **diag, struct wire_cookie *next);
void wire_abandon(struct wire *w, int msgid);
void wire_msgfree(struct wire_msg *m);
void wire_free(char *s);
const char *wire_err2string(int code);

/* RFC 4533 refreshOnly (see ldapconn_sync()); a wire without it fails with
 * L2S_ELDAP and says so. */
int wire_sync(struct wire *w, int timeout, struct wire_entrybuf *b,
    const char *base, const char *filter, const char *const *attrs,
    const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err);

/* ldap_dn_norm() is each wire's too (ldap.h). */

#endif
