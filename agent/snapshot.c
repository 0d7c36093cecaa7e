/*
 * snapshot.c - the directory as last read, kept for incremental reads
 *
 * An entry is encoded as: u32 attribute count, then for each attribute
 * u32 name length (with its NUL), the name and NUL, u32 value count, and
 * for each value u32 length and the bytes; integers little-endian.
 * Decoding checks every length against the bytes there are.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ldap.h"
#include "snapshot.h"

static void
obj_free(void *p)
{
	struct snap_obj *o = p;

	if (o == NULL)
		return;
	free(o->dn);
	free(o->entry);
	free(o->members);
	free(o);
}

void
snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
}

void
snapshot_free(struct snapshot *s)
{
	hmap_free(&s->objs, obj_free);
	hmap_free(&s->dirty, NULL);
	hmap_free(&s->moved, NULL);
	hmap_free(&s->fresh, NULL);
	snapshot_init(s);
}

void
snapshot_reset(struct snapshot *s)
{
	hmap_free(&s->objs, obj_free);
	hmap_free(&s->dirty, NULL);
	hmap_free(&s->moved, NULL);
	hmap_free(&s->fresh, NULL);
	s->all_dirty = 1;
	s->broken = 0;
}

char *
snapshot_name(enum rec_kind kind, const char *uuid)
{
	size_t n = strlen(uuid) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%c:%s", kind == REC_GROUP ? 'g' : 'u', uuid);
	return s;
}

static int
mark(struct snapshot *s, const char *uuid)
{
	return s->all_dirty ? 0 : hmap_put(&s->dirty, uuid, (void *)1, NULL);
}

static void
put_u32(struct buf *b, size_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	buf_add(b, (const char *)x, 4);
}

static int
is_member_attr(const char *name, const char *member_attr)
{
	size_t n;

	if (member_attr == NULL)
		return 0;
	n = strlen(member_attr);
	return strncasecmp(name, member_attr, n) == 0 &&
	    (name[n] == '\0' || strncasecmp(name + n, ";range=", 7) == 0);
}

static int
encode(const struct entry *e, const char *member_attr, struct buf *b)
{
	size_t i, j, n = 0;

	for (i = 0; i < e->nattrs; i++)
		if (!is_member_attr(e->attrs[i].name, member_attr))
			n++;
	put_u32(b, n);
	for (i = 0; i < e->nattrs; i++) {
		const struct entry_attr *a = &e->attrs[i];

		if (is_member_attr(a->name, member_attr))
			continue;
		put_u32(b, strlen(a->name) + 1);
		buf_add(b, a->name, strlen(a->name) + 1);
		put_u32(b, a->nvals);
		for (j = 0; j < a->nvals; j++) {
			if (a->vals[j].len > UINT32_MAX)
				return -1;
			put_u32(b, a->vals[j].len);
			buf_add(b, a->vals[j].p, a->vals[j].len);
		}
	}
	return buf_failed(b) ? -1 : 0;
}

static int
members_join(char *const *members, size_t n, char **out, size_t *len)
{
	size_t i, total = 0, off = 0;
	char *p;

	for (i = 0; i < n; i++)
		total += strlen(members[i]) + 1;
	*out = NULL;
	*len = 0;
	if (total == 0)
		return 0;
	if ((p = malloc(total)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		size_t l = strlen(members[i]) + 1;

		memcpy(p + off, members[i], l);
		off += l;
	}
	*out = p;
	*len = total;
	return 0;
}

/*
 * An entry's DN changed (new NULL: the entry left).  Groups that list the
 * old DN may list it no more, or list the new one (slapd's refint overlay,
 * AD's links) without being reported as changed: remember the old DN so
 * that snapshot_listing() finds them, to be read again.
 */
static int
moved(struct snapshot *s, const char *old, const char *new)
{
	char *onorm = NULL, *nnorm = NULL;
	struct err derr = ERR_INIT;
	int rc = 0;

	if (ldap_dn_norm(old, &onorm, &derr) != L2S_OK)
		return 0;	/* never a member then */
	if (new != NULL && ldap_dn_norm(new, &nnorm, &derr) != L2S_OK)
		nnorm = NULL;
	if (nnorm == NULL || strcmp(onorm, nnorm) != 0)
		rc = hmap_put(&s->moved, onorm, (void *)1, NULL);
	free(onorm);
	free(nnorm);
	return rc;
}

int
snapshot_put(struct snapshot *s, const char *uuid, enum rec_kind kind,
    int disabled, const struct entry *e, const char *member_attr,
    char *const *members, size_t n, struct err *err)
{
	struct snap_obj *o, *old;
	struct buf b = BUF_INIT;

	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->dn = strdup(e->dn)) == NULL ||
	    encode(e, kind == REC_GROUP ? member_attr : NULL, &b) != 0)
		goto nomem;
	o->kind = kind;
	o->disabled = disabled;
	o->entry_len = b.len;
	o->entry = (unsigned char *)buf_take(&b);
	if (o->entry == NULL)
		goto nomem;
	old = hmap_get(&s->objs, uuid);
	if (kind == REC_GROUP && members == NULL && old != NULL &&
	    old->kind == REC_GROUP) {
		o->members = old->members;
		o->members_len = old->members_len;
		old->members = NULL;
	} else if (members_join(members, n, &o->members, &o->members_len) != 0) {
		goto nomem;
	}
	if (old != NULL && moved(s, old->dn, e->dn) != 0)
		goto nomem;
	if (mark(s, uuid) != 0 || hmap_put(&s->objs, uuid, o, (void **)&old) != 0)
		goto nomem;
	obj_free(old);
	return L2S_OK;
nomem:
	buf_free(&b);
	obj_free(o);
	return err_set(err, L2S_ENOMEM, "out of memory");
}

int
snapshot_merge(struct snapshot *s, struct snapshot *from, struct err *err)
{
	size_t pos = 0;
	const char *name;
	void *v;
	int rc = L2S_OK;

	while (hmap_next(&from->objs, &pos, &name, &v)) {
		struct snap_obj *o = v, *old = hmap_get(&s->objs, name);

		if (rc != L2S_OK) {
			obj_free(o);
			continue;
		}
		if ((old != NULL && moved(s, old->dn, o->dn) != 0) ||
		    (o->kind == REC_GROUP &&
		    hmap_put(&s->fresh, name, (void *)1, NULL) != 0) ||
		    mark(s, name) != 0 ||
		    hmap_put(&s->objs, name, o, (void **)&old) != 0) {
			obj_free(o);
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			continue;
		}
		obj_free(old);
	}
	hmap_free(&from->objs, NULL);
	hmap_free(&from->dirty, NULL);
	return rc;
}

int
snapshot_listing(const struct snapshot *s, char ***dns, size_t *n)
{
	size_t pos = 0, cap = 0, off, l;
	const char *name;
	void *v;
	char **out = NULL, **nv;

	*dns = NULL;
	*n = 0;
	if (s->moved.len == 0)
		return 0;
	while (hmap_next(&s->objs, &pos, &name, &v)) {
		const struct snap_obj *g = v;
		int hit = 0;

		if (g->kind != REC_GROUP || g->members == NULL ||
		    hmap_get(&s->fresh, name) != NULL)
			continue;
		for (off = 0; off < g->members_len && !hit; off += l + 1) {
			l = strnlen(g->members + off, g->members_len - off);
			if (off + l < g->members_len &&
			    hmap_get(&s->moved, g->members + off) != NULL)
				hit = 1;
		}
		if (!hit)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(out, cap * sizeof(*nv))) == NULL)
				goto nomem;
			out = nv;
		}
		if ((out[*n] = strdup(g->dn)) == NULL)
			goto nomem;
		(*n)++;
	}
	*dns = out;
	return 0;
nomem:
	while (*n > 0)
		free(out[--*n]);
	free(out);
	return -1;
}

int
snapshot_set_members(struct snapshot *s, const char *uuid,
    char *const *members, size_t n, struct err *err)
{
	struct snap_obj *o = hmap_get(&s->objs, uuid);
	char *joined;
	size_t len;

	if (o == NULL)
		return L2S_OK;
	if (members_join(members, n, &joined, &len) != 0 || mark(s, uuid) != 0) {
		free(joined);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	free(o->members);
	o->members = joined;
	o->members_len = len;
	return L2S_OK;
}

int
snapshot_del(struct snapshot *s, const char *uuid)
{
	struct snap_obj *o = hmap_get(&s->objs, uuid);
	int rc = 0;

	if (o == NULL)
		return 0;
	if (mark(s, uuid) != 0)
		return -1;
	rc = moved(s, o->dn, NULL);
	obj_free(hmap_del(&s->objs, uuid));
	return rc != 0 ? -1 : 1;
}

int
snapshot_set_disabled(struct snapshot *s, const char *uuid, int disabled)
{
	struct snap_obj *o = hmap_get(&s->objs, uuid);

	if (o == NULL || o->kind != REC_USER || o->disabled == disabled)
		return 0;
	if (mark(s, uuid) != 0)
		return -1;
	o->disabled = disabled;
	return 1;
}

static int
load_row(void *arg, const struct snap_row *row, struct err *err)
{
	struct snapshot *s = arg;
	struct snap_obj *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->dn = strdup(row->dn)) == NULL)
		goto nomem;
	o->kind = row->kind == REC_GROUP ? REC_GROUP : REC_USER;
	o->disabled = row->disabled != 0;
	o->entry_len = row->entry_len;
	if ((o->entry = malloc(row->entry_len + 1)) == NULL)
		goto nomem;
	if (row->entry_len > 0)
		memcpy(o->entry, row->entry, row->entry_len);
	if (row->members != NULL && row->members_len > 0) {
		if ((o->members = malloc(row->members_len)) == NULL)
			goto nomem;
		memcpy(o->members, row->members, row->members_len);
		o->members_len = row->members_len;
	}
	if (hmap_put(&s->objs, row->uuid, o, NULL) != 0)
		goto nomem;
	return L2S_OK;
nomem:
	obj_free(o);
	return err_set(err, L2S_ENOMEM, "out of memory");
}

int
snapshot_load(struct snapshot *s, struct state *st, struct err *err)
{
	return state_snap_load(st, load_row, s, err);
}

static int
save_one(struct state *st, const char *uuid, const struct snap_obj *o,
    struct err *err)
{
	struct snap_row row = { uuid, (int)o->kind, o->disabled, o->dn,
	    o->entry, o->entry_len, o->members, o->members_len };

	return state_snap_put(st, &row, err);
}

int
snapshot_save(struct snapshot *s, struct state *st, struct err *err)
{
	size_t pos = 0;
	const char *uuid;
	void *v;
	int rc = L2S_OK;

	if (s->all_dirty) {
		rc = state_snap_clear(st, err);
		while (rc == L2S_OK && hmap_next(&s->objs, &pos, &uuid, &v))
			rc = save_one(st, uuid, v, err);
	} else {
		while (rc == L2S_OK && hmap_next(&s->dirty, &pos, &uuid, NULL)) {
			const struct snap_obj *o = hmap_get(&s->objs, uuid);

			rc = o != NULL ? save_one(st, uuid, o, err) :
			    state_snap_del(st, uuid, err);
		}
	}
	if (rc == L2S_OK) {
		hmap_free(&s->dirty, NULL);
		s->all_dirty = 0;
	}
	return rc;
}

static int
get_u32(const unsigned char *p, size_t len, size_t *off, size_t *v)
{
	if (len - *off < 4)
		return -1;
	p += *off;
	*v = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
	    (size_t)p[3] << 24;
	*off += 4;
	return 0;
}

static int
grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *np;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((np = realloc(*arr, n * elem)) == NULL)
		return -1;
	*arr = np;
	*cap = n;
	return 0;
}

int
snapshot_entry(const struct snap_obj *o, const char *member_attr,
    struct snap_view *v, struct entry *e, struct err *err)
{
	const unsigned char *p = o->entry;
	size_t len = o->entry_len, off = 0, na, nv = 0, nm = 0, i, j, l = 0, k;

	if (get_u32(p, len, &off, &na) != 0 || na > len)
		goto bad;
	if (o->members_len > 0 && (o->members == NULL ||
	    o->members[o->members_len - 1] != '\0'))
		goto bad;
	if (o->kind == REC_GROUP && member_attr != NULL)
		for (i = 0; i < o->members_len; i++)
			if (o->members[i] == '\0')
				nm++;
	if (grow((void **)&v->attrs, &v->attrs_cap, na + 1,
	    sizeof(*v->attrs)) != 0)
		goto nomem;
	/* Values first counted, then placed: the array must not move. */
	for (i = 0, k = off; i < na; i++) {
		size_t cnt;

		if (get_u32(p, len, &k, &l) != 0 || l == 0 || l > len - k ||
		    p[k + l - 1] != '\0')
			goto bad;
		k += l;
		if (get_u32(p, len, &k, &cnt) != 0 || cnt > len)
			goto bad;
		for (j = 0; j < cnt; j++) {
			if (get_u32(p, len, &k, &l) != 0 || l > len - k)
				goto bad;
			k += l;
		}
		nv += cnt;
	}
	if (k != len)
		goto bad;
	if (grow((void **)&v->vals, &v->vals_cap, nv + nm + 1,
	    sizeof(*v->vals)) != 0)
		goto nomem;
	for (i = 0, nv = 0; i < na; i++) {
		size_t cnt = 0;

		(void)get_u32(p, len, &off, &l);
		v->attrs[i].name = (const char *)p + off;
		off += l;
		(void)get_u32(p, len, &off, &cnt);
		v->attrs[i].nvals = cnt;
		v->attrs[i].vals = v->vals + nv;
		for (j = 0; j < cnt; j++) {
			(void)get_u32(p, len, &off, &l);
			v->vals[nv].p = (const char *)p + off;
			v->vals[nv].len = l;
			nv++;
			off += l;
		}
	}
	if (nm > 0) {
		v->attrs[na].name = member_attr;
		v->attrs[na].nvals = nm;
		v->attrs[na].vals = v->vals + nv;
		for (i = 0; i < o->members_len; i += l + 1) {
			l = strlen(o->members + i);
			v->vals[nv].p = o->members + i;
			v->vals[nv].len = l;
			nv++;
		}
		na++;
	}
	e->dn = o->dn;
	e->nattrs = na;
	e->attrs = v->attrs;
	return L2S_OK;
bad:
	return err_set(err, L2S_EPARSE, "the directory snapshot entry '%s' is "
	    "damaged", o->dn);
nomem:
	return err_set(err, L2S_ENOMEM, "out of memory");
}

void
snapshot_view_free(struct snap_view *v)
{
	free(v->attrs);
	free(v->vals);
	memset(v, 0, sizeof(*v));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
snapshot_disabled_digest(char *const *uuids, size_t n, char out[17])
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	char **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	size_t i;
	const char *c;

	if (sorted == NULL) {
		/* Cannot sort: a digest that never matches a stored one. */
		snprintf(out, 17, "%s", "unsorted");
		return;
	}
	if (n > 0)
		memcpy(sorted, uuids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (i = 0; i < n; i++) {
		for (c = sorted[i]; ; c++) {
			h ^= (unsigned char)*c;
			h *= 1099511628211ULL;
			if (*c == '\0')
				break;
		}
	}
	free(sorted);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}
