/*
 * source.c - read the directory into canonical records
 *
 * All-or-nothing: the readset is complete only when the disabled, users
 * and groups searches all returned every page.  The diff refuses an
 * incomplete read, so nothing here ever has to guess.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "filter.h"
#include "hmap.h"
#include "ldap.h"
#include "log.h"
#include "mapping.h"
#include "source.h"
#include "utf8.h"

struct group_raw {
	struct record *rec;	/* borrowed from rs.groups */
	char **dns;		/* owned, normalised member DNs */
	size_t n;
	unsigned mark;		/* flatten: the generation that last saw it */
	struct hmap flat;	/* flatten result: user key -> (void *)1 */
};

struct source_work {
	struct hmap user_by_dn;		/* norm DN -> struct record * (borrowed) */
	struct hmap group_by_dn;	/* norm DN -> struct group_raw * (owned) */
	struct hmap user_names;		/* lower userName -> struct record * */
	struct hmap group_names;	/* lower name -> struct record * */
	struct hmap managers;		/* user key -> norm manager DN (owned) */
	struct hmap disabled;		/* user key -> (void *)1 */
};

static void
group_raw_free(void *p)
{
	struct group_raw *g = p;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->dns[i]);
	free(g->dns);
	hmap_free(&g->flat, NULL);
	free(g);
}

static int
push_group(struct group_raw ***stack, size_t *n, size_t *cap,
    struct group_raw *g)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct group_raw **s = realloc(*stack, c * sizeof(*s));

		if (s == NULL)
			return -1;
		*stack = s;
		*cap = c;
	}
	(*stack)[(*n)++] = g;
	return 0;
}

static void
work_free(struct source_work *w)
{
	if (w == NULL)
		return;
	hmap_free(&w->user_by_dn, NULL);
	hmap_free(&w->group_by_dn, group_raw_free);
	hmap_free(&w->user_names, NULL);
	hmap_free(&w->group_names, NULL);
	hmap_free(&w->managers, free);
	hmap_free(&w->disabled, NULL);
	free(w);
}

void
source_result_init(struct source_result *res)
{
	memset(res, 0, sizeof(*res));
	readset_init(&res->rs);
}

void
source_result_free(struct source_result *res)
{
	size_t i;

	readset_free(&res->rs);
	for (i = 0; i < res->nnotes; i++) {
		free(res->notes[i].dn);
		free(res->notes[i].reason);
	}
	free(res->notes);
	work_free(res->work);
	memset(res, 0, sizeof(*res));
}

static int
work_get(struct source_result *res, struct source_work **out, struct err *err)
{
	if (res->work == NULL) {
		res->work = calloc(1, sizeof(*res->work));
		if (res->work == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
	}
	*out = res->work;
	return L2S_OK;
}

static int
note_add(struct source_result *res, const char *dn, const char *reason,
    struct err *err)
{
	struct source_note *n;

	n = realloc(res->notes, (res->nnotes + 1) * sizeof(*n));
	if (n == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	res->notes = n;
	n[res->nnotes].dn = strdup(dn != NULL ? dn : "");
	n[res->nnotes].reason = strdup(reason);
	if (n[res->nnotes].dn == NULL || n[res->nnotes].reason == NULL) {
		free(n[res->nnotes].dn);
		free(n[res->nnotes].reason);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	res->nnotes++;
	res->rs.nskipped++;
	return L2S_OK;
}

/* Hold r with reason (the first reason given wins). */
static int
hold(struct record *r, const char *reason, struct err *err)
{
	if (r->held != NULL)
		return L2S_OK;
	r->held = strdup(reason);
	return r->held != NULL ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
}

int
source_key_text(const char *attr, const struct value *v, char **out)
{
	const unsigned char *b = (const unsigned char *)v->p;

	*out = NULL;
	if (strcasecmp(attr, "objectGUID") == 0 && v->len == 16) {
		*out = malloc(37);
		if (*out == NULL)
			return L2S_ENOMEM;
		snprintf(*out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x%02x%02x%02x%02x",
		    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
		    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
		return L2S_OK;
	}
	if (v->len == 0 || !utf8_valid(v->p, v->len))
		return L2S_EPARSE;
	*out = strndup(v->p, v->len);
	return *out != NULL ? L2S_OK : L2S_ENOMEM;
}

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Register r's name in names; two objects with one name are both held. */
static int
claim_name(struct hmap *names, struct record *r, const char *what,
    struct err *err)
{
	struct record *other;
	char *lname, reason[512];
	int rc = L2S_OK;

	lname = lower_dup(r->name);
	if (lname == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	other = hmap_get(names, lname);
	if (other == NULL) {
		if (hmap_put(names, lname, r, NULL) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(reason, sizeof(reason), "%s '%s' is also used by '%s'", what,
	    r->name, other->dn);
	rc = hold(r, reason, err);
	if (rc != L2S_OK)
		goto done;
	snprintf(reason, sizeof(reason), "%s '%s' is also used by '%s'", what,
	    other->name, r->dn);
	rc = hold(other, reason, err);
done:
	free(lname);
	return rc;
}

/* Make the record for e, keyed by keyattr; *out NULL when e was skipped. */
static int
record_start(struct source_result *res, enum rec_kind kind, const char *keyattr,
    const struct entry *e, struct hmap *into, struct record **out,
    struct err *err)
{
	const struct value *kv = entry_first(e, keyattr);
	struct record *r = NULL;
	char *key = NULL, reason[256];
	int rc;

	*out = NULL;
	res->rs.nentries++;
	if (kv == NULL) {
		snprintf(reason, sizeof(reason), "no '%s' attribute: skipped",
		    keyattr);
		return note_add(res, e->dn, reason, err);
	}
	rc = source_key_text(keyattr, kv, &key);
	if (rc == L2S_ENOMEM)
		return err_set(err, rc, "out of memory");
	if (rc != L2S_OK) {
		snprintf(reason, sizeof(reason), "'%s' is not a usable key: "
		    "skipped", keyattr);
		return note_add(res, e->dn, reason, err);
	}
	if (hmap_get(into, key) != NULL) {
		snprintf(reason, sizeof(reason), "the same '%s' came twice: "
		    "skipped", keyattr);
		free(key);
		return note_add(res, e->dn, reason, err);
	}
	r = record_new(kind, key);
	free(key);
	if (r == NULL || (r->dn = strdup(e->dn)) == NULL)
		goto nomem;
	if (hmap_put(into, r->key, r, NULL) != 0)
		goto nomem;
	*out = r;
	return L2S_OK;
nomem:
	record_free(r);
	return err_set(err, L2S_ENOMEM, "out of memory");
}

static int
index_dn(struct hmap *by_dn, const char *dn, void *value, struct err *err)
{
	char *norm = NULL;
	int rc;

	rc = ldap_dn_norm(dn, &norm, err);
	if (rc != L2S_OK)
		return rc;
	if (hmap_put(by_dn, norm, value, NULL) != 0)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	free(norm);
	return rc;
}

/*
 * users.email_domains: is the user's primary email (the work one, else the
 * first email mapped) on a listed domain?  When not, reason says why.
 */
static int
email_domain_ok(const struct config *cfg, const struct attrs *a,
    char *reason, size_t n)
{
	const char *mail = attrs_get(a, "emails[type eq \"work\"].value"), *at;
	size_t i;

	for (i = 0; mail == NULL && i < a->n; i++)
		if (strncmp(a->v[i].path, "emails[", 7) == 0 &&
		    strcmp(a->v[i].path + strlen(a->v[i].path) - 6, ".value") == 0)
			mail = a->v[i].value;
	if (mail == NULL) {
		snprintf(reason, n, "skipped: no email to check against "
		    "users.email_domains");
		return 0;
	}
	at = strrchr(mail, '@');
	for (i = 0; at != NULL && i < cfg->users.nemail_domains; i++)
		if (strcasecmp(at + 1, cfg->users.email_domains[i]) == 0)
			return 1;
	snprintf(reason, n, "skipped: email '%s' is not on a domain of "
	    "users.email_domains", mail);
	return 0;
}

int
source_add_user(struct source_result *res, const struct config *cfg,
    const struct entry *e, int disabled, struct err *err)
{
	const struct mapping *m = cfg->users.map;
	struct source_work *w = NULL;
	struct record *r;
	struct err verr = ERR_INIT;
	char *val = NULL;
	size_t i;
	int rc;

	rc = work_get(res, &w, err);
	if (rc == L2S_OK)
		rc = record_start(res, REC_USER, cfg->users.key, e,
		    &res->rs.users, &r, err);
	if (rc != L2S_OK || r == NULL)
		return rc;
	for (i = 0; i < mapping_count(m); i++) {
		const char *path = mapping_path(m, i);

		free(val);
		val = NULL;
		rc = template_render(mapping_template(m, i), e, &val, &verr);
		if (rc == L2S_ENOTFOUND)
			continue;
		if (rc == L2S_EPARSE) {
			rc = hold(r, verr.msg, err);
			if (rc != L2S_OK)
				goto done;
			continue;
		}
		if (rc != L2S_OK) {
			rc = err_set(err, rc, "%s", verr.msg);
			goto done;
		}
		if (val[0] == '\0')
			continue;
		switch (mapping_kind(m, i)) {
		case MAP_BOOLEAN:
			if (strcasecmp(val, "true") != 0 &&
			    strcasecmp(val, "false") != 0) {
				char reason[256];

				snprintf(reason, sizeof(reason), "'%s' must render "
				    "as true or false", path);
				rc = hold(r, reason, err);
				if (rc != L2S_OK)
					goto done;
				continue;
			}
			rc = attrs_set(&r->attrs, path,
			    strcasecmp(val, "true") == 0 ? "true" : "false");
			break;
		case MAP_MANAGER: {
			char *norm = NULL;
			struct err derr = ERR_INIT;

			/* A manager that is not a DN is dropped, not fatal. */
			if (ldap_dn_norm(val, &norm, &derr) != L2S_OK)
				continue;
			if (hmap_put(&w->managers, r->key, norm, NULL) != 0) {
				free(norm);
				rc = L2S_ENOMEM;
			}
			break;
		}
		case MAP_STRING:
			rc = attrs_set(&r->attrs, path, val);
			break;
		}
		if (rc != L2S_OK) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	/* The disabled filter wins over a mapped "active". */
	if (disabled || attrs_get(&r->attrs, "active") == NULL) {
		if (attrs_set(&r->attrs, "active", disabled ? "false" : "true") != 0) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (cfg->users.nemail_domains > 0) {
		char reason[512];

		if (!email_domain_ok(cfg, &r->attrs, reason, sizeof(reason))) {
			/* Out of scope, as if the users filter left it out. */
			record_free(hmap_del(&res->rs.users, r->key));
			rc = note_add(res, e->dn, reason, err);
			goto done;
		}
	}
	/* Indexed even when held below: a held user is left as it is, and
	 * that includes the groups it is a member of. */
	rc = index_dn(&w->user_by_dn, e->dn, r, err);
	if (rc == L2S_EPARSE)
		rc = hold(r, err->msg, err);
	if (rc != L2S_OK)
		goto done;
	if (attrs_get(&r->attrs, "userName") == NULL) {
		rc = hold(r, "the mapping gives no userName", err);
		goto done;
	}
	r->name = strdup(attrs_get(&r->attrs, "userName"));
	if (r->name == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = claim_name(&w->user_names, r, "userName", err);
done:
	free(val);
	return rc;
}

int
source_add_group(struct source_result *res, const struct config *cfg,
    const struct entry *e, struct err *err)
{
	const struct entry_attr *ma;
	struct source_work *w = NULL;
	struct group_raw *g = NULL;
	struct record *r;
	struct err verr = ERR_INIT;
	char *norm = NULL;
	size_t i;
	int rc;

	rc = work_get(res, &w, err);
	if (rc == L2S_OK)
		rc = record_start(res, REC_GROUP, cfg->groups.key, e,
		    &res->rs.groups, &r, err);
	if (rc != L2S_OK || r == NULL)
		return rc;
	rc = template_render(cfg->groups.name, e, &r->name, &verr);
	if (rc == L2S_ENOTFOUND || (rc == L2S_OK && r->name[0] == '\0')) {
		return hold(r, "the group name template renders empty", err);
	} else if (rc == L2S_EPARSE) {
		return hold(r, verr.msg, err);
	} else if (rc != L2S_OK) {
		return err_set(err, rc, "%s", verr.msg);
	}
	if (attrs_set(&r->attrs, "displayName", r->name) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = claim_name(&w->group_names, r, "group name", err);
	if (rc != L2S_OK)
		return rc;

	/* Active Directory sends a large member list in ranges
	 * ("member;range=0-1499"); this version does not follow them, and a
	 * group read that way would look empty: the read is incomplete. */
	{
		size_t i2, n = strlen(cfg->groups.member_attribute);

		for (i2 = 0; i2 < e->nattrs; i2++)
			if (strncasecmp(e->attrs[i2].name,
			    cfg->groups.member_attribute, n) == 0 &&
			    strncasecmp(e->attrs[i2].name + n, ";range=", 7) == 0)
				return err_set(err, L2S_EUNSAFE, "group '%s': the "
				    "server sent '%s' (ranged retrieval), which "
				    "this version does not follow: the read is "
				    "incomplete", e->dn, e->attrs[i2].name);
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	g->rec = r;
	ma = entry_attr(e, cfg->groups.member_attribute);
	if (ma != NULL && ma->nvals > 0) {
		g->dns = calloc(ma->nvals, sizeof(*g->dns));
		if (g->dns == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	for (i = 0; ma != NULL && i < ma->nvals; i++) {
		char *dn;
		struct err derr = ERR_INIT;

		dn = strndup(ma->vals[i].p, ma->vals[i].len);
		if (dn == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		rc = ldap_dn_norm(dn, &norm, &derr);
		free(dn);
		if (rc == L2S_ENOMEM) {
			rc = err_set(err, rc, "out of memory");
			goto done;
		}
		if (rc != L2S_OK)	/* not a DN: no member of ours */
			continue;
		g->dns[g->n++] = norm;
		norm = NULL;
	}
	rc = ldap_dn_norm(e->dn, &norm, err);
	if (rc == L2S_OK && hmap_put(&w->group_by_dn, norm, g, NULL) != 0)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (rc == L2S_OK)
		g = NULL;
done:
	free(norm);
	group_raw_free(g);
	return rc;
}

/*
 * Collect into root->flat the user keys reachable from root: directly, and
 * (flatten) through member groups that the groups search returned.  Each
 * root gets its own walk, marked with its own generation number, so a
 * cycle A -> B -> A gives A and B the same members and always terminates.
 */
static int
flatten(struct source_work *w, struct group_raw *root, int nested,
    unsigned gen)
{
	struct group_raw **stack = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	root->mark = gen;
	if (push_group(&stack, &n, &cap, root) != 0)
		return -1;
	while (n > 0 && rc == 0) {
		struct group_raw *g = stack[--n];

		for (i = 0; i < g->n && rc == 0; i++) {
			struct record *u = hmap_get(&w->user_by_dn, g->dns[i]);
			struct group_raw *sub;

			if (u != NULL) {
				if (hmap_put(&root->flat, u->key, (void *)1, NULL) != 0)
					rc = -1;
				continue;
			}
			if (!nested)
				continue;
			sub = hmap_get(&w->group_by_dn, g->dns[i]);
			if (sub == NULL || sub->mark == gen)	/* out of scope, or seen */
				continue;
			sub->mark = gen;
			if (push_group(&stack, &n, &cap, sub) != 0)
				rc = -1;
		}
	}
	free(stack);
	return rc;
}

int
source_resolve(struct source_result *res, const struct config *cfg,
    struct err *err)
{
	struct source_work *w = res->work;
	const char **keys = NULL;
	size_t pos = 0;
	void *v;
	const char *k;
	unsigned gen = 0;
	int rc = L2S_OK;

	if (w == NULL)
		return L2S_OK;
	/* Managers: DN -> key; a manager outside the users read is dropped. */
	while (hmap_next(&w->managers, &pos, &k, &v)) {
		struct record *u = hmap_get(&res->rs.users, k);
		struct record *mgr = hmap_get(&w->user_by_dn, v);

		if (u != NULL && mgr != NULL && mgr != u &&
		    attrs_set(&u->attrs, SCIM_MANAGER_PATH, mgr->key) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
	}
	pos = 0;
	while (hmap_next(&w->group_by_dn, &pos, NULL, &v)) {
		struct group_raw *g = v;
		size_t n = 0, fpos = 0;

		if (flatten(w, g, cfg->groups.nested == NESTED_FLATTEN, ++gen) != 0)
			goto nomem;
		free(keys);
		keys = malloc((g->flat.len + 1) * sizeof(*keys));
		if (keys == NULL)
			goto nomem;
		while (hmap_next(&g->flat, &fpos, &k, NULL))
			keys[n++] = k;
		if (record_set_members(g->rec, keys, n) != 0)
			goto nomem;
	}
	goto done;
nomem:
	rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	free(keys);
	return rc;
}

/* The attributes a search must ask for: key, what the templates use, extra. */
static int
attr_list(const char ***out, const char *key, const struct mapping *m,
    const struct template *t, const char *extra)
{
	const char **a;
	size_t n = 0, cap = 4, i, j;

	if (m != NULL)
		for (i = 0; i < mapping_count(m); i++)
			cap += template_nattrs(mapping_template(m, i));
	if (t != NULL)
		cap += template_nattrs(t);
	a = calloc(cap, sizeof(*a));
	if (a == NULL)
		return -1;
	a[n++] = key;
	if (extra != NULL)
		a[n++] = extra;
	for (i = 0; m != NULL && i < mapping_count(m); i++) {
		const struct template *mt = mapping_template(m, i);

		for (j = 0; j < template_nattrs(mt); j++)
			a[n++] = template_attr(mt, j);
	}
	for (j = 0; t != NULL && j < template_nattrs(t); j++)
		a[n++] = template_attr(t, j);
	/* Drop repeats (case-insensitive); order does not matter to LDAP. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcasecmp(a[i], a[j]) == 0)
				a[j--] = a[--n];
	a[n] = NULL;
	*out = a;
	return 0;
}

struct search_ctx {
	struct source_result *res;
	const struct config *cfg;
};

static int
on_disabled(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;
	const struct value *kv = entry_first(e, ctx->cfg->users.key);
	char *key = NULL;
	int rc;

	if (kv == NULL || source_key_text(ctx->cfg->users.key, kv, &key) != L2S_OK)
		return L2S_OK;	/* noted when the users search meets it */
	rc = hmap_put(&ctx->res->work->disabled, key, (void *)1, NULL);
	free(key);
	return rc == 0 ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
}

static int
on_user(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;
	const struct value *kv = entry_first(e, ctx->cfg->users.key);
	char *key = NULL;
	int disabled = 0;

	if (kv != NULL && source_key_text(ctx->cfg->users.key, kv, &key) == L2S_OK)
		disabled = hmap_get(&ctx->res->work->disabled, key) != NULL;
	free(key);
	return source_add_user(ctx->res, ctx->cfg, e, disabled, err);
}

static int
on_group(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;

	return source_add_group(ctx->res, ctx->cfg, e, err);
}

int
source_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err)
{
	struct search_ctx ctx = { res, cfg };
	struct source_work *w = NULL;
	const char **attrs = NULL;
	const char *keyonly[2] = { cfg->users.key, NULL };
	char *filter = NULL;
	int rc;

	res->rs.complete = 0;
	rc = work_get(res, &w, err);
	if (rc != L2S_OK)
		return rc;
	if (cfg->users.disabled_filter != NULL) {
		size_t n = strlen(cfg->users.filter) +
		    strlen(cfg->users.disabled_filter) + 4;

		filter = malloc(n);
		if (filter == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		snprintf(filter, n, "(&%s%s)", cfg->users.filter,
		    cfg->users.disabled_filter);
		rc = ldapconn_search(c, cfg->users.base_dn, filter, keyonly,
		    on_disabled, &ctx, err);
		free(filter);
		if (rc != L2S_OK)
			return rc;
	}
	if (attr_list(&attrs, cfg->users.key, cfg->users.map, NULL, NULL) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = ldapconn_search(c, cfg->users.base_dn, cfg->users.filter, attrs,
	    on_user, &ctx, err);
	free(attrs);
	attrs = NULL;
	if (rc != L2S_OK)
		return rc;
	if (cfg->groups.enabled) {
		if (attr_list(&attrs, cfg->groups.key, NULL, cfg->groups.name,
		    cfg->groups.member_attribute) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
		rc = ldapconn_search(c, cfg->groups.base_dn, cfg->groups.filter,
		    attrs, on_group, &ctx, err);
		free(attrs);
		if (rc != L2S_OK)
			return rc;
	}
	rc = source_resolve(res, cfg, err);
	if (rc != L2S_OK)
		return rc;
	res->rs.complete = 1;
	return L2S_OK;
}
