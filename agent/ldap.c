/*
 * ldap.c - one connection to the directory, and paged searches over it
 *
 * Everything libldap lives here.  ldapconn_open() walks the configured URIs
 * in order: for each it creates a handle with per-handle options (protocol
 * 3, no referral chasing, network and operation timeouts, a TLS context of
 * its own built from the configured CA file and verification mode), forces
 * the connection with ldap_connect() (which also runs the LDAPS handshake),
 * runs StartTLS when asked, then binds.  A URI that cannot be reached or
 * whose TLS fails is skipped for the next one; a bind the server refuses is
 * final, since another replica would refuse it too.
 *
 * ldapconn_search() runs an asynchronous subtree search with a critical
 * paged results control and reads one message at a time, so memory stays at
 * one entry no matter how large the directory.  Entries are decoded with the
 * BER walk (ldap_get_dn_ber / ldap_get_attribute_ber, values left in place in
 * the message) into a struct entry whose arrays are reused across entries.
 * Any result other than success, a lost connection or a silent server fails
 * the whole search: a partial read must never look like a complete one.
 *
 * Logs only debug detail; errors go to the caller in struct err.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <lber.h>
#include <ldap.h>		/* the system one: agent/ is -iquote only */

#include "buf.h"
#include "err.h"
#include "kerberos.h"
#include "ldap.h"
#include "log.h"

/* The largest LDAP message accepted from a server (one page of entries, or
 * one entry with a huge attribute): a bound on what the network can make us
 * allocate.  Samba returns 20,000-member groups whole (~1.5 MB). */
#define LDAP_MAX_INCOMING (256UL * 1024 * 1024)

/*
 * Cyrus SASL's interaction record.  libldap hands an array of these to the
 * interaction callback; the layout is part of the stable SASL ABI (sasl.h,
 * unchanged since SASL 2.0).  It is mirrored here so the build does not
 * need libsasl2-dev for a callback that only fills in defaults.
 */
struct sasl_interact_mirror {
	unsigned long id;
	const char *challenge;
	const char *prompt;
	const char *defresult;
	const void *result;
	unsigned len;
};
#define SASL_CB_LIST_END_MIRROR	0
#define SASL_CB_USER_MIRROR	0x4001	/* authorisation id */
#define SASL_CB_AUTHNAME_MIRROR	0x4002	/* authentication id */

/* Where one attribute of the entry being built sits in the reused arrays. */
struct attr_slot {
	size_t name_off;		/* into names */
	size_t first_val;		/* into vals */
	size_t nvals;
};

struct ldapconn {
	LDAP *ld;
	char *uri;			/* owned: the URI that answered */
	int page_size;
	int timeout;			/* seconds; 0 waits forever */
	int result;			/* the last search's result code */

	/* Reused across entries: the view handed to the callback. */
	struct buf names;		/* DN and attribute names, NUL-separated */
	struct attr_slot *slots;
	size_t nslots, slots_cap;
	struct entry_attr *attrs;
	size_t attrs_cap;
	struct value *vals;
	size_t nvals, vals_cap;
};

const char *
ldapconn_uri(const struct ldapconn *c)
{
	return c->uri;
}

/* The server's or libldap's diagnostic text for the last operation on ld,
 * or NULL.  The caller frees it with ldap_memfree(). */
static char *
diag_take(LDAP *ld)
{
	char *d = NULL;

	if (ld == NULL ||
	    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &d) !=
	    LDAP_OPT_SUCCESS)
		return NULL;
	if (d != NULL && d[0] == '\0') {
		ldap_memfree(d);
		d = NULL;
	}
	return d;
}

/* "Text of rc" or "Text of rc (diagnostic)" into b. */
static void
describe(struct buf *b, int rc, const char *diag)
{
	buf_puts(b, ldap_err2string(rc));
	if (diag != NULL && diag[0] != '\0' &&
	    strcmp(diag, ldap_err2string(rc)) != 0) {
		buf_puts(b, " (");
		buf_puts(b, diag);
		buf_putc(b, ')');
	}
}

/* The result code libldap recorded on ld (after ldap_result() == -1). */
static int
last_code(LDAP *ld)
{
	int rc = LDAP_OTHER;

	if (ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS)
		rc = LDAP_OTHER;
	return rc;
}

/* Connection-level failures: the next URI may do better. */
static int
is_unreachable(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return 1;
	}
	return 0;
}

static int
is_tls_uri(const char *uri)
{
	return strncasecmp(uri, "ldaps://", 8) == 0;
}

static int
is_ldapi_uri(const char *uri)
{
	return strncasecmp(uri, "ldapi://", 8) == 0;
}

/* Will the connection to uri run inside TLS (LDAPS, or StartTLS)? */
static int
uses_tls(const struct config_ldap *cfg, const char *uri)
{
	return is_tls_uri(uri) || (cfg->starttls && !is_ldapi_uri(uri));
}

/* Set the per-handle options; on failure *what names the option. */
static int
set_options(LDAP *ld, const struct config_ldap *cfg, const char *uri,
    const char **what)
{
	int v3 = LDAP_VERSION3;
	struct timeval tv = { cfg->timeout, 0 };
	int reqcert = cfg->tls_verify ? LDAP_OPT_X_TLS_DEMAND :
	    LDAP_OPT_X_TLS_NEVER;
	int zero = 0;
	Sockbuf *sb = NULL;
	ber_len_t max = LDAP_MAX_INCOMING;

	*what = "protocol version";
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	*what = "referrals";
	if (ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	if (cfg->timeout > 0) {
		*what = "network timeout";
		if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
		    LDAP_OPT_SUCCESS)
			return -1;
		*what = "timeout";
		if (ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) !=
		    LDAP_OPT_SUCCESS)
			return -1;
	}
	/* Best effort: a bound on incoming messages where liblber has one. */
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS &&
	    sb != NULL)
		(void)ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);

	if (!uses_tls(cfg, uri))
		return 0;
	if (cfg->tls_ca_file != NULL) {
		*what = "TLS CA file";
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
		    cfg->tls_ca_file) != LDAP_OPT_SUCCESS)
			return -1;
	}
	*what = "TLS certificate verification";
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &reqcert) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	/* Build this handle's own TLS context from the options above. */
	*what = "TLS context";
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	return 0;
}

/* Fill SASL prompts with the configured or default answers, never asking. */
static int
sasl_quiet(LDAP *ld, unsigned flags, void *defaults, void *interact)
{
	const char *principal = defaults;
	struct sasl_interact_mirror *in = interact;
	const char *v;

	(void)ld;
	(void)flags;
	for (; in != NULL && in->id != SASL_CB_LIST_END_MIRROR; in++) {
		v = NULL;
		if (in->id == SASL_CB_AUTHNAME_MIRROR && principal != NULL)
			v = principal;
		else if (in->id != SASL_CB_USER_MIRROR)
			v = in->defresult;
		if (v == NULL)
			v = "";
		in->result = v;
		in->len = (unsigned)strlen(v);
	}
	return LDAP_SUCCESS;
}

/*
 * Why a TLS handshake failed, into b.  libldap built with GnuTLS (Debian's)
 * reports a failed certificate check only as "(unknown error code)", so
 * say what it almost always means.
 */
static void
describe_tls(struct buf *b, const struct config_ldap *cfg, const char *diag)
{
	buf_puts(b, "TLS handshake failed");
	if (strcmp(diag, "(unknown error code)") != 0)
		buf_printf(b, ": %s", diag);
	else if (cfg->tls_verify && cfg->tls_ca_file != NULL)
		buf_printf(b, " (server certificate not trusted by CA file "
		    "'%s', or not issued for this host name?)",
		    cfg->tls_ca_file);
	else if (cfg->tls_verify)
		buf_puts(b, " (server certificate not trusted by the system "
		    "CA store, or not issued for this host name? set "
		    "tls_ca_file)");
}

/* Who binds, for messages: "bind as 'DN'", "anonymous bind" and so on. */
static void
describe_identity(struct buf *b, const struct config_ldap *cfg)
{
	switch (cfg->bind_method) {
	case BIND_SIMPLE:
		buf_printf(b, "bind as '%s'", cfg->bind_dn ? cfg->bind_dn : "");
		break;
	case BIND_ANONYMOUS:
		buf_puts(b, "anonymous bind");
		break;
	case BIND_EXTERNAL:
		buf_puts(b, "SASL EXTERNAL bind");
		break;
	case BIND_GSSAPI:
		buf_puts(b, "SASL GSSAPI bind");
		if (cfg->principal != NULL)
			buf_printf(b, " as '%s'", cfg->principal);
		break;
	}
}

static int
do_bind(LDAP *ld, const struct config_ldap *cfg, const char *password)
{
	struct berval cred = { 0, NULL };

	switch (cfg->bind_method) {
	case BIND_SIMPLE:
		cred.bv_val = (char *)password;
		cred.bv_len = strlen(password);
		return ldap_sasl_bind_s(ld, cfg->bind_dn, LDAP_SASL_SIMPLE,
		    &cred, NULL, NULL, NULL);
	case BIND_ANONYMOUS:
		return ldap_sasl_bind_s(ld, "", LDAP_SASL_SIMPLE, &cred, NULL,
		    NULL, NULL);
	case BIND_EXTERNAL:
		return ldap_sasl_interactive_bind_s(ld, NULL, "EXTERNAL", NULL,
		    NULL, LDAP_SASL_QUIET, sasl_quiet, NULL);
	case BIND_GSSAPI:
		return ldap_sasl_interactive_bind_s(ld, NULL, "GSSAPI", NULL,
		    NULL, LDAP_SASL_QUIET, sasl_quiet, cfg->principal);
	}
	return LDAP_PARAM_ERROR;
}

/*
 * Try one URI.  Returns L2S_OK with *ldp set, L2S_ETEMP when the server
 * could not be reached (reason appended to tried), or a final error in err.
 */
static int
try_uri(LDAP **ldp, const struct config_ldap *cfg, const char *uri,
    const char *password, struct buf *tried, struct err *err)
{
	LDAP *ld = NULL;
	char *diag = NULL;
	const char *what = NULL;
	struct buf msg = BUF_INIT;
	int lrc, rc;

	*ldp = NULL;
	lrc = ldap_initialize(&ld, uri);
	if (lrc != LDAP_SUCCESS) {
		rc = L2S_ETEMP;
		buf_printf(tried, "%s'%s': invalid URI: %s",
		    tried->len ? "; " : "", uri, ldap_err2string(lrc));
		goto done;
	}
	if (set_options(ld, cfg, uri, &what) != 0) {
		/* A local problem, the same for every URI: stop here. */
		diag = diag_take(ld);
		if (strncmp(what, "TLS", 3) == 0 && cfg->tls_ca_file != NULL)
			buf_printf(&msg, "cannot set up TLS with CA file '%s'",
			    cfg->tls_ca_file);
		else
			buf_printf(&msg, "cannot set LDAP option %s", what);
		if (diag != NULL)
			buf_printf(&msg, ": %s", diag);
		rc = err_set(err, L2S_ELDAP, "%s", buf_str(&msg));
		goto done;
	}

	lrc = ldap_connect(ld);
	if (lrc != LDAP_SUCCESS) {
		diag = diag_take(ld);
		buf_printf(tried, "%s'%s': ", tried->len ? "; " : "", uri);
		if (is_tls_uri(uri) && diag != NULL)
			describe_tls(tried, cfg, diag);
		else
			describe(tried, lrc, diag);
		rc = L2S_ETEMP;
		goto done;
	}
	if (cfg->starttls && !is_tls_uri(uri) && !is_ldapi_uri(uri)) {
		lrc = ldap_start_tls_s(ld, NULL, NULL);
		if (lrc != LDAP_SUCCESS) {
			diag = diag_take(ld);
			buf_printf(tried, "%s'%s': StartTLS failed: ",
			    tried->len ? "; " : "", uri);
			if (lrc == LDAP_CONNECT_ERROR && diag != NULL)
				describe_tls(tried, cfg, diag);
			else
				describe(tried, lrc, diag);
			rc = L2S_ETEMP;
			goto done;
		}
	}

	if (cfg->bind_method == BIND_SIMPLE &&
	    (password == NULL || password[0] == '\0')) {
		/* An empty password would be an unauthenticated bind, which
		 * some servers accept as anonymous: refuse it here. */
		rc = err_set(err, L2S_EAUTH, "bind as '%s': the password is "
		    "empty", cfg->bind_dn ? cfg->bind_dn : "");
		goto done;
	}
	if (cfg->bind_method == BIND_GSSAPI && cfg->keytab != NULL) {
		/* A fresh ticket for every connection: a long-running
		 * service never holds an expired one. */
		rc = kerberos_login(cfg->keytab, cfg->principal, err);
		if (rc != L2S_OK)
			goto done;
	}
	/* Inside TLS, no SASL security layer: Active Directory refuses
	 * GSSAPI signing or sealing over LDAPS or StartTLS. */
	if (cfg->bind_method == BIND_GSSAPI && uses_tls(cfg, uri) &&
	    ldap_set_option(ld, LDAP_OPT_X_SASL_SECPROPS, "maxssf=0") !=
	    LDAP_OPT_SUCCESS) {
		rc = err_set(err, L2S_ELDAP, "cannot set LDAP option SASL "
		    "security properties");
		goto done;
	}
	lrc = do_bind(ld, cfg, password);
	if (lrc == LDAP_SUCCESS) {
		log_debug("ldap: bound to '%s'", uri);
		*ldp = ld;
		ld = NULL;
		rc = L2S_OK;
		goto done;
	}
	diag = diag_take(ld);
	if (is_unreachable(lrc)) {
		buf_printf(tried, "%s'%s': ", tried->len ? "; " : "", uri);
		describe(tried, lrc, diag);
		rc = L2S_ETEMP;
		goto done;
	}
	/* Negative codes are client-side (SASL, Kerberos): "failed";
	 * positive ones are the server's answer: "refused". */
	describe_identity(&msg, cfg);
	buf_printf(&msg, " to '%s' %s: ", uri, lrc < 0 ? "failed" : "refused");
	describe(&msg, lrc, diag);
	if (lrc == LDAP_STRONG_AUTH_REQUIRED &&
	    cfg->bind_method == BIND_GSSAPI && uses_tls(cfg, uri))
		/* Samba's default: GSSAPI must sign, and may not inside TLS. */
		buf_puts(&msg, ": this server does not take GSSAPI inside TLS: "
		    "use GSSAPI over ldap:// without StartTLS (it is signed "
		    "and sealed), or on a Samba DC set 'ldap server require "
		    "strong auth = allow_sasl_over_tls'");
	else if (lrc == LDAP_STRONG_AUTH_REQUIRED ||
	    lrc == LDAP_CONFIDENTIALITY_REQUIRED)
		buf_puts(&msg, ": use LDAPS, StartTLS or GSSAPI");
	else if (lrc == LDAP_AUTH_UNKNOWN && cfg->bind_method == BIND_GSSAPI)
		buf_puts(&msg, ": is the SASL GSSAPI module installed "
		    "(libsasl2-modules-gssapi-mit)?");
	else if (lrc == LDAP_LOCAL_ERROR && cfg->bind_method == BIND_GSSAPI)
		buf_puts(&msg, ": check the keytab, principal and Kerberos "
		    "configuration");
	rc = err_set(err, buf_failed(&msg) ? L2S_ENOMEM : L2S_EAUTH, "%s",
	    buf_str(&msg));
done:
	if (rc == L2S_ETEMP)
		log_debug("ldap: cannot use '%s', trying the next URI", uri);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	if (diag != NULL)
		ldap_memfree(diag);
	buf_free(&msg);
	return rc;
}

int
ldapconn_open(struct ldapconn **out, const struct config_ldap *cfg,
    const char *password, struct err *err)
{
	struct ldapconn *c = NULL;
	struct buf tried = BUF_INIT;
	LDAP *ld = NULL;
	size_t i;
	int rc = L2S_ETEMP;

	*out = NULL;
	for (i = 0; i < cfg->nuris; i++) {
		rc = try_uri(&ld, cfg, cfg->uris[i], password, &tried, err);
		if (rc != L2S_ETEMP)
			break;
	}
	if (rc == L2S_ETEMP) {
		if (buf_failed(&tried))
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		else
			rc = err_set(err, L2S_ELDAP, "cannot reach any LDAP "
			    "server: %s", cfg->nuris ? buf_str(&tried) :
			    "no URI configured");
		goto done;
	}
	if (rc != L2S_OK)
		goto done;

	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->uri = strdup(cfg->uris[i])) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	c->ld = ld;
	ld = NULL;
	c->page_size = cfg->page_size > 0 ? cfg->page_size : 500;
	c->timeout = cfg->timeout;
	*out = c;
	c = NULL;
done:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ldapconn_close(c);
	buf_free(&tried);
	return rc;
}

void
ldapconn_close(struct ldapconn *c)
{
	if (c == NULL)
		return;
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	free(c->uri);
	buf_free(&c->names);
	free(c->slots);
	free(c->attrs);
	free(c->vals);
	free(c);
}

/* Grow *arr (of elem-sized items) to hold at least need; 0 or -1. */
static int
grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **p = arr;
	size_t n = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * elem);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

/*
 * Decode msg into c's reused arrays and fill e.  The values point into msg
 * (valid until it is freed); names are copied.  LDAP_SUCCESS, or an LDAP
 * error code for a malformed entry, or LDAP_NO_MEMORY.
 */
static int
entry_build(struct ldapconn *c, LDAPMessage *msg, struct entry *e)
{
	BerElement *ber = NULL;
	struct berval dn = { 0, NULL }, name = { 0, NULL };
	struct berval *vals = NULL;
	struct attr_slot *s;
	size_t i, j, nv;
	int lrc;

	buf_reset(&c->names);
	c->nslots = 0;
	c->nvals = 0;
	lrc = ldap_get_dn_ber(c->ld, msg, &ber, &dn);
	if (lrc != LDAP_SUCCESS)
		goto done;
	buf_add(&c->names, dn.bv_val, dn.bv_len);
	buf_putc(&c->names, '\0');

	for (;;) {
		lrc = ldap_get_attribute_ber(c->ld, msg, ber, &name, &vals);
		if (lrc != LDAP_SUCCESS || name.bv_val == NULL)
			break;
		for (nv = 0; vals != NULL && vals[nv].bv_val != NULL; nv++)
			;
		if (grow(&c->slots, &c->slots_cap, c->nslots + 1,
		    sizeof(*c->slots)) != 0 ||
		    grow(&c->vals, &c->vals_cap, c->nvals + nv,
		    sizeof(*c->vals)) != 0) {
			lrc = LDAP_NO_MEMORY;
			break;
		}
		s = &c->slots[c->nslots++];
		s->name_off = c->names.len;
		s->first_val = c->nvals;
		s->nvals = nv;
		buf_add(&c->names, name.bv_val, name.bv_len);
		buf_putc(&c->names, '\0');
		for (j = 0; j < nv; j++) {
			c->vals[c->nvals].p = vals[j].bv_val;
			c->vals[c->nvals].len = vals[j].bv_len;
			c->nvals++;
		}
		ber_memfree(vals);
		vals = NULL;
	}
	if (lrc != LDAP_SUCCESS)
		goto done;
	if (buf_failed(&c->names) || grow(&c->attrs, &c->attrs_cap,
	    c->nslots, sizeof(*c->attrs)) != 0) {
		lrc = LDAP_NO_MEMORY;
		goto done;
	}
	/* The arrays stopped moving: now the pointers can be taken. */
	for (i = 0; i < c->nslots; i++) {
		c->attrs[i].name = c->names.s + c->slots[i].name_off;
		c->attrs[i].nvals = c->slots[i].nvals;
		c->attrs[i].vals = c->vals + c->slots[i].first_val;
	}
	e->dn = c->names.s;
	e->nattrs = c->nslots;
	e->attrs = c->attrs;
done:
	ber_memfree(vals);
	if (ber != NULL)
		ber_free(ber, 0);
	return lrc;
}

/*
 * What a failed search means for the caller: the server could not be
 * reached or does not hold the base (L2S_ELDAP: exit 3), or it answered
 * but the answer is not the whole result (L2S_EUNSAFE: a limit, a
 * referral, a partial result, a paging failure; exit 5).  Either way the
 * read is incomplete and nothing is changed.
 */
static int
search_outcome(int lrc)
{
	switch (lrc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_NO_SUCH_OBJECT:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_FILTER_ERROR:
		return L2S_ELDAP;
	}
	return L2S_EUNSAFE;
}

/* Fill err for a failed search: "search 'BASE' 'FILTER': what". */
static int
search_fail(struct err *err, const char *base, const char *filter, int lrc,
    const char *diag, const char *matched)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_printf(&b, "search '%s' '%s': ", base, filter);
	if (lrc == LDAP_NO_SUCH_OBJECT) {
		buf_printf(&b, "base DN '%s' does not exist (%s", base,
		    ldap_err2string(lrc));
		if (matched != NULL && matched[0] != '\0')
			buf_printf(&b, "; nearest existing entry '%s'",
			    matched);
		buf_putc(&b, ')');
	} else {
		describe(&b, lrc, diag);
	}
	rc = err_set(err, buf_failed(&b) ? L2S_ENOMEM : search_outcome(lrc),
	    "%s", buf_failed(&b) ? "out of memory" : buf_str(&b));
	buf_free(&b);
	return rc;
}

/* One search: subtree with the paged results control, or (paged 0) a
 * base-object read without it. */
static int
search_run(struct ldapconn *c, const char *base, int paged, int deleted,
    const char *filter, const char *const *attrs, ldap_entry_fn fn,
    void *arg, struct err *err)
{
	/* AD's Show Deleted control: tombstones are returned too. */
	LDAPControl show_deleted = { (char *)"1.2.840.113556.1.4.417",
	    { 0, NULL }, 1 };
	struct berval cookie = { 0, NULL };
	LDAPControl *pctrl = NULL, **sctrls = NULL, *found;
	LDAPControl *ctrls[3] = { NULL, NULL, NULL };
	LDAPMessage *msg = NULL;
	struct timeval tv = { c->timeout, 0 };
	struct entry e;
	char *diag = NULL, *matched = NULL;
	ber_int_t estimate;
	int msgid = -1, lrc, res, code, more, rc = L2S_OK;

	do {
		if (paged) {
			lrc = ldap_create_page_control(c->ld, c->page_size,
			    &cookie, 1, &pctrl);
			if (lrc != LDAP_SUCCESS) {
				rc = search_fail(err, base, filter, lrc, NULL,
				    NULL);
				goto done;
			}
		}
		ctrls[0] = pctrl;
		ctrls[pctrl != NULL ? 1 : 0] = deleted ? &show_deleted : NULL;
		lrc = ldap_search_ext(c->ld, base, paged ? LDAP_SCOPE_SUBTREE :
		    LDAP_SCOPE_BASE, filter, (char **)attrs, 0, ctrls, NULL,
		    NULL, LDAP_NO_LIMIT, &msgid);
		ldap_control_free(pctrl);
		pctrl = NULL;
		if (lrc != LDAP_SUCCESS) {
			diag = diag_take(c->ld);
			rc = search_fail(err, base, filter, lrc, diag, NULL);
			msgid = -1;
			goto done;
		}
		more = 0;
		for (;;) {
			res = ldap_result(c->ld, msgid, LDAP_MSG_ONE,
			    c->timeout > 0 ? &tv : NULL, &msg);
			if (res == 0) {
				rc = search_fail(err, base, filter,
				    LDAP_TIMEOUT, "no answer from the server",
				    NULL);
				goto done;
			}
			if (res == -1) {
				code = last_code(c->ld);
				diag = diag_take(c->ld);
				rc = search_fail(err, base, filter, code, diag,
				    NULL);
				msgid = -1;
				goto done;
			}
			if (res == LDAP_RES_SEARCH_ENTRY) {
				lrc = entry_build(c, msg, &e);
				if (lrc != LDAP_SUCCESS) {
					rc = search_fail(err, base, filter,
					    lrc, "cannot decode an entry",
					    NULL);
					goto done;
				}
				rc = fn(arg, &e, err);
				if (rc != 0)
					goto done;
			} else if (res == LDAP_RES_SEARCH_RESULT) {
				break;
			}
			/* Search references are skipped. */
			ldap_msgfree(msg);
			msg = NULL;
		}

		/* The end of one page: its result code and the next cookie. */
		lrc = ldap_parse_result(c->ld, msg, &code, &matched, &diag,
		    NULL, &sctrls, 1);
		msg = NULL;		/* freed by ldap_parse_result */
		msgid = -1;
		if (lrc != LDAP_SUCCESS) {
			rc = search_fail(err, base, filter, lrc, NULL, NULL);
			goto done;
		}
		if (code != LDAP_SUCCESS) {
			c->result = code;
			rc = search_fail(err, base, filter, code, diag,
			    matched);
			goto done;
		}
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		found = paged ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS,
		    sctrls, NULL) : NULL;
		if (found != NULL) {
			lrc = ldap_parse_pageresponse_control(c->ld, found,
			    &estimate, &cookie);
			if (lrc != LDAP_SUCCESS) {
				rc = search_fail(err, base, filter, lrc,
				    "bad paged results response", NULL);
				goto done;
			}
			more = cookie.bv_val != NULL && cookie.bv_len > 0;
		}
		/* No control in the answer: the server sent everything. */
		ldap_controls_free(sctrls);
		sctrls = NULL;
		ldap_memfree(diag);
		diag = NULL;
		ldap_memfree(matched);
		matched = NULL;
	} while (more);
done:
	if (msgid != -1)
		ldap_abandon_ext(c->ld, msgid, NULL, NULL);
	if (msg != NULL)
		ldap_msgfree(msg);
	if (pctrl != NULL)
		ldap_control_free(pctrl);
	ldap_controls_free(sctrls);
	ldap_memfree(diag);
	ldap_memfree(matched);
	ber_memfree(cookie.bv_val);
	return rc;
}

int
ldapconn_search(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err)
{
	return search_run(c, base, 1, 0, filter, attrs, fn, arg, err);
}

int
ldapconn_search_deleted(struct ldapconn *c, const char *base,
    const char *filter, const char *const *attrs, ldap_entry_fn fn, void *arg,
    struct err *err)
{
	return search_run(c, base, 1, 1, filter, attrs, fn, arg, err);
}

int
ldapconn_read(struct ldapconn *c, const char *dn, const char *const *attrs,
    ldap_entry_fn fn, void *arg, struct err *err)
{
	return search_run(c, dn, 0, 0, "(objectClass=*)", attrs, fn, arg,
	    err);
}

int
ldapconn_read_if(struct ldapconn *c, const char *dn, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err)
{
	int rc;

	c->result = LDAP_SUCCESS;
	rc = search_run(c, dn, 0, 0, filter, attrs, fn, arg, err);
	if (rc == L2S_ELDAP && c->result == LDAP_NO_SUCH_OBJECT)
		return L2S_ENOTFOUND;
	return rc;
}

int
ldapconn_rootdse(struct ldapconn *c, const char *attr, char **out,
    struct err *err)
{
	char *attrs[2] = { (char *)attr, NULL };
	struct timeval tv = { c->timeout, 0 };
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	char *diag = NULL;
	int lrc, rc = L2S_OK;

	*out = NULL;
	lrc = ldap_search_ext_s(c->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, c->timeout > 0 ? &tv : NULL, 1, &res);
	if (lrc != LDAP_SUCCESS) {
		struct buf b = BUF_INIT;

		diag = diag_take(c->ld);
		buf_printf(&b, "cannot read '%s' from the root DSE: ", attr);
		describe(&b, lrc, diag);
		rc = err_set(err, L2S_ELDAP, "%s", buf_str(&b));
		buf_free(&b);
		goto done;
	}
	e = ldap_first_entry(c->ld, res);
	if (e == NULL)
		goto done;
	vals = ldap_get_values_len(c->ld, e, attr);
	if (vals == NULL || vals[0] == NULL)
		goto done;
	*out = malloc(vals[0]->bv_len + 1);
	if (*out == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(*out, vals[0]->bv_val, vals[0]->bv_len);
	(*out)[vals[0]->bv_len] = '\0';
done:
	if (vals != NULL)
		ldap_value_free_len(vals);
	if (res != NULL)
		ldap_msgfree(res);
	ldap_memfree(diag);
	return rc;
}

int
ldap_dn_norm(const char *dn, char **out, struct err *err)
{
	LDAPDN parsed = NULL;
	char *s = NULL;
	size_t i, n;
	int lrc, rc = L2S_OK;

	*out = NULL;
	lrc = ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3);
	if (lrc != LDAP_SUCCESS) {
		rc = err_set(err, L2S_EPARSE, "invalid DN '%s'", dn);
		goto done;
	}
	lrc = ldap_dn2str(parsed, &s, LDAP_DN_FORMAT_LDAPV3);
	if (lrc != LDAP_SUCCESS) {
		rc = err_set(err, lrc == LDAP_NO_MEMORY ? L2S_ENOMEM :
		    L2S_EPARSE, "invalid DN '%s'", dn);
		goto done;
	}
	n = s != NULL ? strlen(s) : 0;
	*out = malloc(n + 1);
	if (*out == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	/* ASCII only, whatever the locale: UTF-8 bytes pass unchanged. */
	for (i = 0; i < n; i++)
		(*out)[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) :
		    s[i];
	(*out)[n] = '\0';
done:
	if (parsed != NULL)
		ldap_dnfree(parsed);
	ldap_memfree(s);
	return rc;
}

/* --- RFC 4533 content synchronisation (refreshOnly) --- */

static int
hex_decode(const char *hex, struct berval *out)
{
	size_t n = strlen(hex), i;
	unsigned char *p;

	if (n % 2 != 0 || (p = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned hi, lo;

		if (sscanf(hex + 2 * i, "%1x%1x", &hi, &lo) != 2) {
			free(p);
			return -1;
		}
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	out->bv_val = (char *)p;
	out->bv_len = n / 2;
	return 0;
}

static char *
hex_encode(const struct berval *bv)
{
	char *s = malloc(bv->bv_len * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < bv->bv_len; i++)
		snprintf(s + 2 * i, 3, "%02x", (unsigned char)bv->bv_val[i]);
	s[bv->bv_len * 2] = '\0';
	return s;
}

/* A 16-byte syncUUID as entryUUID text; -1 when it is not 16 bytes. */
static int
uuid_text(const struct berval *u, char out[37])
{
	const unsigned char *p = (const unsigned char *)u->bv_val;
	size_t i, o = 0;

	if (u->bv_len != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		snprintf(out + o, 3, "%02x", p[i]);
		o += 2;
	}
	out[o] = '\0';
	return 0;
}

/* Keep the latest cookie the server sent. */
static int
cookie_keep(struct ldap_sync_out *out, const struct berval *bv)
{
	char *h;

	if (bv->bv_val == NULL || bv->bv_len == 0)
		return 0;
	if ((h = hex_encode(bv)) == NULL)
		return -1;
	free(out->cookie);
	out->cookie = h;
	return 0;
}

struct sync_run {
	struct ldapconn *c;
	const char *base, *filter;
	ldap_sync_fn fn;
	void *arg;
	struct ldap_sync_out *out;
};

static int
sync_bad(struct sync_run *s, struct err *err, const char *what)
{
	return err_set(err, L2S_EUNSAFE, "content sync '%s' '%s': %s",
	    s->base, s->filter, what);
}

/* One SearchResultEntry: its Sync State control, then the entry. */
static int
sync_entry(struct sync_run *s, LDAPMessage *msg, struct err *err)
{
	LDAPControl **ctrls = NULL, *st;
	BerElement *ber = NULL;
	struct berval uuid = { 0, NULL }, cookie = { 0, NULL };
	struct entry e;
	ber_int_t state;
	ber_len_t len;
	char text[37];
	int rc = L2S_OK;

	/* The controls first: walking the attributes disturbs the BER. */
	if (ldap_get_entry_controls(s->c->ld, msg, &ctrls) != LDAP_SUCCESS ||
	    (st = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls,
	    NULL)) == NULL) {
		rc = sync_bad(s, err, "an entry came without its sync state");
		goto done;
	}
	ber = ber_init(&st->ldctl_value);
	if (ber == NULL || ber_scanf(ber, "{em", &state, &uuid) == LBER_ERROR ||
	    uuid_text(&uuid, text) != 0) {
		rc = sync_bad(s, err, "a malformed sync state control");
		goto done;
	}
	if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	    (ber_scanf(ber, "m", &cookie) == LBER_ERROR ||
	    cookie_keep(s->out, &cookie) != 0)) {
		rc = sync_bad(s, err, "a malformed cookie");
		goto done;
	}
	s->out->events++;
	switch (state) {
	case LDAP_SYNC_PRESENT:
		rc = s->fn(s->arg, SYNC_PRESENT, text, NULL, err);
		break;
	case LDAP_SYNC_DELETE:
		rc = s->fn(s->arg, SYNC_DELETE, text, NULL, err);
		break;
	case LDAP_SYNC_ADD:
	case LDAP_SYNC_MODIFY:
		if (entry_build(s->c, msg, &e) != LDAP_SUCCESS) {
			rc = sync_bad(s, err, "cannot decode an entry");
			break;
		}
		rc = s->fn(s->arg, SYNC_UPSERT, text, &e, err);
		break;
	default:
		rc = sync_bad(s, err, "an unknown sync state");
	}
done:
	if (ber != NULL)
		ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return rc;
}

/* A syncInfo message: a new cookie, the end of a phase, or a UUID set. */
static int
sync_info(struct sync_run *s, LDAPMessage *msg, struct err *err)
{
	char *oid = NULL, text[37];
	struct berval *data = NULL, cookie = { 0, NULL };
	BerVarray uuids = NULL;
	BerElement *ber = NULL;
	ber_tag_t tag;
	ber_len_t len;
	ber_int_t flag = 0;
	size_t i;
	int rc = L2S_OK;

	if (ldap_parse_intermediate(s->c->ld, msg, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS || oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 ||
	    data == NULL || (ber = ber_init(data)) == NULL) {
		rc = sync_bad(s, err, "an unexpected intermediate response");
		goto done;
	}
	tag = ber_peek_tag(ber, &len);
	if (tag == LDAP_TAG_SYNC_NEW_COOKIE) {
		if (ber_scanf(ber, "m", &cookie) == LBER_ERROR ||
		    cookie_keep(s->out, &cookie) != 0)
			rc = sync_bad(s, err, "a malformed new cookie");
		goto done;
	}
	if (tag != LDAP_TAG_SYNC_REFRESH_DELETE &&
	    tag != LDAP_TAG_SYNC_REFRESH_PRESENT &&
	    tag != LDAP_TAG_SYNC_ID_SET) {
		rc = sync_bad(s, err, "an unknown sync info message");
		goto done;
	}
	if (ber_scanf(ber, "{") == LBER_ERROR)
		goto bad;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	    (ber_scanf(ber, "m", &cookie) == LBER_ERROR ||
	    cookie_keep(s->out, &cookie) != 0))
		goto bad;
	/* refreshDone (phases) and refreshDeletes (UUID sets) share tag 1. */
	if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE &&
	    ber_scanf(ber, "b", &flag) == LBER_ERROR)
		goto bad;
	if (tag == LDAP_TAG_SYNC_REFRESH_PRESENT) {
		s->out->present_phase = 1;
		goto done;
	}
	if (tag == LDAP_TAG_SYNC_REFRESH_DELETE)
		goto done;
	if (ber_scanf(ber, "[W]", &uuids) == LBER_ERROR)
		goto bad;
	if (!flag)
		s->out->present_phase = 1;
	for (i = 0; uuids != NULL && uuids[i].bv_val != NULL && rc == L2S_OK;
	    i++) {
		if (uuid_text(&uuids[i], text) != 0)
			goto bad;
		s->out->events++;
		rc = s->fn(s->arg, flag ? SYNC_DELETE : SYNC_PRESENT, text, NULL,
		    err);
	}
	goto done;
bad:
	rc = sync_bad(s, err, "a malformed sync info message");
done:
	ber_bvarray_free(uuids);
	if (ber != NULL)
		ber_free(ber, 1);
	ber_bvfree(data);
	ldap_memfree(oid);
	return rc;
}

/* The SearchResultDone: refresh required, or the Sync Done control. */
static int
sync_done(struct sync_run *s, LDAPMessage *msg, struct err *err)
{
	LDAPControl **sctrls = NULL, *done;
	BerElement *ber = NULL;
	struct berval cookie = { 0, NULL };
	char *diag = NULL, *matched = NULL;
	ber_int_t deletes = 0;
	ber_len_t len;
	int code, lrc, rc = L2S_OK;

	lrc = ldap_parse_result(s->c->ld, msg, &code, &matched, &diag, NULL,
	    &sctrls, 0);
	if (lrc != LDAP_SUCCESS) {
		rc = search_fail(err, s->base, s->filter, lrc, NULL, NULL);
		goto out;
	}
	if (code == LDAP_SYNC_REFRESH_REQUIRED) {
		s->out->refresh_required = 1;
		goto out;
	}
	if (code != LDAP_SUCCESS) {
		rc = search_fail(err, s->base, s->filter, code, diag, matched);
		goto out;
	}
	done = ldap_control_find(LDAP_CONTROL_SYNC_DONE, sctrls, NULL);
	if (done == NULL) {
		rc = sync_bad(s, err, "the server ended without a sync done "
		    "control (is the syncprov overlay on this database?)");
		goto out;
	}
	ber = ber_init(&done->ldctl_value);
	if (ber == NULL || ber_scanf(ber, "{") == LBER_ERROR ||
	    (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	    (ber_scanf(ber, "m", &cookie) == LBER_ERROR ||
	    cookie_keep(s->out, &cookie) != 0)) ||
	    (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES &&
	    ber_scanf(ber, "b", &deletes) == LBER_ERROR)) {
		rc = sync_bad(s, err, "a malformed sync done control");
		goto out;
	}
	if (!deletes)
		s->out->present_phase = 1;
out:
	if (ber != NULL)
		ber_free(ber, 1);
	ldap_controls_free(sctrls);
	ldap_memfree(diag);
	ldap_memfree(matched);
	return rc;
}

int
ldapconn_sync(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err)
{
	struct sync_run s = { c, base, filter, fn, arg, out };
	struct berval cv = { 0, NULL }, value = { 0, NULL };
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	LDAPMessage *msg = NULL;
	BerElement *ber = NULL;
	struct timeval tv = { c->timeout, 0 };
	char *diag = NULL;
	int msgid = -1, lrc, res, rc = L2S_OK;

	memset(out, 0, sizeof(*out));
	if (cookie != NULL && hex_decode(cookie, &cv) != 0)
		return err_set(err, L2S_EPARSE, "the stored sync cookie is not "
		    "hex text");
	ber = ber_alloc_t(LBER_USE_DER);
	if (ber == NULL ||
	    ber_printf(ber, "{e", (ber_int_t)LDAP_SYNC_REFRESH_ONLY) < 0 ||
	    (cv.bv_val != NULL && ber_printf(ber, "O", &cv) < 0) ||
	    ber_printf(ber, "N}") < 0 || ber_flatten2(ber, &value, 0) < 0 ||
	    ldap_control_create(LDAP_CONTROL_SYNC, 1, &value, 1, &ctrl) !=
	    LDAP_SUCCESS) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	ctrls[0] = ctrl;
	lrc = ldap_search_ext(c->ld, base, LDAP_SCOPE_SUBTREE, filter,
	    (char **)attrs, 0, ctrls, NULL, NULL, LDAP_NO_LIMIT, &msgid);
	if (lrc != LDAP_SUCCESS) {
		diag = diag_take(c->ld);
		rc = search_fail(err, base, filter, lrc, diag, NULL);
		msgid = -1;
		goto done;
	}
	for (;;) {
		res = ldap_result(c->ld, msgid, LDAP_MSG_ONE,
		    c->timeout > 0 ? &tv : NULL, &msg);
		if (res == 0) {
			rc = search_fail(err, base, filter, LDAP_TIMEOUT,
			    "no answer from the server", NULL);
			goto done;
		}
		if (res == -1) {
			int code = last_code(c->ld);

			diag = diag_take(c->ld);
			rc = search_fail(err, base, filter, code, diag, NULL);
			msgid = -1;
			goto done;
		}
		if (res == LDAP_RES_SEARCH_ENTRY)
			rc = sync_entry(&s, msg, err);
		else if (res == LDAP_RES_INTERMEDIATE)
			rc = sync_info(&s, msg, err);
		else if (res == LDAP_RES_SEARCH_RESULT) {
			msgid = -1;
			rc = sync_done(&s, msg, err);
			goto done;
		}
		ldap_msgfree(msg);
		msg = NULL;
		if (rc != L2S_OK)
			goto done;
	}
done:
	if (msgid != -1)
		ldap_abandon_ext(c->ld, msgid, NULL, NULL);
	if (msg != NULL)
		ldap_msgfree(msg);
	if (rc != L2S_OK) {
		free(out->cookie);
		out->cookie = NULL;
	}
	ldap_control_free(ctrl);
	if (ber != NULL)
		ber_free(ber, 1);
	free(cv.bv_val);
	ldap_memfree(diag);
	return rc;
}
