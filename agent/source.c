/*
 * source.c - read the directory into canonical records
 *
 * All-or-nothing: the readset is complete only when the disabled, users
 * and groups searches all returned every page.  The diff refuses an
 * incomplete read, so nothing here ever has to guess.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "adattr.h"
#include "buf.h"
#include "compiler.h"
#include "dn.h"
#include "filter.h"
#include "glob.h"
#include "hmap.h"
#include "ldap.h"
#include "log.h"
#include "mapping.h"
#include "photo.h"
#include "progress.h"
#include "source.h"
#include "utf8.h"

struct group_raw;

/*
 * A normalised DN the read met (an entry's or a member value's), with what
 * the read found under it.  Member values point at these: a value is looked
 * up by its bytes as the server wrote them (dnref_of_h()), and resolving
 * it then takes no further lookup.
 */
struct dnref {
	struct record *user;	/* borrowed from rs.users, or NULL */
	const char *key;	/* user's key (the pool's), or NULL: what
				 * flattening a group needs, without
				 * reading the record */
	struct group_raw *group;	/* borrowed from group_by_dn, or NULL */
	int plain;		/* norm is plain (dn_plain()): the same bytes
				 * written by the server are a DN whose
				 * normal form is norm */
	char norm[];
};

struct group_raw {
	struct record *rec;	/* borrowed from rs.groups; NULL when the group
				 * is out of scope (groups.include/exclude) and
				 * read only for the nesting through it */
	char *dn;		/* owned, as the server wrote it */
	struct dnref **m;	/* owned array of borrowed member DNs */
	size_t n, cap;
	long range_next;	/* AD: first member value still to read, or -1 */
	char *usn;		/* owned: uSNChanged when the first range came */
	char *uuid;		/* owned: its snapshot name (incremental) */
	unsigned mark;		/* flatten: the generation that last saw it */
	struct hmap flat;	/* flatten result: user key -> (void *)1 */
};

struct source_work {
	struct hmap dns;		/* norm DN -> struct dnref * (owned) */
	struct hmap group_by_dn;	/* norm DN -> struct group_raw * (owned) */
	struct hmap user_names;		/* lower userName -> struct record * */
	struct hmap group_names;	/* lower name -> struct record * */
	struct hmap managers;		/* user key -> its manager's struct
					 * dnref * (borrowed) */
	struct hmap disabled;		/* user key -> (void *)1 */
	struct hmap raw;		/* a DN as the server wrote it (an
					 * entry's or a member value) -> its
					 * struct dnref * (borrowed), when that
					 * is not the normal form already (see
					 * dnref_of_h()): member values are
					 * mostly written the same way, and
					 * normalising is costly */
	struct group_raw **ranged;	/* groups with member ranges to read
					 * (borrowed from group_by_dn) */
	size_t nranged, ranged_cap;
	int ad;				/* the directory is Active Directory */
	const struct mapping *pmap;	/* the users map paths[] is for */
	const char **paths;		/* owned array: its paths, the pool's */
	const char *active;		/* "active", the pool's */
	size_t *order;			/* owned array: its rules' indexes,
					 * their paths in strcmp() order */
	struct buf val, seg;		/* a mapped value, and scratch:
					 * reused from value to value */
};

static void
group_raw_free(void *p)
{
	struct group_raw *g = p;

	if (g == NULL)
		return;
	free(g->m);
	free(g->dn);
	free(g->usn);
	free(g->uuid);
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
	hmap_free(&w->dns, free);
	hmap_free(&w->group_by_dn, group_raw_free);
	hmap_free(&w->user_names, NULL);
	hmap_free(&w->group_names, NULL);
	hmap_free(&w->managers, NULL);
	hmap_free(&w->disabled, NULL);
	hmap_free(&w->raw, NULL);
	free(w->ranged);
	free(w->paths);
	free(w->order);
	buf_free(&w->val);
	buf_free(&w->seg);
	free(w);
}

void
source_result_init(struct source_result *res)
{
	memset(res, 0, sizeof(*res));
	readset_init(&res->rs);
}

void
source_done(struct source_result *res)
{
	work_free(res->work);
	res->work = NULL;
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
	hmap_free(&res->photo_kept, free);
	memset(res, 0, sizeof(*res));
}

/* Size the tables for the objects the read expects (source.h), so that
 * they are not grown a dozen times on the way, each time copied. */
static int
sized(struct source_result *res)
{
	struct source_work *w = res->work;
	size_t nu = res->expect_users, ng = res->expect_groups;

	if (nu + ng == 0)
		return 0;
	return hmap_reserve(&res->rs.users, nu) != 0 ||
	    hmap_reserve(&res->rs.groups, ng) != 0 ||
	    hmap_reserve(&w->dns, nu + ng) != 0 ||
	    hmap_reserve(&w->user_names, nu) != 0 ||
	    hmap_reserve(&w->group_by_dn, ng) != 0 ||
	    hmap_reserve(&w->group_names, ng) != 0 ||
	    record_pool_reserve(nu + ng) != 0 ? -1 : 0;
}

static int
work_get(struct source_result *res, struct source_work **out, struct err *err)
{
	if (res->work == NULL) {
		res->work = calloc(1, sizeof(*res->work));
		if (res->work == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		/* Keyed by each dnref's own norm[]. */
		res->work->dns = (struct hmap)HMAP_INIT_BORROWED;
		/* Keyed by the users' keys, the pool's (record.h): the same
		 * pointers as in rs.users, so joining the two compares no
		 * strings. */
		res->work->managers = (struct hmap)HMAP_INIT_BORROWED;
		if (sized(res) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
	}
	*out = res->work;
	return L2S_OK;
}

/* Is the directory Active Directory (configured, or found by source_read)? */
static int
is_ad(const struct source_work *w, const struct config *cfg)
{
	return cfg->ldap.dialect == DIALECT_AD || w->ad;
}

/* The key attributes: objectGUID on AD unless the config names one. */
static const char *
user_key(const struct source_work *w, const struct config *cfg)
{
	return cfg->users.key_auto && is_ad(w, cfg) ? "objectGUID" :
	    cfg->users.key;
}

static const char *
group_key(const struct source_work *w, const struct config *cfg)
{
	return cfg->groups.key_auto && is_ad(w, cfg) ? "objectGUID" :
	    cfg->groups.key;
}

/* The text of e's user key (caller frees), or NULL when it has none that
 * can be used (record_start() notes that entry). */
static char *
entry_user_key(const struct source_work *w, const struct config *cfg,
    const struct entry *e)
{
	const char *ka = user_key(w, cfg);
	const struct value *kv = entry_first(e, ka);
	char *key = NULL;

	if (kv != NULL && source_key_text(ka, kv, &key) != L2S_OK)
		key = NULL;
	return key;
}

static int
note_add(struct source_result *res, enum rec_kind kind, const char *dn,
    const char *reason, struct err *err)
{
	struct source_note *n;

	n = realloc(res->notes, (res->nnotes + 1) * sizeof(*n));
	if (n == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	res->notes = n;
	n[res->nnotes].kind = kind;
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
	*out = NULL;
	if (adattr_is_guid(attr) && v->len == 16) {
		*out = malloc(ADATTR_GUID_LEN + 1);
		if (*out == NULL)
			return L2S_ENOMEM;
		(void)adattr_guid_text(v->p, v->len, *out);
		return L2S_OK;
	}
	if (v->len == 0 || !utf8_valid(v->p, v->len))
		return L2S_EPARSE;
	*out = str_ndup(v->p, v->len);
	return *out != NULL ? L2S_OK : L2S_ENOMEM;
}

/* s in lower case into d (room for strlen(s) + 1); d. */
static char *
lower_into(char *d, const char *s)
{
	size_t i = 0;

	do
		d[i] = (char)tolower((unsigned char)s[i]);
	while (s[i++] != '\0');
	return d;
}

static char *
lower_dup(const char *s)
{
	char *d = malloc(strlen(s) + 1);

	return d != NULL ? lower_into(d, s) : NULL;
}

/* Register r's name in names; two objects with one name are both held.
 * The table keeps a copy of the lower-case name: a short one is made on
 * the stack here. */
static int
claim_name(struct hmap *names, struct record *r, const char *what,
    struct err *err)
{
	struct record *other;
	char small[128], *lname, reason[512];
	void *v;
	int rc;

	lname = strlen(r->name) < sizeof(small) ? lower_into(small, r->name) :
	    lower_dup(r->name);
	if (lname == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = hmap_put_new(names, lname, r, &v);
	if (lname != small)
		free(lname);
	if (rc < 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	if (rc == 0)
		return L2S_OK;
	other = v;
	snprintf(reason, sizeof(reason), "%s '%s' is also used by '%s'", what,
	    r->name, other->dn);
	rc = hold(r, reason, err);
	if (rc != L2S_OK)
		return rc;
	snprintf(reason, sizeof(reason), "%s '%s' is also used by '%s'", what,
	    other->name, r->dn);
	return hold(other, reason, err);
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
	void *was;
	int rc;

	*out = NULL;
	res->rs.nentries++;
	if (kv == NULL) {
		snprintf(reason, sizeof(reason), "no '%s' attribute: skipped",
		    keyattr);
		return note_add(res, kind, e->dn, reason, err);
	}
	rc = source_key_text(keyattr, kv, &key);
	if (rc == L2S_ENOMEM)
		return err_set(err, rc, "out of memory");
	if (rc != L2S_OK) {
		snprintf(reason, sizeof(reason), "'%s' is not a usable key: "
		    "skipped", keyattr);
		return note_add(res, kind, e->dn, reason, err);
	}
	r = record_new(kind, key);
	free(key);
	if (r == NULL)
		goto nomem;
	/* one lookup: the key goes in unless it came before */
	rc = hmap_put_new(into, r->key, r, &was);
	if (rc < 0)
		goto nomem;
	if (rc > 0) {
		snprintf(reason, sizeof(reason), "the same '%s' came twice: "
		    "skipped", keyattr);
		record_free(r);
		return note_add(res, kind, e->dn, reason, err);
	}
	if ((r->dn = strdup(e->dn)) == NULL) {
		hmap_del(into, r->key);
		goto nomem;
	}
	*out = r;
	return L2S_OK;
nomem:
	record_free(r);
	return err_set(err, L2S_ENOMEM, "out of memory");
}

/* A dnref with room for a normal form of len bytes; NULL out of memory. */
static struct dnref *
dnref_alloc(size_t len)
{
	return malloc(sizeof(struct dnref) + len + 1);
}

/* The dnref of the normalised DN of len bytes at norm, whose hmap_hashn()
 * is h, made when new (plain: whether norm is plain); NULL out of memory.
 * mine, when not NULL, is a dnref from dnref_alloc() that already holds
 * norm: it becomes the new one, or is freed when norm was known. */
static struct dnref *
dnref_get_h(struct source_work *w, struct dnref *mine, const char *norm,
    size_t len, uint64_t h, int plain)
{
	struct dnref *d = hmap_getn_h(&w->dns, norm, len, h);

	if (d != NULL) {
		free(mine);
		return d;
	}
	d = mine != NULL ? mine : dnref_alloc(len);
	if (d == NULL)
		return NULL;
	d->user = NULL;
	d->key = NULL;
	d->group = NULL;
	d->plain = plain;
	if (d != mine) {
		memcpy(d->norm, norm, len);
		d->norm[len] = '\0';
	}
	if (hmap_put_h(&w->dns, d->norm, h, d, NULL) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static struct dnref *
dnref_get(struct source_work *w, const char *norm, int plain)
{
	size_t len = strlen(norm);

	return dnref_get_h(w, NULL, norm, len, hmap_hashn(norm, len), plain);
}

/* dnref_of_h() for a written form not met before (len bytes at dn, whose
 * hash is h).  A plain one's normal form is itself in lower case (dn.h),
 * written straight into the new dnref; any other goes through
 * ldap_dn_norm(). */
static int
dnref_add(struct source_work *w, const char *dn, size_t len, uint64_t h,
    struct dnref **out, struct err *err)
{
	struct err derr = ERR_INIT;
	struct dnref *mine;
	char *raw = NULL, *norm = NULL;
	int rc = L2S_OK, same;

	if (dn_plainn(dn, len)) {
		if ((mine = dnref_alloc(len)) == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		dn_lower_to(mine->norm, dn, len);
		same = memcmp(mine->norm, dn, len) == 0;
		*out = dnref_get_h(w, mine, mine->norm, len,
		    same ? h : hmap_hashn(mine->norm, len), 1);
		if (*out == NULL)
			rc = L2S_ENOMEM;
		/* an upper-case letter: remembered as written too */
		else if (!same && ((raw = str_ndup(dn, len)) == NULL ||
		    hmap_put_h(&w->raw, raw, h, *out, NULL) != 0))
			rc = L2S_ENOMEM;
		free(raw);
		return rc == L2S_OK ? L2S_OK :
		    err_set(err, rc, "out of memory");
	}
	raw = str_ndup(dn, len);
	if (raw == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = ldap_dn_norm(raw, &norm, &derr);
	if (rc == L2S_OK) {
		*out = dnref_get(w, norm, dn_plain(norm));
		if (*out == NULL || hmap_put_h(&w->raw, raw, h, *out, NULL) != 0)
			rc = L2S_ENOMEM;
	} else if (rc != L2S_ENOMEM) {
		rc = L2S_OK;	/* not a DN */
	}
	free(norm);
	free(raw);
	return rc == L2S_OK ? L2S_OK : err_set(err, rc, "out of memory");
}

/* The table where dnref_of_h() will mostly find DNs: w->raw when it
 * holds most written forms (they are not normal forms), else w->dns. */
static const struct hmap *
dnref_table(const struct source_work *w)
{
	return w->raw.len * 2 > w->dns.len ? &w->raw : &w->dns;
}

/*
 * The dnref of a DN as the server wrote it (len bytes at dn, whose
 * hmap_hashn() is h): looked up as written, else normalised and remembered
 * under the written form too.  *out is NULL when the text is not a DN.
 * L2S_OK or L2S_ENOMEM (err set).
 *
 * A plain DN in lower case (dn_plain(): what OpenLDAP writes for most
 * entries) is its own normal form, so it is not remembered twice: it is
 * found among the normal forms, w->dns, under the same bytes.  Only other
 * written forms (Active Directory's "CN=...,DC=...") go into w->raw.
 */
static struct dnref *
dnref_find(const struct source_work *w, const struct hmap *m, const char *dn,
    size_t len, uint64_t h)
{
	struct dnref *d = hmap_getn_h(m, dn, len, h);

	/* in w->dns: the same bytes as a plain normal form are their own */
	return d != NULL && m == &w->dns && !d->plain ? NULL : d;
}

static int
dnref_of_h(struct source_work *w, const char *dn, size_t len, uint64_t h,
    struct dnref **out, struct err *err)
{
	const struct hmap *first = dnref_table(w);

	*out = dnref_find(w, first, dn, len, h);
	if (*out == NULL)
		*out = dnref_find(w, first == &w->raw ? &w->dns : &w->raw, dn,
		    len, h);
	return *out != NULL ? L2S_OK : dnref_add(w, dn, len, h, out, err);
}

static int
dnref_of(struct source_work *w, const char *dn, size_t len,
    struct dnref **out, struct err *err)
{
	return dnref_of_h(w, dn, len, hmap_hashn(dn, len), out, err);
}

/* Index user r under its DN; L2S_EPARSE (err set) when dn is no DN. */
static int
index_user(struct source_work *w, const char *dn, struct record *r,
    struct err *err)
{
	struct dnref *d;
	int rc;

	rc = dnref_of(w, dn, strlen(dn), &d, err);
	if (rc != L2S_OK)
		return rc;
	if (d == NULL)
		return err_set(err, L2S_EPARSE, "invalid DN '%s'", dn);
	d->user = r;
	d->key = r->key;
	return L2S_OK;
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

/* users.photo: the image as a published file, its URL in photos.  An
 * image that is not one, or that cannot be written, is noted in
 * photo_kept: the cycle keeps the photo the service shows (sending none
 * would remove it), and the rest of the user goes on, a deactivation
 * included. */
static int
user_photo(struct source_result *res, const struct config *cfg,
    const struct entry *e, struct record *r, struct err *err)
{
	struct config_users u = cfg->users;
	struct err perr = ERR_INIT;
	char *url = NULL, *old = NULL;
	int rc;

	if (u.photo_auto && is_ad(res->work, cfg))
		u.photo_attribute = "thumbnailPhoto";
	rc = photo_publish(&u, e, res->photo_write, &url, &perr);
	if (rc == L2S_OK && attrs_set(&r->attrs, PHOTO_PATH, url) != 0)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	else if (rc == L2S_ENOTFOUND)
		rc = L2S_OK;
	else if (rc == L2S_EPARSE || rc == L2S_EIO) {
		char *why = strdup(perr.msg);

		rc = why != NULL && hmap_put(&res->photo_kept, r->key, why,
		    (void **)&old) == 0 ? L2S_OK :
		    err_set(err, L2S_ENOMEM, "out of memory");
		if (rc != L2S_OK)
			free(why);
		free(old);
	} else if (rc != L2S_OK)
		rc = err_set(err, rc, "%s", perr.msg);
	free(url);
	return rc;
}

/*
 * The pool's copies of the users map's paths, and the order in which a
 * user's rules are rendered: that of their paths, the order of a record's
 * attributes (record.h), so that each value set goes after the last one
 * instead of being searched for a place.
 */
static int
map_paths(struct source_work *w, const struct mapping *m, struct err *err)
{
	size_t i, j, n = mapping_count(m);

	if (w->pmap == m)
		return L2S_OK;
	free(w->paths);
	free(w->order);
	w->pmap = NULL;
	w->paths = malloc((n > 0 ? n : 1) * sizeof(*w->paths));
	w->order = malloc((n > 0 ? n : 1) * sizeof(*w->order));
	if (w->paths == NULL || w->order == NULL ||
	    (w->active = record_pooled("active")) == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((w->paths[i] = record_pooled(mapping_path(m, i))) == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		/* insertion sort: a map has a handful of rules */
		for (j = i; j > 0 && strcmp(w->paths[w->order[j - 1]],
		    w->paths[i]) > 0; j--)
			w->order[j] = w->order[j - 1];
		w->order[j] = i;
	}
	w->pmap = m;
	return L2S_OK;
}

int
source_add_user(struct source_result *res, const struct config *cfg,
    const struct entry *e, int disabled, struct err *err)
{
	const struct mapping *m = cfg->users.map;
	struct source_work *w = NULL;
	struct record *r;
	struct err verr;
	const char *val;
	size_t k, i;
	int rc;

	err_clear(&verr);
	rc = work_get(res, &w, err);
	if (rc == L2S_OK)
		rc = map_paths(w, m, err);
	if (rc == L2S_OK)
		rc = record_start(res, REC_USER, user_key(w, cfg), e,
		    &res->rs.users, &r, err);
	if (rc != L2S_OK || r == NULL)
		return rc;
	/* every path mapped, and "active" */
	if (attrs_reserve(&r->attrs, mapping_count(m) + 1) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	for (k = 0; k < mapping_count(m); k++) {
		const char *path = w->paths[i = w->order[k]];

		rc = template_render_buf(mapping_template(m, i), e, &w->val,
		    &w->seg, &verr);
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
		if (w->val.len == 0)
			continue;
		val = buf_str(&w->val);
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
			struct dnref *d;

			/* A manager that is not a DN is dropped, not fatal.
			 * One read already is set now, while this record is
			 * in the cache (a directory tends to hold managers
			 * before their reports); the others once the read is
			 * done (set_managers()). */
			rc = dnref_of(w, val, strlen(val), &d, err);
			if (rc == L2S_OK && d != NULL && d->key != NULL) {
				if (attrs_set_pooled(&r->attrs, path, d->key,
				    strlen(d->key)) != 0)
					rc = L2S_ENOMEM;
				break;
			}
			if (rc == L2S_OK && d != NULL &&
			    hmap_put(&w->managers, r->key, d, NULL) != 0)
				rc = L2S_ENOMEM;
			break;
		}
		case MAP_STRING:
			rc = attrs_set_pooled(&r->attrs, path, val,
			    w->val.len);
			break;
		}
		if (rc != L2S_OK) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (cfg->users.photo_dir != NULL) {
		rc = user_photo(res, cfg, e, r, err);
		if (rc != L2S_OK)
			goto done;
	}
	/* The disabled filter wins over a mapped "active". */
	if (disabled || attrs_get(&r->attrs, w->active) == NULL) {
		if (attrs_set_pooled(&r->attrs, w->active, disabled ? "false" :
		    "true", disabled ? 5 : 4) != 0) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (cfg->users.nemail_domains > 0) {
		char reason[512];

		if (!email_domain_ok(cfg, &r->attrs, reason, sizeof(reason))) {
			/* Out of scope, as if the users filter left it out. */
			record_free(hmap_del(&res->rs.users, r->key));
			rc = note_add(res, REC_USER, e->dn, reason, err);
			goto done;
		}
	}
	/* Indexed even when held below: a held user is left as it is, and
	 * that includes the groups it is a member of. */
	rc = index_user(w, e->dn, r, err);
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
	return rc;
}

/* Does name (lower case) match one of the n glob patterns (any case)? */
static int
name_matches(const char *lname, char *const *pats, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *lp = lower_dup(pats[i]);
		int m;

		if (lp == NULL)
			return -1;
		m = glob_match(lp, lname);
		free(lp);
		if (m)
			return 1;
	}
	return 0;
}

/* groups.include / groups.exclude: 1 in scope, 0 out, -1 out of memory. */
static int
group_in_scope(const struct config *cfg, const char *name)
{
	char *lname;
	int in = 1, m;

	if (cfg->groups.ninclude == 0 && cfg->groups.nexclude == 0)
		return 1;
	lname = lower_dup(name);
	if (lname == NULL)
		return -1;
	if (cfg->groups.ninclude > 0) {
		m = name_matches(lname, cfg->groups.include,
		    cfg->groups.ninclude);
		in = m < 0 ? -1 : m;
	}
	if (in == 1) {
		m = name_matches(lname, cfg->groups.exclude,
		    cfg->groups.nexclude);
		in = m < 0 ? -1 : !m;
	}
	free(lname);
	return in;
}

/*
 * Is name "ATTR;range=LO-HI" (or "LO-*") for attr?  1 with *lo and *hi
 * (-1 for '*') set, 0 when it is another attribute, -1 when the range is
 * malformed (or empty, which would never end).
 */
static int
range_parse(const char *name, const char *attr, long *lo, long *hi)
{
	size_t n = strlen(attr);
	const char *p;
	char *end;

	if (strncasecmp(name, attr, n) != 0 ||
	    strncasecmp(name + n, ";range=", 7) != 0)
		return 0;
	p = name + n + 7;
	if (!isdigit((unsigned char)*p))
		return -1;
	*lo = strtol(p, &end, 10);
	if (*end != '-' || *lo < 0 || *lo == LONG_MAX)
		return -1;
	p = end + 1;
	if (strcmp(p, "*") == 0) {
		*hi = -1;
		return 1;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	*hi = strtol(p, &end, 10);
	if (*end != '\0' || *hi < *lo || *hi == LONG_MAX)
		return -1;
	return 1;
}

/* A closed range LO-HI holds exactly HI-LO+1 values: fewer would leave
 * members unread between this range and the next. */
static int
range_complete(const struct entry_attr *a, long lo, long hi)
{
	return hi < 0 || (unsigned long)(hi - lo) + 1 == a->nvals;
}

/* The first value of attr in e as a string (caller frees), or NULL. */
static char *
value_dup(const struct entry *e, const char *attr)
{
	const struct value *v = entry_first(e, attr);

	return v != NULL ? str_ndup(v->p, v->len) : NULL;
}

/* Append a's values that are DNs to g's members. */
static int
group_add_members(struct source_work *w, struct group_raw *g,
    const struct entry_attr *a, struct err *err)
{
	const struct hmap *ahead;
	struct dnref *d;
	uint64_t *h;
	size_t i, n = a->nvals;
	int rc;

	if (n > g->cap - g->n) {
		size_t cap = g->n + n;
		struct dnref **m = realloc(g->m, cap * sizeof(*m));

		if (m == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		g->m = m;
		g->cap = cap;
	}
	/* Hashes first, so that each lookup can ask for the ones ahead
	 * (hmap_prefetch_slot()): thousands of values, each a lookup in a
	 * table of every DN read. */
	h = malloc((n > 0 ? n : 1) * sizeof(*h));
	if (h == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		h[i] = hmap_hashn(a->vals[i].p, a->vals[i].len);
	ahead = dnref_table(w);
	for (i = 0, rc = L2S_OK; i < n && rc == L2S_OK; i++) {
		if (i + HMAP_AHEAD_SLOT < n)
			hmap_prefetch_slot(ahead, h[i + HMAP_AHEAD_SLOT]);
		if (i + HMAP_AHEAD_KEY < n)
			hmap_prefetch_key(ahead, h[i + HMAP_AHEAD_KEY]);
		rc = dnref_of_h(w, a->vals[i].p, a->vals[i].len, h[i], &d, err);
		if (rc == L2S_OK && d != NULL)	/* else not a DN: no member */
			g->m[g->n++] = d;
	}
	free(h);
	return rc;
}

int
source_add_group(struct source_result *res, const struct config *cfg,
    const struct entry *e, struct err *err)
{
	struct source_work *w = NULL;
	struct group_raw *g = NULL;
	struct record *r;
	struct dnref *d = NULL;
	struct err verr;
	char *norm = NULL;
	size_t i;
	int in_scope, rc;

	err_clear(&verr);
	rc = work_get(res, &w, err);
	if (rc == L2S_OK)
		rc = record_start(res, REC_GROUP, group_key(w, cfg), e,
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
	in_scope = group_in_scope(cfg, r->name);
	if (in_scope < 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	if (!in_scope) {
		/* As if the groups filter left it out, but its members still
		 * count for the groups it is nested in. */
		record_free(hmap_del(&res->rs.groups, r->key));
		r = NULL;
	} else {
		if (cfg->groups.prefix != NULL) {
			char *named = malloc(strlen(cfg->groups.prefix) +
			    strlen(r->name) + 1);

			if (named == NULL)
				return err_set(err, L2S_ENOMEM, "out of memory");
			strcpy(named, cfg->groups.prefix);
			strcat(named, r->name);
			free(r->name);
			r->name = named;
		}
		if (attrs_set(&r->attrs, "displayName", r->name) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
		rc = claim_name(&w->group_names, r, "group name", err);
		if (rc != L2S_OK)
			return rc;
	}

	g = calloc(1, sizeof(*g));
	if (g == NULL || (g->dn = strdup(e->dn)) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	g->rec = r;
	g->range_next = -1;
	for (i = 0; i < e->nattrs; i++) {
		const struct entry_attr *a = &e->attrs[i];
		long lo, hi;
		int ranged;

		if (strcasecmp(a->name, cfg->groups.member_attribute) == 0) {
			rc = group_add_members(w, g, a, err);
			if (rc != L2S_OK)
				goto done;
			continue;
		}
		ranged = range_parse(a->name, cfg->groups.member_attribute,
		    &lo, &hi);
		if (ranged == 0)
			continue;
		/* Active Directory sends a long member list in ranges; the
		 * first must start at 0, the rest is read after the search. */
		if (ranged < 0 || lo != 0) {
			rc = err_set(err, L2S_EUNSAFE, "group '%s': the server "
			    "sent '%s', not the first range of its members: "
			    "the read is incomplete", e->dn, a->name);
			goto done;
		}
		if (!range_complete(a, lo, hi)) {
			rc = err_set(err, L2S_EUNSAFE, "group '%s': the server "
			    "sent '%s' with %zu values: the read is incomplete",
			    e->dn, a->name, a->nvals);
			goto done;
		}
		rc = group_add_members(w, g, a, err);
		if (rc != L2S_OK)
			goto done;
		if (hi >= 0) {
			/* The rest is read later: notice if the group changes
			 * meanwhile (AD's ranges are not a snapshot). */
			g->range_next = hi + 1;
			g->usn = value_dup(e, "uSNChanged");
		}
	}
	rc = ldap_dn_norm(e->dn, &norm, err);
	if (rc == L2S_OK && (d = dnref_get(w, norm, dn_plain(norm))) == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (rc == L2S_OK && d->group != NULL) {
		/* Two groups under one DN (a server that sent two entries
		 * whose DNs differ in case only, say): which one a member
		 * value names is unknown, so neither changes. */
		static const char why[] = "another group has the same DN";

		if (r != NULL)
			rc = hold(r, why, err);
		if (rc == L2S_OK && d->group->rec != NULL)
			rc = hold(d->group->rec, why, err);
		goto done;
	}
	if (rc == L2S_OK && hmap_put(&w->group_by_dn, norm, g, NULL) != 0)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (rc != L2S_OK)
		goto done;
	/* Indexed: from here on group_by_dn owns g. */
	d->group = g;
	if (g->range_next >= 0 && push_group(&w->ranged, &w->nranged,
	    &w->ranged_cap, g) != 0)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
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
/* A growing list of borrowed keys. */
struct keyv {
	const char **v;
	size_t n, cap;
};

static int
keyv_add(struct keyv *kv, const char *k)
{
	if (kv->n == kv->cap) {
		size_t c = kv->cap ? kv->cap * 2 : 64;
		const char **nv = realloc(kv->v, c * sizeof(*nv));

		if (nv == NULL)
			return -1;
		kv->v = nv;
		kv->cap = c;
	}
	kv->v[kv->n++] = k;
	return 0;
}

static int
flatten(struct group_raw *root, int nested, unsigned gen, struct keyv *out)
{
	struct group_raw **stack = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	out->n = 0;
	root->mark = gen;
	if (push_group(&stack, &n, &cap, root) != 0)
		return -1;
	while (n > 0 && rc == 0) {
		struct group_raw *g = stack[--n];

		for (i = 0; i < g->n && rc == 0; i++) {
			struct dnref *d = g->m[i];
			struct group_raw *sub;

			if (i + HMAP_AHEAD_KEY < g->n)
				L2S_PREFETCH(g->m[i + HMAP_AHEAD_KEY]);

			if (d->key != NULL) {	/* repeats go in
						 * record_set_member_keys */
				rc = keyv_add(out, d->key);
				continue;
			}
			if (!nested)
				continue;
			sub = d->group;
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

/*
 * Managers: DN -> key, for the users whose manager was not read yet when
 * they were (source_add_user() sets the others); a manager outside the
 * users read is dropped.  The
 * users and their managers' dnrefs are paired first (the join), then each
 * user's attributes, read long ago, are asked for MGR_AHEAD users ahead
 * and its manager's key half as far, so that the waits overlap.
 */
#define MGR_AHEAD 8

struct mgr_pair {
	struct record *u;
	const struct dnref *d;
};

static int
set_managers(struct source_work *w, struct source_result *res,
    struct err *err)
{
	struct mgr_pair *p;
	const char *mpath, *k;
	size_t pos = 0, n = 0, i;
	void *v, *uv;
	int rc = L2S_OK;

	if (w->managers.len == 0)
		return L2S_OK;
	mpath = record_pooled(SCIM_MANAGER_PATH);
	p = malloc(w->managers.len * sizeof(*p));
	if (p == NULL || mpath == NULL) {
		free(p);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	while (hmap_next_join(&w->managers, &res->rs.users, &pos, &k, &v,
	    &uv)) {
		const struct dnref *d = v;

		/* the user still read, its manager a user read, not itself */
		if (uv != NULL && d->key != NULL && d->user != uv) {
			p[n].u = uv;
			p[n++].d = d;
		}
	}
	for (i = 0; i < n && rc == L2S_OK; i++) {
		if (i + MGR_AHEAD < n)
			attrs_prefetch(&p[i + MGR_AHEAD].u->attrs);
		if (i + MGR_AHEAD / 2 < n)
			L2S_PREFETCH(p[i + MGR_AHEAD / 2].d->key);
		if (attrs_set_pooled(&p[i].u->attrs, mpath, p[i].d->key,
		    strlen(p[i].d->key)) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
	}
	free(p);
	return rc;
}

int
source_resolve(struct source_result *res, const struct config *cfg,
    struct err *err)
{
	struct source_work *w = res->work;
	struct keyv keys = { NULL, 0, 0 };
	size_t pos = 0;
	void *v;
	const char *k;
	unsigned gen = 0;
	int rc = L2S_OK;

	if (w == NULL)
		return L2S_OK;
	rc = set_managers(w, res, err);
	if (rc != L2S_OK)
		return rc;
	while (hmap_next(&w->group_by_dn, &pos, NULL, &v)) {
		struct group_raw *g = v;
		size_t fpos = 0;

		/* A member list with ranges still unread is not the list. */
		if (g->range_next >= 0) {
			rc = err_set(err, L2S_EUNSAFE, "group '%s': members from "
			    "%ld on were not read: the read is incomplete",
			    g->dn, g->range_next);
			goto done;
		}

		if (g->rec == NULL)	/* out of scope, read for nesting */
			continue;
		if (cfg->groups.nested != NESTED_IN_CHAIN) {
			if (flatten(g, cfg->groups.nested == NESTED_FLATTEN,
			    ++gen, &keys) != 0 ||
			    record_set_member_keys(g->rec, keys.v, keys.n) != 0)
				goto nomem;
		} else {	/* in_chain: what the server answered */
			keys.n = 0;
			while (hmap_next(&g->flat, &fpos, &k, NULL))
				if (keyv_add(&keys, k) != 0)
					goto nomem;
			if (record_set_members(g->rec, keys.v, keys.n) != 0)
				goto nomem;
		}
		hmap_free(&g->flat, NULL);
	}
	goto done;
nomem:
	rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	free(keys.v);
	return rc;
}

/* The attributes a search must ask for: key, what the templates use, extra. */
static int
attr_list(const char ***out, const char *key, const struct mapping *m,
    const struct template *t, const char *const *extra)
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
	for (i = 0; extra != NULL && i < 3 && extra[i] != NULL; i++)
		a[n++] = extra[i];
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
	struct progress *progress;	/* owned; NULL when not on a terminal */
};

static int
on_disabled(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;
	char *key = entry_user_key(ctx->res->work, ctx->cfg, e);
	int rc;

	if (key == NULL)
		return L2S_OK;	/* noted when the users search meets it */
	rc = hmap_put(&ctx->res->work->disabled, key, (void *)1, NULL);
	free(key);
	return rc == 0 ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
}

/* The entry's snapshot name, or NULL (the snapshot is then broken). */
static char *
entry_uuid(struct source_result *res, enum rec_kind kind,
    const struct entry *e)
{
	const char *ua = source_uuid_attr(res->ad);
	const struct value *v = entry_first(e, ua);
	char *uuid = NULL, *name = NULL;

	if (v == NULL || source_key_text(ua, v, &uuid) != L2S_OK ||
	    (name = snapshot_name(kind, uuid)) == NULL) {
		res->snap->broken = 1;
		free(uuid);
		return NULL;
	}
	free(uuid);
	return name;
}

static int
on_user(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;
	char *key = entry_user_key(ctx->res->work, ctx->cfg, e), *uuid;
	int disabled = 0, rc;

	if (key != NULL)
		disabled = hmap_get(&ctx->res->work->disabled, key) != NULL;
	free(key);
	progress_update(ctx->progress, ctx->res->rs.nentries + 1);
	rc = source_add_user(ctx->res, ctx->cfg, e, disabled, err);
	if (rc == L2S_OK && ctx->res->snap != NULL &&
	    (uuid = entry_uuid(ctx->res, REC_USER, e)) != NULL) {
		rc = snapshot_put(ctx->res->snap, uuid, REC_USER, disabled, e,
		    NULL, NULL, 0, err);
		free(uuid);
	}
	return rc;
}

static int
on_group(void *arg, const struct entry *e, struct err *err)
{
	struct search_ctx *ctx = arg;
	struct group_raw *g = NULL;
	char *norm = NULL, *uuid, **dns = NULL;
	size_t n = 0;
	int rc;

	progress_update(ctx->progress, ctx->res->rs.nentries + 1);
	rc = source_add_group(ctx->res, ctx->cfg, e, err);
	if (rc != L2S_OK || ctx->res->snap == NULL)
		return rc;
	if ((uuid = entry_uuid(ctx->res, REC_GROUP, e)) == NULL)
		return L2S_OK;
	rc = ldap_dn_norm(e->dn, &norm, err);
	if (rc == L2S_OK)
		g = hmap_get(&ctx->res->work->group_by_dn, norm);
	free(norm);
	/* (A group with a uuid already is another entry's, of the same DN.) */
	if (rc == L2S_OK && g != NULL && g->uuid == NULL) {
		/* The member list is recorded once every range arrived. */
		g->uuid = uuid;
		return snapshot_put(ctx->res->snap, uuid, REC_GROUP, 0, e,
		    ctx->cfg->groups.member_attribute, NULL, 0, err);
	}
	/* A group the read leaves out (no key, a name that renders empty):
	 * recorded all the same, so that a rebuild leaves it out too. */
	if (rc == L2S_OK)
		rc = source_member_dns(ctx->cfg, e, &dns, &n, err);
	if (rc == L2S_OK)
		rc = snapshot_put(ctx->res->snap, uuid, REC_GROUP, 0, e,
		    ctx->cfg->groups.member_attribute, dns, n, err);
	while (n > 0)
		free(dns[--n]);
	free(dns);
	free(uuid);
	return rc;
}

/* The rest of each ranged member list, one base read per range. */
struct range_ctx {
	struct source_work *w;
	struct group_raw *g;
	const char *attr;	/* the member attribute */
	long want;		/* the range's first value */
	long hi;		/* what came: last value, or -1 for the end */
	int got;
};

static int
on_range(void *arg, const struct entry *e, struct err *err)
{
	struct range_ctx *rx = arg;
	size_t i;
	long lo, hi;
	int ranged, rc;

	if (rx->g->usn != NULL) {
		const struct value *v = entry_first(e, "uSNChanged");

		if (v == NULL || v->len != strlen(rx->g->usn) ||
		    memcmp(v->p, rx->g->usn, v->len) != 0)
			return err_set(err, L2S_EUNSAFE, "group '%s' changed "
			    "while its members were read in ranges: the read is "
			    "incomplete (the next cycle reads it again)", e->dn);
	}
	for (i = 0; i < e->nattrs; i++) {
		ranged = range_parse(e->attrs[i].name, rx->attr, &lo, &hi);
		if (ranged == 0)
			continue;
		if (ranged < 0 || lo != rx->want || rx->got ||
		    !range_complete(&e->attrs[i], lo, hi))
			return err_set(err, L2S_EUNSAFE, "group '%s': asked for "
			    "members from %ld on, the server sent '%s' with %zu "
			    "values: the read is incomplete", e->dn, rx->want,
			    e->attrs[i].name, e->attrs[i].nvals);
		rc = group_add_members(rx->w, rx->g, &e->attrs[i], err);
		if (rc != L2S_OK)
			return rc;
		rx->hi = hi;
		rx->got = 1;
	}
	return L2S_OK;
}

/* A bound on the requests for one group: 10 million members at 1500. */
#define RANGE_REQUESTS_MAX 10000

static int
follow_ranges(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err)
{
	struct source_work *w = res->work;
	char attr[256], usn[] = "uSNChanged", *attrs[3] = { attr, usn, NULL };
	size_t i, n;
	int rc;

	for (i = 0; i < w->nranged; i++) {
		struct group_raw *g = w->ranged[i];

		for (n = 0; g->range_next >= 0; n++) {
			struct range_ctx rx = { w, g, cfg->groups.member_attribute,
			    g->range_next, -1, 0 };

			if (n == RANGE_REQUESTS_MAX ||
			    g->range_next > LONG_MAX - cfg->groups.member_range - 1)
				return err_set(err, L2S_EUNSAFE, "group '%s': "
				    "more than %d member ranges or %ld values: "
				    "the read is incomplete", g->dn,
				    RANGE_REQUESTS_MAX, g->range_next);
			if (cfg->groups.member_range > 0)
				snprintf(attr, sizeof(attr), "%s;range=%ld-%ld",
				    cfg->groups.member_attribute, g->range_next,
				    g->range_next + cfg->groups.member_range - 1);
			else
				snprintf(attr, sizeof(attr), "%s;range=%ld-*",
				    cfg->groups.member_attribute, g->range_next);
			rc = ldapconn_read(c, g->dn, (const char *const *)attrs,
			    on_range, &rx, err);
			if (rc != L2S_OK)
				return rc;
			if (!rx.got)
				return err_set(err, L2S_EUNSAFE, "group '%s': "
				    "the server sent no members from %ld on "
				    "(range retrieval): the read is incomplete",
				    g->dn, g->range_next);
			g->range_next = rx.hi < 0 ? -1 : rx.hi + 1;
		}
	}
	return L2S_OK;
}

/* nested: in_chain - the server resolves membership, transitively. */
struct chain_ctx {
	struct source_result *res;
	const struct config *cfg;
	struct group_raw *g;
};

static int
on_chain_member(void *arg, const struct entry *e, struct err *err)
{
	struct chain_ctx *cx = arg;
	struct record *u;
	char *key = entry_user_key(cx->res->work, cx->cfg, e);

	if (key == NULL)
		return L2S_OK;		/* noted by the users search */
	u = hmap_get(&cx->res->rs.users, key);
	free(key);
	if (u != NULL && hmap_put(&cx->g->flat, u->key, (void *)1, NULL) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	return L2S_OK;
}

#define IN_CHAIN_OID "1.2.840.113556.1.4.1941"

static int
chain_members(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err)
{
	struct chain_ctx cx = { res, cfg, NULL };
	const char *keyonly[2] = { user_key(res->work, cfg), NULL };
	struct buf f = BUF_INIT;
	size_t pos = 0;
	void *v;
	int rc = L2S_OK;

	while (rc == L2S_OK && hmap_next(&res->work->group_by_dn, &pos, NULL,
	    &v)) {
		char *esc;

		cx.g = v;
		if (cx.g->rec == NULL)	/* out of scope: the server nests */
			continue;
		esc = filter_escape(cx.g->dn);
		buf_reset(&f);
		if (esc != NULL)
			buf_printf(&f, "(&%s(memberOf:" IN_CHAIN_OID ":=%s))",
			    cfg->users.filter, esc);
		free(esc);
		if (esc == NULL || buf_failed(&f)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			break;
		}
		rc = ldapconn_search(c, cfg->users.base_dn, buf_str(&f),
		    keyonly, on_chain_member, &cx, err);
	}
	buf_free(&f);
	return rc;
}

/* Users to read as inactive: the config's filter, or on AD the accounts
 * that are disabled (userAccountControl bit 2) or expired. */
static char *
disabled_filter(const struct source_work *w, const struct config *cfg)
{
	struct buf b = BUF_INIT;

	if (cfg->users.disabled_filter != NULL)
		buf_printf(&b, "(&%s%s)", cfg->users.filter,
		    cfg->users.disabled_filter);
	else if (is_ad(w, cfg))
		buf_printf(&b, "(&%s(|(userAccountControl:1.2.840.113556.1.4."
		    "803:=2)(&(accountExpires>=1)(accountExpires<=%lld))))",
		    cfg->users.filter, adattr_filetime(time(NULL)));
	else
		return NULL;
	return buf_take(&b);
}

int
source_dialect_ad(struct ldapconn *c, const struct config *cfg, int *ad,
    struct err *err)
{
	char *v = NULL;
	int present, rc;

	*ad = cfg->ldap.dialect == DIALECT_AD;
	if (cfg->ldap.dialect == DIALECT_OPENLDAP)
		return L2S_OK;
	/* Only Active Directory (and Samba as a DC) publish this. */
	rc = ldapconn_rootdse(c, "forestFunctionality", &v, err);
	if (rc != L2S_OK)
		return rc;
	present = v != NULL;
	free(v);
	if (cfg->ldap.dialect == DIALECT_AUTO)
		*ad = present;
	else if (!present)
		/* Member ranges asked of another server come back empty:
		 * every group would look emptied. */
		return err_set(err, L2S_ELDAP, "ldap.dialect is ad, but '%s' "
		    "is not Active Directory (its root DSE has no "
		    "forestFunctionality): set ldap.dialect to auto or openldap",
		    ldapconn_uri(c));
	return L2S_OK;
}

const char *
source_uuid_attr(int ad)
{
	return ad ? "objectGUID" : "entryUUID";
}

int
source_attrs(const struct config *cfg, int ad, enum rec_kind kind,
    const char ***out, char member[128], struct err *err)
{
	const char *extra[4] = { source_uuid_attr(ad), NULL, NULL, NULL };
	const char *key;
	int n;

	*out = NULL;
	if (kind == REC_USER) {
		key = cfg->users.key_auto && ad ? "objectGUID" : cfg->users.key;
		if (cfg->users.photo_dir != NULL)
			extra[1] = cfg->users.photo_auto && ad ?
			    "thumbnailPhoto" : cfg->users.photo_attribute;
		if (attr_list(out, key, cfg->users.map, NULL, extra) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
		return L2S_OK;
	}
	key = cfg->groups.key_auto && ad ? "objectGUID" : cfg->groups.key;
	/* On AD ask for the members in ranges of a known size, so a long
	 * list arrives the same way from every server; in_chain needs none. */
	if (cfg->groups.nested == NESTED_IN_CHAIN) {
		member[0] = '\0';
	} else if (ad && cfg->groups.member_range > 0) {
		n = snprintf(member, 128, "%s;range=0-%d",
		    cfg->groups.member_attribute, cfg->groups.member_range - 1);
		if (n < 0 || n >= 128)
			return err_set(err, L2S_EPARSE, "groups.member_attribute "
			    "is too long");
		extra[1] = member;
		extra[2] = "uSNChanged";
	} else {
		snprintf(member, 128, "%s", cfg->groups.member_attribute);
		extra[1] = member;
		if (ad)		/* Windows may range a plain request too */
			extra[2] = "uSNChanged";
	}
	if (attr_list(out, key, NULL, cfg->groups.name, extra) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	return L2S_OK;
}

struct uuid_list {
	const char *attr;
	char **v;
	size_t n, cap;
};

static int
on_disabled_uuid(void *arg, const struct entry *e, struct err *err)
{
	struct uuid_list *l = arg;
	const struct value *v = entry_first(e, l->attr);
	char *uuid = NULL;

	if (v == NULL || source_key_text(l->attr, v, &uuid) != L2S_OK)
		return err_set(err, L2S_EUNSAFE, "user '%s': no usable '%s' "
		    "in the disabled users search", e->dn, l->attr);
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, c * sizeof(*nv));

		if (nv == NULL) {
			free(uuid);
			return err_set(err, L2S_ENOMEM, "out of memory");
		}
		l->v = nv;
		l->cap = c;
	}
	l->v[l->n++] = uuid;
	return L2S_OK;
}

int
source_disabled_uuids(struct ldapconn *c, const struct config *cfg, int ad,
    char ***uuids, size_t *n, struct err *err)
{
	struct source_work w;
	struct uuid_list l = { source_uuid_attr(ad), NULL, 0, 0 };
	const char *attrs[2] = { l.attr, NULL };
	char *filter;
	int rc;

	*uuids = NULL;
	*n = 0;
	memset(&w, 0, sizeof(w));
	w.ad = ad;
	filter = disabled_filter(&w, cfg);
	if (filter == NULL)
		return cfg->users.disabled_filter != NULL || ad ?
		    err_set(err, L2S_ENOMEM, "out of memory") : L2S_OK;
	rc = ldapconn_search(c, cfg->users.base_dn, filter, attrs,
	    on_disabled_uuid, &l, err);
	free(filter);
	if (rc != L2S_OK) {
		while (l.n > 0)
			free(l.v[--l.n]);
		free(l.v);
		return rc;
	}
	*uuids = l.v;
	*n = l.n;
	return L2S_OK;
}

int
source_from_snapshot(struct source_result *res, const struct config *cfg,
    int ad, const struct snapshot *snap, struct err *err)
{
	struct snap_view v = SNAP_VIEW_INIT;
	struct source_work *w = NULL;
	struct entry e;
	size_t pos;
	void *p;
	int pass, rc;

	res->rs.complete = 0;
	rc = work_get(res, &w, err);
	if (rc != L2S_OK)
		return rc;
	w->ad = res->ad = ad;
	/* Users first: a group's members are resolved against them. */
	for (pass = 0; pass < 2 && rc == L2S_OK; pass++) {
		enum rec_kind kind = pass == 0 ? REC_USER : REC_GROUP;

		pos = 0;
		while (rc == L2S_OK && hmap_next(&snap->objs, &pos, NULL, &p)) {
			const struct snap_obj *o = p;

			if (o->kind != kind)
				continue;
			rc = snapshot_entry(o, cfg->groups.member_attribute, &v,
			    &e, err);
			if (rc != L2S_OK)
				break;
			rc = kind == REC_USER ?
			    source_add_user(res, cfg, &e, o->disabled, err) :
			    source_add_group(res, cfg, &e, err);
		}
	}
	snapshot_view_free(&v);
	if (rc == L2S_OK)
		rc = source_resolve(res, cfg, err);
	if (rc == L2S_OK)
		res->rs.complete = 1;
	return rc;
}

int
source_member_dns(const struct config *cfg, const struct entry *e,
    char ***dns, size_t *n, struct err *err)
{
	struct err derr = ERR_INIT;
	char **v = NULL, *raw, *norm;
	size_t i, j, cap = 0, k = 0;
	int rc = L2S_OK;

	for (i = 0; i < e->nattrs && rc == L2S_OK; i++) {
		const struct entry_attr *a = &e->attrs[i];

		if (strcasecmp(a->name, cfg->groups.member_attribute) != 0)
			continue;
		for (j = 0; j < a->nvals && rc == L2S_OK; j++) {
			if (k == cap) {
				size_t c = cap ? cap * 2 : 16;
				char **nv = realloc(v, c * sizeof(*nv));

				if (nv == NULL) {
					rc = L2S_ENOMEM;
					break;
				}
				v = nv;
				cap = c;
			}
			raw = str_ndup(a->vals[j].p, a->vals[j].len);
			norm = NULL;
			rc = raw != NULL ? ldap_dn_norm(raw, &norm, &derr) :
			    L2S_ENOMEM;
			free(raw);
			if (rc == L2S_OK)
				v[k++] = norm;
			else if (rc != L2S_ENOMEM)
				rc = L2S_OK;	/* not a DN: no member */
		}
	}
	if (rc != L2S_OK) {
		while (k > 0)
			free(v[--k]);
		free(v);
		return err_set(err, rc, "out of memory");
	}
	*dns = v;
	*n = k;
	return L2S_OK;
}

/* Record the complete member lists in the snapshot. */
static int
snapshot_members(struct source_result *res, struct err *err)
{
	char **dns = NULL;	/* borrowed norms of one group */
	size_t pos = 0, cap = 0;
	void *v;
	int rc = L2S_OK;

	while (rc == L2S_OK && hmap_next(&res->work->group_by_dn, &pos, NULL,
	    &v)) {
		struct group_raw *g = v;
		size_t i;

		if (g->uuid == NULL)
			continue;
		if (g->n > cap) {
			char **nv = realloc(dns, g->n * sizeof(*nv));

			if (nv == NULL) {
				rc = err_set(err, L2S_ENOMEM, "out of memory");
				break;
			}
			dns = nv;
			cap = g->n;
		}
		for (i = 0; i < g->n; i++)
			dns[i] = g->m[i]->norm;
		rc = snapshot_set_members(res->snap, g->uuid, dns, g->n, err);
	}
	free(dns);
	return rc;
}

static int read_all(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct search_ctx *ctx, const char *since,
    struct err *err);

int
source_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err)
{
	struct search_ctx ctx = { res, cfg, NULL };
	int rc;

	ctx.progress = progress_start("reading", "entries", 0);
	rc = read_all(res, c, cfg, &ctx, NULL, err);
	progress_end(ctx.progress);
	return rc;
}

int
source_read_since(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, const char *usn_range, struct err *err)
{
	struct search_ctx ctx = { res, cfg, NULL };

	return read_all(res, c, cfg, &ctx, usn_range, err);
}

int
source_read_groups(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, char *const *dns, size_t n, struct err *err)
{
	struct search_ctx ctx = { res, cfg, NULL };
	const char **attrs = NULL;
	char member[128];
	size_t i;
	int rc;

	rc = work_get(res, &ctx.res->work, err);
	if (rc != L2S_OK)
		return rc;
	res->work->ad = res->ad;
	rc = source_attrs(cfg, res->ad, REC_GROUP, &attrs, member, err);
	for (i = 0; i < n && rc == L2S_OK; i++) {
		rc = ldapconn_read_if(c, dns[i], cfg->groups.filter, attrs,
		    on_group, &ctx, err);
		if (rc == L2S_ENOTFOUND)	/* gone since: reported next */
			rc = L2S_OK;
	}
	free(attrs);
	if (rc == L2S_OK)
		rc = follow_ranges(res, c, cfg, err);
	if (rc == L2S_OK && res->snap != NULL)
		rc = snapshot_members(res, err);
	return rc;
}

/* Is the normalised dn at or below the normalised base? */
static int
dn_under(const char *dn, const char *base)
{
	size_t n = strlen(dn), b = strlen(base);

	return n == b ? strcmp(dn, base) == 0 :
	    n > b && dn[n - b - 1] == ',' && strcmp(dn + n - b, base) == 0;
}

int
source_stray_members(const struct source_result *res,
    const struct config *cfg, char *const *groups, size_t ngroups,
    size_t max, char ***out, size_t *n, struct err *err)
{
	struct source_work *w = res->work;
	struct hmap seen = HMAP_INIT;
	char *base = NULL, *norm = NULL, **v = NULL;
	size_t i, j;
	int rc;

	*out = NULL;
	*n = 0;
	if (w == NULL)
		return L2S_OK;
	rc = ldap_dn_norm(cfg->users.base_dn, &base, err);
	if (rc != L2S_OK)
		return rc;
	v = calloc(max + 1, sizeof(*v));
	if (v == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < ngroups && rc == L2S_OK; i++) {
		const struct group_raw *g;

		free(norm);
		norm = NULL;
		if (ldap_dn_norm(groups[i], &norm, err) != L2S_OK ||
		    (g = hmap_get(&w->group_by_dn, norm)) == NULL)
			continue;
		for (j = 0; j < g->n && rc == L2S_OK; j++) {
			const char *m = g->m[j]->norm;

			if (g->m[j]->user != NULL || g->m[j]->group != NULL ||
			    hmap_get(&seen, m) != NULL || !dn_under(m, base))
				continue;
			if (*n == max) {
				rc = L2S_EUNSAFE;	/* more than max */
				break;
			}
			if (hmap_put(&seen, m, (void *)1, NULL) != 0 ||
			    (v[*n] = strdup(m)) == NULL)
				rc = err_set(err, L2S_ENOMEM, "out of memory");
			else
				(*n)++;
		}
	}
done:
	free(norm);
	free(base);
	hmap_free(&seen, NULL);
	if (rc == L2S_ENOMEM || v == NULL) {
		while (*n > 0)
			free(v[--*n]);
		free(v);
		return rc;
	}
	*out = v;
	return rc;
}

/* filter, or with a USN range "(uSNChanged>=A)(uSNChanged<=B)": only the
 * entries changed in it. */
static char *
filter_since(const char *filter, const char *usn_range)
{
	struct buf b = BUF_INIT;

	if (usn_range == NULL)
		buf_puts(&b, filter);
	else
		buf_printf(&b, "(&%s%s)", filter, usn_range);
	return buf_take(&b);
}

static int
read_all(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct search_ctx *ctx, const char *since,
    struct err *err)
{
	struct source_work *w = NULL;
	const char **attrs = NULL;
	const char *keyonly[2] = { NULL, NULL };
	char *filter = NULL, member[128];
	int rc;

	res->rs.complete = 0;
	rc = work_get(res, &w, err);
	if (rc != L2S_OK)
		return rc;
	rc = source_dialect_ad(c, cfg, &w->ad, err);
	if (rc != L2S_OK)
		return rc;
	res->ad = w->ad;
	keyonly[0] = user_key(w, cfg);
	/* Changes only: the disabled flags are set from a search of their
	 * own (source_disabled_uuids()). */
	filter = since != NULL ? NULL : disabled_filter(w, cfg);
	if (filter == NULL && since == NULL &&
	    (cfg->users.disabled_filter != NULL || res->ad))
		return err_set(err, L2S_ENOMEM, "out of memory");
	if (filter != NULL) {
		rc = ldapconn_search(c, cfg->users.base_dn, filter, keyonly,
		    on_disabled, ctx, err);
		free(filter);
		if (rc != L2S_OK)
			return rc;
	}
	rc = source_attrs(cfg, res->ad, REC_USER, &attrs, member, err);
	if (rc == L2S_OK && (filter = filter_since(cfg->users.filter,
	    since)) == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (rc == L2S_OK)
		rc = ldapconn_search(c, cfg->users.base_dn, filter, attrs,
		    on_user, ctx, err);
	free(attrs);
	free(filter);
	attrs = NULL;
	filter = NULL;
	if (rc != L2S_OK)
		return rc;
	if (cfg->groups.enabled) {
		/* Other servers answer the in-chain rule with no entries:
		 * every group would look emptied. */
		if (cfg->groups.nested == NESTED_IN_CHAIN && !res->ad)
			return err_set(err, L2S_ELDAP, "groups.nested is "
			    "in_chain, but '%s' is not Active Directory: set it "
			    "to flatten", ldapconn_uri(c));
		rc = source_attrs(cfg, res->ad, REC_GROUP, &attrs, member, err);
		if (rc == L2S_OK && (filter = filter_since(cfg->groups.filter,
		    since)) == NULL)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		if (rc == L2S_OK)
			rc = ldapconn_search(c, cfg->groups.base_dn, filter,
			    attrs, on_group, ctx, err);
		free(attrs);
		free(filter);
		if (rc == L2S_OK)
			rc = follow_ranges(res, c, cfg, err);
		if (rc == L2S_OK && cfg->groups.nested == NESTED_IN_CHAIN)
			rc = chain_members(res, c, cfg, err);
		if (rc == L2S_OK && res->snap != NULL)
			rc = snapshot_members(res, err);
		if (rc != L2S_OK)
			return rc;
	}
	if (since != NULL)	/* a part: resolved with the snapshot */
		return L2S_OK;
	rc = source_resolve(res, cfg, err);
	if (rc != L2S_OK)
		return rc;
	res->rs.complete = 1;
	return L2S_OK;
}

/* --- one read for several targets --------------------------------------- */

/* Which entries belong to each target: the uuids its own key-only search
 * returned, then the entries of the shared read, each handed to the
 * targets whose sets hold it. */
struct shared_ctx {
	struct search_ctx *t;		/* one per target */
	struct hmap *in;		/* one per target: uuid -> (void *)1 */
	size_t n;
	const char *uuid_attr;
	enum rec_kind kind;
	struct progress *progress;	/* owned */
	size_t nread;			/* entries handed to a target */
};

struct member_ctx {
	struct hmap *in;
	const char *uuid_attr;
};

static int
on_member_uuid(void *arg, const struct entry *e, struct err *err)
{
	struct member_ctx *m = arg;
	const struct value *v = entry_first(e, m->uuid_attr);
	char *uuid = NULL;
	int rc;

	if (v == NULL || source_key_text(m->uuid_attr, v, &uuid) != L2S_OK)
		return err_set(err, L2S_EUNSAFE, "entry '%s': no usable '%s': "
		    "cannot tell which targets it belongs to", e->dn,
		    m->uuid_attr);
	rc = hmap_put(m->in, uuid, (void *)1, NULL);
	free(uuid);
	return rc == 0 ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
}

static int
on_shared(void *arg, const struct entry *e, struct err *err)
{
	struct shared_ctx *s = arg;
	const struct value *v = entry_first(e, s->uuid_attr);
	char *uuid = NULL;
	size_t i, seen = 0;
	int rc = L2S_OK;

	if (v == NULL || source_key_text(s->uuid_attr, v, &uuid) != L2S_OK)
		return err_set(err, L2S_EUNSAFE, "entry '%s': no usable '%s': "
		    "cannot tell which targets it belongs to", e->dn,
		    s->uuid_attr);
	for (i = 0; i < s->n && rc == L2S_OK; i++) {
		if (hmap_get(&s->in[i], uuid) == NULL)
			continue;
		seen++;
		rc = s->kind == REC_USER ? on_user(&s->t[i], e, err) :
		    on_group(&s->t[i], e, err);
	}
	free(uuid);
	if (seen > 0)
		progress_update(s->progress, ++s->nread);
	return rc;
}

/* Every base of kind is at or below the shared read's base. */
static int
bases_under(const struct config *const *cfgs, size_t n, enum rec_kind kind,
    const char *base, struct err *err)
{
	char *nb = NULL, *nt = NULL;
	size_t i;
	int rc;

	rc = ldap_dn_norm(base, &nb, err);
	for (i = 0; i < n && rc == L2S_OK; i++) {
		const char *tb = kind == REC_USER ? cfgs[i]->users.base_dn :
		    cfgs[i]->groups.base_dn;

		if (kind == REC_GROUP && !cfgs[i]->groups.enabled)
			continue;
		free(nt);
		nt = NULL;
		rc = ldap_dn_norm(tb, &nt, err);
		if (rc == L2S_OK && !dn_under(nt, nb))
			rc = err_set(err, L2S_EPARSE, "target '%s': %s.base_dn "
			    "'%s' is not under ldap.base_dn '%s', where the one "
			    "read for every target starts", cfgs[i]->name,
			    kind == REC_USER ? "users" : "groups", tb, base);
	}
	free(nb);
	free(nt);
	return rc;
}

/* Did a target before i use the same filter of kind? */
static int
filter_seen(const struct config *const *cfgs, size_t i, enum rec_kind kind)
{
	size_t j;

	for (j = 0; j < i; j++) {
		if (kind == REC_GROUP && !cfgs[j]->groups.enabled)
			continue;
		if (strcmp(kind == REC_USER ? cfgs[j]->users.filter :
		    cfgs[j]->groups.filter, kind == REC_USER ?
		    cfgs[i]->users.filter : cfgs[i]->groups.filter) == 0)
			return 1;
	}
	return 0;
}

/* The shared search of kind: "(|F1 F2 ...)" over ldap.base_dn asking for
 * every attribute some target needs. */
static int
read_shared(struct shared_ctx *s, struct ldapconn *c,
    const struct config *const *cfgs, const struct config *root,
    struct err *err)
{
	struct buf filter = BUF_INIT;
	const char ***per = calloc(s->n, sizeof(*per)), **all = NULL;
	char (*member)[128] = calloc(s->n, sizeof(*member));
	size_t nall = 0, i, j;
	int rc, any = 0;

	if (per == NULL || member == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = bases_under(cfgs, s->n, s->kind, root->ldap.base_dn, err);
	buf_puts(&filter, "(|");
	for (i = 0; i < s->n && rc == L2S_OK; i++) {
		const struct config *cfg = cfgs[i];
		struct member_ctx m = { &s->in[i], s->uuid_attr };
		const char *keyonly[2] = { s->uuid_attr, NULL };
		const char **grown;
		int users = s->kind == REC_USER;

		if (!users && !cfg->groups.enabled)
			continue;
		any = 1;
		rc = ldapconn_search(c, users ? cfg->users.base_dn :
		    cfg->groups.base_dn, users ? cfg->users.filter :
		    cfg->groups.filter, keyonly, on_member_uuid, &m, err);
		if (rc == L2S_OK)
			rc = source_attrs(cfg, s->t[i].res->ad, s->kind, &per[i],
			    member[i], err);
		if (rc != L2S_OK)
			break;
		if (!filter_seen(cfgs, i, s->kind))
			buf_puts(&filter, users ? cfg->users.filter :
			    cfg->groups.filter);
		for (j = 0; per[i][j] != NULL; j++)
			;
		grown = realloc(all, (nall + j + 1) * sizeof(*all));
		if (grown == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			break;
		}
		all = grown;
		for (j = 0; per[i][j] != NULL; j++) {
			size_t k;

			for (k = 0; k < nall; k++)
				if (strcasecmp(all[k], per[i][j]) == 0)
					break;
			if (k == nall)
				all[nall++] = per[i][j];
		}
		all[nall] = NULL;
	}
	buf_putc(&filter, ')');
	if (rc == L2S_OK && buf_failed(&filter))
		rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (rc == L2S_OK && any)
		rc = ldapconn_search(c, root->ldap.base_dn, buf_str(&filter),
		    all, on_shared, s, err);
done:
	for (i = 0; per != NULL && i < s->n; i++)
		free(per[i]);
	free(per);
	free(member);
	free(all);
	buf_free(&filter);
	return rc;
}

int
source_read_targets(struct source_result **res, struct ldapconn *c,
    const struct config *const *cfgs, size_t n, const struct config *root,
    struct err *err)
{
	struct shared_ctx s;
	struct source_work *w = NULL;
	size_t i;
	int rc = L2S_OK, ad = 0;

	memset(&s, 0, sizeof(s));
	s.n = n;
	s.t = calloc(n, sizeof(*s.t));
	s.in = calloc(n, sizeof(*s.in));
	if (s.t == NULL || s.in == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n && rc == L2S_OK; i++) {
		s.t[i].res = res[i];
		s.t[i].cfg = cfgs[i];
		res[i]->rs.complete = 0;
		rc = work_get(res[i], &w, err);
		if (rc == L2S_OK)
			rc = source_dialect_ad(c, cfgs[i], &w->ad, err);
		if (rc != L2S_OK)
			break;
		res[i]->ad = w->ad;
		ad |= w->ad;
		if (cfgs[i]->groups.enabled &&
		    cfgs[i]->groups.nested == NESTED_IN_CHAIN && !w->ad)
			rc = err_set(err, L2S_ELDAP, "target '%s': groups.nested "
			    "is in_chain, but '%s' is not Active Directory: set "
			    "it to flatten", cfgs[i]->name, ldapconn_uri(c));
	}
	s.uuid_attr = source_uuid_attr(ad);
	/* The disabled users of each target, by its own filter. */
	for (i = 0; i < n && rc == L2S_OK; i++) {
		const char *keyonly[2] = { user_key(res[i]->work, cfgs[i]), NULL };
		char *filter = disabled_filter(res[i]->work, cfgs[i]);

		if (filter == NULL && (cfgs[i]->users.disabled_filter != NULL ||
		    res[i]->ad))
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		else if (filter != NULL)
			rc = ldapconn_search(c, cfgs[i]->users.base_dn, filter,
			    keyonly, on_disabled, &s.t[i], err);
		free(filter);
	}
	s.progress = progress_start("reading", "entries", 0);
	s.kind = REC_USER;
	if (rc == L2S_OK)
		rc = read_shared(&s, c, cfgs, root, err);
	s.kind = REC_GROUP;
	if (rc == L2S_OK)
		rc = read_shared(&s, c, cfgs, root, err);
	progress_end(s.progress);
	for (i = 0; i < n && rc == L2S_OK; i++) {
		if (!cfgs[i]->groups.enabled)
			continue;
		rc = follow_ranges(res[i], c, cfgs[i], err);
		if (rc == L2S_OK && cfgs[i]->groups.nested == NESTED_IN_CHAIN)
			rc = chain_members(res[i], c, cfgs[i], err);
	}
	for (i = 0; i < n && rc == L2S_OK; i++) {
		rc = source_resolve(res[i], cfgs[i], err);
		if (rc == L2S_OK)
			res[i]->rs.complete = 1;
	}
done:
	for (i = 0; s.in != NULL && i < n; i++)
		hmap_free(&s.in[i], NULL);
	free(s.in);
	free(s.t);
	return rc;
}
