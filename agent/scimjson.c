/*
 * scimjson.c - SCIM resources and PATCH operations built from records
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "mapping.h"
#include "scimjson.h"

#define SCHEMA_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCHEMA_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"

/* A path split into its parts. */
struct path_parts {
	enum { P_SIMPLE, P_SUB, P_MULTI, P_ENTERPRISE, P_ACTIVE, P_EXT } form;
	char urn[256];		/* P_EXT: the extension's URN */
	char top[64];		/* "title", "name", "emails", extension attr */
	char type[64];		/* P_MULTI: the type value */
	char sub[64];		/* P_SUB / P_MULTI / P_EXT: the sub-attribute */
};

/* The multi-valued attributes of which one element is primary. */
static const char *const multi_names[] = {
	"emails", "phoneNumbers", "ims", "photos", "addresses", NULL
};

static int
path_split(const char *path, struct path_parts *pp)
{
	size_t n = strlen(SCIM_ENTERPRISE_URN);
	const char *dot, *br, *colon;

	memset(pp, 0, sizeof(*pp));
	if (strcmp(path, "active") == 0) {
		pp->form = P_ACTIVE;
		return 0;
	}
	if (strncmp(path, SCIM_ENTERPRISE_URN, n) == 0 && path[n] == ':') {
		pp->form = P_ENTERPRISE;
		return strlen(path + n + 1) < sizeof(pp->top) ?
		    (strcpy(pp->top, path + n + 1), 0) : -1;
	}
	if (strncmp(path, "urn:", 4) == 0 || strncmp(path, "URN:", 4) == 0) {
		/* urn:...:Schema:attr[.sub], checked by mapping.c */
		colon = strrchr(path, ':');
		dot = strchr(colon, '.');
		if ((size_t)(colon - path) >= sizeof(pp->urn) ||
		    (size_t)((dot != NULL ? dot : colon + strlen(colon)) -
		    (colon + 1)) >= sizeof(pp->top) ||
		    (dot != NULL && strlen(dot + 1) >= sizeof(pp->sub)))
			return -1;
		pp->form = P_EXT;
		memcpy(pp->urn, path, (size_t)(colon - path));
		if (dot != NULL) {
			memcpy(pp->top, colon + 1, (size_t)(dot - colon - 1));
			strcpy(pp->sub, dot + 1);
		} else {
			strcpy(pp->top, colon + 1);
		}
		return 0;
	}
	br = strchr(path, '[');
	if (br != NULL) {
		/* NAME[type eq "T"].SUB, already checked by mapping.c */
		const char *t = br + 10, *q = strchr(t, '"');

		if (q == NULL || (size_t)(br - path) >= sizeof(pp->top) ||
		    (size_t)(q - t) >= sizeof(pp->type) ||
		    strlen(q + 3) >= sizeof(pp->sub))
			return -1;
		pp->form = P_MULTI;
		memcpy(pp->top, path, (size_t)(br - path));
		memcpy(pp->type, t, (size_t)(q - t));
		strcpy(pp->sub, q + 3);
		return 0;
	}
	dot = strchr(path, '.');
	if (dot != NULL) {
		if ((size_t)(dot - path) >= sizeof(pp->top) ||
		    strlen(dot + 1) >= sizeof(pp->sub))
			return -1;
		pp->form = P_SUB;
		memcpy(pp->top, path, (size_t)(dot - path));
		strcpy(pp->sub, dot + 1);
		return 0;
	}
	if (strlen(path) >= sizeof(pp->top))
		return -1;
	pp->form = P_SIMPLE;
	strcpy(pp->top, path);
	return 0;
}

/* obj[name] as an object, created when missing; NULL on ENOMEM. */
static cJSON *
child_object(cJSON *obj, const char *name)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (c != NULL)
		return cJSON_IsObject(c) ? c : NULL;
	return cJSON_AddObjectToObject(obj, name);
}

/* The element of the array obj[name] whose "type" is type, or NULL. */
static cJSON *
multi_find(const cJSON *obj, const char *name, const char *type)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *el;

	cJSON_ArrayForEach(el, arr) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(el, "type");

		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
			return el;
	}
	return NULL;
}

/* The element of the array obj[name] whose "type" is type (created). */
static cJSON *
multi_element(cJSON *obj, const char *name, const char *type)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *el;

	if (arr == NULL)
		arr = cJSON_AddArrayToObject(obj, name);
	if (arr == NULL)
		return NULL;
	if ((el = multi_find(obj, name, type)) != NULL)
		return el;
	el = cJSON_CreateObject();
	if (el == NULL)
		return NULL;
	if (!cJSON_AddItemToArray(arr, el)) {
		cJSON_Delete(el);
		return NULL;
	}
	if (cJSON_AddStringToObject(el, "type", type) == NULL)
		return NULL;
	return el;
}

/* "NAME[type eq \"T\"]" into out (size n); 0, or -1 when too long. */
static int
element_prefix(char *out, size_t n, const char *name, const char *type)
{
	int len = snprintf(out, n, "%s[type eq \"%s\"]", name, type);

	return len > 0 && (size_t)len < n ? 0 : -1;
}

/* Does a contain any path starting with prefix? */
static int
has_element(const struct attrs *a, const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; a != NULL && i < a->n; i++)
		if (strncmp(a->v[i].path, prefix, n) == 0)
			return 1;
	return 0;
}

/* Does a have an element of type in multi-valued attribute name? */
static int
has_typed(const struct attrs *a, const char *name, const char *type)
{
	char prefix[192];

	return element_prefix(prefix, sizeof(prefix), name, type) == 0 &&
	    has_element(a, prefix);
}

/*
 * The type of the element of multi-valued attribute name that is primary
 * in a (scimjson.h): copied into type (64 bytes); 0 when a has none.
 */
static int
primary_type(const struct attrs *a, const char *name,
    const struct scimjson_shape *sh, char type[64])
{
	struct path_parts pp;
	size_t i;

	type[0] = '\0';
	if (strcmp(name, "emails") == 0 && has_typed(a, name, "work")) {
		strcpy(type, "work");
		return 1;
	}
	for (i = 0; sh != NULL && sh->map != NULL &&
	    i < mapping_count(sh->map); i++)
		if (path_split(mapping_path(sh->map, i), &pp) == 0 &&
		    pp.form == P_MULTI && strcmp(pp.top, name) == 0 &&
		    has_typed(a, name, pp.type)) {
			strcpy(type, pp.type);
			return 1;
		}
	for (i = 0; a != NULL && i < a->n; i++)
		if (path_split(a->v[i].path, &pp) == 0 && pp.form == P_MULTI &&
		    strcmp(pp.top, name) == 0) {
			strcpy(type, pp.type);
			return 1;
		}
	return 0;
}

/* What is really sent of a: with single_email, the emails other than the
 * primary one are left out.  0, or -1 on ENOMEM. */
static int
attrs_project(struct attrs *out, const struct attrs *a,
    const struct scimjson_shape *sh)
{
	char type[64], keep[192];
	size_t i;

	if (attrs_copy(out, a) != 0)
		return -1;
	if (sh == NULL || !sh->single_email ||
	    !primary_type(a, "emails", sh, type) ||
	    element_prefix(keep, sizeof(keep), "emails", type) != 0)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strncmp(a->v[i].path, "emails[", 7) == 0 &&
		    strncmp(a->v[i].path, keep, strlen(keep)) != 0)
			attrs_del(out, a->v[i].path);
	return 0;
}

/* Mark the primary element of every multi-valued attribute of res built
 * from a.  0, or -1 on ENOMEM. */
static int
mark_primaries(cJSON *res, const struct attrs *a,
    const struct scimjson_shape *sh)
{
	char type[64];
	cJSON *el;
	size_t i;

	for (i = 0; multi_names[i] != NULL; i++) {
		if (!primary_type(a, multi_names[i], sh, type))
			continue;
		el = multi_find(res, multi_names[i], type);
		if (el != NULL && cJSON_GetObjectItemCaseSensitive(el,
		    "primary") == NULL &&
		    cJSON_AddTrueToObject(el, "primary") == NULL)
			return -1;
	}
	return 0;
}

/* Add urn to the schemas array (once).  0, or -1 on ENOMEM. */
static int
schemas_add(cJSON *schemas, const char *urn)
{
	cJSON *s, *v;

	if (schemas == NULL)
		return 0;
	cJSON_ArrayForEach(s, schemas)
		if (cJSON_IsString(s) && strcmp(s->valuestring, urn) == 0)
			return 0;
	v = cJSON_CreateString(urn);
	if (v == NULL || !cJSON_AddItemToArray(schemas, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

static cJSON *
manager_value(const char *key, scim_id_fn ids, void *arg)
{
	const char *id = ids != NULL ? ids(arg, key) : NULL;
	cJSON *o;

	if (id == NULL)
		return NULL;
	o = cJSON_CreateObject();
	if (o != NULL && cJSON_AddStringToObject(o, "value", id) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Set one flat attribute into the resource tree; an extension used is
 * added to schemas (may be NULL).  0, 1 (skipped: an unresolvable
 * manager), or -1 on ENOMEM or a malformed path. */
static int
put_attr(cJSON *res, const char *path, const char *value, scim_id_fn ids,
    void *arg, cJSON *schemas)
{
	struct path_parts pp;
	cJSON *o;

	if (path_split(path, &pp) != 0)
		return -1;
	switch (pp.form) {
	case P_ACTIVE:
		return cJSON_AddBoolToObject(res, "active",
		    strcmp(value, "true") == 0) ? 0 : -1;
	case P_SIMPLE:
		return cJSON_AddStringToObject(res, pp.top, value) ? 0 : -1;
	case P_SUB:
		o = child_object(res, pp.top);
		return o != NULL && cJSON_AddStringToObject(o, pp.sub, value) ?
		    0 : -1;
	case P_MULTI:
		o = multi_element(res, pp.top, pp.type);
		return o != NULL && cJSON_AddStringToObject(o, pp.sub, value) ?
		    0 : -1;
	case P_EXT:
		o = child_object(res, pp.urn);
		if (o != NULL && pp.sub[0] != '\0')
			o = child_object(o, pp.top);
		if (o == NULL || schemas_add(schemas, pp.urn) != 0)
			return -1;
		return cJSON_AddStringToObject(o, pp.sub[0] != '\0' ? pp.sub :
		    pp.top, value) ? 0 : -1;
	case P_ENTERPRISE:
		if (strcmp(pp.top, "manager") == 0) {
			cJSON *m = manager_value(value, ids, arg);

			if (m == NULL)
				return 1;
			o = child_object(res, SCIM_ENTERPRISE_URN);
			if (o == NULL || !cJSON_AddItemToObject(o, "manager", m)) {
				cJSON_Delete(m);
				return -1;
			}
			return schemas_add(schemas, SCIM_ENTERPRISE_URN);
		}
		o = child_object(res, SCIM_ENTERPRISE_URN);
		if (o == NULL || schemas_add(schemas, SCIM_ENTERPRISE_URN) != 0)
			return -1;
		return cJSON_AddStringToObject(o, pp.top, value) ? 0 : -1;
	}
	return -1;
}

int
scimjson_user(cJSON **out, const struct record *r,
    const struct scimjson_shape *shape, scim_id_fn ids, void *arg,
    struct err *err)
{
	cJSON *res = cJSON_CreateObject(), *schemas;
	struct attrs a = ATTRS_INIT;
	size_t i;

	*out = NULL;
	if (res == NULL || attrs_project(&a, &r->attrs, shape) != 0)
		goto nomem;
	schemas = cJSON_AddArrayToObject(res, "schemas");
	if (schemas == NULL || schemas_add(schemas, SCHEMA_USER) != 0 ||
	    cJSON_AddStringToObject(res, "externalId", r->key) == NULL)
		goto nomem;
	for (i = 0; i < a.n; i++)
		if (put_attr(res, a.v[i].path, a.v[i].value, ids, arg,
		    schemas) < 0)
			goto nomem;
	if (mark_primaries(res, &a, shape) != 0)
		goto nomem;
	attrs_free(&a);
	*out = res;
	return L2S_OK;
nomem:
	attrs_free(&a);
	cJSON_Delete(res);
	return err_set(err, L2S_ENOMEM, "cannot build the SCIM user '%s': out "
	    "of memory", r->name != NULL ? r->name : r->key);
}

static int
op_add(cJSON *ops, const char *op, const char *path, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(ops, o)) {
		cJSON_Delete(o);
		cJSON_Delete(value);
		return -1;
	}
	if (cJSON_AddStringToObject(o, "op", op) == NULL ||
	    (path != NULL && cJSON_AddStringToObject(o, "path", path) == NULL)) {
		cJSON_Delete(value);
		return -1;
	}
	if (value != NULL && !cJSON_AddItemToObject(o, "value", value)) {
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

/* The PATCH value for path: a string, a boolean, or a manager reference. */
static cJSON *
patch_value(const char *path, const char *value, scim_id_fn ids, void *arg)
{
	if (strcmp(path, "active") == 0)
		return cJSON_CreateBool(strcmp(value, "true") == 0);
	if (strcmp(path, SCIM_MANAGER_PATH) == 0)
		return manager_value(value, ids, arg);
	return cJSON_CreateString(value);
}

/* The element prefix of a P_MULTI path: NAME[type eq "T"] */
static size_t
element_prefix_len(const char *path)
{
	const char *close = strstr(path, "\"]");

	return close != NULL ? (size_t)(close - path) + 2 : 0;
}

/* Operations for the multi-valued element at prefix (whole-element add or
 * remove when the element appears or disappears, else per sub-attribute);
 * an element added carries "primary": true when primary is set. */
static int
patch_element(cJSON *ops, const char *prefix, const char *name, int primary,
    const struct attrs *before, const struct attrs *after)
{
	int had = has_element(before, prefix), has = has_element(after, prefix);
	size_t i, n = strlen(prefix);
	cJSON *el;

	if (had && !has) {
		/* Before any addition: never two values where one is taken
		 * (a single email swapped for another). */
		cJSON *rm = cJSON_CreateArray();

		if (rm == NULL || op_add(rm, "remove", prefix, NULL) != 0) {
			cJSON_Delete(rm);
			return -1;
		}
		el = cJSON_DetachItemFromArray(rm, 0);
		cJSON_Delete(rm);
		return cJSON_InsertItemInArray(ops, 0, el) ? 0 : -1;
	}
	if (!had && has) {
		cJSON *tmp = cJSON_CreateObject(), *arr;

		if (tmp == NULL)
			return -1;
		for (i = 0; i < after->n; i++)
			if (strncmp(after->v[i].path, prefix, n) == 0 &&
			    put_attr(tmp, after->v[i].path, after->v[i].value,
			    NULL, NULL, NULL) != 0) {
				cJSON_Delete(tmp);
				return -1;
			}
		arr = tmp->child;	/* the one array put_attr made */
		el = arr != NULL ? arr->child : NULL;
		if (el == NULL || (primary &&
		    cJSON_AddTrueToObject(el, "primary") == NULL)) {
			cJSON_Delete(tmp);
			return -1;
		}
		cJSON_DetachItemViaPointer(tmp, arr);
		cJSON_Delete(tmp);
		return op_add(ops, "add", name, arr);
	}
	/* Both: per sub-attribute, handled by the caller's path walk. */
	return 1;
}

/* When the primary element of a multi-valued attribute changes between
 * before and after: the old one, if kept, is no longer primary; the new
 * one, if it was there before (else it was added as primary), becomes
 * primary.  0, or -1 on ENOMEM. */
static int
patch_primaries(cJSON *ops, const struct attrs *before,
    const struct attrs *after, const struct scimjson_shape *sh)
{
	char tb[64], ta[64], path[256];
	size_t i;

	for (i = 0; multi_names[i] != NULL; i++) {
		const char *name = multi_names[i];
		int hb = primary_type(before, name, sh, tb);
		int ha = primary_type(after, name, sh, ta);

		if (hb == ha && (!hb || strcmp(tb, ta) == 0))
			continue;
		if (hb && has_typed(after, name, tb)) {
			if (element_prefix(path, sizeof(path) - 8, name, tb) != 0)
				return -1;
			strcat(path, ".primary");
			if (op_add(ops, "replace", path, cJSON_CreateFalse()) != 0)
				return -1;
		}
		if (ha && has_typed(before, name, ta)) {
			if (element_prefix(path, sizeof(path) - 8, name, ta) != 0)
				return -1;
			strcat(path, ".primary");
			if (op_add(ops, "replace", path, cJSON_CreateTrue()) != 0)
				return -1;
		}
	}
	return 0;
}

int
scimjson_user_patch(cJSON **out, const struct attrs *before0,
    const struct attrs *after0, const struct scimjson_shape *shape,
    scim_id_fn ids, void *arg, struct err *err)
{
	cJSON *ops = cJSON_CreateArray();
	struct buf done_prefixes = BUF_INIT;	/* "\n"-separated */
	struct attrs pb = ATTRS_INIT, pa = ATTRS_INIT;
	const struct attrs *before = &pb, *after = &pa;
	size_t i = 0, j = 0;

	*out = NULL;
	if (ops == NULL || attrs_project(&pb, before0, shape) != 0 ||
	    attrs_project(&pa, after0, shape) != 0)
		goto nomem;
	while (i < before->n || j < after->n) {
		int c = i == before->n ? 1 : j == after->n ? -1 :
		    strcmp(before->v[i].path, after->v[j].path);
		const char *path = c <= 0 ? before->v[i].path : after->v[j].path;
		const char *bval = c <= 0 ? before->v[i].value : NULL;
		const char *aval = c >= 0 ? after->v[j].value : NULL;
		size_t plen = element_prefix_len(path);

		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (bval != NULL && aval != NULL && strcmp(bval, aval) == 0)
			continue;
		if (plen > 0 && strchr(path, '[') != NULL) {
			char prefix[256], primary[64];
			struct path_parts pp;
			int rc;

			if (plen >= sizeof(prefix))
				goto nomem;
			memcpy(prefix, path, plen);
			prefix[plen] = '\0';
			if (strstr(buf_str(&done_prefixes), prefix) != NULL)
				continue;
			if (path_split(path, &pp) != 0)
				goto nomem;
			primary_type(after, pp.top, shape, primary);
			rc = patch_element(ops, prefix, pp.top,
			    strcmp(pp.type, primary) == 0, before, after);
			if (rc < 0)
				goto nomem;
			if (rc == 0) {
				buf_printf(&done_prefixes, "%s\n", prefix);
				continue;
			}
		}
		if (aval == NULL) {
			if (op_add(ops, "remove", path, NULL) != 0)
				goto nomem;
		} else {
			cJSON *v = patch_value(path, aval, ids, arg);

			if (v == NULL) {
				if (strcmp(path, SCIM_MANAGER_PATH) == 0)
					continue;	/* manager not created yet */
				goto nomem;
			}
			if (op_add(ops, "replace", path, v) != 0)
				goto nomem;
		}
	}
	if (buf_failed(&done_prefixes) ||
	    patch_primaries(ops, before, after, shape) != 0)
		goto nomem;
	buf_free(&done_prefixes);
	attrs_free(&pb);
	attrs_free(&pa);
	*out = ops;
	return L2S_OK;
nomem:
	buf_free(&done_prefixes);
	attrs_free(&pb);
	attrs_free(&pa);
	cJSON_Delete(ops);
	return err_set(err, L2S_ENOMEM, "cannot build the PATCH operations: out "
	    "of memory");
}

static cJSON *
member_array(const char *const *ids, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		cJSON *m = cJSON_CreateObject();

		if (m == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, m);	/* cannot fail: both exist */
		if (cJSON_AddStringToObject(m, "value", ids[i]) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

int
scimjson_group(cJSON **out, const struct record *g, const char *const *ids,
    size_t n, struct err *err)
{
	cJSON *res = cJSON_CreateObject(), *schemas, *members;

	*out = NULL;
	if (res == NULL)
		goto nomem;
	schemas = cJSON_AddArrayToObject(res, "schemas");
	if (schemas == NULL ||
	    !cJSON_AddItemToArray(schemas, cJSON_CreateString(SCHEMA_GROUP)) ||
	    cJSON_AddStringToObject(res, "displayName", g->name) == NULL ||
	    cJSON_AddStringToObject(res, "externalId", g->key) == NULL)
		goto nomem;
	members = member_array(ids, n);
	if (members == NULL || !cJSON_AddItemToObject(res, "members", members)) {
		cJSON_Delete(members);
		goto nomem;
	}
	*out = res;
	return L2S_OK;
nomem:
	cJSON_Delete(res);
	return err_set(err, L2S_ENOMEM, "cannot build the SCIM group '%s': out "
	    "of memory", g->name);
}

int
scimjson_group_rename(cJSON **out, const char *name, struct err *err)
{
	*out = cJSON_CreateArray();
	if (*out == NULL || op_add(*out, "replace", "displayName",
	    cJSON_CreateString(name)) != 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	return L2S_OK;
}

int
scimjson_members_add(cJSON **out, const char *const *ids, size_t n,
    struct err *err)
{
	cJSON *arr;

	*out = cJSON_CreateArray();
	arr = member_array(ids, n);
	if (*out == NULL || arr == NULL || op_add(*out, "add", "members", arr) != 0) {
		if (*out == NULL)
			cJSON_Delete(arr);
		cJSON_Delete(*out);
		*out = NULL;
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	return L2S_OK;
}

int
scimjson_members_remove(cJSON **out, const char *const *ids, size_t n,
    struct err *err)
{
	struct buf path = BUF_INIT;
	size_t i;
	const char *p;

	*out = cJSON_CreateArray();
	if (*out == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_puts(&path, "members[value eq \"");
		for (p = ids[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(&path, '\\');
			buf_putc(&path, *p);
		}
		buf_puts(&path, "\"]");
		if (buf_failed(&path) ||
		    op_add(*out, "remove", buf_str(&path), NULL) != 0)
			goto nomem;
	}
	buf_free(&path);
	return L2S_OK;
nomem:
	buf_free(&path);
	cJSON_Delete(*out);
	*out = NULL;
	return err_set(err, L2S_ENOMEM, "out of memory");
}

int
scimjson_deactivate(cJSON **out, struct err *err)
{
	*out = cJSON_CreateArray();
	if (*out == NULL || op_add(*out, "replace", "active",
	    cJSON_CreateFalse()) != 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	return L2S_OK;
}

/* res[name] when it is a non-empty string, else NULL. */
static const char *
json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ?
	    v->valuestring : NULL;
}

int
scimjson_user_attrs(struct attrs *out, const cJSON *res,
    const struct mapping *m, scim_key_fn keys, void *arg, struct err *err)
{
	const cJSON *active = cJSON_GetObjectItemCaseSensitive(res, "active");
	size_t i;

	/* SCIM's default for a missing "active" is active. */
	if (attrs_set(out, "active", cJSON_IsFalse(active) ? "false" : "true") != 0)
		goto nomem;
	for (i = 0; i < mapping_count(m); i++) {
		const char *path = mapping_path(m, i), *v = NULL;
		struct path_parts pp;
		const cJSON *o, *el;

		if (path_split(path, &pp) != 0)
			continue;
		switch (pp.form) {
		case P_ACTIVE:
			continue;
		case P_SIMPLE:
			v = json_str(res, pp.top);
			break;
		case P_SUB:
			v = json_str(cJSON_GetObjectItemCaseSensitive(res, pp.top),
			    pp.sub);
			break;
		case P_MULTI:
			o = cJSON_GetObjectItemCaseSensitive(res, pp.top);
			if (!cJSON_IsArray(o))
				break;
			cJSON_ArrayForEach(el, o) {
				const char *t = json_str(el, "type");

				if (t != NULL && strcmp(t, pp.type) == 0) {
					v = json_str(el, pp.sub);
					break;
				}
			}
			break;
		case P_EXT:
			o = cJSON_GetObjectItemCaseSensitive(res, pp.urn);
			if (pp.sub[0] != '\0')
				o = cJSON_GetObjectItemCaseSensitive(o, pp.top);
			v = json_str(o, pp.sub[0] != '\0' ? pp.sub : pp.top);
			break;
		case P_ENTERPRISE:
			o = cJSON_GetObjectItemCaseSensitive(res, SCIM_ENTERPRISE_URN);
			if (strcmp(pp.top, "manager") != 0) {
				v = json_str(o, pp.top);
				break;
			}
			v = json_str(cJSON_GetObjectItemCaseSensitive(o, "manager"),
			    "value");
			v = v != NULL && keys != NULL ? keys(arg, v) : NULL;
			break;
		}
		if (v != NULL && attrs_set(out, path, v) != 0)
			goto nomem;
	}
	return L2S_OK;
nomem:
	attrs_free(out);
	return err_set(err, L2S_ENOMEM, "out of memory");
}
