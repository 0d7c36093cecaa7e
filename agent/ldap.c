/*
 * ldap.c - one connection to the directory, and paged searches over it
 *
 * What is the same whatever LDAP client library talks to the server (see
 * wire.h): ldapconn_open() walks the configured URIs in order, asking the
 * wire to connect (and run LDAPS or StartTLS) then to bind; a URI that
 * cannot be reached or whose TLS fails is skipped for the next one; a bind
 * the server refuses is final, since another replica would refuse it too.
 *
 * ldapconn_search() sends a subtree search with a critical paged results
 * control and takes one message at a time, so memory stays at one entry no
 * matter how large the directory.  Each entry is decoded into arrays
 * reused across entries (struct wire_entrybuf) and handed on.  Any result
 * other than success, a lost connection or a silent server fails the whole
 * search: a partial read must never look like a complete one.
 *
 * Logs only debug detail; errors go to the caller in struct err.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "ldap.h"
#include "log.h"
#include "platform.h"
#include "wire.h"

struct ldapconn {
	struct wire *w;
	char *uri;			/* owned: the URI that answered */
	int page_size;
	int timeout;			/* seconds; 0 waits forever */
	int result;			/* the last search's result code */
	struct wire_entrybuf eb;	/* reused across entries */
	ldap_idle_fn idle;		/* work for the waits, or NULL */
	void *idle_arg;
	int stopped;			/* a stop came during idle work */
};

void
ldapconn_set_idle(struct ldapconn *c, ldap_idle_fn fn, void *arg)
{
	c->idle = fn;
	c->idle_arg = arg;
}

/*
 * The next message of a search.  With idle work set, the wait for one is
 * spent on it: poll, and while nothing has come, do a piece of the work,
 * until it says it is all done; then wait as usual (ldap.timeout, which
 * thus starts at most the whole work late).  A stop request (SIGTERM)
 * that came during the work would have cut the wait short (the signal
 * interrupts it), so it ends the wait here: NOTHING, with c->stopped set.
 */
static const char stop_text[] = "stopped while waiting for the server "
    "(a stop was requested)";

static enum wire_got
next_msg(struct ldapconn *c, int msgid, struct wire_msg **msg, int *code,
    char **diag)
{
	enum wire_got got;

	while (c->idle != NULL) {
		got = wire_next(c->w, msgid, WIRE_POLL, msg, code, diag);
		if (got != WIRE_GOT_NOTHING)
			return got;
		if (c->idle(c->idle_arg) == 0)
			c->idle = NULL;
		if (platform_stop_requested()) {
			c->stopped = 1;
			return WIRE_GOT_NOTHING;
		}
	}
	return wire_next(c->w, msgid, c->timeout, msg, code, diag);
}

const char *
ldapconn_uri(const struct ldapconn *c)
{
	return c->uri;
}

/* --- the entry arrays --- */

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

void
entrybuf_start(struct wire_entrybuf *b, const char *dn, size_t len)
{
	buf_reset(&b->names);
	b->nslots = 0;
	b->nvals = 0;
	buf_add(&b->names, dn, len);
	buf_putc(&b->names, '\0');
}

int
entrybuf_attr(struct wire_entrybuf *b, const char *name, size_t len)
{
	struct wire_slot *s;

	if (grow(&b->slots, &b->slots_cap, b->nslots + 1,
	    sizeof(*b->slots)) != 0)
		return -1;
	s = &b->slots[b->nslots++];
	s->name_off = b->names.len;
	s->first_val = b->nvals;
	s->nvals = 0;
	buf_add(&b->names, name, len);
	buf_putc(&b->names, '\0');
	return 0;
}

int
entrybuf_value(struct wire_entrybuf *b, const char *p, size_t len)
{
	if (b->nslots == 0 ||
	    grow(&b->vals, &b->vals_cap, b->nvals + 1, sizeof(*b->vals)) != 0)
		return -1;
	b->vals[b->nvals].p = p;
	b->vals[b->nvals].len = len;
	b->nvals++;
	b->slots[b->nslots - 1].nvals++;
	return 0;
}

int
entrybuf_finish(struct wire_entrybuf *b, struct entry *e)
{
	size_t i;

	if (buf_failed(&b->names) ||
	    grow(&b->attrs, &b->attrs_cap, b->nslots, sizeof(*b->attrs)) != 0)
		return -1;
	/* The arrays stopped moving: now the pointers can be taken. */
	for (i = 0; i < b->nslots; i++) {
		b->attrs[i].name = b->names.s + b->slots[i].name_off;
		b->attrs[i].nvals = b->slots[i].nvals;
		b->attrs[i].vals = b->vals + b->slots[i].first_val;
	}
	e->dn = b->names.s;
	e->nattrs = b->nslots;
	e->attrs = b->attrs;
	return 0;
}

void
entrybuf_free(struct wire_entrybuf *b)
{
	buf_free(&b->names);
	free(b->slots);
	free(b->attrs);
	free(b->vals);
	memset(b, 0, sizeof(*b));
}

/* --- messages --- */

void
wire_describe(struct buf *b, int code, const char *diag)
{
	const char *text = wire_err2string(code);

	buf_puts(b, text);
	if (diag != NULL && diag[0] != '\0' && strcmp(diag, text) != 0) {
		buf_puts(b, " (");
		buf_puts(b, diag);
		buf_putc(b, ')');
	}
}

/* Connection-level failures: the next URI may do better. */
static int
is_unreachable(int code)
{
	switch (code) {
	case WIRE_SERVER_DOWN:
	case WIRE_CONNECT_ERROR:
	case WIRE_TIMEOUT:
	case WIRE_UNAVAILABLE:
	case WIRE_BUSY:
		return 1;
	}
	return 0;
}

int
wire_uri_ldaps(const char *uri)
{
	return strncasecmp(uri, "ldaps://", 8) == 0;
}

int
wire_uri_ldapi(const char *uri)
{
	return strncasecmp(uri, "ldapi://", 8) == 0;
}

int
wire_uses_tls(const struct config_ldap *cfg, const char *uri)
{
	return wire_uri_ldaps(uri) || (cfg->starttls && !wire_uri_ldapi(uri));
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

/*
 * Try one URI.  Returns L2S_OK with *wp set, L2S_ETEMP when the server
 * could not be reached (reason appended to tried), or a final error in err.
 */
static int
try_uri(struct wire **wp, const struct config_ldap *cfg, const char *uri,
    const char *password, struct buf *tried, struct err *err)
{
	struct wire *w = NULL;
	struct buf msg = BUF_INIT;
	char *diag = NULL;
	int code, rc;

	*wp = NULL;
	rc = wire_connect(&w, cfg, uri, tried, err);
	if (rc != L2S_OK)
		goto done;
	if (cfg->bind_method == BIND_SIMPLE &&
	    (password == NULL || password[0] == '\0')) {
		/* An empty password would be an unauthenticated bind, which
		 * some servers accept as anonymous: refuse it here. */
		rc = err_set(err, L2S_EAUTH, "bind as '%s': the password is "
		    "empty", cfg->bind_dn ? cfg->bind_dn : "");
		goto done;
	}
	rc = wire_bind(w, cfg, uri, password, &code, &diag, err);
	if (rc != L2S_OK)
		goto done;
	if (code == WIRE_SUCCESS) {
		log_debug("ldap: bound to '%s'", uri);
		*wp = w;
		w = NULL;
		goto done;
	}
	if (is_unreachable(code)) {
		buf_printf(tried, "%s'%s': ", tried->len ? "; " : "", uri);
		wire_describe(tried, code, diag);
		rc = L2S_ETEMP;
		goto done;
	}
	/* Negative codes are client-side (SASL, Kerberos): "failed";
	 * positive ones are the server's answer: "refused". */
	describe_identity(&msg, cfg);
	buf_printf(&msg, " to '%s' %s: ", uri, code < 0 ? "failed" : "refused");
	wire_describe(&msg, code, diag);
	if (code == WIRE_STRONG_AUTH_REQUIRED &&
	    cfg->bind_method == BIND_GSSAPI && wire_uses_tls(cfg, uri))
		/* Samba's default: GSSAPI must sign, and may not inside TLS. */
		buf_puts(&msg, ": this server does not take GSSAPI inside TLS: "
		    "use GSSAPI over ldap:// without StartTLS (it is signed "
		    "and sealed), or on a Samba DC set 'ldap server require "
		    "strong auth = allow_sasl_over_tls'");
	else if (code == WIRE_STRONG_AUTH_REQUIRED ||
	    code == WIRE_CONFIDENTIALITY_REQUIRED)
		buf_puts(&msg, ": use LDAPS, StartTLS or GSSAPI");
	else if (code == WIRE_AUTH_UNKNOWN && cfg->bind_method == BIND_GSSAPI)
		buf_puts(&msg, ": is the SASL GSSAPI module installed "
		    "(libsasl2-modules-gssapi-mit)?");
	else if (code == WIRE_LOCAL_ERROR && cfg->bind_method == BIND_GSSAPI)
		buf_puts(&msg, ": check the keytab, principal and Kerberos "
		    "configuration");
	rc = err_set(err, buf_failed(&msg) ? L2S_ENOMEM : L2S_EAUTH, "%s",
	    buf_str(&msg));
done:
	if (rc == L2S_ETEMP)
		log_debug("ldap: cannot use '%s', trying the next URI", uri);
	wire_close(w);
	wire_free(diag);
	buf_free(&msg);
	return rc;
}

int
ldapconn_open(struct ldapconn **out, const struct config_ldap *cfg,
    const char *password, struct err *err)
{
	struct ldapconn *c = NULL;
	struct buf tried = BUF_INIT;
	struct wire *w = NULL;
	size_t i;
	int rc = L2S_ETEMP;

	*out = NULL;
	for (i = 0; i < cfg->nuris; i++) {
		rc = try_uri(&w, cfg, cfg->uris[i], password, &tried, err);
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
	c->w = w;
	w = NULL;
	c->page_size = cfg->page_size > 0 ? cfg->page_size : 500;
	c->timeout = cfg->timeout;
	*out = c;
	c = NULL;
done:
	wire_close(w);
	ldapconn_close(c);
	buf_free(&tried);
	return rc;
}

void
ldapconn_close(struct ldapconn *c)
{
	if (c == NULL)
		return;
	wire_close(c->w);
	free(c->uri);
	entrybuf_free(&c->eb);
	free(c);
}

/* --- searches --- */

/*
 * What a failed search means for the caller: the server could not be
 * reached or does not hold the base (L2S_ELDAP: exit 3), or it answered
 * but the answer is not the whole result (L2S_EUNSAFE: a limit, a
 * referral, a partial result, a paging failure; exit 5).  Either way the
 * read is incomplete and nothing is changed.
 */
static int
search_outcome(int code)
{
	switch (code) {
	case WIRE_SERVER_DOWN:
	case WIRE_CONNECT_ERROR:
	case WIRE_TIMEOUT:
	case WIRE_UNAVAILABLE:
	case WIRE_BUSY:
	case WIRE_NO_SUCH_OBJECT:
	case WIRE_INSUFFICIENT_ACCESS:
	case WIRE_STRONG_AUTH_REQUIRED:
	case WIRE_INVALID_CREDENTIALS:
	case WIRE_FILTER_ERROR:
		return L2S_ELDAP;
	}
	return L2S_EUNSAFE;
}

/* wire_search_fail(), its message starting with label when not NULL. */
static int
search_fail(struct err *err, const char *label, const char *base,
    const char *filter, int code, const char *diag, const char *matched)
{
	struct buf b = BUF_INIT;
	int rc;

	if (label != NULL)
		buf_printf(&b, "%s: ", label);
	else
		buf_printf(&b, "search '%s' '%s': ", base, filter);
	if (code == WIRE_NO_SUCH_OBJECT) {
		buf_printf(&b, "base DN '%s' does not exist (%s", base,
		    wire_err2string(code));
		if (matched != NULL && matched[0] != '\0')
			buf_printf(&b, "; nearest existing entry '%s'",
			    matched);
		buf_putc(&b, ')');
	} else {
		wire_describe(&b, code, diag);
	}
	rc = err_set(err, buf_failed(&b) ? L2S_ENOMEM : search_outcome(code),
	    "%s", buf_failed(&b) ? "out of memory" : buf_str(&b));
	buf_free(&b);
	return rc;
}

int
wire_search_fail(struct err *err, const char *base, const char *filter,
    int code, const char *diag, const char *matched)
{
	return search_fail(err, NULL, base, filter, code, diag, matched);
}

/* One search: subtree with the paged results control, or (paged 0) a
 * base-object read without it.  A failure's message starts with label, or
 * (NULL) with "search 'BASE' 'FILTER'". */
static int
search_run(struct ldapconn *c, const char *base, int paged, int deleted,
    const char *filter, const char *const *attrs, ldap_entry_fn fn,
    void *arg, const char *label, struct err *err)
{
	struct wire_cookie cookie = { NULL, 0 };
	struct wire_msg *msg = NULL;
	struct entry e;
	char *diag = NULL, *matched = NULL;
	enum wire_got got;
	int msgid = -1, lrc, code, more, rc = L2S_OK;

	do {
		lrc = wire_search(c->w, base, paged, filter, attrs,
		    c->page_size, &cookie, deleted, &msgid, &diag);
		if (lrc != WIRE_SUCCESS) {
			rc = search_fail(err, label, base, filter, lrc, diag,
			    NULL);
			msgid = -1;
			goto done;
		}
		more = 0;
		for (;;) {
			got = next_msg(c, msgid, &msg, &code, &diag);
			if (got == WIRE_GOT_NOTHING && c->stopped) {
				if (label != NULL)
					rc = err_set(err, L2S_ELDAP, "%s: %s",
					    label, stop_text);
				else
					rc = err_set(err, L2S_ELDAP, "search "
					    "'%s' '%s': %s", base, filter,
					    stop_text);
				goto done;
			}
			if (got == WIRE_GOT_NOTHING) {
				rc = search_fail(err, label, base, filter,
				    WIRE_TIMEOUT, "no answer from the server",
				    NULL);
				goto done;
			}
			if (got == WIRE_GOT_ERROR) {
				rc = search_fail(err, label, base, filter, code,
				    diag, NULL);
				msgid = -1;
				goto done;
			}
			if (got == WIRE_GOT_DONE)
				break;
			if (got == WIRE_GOT_ENTRY) {
				lrc = wire_entry(c->w, msg, &c->eb, &e);
				if (lrc != WIRE_SUCCESS) {
					rc = search_fail(err, label,
					    base, filter, lrc, "cannot decode an "
					    "entry", NULL);
					goto done;
				}
				rc = fn(arg, &e, err);
				if (rc != 0)
					goto done;
			}
			/* Search references are skipped. */
			wire_msgfree(msg);
			msg = NULL;
		}

		/* The end of one page: its result code and the next cookie. */
		free(cookie.p);
		cookie.p = NULL;
		cookie.len = 0;
		lrc = wire_done(c->w, msg, paged, &code, &matched, &diag,
		    &cookie);
		msg = NULL;		/* freed by wire_done */
		msgid = -1;
		if (lrc != WIRE_SUCCESS) {
			rc = search_fail(err, label, base, filter, lrc, diag,
			    NULL);
			goto done;
		}
		if (code != WIRE_SUCCESS) {
			c->result = code;
			rc = search_fail(err, label, base, filter, code, diag,
			    matched);
			goto done;
		}
		/* No control in the answer: the server sent everything. */
		more = cookie.len > 0;
		wire_free(diag);
		diag = NULL;
		wire_free(matched);
		matched = NULL;
	} while (more);
done:
	if (msgid != -1)
		wire_abandon(c->w, msgid);
	wire_msgfree(msg);
	wire_free(diag);
	wire_free(matched);
	free(cookie.p);
	return rc;
}

int
ldapconn_search(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err)
{
	return search_run(c, base, 1, 0, filter, attrs, fn, arg, NULL, err);
}

int
ldapconn_search_deleted(struct ldapconn *c, const char *base,
    const char *filter, const char *const *attrs, ldap_entry_fn fn, void *arg,
    struct err *err)
{
	return search_run(c, base, 1, 1, filter, attrs, fn, arg, NULL, err);
}

int
ldapconn_read(struct ldapconn *c, const char *dn, const char *const *attrs,
    ldap_entry_fn fn, void *arg, struct err *err)
{
	return search_run(c, dn, 0, 0, "(objectClass=*)", attrs, fn, arg,
	    NULL, err);
}

int
ldapconn_read_if(struct ldapconn *c, const char *dn, const char *filter,
    const char *const *attrs, ldap_entry_fn fn, void *arg, struct err *err)
{
	int rc;

	c->result = WIRE_SUCCESS;
	rc = search_run(c, dn, 0, 0, filter, attrs, fn, arg, NULL, err);
	if (rc == L2S_ELDAP && c->result == WIRE_NO_SUCH_OBJECT)
		return L2S_ENOTFOUND;
	return rc;
}

struct rootdse {
	const char *attr;
	char *value;
};

/* The first value of the attribute asked for (an empty one included),
 * copied. */
static int
on_rootdse(void *arg, const struct entry *e, struct err *err)
{
	struct rootdse *r = arg;
	const struct value *v = NULL;
	size_t i;

	for (i = 0; i < e->nattrs && v == NULL; i++)
		if (strcasecmp(e->attrs[i].name, r->attr) == 0 &&
		    e->attrs[i].nvals > 0)
			v = &e->attrs[i].vals[0];
	if (r->value != NULL || v == NULL)
		return L2S_OK;
	r->value = malloc(v->len + 1);
	if (r->value == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	memcpy(r->value, v->p, v->len);
	r->value[v->len] = '\0';
	return L2S_OK;
}

int
ldapconn_rootdse(struct ldapconn *c, const char *attr, char **out,
    struct err *err)
{
	const char *attrs[2] = { attr, NULL };
	struct rootdse r = { attr, NULL };
	struct buf label = BUF_INIT;
	int rc;

	*out = NULL;
	buf_printf(&label, "cannot read '%s' from the root DSE", attr);
	if (buf_failed(&label))
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = search_run(c, "", 0, 0, "(objectClass=*)", attrs, on_rootdse, &r,
	    label.s, err);
	buf_free(&label);
	if (rc != L2S_OK) {
		free(r.value);
		/* whatever the answer, the directory could not be used */
		if (rc != L2S_ENOMEM) {
			rc = L2S_ELDAP;
			if (err != NULL)
				err->code = rc;
		}
		return rc;
	}
	*out = r.value;
	return L2S_OK;
}

int
ldapconn_sync(struct ldapconn *c, const char *base, const char *filter,
    const char *const *attrs, const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err)
{
	return wire_sync(c->w, c->timeout, &c->eb, base, filter, attrs, cookie,
	    fn, arg, out, err);
}
