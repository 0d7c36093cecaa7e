/*
 * test_config.c - config_load(): the full example, defaults, and every error
 * with its exact FILE:LINE:COL message
 *
 * Fixtures are written from here into a temporary directory, which is also
 * the working directory, so messages start with the short name "c.yaml".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mapping.h"
#include "tap.h"

#define ENT SCIM_ENTERPRISE_URN

/* The example of DESIGN.md's config contract, line for line. */
static const char full[] =
"ldap:\n"							/*  1 */
"  uri: ldap://127.0.0.1:3890          # or a list, tried in order\n"
"  bind:\n"							/*  3 */
"    method: simple                    # simple | gssapi | external | anonymous\n"
"    dn: cn=admin,dc=example,dc=com\n"				/*  5 */
"    password_file: /etc/ldap2scim/ldap.pass   # or password_env: NAME\n"
"  starttls: false\n"						/*  7 */
"  tls_ca_file: /etc/ssl/certs/ca.pem\n"
"  base_dn: dc=example,dc=com\n"				/*  9 */
"  page_size: 500\n"
"  dialect: auto                       # auto | openldap | ad\n"	/* 11 */
"users:\n"
"  base_dn: ou=people,dc=example,dc=com\n"			/* 13 */
"  filter: (objectClass=inetOrgPerson)\n"
"  key: entryUUID                      # objectGUID on AD\n"	/* 15 */
"  disabled_filter: (pwdAccountLockedTime=*)   # AD: userAccountControl is built in\n"
"  email_domains: [example.com]        # optional\n"		/* 17 */
"  map:                                # SCIM attribute path: template\n"
"    userName: \"{uid}\"\n"					/* 19 */
"    displayName: \"{cn}\"\n"
"    name.givenName: \"{givenName}\"\n"				/* 21 */
"    name.familyName: \"{sn}\"\n"
"    emails[type eq \"work\"].value: \"{mail}\"\n"		/* 23 */
"    title: \"{title}\"\n"
"    " ENT ":employeeNumber: \"{employeeNumber}\"\n"		/* 25 */
"    " ENT ":manager: \"{manager}\"  # DN, resolved to the SCIM id\n"
"groups:\n"							/* 27 */
"  base_dn: ou=groups,dc=example,dc=com\n"
"  filter: (objectClass=groupOfNames)\n"			/* 29 */
"  key: entryUUID\n"
"  name: \"{cn}\"\n"						/* 31 */
"  member_attribute: member\n"
"  nested: flatten                     # flatten | direct\n"	/* 33 */
"scim:\n"
"  url: https://api.example.com/scim/v2\n"			/* 35 */
"  profile: generic                    # generic | atlassian | aws | github | slack\n"
"  token_file: /etc/ldap2scim/scim.token   # or token_env: NAME\n"	/* 37 */
"  token_expires: 2027-05-01           # warn ahead of expiry\n"
"  concurrency: 4\n"						/* 39 */
"  timeout: 30s\n"
"sync:\n"							/* 41 */
"  state: /var/lib/ldap2scim/state.db\n"
"  interval: 5m\n"						/* 43 */
"  removal: deactivate                 # deactivate | delete\n"
"  max_removals: 5%                    # or a count\n";		/* 45 */

/* The least a valid file must say. */
static const char minimal[] =
"ldap:\n"
"  uri: ldaps://ldap.example.com\n"
"  bind:\n"
"    dn: cn=sync,dc=example,dc=com\n"
"    password_env: LDAP_PASSWORD\n"
"  base_dn: dc=example,dc=com\n"
"users:\n"
"  filter: (objectClass=person)\n"
"  map:\n"
"    userName: \"{uid}\"\n"
"scim:\n"
"  url: https://scim.example.com/v2/\n"
"  token_env: SCIM_TOKEN\n"
"sync:\n"
"  state: /var/lib/ldap2scim/state.db\n";

static char tmpdir[] = "/tmp/l2s-test-config-XXXXXX";

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", name, strerror(errno));
		exit(1);
	}
}

/* text with the first occurrence of old replaced by new; the caller frees. */
static char *
edit(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	size_t pre, len;
	char *out;

	if (at == NULL) {
		printf("Bail out! fixture edit: '%s' not found\n", old);
		exit(1);
	}
	pre = (size_t)(at - text);
	len = strlen(text) - strlen(old) + strlen(new);
	out = malloc(len + 1);
	if (out == NULL)
		exit(1);
	memcpy(out, text, pre);
	strcpy(out + pre, new);
	strcat(out, at + strlen(old));
	return out;
}

static struct config *
load_text(const char *text, struct err *err, int *rc)
{
	struct config *cfg = NULL;

	write_file("c.yaml", text);
	*rc = config_load(&cfg, "c.yaml", err);
	return cfg;
}

/* Load text, which must fail with exactly want; returns nothing. */
static void
fails_with(const char *text, const char *want, const char *name)
{
	struct err err = ERR_INIT;
	struct config *cfg;
	int rc;

	cfg = load_text(text, &err, &rc);
	is_int(rc, L2S_EPARSE, "%s (outcome)", name);
	ok(cfg == NULL, "%s (no config)", name);
	is_str(err.msg, want, "%s", name);
	config_free(cfg);
}

/* Replace old by new in the full example; that must fail with want. */
static void
edit_fails(const char *old, const char *new, const char *want,
    const char *name)
{
	char *text = edit(full, old, new);

	fails_with(text, want, name);
	free(text);
}

static struct config *
load_ok(const char *text, const char *name)
{
	struct err err = ERR_INIT;
	struct config *cfg;
	int rc;

	cfg = load_text(text, &err, &rc);
	if (!ok(rc == L2S_OK && cfg != NULL, "%s", name))
		printf("#   error: %s\n", err.msg);
	return cfg;
}

static void
test_full_example(void)
{
	struct config *cfg = load_ok(full, "the design example loads");
	const struct mapping *m;

	if (cfg == NULL)
		return;
	is_str(cfg->path, "c.yaml", "the config remembers its path");
	is_int(cfg->ldap.nuris, 1, "ldap.uri holds one uri");
	is_str(cfg->ldap.uris[0], "ldap://127.0.0.1:3890", "ldap.uri is read");
	is_int(cfg->ldap.bind_method, BIND_SIMPLE, "bind method is simple");
	is_str(cfg->ldap.bind_dn, "cn=admin,dc=example,dc=com",
	    "bind dn is read");
	is_str(cfg->ldap.password_file, "/etc/ldap2scim/ldap.pass",
	    "password file is read");
	ok(cfg->ldap.password_env == NULL, "password env is unset");
	ok(cfg->ldap.keytab == NULL && cfg->ldap.principal == NULL,
	    "keytab and principal are unset");
	is_int(cfg->ldap.starttls, 0, "starttls false is read");
	is_str(cfg->ldap.tls_ca_file, "/etc/ssl/certs/ca.pem",
	    "ldap tls_ca_file is read");
	is_int(cfg->ldap.tls_verify, 1, "ldap tls_verify defaults to true");
	is_str(cfg->ldap.base_dn, "dc=example,dc=com", "ldap base_dn is read");
	is_int(cfg->ldap.page_size, 500, "page_size is read");
	is_int(cfg->ldap.dialect, DIALECT_AUTO, "dialect auto is read");
	is_int(cfg->ldap.timeout, 30, "ldap timeout defaults to 30 seconds");

	is_str(cfg->users.base_dn, "ou=people,dc=example,dc=com",
	    "users base_dn is read");
	is_str(cfg->users.filter, "(objectClass=inetOrgPerson)",
	    "users filter is read");
	is_str(cfg->users.key, "entryUUID", "users key is read");
	is_str(cfg->users.disabled_filter, "(pwdAccountLockedTime=*)",
	    "disabled_filter is read");
	is_int(cfg->users.nemail_domains, 1, "one email domain");
	is_str(cfg->users.email_domains[0], "example.com",
	    "email domain is read");
	m = cfg->users.map;
	ok(m != NULL, "the user map is compiled");
	is_int(mapping_count(m), 8, "the user map has eight pairs");
	is_str(mapping_path(m, 0), "userName", "map pair 1 is userName");
	is_str(mapping_path(m, 1), "displayName", "map pair 2 is displayName");
	is_str(mapping_path(m, 2), "name.givenName",
	    "map pair 3 is name.givenName");
	is_str(mapping_path(m, 3), "name.familyName",
	    "map pair 4 is name.familyName");
	is_str(mapping_path(m, 4), "emails[type eq \"work\"].value",
	    "map pair 5 is the work email");
	is_str(mapping_path(m, 5), "title", "map pair 6 is title");
	is_str(mapping_path(m, 6), ENT ":employeeNumber",
	    "map pair 7 is the enterprise employeeNumber");
	is_str(mapping_path(m, 7), SCIM_MANAGER_PATH,
	    "map pair 8 is the enterprise manager");
	is_int(mapping_kind(m, 7), MAP_MANAGER, "the manager takes a DN");
	is_str(template_attr(mapping_template(m, 2), 0), "givenName",
	    "the givenName template refers to givenName");

	is_int(cfg->groups.enabled, 1, "groups are enabled");
	is_str(cfg->groups.base_dn, "ou=groups,dc=example,dc=com",
	    "groups base_dn is read");
	is_str(cfg->groups.filter, "(objectClass=groupOfNames)",
	    "groups filter is read");
	is_str(cfg->groups.key, "entryUUID", "groups key is read");
	is_str(cfg->groups.name_text, "{cn}", "group name text is kept");
	ok(cfg->groups.name != NULL && template_nattrs(cfg->groups.name) == 1,
	    "group name template is compiled");
	is_str(cfg->groups.member_attribute, "member",
	    "member_attribute is read");
	is_int(cfg->groups.nested, NESTED_FLATTEN, "nested flatten is read");

	is_str(cfg->scim.url, "https://api.example.com/scim/v2",
	    "scim url is read");
	is_int(cfg->scim.profile, PROFILE_GENERIC, "profile generic is read");
	is_str(cfg->scim.token_file, "/etc/ldap2scim/scim.token",
	    "token file is read");
	ok(cfg->scim.token_env == NULL, "token env is unset");
	is_int(cfg->scim.token_expires, 1809129600,
	    "token_expires is 2027-05-01 00:00 UTC");
	is_int(cfg->scim.concurrency, 4, "concurrency is read");
	is_int(cfg->scim.timeout, 30, "scim timeout 30s is read");
	is_int(cfg->scim.tls_verify, 1, "scim tls_verify defaults to true");
	ok(cfg->scim.tls_ca_file == NULL, "scim tls_ca_file is unset");
	is_int(cfg->scim.allow_insecure_http, 0,
	    "insecure http is not allowed by default");
	is_int(cfg->scim.member_batch, 100, "member_batch defaults to 100");

	is_str(cfg->sync.state, "/var/lib/ldap2scim/state.db",
	    "state path is read");
	is_int(cfg->sync.interval, 300, "interval 5m is 300 seconds");
	is_int(cfg->sync.removal, REMOVAL_DEACTIVATE, "removal is deactivate");
	is_int(cfg->sync.max_removals, 5, "max_removals is 5");
	is_int(cfg->sync.max_removals_is_percent, 1,
	    "max_removals is a percentage");
	config_free(cfg);
}

static void
test_defaults(void)
{
	struct config *cfg = load_ok(minimal, "a minimal config loads");

	if (cfg == NULL)
		return;
	is_int(cfg->ldap.bind_method, BIND_SIMPLE,
	    "bind method defaults to simple");
	is_str(cfg->ldap.password_env, "LDAP_PASSWORD", "password env is read");
	is_int(cfg->ldap.starttls, 0, "starttls defaults to false");
	ok(cfg->ldap.tls_ca_file == NULL, "ldap tls_ca_file defaults to unset");
	is_int(cfg->ldap.tls_verify, 1, "ldap tls_verify defaults to true");
	is_int(cfg->ldap.page_size, 500, "page_size defaults to 500");
	is_int(cfg->ldap.dialect, DIALECT_AUTO, "dialect defaults to auto");
	is_int(cfg->ldap.timeout, 30, "ldap timeout defaults to 30");
	is_str(cfg->users.base_dn, "dc=example,dc=com",
	    "users base_dn defaults to ldap.base_dn");
	is_str(cfg->users.key, "entryUUID", "users key defaults to entryUUID");
	ok(cfg->users.disabled_filter == NULL,
	    "disabled_filter defaults to unset");
	is_int(cfg->users.nemail_domains, 0, "email_domains defaults to none");
	is_int(cfg->groups.enabled, 0, "groups are off without a section");
	is_str(cfg->groups.base_dn, "dc=example,dc=com",
	    "groups base_dn defaults to ldap.base_dn");
	is_str(cfg->groups.key, "entryUUID", "groups key defaults as users");
	is_str(cfg->groups.name_text, "{cn}", "group name defaults to {cn}");
	ok(cfg->groups.name != NULL, "default group name is compiled");
	is_str(cfg->groups.member_attribute, "member",
	    "member_attribute defaults to member");
	is_int(cfg->groups.nested, NESTED_FLATTEN, "nested defaults to flatten");
	is_str(cfg->scim.url, "https://scim.example.com/v2",
	    "one trailing slash is stripped from scim.url");
	is_int(cfg->scim.profile, PROFILE_GENERIC, "profile defaults to generic");
	is_str(cfg->scim.token_env, "SCIM_TOKEN", "token env is read");
	is_int(cfg->scim.token_expires, 0, "token_expires defaults to unset");
	is_int(cfg->scim.concurrency, 4, "concurrency defaults to 4");
	is_int(cfg->scim.timeout, 30, "scim timeout defaults to 30");
	is_int(cfg->scim.tls_verify, 1, "scim tls_verify defaults to true");
	is_int(cfg->scim.allow_insecure_http, 0,
	    "allow_insecure_http defaults to false");
	is_int(cfg->scim.member_batch, 100, "member_batch defaults to 100");
	is_int(cfg->scim.retries, 5, "retries defaults to 5");
	is_int(cfg->scim.retry_max_wait, 60, "retry_max_wait defaults to 60s");
	is_int(cfg->groups.on_conflict, CONFLICT_ADOPT,
	    "on_conflict defaults to adopt");
	is_int(cfg->sync.interval, 300, "interval defaults to 5m");
	is_int(cfg->sync.incremental, 0, "incremental defaults to false");
	is_int(cfg->sync.full_interval, 86400, "full_interval defaults to 1d");
	is_int(cfg->sync.removal, REMOVAL_DEACTIVATE,
	    "removal defaults to deactivate");
	is_int(cfg->sync.max_removals, 5, "max_removals defaults to 5");
	is_int(cfg->sync.max_removals_is_percent, 1,
	    "max_removals defaults to a percentage");
	config_free(cfg);
}

static void
test_variants(void)
{
	struct config *cfg;
	char *t1, *t2;

	t1 = edit(full, "  dialect: auto ", "  dialect: ad ");
	t2 = edit(t1, "  key: entryUUID                      # objectGUID on AD\n", "");
	free(t1);
	t1 = edit(t2, "  key: entryUUID\n", "");
	cfg = load_ok(t1, "dialect ad without keys loads");
	if (cfg != NULL) {
		is_int(cfg->ldap.dialect, DIALECT_AD, "dialect ad is read");
		is_str(cfg->users.key, "objectGUID",
		    "on AD the users key defaults to objectGUID");
		is_str(cfg->groups.key, "objectGUID",
		    "and the groups key to the users key");
		ok(!cfg->users.key_auto && !cfg->groups.key_auto,
		    "and neither waits for the dialect to be detected");
		is_int(cfg->groups.member_range, 1500,
		    "member ranges default to 1500 values");
	}
	config_free(cfg);
	free(t1);
	free(t2);
	t2 = edit(full, "  key: entryUUID                      # objectGUID on AD\n", "");
	t1 = edit(t2, "  key: entryUUID\n", "");
	cfg = load_ok(t1, "dialect auto without keys loads");
	if (cfg != NULL) {
		is_str(cfg->users.key, "entryUUID",
		    "with dialect auto the users key is entryUUID");
		ok(cfg->users.key_auto && cfg->groups.key_auto,
		    "until the server turns out to be AD");
	}
	config_free(cfg);
	free(t1);
	free(t2);
	t1 = edit(full, "  member_attribute: member\n",
	    "  member_attribute: \"member;range=0-*\"\n");
	fails_with(t1, "c.yaml:32:21: 'groups.member_attribute' must be an "
	    "attribute name of at most 64 letters, digits, '-' or '.'",
	    "a member attribute with options is refused");
	free(t1);
	t1 = edit(full, "  nested: flatten ", "  nested: in_chain ");
	t2 = edit(t1, "  dialect: auto ", "  dialect: openldap ");
	fails_with(t2, "c.yaml:33:11: 'groups.nested: in_chain' needs Active "
	    "Directory, not ldap.dialect openldap",
	    "nested in_chain with dialect openldap is refused");
	free(t2);
	t2 = edit(t1, "  member_attribute: member\n", "  member_range: 0\n");
	cfg = load_ok(t2, "nested in_chain and member_range 0 load");
	if (cfg != NULL) {
		is_int(cfg->groups.nested, NESTED_IN_CHAIN, "in_chain is read");
		is_int(cfg->groups.member_range, 0, "member_range 0 is read");
		ok(!cfg->users.key_auto, "a key set in the file is kept");
	}
	config_free(cfg);
	free(t1);
	free(t2);

	t1 = edit(full, "  uri: ldap://127.0.0.1:3890 ",
	    "  uri: [ldaps://dc1.example.com, LDAP://dc2.example.com:389, "
	    "ldapi://%2fvar%2frun%2fslapd.sock]");
	cfg = load_ok(t1, "a list of ldap uris loads");
	if (cfg != NULL) {
		is_int(cfg->ldap.nuris, 3, "three uris are read");
		is_str(cfg->ldap.uris[0], "ldaps://dc1.example.com",
		    "the first uri comes first");
		is_str(cfg->ldap.uris[2], "ldapi://%2fvar%2frun%2fslapd.sock",
		    "ldapi uris are accepted");
	}
	config_free(cfg);
	free(t1);

	t1 = edit(full, "[example.com]", "\n    - Example.COM\n    - corp.example.NET");
	cfg = load_ok(t1, "a block list of email domains loads");
	if (cfg != NULL) {
		is_int(cfg->users.nemail_domains, 2, "two domains are read");
		is_str(cfg->users.email_domains[0], "example.com",
		    "a domain is stored lower case");
		is_str(cfg->users.email_domains[1], "corp.example.net",
		    "every domain is stored lower case");
	}
	config_free(cfg);
	free(t1);

	t1 = edit(full, "max_removals: 5%", "max_removals: 25");
	t2 = edit(t1, "token_expires: 2027-05-01", "token_expires: 2028-02-29");
	free(t1);
	t1 = edit(t2, "timeout: 30s", "timeout: 1h\n  tls_verify: false\n"
	    "  tls_ca_file: /etc/ssl/scim-ca.pem\n  allow_insecure_http: true\n"
	    "  member_batch: 1000\n  concurrency: 64\n  retries: 0\n"
	    "  retry_max_wait: 2m");
	free(t2);
	t2 = edit(t1, "  concurrency: 4\n", "");
	free(t1);
	t1 = edit(t2, "interval: 5m", "interval: 2d\n  incremental: true\n"
	    "  full_interval: 6h");
	free(t2);
	t2 = edit(t1, "removal: deactivate", "removal: delete");
	free(t1);
	t1 = edit(t2, "profile: generic", "profile: github");
	free(t2);
	t2 = edit(t1, "nested: flatten", "nested: direct\n  on_conflict: fail");
	free(t1);
	t1 = edit(t2, "  starttls: false\n", "  starttls: true\n  tls_verify: false\n"
	    "  timeout: 90s\n");
	free(t2);
	t2 = edit(t1, "page_size: 500", "page_size: 100000");
	free(t1);
	cfg = load_ok(t2, "a config setting every optional key loads");
	if (cfg != NULL) {
		is_int(cfg->sync.max_removals, 25, "a plain count is read");
		is_int(cfg->sync.max_removals_is_percent, 0,
		    "a plain count is not a percentage");
		is_int(cfg->scim.token_expires, 1835395200,
		    "a leap day is a valid date");
		is_int(cfg->scim.timeout, 3600, "1h is 3600 seconds");
		is_int(cfg->scim.tls_verify, 0, "scim tls_verify false is read");
		is_str(cfg->scim.tls_ca_file, "/etc/ssl/scim-ca.pem",
		    "scim tls_ca_file is read");
		is_int(cfg->scim.allow_insecure_http, 1,
		    "allow_insecure_http true is read");
		is_int(cfg->scim.member_batch, 1000, "member_batch is read");
		is_int(cfg->scim.concurrency, 64, "concurrency 64 is accepted");
		is_int(cfg->sync.interval, 2 * 86400, "2d is two days");
		is_int(cfg->sync.incremental, 1, "incremental true is read");
		is_int(cfg->sync.full_interval, 6 * 3600, "full_interval 6h is read");
		is_int(cfg->sync.removal, REMOVAL_DELETE, "removal delete is read");
		is_int(cfg->scim.profile, PROFILE_GITHUB,
		    "profile github is read");
		is_int(cfg->groups.nested, NESTED_DIRECT, "nested direct is read");
		is_int(cfg->scim.retries, 0, "retries 0 (no retries) is read");
		is_int(cfg->scim.retry_max_wait, 120, "retry_max_wait is read");
		is_int(cfg->groups.on_conflict, CONFLICT_FAIL,
		    "on_conflict fail is read");
		is_int(cfg->ldap.starttls, 1, "starttls true is read");
		is_int(cfg->ldap.tls_verify, 0, "ldap tls_verify false is read");
		is_int(cfg->ldap.timeout, 90, "90s is 90 seconds");
		is_int(cfg->ldap.page_size, 100000, "page_size 100000 is accepted");
	}
	config_free(cfg);
	free(t2);

	t1 = edit(full, "    method: simple                    # simple | gssapi | external | anonymous\n"
	    "    dn: cn=admin,dc=example,dc=com\n"
	    "    password_file: /etc/ldap2scim/ldap.pass   # or password_env: NAME\n",
	    "    method: gssapi\n    keytab: /etc/krb5.keytab\n"
	    "    principal: host/sync.example.com\n");
	cfg = load_ok(t1, "a gssapi bind with keytab and principal loads");
	if (cfg != NULL) {
		is_int(cfg->ldap.bind_method, BIND_GSSAPI, "method gssapi is read");
		is_str(cfg->ldap.keytab, "/etc/krb5.keytab", "keytab is read");
		is_str(cfg->ldap.principal, "host/sync.example.com",
		    "principal is read");
		ok(cfg->ldap.bind_dn == NULL, "no bind dn with gssapi");
	}
	config_free(cfg);
	free(t1);

	t1 = edit(full, "    method: simple                    # simple | gssapi | external | anonymous\n"
	    "    dn: cn=admin,dc=example,dc=com\n"
	    "    password_file: /etc/ldap2scim/ldap.pass   # or password_env: NAME\n",
	    "    method: external\n");
	cfg = load_ok(t1, "an external bind loads");
	if (cfg != NULL)
		is_int(cfg->ldap.bind_method, BIND_EXTERNAL,
		    "method external is read");
	config_free(cfg);
	free(t1);

	t1 = edit(full, "groups:\n", "groups:\n  enabled: false\n");
	t2 = edit(t1, "  filter: (objectClass=groupOfNames)\n", "");
	cfg = load_ok(t2, "disabled groups need no filter");
	if (cfg != NULL)
		is_int(cfg->groups.enabled, 0, "groups enabled false is read");
	config_free(cfg);
	free(t1);
	free(t2);

	t1 = edit(full, "name: \"{cn}\"", "name: \"{{{cn}}} {description}\"");
	cfg = load_ok(t1, "a group name template with braces loads");
	if (cfg != NULL) {
		is_str(cfg->groups.name_text, "{{{cn}}} {description}",
		    "the group name is kept as written");
		is_int(template_nattrs(cfg->groups.name), 2,
		    "the group name refers to two attributes");
	}
	config_free(cfg);
	free(t1);

	t1 = edit(full, "    title: \"{title}\"\n",
	    "    title: \"{title}\"\n"
	    "    nickName: \"{displayName}\"\n"
	    "    name.middleName: \"{initials}\"\n"
	    "    phoneNumbers[type eq \"mobile\"].value: \"{mobile}\"\n"
	    "    phoneNumbers[type eq \"work\"].value: \"{telephoneNumber}\"\n"
	    "    addresses[type eq \"work\"].locality: \"{l}\"\n"
	    "    active: \"true\"\n"
	    "    preferredLanguage: \"{preferredLanguage}\"\n"
	    "    " ENT ":department: \"{departmentNumber}\"\n"
	    "    " ENT ":costCenter: \"{costCenter}\"\n");
	cfg = load_ok(t1, "a map with phone numbers, active and the enterprise "
	    "extension loads");
	if (cfg != NULL) {
		is_int(mapping_count(cfg->users.map), 17,
		    "every pair is kept");
		is_str(mapping_path(cfg->users.map, 8),
		    "phoneNumbers[type eq \"mobile\"].value",
		    "pairs stay in file order");
		is_int(mapping_kind(cfg->users.map, 11), MAP_BOOLEAN,
		    "active is a boolean");
	}
	config_free(cfg);
	free(t1);
}

static void
test_errors(void)
{
	struct err err = ERR_INIT;
	struct config *cfg = (struct config *)&err;	/* not NULL */
	char *t1;
	int rc;

	rc = config_load(&cfg, "missing.yaml", &err);
	is_int(rc, L2S_EIO, "a missing file is an i/o error");
	ok(cfg == NULL, "a missing file gives no config");
	is_str(err.msg, "cannot open config file 'missing.yaml': "
	    "No such file or directory", "a missing file is named");
	rc = config_load(&cfg, ".", &err);
	is_int(rc, L2S_EIO, "a directory is an i/o error");
	is_str(err.msg, "cannot open config file '.': Is a directory",
	    "a directory is refused");

	edit_fails("  page_size: 500\n", "  page_size: 500\n  foo: bar\n",
	    "c.yaml:11:3: unknown key 'ldap.foo'",
	    "an unknown key is named by its full path");
	edit_fails("    dn: cn=admin", "    dns: cn=admin",
	    "c.yaml:5:5: unknown key 'ldap.bind.dns'",
	    "an unknown nested key is named by its full path");
	t1 = edit(full, "sync:\n", "colour: blue\nsync:\n");
	fails_with(t1, "c.yaml:41:1: unknown key 'colour'",
	    "an unknown section is refused");
	free(t1);

	edit_fails("  page_size: 500\n", "  page_size: [500\n",
	    "c.yaml:11:10: did not find expected ',' or ']' while parsing "
	    "a flow sequence", "an unclosed flow sequence is a syntax error");
	edit_fails("  page_size: 500\n", "\tpage_size: 500\n",
	    "c.yaml:10:1: found a tab character that violates indentation "
	    "while scanning a plain scalar",
	    "a tab indentation is a syntax error");
	edit_fails("  page_size: 500\n", "  page_size: 500\n  page_size: 600\n",
	    "c.yaml:11:3: duplicate key 'ldap.page_size' (first at line 10)",
	    "a duplicate key is refused");
	edit_fails("    title: \"{title}\"\n",
	    "    title: \"{title}\"\n    title: \"{cn}\"\n",
	    "c.yaml:25:5: SCIM attribute 'title' is mapped twice",
	    "a duplicate map key is refused");
	edit_fails("  base_dn: dc=example,dc=com\n",
	    "  base_dn: &base dc=example,dc=com\n",
	    "c.yaml:9:12: anchors are not supported", "anchors are refused");
	edit_fails("  base_dn: ou=people,dc=example,dc=com\n",
	    "  base_dn: *base\n",
	    "c.yaml:13:12: aliases are not supported", "aliases are refused");
	t1 = edit(full, "max_removals: 5%", "max_removals: 5%\n---\nldap: {}");
	fails_with(t1, "c.yaml:46:1: only one YAML document is allowed",
	    "a second document is refused");
	free(t1);
	edit_fails("dc=example,dc=com\n  page_size", "dc=example,dc=c\xf6m\n  page_size",
	    "c.yaml:9:28: invalid trailing UTF-8 octet",
	    "a file that is not UTF-8 is refused with the position");
	fails_with("", "c.yaml:1:1: the configuration is empty",
	    "an empty file is refused");
	fails_with("# nothing\n", "c.yaml:1:1: the configuration is empty",
	    "a file of comments is refused");
	fails_with("- ldap\n", "c.yaml:1:1: the configuration must be a "
	    "mapping of sections (ldap, users, groups, scim, sync)",
	    "a list at the top is refused");
	edit_fails("ldap:\n  uri", "ldap: x\nfoo:\n  uri",
	    "c.yaml:1:7: 'ldap' must be a mapping",
	    "a section that is a string is refused");

	edit_fails("page_size: 500", "page_size: lots",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "a word for an integer is refused");
	edit_fails("page_size: 500", "page_size: 0",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "an integer below range is refused");
	edit_fails("page_size: 500", "page_size: 100001",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "an integer above range is refused");
	edit_fails("page_size: 500", "page_size: 0500",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "a leading zero is refused");
	edit_fails("page_size: 500", "page_size: 99999999999999999999999",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "an integer overflow is refused");
	edit_fails("page_size: 500", "page_size: [500]",
	    "c.yaml:10:14: 'ldap.page_size' must be an integer from 1 to "
	    "100000", "a list for an integer is refused");
	edit_fails("concurrency: 4", "concurrency: 65",
	    "c.yaml:39:16: 'scim.concurrency' must be an integer from 1 to 64",
	    "concurrency above 64 is refused");
	edit_fails("concurrency: 4", "member_batch: 1001",
	    "c.yaml:39:17: 'scim.member_batch' must be an integer from 1 to "
	    "1000", "member_batch above 1000 is refused");
	edit_fails("concurrency: 4", "retries: 21",
	    "c.yaml:39:12: 'scim.retries' must be an integer from 0 to 20",
	    "retries above 20 are refused");
	edit_fails("interval: 5m", "full_interval: 30s",
	    "c.yaml:43:18: 'sync.full_interval' must be a duration from 1m to 366d: "
	    "a number followed by s, m, h or d",
	    "a full_interval under a minute is refused");
	edit_fails("nested: flatten", "on_conflict: merge",
	    "c.yaml:33:16: 'groups.on_conflict' must be adopt, skip or fail",
	    "an unknown on_conflict is refused");
	edit_fails("starttls: false", "starttls: yes",
	    "c.yaml:7:13: 'ldap.starttls' must be true or false",
	    "a boolean must be true or false");
	edit_fails("starttls: false", "starttls:",
	    "c.yaml:7:12: 'ldap.starttls' must be true or false",
	    "an empty boolean is refused");
	edit_fails("  nested: flatten ", "  include: app-*\n  nested: flatten ",
	    "c.yaml:33:12: 'groups.include' must be a list of names or patterns",
	    "a group pattern that is not a list is refused");
	edit_fails("dialect: auto", "dialect: novell",
	    "c.yaml:11:12: 'ldap.dialect' must be auto, openldap or ad",
	    "an unknown dialect is refused");
	edit_fails("method: simple", "method: ntlm",
	    "c.yaml:4:13: 'ldap.bind.method' must be simple, gssapi, external "
	    "or anonymous", "an unknown bind method is refused");
	edit_fails("base_dn: dc=example,dc=com", "base_dn: \"\"",
	    "c.yaml:9:12: 'ldap.base_dn' must not be empty",
	    "an empty string is refused");
	edit_fails("base_dn: dc=example,dc=com", "base_dn: ~",
	    "c.yaml:9:12: 'ldap.base_dn' must not be empty",
	    "a null string is refused");
	edit_fails("base_dn: dc=example,dc=com", "base_dn: {dc: example}",
	    "c.yaml:9:12: 'ldap.base_dn' must be a string",
	    "a mapping for a string is refused");

	edit_fails("timeout: 30s", "timeout: 30",
	    "c.yaml:40:12: 'scim.timeout' must be a duration from 1s to 1h: "
	    "a number followed by s, m, h or d",
	    "a duration without a unit is refused");
	edit_fails("timeout: 30s", "timeout: 2h",
	    "c.yaml:40:12: 'scim.timeout' must be a duration from 1s to 1h: "
	    "a number followed by s, m, h or d",
	    "a duration above range is refused");
	edit_fails("timeout: 30s", "timeout: 0s",
	    "c.yaml:40:12: 'scim.timeout' must be a duration from 1s to 1h: "
	    "a number followed by s, m, h or d",
	    "a zero duration is refused");
	edit_fails("interval: 5m", "interval: 1h30m",
	    "c.yaml:43:13: 'sync.interval' must be a duration from 1s to 30d: "
	    "a number followed by s, m, h or d",
	    "a compound duration is refused");
	edit_fails("interval: 5m", "interval: 99999999999999999999d",
	    "c.yaml:43:13: 'sync.interval' must be a duration from 1s to 30d: "
	    "a number followed by s, m, h or d",
	    "a duration overflow is refused");
	edit_fails("interval: 5m", "interval: 5 m",
	    "c.yaml:43:13: 'sync.interval' must be a duration from 1s to 30d: "
	    "a number followed by s, m, h or d",
	    "a space inside a duration is refused");

	edit_fails("max_removals: 5%", "max_removals: 101%",
	    "c.yaml:45:17: 'sync.max_removals' must be a count or a "
	    "percentage from 0% to 100%", "a percentage above 100 is refused");
	edit_fails("max_removals: 5%", "max_removals: 5.5%",
	    "c.yaml:45:17: 'sync.max_removals' must be a count or a "
	    "percentage from 0% to 100%", "a fractional percentage is refused");
	edit_fails("max_removals: 5%", "max_removals: -1",
	    "c.yaml:45:17: 'sync.max_removals' must be a count or a "
	    "percentage from 0% to 100%", "a negative count is refused");
	edit_fails("max_removals: 5%", "max_removals: \"%\"",
	    "c.yaml:45:17: 'sync.max_removals' must be a count or a "
	    "percentage from 0% to 100%", "a lone percent sign is refused");

	edit_fails("token_expires: 2027-05-01", "token_expires: 2027-02-29",
	    "c.yaml:38:18: 'scim.token_expires' must be a date as YYYY-MM-DD",
	    "a day that does not exist is refused");
	edit_fails("token_expires: 2027-05-01", "token_expires: 2027-5-1",
	    "c.yaml:38:18: 'scim.token_expires' must be a date as YYYY-MM-DD",
	    "a date without zero padding is refused");
	edit_fails("token_expires: 2027-05-01", "token_expires: 2027-13-01",
	    "c.yaml:38:18: 'scim.token_expires' must be a date as YYYY-MM-DD",
	    "month 13 is refused");
	edit_fails("token_expires: 2027-05-01", "token_expires: 2027-05-01T00:00",
	    "c.yaml:38:18: 'scim.token_expires' must be a date as YYYY-MM-DD",
	    "a time is refused");

	edit_fails("  base_dn: dc=example,dc=com\n", "",
	    "c.yaml:1:1: missing required key 'ldap.base_dn'",
	    "a missing key is reported at its section");
	edit_fails("  url: https://api.example.com/scim/v2\n", "",
	    "c.yaml:34:1: missing required key 'scim.url'",
	    "a missing scim url is reported at its section");
	edit_fails("  filter: (objectClass=groupOfNames)\n", "",
	    "c.yaml:27:1: missing required key 'groups.filter'",
	    "an enabled groups section needs a filter");
	edit_fails("    dn: cn=admin,dc=example,dc=com\n", "",
	    "c.yaml:3:3: missing required key 'ldap.bind.dn'",
	    "a simple bind needs a dn");
	t1 = edit(full, "sync:\n  state: /var/lib/ldap2scim/state.db\n"
	    "  interval: 5m\n  removal: deactivate                 "
	    "# deactivate | delete\n  max_removals: 5%                    "
	    "# or a count\n", "");
	fails_with(t1, "c.yaml:1:1: missing required key 'sync'",
	    "a missing section is reported at the top");
	free(t1);

	edit_fails("    password_file: /etc/ldap2scim/ldap.pass   # or password_env: NAME\n",
	    "    password_file: /etc/ldap2scim/ldap.pass\n"
	    "    password_env: LDAP_PASSWORD\n",
	    "c.yaml:7:5: 'ldap.bind.password_file' and "
	    "'ldap.bind.password_env' cannot both be set",
	    "password_file and password_env together are refused");
	edit_fails("    password_file: /etc/ldap2scim/ldap.pass   # or password_env: NAME\n",
	    "", "c.yaml:3:3: missing required key 'ldap.bind.password_file' or "
	    "'ldap.bind.password_env'", "a simple bind needs a password");
	edit_fails("method: simple", "method: anonymous",
	    "c.yaml:5:5: 'ldap.bind.dn' cannot be used with method anonymous",
	    "an anonymous bind takes no dn");
	{
		char *t2;

		t1 = edit(full, "    dn: cn=admin,dc=example,dc=com\n", "");
		t2 = edit(t1, "method: simple", "method: gssapi");
		fails_with(t2, "c.yaml:5:5: 'ldap.bind.password_file' cannot be "
		    "used with method gssapi", "a gssapi bind takes no password");
		free(t2);
		free(t1);
	}
	edit_fails("    dn: cn=admin,dc=example,dc=com\n",
	    "    dn: cn=admin,dc=example,dc=com\n    keytab: /etc/krb5.keytab\n",
	    "c.yaml:6:5: 'ldap.bind.keytab' cannot be used with method simple",
	    "a simple bind takes no keytab");
	edit_fails("  token_file: /etc/ldap2scim/scim.token   # or token_env: NAME\n",
	    "  token_file: /etc/ldap2scim/scim.token\n  token_env: TOKEN\n",
	    "c.yaml:38:3: 'scim.token_file' and 'scim.token_env' cannot both "
	    "be set", "token_file and token_env together are refused");
	edit_fails("  token_file: /etc/ldap2scim/scim.token   # or token_env: NAME\n",
	    "", "c.yaml:34:1: missing required key 'scim.token_file' or "
	    "'scim.token_env'", "a token source is required");

	edit_fails("filter: (objectClass=inetOrgPerson)",
	    "filter: (objectClass=inetOrgPerson",
	    "c.yaml:14:11: 'users.filter' is not a valid LDAP filter: "
	    "missing ')' at offset 26 for the '(' at offset 0",
	    "an unbalanced users filter is refused");
	edit_fails("(pwdAccountLockedTime=*)", "pwdAccountLockedTime=*",
	    "c.yaml:16:20: 'users.disabled_filter' is not a valid LDAP "
	    "filter: filter must start with '(' at offset 0",
	    "a disabled filter without parentheses is refused");
	edit_fails("filter: (objectClass=groupOfNames)",
	    "filter: \"(&(objectClass=groupOfNames)(cn=a(b))\"",
	    "c.yaml:29:11: 'groups.filter' is not a valid LDAP filter: "
	    "unescaped '(' in value (write \\28) at offset 33",
	    "an unescaped parenthesis in a groups filter is refused");

	edit_fails("    title: \"{title}\"\n", "    jobTitle: \"{title}\"\n",
	    "c.yaml:24:5: unknown SCIM attribute 'jobTitle'",
	    "an unknown SCIM path in the map is refused with its position");
	edit_fails("    title: \"{title}\"\n", "    emails[type eq work].value: \"{mail}\"\n",
	    "c.yaml:24:5: unknown SCIM attribute 'emails[type eq work].value'",
	    "a malformed filter path in the map is refused");
	edit_fails("    title: \"{title}\"\n", "    externalId: \"{uid}\"\n",
	    "c.yaml:24:5: SCIM attribute 'externalId' cannot be mapped: "
	    "ldap2scim sets it (externalId is the directory key)",
	    "externalId cannot be mapped");
	edit_fails("    title: \"{title}\"\n", "    title: \"{title\"\n",
	    "c.yaml:24:5: template '{title': expected an LDAP attribute name "
	    "and '}' at offset 1", "a broken template in the map is refused");
	edit_fails("    userName: \"{uid}\"\n", "",
	    "c.yaml:18:3: the mapping must set 'userName'",
	    "a map without userName is refused");
	edit_fails("    title: \"{title}\"\n", "    title:\n",
	    "c.yaml:24:11: 'users.map.title' must not be empty",
	    "an empty template is refused");
	edit_fails("  map:                                # SCIM attribute path: template\n",
	    "  map: [userName]\n  mapx:\n",
	    "c.yaml:18:8: 'users.map' must be a mapping of SCIM attributes to "
	    "templates", "a map that is a list is refused");
	edit_fails("name: \"{cn}\"", "name: \"{cn\"",
	    "c.yaml:31:9: template '{cn': expected an LDAP attribute name and "
	    "'}' at offset 1", "a broken group name template is refused");

	edit_fails("uri: ldap://127.0.0.1:3890", "uri: http://127.0.0.1:3890",
	    "c.yaml:2:8: 'ldap.uri' must start with ldap://, ldaps:// or "
	    "ldapi://", "an ldap uri with another scheme is refused");
	edit_fails("uri: ldap://127.0.0.1:3890",
	    "uri:\n    - ldap://a.example.com\n    - a.example.com",
	    "c.yaml:4:7: 'ldap.uri' must start with ldap://, ldaps:// or "
	    "ldapi://", "a bad uri in a list is named by its own position");
	edit_fails("uri: ldap://127.0.0.1:3890", "uri: []",
	    "c.yaml:2:8: 'ldap.uri' must not be empty",
	    "an empty uri list is refused");
	edit_fails("uri: ldap://127.0.0.1:3890",
	    "uri: ldap://a.example.com ldap://b.example.com",
	    "c.yaml:2:8: 'ldap.uri' must hold one URI per string (write a list "
	    "for several)", "space-separated uris are refused");
	edit_fails("url: https://api.example.com/scim/v2", "url: ftp://x/scim",
	    "c.yaml:35:8: 'scim.url' must start with http:// or https://",
	    "a scim url with another scheme is refused");
	edit_fails("url: https://api.example.com/scim/v2", "url: https:///scim",
	    "c.yaml:35:8: 'scim.url' must name a host",
	    "a scim url without a host is refused");
	edit_fails("[example.com]", "example.com",
	    "c.yaml:17:18: 'users.email_domains' must be a list of domains",
	    "email_domains must be a list");
	edit_fails("[example.com]", "[\"@example.com\"]",
	    "c.yaml:17:19: 'users.email_domains' must hold domain names such "
	    "as example.com", "an email domain with @ is refused");
}

static void
test_names(void)
{
	is_str(config_removal_name(REMOVAL_DEACTIVATE), "deactivate",
	    "removal deactivate has its name");
	is_str(config_removal_name(REMOVAL_DELETE), "delete",
	    "removal delete has its name");
	is_str(config_profile_name(PROFILE_GENERIC), "generic",
	    "profile generic has its name");
	is_str(config_profile_name(PROFILE_SLACK), "slack",
	    "profile slack has its name");
	is_str(config_profile_name((enum scim_profile)99), "unknown",
	    "an out-of-range profile is unknown");
	config_free(NULL);
	ok(1, "config_free accepts NULL");
}

/* The shipped example: found from the source tree, whether the test runs
 * from the top directory or from build/test/. */
static struct config *
load_shipped(const char *top, const char *argv0, const char *rel)
{
	struct err err = ERR_INIT;
	struct config *cfg = NULL;
	struct buf path = BUF_INIT;
	const char *slash;
	int rc;

	buf_printf(&path, "%s/%s", top, rel);
	if (access(buf_str(&path), R_OK) != 0 &&
	    (slash = strrchr(argv0, '/')) != NULL) {
		buf_reset(&path);
		if (argv0[0] != '/')
			buf_printf(&path, "%s/", top);
		buf_add(&path, argv0, (size_t)(slash - argv0));
		buf_printf(&path, "/../../%s", rel);
	}
	if (access(buf_str(&path), R_OK) != 0) {
		printf("ok %d - %s loads # SKIP not found\n", ++tap_n, rel);
		buf_free(&path);
		return NULL;
	}
	rc = config_load(&cfg, buf_str(&path), &err);
	if (!ok(rc == L2S_OK, "the shipped %s loads", rel))
		printf("#   error: %s\n", err.msg);
	buf_free(&path);
	return cfg;
}

static void
test_shipped_example(const char *top, const char *argv0)
{
	struct config *cfg;

	cfg = load_shipped(top, argv0, "config/ldap2scim.yaml.example");
	if (cfg != NULL) {
		is_int(cfg->groups.enabled, 1, "the shipped example has groups");
		ok(mapping_count(cfg->users.map) >= 5,
		    "the shipped example maps several attributes");
	}
	config_free(cfg);
	cfg = load_shipped(top, argv0, "config/ad.yaml.example");
	if (cfg != NULL) {
		ok(cfg->ldap.dialect == DIALECT_AD &&
		    cfg->ldap.bind_method == BIND_GSSAPI &&
		    cfg->ldap.keytab != NULL,
		    "the AD example binds with GSSAPI and a keytab");
		is_str(cfg->users.key, "objectGUID", "and keys on objectGUID");
	}
	config_free(cfg);
	cfg = load_shipped(top, argv0, "config/targets.yaml.example");
	if (cfg != NULL) {
		is_int((int)config_ntargets(cfg), 2,
		    "the targets example has two targets");
		is_str(config_target(cfg, 1)->name, "customers",
		    "the second one is the customers'");
	}
	config_free(cfg);
}


/* Profiles, rates, group_rename and users.photo. */
static void
test_profiles(void)
{
	struct config *cfg;
	char *t1, *t2;

	cfg = load_ok(full, "the full example loads for the profile tests");
	if (cfg != NULL) {
		is_int(cfg->scim.group_rename, RENAME_PATCH,
		    "group_rename defaults to patch");
		is_int(cfg->scim.rate_limit_users, 0, "no users rate by default");
		ok(cfg->users.photo_attribute == NULL, "no photos by default");
	}
	config_free(cfg);

	t1 = edit(full, "profile: generic ", "profile: atlassian ");
	cfg = load_ok(t1, "profile atlassian loads with email_domains");
	if (cfg != NULL)
		is_int(cfg->scim.group_rename, RENAME_RECREATE,
		    "profile atlassian renames groups by recreating them");
	config_free(cfg);
	t2 = edit(t1, "  concurrency: 4\n", "  group_rename: patch\n");
	fails_with(t2, "c.yaml:39:17: 'scim.group_rename' cannot be patch with "
	    "profile atlassian: Atlassian does not rename groups (use recreate)",
	    "atlassian refuses group_rename patch");
	free(t2);
	t2 = edit(t1, "removal: deactivate", "removal: delete    ");
	fails_with(t2, "c.yaml:41:1: 'sync.removal' cannot be delete with "
	    "profile atlassian: Atlassian keeps accounts, users leaving are "
	    "deactivated", "atlassian refuses removal delete");
	free(t2);
	free(t1);

	t1 = edit(full, "profile: generic ", "profile: github    ");
	cfg = load_ok(t1, "profile github loads");
	if (cfg != NULL)
		is_int(cfg->scim.rate_limit_users, 1000,
		    "profile github: at most 1,000 requests an hour to /Users");
	config_free(cfg);
	t2 = edit(t1, "  concurrency: 4\n", "  rate_limit_users: 10/m\n");
	cfg = load_ok(t2, "a rate set by hand wins over the profile's");
	if (cfg != NULL)
		is_int(cfg->scim.rate_limit_users, 600, "10/m is 600 an hour");
	config_free(cfg);
	free(t2);
	free(t1);

	t1 = edit(full, "profile: generic ", "profile: slack     ");
	cfg = load_ok(t1, "profile slack loads");
	if (cfg != NULL) {
		is_int(cfg->scim.rate_limit_users, 10800,
		    "profile slack: 180 a minute to /Users");
		is_int(cfg->scim.rate_limit_groups, 10800,
		    "and to /Groups");
	}
	config_free(cfg);
	free(t1);

	t1 = edit(full, "profile: generic ", "profile: aws       ");
	t2 = edit(t1, "  concurrency: 4\n", "  member_batch: 200\n");
	fails_with(t2, "c.yaml:39:17: 'scim.member_batch' must be at most 100 "
	    "with profile aws: AWS IAM Identity Center takes at most 100 member "
	    "changes in one request", "aws caps member_batch at 100");
	free(t2);
	free(t1);

	t1 = edit(full, "  concurrency: 4\n", "  rate_limit_groups: 5/s\n");
	cfg = load_ok(t1, "rate_limit_groups in requests per second");
	if (cfg != NULL)
		is_int(cfg->scim.rate_limit_groups, 18000, "5/s is 18,000 an hour");
	config_free(cfg);
	free(t1);
	t1 = edit(full, "  concurrency: 4\n", "  rate_limit_users: 5/d\n");
	fails_with(t1, "c.yaml:39:21: 'scim.rate_limit_users' must be a rate "
	    "such as 10/s, 180/m or 1000/h (0 for none)", "a rate per day is "
	    "refused");
	free(t1);
	t1 = edit(full, "  concurrency: 4\n", "  rate_limit_users: 0/h\n");
	fails_with(t1, "c.yaml:39:21: 'scim.rate_limit_users' must be a rate "
	    "such as 10/s, 180/m or 1000/h (0 for none)", "a rate of 0/h is "
	    "refused (write 0)");
	free(t1);

	t1 = edit(full, "groups:\n", "  photo:\n    directory: /var/www/photos\n"
	    "    url: https://intranet.example.com/photos/\ngroups:\n");
	cfg = load_ok(t1, "users.photo loads");
	if (cfg != NULL) {
		is_str(cfg->users.photo_attribute, "jpegPhoto",
		    "the photo attribute defaults to jpegPhoto");
		is_str(cfg->users.photo_url, "https://intranet.example.com/photos",
		    "the photo URL loses its trailing '/'");
	}
	config_free(cfg);
	t2 = edit(t1, "dialect: auto ", "dialect: ad   ");
	cfg = load_ok(t2, "users.photo loads with dialect ad");
	if (cfg != NULL)
		is_str(cfg->users.photo_attribute, "thumbnailPhoto",
		    "with dialect ad it defaults to thumbnailPhoto");
	config_free(cfg);
	free(t2);
	t2 = edit(t1, "/var/www/photos", "www/photos");
	fails_with(t2, "c.yaml:27:3: 'users.photo.directory' must be an "
	    "absolute path", "a relative photo directory is refused");
	free(t2);
	t2 = edit(t1, "    url: https://intranet.example.com/photos/\n", "");
	fails_with(t2, "c.yaml:27:3: missing required key 'users.photo.url'",
	    "a photo directory needs its URL");
	free(t2);
	free(t1);
}

/* A file with targets. */
static const char two_targets[] =
"ldap:\n"							/*  1 */
"  uri: ldap://127.0.0.1:3890\n"
"  bind:\n"							/*  3 */
"    dn: cn=admin,dc=example,dc=com\n"
"    password_file: /etc/ldap2scim/ldap.pass\n"		/*  5 */
"  base_dn: dc=example,dc=com\n"
"targets:\n"							/*  7 */
"  - name: employees\n"
"    users:\n"							/*  9 */
"      base_dn: ou=people,dc=example,dc=com\n"
"      filter: (objectClass=inetOrgPerson)\n"			/* 11 */
"      map:\n"
"        userName: \"{uid}\"\n"					/* 13 */
"    groups:\n"
"      filter: (objectClass=groupOfNames)\n"			/* 15 */
"    scim:\n"
"      url: https://api.example.com/scim/v2\n"			/* 17 */
"      token_file: /etc/ldap2scim/employees.token\n"
"    sync:\n"							/* 19 */
"      state: /var/lib/ldap2scim/employees.db\n"
"      interval: 10m\n"						/* 21 */
"  - name: customers\n"
"    users:\n"							/* 23 */
"      base_dn: ou=customers,dc=example,dc=com\n"
"      filter: (objectClass=inetOrgPerson)\n"			/* 25 */
"      map:\n"
"        userName: \"{mail}\"\n"					/* 27 */
"    scim:\n"
"      url: https://customers.example.com/scim/v2\n"		/* 29 */
"      profile: atlassian\n"
"      token_env: CUSTOMERS_TOKEN\n"				/* 31 */
"    sync:\n"
"      state: /var/lib/ldap2scim/customers.db\n"		/* 33 */
"      max_removals: 3\n";

static void
test_targets(void)
{
	struct config *cfg;
	const struct config *t;
	char *t1, *t2;

	cfg = load_ok(full, "a file without targets loads");
	if (cfg != NULL) {
		is_int((int)config_ntargets(cfg), 1, "it is its own one target");
		ok(config_target(cfg, 0) == cfg, "config_target(0) is the file");
	}
	config_free(cfg);

	t1 = edit(two_targets, "      map:\n        userName: \"{mail}\"\n",
	    "      email_domains: [client.example]\n      map:\n"
	    "        userName: \"{mail}\"\n");
	cfg = load_ok(t1, "a file with two targets loads");
	if (cfg != NULL && ok(config_ntargets(cfg) == 2, "it has two targets")) {
		t = config_target(cfg, 0);
		is_str(t->name, "employees", "the first is named employees");
		is_str(t->ldap.base_dn, "dc=example,dc=com",
		    "each target has the file's ldap section");
		is_str(t->users.base_dn, "ou=people,dc=example,dc=com",
		    "and its own users base");
		is_str(t->groups.base_dn, "dc=example,dc=com",
		    "groups.base_dn defaults to ldap.base_dn in a target too");
		is_int(t->sync.interval, 600, "and its own interval");
		ok(t->groups.enabled, "the employees have groups");
		t = config_target(cfg, 1);
		is_str(t->name, "customers", "the second is named customers");
		ok(!t->groups.enabled, "the customers have no groups section");
		is_int(t->scim.profile, PROFILE_ATLASSIAN,
		    "and their own profile");
		is_int(t->scim.group_rename, RENAME_RECREATE,
		    "with that profile's defaults");
		is_int(t->sync.max_removals, 3, "and their own limits");
		is_str(t->fingerprint, cfg->fingerprint,
		    "every target has the file's fingerprint");
	}
	config_free(cfg);

	t2 = edit(two_targets, "      max_removals: 3\n",
	    "      removal: delete\n");
	fails_with(t2, "c.yaml:32:5: 'sync.removal' cannot be delete with "
	    "profile atlassian: Atlassian keeps accounts, users leaving are "
	    "deactivated", "a target's profile is checked against its own "
	    "sections");
	free(t2);
	t2 = edit(t1, "customers.db", "employees.db");
	fails_with(t2, "c.yaml:22:5: 'targets[1]': targets 'employees' and "
	    "'customers' cannot share the state file "
	    "'/var/lib/ldap2scim/employees.db'", "two targets, one state file");
	free(t2);
	{
		char *t3 = edit(t1, "      filter: (objectClass=inetOrgPerson)\n"
		    "      map:\n        userName: \"{uid}\"\n",
		    "      filter: (objectClass=inetOrgPerson)\n"
		    "      photo: {directory: /srv/photos, url: https://x/p}\n"
		    "      map:\n        userName: \"{uid}\"\n");

		t2 = edit(t3, "      email_domains: [client.example]\n",
		    "      email_domains: [client.example]\n"
		    "      photo: {directory: /srv/photos, url: https://y/p}\n");
		fails_with(t2, "c.yaml:23:5: 'targets[1]': targets 'employees' "
		    "and 'customers' cannot share the photo directory "
		    "'/srv/photos'", "two targets, one photo directory");
		free(t2);
		free(t3);
	}
	t2 = edit(t1, "name: customers", "name: employees");
	fails_with(t2, "c.yaml:22:5: 'targets[1]': target name 'employees' is "
	    "used twice", "two targets, one name");
	free(t2);
	t2 = edit(t1, "      max_removals: 3\n", "      incremental: true\n");
	fails_with(t2, "c.yaml:33:5: 'targets[1].sync.incremental' cannot be "
	    "used with several targets: each cycle reads the directory once "
	    "for all of them", "incremental reads are refused with targets");
	free(t2);
	t2 = edit(t1, "  - name: customers\n", "  - nom: customers\n");
	fails_with(t2, "c.yaml:22:5: unknown key 'targets[1].nom'",
	    "an unknown key in a target is named with its place");
	free(t2);
	t2 = edit(t1, "targets:\n", "sync:\n  state: /x.db\ntargets:\n");
	fails_with(t2, "c.yaml:7:1: 'sync' belongs in each target when the "
	    "file has 'targets' (line 9)", "a root sync section beside targets");
	free(t2);
	t2 = edit(t1, "    scim:\n      url: https://api",
	    "    scom:\n      url: https://api");
	fails_with(t2, "c.yaml:16:5: unknown key 'targets[0].scom'",
	    "a misspelt section in a target");
	free(t2);
	free(t1);
	fails_with("ldap:\n  uri: ldap://h\n  bind:\n    method: anonymous\n"
	    "  base_dn: dc=x\ntargets: []\n", "c.yaml:6:10: 'targets' must be a "
	    "list of targets, each with its name, users, groups, scim and sync",
	    "an empty list of targets");
	fails_with("ldap:\n  uri: ldap://h\n  bind:\n    method: anonymous\n"
	    "  base_dn: dc=x\n", "c.yaml:1:1: missing required key 'users'",
	    "without targets, users is still required");
}

int
main(int argc, char **argv)
{
	char top[PATH_MAX];
	int rc;

	(void)argc;
	if (getcwd(top, sizeof(top)) == NULL || mkdtemp(tmpdir) == NULL ||
	    chdir(tmpdir) != 0) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_full_example();
	test_defaults();
	test_variants();
	test_errors();
	test_names();
	test_profiles();
	test_targets();
	test_shipped_example(top, argv[0]);
	rc = tap_done();
	unlink("c.yaml");
	if (chdir(top) != 0 || rmdir(tmpdir) != 0)
		printf("# cannot remove %s\n", tmpdir);
	return rc;
}
