/*
 * wire_winldap.c - the LDAP wire (wire.h) over Windows' Wldap32
 *
 * The wide (W) functions throughout: DNs, filters, names and messages are
 * UTF-8 in the agent and UTF-16 at the call.  Values are bytes and stay
 * as the server sent them (ldap_get_values_lenW), kept with their message
 * until it is freed.
 *
 * What differs from the OpenLDAP wire: certificates are checked against
 * the Windows certificate store (Schannel) -- ldap.tls_ca_file is refused
 * with a message saying so; `gssapi` binds with Negotiate as the account
 * the service runs as (no keytab, no principal); SASL EXTERNAL, ldapi://
 * and RFC 4533 content synchronisation are not available.  Wldap32 numbers
 * its own errors 0x51 (server down) to 0x61; wire.h's are OpenLDAP's
 * negative ones, so they are translated both ways.
 */
#include <windows.h>
#include <winldap.h>
#include <winber.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dn.h"
#include "err.h"
#include "ldap.h"
#include "log.h"
#include "platform_win32.h"
#include "wire.h"

struct wire {
	LDAP *ld;
	int tls;		/* ldaps:// */
};

struct wire_msg {
	LDAPMessage *m;
	struct berval ***vals;	/* the value arrays handed out, to free */
	size_t nvals, cap;
};

/* --- strings and codes --- */

/* Wldap32's code as wire.h's. */
static int
from_win(ULONG code)
{
	if (code >= 0x51 && code <= 0x61)
		return -(int)(code - 0x50);
	return (int)code;
}

static ULONG
to_win(int code)
{
	if (code < 0 && code >= -17)
		return (ULONG)(0x50 - code);
	return (ULONG)code;
}

const char *
wire_err2string(int code)
{
	/* A few buffers: one message may name two codes. */
	static char text[4][256];
	static unsigned next;
	char *t = text[next++ % 4], *s;

	s = platform_narrow(ldap_err2stringW(to_win(code)));
	snprintf(t, sizeof(text[0]), "%s", s != NULL ? s : "Unknown error");
	free(s);
	return t;
}

void
wire_free(char *s)
{
	free(s);
}

/* The error of the last operation on ld: the session's own number
 * (LDAP_OPT_ERROR_NUMBER), else the thread's (LdapGetLastError()). */
static ULONG
last_error(LDAP *ld)
{
	ULONG code = 0;

	if (ld != NULL && ldap_get_optionW(ld, LDAP_OPT_ERROR_NUMBER, &code) ==
	    LDAP_SUCCESS && code != LDAP_SUCCESS)
		return code;
	code = LdapGetLastError();
	return code != LDAP_SUCCESS ? code : LDAP_LOCAL_ERROR;
}

/* The server's text for the last operation, or NULL. */
static char *
diag_take(LDAP *ld)
{
	PWCHAR w = NULL;
	char *s;

	if (ldap_get_optionW(ld, LDAP_OPT_SERVER_ERROR, &w) != LDAP_SUCCESS ||
	    w == NULL)
		return NULL;
	s = platform_narrow(w);
	ldap_memfreeW(w);
	if (s != NULL && s[0] == '\0') {
		free(s);
		s = NULL;
	}
	return s;
}

/* --- connecting and binding --- */

/* Split "ldap[s]://host[:port][/...]" into host (wide) and port. */
static int
parse_uri(const char *uri, int *tls, wchar_t **host, ULONG *port)
{
	const char *h, *end, *colon;
	char *hs;

	if (strncasecmp(uri, "ldaps://", 8) == 0) {
		*tls = 1;
		h = uri + 8;
		*port = LDAP_SSL_PORT;
	} else if (strncasecmp(uri, "ldap://", 7) == 0) {
		*tls = 0;
		h = uri + 7;
		*port = LDAP_PORT;
	} else {
		return -1;
	}
	end = h + strcspn(h, "/");
	colon = NULL;
	if (*h == '[') {		/* [v6]:port */
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL)
			return -1;
		colon = close[1] == ':' ? close + 1 : NULL;
		hs = str_ndup(h + 1, (size_t)(close - h - 1));
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hs = str_ndup(h, (size_t)((colon != NULL ? colon : end) - h));
	}
	if (hs == NULL)
		return -1;
	if (colon != NULL) {
		char *e;
		long p = strtol(colon + 1, &e, 10);

		if (e != end || p <= 0 || p > 65535) {
			free(hs);
			return -1;
		}
		*port = (ULONG)p;
	}
	*host = hs[0] != '\0' ? platform_wide(hs) : NULL;	/* NULL: the domain */
	free(hs);
	return 0;
}

/*
 * Accept any server certificate: ldap.tls_verify false.  Wldap32 passes a
 * pointer to the certificate context, whatever the prototype says, and
 * the callback frees the context ("free the certificate context with
 * CertFreeCertificateContext(*ppServerCert)", VERIFYSERVERCERT).
 */
static BOOLEAN __cdecl
accept_any(PLDAP ld, PCCERT_CONTEXT cert)
{
	PCCERT_CONTEXT *pp = (PCCERT_CONTEXT *)(void *)cert;

	(void)ld;
	if (pp != NULL && *pp != NULL)
		CertFreeCertificateContext(*pp);
	return TRUE;
}

int
wire_connect(struct wire **out, const struct config_ldap *cfg,
    const char *uri, struct buf *tried, struct err *err)
{
	struct l_timeval tv = { cfg->timeout, 0 };
	ULONG v3 = LDAP_VERSION3, lrc, port, srv = 0;
	wchar_t *host = NULL;
	LDAP *ld = NULL;
	char *diag = NULL;
	int tls, rc = L2S_OK;

	*out = NULL;
	if (wire_uri_ldapi(uri)) {
		buf_printf(tried, "%s'%s': ldapi:// is not available on "
		    "Windows", tried->len ? "; " : "", uri);
		return L2S_ETEMP;
	}
	if (parse_uri(uri, &tls, &host, &port) != 0) {
		buf_printf(tried, "%s'%s': invalid URI", tried->len ? "; " : "",
		    uri);
		return L2S_ETEMP;
	}
	if ((tls || cfg->starttls) && cfg->tls_ca_file != NULL) {
		rc = err_set(err, L2S_ELDAP, "ldap.tls_ca_file is not used on "
		    "Windows: import the CA certificate into the Windows "
		    "certificate store (Local Computer, Trusted Root "
		    "Certification Authorities) and remove tls_ca_file");
		goto done;
	}
	ld = ldap_sslinitW(host, port, tls);
	if (ld == NULL) {
		buf_printf(tried, "%s'%s': ", tried->len ? "; " : "", uri);
		wire_describe(tried, from_win(LdapGetLastError()), NULL);
		rc = L2S_ETEMP;
		goto done;
	}
	if (ldap_set_optionW(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) !=
	    LDAP_SUCCESS ||
	    ldap_set_optionW(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_SUCCESS) {
		rc = err_set(err, L2S_ELDAP, "cannot set LDAP options");
		goto done;
	}
	if ((tls || cfg->starttls) && !cfg->tls_verify)
		(void)ldap_set_optionW(ld, LDAP_OPT_SERVER_CERTIFICATE,
		    (void *)&accept_any);
	lrc = ldap_connect(ld, cfg->timeout > 0 ? &tv : NULL);
	if (lrc != LDAP_SUCCESS) {
		diag = diag_take(ld);
		buf_printf(tried, "%s'%s': ", tried->len ? "; " : "", uri);
		if (tls)
			buf_puts(tried, "TLS handshake failed: ");
		wire_describe(tried, from_win(lrc), diag);
		if (tls && cfg->tls_verify)
			buf_puts(tried, " (is the server certificate trusted "
			    "by the Windows certificate store and issued for "
			    "this host name?)");
		rc = L2S_ETEMP;
		goto done;
	}
	if (cfg->starttls && !tls) {
		lrc = ldap_start_tls_sW(ld, &srv, NULL, NULL, NULL);
		if (lrc != LDAP_SUCCESS) {
			diag = diag_take(ld);
			buf_printf(tried, "%s'%s': StartTLS failed: ",
			    tried->len ? "; " : "", uri);
			wire_describe(tried, from_win(lrc), diag);
			rc = L2S_ETEMP;
			goto done;
		}
	}
	*out = malloc(sizeof(**out));
	if (*out == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	(*out)->ld = ld;
	(*out)->tls = tls;
	ld = NULL;
done:
	if (ld != NULL)
		ldap_unbind(ld);
	free(host);
	free(diag);
	return rc;
}

/* A simple bind within timeout seconds (0: no limit): sent, then its
 * answer awaited as any other message, so that a server that accepts the
 * connection and then stalls cannot hold the cycle forever. */
static ULONG
simple_bind(LDAP *ld, PWCHAR dn, PWCHAR pw, int timeout)
{
	struct l_timeval tv = { timeout, 0 };
	LDAPMessage *res = NULL;
	ULONG id, r;

	id = ldap_simple_bindW(ld, dn, pw);
	if (id == (ULONG)-1)
		return last_error(ld);
	r = ldap_result(ld, id, LDAP_MSG_ALL, timeout > 0 ? &tv : NULL, &res);
	if (r == 0) {
		ldap_abandon(ld, id);
		return LDAP_TIMEOUT;
	}
	if (r == (ULONG)-1)
		return last_error(ld);
	return ldap_result2error(ld, res, TRUE);
}

int
wire_bind(struct wire *w, const struct config_ldap *cfg, const char *uri,
    const char *password, int *code, char **diag, struct err *err)
{
	wchar_t *dn = NULL, *pw = NULL;
	ULONG lrc;

	(void)uri;
	*code = WIRE_LOCAL_ERROR;
	*diag = NULL;
	switch (cfg->bind_method) {
	case BIND_SIMPLE:
		dn = platform_wide(cfg->bind_dn != NULL ? cfg->bind_dn : "");
		pw = platform_wide(password != NULL ? password : "");
		if (dn == NULL || pw == NULL) {
			if (pw != NULL)
				SecureZeroMemory(pw, wcslen(pw) * sizeof(*pw));
			free(dn);
			free(pw);
			return err_set(err, L2S_EAUTH, "bind as '%s': the bind DN "
			    "or the password is not valid UTF-8",
			    cfg->bind_dn != NULL ? cfg->bind_dn : "");
		}
		lrc = simple_bind(w->ld, dn, pw, cfg->timeout);
		SecureZeroMemory(pw, wcslen(pw) * sizeof(*pw));
		free(dn);
		free(pw);
		break;
	case BIND_ANONYMOUS:
		lrc = simple_bind(w->ld, NULL, NULL, cfg->timeout);
		break;
	case BIND_GSSAPI:
		if (cfg->keytab != NULL || cfg->principal != NULL)
			return err_set(err, L2S_ELDAP, "ldap.bind: keytab and "
			    "principal are not used on Windows: the gssapi "
			    "bind is Negotiate as the account the service "
			    "runs as");
		/* Outside TLS, ask for signing and sealing, as GSSAPI does
		 * on POSIX (Active Directory refuses them inside TLS). */
		if (!cfg->starttls && !w->tls &&
		    (ldap_set_optionW(w->ld, LDAP_OPT_SIGN, LDAP_OPT_ON) !=
		    LDAP_SUCCESS ||
		    ldap_set_optionW(w->ld, LDAP_OPT_ENCRYPT, LDAP_OPT_ON) !=
		    LDAP_SUCCESS))
			return err_set(err, L2S_ELDAP, "cannot ask for LDAP "
			    "signing and sealing");
		/* Synchronous: Wldap32 has no other Negotiate bind, so only
		 * the connection's own timeouts bound it. */
		lrc = ldap_bind_sW(w->ld, NULL, NULL, LDAP_AUTH_NEGOTIATE);
		break;
	default:
		return err_set(err, L2S_ELDAP, "the SASL EXTERNAL bind is not "
		    "available on Windows");
	}
	*code = from_win(lrc);
	if (lrc != LDAP_SUCCESS)
		*diag = diag_take(w->ld);
	return L2S_OK;
}

void
wire_close(struct wire *w)
{
	if (w == NULL)
		return;
	if (w->ld != NULL)
		ldap_unbind(w->ld);
	free(w);
}

/* --- searching --- */

/* attrs as a NULL-terminated array of wide strings (each freed with it). */
static wchar_t **
wide_list(const char *const *attrs)
{
	size_t n = 0, i;
	wchar_t **w;

	while (attrs != NULL && attrs[n] != NULL)
		n++;
	w = calloc(n + 1, sizeof(*w));
	for (i = 0; w != NULL && i < n; i++)
		if ((w[i] = platform_wide(attrs[i])) == NULL) {
			while (i > 0)
				free(w[--i]);
			free(w);
			w = NULL;
		}
	return w;
}

static void
wide_list_free(wchar_t **w)
{
	size_t i;

	for (i = 0; w != NULL && w[i] != NULL; i++)
		free(w[i]);
	free(w);
}

int
wire_search(struct wire *w, const char *base, int subtree,
    const char *filter, const char *const *attrs, int page_size,
    const struct wire_cookie *cookie, int show_deleted, int *msgid,
    char **diag)
{
	LDAPControlW show = { (PWCHAR)L"1.2.840.113556.1.4.417", { 0, NULL },
	    TRUE };
	struct berval cv = { (ULONG)cookie->len, cookie->p };
	PLDAPControlW pctrl = NULL, ctrls[3] = { NULL, NULL, NULL };
	wchar_t *wbase = platform_wide(base), *wfilter = platform_wide(filter), **wattrs;
	ULONG lrc, id = 0;

	*diag = NULL;
	wattrs = wide_list(attrs);
	if (wbase == NULL || wfilter == NULL || wattrs == NULL) {
		lrc = LDAP_NO_MEMORY;
		goto done;
	}
	if (subtree) {
		lrc = ldap_create_page_controlW(w->ld, (ULONG)page_size, &cv,
		    TRUE, &pctrl);
		if (lrc != LDAP_SUCCESS)
			goto done;
	}
	ctrls[0] = pctrl;
	ctrls[pctrl != NULL ? 1 : 0] = show_deleted ? &show : NULL;
	lrc = ldap_search_extW(w->ld, wbase, subtree ? LDAP_SCOPE_SUBTREE :
	    LDAP_SCOPE_BASE, wfilter, wattrs[0] != NULL ? wattrs : NULL, 0,
	    ctrls, NULL, 0, 0, &id);
	if (lrc != LDAP_SUCCESS)
		*diag = diag_take(w->ld);
	*msgid = (int)id;
done:
	if (pctrl != NULL)
		ldap_control_freeW(pctrl);
	free(wbase);
	free(wfilter);
	wide_list_free(wattrs);
	return from_win(lrc);
}

enum wire_got
wire_next(struct wire *w, int msgid, int timeout, struct wire_msg **m,
    int *code, char **diag)
{
	struct l_timeval tv = { timeout > 0 ? timeout : 0, 0 };
	LDAPMessage *msg = NULL;
	ULONG res;

	*m = NULL;
	res = ldap_result(w->ld, (ULONG)msgid, LDAP_MSG_ONE,
	    timeout != 0 ? &tv : NULL, &msg);
	if (res == 0)
		return WIRE_GOT_NOTHING;
	if (res == (ULONG)-1) {
		*code = from_win(last_error(w->ld));
		*diag = diag_take(w->ld);
		return WIRE_GOT_ERROR;
	}
	*m = calloc(1, sizeof(**m));
	if (*m == NULL) {
		ldap_msgfree(msg);
		*code = WIRE_NO_MEMORY;
		*diag = NULL;
		return WIRE_GOT_ERROR;
	}
	(*m)->m = msg;
	if (res == LDAP_RES_SEARCH_ENTRY)
		return WIRE_GOT_ENTRY;
	if (res == LDAP_RES_SEARCH_RESULT)
		return WIRE_GOT_DONE;
	return WIRE_GOT_OTHER;
}

/* The value array v is the message's from here on, freed with it (or now,
 * out of memory: -1). */
static int
keep_vals(struct wire_msg *m, struct berval **v)
{
	if (m->nvals == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct berval ***nv = realloc(m->vals, cap * sizeof(*nv));

		if (nv == NULL) {
			ldap_value_free_len(v);
			return -1;
		}
		m->vals = nv;
		m->cap = cap;
	}
	m->vals[m->nvals++] = v;
	return 0;
}

/* One attribute (its name wname, freed here) into b: WIRE_SUCCESS,
 * WIRE_DECODING_ERROR or WIRE_NO_MEMORY. */
static int
add_attribute(struct wire *w, struct wire_msg *m, struct wire_entrybuf *b,
    PWCHAR wname)
{
	struct berval **v = ldap_get_values_lenW(w->ld, m->m, wname);
	char *name = platform_narrow(wname);
	size_t j;
	int rc = WIRE_SUCCESS;

	ldap_memfreeW(wname);
	if (v == NULL && LdapGetLastError() != LDAP_SUCCESS)
		rc = WIRE_DECODING_ERROR;	/* not "no values" */
	else if ((v != NULL && keep_vals(m, v) != 0) || name == NULL ||
	    entrybuf_attr(b, name, strlen(name)) != 0)
		rc = WIRE_NO_MEMORY;
	for (j = 0; rc == WIRE_SUCCESS && v != NULL && v[j] != NULL; j++)
		if (entrybuf_value(b, v[j]->bv_val, v[j]->bv_len) != 0)
			rc = WIRE_NO_MEMORY;
	free(name);
	return rc;
}

int
wire_entry(struct wire *w, struct wire_msg *m, struct wire_entrybuf *b,
    struct entry *e)
{
	BerElement *ber = NULL;
	PWCHAR wdn, wname;
	char *dn;
	int rc = WIRE_SUCCESS;

	wdn = ldap_get_dnW(w->ld, m->m);
	if (wdn == NULL)
		return WIRE_DECODING_ERROR;
	dn = platform_narrow(wdn);
	ldap_memfreeW(wdn);
	if (dn == NULL)
		return WIRE_NO_MEMORY;
	entrybuf_start(b, dn, strlen(dn));
	free(dn);
	/*
	 * NULL ends the attributes and NULL means no values -- or a failure
	 * to decode, which the session's last error tells apart: a part of an
	 * entry must never pass for the whole (a group without its members).
	 */
	for (wname = ldap_first_attributeW(w->ld, m->m, &ber); wname != NULL;
	    wname = ldap_next_attributeW(w->ld, m->m, ber))
		if ((rc = add_attribute(w, m, b, wname)) != WIRE_SUCCESS)
			break;
	if (rc == WIRE_SUCCESS && LdapGetLastError() != LDAP_SUCCESS)
		rc = WIRE_DECODING_ERROR;
	if (ber != NULL)
		ber_free(ber, 0);
	if (rc == WIRE_SUCCESS && entrybuf_finish(b, e) != 0)
		rc = WIRE_NO_MEMORY;
	return rc;
}

int
wire_done(struct wire *w, struct wire_msg *m, int paged, int *code,
    char **matched, char **diag, struct wire_cookie *next)
{
	PLDAPControlW *sctrls = NULL;
	PWCHAR wmatched = NULL, wdiag = NULL;
	struct berval *cookie = NULL;
	ULONG lrc, rcode = 0, total = 0;
	int rc = WIRE_SUCCESS;

	*matched = NULL;
	*diag = NULL;
	next->p = NULL;
	next->len = 0;
	lrc = ldap_parse_resultW(w->ld, m->m, &rcode, &wmatched, &wdiag, NULL,
	    &sctrls, FALSE);
	wire_msgfree(m);
	if (lrc != LDAP_SUCCESS)
		return from_win(lrc);
	*code = (int)rcode;
	*matched = platform_narrow(wmatched);
	*diag = platform_narrow(wdiag);
	if (*diag != NULL && (*diag)[0] == '\0') {
		free(*diag);
		*diag = NULL;
	}
	/* No control: the server sent everything.  A control that cannot be
	 * read fails the search: a partial read must not look whole. */
	if (paged && rcode == LDAP_SUCCESS && sctrls != NULL) {
		lrc = ldap_parse_page_controlW(w->ld, sctrls, &total, &cookie);
		if (lrc != LDAP_SUCCESS && lrc != LDAP_CONTROL_NOT_FOUND) {
			rc = from_win(lrc);
			*diag = str_ndup("bad paged results response", 64);
		} else if (lrc == LDAP_SUCCESS && cookie != NULL &&
		    cookie->bv_len > 0) {
			next->p = malloc(cookie->bv_len);
			if (next->p == NULL)
				rc = WIRE_NO_MEMORY;
			else {
				memcpy(next->p, cookie->bv_val, cookie->bv_len);
				next->len = cookie->bv_len;
			}
		}
	}
	if (cookie != NULL)
		ber_bvfree(cookie);
	if (sctrls != NULL)
		ldap_controls_freeW(sctrls);
	if (wmatched != NULL)
		ldap_memfreeW(wmatched);
	if (wdiag != NULL)
		ldap_memfreeW(wdiag);
	return rc;
}

void
wire_abandon(struct wire *w, int msgid)
{
	ldap_abandon(w->ld, (ULONG)msgid);
}

void
wire_msgfree(struct wire_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nvals; i++)
		ldap_value_free_len(m->vals[i]);
	free(m->vals);
	if (m->m != NULL)
		ldap_msgfree(m->m);
	free(m);
}

int
wire_sync(struct wire *w, int timeout, struct wire_entrybuf *b,
    const char *base, const char *filter, const char *const *attrs,
    const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err)
{
	(void)w;
	(void)timeout;
	(void)b;
	(void)base;
	(void)filter;
	(void)attrs;
	(void)cookie;
	(void)fn;
	(void)arg;
	memset(out, 0, sizeof(*out));
	return err_set(err, L2S_ELDAP, "content synchronisation (RFC 4533, "
	    "sync.incremental with OpenLDAP) is not available in the Windows "
	    "build: use full reads, or Active Directory's uSNChanged");
}

int
ldap_dn_norm(const char *dn, char **out, struct err *err)
{
	return dn_norm(dn, out, err);
}

