/*
 * config.h - the validated, read-only configuration
 *
 * config_load() reads the YAML file (libyaml), checks every key against a
 * schema table and fills a struct config.  Every error names the place in
 * the file as "FILE:LINE:COL: message" (1-based).  Unknown keys are errors;
 * numbers, booleans, durations, sizes, percentages and dates are parsed
 * strictly with range checks.  Secrets are never in the file itself: only
 * the names of the files or environment variables that hold them.
 *
 * Pure: reads one file, never logs, never exits.  The result is read-only
 * once loaded; reloading (SIGHUP) builds a new one and swaps it.
 */
#ifndef L2S_CONFIG_H
#define L2S_CONFIG_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct mapping;
struct template;

enum bind_method { BIND_SIMPLE, BIND_GSSAPI, BIND_EXTERNAL, BIND_ANONYMOUS };
enum dialect { DIALECT_AUTO, DIALECT_OPENLDAP, DIALECT_AD };
enum nested_mode { NESTED_FLATTEN, NESTED_DIRECT, NESTED_IN_CHAIN };
enum scim_profile {
	PROFILE_GENERIC, PROFILE_ATLASSIAN, PROFILE_AWS, PROFILE_GITHUB,
	PROFILE_SLACK
};
enum removal_mode { REMOVAL_DEACTIVATE, REMOVAL_DELETE };
enum conflict_mode { CONFLICT_ADOPT, CONFLICT_SKIP, CONFLICT_FAIL };
enum group_rename { RENAME_PATCH, RENAME_RECREATE };

/* Where a value came from in the file, for later error messages. */
struct config_pos {
	int line, col;		/* 1-based; 0 when the value is a default */
};

struct config_ldap {
	char **uris;			/* at least one; tried in order */
	size_t nuris;
	enum bind_method bind_method;	/* default simple */
	char *bind_dn;			/* simple: required */
	char *password_file;		/* simple: exactly one of file/env */
	char *password_env;
	char *keytab;			/* gssapi: optional */
	char *principal;		/* gssapi: optional */
	int starttls;			/* default 0 */
	char *tls_ca_file;		/* optional */
	int tls_verify;			/* default 1; 0 only when set false */
	char *base_dn;			/* required */
	int page_size;			/* 1..100000, default 500 */
	enum dialect dialect;		/* default auto */
	int timeout;			/* seconds, network and search; default 30 */
};

struct config_users {
	char *base_dn;			/* default: ldap.base_dn */
	char *filter;			/* required, must parse as an LDAP filter */
	char *key;			/* default entryUUID (objectGUID on ad) */
	int key_auto;			/* key not set, dialect auto: objectGUID
					 * when the server turns out to be AD */
	char *disabled_filter;		/* optional; on AD the default is
					 * ACCOUNTDISABLE or accountExpires past */
	char **email_domains;		/* optional, lower case */
	size_t nemail_domains;
	struct mapping *map;		/* compiled; userName required */
	char *photo_attribute;		/* users.photo: the image attribute,
					 * default jpegPhoto (thumbnailPhoto
					 * with dialect ad); NULL: no photos */
	int photo_auto;			/* attribute not set, dialect auto:
					 * thumbnailPhoto when the server turns
					 * out to be AD */
	char *photo_dir;		/* write each image here ... */
	char *photo_url;		/* ... published at this URL (no '/'
					 * at the end) */
};

struct config_groups {
	int enabled;			/* 0 when the file has no groups: section */
	char *base_dn;			/* default: ldap.base_dn */
	char *filter;			/* required when enabled */
	char *key;			/* default as users.key */
	int key_auto;			/* as users.key_auto */
	struct template *name;		/* compiled; default "{cn}" */
	char *name_text;		/* the template as written */
	char *prefix;			/* optional: put before every name */
	char **include;			/* optional glob patterns on the name (as
					 * the template renders it, case-insensitive):
					 * only matching groups are in scope */
	size_t ninclude;
	char **exclude;			/* optional: matching groups are out */
	size_t nexclude;
	char *member_attribute;		/* default "member" */
	enum nested_mode nested;	/* default flatten */
	int member_range;		/* AD: member values per range request,
					 * 0 = ask for plain member; default 1500 */
	enum conflict_mode on_conflict;	/* a 409 on create: default adopt */
};

struct config_scim {
	char *url;			/* required, http(s)://, no trailing '/' */
	enum scim_profile profile;	/* default generic */
	char *token_file;		/* exactly one of file/env */
	char *token_env;
	time_t token_expires;		/* 0: not set; else 00:00 UTC that day */
	int concurrency;		/* 1..64, default 4 */
	int rate_limit;			/* requests per second, 0 = none */
	int rate_limit_users;		/* requests per hour to /Users, 0 = none;
					 * github: 1000, slack: 10800 */
	int rate_limit_groups;		/* requests per hour to /Groups, 0 = none */
	enum group_rename group_rename;	/* default patch; atlassian: recreate */
	int timeout;			/* seconds, 1..3600, default 30 */
	int tls_verify;			/* default 1 */
	char *tls_ca_file;		/* optional */
	int allow_insecure_http;	/* default 0: http:// only to loopback */
	int member_batch;		/* members per PATCH, 1..1000, default 100 */
	int retries;			/* retries of a failed request, 0..20, default 5 */
	int retry_max_wait;		/* seconds, the longest wait, default 60 */
};

struct config_sync {
	char *state;			/* required: path of the state database */
	int interval;			/* seconds, default 300 */
	enum removal_mode removal;	/* default deactivate */
	int max_removals;		/* count, or percent when is_percent */
	int max_removals_is_percent;	/* default: 5 percent */
	int incremental;		/* default 0: read only what changed */
	int full_interval;		/* seconds between full reads when
					 * incremental, default 86400 */
};

struct config {
	char *path;			/* the file this came from */
	char *name;			/* targets[].name; NULL in a file
					 * without targets */
	char fingerprint[17];		/* digest of the bytes parsed and of the
					 * agent's version (incremental reads) */
	struct config_ldap ldap;
	struct config_users users;
	struct config_groups groups;
	struct config_scim scim;
	struct config_sync sync;
	/* A file with targets: each is a whole config (with its own copy of
	 * the ldap section); the root then holds only ldap.  Owned. */
	struct config **targets;
	size_t ntargets;
};

/* Load and validate path.  On success the caller owns *out (config_free()).
 * On failure *out is NULL and err->msg is "PATH:LINE:COL: what", or
 * "cannot open config file 'PATH': reason"; returns L2S_EPARSE or L2S_EIO. */
int config_load(struct config **out, const char *path, struct err *err);

void config_free(struct config *cfg);

/* The targets a cycle serves: a file without targets is its own one.
 * config_target() is borrowed from cfg. */
size_t config_ntargets(const struct config *cfg);
const struct config *config_target(const struct config *cfg, size_t i);

/* Names for printing. */
const char *config_removal_name(enum removal_mode m);
const char *config_profile_name(enum scim_profile p);

#endif
