/*
 * fixtures.h - building configs, LDAP entries and records in memory for the
 * unit tests of the pure core (mapping, source, diff, plan, scimjson)
 *
 * Every helper bails out of the test program ("Bail out!" in TAP) when it
 * cannot do its job, so a test never runs on a half-built fixture.
 *
 * - fx_config(yaml): write yaml to a temporary file, config_load() it,
 *   remove the file.  FX_LDAP, FX_SCIM and FX_SYNC are the sections every
 *   test config needs and rarely varies.  The caller owns the config.
 * - struct fx_entry: an LDAP entry view (entry.h) whose storage lives in
 *   the struct; values are borrowed from the caller (string literals or
 *   buffers that outlive the entry).  Consecutive fx_add() calls with the
 *   same attribute name make one multi-valued attribute.
 * - fx_user()/fx_group(): records as the source or the state store would
 *   hold them; fx_put() stores one in a map by its key.
 */
#ifndef L2S_FIXTURES_H
#define L2S_FIXTURES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "entry.h"
#include "hmap.h"
#include "record.h"

#define FX_LDAP \
	"ldap:\n" \
	"  uri: ldap://127.0.0.1:3890\n" \
	"  bind:\n" \
	"    dn: cn=admin,dc=example,dc=com\n" \
	"    password_env: LDAP_PASSWORD\n" \
	"  base_dn: dc=example,dc=com\n"
#define FX_SCIM \
	"scim:\n" \
	"  url: https://scim.example.com/v2\n" \
	"  token_env: SCIM_TOKEN\n"
#define FX_SYNC \
	"sync:\n" \
	"  state: /var/lib/ldap2scim/state.db\n"

static inline void __attribute__((noreturn, format(printf, 1, 2)))
fx_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* Load yaml as a config file; the caller owns the result (config_free()). */
static inline struct config *
fx_config(const char *yaml)
{
	char path[] = "/tmp/l2s-fixture-XXXXXX";
	struct err err = ERR_INIT;
	struct config *cfg = NULL;
	size_t len = strlen(yaml);
	int fd, rc;

	fd = mkstemp(path);
	if (fd < 0)
		fx_bail("cannot create a temporary config file");
	if (write(fd, yaml, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		fx_bail("cannot write the temporary config file");
	}
	close(fd);
	rc = config_load(&cfg, path, &err);
	unlink(path);
	if (rc != L2S_OK)
		fx_bail("fixture config does not load: %s", err.msg);
	return cfg;
}

#define FX_MAXATTRS 32
#define FX_MAXVALS 1024

struct fx_entry {
	struct entry e;
	struct entry_attr attrs[FX_MAXATTRS];
	struct value vals[FX_MAXVALS];
	size_t nvals;
};

static inline void
fx_entry_init(struct fx_entry *f, const char *dn)
{
	memset(f, 0, sizeof(*f));
	f->e.dn = dn;
	f->e.attrs = f->attrs;
}

/* Add one value of len bytes (p is borrowed). */
static inline void
fx_addn(struct fx_entry *f, const char *name, const char *p, size_t len)
{
	struct entry_attr *a;

	if (f->nvals == FX_MAXVALS)
		fx_bail("fixture entry '%s': too many values", f->e.dn);
	f->vals[f->nvals].p = p;
	f->vals[f->nvals].len = len;
	a = f->e.nattrs > 0 ? &f->attrs[f->e.nattrs - 1] : NULL;
	if (a == NULL || strcmp(a->name, name) != 0) {
		if (f->e.nattrs == FX_MAXATTRS)
			fx_bail("fixture entry '%s': too many attributes",
			    f->e.dn);
		a = &f->attrs[f->e.nattrs++];
		a->name = name;
		a->vals = &f->vals[f->nvals];
		a->nvals = 0;
	}
	a->nvals++;
	f->nvals++;
}

/* Add one NUL-terminated value (borrowed). */
static inline void
fx_add(struct fx_entry *f, const char *name, const char *value)
{
	fx_addn(f, name, value, strlen(value));
}

static inline void
fx_set(struct record *r, const char *path, const char *value)
{
	if (attrs_set(&r->attrs, path, value) != 0)
		fx_bail("out of memory");
}

static inline char *
fx_strdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fx_bail("out of memory");
	return d;
}

/* A user as read: key, name (also userName), dn from the name, active. */
static inline struct record *
fx_user(const char *key, const char *name)
{
	struct record *r = record_new(REC_USER, key);
	char dn[256];

	if (r == NULL)
		fx_bail("out of memory");
	snprintf(dn, sizeof(dn), "uid=%s,ou=people,dc=example,dc=com", name);
	r->name = fx_strdup(name);
	r->dn = fx_strdup(dn);
	fx_set(r, "userName", name);
	fx_set(r, "active", "true");
	return r;
}

/* The same user as the state remembers it: with a SCIM id, no DN. */
static inline struct record *
fx_state_user(const char *key, const char *name)
{
	struct record *r = fx_user(key, name);
	char id[256];

	snprintf(id, sizeof(id), "id-%s", key);
	r->scim_id = fx_strdup(id);
	free(r->dn);
	r->dn = NULL;
	return r;
}

/* A group named name with n member keys (copied). */
static inline struct record *
fx_group(const char *key, const char *name, const char *const *members,
    size_t n)
{
	struct record *r = record_new(REC_GROUP, key);
	char dn[256];

	if (r == NULL)
		fx_bail("out of memory");
	snprintf(dn, sizeof(dn), "cn=%s,ou=groups,dc=example,dc=com", name);
	r->name = fx_strdup(name);
	r->dn = fx_strdup(dn);
	fx_set(r, "displayName", name);
	if (record_set_members(r, members, n) != 0)
		fx_bail("out of memory");
	return r;
}

static inline struct record *
fx_state_group(const char *key, const char *name, const char *const *members,
    size_t n)
{
	struct record *r = fx_group(key, name, members, n);
	char id[256];

	snprintf(id, sizeof(id), "id-%s", key);
	r->scim_id = fx_strdup(id);
	free(r->dn);
	r->dn = NULL;
	return r;
}

/* Store r in m under its key; returns r. */
static inline struct record *
fx_put(struct hmap *m, struct record *r)
{
	void *old = NULL;

	if (hmap_put(m, r->key, r, &old) != 0)
		fx_bail("out of memory");
	if (old != NULL)
		fx_bail("fixture key '%s' stored twice", r->key);
	return r;
}

#endif
