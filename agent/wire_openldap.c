/*
 * wire_openldap.c - the LDAP wire (wire.h) over OpenLDAP's libldap
 *
 * Per-handle options (protocol 3, no referral chasing, network and
 * operation timeouts, a TLS context of its own built from the configured
 * CA file and verification mode, a bound on incoming messages); the
 * connection forced with ldap_connect() (which also runs the LDAPS
 * handshake), StartTLS when asked, then a read-ahead buffer under it;
 * simple, anonymous, SASL EXTERNAL and
 * SASL GSSAPI binds (a fresh Kerberos ticket from the keytab first).
 * Entries: libldap reads the DN (ldap_get_dn_ber), each attribute is read
 * here (attr_decode()), values left in place in the message.  RFC 4533
 * content synchronisation lives here too: its controls are BER that
 * liblber reads and writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <lber.h>
#include <ldap.h>		/* the system one: agent/ is -iquote only */

#include "buf.h"
#include "dn.h"
#include "err.h"
#include "kerberos.h"
#include "ldap.h"
#include "log.h"
#include "wire.h"

/* The largest LDAP message accepted from a server (one page of entries, or
 * one entry with a huge attribute): a bound on what the network can make us
 * allocate.  Samba returns 20,000-member groups whole (~1.5 MB). */
#define LDAP_MAX_INCOMING (256UL * 1024 * 1024)

/* wire.h's client codes are libldap's own: no translation needed. */
_Static_assert(WIRE_SERVER_DOWN == LDAP_SERVER_DOWN &&
    WIRE_LOCAL_ERROR == LDAP_LOCAL_ERROR &&
    WIRE_DECODING_ERROR == LDAP_DECODING_ERROR &&
    WIRE_TIMEOUT == LDAP_TIMEOUT && WIRE_AUTH_UNKNOWN == LDAP_AUTH_UNKNOWN &&
    WIRE_FILTER_ERROR == LDAP_FILTER_ERROR &&
    WIRE_PARAM_ERROR == LDAP_PARAM_ERROR &&
    WIRE_NO_MEMORY == LDAP_NO_MEMORY &&
    WIRE_CONNECT_ERROR == LDAP_CONNECT_ERROR &&
    WIRE_NOT_SUPPORTED == LDAP_NOT_SUPPORTED &&
    WIRE_STRONG_AUTH_REQUIRED == LDAP_STRONG_AUTH_REQUIRED &&
    WIRE_CONFIDENTIALITY_REQUIRED == LDAP_CONFIDENTIALITY_REQUIRED &&
    WIRE_NO_SUCH_OBJECT == LDAP_NO_SUCH_OBJECT &&
    WIRE_INVALID_CREDENTIALS == LDAP_INVALID_CREDENTIALS &&
    WIRE_INSUFFICIENT_ACCESS == LDAP_INSUFFICIENT_ACCESS &&
    WIRE_BUSY == LDAP_BUSY && WIRE_UNAVAILABLE == LDAP_UNAVAILABLE,
    "wire.h's codes are libldap's");

struct wire {
	LDAP *ld;
};

struct wire_msg {
	LDAPMessage *m;
};

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

/* The result code libldap recorded on ld (after ldap_result() == -1). */
static int
last_code(LDAP *ld)
{
	int rc = LDAP_OTHER;

	if (ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS)
		rc = LDAP_OTHER;
	return rc;
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

	if (!wire_uses_tls(cfg, uri))
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
 * Left alone, liblber reads each message with two read() calls (its tag
 * and length, then the rest) after a poll(): three system calls for every
 * entry, 300,000 for a directory of 100,000 users.  A read-ahead layer
 * just above the socket (under TLS and SASL, which sit higher) reads what
 * the socket holds, up to 64 KiB at a time, hands it out as liblber asks,
 * and tells libldap that data is waiting while it holds some, which
 * spares the poll().
 *
 * It reads the socket only when it holds nothing, and never waits there:
 * the socket is blocking (libldap's), so the read asks not to
 * (MSG_DONTWAIT).  When nothing is there, it says EWOULDBLOCK, which
 * liblber and libldap take for "not complete yet" and go back to poll(),
 * with ldap.timeout and WIRE_POLL as they are.  That happens when a
 * message arrives in pieces and liblber, having taken the first piece,
 * asks for the rest at once: a blocking read then waited for the server,
 * forever if it had stopped half way through the message.  (liblber's
 * own read-ahead layer, meant for UDP, tops its buffer up with such a
 * blocking read whenever it cannot give all that is asked.)
 */
#define READ_AHEAD (64 * 1024)

struct ahead {
	ber_socket_t fd;		/* the connection's socket */
	size_t start, end;		/* unread bytes: buf[start, end) */
	char buf[READ_AHEAD];
};

/* Up to len bytes from the socket, without waiting (see above). */
static ber_slen_t
ahead_recv(const struct ahead *a, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(a->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return (ber_slen_t)n;	/* EAGAIN and EWOULDBLOCK left in errno */
}

static int
ahead_setup(Sockbuf_IO_Desc *d, void *arg)
{
	d->sbiod_pvt = arg;		/* allocated by read_ahead(): no
					 * failure after the layer is in */
	return 0;
}

static int
ahead_remove(Sockbuf_IO_Desc *d)
{
	free(d->sbiod_pvt);
	d->sbiod_pvt = NULL;
	return 0;
}

static int
ahead_ctrl(Sockbuf_IO_Desc *d, int opt, void *arg)
{
	const struct ahead *a = d->sbiod_pvt;

	if (opt == LBER_SB_OPT_DATA_READY && a->start < a->end)
		return 1;
	return LBER_SBIOD_CTRL_NEXT(d, opt, arg);
}

static ber_slen_t
ahead_read(Sockbuf_IO_Desc *d, void *buf, ber_len_t len)
{
	struct ahead *a = d->sbiod_pvt;
	ber_slen_t n;

	if (a->start == a->end) {
		if (len >= sizeof(a->buf))	/* big enough to read direct */
			return ahead_recv(a, buf, len);
		n = ahead_recv(a, a->buf, sizeof(a->buf));
		if (n <= 0)
			return n;
		a->start = 0;
		a->end = (size_t)n;
	}
	n = (ber_slen_t)(a->end - a->start < len ? a->end - a->start : len);
	memcpy(buf, a->buf + a->start, (size_t)n);
	a->start += (size_t)n;
	return n;
}

static ber_slen_t
ahead_write(Sockbuf_IO_Desc *d, void *buf, ber_len_t len)
{
	return LBER_SBIOD_WRITE_NEXT(d, buf, len);
}

static Sockbuf_IO ahead_io = {
	ahead_setup, ahead_remove, ahead_ctrl, ahead_read, ahead_write, NULL
};

/* Put the read-ahead layer on ld's connection.  Without it (out of
 * memory), reads are only slower. */
static void
read_ahead(LDAP *ld)
{
	Sockbuf *sb = NULL;
	struct ahead *a;

	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS ||
	    sb == NULL)
		return;
	a = malloc(sizeof(*a));
	if (a == NULL) {
		log_debug("ldap: no read-ahead buffer on this connection");
		return;
	}
	a->start = a->end = 0;
	if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &a->fd) != 1 ||
	    a->fd < 0 ||
	    ber_sockbuf_add_io(sb, &ahead_io, LBER_SBIOD_LEVEL_PROVIDER,
	    a) != 0) {
		free(a);
		log_debug("ldap: no read-ahead buffer on this connection");
	}
}

int
wire_connect(struct wire **out, const struct config_ldap *cfg,
    const char *uri, struct buf *tried, struct err *err)
{
	LDAP *ld = NULL;
	char *diag = NULL;
	const char *what = NULL;
	struct buf msg = BUF_INIT;
	int lrc, rc = L2S_OK;

	*out = NULL;
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
		if (wire_uri_ldaps(uri) && diag != NULL)
			describe_tls(tried, cfg, diag);
		else
			wire_describe(tried, lrc, diag);
		rc = L2S_ETEMP;
		goto done;
	}
	if (cfg->starttls && !wire_uri_ldaps(uri) && !wire_uri_ldapi(uri)) {
		lrc = ldap_start_tls_s(ld, NULL, NULL);
		if (lrc != LDAP_SUCCESS) {
			diag = diag_take(ld);
			buf_printf(tried, "%s'%s': StartTLS failed: ",
			    tried->len ? "; " : "", uri);
			if (lrc == LDAP_CONNECT_ERROR && diag != NULL)
				describe_tls(tried, cfg, diag);
			else
				wire_describe(tried, lrc, diag);
			rc = L2S_ETEMP;
			goto done;
		}
	}
	read_ahead(ld);
	*out = malloc(sizeof(**out));
	if (*out == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	(*out)->ld = ld;
	ld = NULL;
done:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	if (diag != NULL)
		ldap_memfree(diag);
	buf_free(&msg);
	return rc;
}

int
wire_bind(struct wire *w, const struct config_ldap *cfg, const char *uri,
    const char *password, int *code, char **diag, struct err *err)
{
	int rc;

	*code = LDAP_OTHER;
	*diag = NULL;
	if (cfg->bind_method == BIND_GSSAPI && cfg->keytab != NULL) {
		/* A fresh ticket for every connection: a long-running
		 * service never holds an expired one. */
		rc = kerberos_login(cfg->keytab, cfg->principal, err);
		if (rc != L2S_OK)
			return rc;
	}
	/* Inside TLS, no SASL security layer: Active Directory refuses
	 * GSSAPI signing or sealing over LDAPS or StartTLS. */
	if (cfg->bind_method == BIND_GSSAPI && wire_uses_tls(cfg, uri) &&
	    ldap_set_option(w->ld, LDAP_OPT_X_SASL_SECPROPS, "maxssf=0") !=
	    LDAP_OPT_SUCCESS)
		return err_set(err, L2S_ELDAP, "cannot set LDAP option SASL "
		    "security properties");
	*code = do_bind(w->ld, cfg, password);
	if (*code != LDAP_SUCCESS)
		*diag = diag_take(w->ld);
	return L2S_OK;
}

void
wire_close(struct wire *w)
{
	if (w == NULL)
		return;
	if (w->ld != NULL)
		ldap_unbind_ext_s(w->ld, NULL, NULL);
	free(w);
}

const char *
wire_err2string(int code)
{
	return ldap_err2string(code);
}

void
wire_free(char *s)
{
	if (s != NULL)
		ldap_memfree(s);
}

void
wire_msgfree(struct wire_msg *m)
{
	if (m == NULL)
		return;
	ldap_msgfree(m->m);
	free(m);
}

void
wire_abandon(struct wire *w, int msgid)
{
	ldap_abandon_ext(w->ld, msgid, NULL, NULL);
}

int
wire_search(struct wire *w, const char *base, int subtree,
    const char *filter, const char *const *attrs, int page_size,
    const struct wire_cookie *cookie, int show_deleted, int *msgid,
    char **diag)
{
	/* AD's Show Deleted control: tombstones are returned too. */
	LDAPControl show = { (char *)"1.2.840.113556.1.4.417", { 0, NULL },
	    1 };
	struct berval cv = { cookie->len, cookie->p };
	LDAPControl *pctrl = NULL, *ctrls[3] = { NULL, NULL, NULL };
	int lrc;

	*diag = NULL;
	if (subtree) {
		lrc = ldap_create_page_control(w->ld, page_size, &cv, 1,
		    &pctrl);
		if (lrc != LDAP_SUCCESS)
			return lrc;
	}
	ctrls[0] = pctrl;
	ctrls[pctrl != NULL ? 1 : 0] = show_deleted ? &show : NULL;
	lrc = ldap_search_ext(w->ld, base, subtree ? LDAP_SCOPE_SUBTREE :
	    LDAP_SCOPE_BASE, filter, (char **)attrs, 0, ctrls, NULL, NULL,
	    LDAP_NO_LIMIT, msgid);
	ldap_control_free(pctrl);
	if (lrc != LDAP_SUCCESS)
		*diag = diag_take(w->ld);
	return lrc;
}

enum wire_got
wire_next(struct wire *w, int msgid, int timeout, struct wire_msg **m,
    int *code, char **diag)
{
	struct timeval tv = { timeout > 0 ? timeout : 0, 0 };
	LDAPMessage *msg = NULL;
	int res;

	*m = NULL;
	res = ldap_result(w->ld, msgid, LDAP_MSG_ONE,
	    timeout != 0 ? &tv : NULL, &msg);
	if (res == 0)
		return WIRE_GOT_NOTHING;
	if (res == -1) {
		*code = last_code(w->ld);
		*diag = diag_take(w->ld);
		return WIRE_GOT_ERROR;
	}
	*m = malloc(sizeof(**m));
	if (*m == NULL) {
		ldap_msgfree(msg);
		*code = LDAP_NO_MEMORY;
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

/*
 * One BER element of [*p, end): its tag (one byte: LDAP uses no other),
 * its contents at [*cp, *cp + *clen), and *p moved past it.  Definite
 * lengths only (RFC 4511, section 5.1), at most four length bytes, and
 * never past end.  0, or -1 when the bytes are not such an element.
 */
static int
ber_elem(const unsigned char **p, const unsigned char *end, int *tag,
    const unsigned char **cp, size_t *clen)
{
	const unsigned char *q = *p;
	size_t len, n;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;		/* a multi-byte tag: not LDAP's */
	len = *q++;
	if (len >= 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;	/* indefinite, or too long */
		for (len = 0; n > 0; n--)
			len = len << 8 | *q++;
	}
	if ((size_t)(end - q) < len)
		return -1;
	*cp = q;
	*clen = len;
	*p = q + len;
	return 0;
}

/*
 * The contents of one PartialAttribute (RFC 4511, section 4.1.7): its
 * type, an OCTET STRING, then a SET OF OCTET STRING values, and nothing
 * after.  The values are left in place in the message.  LDAP_SUCCESS,
 * LDAP_NO_MEMORY or LDAP_DECODING_ERROR.
 */
static int
attr_decode(const unsigned char *p, size_t len, struct wire_entrybuf *b)
{
	const unsigned char *end = p + len, *c, *vend;
	size_t clen;
	int tag;

	if (ber_elem(&p, end, &tag, &c, &clen) != 0 ||
	    tag != LBER_OCTETSTRING || clen == 0)
		return LDAP_DECODING_ERROR;
	if (entrybuf_attr(b, (const char *)c, clen) != 0)
		return LDAP_NO_MEMORY;
	if (ber_elem(&p, end, &tag, &c, &clen) != 0 || tag != LBER_SET ||
	    p != end)
		return LDAP_DECODING_ERROR;
	for (vend = c + clen, p = c; p < vend;) {
		if (ber_elem(&p, vend, &tag, &c, &clen) != 0 ||
		    tag != LBER_OCTETSTRING)
			return LDAP_DECODING_ERROR;
		if (entrybuf_value(b, (const char *)c, clen) != 0)
			return LDAP_NO_MEMORY;
	}
	return LDAP_SUCCESS;
}

/* The PartialAttributes one after another in the len bytes at p, to
 * their end. */
static int
attrs_decode(const unsigned char *p, size_t len, struct wire_entrybuf *b)
{
	const unsigned char *end = p + len, *c;
	size_t clen;
	int tag, lrc = LDAP_SUCCESS;

	while (lrc == LDAP_SUCCESS && p < end) {
		if (ber_elem(&p, end, &tag, &c, &clen) != 0 ||
		    tag != LBER_SEQUENCE)
			return LDAP_DECODING_ERROR;
		lrc = attr_decode(c, clen, b);
	}
	return lrc;
}

/*
 * Decode msg into b and fill e.  The values point into msg (valid until it
 * is freed); names are copied.  libldap reads the DN and enters the list
 * of attributes; the first attribute is then taken whole
 * (ber_skip_element(), no copy), and the bytes of the others follow it in
 * the message's buffer: all are read here.  ldap_get_attribute_ber() would
 * allocate an array for the values of every attribute of every entry, a
 * seventh of a full cycle's work, and skipping each attribute through
 * liblber costs a fortieth.
 */
static int
entry_build(LDAP *ld, LDAPMessage *msg, struct wire_entrybuf *b,
    struct entry *e)
{
	BerElement *ber = NULL;
	struct berval dn = { 0, NULL }, bv;
	ber_len_t left = 0;
	int lrc;

	lrc = ldap_get_dn_ber(ld, msg, &ber, &dn);
	if (lrc != LDAP_SUCCESS)
		goto done;
	entrybuf_start(b, dn.bv_val, dn.bv_len);
	if (ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &left) !=
	    LBER_OPT_SUCCESS) {
		lrc = LDAP_DECODING_ERROR;
		goto done;
	}
	if (left > 0) {
		if (ber_skip_element(ber, &bv) != LBER_SEQUENCE ||
		    ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &left) !=
		    LBER_OPT_SUCCESS) {
			lrc = LDAP_DECODING_ERROR;
			goto done;
		}
		lrc = attr_decode((const unsigned char *)bv.bv_val,
		    bv.bv_len, b);
		if (lrc == LDAP_SUCCESS)
			lrc = attrs_decode((const unsigned char *)bv.bv_val +
			    bv.bv_len, left, b);
	}
	if (lrc == LDAP_SUCCESS && entrybuf_finish(b, e) != 0)
		lrc = LDAP_NO_MEMORY;
done:
	if (ber != NULL)
		ber_free(ber, 0);
	return lrc;
}

int
wire_entry(struct wire *w, struct wire_msg *m, struct wire_entrybuf *b,
    struct entry *e)
{
	return entry_build(w->ld, m->m, b, e);
}

int
wire_done(struct wire *w, struct wire_msg *m, int paged, int *code,
    char **matched, char **diag, struct wire_cookie *next)
{
	LDAPControl **sctrls = NULL, *found;
	struct berval cookie = { 0, NULL };
	ber_int_t estimate;
	int lrc;

	*matched = NULL;
	*diag = NULL;
	next->p = NULL;
	next->len = 0;
	lrc = ldap_parse_result(w->ld, m->m, code, matched, diag, NULL,
	    &sctrls, 1);
	free(m);		/* its message freed by ldap_parse_result */
	if (lrc != LDAP_SUCCESS)
		return lrc;
	found = paged && *code == LDAP_SUCCESS ?
	    ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL) : NULL;
	if (found != NULL) {
		lrc = ldap_parse_pageresponse_control(w->ld, found, &estimate,
		    &cookie);
		if (lrc != LDAP_SUCCESS) {
			ldap_memfree(*diag);
			*diag = ber_strdup("bad paged results response");
		} else if (cookie.bv_len > 0) {
			next->p = malloc(cookie.bv_len);
			if (next->p == NULL)
				lrc = LDAP_NO_MEMORY;
			else {
				memcpy(next->p, cookie.bv_val, cookie.bv_len);
				next->len = cookie.bv_len;
			}
		}
		ber_memfree(cookie.bv_val);
	}
	ldap_controls_free(sctrls);
	return lrc;
}

int
ldap_dn_norm(const char *dn, char **out, struct err *err)
{
	LDAPDN parsed = NULL;
	char *s = NULL;
	const char *form;
	int lrc, rc = L2S_OK;

	*out = NULL;
	form = dn;	/* a plain DN: libldap would write it as it is */
	if (!dn_plain(dn)) {
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
		form = s != NULL ? s : "";
	}
	if ((*out = dn_lower(form, strlen(form))) == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
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
	struct wire *w;
	struct wire_entrybuf *b;
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
	if (ldap_get_entry_controls(s->w->ld, msg, &ctrls) != LDAP_SUCCESS ||
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
		if (entry_build(s->w->ld, msg, s->b, &e) != LDAP_SUCCESS) {
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

	if (ldap_parse_intermediate(s->w->ld, msg, &oid, &data, NULL, 0) !=
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

	lrc = ldap_parse_result(s->w->ld, msg, &code, &matched, &diag, NULL,
	    &sctrls, 0);
	if (lrc != LDAP_SUCCESS) {
		rc = wire_search_fail(err, s->base, s->filter, lrc, NULL, NULL);
		goto out;
	}
	if (code == LDAP_SYNC_REFRESH_REQUIRED) {
		s->out->refresh_required = 1;
		goto out;
	}
	if (code != LDAP_SUCCESS) {
		rc = wire_search_fail(err, s->base, s->filter, code, diag, matched);
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
wire_sync(struct wire *w, int timeout, struct wire_entrybuf *b,
    const char *base, const char *filter, const char *const *attrs,
    const char *cookie, ldap_sync_fn fn, void *arg,
    struct ldap_sync_out *out, struct err *err)
{
	struct sync_run s = { w, b, base, filter, fn, arg, out };
	struct berval cv = { 0, NULL }, value = { 0, NULL };
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	LDAPMessage *msg = NULL;
	BerElement *ber = NULL;
	struct timeval tv = { timeout, 0 };
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
	lrc = ldap_search_ext(w->ld, base, LDAP_SCOPE_SUBTREE, filter,
	    (char **)attrs, 0, ctrls, NULL, NULL, LDAP_NO_LIMIT, &msgid);
	if (lrc != LDAP_SUCCESS) {
		diag = diag_take(w->ld);
		rc = wire_search_fail(err, base, filter, lrc, diag, NULL);
		msgid = -1;
		goto done;
	}
	for (;;) {
		res = ldap_result(w->ld, msgid, LDAP_MSG_ONE,
		    timeout > 0 ? &tv : NULL, &msg);
		if (res == 0) {
			rc = wire_search_fail(err, base, filter, LDAP_TIMEOUT,
			    "no answer from the server", NULL);
			goto done;
		}
		if (res == -1) {
			int code = last_code(w->ld);

			diag = diag_take(w->ld);
			rc = wire_search_fail(err, base, filter, code, diag, NULL);
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
		ldap_abandon_ext(w->ld, msgid, NULL, NULL);
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
