/*
 * record.c - canonical directory objects: attribute sets, member lists,
 * and the read set that holds them
 *
 * An attribute set is an array kept sorted by path (strcmp) with unique
 * paths, so lookups are binary searches and two sets compare element by
 * element.  Its JSON form is one object of string values whose keys come
 * out in that same sorted order, so equal sets give byte-identical text.
 *
 * Pure: no I/O, no logging.  Every free function accepts NULL.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "record.h"

/* Index of path in a, or of where it would be inserted; *found says which. */
static size_t
attrs_find(const struct attrs *a, const char *path, int *found)
{
	size_t lo = 0, hi = a->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->v[mid].path, path);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
attrs_set(struct attrs *a, const char *path, const char *value)
{
	char *p = NULL, *v = NULL;
	size_t i;
	int found;

	v = strdup(value);
	if (v == NULL)
		return -1;
	i = attrs_find(a, path, &found);
	if (found) {
		free(a->v[i].value);
		a->v[i].value = v;
		return 0;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct attr *nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL) {
			free(v);
			return -1;
		}
		a->v = nv;
		a->cap = cap;
	}
	p = strdup(path);
	if (p == NULL) {
		free(v);
		return -1;
	}
	memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(a->v[0]));
	a->v[i].path = p;
	a->v[i].value = v;
	a->n++;
	return 0;
}

const char *
attrs_get(const struct attrs *a, const char *path)
{
	size_t i;
	int found;

	if (a == NULL)
		return NULL;
	i = attrs_find(a, path, &found);
	return found ? a->v[i].value : NULL;
}

int
attrs_del(struct attrs *a, const char *path)
{
	size_t i;
	int found;

	i = attrs_find(a, path, &found);
	if (!found)
		return 0;
	free(a->v[i].path);
	free(a->v[i].value);
	memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(a->v[0]));
	a->n--;
	return 1;
}

int
attrs_equal(const struct attrs *a, const struct attrs *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].path, b->v[i].path) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	}
	return 1;
}

int
attrs_copy(struct attrs *dst, const struct attrs *src)
{
	struct attrs t = ATTRS_INIT;
	size_t i;

	if (src->n > 0) {
		t.v = calloc(src->n, sizeof(*t.v));
		if (t.v == NULL)
			return -1;
		t.cap = src->n;
	}
	for (i = 0; i < src->n; i++) {
		t.v[i].path = strdup(src->v[i].path);
		t.v[i].value = strdup(src->v[i].value);
		t.n++;
		if (t.v[i].path == NULL || t.v[i].value == NULL) {
			attrs_free(&t);
			return -1;
		}
	}
	attrs_free(dst);
	*dst = t;
	return 0;
}

void
attrs_free(struct attrs *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].path);
		free(a->v[i].value);
	}
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

char *
attrs_to_json(const struct attrs *a)
{
	cJSON *obj = NULL;
	char *s = NULL;
	size_t i;

	obj = cJSON_CreateObject();
	if (obj == NULL)
		goto done;
	for (i = 0; i < a->n; i++) {
		if (cJSON_AddStringToObject(obj, a->v[i].path,
		    a->v[i].value) == NULL)
			goto done;
	}
	s = cJSON_PrintUnformatted(obj);
done:
	cJSON_Delete(obj);
	return s;
}

int
attrs_from_json(struct attrs *a, const char *s)
{
	struct attrs t = ATTRS_INIT;
	const cJSON *item;
	cJSON *obj = NULL;
	size_t i;
	int rc = -1;

	if (s == NULL)
		goto done;
	obj = cJSON_ParseWithOpts(s, NULL, 1);
	if (obj == NULL || !cJSON_IsObject(obj))
		goto done;
	cJSON_ArrayForEach(item, obj) {
		if (item->string == NULL || !cJSON_IsString(item) ||
		    item->valuestring == NULL)
			goto done;
		if (attrs_set(&t, item->string, item->valuestring) != 0)
			goto done;
	}
	if (a->n == 0) {
		attrs_free(a);
		*a = t;
		t = (struct attrs)ATTRS_INIT;
	} else {
		for (i = 0; i < t.n; i++)
			if (attrs_set(a, t.v[i].path, t.v[i].value) != 0)
				goto done;
	}
	rc = 0;
done:
	attrs_free(&t);
	cJSON_Delete(obj);
	return rc;
}

struct record *
record_new(enum rec_kind kind, const char *key)
{
	struct record *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->kind = kind;
	if (key != NULL) {
		r->key = strdup(key);
		if (r->key == NULL) {
			free(r);
			return NULL;
		}
	}
	return r;
}

static void
members_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	free(r->key);
	free(r->dn);
	free(r->name);
	attrs_free(&r->attrs);
	members_free(r->members, r->nmembers);
	free(r->held);
	free(r->scim_id);
	free(r);
}

void
record_free_v(void *r)
{
	record_free(r);
}

/* *dst = copy of s (NULL stays NULL); 0, or -1 out of memory. */
static int
dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? -1 : 0;
}

struct record *
record_dup(const struct record *r)
{
	struct record *d;
	size_t i;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->kind = r->kind;
	d->removed = r->removed;
	if (dup_opt(&d->key, r->key) != 0 || dup_opt(&d->dn, r->dn) != 0 ||
	    dup_opt(&d->name, r->name) != 0 ||
	    dup_opt(&d->held, r->held) != 0 ||
	    dup_opt(&d->scim_id, r->scim_id) != 0 ||
	    attrs_copy(&d->attrs, &r->attrs) != 0)
		goto fail;
	if (r->nmembers > 0) {
		d->members = calloc(r->nmembers, sizeof(*d->members));
		if (d->members == NULL)
			goto fail;
		for (i = 0; i < r->nmembers; i++) {
			d->members[i] = strdup(r->members[i]);
			if (d->members[i] == NULL)
				goto fail;
			d->nmembers++;
		}
	}
	return d;
fail:
	record_free(d);
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
record_set_members(struct record *r, const char *const *keys, size_t n)
{
	const char **sorted = NULL;
	char **v = NULL;
	size_t i, m = 0;

	/* Sort and drop repeats on the borrowed pointers, then copy. */
	if (n > 0) {
		sorted = malloc(n * sizeof(*sorted));
		v = calloc(n, sizeof(*v));
		if (sorted == NULL || v == NULL) {
			free(sorted);
			free(v);
			return -1;
		}
		memcpy(sorted, keys, n * sizeof(*sorted));
		if (n > 1)
			qsort(sorted, n, sizeof(*sorted), cmp_str);
	}
	for (i = 0; i < n; i++) {
		if (m > 0 && strcmp(v[m - 1], sorted[i]) == 0)
			continue;
		if ((v[m] = strdup(sorted[i])) == NULL) {
			members_free(v, m);
			free(sorted);
			return -1;
		}
		m++;
	}
	free(sorted);
	if (m == 0) {
		free(v);
		v = NULL;
	} else if (m < n) {
		char **shrunk = realloc(v, m * sizeof(*v));

		if (shrunk != NULL)
			v = shrunk;
	}
	members_free(r->members, r->nmembers);
	r->members = v;
	r->nmembers = m;
	return 0;
}

int
record_has_member(const struct record *r, const char *key)
{
	size_t lo = 0, hi = r->nmembers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->members[mid], key);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
readset_init(struct readset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->users = (struct hmap)HMAP_INIT;
	rs->groups = (struct hmap)HMAP_INIT;
}

void
readset_free(struct readset *rs)
{
	if (rs == NULL)
		return;
	hmap_free(&rs->users, record_free_v);
	hmap_free(&rs->groups, record_free_v);
	readset_init(rs);
}
