/*
 * kerberos.c - a ticket from a keytab, for the SASL GSSAPI bind (MIT krb5)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krb5.h>

#include "buf.h"
#include "kerberos.h"

#define L2S_CCACHE "MEMORY:ldap2scim"

/* err from a krb5 error code: "PREFIX: the library's message". */
static int
krb_fail(struct err *err, int rc, krb5_context ctx, krb5_error_code code,
    const char *prefix)
{
	const char *m = ctx != NULL ? krb5_get_error_message(ctx, code) : NULL;

	err_set(err, rc, "%s: %s", prefix, m != NULL ? m : "Kerberos error");
	if (m != NULL)
		krb5_free_error_message(ctx, m);
	return rc;
}

/* What a failed AS exchange means for the exit code. */
static int
login_outcome(krb5_error_code code)
{
	switch (code) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
	case KRB5KRB_AP_ERR_SKEW:
		return L2S_ELDAP;
	}
	return L2S_EAUTH;
}

/* The first principal in kt, for *out (krb5_free_principal()). */
static krb5_error_code
first_principal(krb5_context ctx, krb5_keytab kt, krb5_principal *out)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code code;

	code = krb5_kt_start_seq_get(ctx, kt, &cur);
	if (code != 0)
		return code;
	code = krb5_kt_next_entry(ctx, kt, &ent, &cur);
	if (code == 0) {
		code = krb5_copy_principal(ctx, ent.principal, out);
		krb5_free_keytab_entry_contents(ctx, &ent);
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
	return code;
}

int
kerberos_login(const char *keytab, const char *principal, struct err *err)
{
	krb5_context ctx = NULL;
	krb5_keytab kt = NULL;
	krb5_principal who = NULL;
	krb5_ccache cc = NULL;
	krb5_creds creds;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_error_code code;
	const char *path = NULL;
	char *name = NULL, what[512];
	int have_creds = 0, rc = L2S_OK;

	memset(&creds, 0, sizeof(creds));
	/* libkrb5 reports an unreadable file no better than "not found".
	 * A path, or FILE:path; other keytab types are left to libkrb5. */
	if (strncmp(keytab, "FILE:", 5) == 0)
		path = keytab + 5;
	else if (strchr(keytab, ':') == NULL || keytab[0] == '/')
		path = keytab;
	if (path != NULL && access(path, R_OK) != 0)
		return err_set(err, L2S_EIO, "cannot read keytab '%s': %s",
		    keytab, strerror(errno));
	code = krb5_init_context(&ctx);
	if (code != 0)
		return err_set(err, L2S_ELDAP, "cannot set up Kerberos (is "
		    "krb5.conf readable?): error %ld", (long)code);
	code = krb5_kt_resolve(ctx, keytab, &kt);
	if (code != 0) {
		snprintf(what, sizeof(what), "keytab '%s'", keytab);
		rc = krb_fail(err, L2S_EIO, ctx, code, what);
		goto done;
	}
	if (principal != NULL) {
		code = krb5_parse_name(ctx, principal, &who);
		snprintf(what, sizeof(what), "principal '%s'", principal);
	} else {
		code = first_principal(ctx, kt, &who);
		snprintf(what, sizeof(what), "cannot read a principal from "
		    "keytab '%s'", keytab);
	}
	if (code != 0) {
		rc = krb_fail(err, principal != NULL ? L2S_EAUTH : L2S_EIO, ctx,
		    code, what);
		goto done;
	}
	(void)krb5_unparse_name(ctx, who, &name);
	code = krb5_get_init_creds_opt_alloc(ctx, &opt);
	if (code != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	code = krb5_get_init_creds_keytab(ctx, &creds, who, kt, 0, NULL, opt);
	if (code != 0) {
		snprintf(what, sizeof(what), "Kerberos login as '%s' with "
		    "keytab '%s' failed", name != NULL ? name : "?", keytab);
		rc = krb_fail(err, login_outcome(code), ctx, code, what);
		goto done;
	}
	have_creds = 1;
	/* A MEMORY cache lives as long as the process, not the handle. */
	code = krb5_cc_resolve(ctx, L2S_CCACHE, &cc);
	if (code == 0)
		code = krb5_cc_initialize(ctx, cc, who);
	if (code == 0)
		code = krb5_cc_store_cred(ctx, cc, &creds);
	if (code != 0) {
		rc = krb_fail(err, L2S_ELDAP, ctx, code, "cannot keep the "
		    "Kerberos ticket in memory");
		goto done;
	}
	if (setenv("KRB5CCNAME", L2S_CCACHE, 1) != 0)
		rc = err_set(err, L2S_ENOMEM, "cannot set KRB5CCNAME");
done:
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (opt != NULL)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	if (name != NULL)
		krb5_free_unparsed_name(ctx, name);
	if (who != NULL)
		krb5_free_principal(ctx, who);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return rc;
}
