/*
 * apply.c - carry a plan out against the SCIM service
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "apply.h"
#include "buf.h"
#include "log.h"
#include "mapping.h"
#include "platform.h"
#include "progress.h"
#include "scimjson.h"

/* Everything one apply needs. */
struct apply {
	const struct config *cfg;
	struct state *state;
	struct scim *scim;
	struct hmap *have_users;	/* key -> record; creates are added */
	struct hmap *have_groups;	/* key -> record */
	const struct readset *want;
	struct hmap user_owner;		/* SCIM id -> user key (owned copy) */
	struct hmap group_owner;	/* SCIM id -> group key (owned copy) */
	struct hmap superseded;		/* user keys whose remote user was taken
					   over by a re-created directory user */
	struct apply_result *res;
	int fatal;			/* an outcome that ends the apply */
	struct err fatal_err;
	int unreachable;		/* operations in a row that failed ETEMP */
	size_t window;			/* operations sent ahead at once (1: none) */
	struct scimjson_shape shape;	/* how the target wants users */
	int never_put;			/* profile atlassian: a PUT clears what
					   it leaves out, so adopt by PATCH */
};

/* An operation left alone on purpose (groups.on_conflict: skip). */
#define APPLY_SKIPPED 1

/*
 * Objects whose change may have been applied without the state knowing:
 * a meta value "pending:user:KEY" or "pending:group:KEY" is set before a
 * PATCH that is not idempotent is sent and cleared once its outcome is
 * recorded.  A run that dies in between, or a failure whose outcome is
 * unknown, leaves it, and apply_prepare() reads the object back first.
 */
#define PENDING_PREFIX "pending:"

/*
 * A group recreated (scim.group_rename: recreate) leaves its old remote
 * group to delete: a meta value "retire:group:OLD-ID" = KEY is set before
 * the new group is created and cleared once the old one is deleted.  A
 * run that dies or fails in between leaves it, and apply_prepare() then
 * finishes the job: it records the new group if the state still names
 * the old one, and deletes OLD-ID, never the group the state records.
 */
#define RETIRE_PREFIX "retire:group:"

struct apply;
static const char *owner_key(void *arg, const char *scim_id);
static int adopt_user_patch(struct apply *a, const char *id,
    const struct record *want, struct err *err);
static int adopt_group(struct apply *a, const char *id,
    const struct record *want, const char *const *ids, size_t n,
    const cJSON *body, struct err *err);

static int
pending_name(struct buf *b, enum rec_kind kind, const char *key,
    struct err *err)
{
	buf_printf(b, PENDING_PREFIX "%s:%s", kind == REC_USER ? "user" :
	    "group", key);
	return buf_failed(b) ? err_set(err, L2S_ENOMEM, "out of memory") :
	    L2S_OK;
}

static int
pending_set(struct state *st, enum rec_kind kind, const char *key, int on,
    struct err *err)
{
	struct buf b = BUF_INIT;
	int rc = pending_name(&b, kind, key, err);

	if (rc == L2S_OK)
		rc = state_meta_set(st, buf_str(&b), on ? "1" : NULL, err);
	buf_free(&b);
	return rc;
}

static int
pending_mark(struct state *st, enum rec_kind kind, const char *key,
    struct err *err)
{
	return pending_set(st, kind, key, 1, err);
}

static int
pending_clear(struct state *st, enum rec_kind kind, const char *key,
    struct err *err)
{
	return pending_set(st, kind, key, 0, err);
}

static const char *
apply_id(void *arg, const char *key)
{
	struct apply *a = arg;
	const struct record *r = hmap_get(a->have_users, key);

	return r != NULL ? r->scim_id : NULL;
}


/* What will really be sent and recorded: a manager without a SCIM id yet
 * is left out (the next cycle adds it). */
static int
effective_attrs(struct apply *a, const struct record *want, struct attrs *out)
{
	const char *mk;

	if (attrs_copy(out, &want->attrs) != 0)
		return -1;
	mk = attrs_get(out, SCIM_MANAGER_PATH);
	if (mk != NULL && apply_id(a, mk) == NULL)
		attrs_del(out, SCIM_MANAGER_PATH);
	return 0;
}

/* A copy of base with the given attributes, scim id and flags. */
static struct record *
confirmed(const struct record *base, const struct attrs *attrs,
    const char *scim_id, int removed)
{
	struct record *r = record_dup(base);

	if (r == NULL)
		return NULL;
	if (attrs != NULL) {
		attrs_free(&r->attrs);
		if (attrs_copy(&r->attrs, attrs) != 0)
			goto fail;
	}
	free(r->held);
	r->held = NULL;
	if (scim_id != NULL) {
		free(r->scim_id);
		if ((r->scim_id = strdup(scim_id)) == NULL)
			goto fail;
	}
	r->removed = removed;
	return r;
fail:
	record_free(r);
	return NULL;
}


/* The remote object is gone: forget it so the next cycle creates it.  A
 * user is also forgotten as a member (the service dropped it from its
 * groups), so that the user created again is added to them again. */
static int
apply_forget(struct apply *a, const struct record *have, struct err *err)
{
	struct err e2 = ERR_INIT;
	size_t pos = 0;
	void *v;
	int rc;

	rc = state_del(a->state, have->kind, have->key, &e2);
	while (rc == L2S_OK && have->kind == REC_USER &&
	    hmap_next(a->have_groups, &pos, NULL, &v)) {
		const struct record *g = v;
		const char *k = have->key;

		if (record_has_member(g, k))
			rc = state_remove_members(a->state, g->key, &k, 1, &e2);
	}
	if (rc != L2S_OK)
		return err_set(err, e2.code, "%s", e2.msg);
	return err_prefix(err, "it no longer exists on the SCIM service and "
	    "will be created again next cycle");
}

/* Does a PATCH carry an "add" (not idempotent everywhere)? */
static int
has_add(const cJSON *ops)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, ops) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "op");

		if (cJSON_IsString(v) && strcmp(v->valuestring, "add") == 0)
			return 1;
	}
	return 0;
}

static int
apply_user_update(struct apply *a, const struct op *op, struct err *err)
{
	struct attrs eff = ATTRS_INIT;
	struct record *tmp = NULL;
	cJSON *body = NULL;
	int rc;

	if (effective_attrs(a, op->want, &eff) != 0 ||
	    (tmp = confirmed(op->want, &eff, op->have->scim_id, 0)) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (scim_caps(a->scim)->patch) {
		rc = scimjson_user_patch(&body, &op->have->attrs, &eff,
		    &a->shape, apply_id, a, err);
		if (rc != L2S_OK)
			goto done;
		if (cJSON_GetArraySize(body) > 0) {
			/* An "add" of an element is not idempotent: if this
			 * run dies before recording, the next reads it back. */
			rc = pending_mark(a->state, REC_USER, op->have->key, err);
			if (rc == L2S_OK && has_add(body)) {
				int ambiguous;

				/* Not repeated blindly: on a lost answer the
				 * mark stays and the next cycle reads back. */
				rc = scim_patch_once(a->scim, "Users",
				    op->have->scim_id, body, &ambiguous, err);
			} else if (rc == L2S_OK) {
				rc = scim_patch(a->scim, "Users",
				    op->have->scim_id, body, err);
			}
		}
	} else {
		rc = scimjson_user(&body, tmp, &a->shape, apply_id, a, err);
		if (rc == L2S_OK)
			rc = scim_replace(a->scim, "Users", op->have->scim_id,
			    body, err);
	}
	if (rc == L2S_ENOTFOUND)
		rc = apply_forget(a, op->have, err);
	if (rc != L2S_OK) {
		/* A refusal applied nothing; a lost answer may have: the
		 * mark stays and the next cycle reads the user back. */
		if (rc != L2S_ETEMP)
			pending_clear(a->state, REC_USER, op->have->key, NULL);
		goto done;
	}
	rc = state_put(a->state, tmp, err);
	if (rc == L2S_OK)
		rc = pending_clear(a->state, REC_USER, op->have->key, err);
done:
	record_free(tmp);
	attrs_free(&eff);
	cJSON_Delete(body);
	return rc;
}

static int
apply_user_remove(struct apply *a, const struct op *op, struct err *err)
{
	struct record *tmp = NULL;
	cJSON *body = NULL;
	int rc;

	if (op->kind == OP_USER_DELETE) {
		rc = scim_delete(a->scim, "Users", op->have->scim_id, err);
		if (rc == L2S_OK)
			rc = state_del(a->state, REC_USER, op->have->key, err);
		return rc;
	}
	tmp = confirmed(op->have, NULL, NULL, 1);
	if (tmp == NULL || attrs_set(&tmp->attrs, "active", "false") != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (scim_caps(a->scim)->patch) {
		rc = scimjson_deactivate(&body, err);
		if (rc == L2S_OK)
			rc = scim_patch(a->scim, "Users", op->have->scim_id, body,
			    err);
	} else {
		rc = scimjson_user(&body, tmp, &a->shape, apply_id, a, err);
		if (rc == L2S_OK)
			rc = scim_replace(a->scim, "Users", op->have->scim_id,
			    body, err);
	}
	if (rc == L2S_ENOTFOUND) {
		/* Already gone remotely: nothing left to deactivate. */
		rc = state_del(a->state, REC_USER, op->have->key, err);
		goto done;
	}
	if (rc == L2S_OK)
		rc = state_put(a->state, tmp, err);
done:
	record_free(tmp);
	cJSON_Delete(body);
	return rc;
}

/* Split keys into those whose users have SCIM ids (ids[], okkeys[]). */
static int
resolve_members(struct apply *a, const char *const *keys, size_t n,
    const char ***ids, const char ***okkeys, size_t *nok)
{
	size_t i;

	*nok = 0;
	*ids = calloc(n + 1, sizeof(**ids));
	*okkeys = calloc(n + 1, sizeof(**okkeys));
	if (*ids == NULL || *okkeys == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const char *id = apply_id(a, keys[i]);

		if (id == NULL)
			continue;
		(*ids)[*nok] = id;
		(*okkeys)[(*nok)++] = keys[i];
	}
	return 0;
}


/* PUT the whole group as it should be now (targets without PATCH). */
static int
apply_group_put(struct apply *a, const struct op *op, struct err *err)
{
	const char **ids = NULL, **okkeys = NULL;
	struct record *tmp = NULL;
	cJSON *body = NULL;
	size_t nok;
	int rc;

	if (resolve_members(a, (const char *const *)op->want->members,
	    op->want->nmembers, &ids, &okkeys, &nok) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = scimjson_group(&body, op->want, ids, nok, err);
	if (rc == L2S_OK)
		rc = scim_replace(a->scim, "Groups", op->have->scim_id, body, err);
	if (rc == L2S_ENOTFOUND)
		rc = apply_forget(a, op->have, err);
	if (rc != L2S_OK)
		goto done;
	tmp = confirmed(op->want, NULL, op->have->scim_id, 0);
	if (tmp == NULL || record_set_members(tmp, okkeys, nok) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = state_put(a->state, tmp, err);
done:
	record_free(tmp);
	cJSON_Delete(body);
	free(ids);
	free(okkeys);
	return rc;
}

/* Append the operations in more to ops (more is consumed). */
static int
ops_append(cJSON *ops, cJSON *more)
{
	cJSON *o;

	while ((o = cJSON_DetachItemFromArray(more, 0)) != NULL)
		cJSON_AddItemToArray(ops, o);
	cJSON_Delete(more);
	return L2S_OK;
}


/* Note a failed operation; a refused token ends the apply, and so do
 * APPLY_MAX_UNREACHABLE operations in a row that could not get through. */
static void
apply_failed(struct apply *a, const struct op *op, const char *name,
    int rc, const struct err *e)
{
	a->res->failed++;
	log_warnx("%s '%s': %s", plan_op_name(op->kind), name, e->msg);
	a->unreachable = rc == L2S_ETEMP ? a->unreachable + 1 : 0;
	if (a->fatal)
		return;
	if (rc == L2S_EAUTH) {
		a->fatal = rc;
		a->fatal_err = *e;
	} else if (a->unreachable >= APPLY_MAX_UNREACHABLE) {
		a->fatal = L2S_ETEMP;
		err_set(&a->fatal_err, L2S_ETEMP, "the SCIM service failed %d "
		    "operations in a row: stopping this cycle (last: %s)",
		    a->unreachable, e->msg);
	}
}

/* Note that id belongs to key (a copy: records may be replaced while the
 * index lives).  0, or -1 on ENOMEM. */
static int
owner_put(struct hmap *owners, const char *id, const char *key)
{
	char *k = strdup(key);
	void *old = NULL;

	if (k == NULL || hmap_put(owners, id, k, &old) != 0) {
		free(k);
		return -1;
	}
	free(old);
	return 0;
}

/* Look a resource up by one attribute; *id is NULL when none matches.  A
 * resource whose id is except (may be NULL) is not counted.  A single
 * "eq" filter: the one form every service (Atlassian) takes. */
static int
remote_find(struct scim *scim, const char *type, const char *attr,
    const char *value, const char *except, char **id, struct err *err)
{
	struct buf f = BUF_INIT;
	cJSON *list = NULL, *el;
	const char *p, *found = NULL;
	int rc, n = 0;

	*id = NULL;
	buf_printf(&f, "%s eq \"", attr);
	for (p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(&f, '\\');
		buf_putc(&f, *p);
	}
	buf_putc(&f, '"');
	if (buf_failed(&f)) {
		buf_free(&f);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	rc = scim_list(scim, type, buf_str(&f), &list, err);
	if (rc != L2S_OK)
		goto done;
	cJSON_ArrayForEach(el, list) {
		const cJSON *idj = cJSON_GetObjectItemCaseSensitive(el, "id");

		if (!cJSON_IsString(idj) || idj->valuestring[0] == '\0') {
			rc = err_set(err, L2S_EPARSE, "GET /%s?filter=%s: a "
			    "resource without an \"id\"", type, buf_str(&f));
			goto done;
		}
		if (except != NULL && strcmp(idj->valuestring, except) == 0)
			continue;
		found = idj->valuestring;
		n++;
	}
	if (n > 1) {
		rc = err_set(err, L2S_ESCIM, "%d resources match '%s': cannot "
		    "tell which one to adopt", n, buf_str(&f));
		goto done;
	}
	if (found != NULL && (*id = strdup(found)) == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	cJSON_Delete(list);
	buf_free(&f);
	return rc;
}

static int
find_remote(struct apply *a, const char *type, const char *attr,
    const char *value, const char *except, char **id, struct err *err)
{
	return remote_find(a->scim, type, attr, value, except, id, err);
}

/*
 * POST a new resource for r.  A create is not idempotent where the service
 * does not enforce unique names: after a failure that may have created it,
 * look it up by externalId before sending it again.  On success the caller
 * owns *id.
 */
static int
create_checked(struct apply *a, const char *type, const struct record *r,
    const cJSON *body, const char *except, char **id, struct err *err)
{
	int attempt, ambiguous = 0, rc;

	for (attempt = 0;; attempt++) {
		rc = scim_create_once(a->scim, type, body, id, &ambiguous, err);
		if (rc != L2S_ETEMP || !ambiguous ||
		    attempt >= a->cfg->scim.retries)
			return rc;
		log_info("create %s '%s': %s; looking it up before trying again",
		    r->kind == REC_USER ? "user" : "group", r->name, err->msg);
		rc = find_remote(a, type, "externalId", r->key, except, id,
		    err);
		if (rc != L2S_OK || *id != NULL)
			return rc;
	}
}

/*
 * A create of r met a 409 (err holds it): find the remote resource and
 * check that it may be taken.  On success the caller owns *id.
 */
static int
adopt_find(struct apply *a, const struct record *r, const char *except,
    char **id, struct err *err)
{
	int user = r->kind == REC_USER;
	const char *type = user ? "Users" : "Groups";
	const char *what = user ? "user" : "group";
	const char *name_attr = user ? "userName" : "displayName";
	const struct hmap *present = user ? &a->want->users : &a->want->groups;
	struct hmap *owners = user ? &a->user_owner : &a->group_owner;
	char conflict[ERR_MSG_MAX];
	const char *owner;
	int rc;

	*id = NULL;
	snprintf(conflict, sizeof(conflict), "%s", err->msg);
	rc = find_remote(a, type, "externalId", r->key, except, id, err);
	if (rc == L2S_OK && *id == NULL)
		rc = find_remote(a, type, name_attr, r->name, except, id, err);
	if (rc != L2S_OK)
		return err_prefix(err, "%s; looking for the existing %s",
		    conflict, what);
	if (*id == NULL)
		return err_set(err, L2S_ECONFLICT, "%s; no %s with externalId "
		    "'%s' or %s '%s' was found to adopt (does the service "
		    "compare names without case?)", conflict, what, r->key,
		    name_attr, r->name);
	owner = hmap_get(owners, *id);
	if (owner != NULL && strcmp(owner, r->key) != 0) {
		const struct record *o = hmap_get(present, owner);

		if (o != NULL) {
			rc = err_set(err, L2S_ECONFLICT, "%s; the existing %s "
			    "(id %s) belongs to '%s', which is still in the "
			    "directory", conflict, what, *id,
			    o->dn != NULL ? o->dn : owner);
			free(*id);
			*id = NULL;
			return rc;
		}
		/* Re-created in the directory with a new key: take it over. */
		rc = state_del(a->state, r->kind, owner, err);
		if (rc != L2S_OK || hmap_put(&a->superseded, owner, (void *)1,
		    NULL) != 0) {
			free(*id);
			*id = NULL;
			return rc != L2S_OK ? rc :
			    err_set(err, L2S_ENOMEM, "out of memory");
		}
		log_info("%s '%s': the directory object behind id %s was "
		    "re-created; the new one takes it over", what, r->name, *id);
	}
	return L2S_OK;
}

static int
apply_user_create(struct apply *a, const struct op *op, struct err *err)
{
	struct attrs eff = ATTRS_INIT;
	struct record *tmp = NULL, *done_rec = NULL;
	cJSON *body = NULL;
	char *id = NULL;
	int rc;

	if (effective_attrs(a, op->want, &eff) != 0 ||
	    (tmp = confirmed(op->want, &eff, NULL, 0)) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = scimjson_user(&body, tmp, &a->shape, apply_id, a, err);
	if (rc != L2S_OK)
		goto done;
	rc = create_checked(a, "Users", tmp, body, NULL, &id, err);
	if (rc == L2S_ECONFLICT) {
		/* Created before (an answer lost, a crash) or by someone
		 * else: adopt it and make it what the directory says. */
		rc = adopt_find(a, tmp, NULL, &id, err);
		if (rc == L2S_OK && a->never_put)
			rc = adopt_user_patch(a, id, tmp, err);
		else if (rc == L2S_OK)
			rc = scim_replace(a->scim, "Users", id, body, err);
		if (rc == L2S_OK) {
			a->res->adopted++;
			log_info("create user '%s': adopted the existing user "
			    "(id %s)", tmp->name, id);
		}
	}
	if (rc != L2S_OK)
		goto done;
	done_rec = confirmed(tmp, NULL, id, 0);
	if (done_rec == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = state_put(a->state, done_rec, err);
	if (rc != L2S_OK)
		goto done;
	if (owner_put(&a->user_owner, done_rec->scim_id, done_rec->key) != 0 ||
	    hmap_put(a->have_users, done_rec->key, done_rec, NULL) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	done_rec = NULL;
done:
	record_free(done_rec);
	record_free(tmp);
	attrs_free(&eff);
	cJSON_Delete(body);
	free(id);
	return rc;
}

/*
 * A create of want answered 409: groups.on_conflict.  skip leaves the
 * remote group alone (APPLY_SKIPPED), fail is an error, adopt finds the
 * remote group (never the one with id except) and puts it to want with
 * every member (*body becomes that group's body; *id its id).  what names
 * the operation in messages.
 */
static int
group_conflict(struct apply *a, const struct record *want, const char *what,
    const char *except, const char *const *ids, size_t nids, cJSON **body,
    char **id, struct err *err)
{
	int rc;

	switch ((enum conflict_mode)a->cfg->groups.on_conflict) {
	case CONFLICT_SKIP:
		log_warnx("%s: a group of that name exists and "
		    "groups.on_conflict is skip: left alone", what);
		a->res->skipped++;
		return APPLY_SKIPPED;
	case CONFLICT_FAIL:
		return err_prefix(err, "groups.on_conflict is fail");
	case CONFLICT_ADOPT:
		break;
	}
	rc = adopt_find(a, want, except, id, err);
	if (rc == L2S_OK) {
		cJSON_Delete(*body);
		*body = NULL;
		rc = scimjson_group(body, want, ids, nids, err);
	}
	if (rc == L2S_OK)
		rc = adopt_group(a, *id, want, ids, nids, *body, err);
	if (rc == L2S_OK) {
		a->res->adopted++;
		log_info("%s: adopted the existing group (id %s)", what, *id);
	}
	return rc;
}

static int
apply_group_create(struct apply *a, const struct op *op, struct err *err)
{
	const char **ids = NULL, **okkeys = NULL;
	struct record *tmp = NULL;
	cJSON *body = NULL;
	char *id = NULL;
	size_t nok;
	int rc;

	if (resolve_members(a, op->add, op->nadd, &ids, &okkeys, &nok) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = scimjson_group(&body, op->want, ids, nok, err);
	if (rc != L2S_OK)
		goto done;
	rc = create_checked(a, "Groups", op->want, body, NULL, &id, err);
	if (rc == L2S_ECONFLICT) {
		char what[512];

		snprintf(what, sizeof(what), "create group '%s'",
		    op->want->name);
		rc = group_conflict(a, op->want, what, NULL, ids, nok, &body,
		    &id, err);
	}
	if (rc != L2S_OK)
		goto done;
	tmp = confirmed(op->want, NULL, id, 0);
	if (tmp == NULL || record_set_members(tmp, okkeys, nok) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = state_put(a->state, tmp, err);
done:
	record_free(tmp);
	cJSON_Delete(body);
	free(ids);
	free(okkeys);
	free(id);
	return rc;
}

/* One member change of a chunk: the user's SCIM id and key, and whether
 * the service has confirmed it and the state recorded it. */
struct change {
	const char *id;
	const char *key;
	int done;
	int recorded;
};

/* The "members" of a group resource as read back: *out is the list, or
 * NULL when there is none (SCIM leaves empty values out); anything else
 * is not understood. */
static int
members_of(const cJSON *g, const char *id, const cJSON **out, struct err *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(g, "members");

	*out = NULL;
	if (m != NULL && !cJSON_IsArray(m))
		return err_set(err, L2S_EPARSE, "GET /Groups/%s: its \"members\" "
		    "is not a list", id);
	*out = m;
	return L2S_OK;
}

/* Read the group back after an ambiguous failure: which of the chunk's
 * changes (and the rename) already happened? */
static int
group_readback(struct apply *a, const struct record *h, const char *name,
    int *renamed, struct change *del, size_t nd, struct change *add,
    size_t na, struct err *err)
{
	struct hmap present = HMAP_INIT;
	const cJSON *m, *el, *dn;
	cJSON *g = NULL;
	size_t i;
	int rc;

	rc = scim_get(a->scim, "Groups", h->scim_id, &g, err);
	if (rc != L2S_OK)
		return rc;
	dn = cJSON_GetObjectItemCaseSensitive(g, "displayName");
	if (cJSON_IsString(dn) && strcmp(dn->valuestring, name) == 0)
		*renamed = 1;
	rc = members_of(g, h->scim_id, &m, err);
	if (rc != L2S_OK)
		goto done;
	cJSON_ArrayForEach(el, m) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(el, "value");

		if (cJSON_IsString(v) &&
		    hmap_put(&present, v->valuestring, (void *)1, NULL) != 0) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	for (i = 0; i < nd; i++)
		if (hmap_get(&present, del[i].id) == NULL)
			del[i].done = 1;
	for (i = 0; i < na; i++)
		if (hmap_get(&present, add[i].id) != NULL)
			add[i].done = 1;
done:
	hmap_free(&present, NULL);
	cJSON_Delete(g);
	return rc;
}

/* Make the remote user id what want says with PATCH only (profile
 * atlassian): read it, and send what differs. */
static int
adopt_user_patch(struct apply *a, const char *id, const struct record *want,
    struct err *err)
{
	struct attrs before = ATTRS_INIT;
	cJSON *res = NULL, *ops = NULL, *o = NULL;
	const cJSON *ext;
	int rc;

	rc = scim_get(a->scim, "Users", id, &res, err);
	if (rc == L2S_OK)
		rc = scimjson_user_attrs(&before, res, a->cfg->users.map,
		    owner_key, &a->user_owner, err);
	if (rc == L2S_OK)
		rc = scimjson_user_patch(&ops, &before, &want->attrs, &a->shape,
		    apply_id, a, err);
	if (rc != L2S_OK)
		goto done;
	ext = cJSON_GetObjectItemCaseSensitive(res, "externalId");
	if (!cJSON_IsString(ext) || strcmp(ext->valuestring, want->key) != 0) {
		o = cJSON_CreateObject();
		if (o == NULL ||
		    cJSON_AddStringToObject(o, "op", "replace") == NULL ||
		    cJSON_AddStringToObject(o, "path", "externalId") == NULL ||
		    cJSON_AddStringToObject(o, "value", want->key) == NULL ||
		    !cJSON_InsertItemInArray(ops, 0, o)) {
			cJSON_Delete(o);
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (cJSON_GetArraySize(ops) > 0)
		rc = scim_patch(a->scim, "Users", id, ops, err);
done:
	attrs_free(&before);
	cJSON_Delete(ops);
	cJSON_Delete(res);
	return rc;
}

/* Make the remote group id what want says (name, and exactly the members
 * ids) with PATCH only (profile atlassian): read it, and send what
 * differs, at most scim.member_batch member changes a request.  A failure
 * leaves it to the next cycle, which reads it again. */
static int
adopt_group_patch(struct apply *a, const char *id, const struct record *want,
    const char *const *ids, size_t n, struct err *err)
{
	struct hmap wanted = HMAP_INIT, present = HMAP_INIT;
	const char **add = NULL, **del = NULL;
	size_t nadd = 0, ndel = 0, ai = 0, di = 0, i;
	size_t batch = a->cfg->scim.member_batch > 0 ?
	    (size_t)a->cfg->scim.member_batch : 1;
	const cJSON *m, *el, *dn, *ext;
	cJSON *g = NULL;
	int rename, mark, rc;

	rc = scim_get(a->scim, "Groups", id, &g, err);
	if (rc == L2S_OK)
		rc = members_of(g, id, &m, err);
	if (rc != L2S_OK)
		goto done;
	add = calloc(n + 1, sizeof(*add));
	del = calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*del));
	if (add == NULL || del == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if (hmap_put(&wanted, ids[i], (void *)1, NULL) != 0)
			goto nomem;
	cJSON_ArrayForEach(el, m) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(el, "value");

		if (!cJSON_IsString(v) ||
		    hmap_get(&present, v->valuestring) != NULL)
			continue;
		if (hmap_put(&present, v->valuestring, (void *)1, NULL) != 0)
			goto nomem;
		if (hmap_get(&wanted, v->valuestring) == NULL)
			del[ndel++] = v->valuestring;
	}
	for (i = 0; i < n; i++)
		if (hmap_get(&present, ids[i]) == NULL)
			add[nadd++] = ids[i];
	dn = cJSON_GetObjectItemCaseSensitive(g, "displayName");
	rename = !cJSON_IsString(dn) || strcmp(dn->valuestring, want->name) != 0;
	ext = cJSON_GetObjectItemCaseSensitive(g, "externalId");
	mark = !cJSON_IsString(ext) || strcmp(ext->valuestring, want->key) != 0;
	while (rc == L2S_OK && (rename || mark || di < ndel || ai < nadd)) {
		cJSON *ops = cJSON_CreateArray(), *more = NULL, *o = NULL;
		size_t nd = ndel - di < batch ? ndel - di : batch;
		size_t na = nadd - ai < batch - nd ? nadd - ai : batch - nd;
		int ambiguous;

		if (ops == NULL)
			goto nomem;
		/* The externalId first: the group is ours from then on. */
		if (mark) {
			o = cJSON_CreateObject();
			if (o == NULL || !cJSON_AddItemToArray(ops, o)) {
				cJSON_Delete(o);	/* not in ops */
				cJSON_Delete(ops);
				goto nomem;
			}
			if (cJSON_AddStringToObject(o, "op", "replace") == NULL ||
			    cJSON_AddStringToObject(o, "path", "externalId") ==
			    NULL || cJSON_AddStringToObject(o, "value",
			    want->key) == NULL) {
				cJSON_Delete(ops);
				goto nomem;
			}
		}
		if (rename && (rc = scimjson_group_rename(&more, want->name,
		    err)) == L2S_OK)
			rc = ops_append(ops, more);
		if (rc == L2S_OK && nd > 0 && (rc = scimjson_members_remove(
		    &more, del + di, nd, err)) == L2S_OK)
			rc = ops_append(ops, more);
		if (rc == L2S_OK && na > 0 && (rc = scimjson_members_add(&more,
		    add + ai, na, err)) == L2S_OK)
			rc = ops_append(ops, more);
		if (rc == L2S_OK)
			rc = scim_patch_once(a->scim, "Groups", id, ops,
			    &ambiguous, err);
		cJSON_Delete(ops);
		rename = mark = 0;
		di += nd;
		ai += na;
	}
	goto done;
nomem:
	rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	hmap_free(&wanted, NULL);
	hmap_free(&present, NULL);
	free(add);
	free(del);
	cJSON_Delete(g);
	return rc;
}

/* Make the remote group id, found after a 409, what want says: a full PUT
 * of body, or PATCHes where PUT is never used. */
static int
adopt_group(struct apply *a, const char *id, const struct record *want,
    const char *const *ids, size_t n, const cJSON *body, struct err *err)
{
	if (a->never_put)
		return adopt_group_patch(a, id, want, ids, n, err);
	return scim_replace(a->scim, "Groups", id, body, err);
}

static int
retire_mark(struct state *st, const char *old_id, const char *key,
    struct err *err)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_printf(&b, RETIRE_PREFIX "%s", old_id);
	rc = buf_failed(&b) ? err_set(err, L2S_ENOMEM, "out of memory") :
	    state_meta_set(st, buf_str(&b), key, err);
	buf_free(&b);
	return rc;
}

static int apply_group_update(struct apply *a, const struct op *op,
    struct err *err);

/*
 * A renamed group on a service that cannot rename (scim.group_rename:
 * recreate): create it anew under its new name with its members (the
 * first scim.member_batch in the POST, the rest by PATCH), record it, then
 * delete the old one.  The old one's retire mark (RETIRE_PREFIX) makes
 * sure it is deleted whatever happens after the create.  A 409 on the
 * create follows groups.on_conflict.
 */
static int
apply_group_recreate(struct apply *a, const struct op *op, struct err *err)
{
	const struct record *h = op->have;
	const char **ids = NULL, **okkeys = NULL;
	size_t batch = a->cfg->scim.member_batch > 0 ?
	    (size_t)a->cfg->scim.member_batch : 1;
	struct record *tmp = NULL;
	struct op rest;
	cJSON *body = NULL;
	char *id = NULL;
	size_t nok, first;
	int rc;

	memset(&rest, 0, sizeof(rest));
	if (resolve_members(a, (const char *const *)op->want->members,
	    op->want->nmembers, &ids, &okkeys, &nok) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	first = nok < batch ? nok : batch;
	rc = scimjson_group(&body, op->want, ids, first, err);
	if (rc == L2S_OK)
		rc = retire_mark(a->state, h->scim_id, h->key, err);
	if (rc != L2S_OK)
		goto done;
	rc = create_checked(a, "Groups", op->want, body, h->scim_id, &id, err);
	if (rc == L2S_ECONFLICT) {
		char what[512];

		snprintf(what, sizeof(what), "recreate group '%s' as '%s'",
		    h->name, op->want->name);
		rc = group_conflict(a, op->want, what, h->scim_id, ids, nok,
		    &body, &id, err);
		if (rc == L2S_OK)	/* adopted with every member */
			first = nok;
	}
	if (rc != L2S_OK) {
		/* A refusal created nothing; after a lost answer the mark
		 * stays and the next cycle looks for the new group. */
		if (rc != L2S_ETEMP)
			retire_mark(a->state, h->scim_id, NULL, NULL);
		goto done;
	}
	/* From here the new group is the group. */
	tmp = confirmed(op->want, NULL, id, 0);
	if (tmp == NULL || record_set_members(tmp, okkeys, first) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = state_put(a->state, tmp, err);
	if (rc == L2S_OK && first < nok) {
		rest.kind = OP_GROUP_UPDATE;
		rest.want = op->want;
		rest.have = tmp;
		rest.add = okkeys + first;
		rest.nadd = nok - first;
		rc = apply_group_update(a, &rest, err);
	}
	if (rc != L2S_OK)
		goto done;
	rc = scim_delete(a->scim, "Groups", h->scim_id, err);
	if (rc != L2S_OK) {
		err_prefix(err, "created anew (id %s), but the old group (id %s) "
		    "is still to delete (next cycle)", id, h->scim_id);
		goto done;
	}
	rc = retire_mark(a->state, h->scim_id, NULL, err);
	if (rc == L2S_OK)
		a->res->recreated++;
	if (rc == L2S_OK)
		log_info("group '%s' recreated as '%s' (id %s), the old one "
		    "(id %s) deleted", h->name, op->want->name, id, h->scim_id);
done:
	record_free(tmp);
	cJSON_Delete(body);
	free(ids);
	free(okkeys);
	free(id);
	return rc;
}

/* Record in the state what the service confirmed and the state lacks. */
static int
group_record(struct apply *a, const struct op *op, const struct record *base,
    int rename, struct change *del, size_t nd, struct change *add, size_t na,
    struct err *err)
{
	const char **keys = NULL;
	struct record *tmp = NULL;
	size_t i, n;
	int rc;

	keys = calloc(nd + na + 1, sizeof(*keys));
	if (keys == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = state_begin(a->state, err);
	if (rc != L2S_OK) {
		free(keys);
		return rc;
	}
	if (rename) {
		/* The new name; the members as confirmed so far (base). */
		tmp = confirmed(base, &op->want->attrs, NULL, 0);
		if (tmp == NULL || (free(tmp->name),
		    tmp->name = strdup(op->want->name)) == NULL)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		if (rc == L2S_OK)
			rc = state_put(a->state, tmp, err);
		record_free(tmp);
	}
	for (i = n = 0; i < nd; i++)
		if (del[i].done && !del[i].recorded)
			keys[n++] = del[i].key;
	if (rc == L2S_OK && n > 0)
		rc = state_remove_members(a->state, op->have->key, keys, n, err);
	for (i = n = 0; i < na; i++)
		if (add[i].done && !add[i].recorded)
			keys[n++] = add[i].key;
	if (rc == L2S_OK && n > 0)
		rc = state_add_members(a->state, op->have->key, keys, n, err);
	{
		/* End the batch whatever happened: what was recorded stays. */
		struct err e2 = ERR_INIT;
		int rc2 = state_commit(a->state, &e2);

		if (rc == L2S_OK && rc2 != L2S_OK) {
			rc = rc2;
			*err = e2;
		}
	}
	if (rc == L2S_OK) {
		for (i = 0; i < nd; i++)
			del[i].recorded |= del[i].done;
		for (i = 0; i < na; i++)
			add[i].recorded |= add[i].done;
	}
	free(keys);
	return rc;
}

/* The PATCH operations for what is still to do in a chunk. */
static int
group_ops(cJSON **out, const char *name, int rename, struct change *del,
    size_t nd, struct change *add, size_t na, struct err *err)
{
	const char **ids = NULL;
	cJSON *more = NULL;
	size_t i, n;
	int rc = L2S_OK;

	*out = cJSON_CreateArray();
	ids = calloc(nd + na + 1, sizeof(*ids));
	if (*out == NULL || ids == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (rename && (rc = scimjson_group_rename(&more, name, err)) == L2S_OK)
		rc = ops_append(*out, more);
	for (i = n = 0; rc == L2S_OK && i < nd; i++)
		if (!del[i].done)
			ids[n++] = del[i].id;
	if (rc == L2S_OK && n > 0 &&
	    (rc = scimjson_members_remove(&more, ids, n, err)) == L2S_OK)
		rc = ops_append(*out, more);
	for (i = n = 0; rc == L2S_OK && i < na; i++)
		if (!add[i].done)
			ids[n++] = add[i].id;
	if (rc == L2S_OK && n > 0 &&
	    (rc = scimjson_members_add(&more, ids, n, err)) == L2S_OK)
		rc = ops_append(*out, more);
done:
	if (rc != L2S_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(ids);
	return rc;
}

/*
 * Send one chunk: a PATCH with the rename (if any) and at most member_batch
 * member changes.  Additions are not idempotent everywhere, so after a
 * failure that may or may not have been applied, the group is read back
 * and only what is still missing is sent again.
 */
static int
group_chunk(struct apply *a, const struct op *op, const struct record *base,
    int rename, struct change *del, size_t nd, struct change *add, size_t na,
    struct err *err)
{
	int renamed = 0, attempt, ambiguous, doubt = 0, rc;
	size_t i;

	/* Adding members is not idempotent: if this run dies before the
	 * result is recorded, the next one reads the group back first. */
	rc = pending_mark(a->state, REC_GROUP, op->have->key, err);
	if (rc != L2S_OK)
		return rc;
	for (attempt = 0;; attempt++) {
		cJSON *ops = NULL;

		rc = group_ops(&ops, op->want->name, rename && !renamed, del, nd,
		    add, na, err);
		if (rc != L2S_OK)
			return rc;
		if (cJSON_GetArraySize(ops) == 0) {
			cJSON_Delete(ops);
			break;
		}
		rc = scim_patch_once(a->scim, "Groups", op->have->scim_id, ops,
		    &ambiguous, err);
		cJSON_Delete(ops);
		if (rc == L2S_OK) {
			doubt = 0;
			renamed = 1;
			for (i = 0; i < nd; i++)
				del[i].done = 1;
			for (i = 0; i < na; i++)
				add[i].done = 1;
			break;
		}
		if (rc == L2S_ETEMP && ambiguous)
			doubt = 1;
		if (rc != L2S_ETEMP || !ambiguous ||
		    attempt >= a->cfg->scim.retries)
			break;
		log_info("update group '%s': %s; reading the group back before "
		    "trying again", op->want->name, err->msg);
		rc = group_readback(a, op->have, op->want->name, &renamed, del,
		    nd, add, na, err);
		if (rc != L2S_OK)
			break;
		doubt = 0;	/* what happened is known again */
	}
	/* Whatever happened, record what the service now holds. */
	{
		struct err e2 = ERR_INIT;
		int rc2 = group_record(a, op, base, rename && renamed, del, nd,
		    add, na, &e2);

		/* Recorded: nothing of this chunk is in doubt any more, unless
		 * a request's outcome is still unknown (the mark stays and the
		 * next cycle reads the group back before anything else). */
		if (rc2 == L2S_OK && !doubt)
			rc2 = pending_clear(a->state, REC_GROUP, op->have->key,
			    &e2);
		if (rc2 != L2S_OK && rc == L2S_OK) {
			*err = e2;
			rc = rc2;
		}
	}
	return rc;
}

/* The member changes of a group update: del and add (user SCIM id and
 * key, in plan order), and gone, the removed members whose users left the
 * state (they went remotely with them: only the state still lists them).
 * Each array has room for its op's count; all borrowed from op and the
 * state maps.  Pure. */
static void
group_changes(struct apply *a, const struct op *op, struct change *del,
    size_t *ndel, struct change *add, size_t *nadd, const char **gone,
    size_t *ngone)
{
	size_t i;

	*ndel = *nadd = *ngone = 0;
	for (i = 0; i < op->ndel; i++) {
		const char *id = apply_id(a, op->del[i]);

		if (id == NULL) {
			gone[(*ngone)++] = op->del[i];
			continue;
		}
		del[*ndel].id = id;
		del[(*ndel)++].key = op->del[i];
	}
	for (i = 0; i < op->nadd; i++) {
		const char *id = apply_id(a, op->add[i]);

		if (id == NULL)		/* not created yet: next cycle */
			continue;
		add[*nadd].id = id;
		add[(*nadd)++].key = op->add[i];
	}
}

/* The size of the next chunk: nd removals and na additions out of what is
 * left, at most scim.member_batch together. */
static void
chunk_size(struct apply *a, size_t dleft, size_t aleft, size_t *nd,
    size_t *na)
{
	size_t batch = (size_t)a->cfg->scim.member_batch;

	if (batch == 0)
		batch = 1;
	*nd = dleft < batch ? dleft : batch;
	*na = aleft < batch - *nd ? aleft : batch - *nd;
}

/*
 * Rename and member deltas, one PATCH per chunk of at most
 * scim.member_batch member changes (the first also carries the rename).
 */
static int
apply_group_update(struct apply *a, const struct op *op, struct err *err)
{
	const struct record *h = op->have;
	struct record *base = NULL;
	struct change *del = NULL, *add = NULL;
	const char **gone = NULL;
	size_t ndel = 0, nadd = 0, ngone = 0, di = 0, ai = 0, i;
	int rename = op->rename, rc = L2S_OK;

	if (op->recreate)
		return apply_group_recreate(a, op, err);
	if (!scim_caps(a->scim)->patch)
		return apply_group_put(a, op, err);
	del = calloc(op->ndel + 1, sizeof(*del));
	add = calloc(op->nadd + 1, sizeof(*add));
	gone = calloc(op->ndel + 1, sizeof(*gone));
	if (del == NULL || add == NULL || gone == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	group_changes(a, op, del, &ndel, add, &nadd, gone, &ngone);
	/* What the state holds for the group once the gone are out. */
	base = record_dup(h);
	if (base == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (ngone > 0) {
		const char **keep = calloc(h->nmembers + 1, sizeof(*keep));
		struct hmap goneset = HMAP_INIT;
		size_t nkeep = 0;

		rc = keep == NULL ? err_set(err, L2S_ENOMEM, "out of memory") :
		    L2S_OK;
		for (i = 0; rc == L2S_OK && i < ngone; i++)
			if (hmap_put(&goneset, gone[i], (void *)1, NULL) != 0)
				rc = err_set(err, L2S_ENOMEM, "out of memory");
		for (i = 0; rc == L2S_OK && i < h->nmembers; i++)
			if (hmap_get(&goneset, h->members[i]) == NULL)
				keep[nkeep++] = h->members[i];
		if (rc == L2S_OK && record_set_members(base, keep, nkeep) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		hmap_free(&goneset, NULL);
		free(keep);
		if (rc == L2S_OK)
			rc = state_remove_members(a->state, h->key, gone, ngone,
			    err);
		if (rc != L2S_OK)
			goto done;
	}
	while (rename || di < ndel || ai < nadd) {
		size_t nd, na;

		chunk_size(a, ndel - di, nadd - ai, &nd, &na);
		rc = group_chunk(a, op, base, rename, del + di, nd, add + ai,
		    na, err);
		if (rc != L2S_OK)
			goto done;
		rename = 0;
		di += nd;
		ai += na;
	}
done:
	if (rc == L2S_ENOTFOUND)
		rc = apply_forget(a, h, err);
	record_free(base);
	free(del);
	free(add);
	free(gone);
	return rc;
}

static int
apply_group_delete(struct apply *a, const struct op *op, struct err *err)
{
	int rc = scim_delete(a->scim, "Groups", op->have->scim_id, err);

	if (rc == L2S_OK)
		rc = state_del(a->state, REC_GROUP, op->have->key, err);
	return rc;
}


/* Index who owns which SCIM id, to check adoptions. */
static int
owners_build(struct hmap *owners, const struct hmap *records)
{
	size_t pos = 0;
	void *v;

	while (hmap_next(records, &pos, NULL, &v)) {
		const struct record *r = v;

		if (r->scim_id != NULL &&
		    owner_put(owners, r->scim_id, r->key) != 0)
			return -1;
	}
	return 0;
}

/*
 * Sending ahead.  With scim.concurrency above 1, the first requests of a
 * window of operations of one kind go out together (scim_prefetch()); the
 * operations then run one by one in plan order with the very code above,
 * each taking its kept answer as its first attempt.  So the plain success
 * is completed and recorded as always, and everything else (409 adoption,
 * retries after 429 or 5xx, read-backs, errors) takes the usual path.
 * Only operations that cannot change each other's requests share a
 * window: one kind at a time, and a user create never with the create of
 * its manager (whose SCIM id it needs).
 */
#define APPLY_AHEAD_PER_SLOT 8		/* window: concurrency times this */
#define APPLY_AHEAD_MAX 512

/* The first request of an operation, sent ahead. */
struct ahead {
	struct scim_req req;
	cJSON *body;			/* owned */
};

/*
 * Build op's first request into *ah exactly as its apply_* function
 * builds it, and set the pending mark that function sets before sending.
 * 1: there is one; 0: the operation sends nothing first (a user whose
 * PATCH is empty, a group whose only change is in the state); else the
 * outcome of a failure (err).
 */
static int
first_request(struct apply *a, const struct op *op, struct ahead *ah,
    struct err *err)
{
	int patch = scim_caps(a->scim)->patch;
	struct attrs eff = ATTRS_INIT;
	struct record *tmp = NULL;
	struct change *del = NULL, *add = NULL;
	const char **gone = NULL, **ids = NULL, **okkeys = NULL;
	size_t ndel, nadd, ngone, nd, na, nok;
	int rc = 1;

	memset(ah, 0, sizeof(*ah));
	switch (op->kind) {
	case OP_USER_CREATE:
		ah->req.method = "POST";
		ah->req.type = "Users";
		if (effective_attrs(a, op->want, &eff) != 0 ||
		    (tmp = confirmed(op->want, &eff, NULL, 0)) == NULL)
			goto nomem;
		if (scimjson_user(&ah->body, tmp, &a->shape, apply_id, a, err) != L2S_OK)
			rc = err->code;
		break;
	case OP_USER_UPDATE:
		ah->req.type = "Users";
		ah->req.id = op->have->scim_id;
		if (effective_attrs(a, op->want, &eff) != 0 ||
		    (tmp = confirmed(op->want, &eff, op->have->scim_id, 0)) ==
		    NULL)
			goto nomem;
		if (!patch) {
			ah->req.method = "PUT";
			if (scimjson_user(&ah->body, tmp, &a->shape, apply_id, a, err) !=
			    L2S_OK)
				rc = err->code;
			break;
		}
		ah->req.method = "PATCH";
		if (scimjson_user_patch(&ah->body, &op->have->attrs, &eff,
		    &a->shape, apply_id, a, err) != L2S_OK)
			rc = err->code;
		else if (cJSON_GetArraySize(ah->body) == 0)
			rc = 0;
		else if (pending_mark(a->state, REC_USER, op->have->key, err) !=
		    L2S_OK)
			rc = err->code;
		break;
	case OP_USER_DEACTIVATE:
		ah->req.type = "Users";
		ah->req.id = op->have->scim_id;
		if (patch) {
			ah->req.method = "PATCH";
			if (scimjson_deactivate(&ah->body, err) != L2S_OK)
				rc = err->code;
			break;
		}
		ah->req.method = "PUT";
		tmp = confirmed(op->have, NULL, NULL, 1);
		if (tmp == NULL || attrs_set(&tmp->attrs, "active", "false") != 0)
			goto nomem;
		if (scimjson_user(&ah->body, tmp, &a->shape, apply_id, a, err) != L2S_OK)
			rc = err->code;
		break;
	case OP_USER_DELETE:
	case OP_GROUP_DELETE:
		ah->req.method = "DELETE";
		ah->req.type = op->kind == OP_USER_DELETE ? "Users" : "Groups";
		ah->req.id = op->have->scim_id;
		break;
	case OP_GROUP_CREATE:
		ah->req.method = "POST";
		ah->req.type = "Groups";
		if (resolve_members(a, op->add, op->nadd, &ids, &okkeys,
		    &nok) != 0)
			goto nomem;
		if (scimjson_group(&ah->body, op->want, ids, nok, err) != L2S_OK)
			rc = err->code;
		break;
	case OP_GROUP_UPDATE:
		ah->req.type = "Groups";
		ah->req.id = op->have->scim_id;
		if (op->recreate) {
			rc = 0;		/* its own sequence, one at a time */
			break;
		}
		if (!patch) {
			ah->req.method = "PUT";
			if (resolve_members(a, (const char *const *)
			    op->want->members, op->want->nmembers, &ids, &okkeys,
			    &nok) != 0)
				goto nomem;
			if (scimjson_group(&ah->body, op->want, ids, nok, err) !=
			    L2S_OK)
				rc = err->code;
			break;
		}
		ah->req.method = "PATCH";
		del = calloc(op->ndel + 1, sizeof(*del));
		add = calloc(op->nadd + 1, sizeof(*add));
		gone = calloc(op->ndel + 1, sizeof(*gone));
		if (del == NULL || add == NULL || gone == NULL)
			goto nomem;
		group_changes(a, op, del, &ndel, add, &nadd, gone, &ngone);
		chunk_size(a, ndel, nadd, &nd, &na);
		if (!op->rename && nd == 0 && na == 0)
			rc = 0;
		else if (group_ops(&ah->body, op->want->name, op->rename, del,
		    nd, add, na, err) != L2S_OK)
			rc = err->code;
		else if (pending_mark(a->state, REC_GROUP, op->have->key, err) !=
		    L2S_OK)
			rc = err->code;
		break;
	case OP_KINDS:
		rc = 0;
		break;
	}
	goto done;
nomem:
	rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	if (rc != 1) {
		cJSON_Delete(ah->body);
		ah->body = NULL;
	}
	ah->req.body = ah->body;
	record_free(tmp);
	attrs_free(&eff);
	free(del);
	free(add);
	free(gone);
	free(ids);
	free(okkeys);
	return rc;
}

/* Will the loop of apply_plan() pass op by without running it? */
static int
passed_by(struct apply *a, const struct op *op, const struct hmap *doubt)
{
	if (op->have != NULL && op->want == NULL &&
	    hmap_get(&a->superseded, op->have->key) != NULL)
		return 1;
	return op->have != NULL && doubt != NULL &&
	    hmap_get(doubt, op->have->key) != NULL;
}

/* The window of operations from first: send their first requests ahead.
 * Returns where the window ends; reqidx[k] is the scim_prefetch() index of
 * the request of operation first + k, or -1.  Building or sending ahead
 * is never worth failing for: on an error the operations send their own. */
static size_t
ahead_window(struct apply *a, const struct plan *p, size_t first,
    const struct hmap *doubt, long *reqidx)
{
	size_t cap = a->window, end, k, n = 0;
	struct ahead *ah = NULL;
	struct scim_req *reqs = NULL;
	struct hmap creating = HMAP_INIT;
	enum op_kind kind = p->ops[first].kind;
	struct err e = ERR_INIT;

	reqidx[0] = -1;
	if (cap <= 1)
		return first + 1;
	ah = calloc(cap, sizeof(*ah));
	reqs = calloc(cap, sizeof(*reqs));
	if (ah == NULL || reqs == NULL) {
		end = first + 1;
		goto done;
	}
	for (end = first; end < p->n && end - first < cap; end++) {
		const struct op *op = &p->ops[end];
		int rc;

		reqidx[end - first] = -1;
		if (op->kind != kind)
			break;
		if (passed_by(a, op, doubt))
			continue;
		if (kind == OP_USER_CREATE) {
			const char *mk = attrs_get(&op->want->attrs,
			    SCIM_MANAGER_PATH);

			if (mk != NULL && hmap_get(&creating, mk) != NULL)
				break;	/* needs its manager's id first */
			if (hmap_put(&creating, op->want->key, (void *)1,
			    NULL) != 0)
				break;
		}
		rc = first_request(a, op, &ah[n], &e);
		if (rc < 0) {
			log_debug("%s '%s': not sent ahead: %s",
			    plan_op_name(op->kind), op->want != NULL ?
			    op->want->name : op->have->name, e.msg);
			break;
		}
		if (rc == 0)
			continue;
		reqs[n] = ah[n].req;
		reqidx[end - first] = (long)n++;
	}
	if (end == first)
		end = first + 1;	/* always move on */
	if (n > 0 && scim_prefetch(a->scim, reqs, n, &e) != L2S_OK) {
		log_debug("cannot send ahead: %s", e.msg);
		for (k = 0; k < end - first; k++)
			reqidx[k] = -1;
	}
done:
	for (k = 0; ah != NULL && k < n; k++)
		cJSON_Delete(ah[k].body);
	free(ah);
	free(reqs);
	hmap_free(&creating, NULL);
	return end;
}

int
apply_plan(const struct plan *p, const struct config *cfg,
    struct state *state, struct scim *scim, struct hmap *have_users,
    struct hmap *have_groups, const struct readset *want,
    const struct hmap *doubt, struct apply_result *res, struct err *err)
{
	struct apply a;
	struct progress *prog = NULL;
	long *reqidx = NULL;
	size_t i, wbeg = 0, wend = 0, left = 0;
	int rc = L2S_OK;

	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	a.cfg = cfg;
	a.state = state;
	a.scim = scim;
	a.have_users = have_users;
	a.have_groups = have_groups;
	a.want = want;
	a.res = res;
	a.shape.map = cfg->users.map;
	a.shape.single_email = cfg->scim.profile == PROFILE_AWS;
	a.never_put = cfg->scim.profile == PROFILE_ATLASSIAN;
	if (a.never_put && !scim_caps(scim)->patch) {
		rc = err_set(err, L2S_ESCIM, "profile atlassian: the SCIM "
		    "service says it does not support PATCH "
		    "(ServiceProviderConfig), and ldap2scim never sends it a "
		    "PUT, which would clear every attribute it leaves out: "
		    "check scim.url and scim.profile");
		goto done;
	}
	/* Only operations look owners up: a plan without any needs none. */
	if (p->n > 0 && (owners_build(&a.user_owner, have_users) != 0 ||
	    owners_build(&a.group_owner, have_groups) != 0)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	a.window = (size_t)scim_concurrency(scim) *
	    APPLY_AHEAD_PER_SLOT;
	if (a.window > APPLY_AHEAD_MAX)
		a.window = APPLY_AHEAD_MAX;
	if (scim_concurrency(scim) <= 1)
		a.window = 1;
	reqidx = calloc(a.window, sizeof(*reqidx));
	if (reqidx == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	prog = progress_start("applying", "operations", p->n);
	for (i = 0; i < p->n && !a.fatal; progress_update(prog, ++i)) {
		const struct op *op = &p->ops[i];
		const struct record *r = op->want != NULL ? op->want : op->have;
		struct err e = ERR_INIT;
		int answered;

		if (i >= wend) {
			if (res->stopped)
				break;
			wbeg = i;
			wend = ahead_window(&a, p, i, doubt, reqidx);
		}
		/* A stop ends the apply, but the operations of this window
		 * whose success the service already sent are still
		 * completed and recorded. */
		answered = reqidx[i - wbeg] >= 0 &&
		    scim_prefetched(scim, (size_t)reqidx[i - wbeg]);
		if (platform_stop_requested() && !answered) {
			res->stopped = 1;
			left++;
			continue;
		}
		if (op->have != NULL && op->want == NULL &&
		    hmap_get(&a.superseded, op->have->key) != NULL)
			continue;	/* its remote object was taken over */
		if (op->have != NULL && doubt != NULL &&
		    hmap_get(doubt, op->have->key) != NULL) {
			err_set(&e, L2S_ETEMP, "its last change is in doubt and "
			    "it could not be read back: it waits");
			res->failed++;
			log_warnx("%s '%s': %s", plan_op_name(op->kind),
			    r->name != NULL ? r->name : r->key, e.msg);
			continue;
		}
		switch (op->kind) {
		case OP_USER_CREATE:
			rc = apply_user_create(&a, op, &e);
			break;
		case OP_USER_UPDATE:
			rc = apply_user_update(&a, op, &e);
			break;
		case OP_USER_DEACTIVATE:
		case OP_USER_DELETE:
			rc = apply_user_remove(&a, op, &e);
			break;
		case OP_GROUP_CREATE:
			rc = apply_group_create(&a, op, &e);
			break;
		case OP_GROUP_UPDATE:
			rc = apply_group_update(&a, op, &e);
			break;
		case OP_GROUP_DELETE:
			rc = apply_group_delete(&a, op, &e);
			break;
		case OP_KINDS:
			break;
		}
		if (rc == APPLY_SKIPPED)
			continue;
		if (rc != L2S_OK) {
			apply_failed(&a, op, r->name != NULL ? r->name : r->key,
			    rc, &e);
			continue;
		}
		a.unreachable = 0;
		res->done[op->kind]++;
		log_debug("%s '%s': done", plan_op_name(op->kind),
		    r->name != NULL ? r->name : r->key);
	}
	if (res->stopped)
		log_info("stop requested: %zu operations left for the next "
		    "cycle", left + (p->n - i));
	rc = L2S_OK;
	if (a.fatal) {
		*err = a.fatal_err;
		rc = a.fatal;
	}
done:
	progress_end(prog);
	scim_prefetch_drop(scim);
	free(reqidx);
	hmap_free(&a.user_owner, free);
	hmap_free(&a.group_owner, free);
	hmap_free(&a.superseded, NULL);
	return rc;
}

/* For scimjson_user_attrs(): the user key recorded for a SCIM id. */
static const char *
owner_key(void *arg, const char *scim_id)
{
	return hmap_get(arg, scim_id);
}

/* The record of what remote resource res holds, for the directory object
 * base (kind, key, dn) with SCIM id id.  NULL on ENOMEM or when res is not
 * readable as that kind. */
static struct record *
record_from_remote(const struct config *cfg, const struct record *base,
    const char *id, const cJSON *res, struct hmap *owners)
{
	const cJSON *dn = cJSON_GetObjectItemCaseSensitive(res, "displayName");
	struct record *r = record_new(base->kind, base->key);
	const char **keys = NULL;
	const cJSON *m;
	size_t n = 0;
	struct err e = ERR_INIT;

	if (r == NULL || (base->dn != NULL && (r->dn = strdup(base->dn)) == NULL) ||
	    (r->scim_id = strdup(id)) == NULL)
		goto fail;
	if (base->kind == REC_USER) {
		if (scimjson_user_attrs(&r->attrs, res, cfg->users.map, owner_key,
		    owners, &e) != L2S_OK)
			goto fail;
		if (attrs_get(&r->attrs, "userName") == NULL ||
		    (r->name = strdup(attrs_get(&r->attrs, "userName"))) == NULL)
			goto fail;
		r->removed = base->removed;
		return r;
	}
	if (!cJSON_IsString(dn) || (r->name = strdup(dn->valuestring)) == NULL ||
	    attrs_set(&r->attrs, "displayName", r->name) != 0)
		goto fail;
	m = cJSON_GetObjectItemCaseSensitive(res, "members");
	keys = calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*keys));
	if (keys == NULL)
		goto fail;
	if (cJSON_IsArray(m)) {
		const cJSON *el;

		cJSON_ArrayForEach(el, m) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(el, "value");
			const char *k = cJSON_IsString(v) ?
			    hmap_get(owners, v->valuestring) : NULL;

			if (k != NULL)
				keys[n++] = k;
		}
	}
	if (record_set_members(r, keys, n) != 0)
		goto fail;
	free(keys);
	return r;
fail:
	free(keys);
	record_free(r);
	return NULL;
}

/* Read back one object whose change is in doubt (name is its pending
 * meta name); the mark is cleared once the state holds what the service
 * holds. */
static int
prepare_one(const struct config *cfg, struct state *state, struct scim *scim,
    struct hmap *have_users, struct hmap *have_groups, struct hmap *owners,
    const char *name, struct err *err)
{
	const char *p = name + strlen(PENDING_PREFIX), *key;
	enum rec_kind kind = strncmp(p, "user:", 5) == 0 ? REC_USER : REC_GROUP;
	struct hmap *map = kind == REC_USER ? have_users : have_groups;
	struct record *have, *now = NULL;
	cJSON *res = NULL;
	int rc;

	key = kind == REC_USER ? p + 5 :
	    p + (strncmp(p, "group:", 6) == 0 ? 6 : 0);
	have = hmap_get(map, key);
	if (have == NULL)
		goto clear;
	rc = scim_get(scim, kind == REC_USER ? "Users" : "Groups",
	    have->scim_id, &res, err);
	if (rc == L2S_ENOTFOUND) {
		/* Gone remotely: forget it; the diff creates it again. */
		rc = state_del(state, kind, have->key, err);
		if (rc == L2S_OK)
			record_free(hmap_del(map, key));
		if (rc == L2S_OK)
			goto clear;
		goto done;
	}
	if (rc != L2S_OK)
		goto done;
	if (kind == REC_GROUP) {
		const cJSON *m;

		rc = members_of(res, have->scim_id, &m, err);
		if (rc != L2S_OK)
			goto done;
	}
	now = record_from_remote(cfg, have, have->scim_id, res, owners);
	if (now == NULL) {
		rc = err_set(err, L2S_EPARSE, "GET /%s/%s: cannot read it back",
		    kind == REC_USER ? "Users" : "Groups", have->scim_id);
		goto done;
	}
	rc = state_put(state, now, err);
	if (rc != L2S_OK)
		goto done;
	log_info("%s '%s': read back after a change whose outcome was unknown",
	    kind == REC_USER ? "user" : "group", now->name);
	if (hmap_put(map, now->key, now, (void **)&have) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	record_free(have);
	now = NULL;
clear:
	rc = state_meta_set(state, name, NULL, err);
done:
	record_free(now);
	cJSON_Delete(res);
	return rc;
}

/* Read back every object whose change is in doubt (names[0..n): their
 * pending marks, borrowed).  One that cannot be read back keeps its mark
 * and goes into doubt: its operations wait (this cycle must not act on a
 * state that may be wrong). */
static int
prepare_pending(const struct config *cfg, struct state *state,
    struct scim *scim, struct hmap *have_users, struct hmap *have_groups,
    struct hmap *owners, const char *const *names, size_t n,
    struct hmap *doubt, size_t *changed, struct err *err)
{
	size_t i;
	int rc = L2S_OK;

	for (i = 0; rc == L2S_OK && i < n; i++) {
		struct err e = ERR_INIT;
		const char *key = strchr(names[i] + strlen(PENDING_PREFIX), ':');
		int rc1 = prepare_one(cfg, state, scim, have_users, have_groups,
		    owners, names[i], &e);

		if (rc1 == L2S_OK) {
			(*changed)++;
			continue;
		}
		if (rc1 == L2S_EAUTH || rc1 == L2S_ENOMEM) {
			*err = e;
			rc = rc1;
			break;
		}
		log_warnx("cannot read back an object whose last change is in "
		    "doubt; its changes wait: %s", e.msg);
		if (key != NULL && hmap_put(doubt, key + 1, (void *)1, NULL) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
	}
	return rc;
}

/* An empty state: record the remote objects whose externalId is a key
 * just read, as they are. */
static int
prepare_bootstrap(const struct config *cfg, struct state *state,
    struct scim *scim, struct hmap *have, const struct hmap *want,
    enum rec_kind kind, struct hmap *owners, size_t *changed,
    struct err *err)
{
	const char *type = kind == REC_USER ? "Users" : "Groups";
	cJSON *list = NULL;
	const cJSON *res;
	size_t found = 0;
	int rc;

	rc = scim_list(scim, type, NULL, &list, err);
	if (rc == L2S_EAUTH || rc == L2S_ENOMEM)
		return err_prefix(err, "listing the existing %s", type);
	if (rc != L2S_OK) {
		/* Not fatal: creates that meet a 409 still adopt. */
		log_warnx("cannot list the existing %s (%s): going on without",
		    type, err->msg);
		return L2S_OK;
	}
	rc = state_begin(state, err);
	if (rc != L2S_OK) {
		cJSON_Delete(list);
		return rc;
	}
	cJSON_ArrayForEach(res, list) {
		const cJSON *ext = cJSON_GetObjectItemCaseSensitive(res, "externalId");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "id");
		const struct record *w;
		struct record *r;

		if (rc != L2S_OK)
			break;
		if (!cJSON_IsString(ext) || !cJSON_IsString(id) ||
		    (w = hmap_get(want, ext->valuestring)) == NULL ||
		    w->held != NULL || hmap_get(have, w->key) != NULL ||
		    hmap_get(owners, id->valuestring) != NULL)
			continue;
		r = record_from_remote(cfg, w, id->valuestring, res, owners);
		if (r == NULL)
			continue;	/* not readable: a create will 409 and adopt */
		rc = state_put(state, r, err);
		if (rc == L2S_OK && ((kind == REC_USER &&
		    owner_put(owners, r->scim_id, r->key) != 0) ||
		    hmap_put(have, r->key, r, NULL) != 0))
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		if (rc != L2S_OK) {
			record_free(r);
			break;
		}
		found++;
	}
	/* End the batch whatever happened: what was recorded stays. */
	{
		struct err e2 = ERR_INIT;
		int rc2 = state_commit(state, &e2);

		if (rc == L2S_OK && rc2 != L2S_OK) {
			rc = rc2;
			*err = e2;
		}
	}
	*changed += found;
	if (rc == L2S_OK && found > 0)
		log_info("%zu %s with a directory key were already on the SCIM "
		    "service: recorded as they are", found, type);
	cJSON_Delete(list);
	return rc;
}

/* The state record that holds SCIM id id among groups, or NULL. */
static const struct record *
group_owning(const struct hmap *groups, const char *id)
{
	size_t pos = 0;
	void *v;

	while (hmap_next(groups, &pos, NULL, &v)) {
		const struct record *r = v;

		if (r->scim_id != NULL && strcmp(r->scim_id, id) == 0)
			return r;
	}
	return NULL;
}

/* Does have (the new group) hold every member want lists? */
static int
members_cover(const struct record *have, const struct record *want)
{
	size_t i;

	for (i = 0; want != NULL && i < want->nmembers; i++)
		if (have == NULL || !record_has_member(have, want->members[i]))
			return 0;
	return 1;
}

/*
 * Finish the recreates a previous run left half done (names[0..n): their
 * RETIRE_PREFIX marks, borrowed).  When the state still records the old
 * group for the key, the new one was created or not: looked up by
 * externalId (other than the old id) and recorded when found, else the
 * mark is dropped (the diff plans the recreate again).  Then the old group
 * is deleted; never the one the state records.  A failure leaves the mark
 * for the next cycle.
 */
static int
prepare_retire(const struct config *cfg, struct state *state,
    struct scim *scim, struct hmap *have_groups, const struct hmap *want,
    struct hmap *owners, const char *const *names, size_t n,
    size_t *changed, struct err *err)
{
	size_t i;
	int rc = L2S_OK;

	for (i = 0; rc == L2S_OK && i < n; i++) {
		const char *old_id = names[i] + strlen(RETIRE_PREFIX);
		struct record *g, *now = NULL;
		struct err e = ERR_INIT;
		char *key = NULL, *nid = NULL;
		cJSON *res = NULL;
		int rc1;

		rc1 = state_meta_get(state, names[i], &key, &e);
		if (rc1 != L2S_OK || key == NULL)
			goto next;
		g = hmap_get(have_groups, key);
		if (g != NULL && g->scim_id != NULL &&
		    strcmp(g->scim_id, old_id) == 0) {
			rc1 = remote_find(scim, "Groups", "externalId", key,
			    old_id, &nid, &e);
			if (rc1 == L2S_OK && nid == NULL) {
				/* Never created: nothing to delete yet. */
				rc1 = state_meta_set(state, names[i], NULL, &e);
				goto next;
			}
			if (rc1 == L2S_OK)
				rc1 = scim_get(scim, "Groups", nid, &res, &e);
			if (rc1 == L2S_OK && (now = record_from_remote(cfg, g,
			    nid, res, owners)) == NULL)
				rc1 = err_set(&e, L2S_EPARSE, "GET /Groups/%s: "
				    "cannot read it back", nid);
			if (rc1 == L2S_OK)
				rc1 = state_put(state, now, &e);
			if (rc1 != L2S_OK)
				goto next;
			if (hmap_put(have_groups, now->key, now, (void **)&g) != 0) {
				rc1 = err_set(&e, L2S_ENOMEM, "out of memory");
				goto next;
			}
			record_free(g);
			log_info("group '%s': recorded the group (id %s) a "
			    "recreate had created", now->name, nid);
			now = NULL;
			(*changed)++;
		}
		/* The old group is the state's again (a group of its name
		 * adopted it since): it stays, and so does its record. */
		if (group_owning(have_groups, old_id) != NULL) {
			rc1 = state_meta_set(state, names[i], NULL, &e);
			if (rc1 == L2S_OK)
				log_info("the old group (id %s) of a recreate is "
				    "the state's again: kept", old_id);
			goto next;
		}
		/* Its members go only once the new group has them all. */
		if (!members_cover(hmap_get(have_groups, key),
		    hmap_get(want, key))) {
			const struct record *w = hmap_get(want, key);

			log_info("group '%s': the old group (id %s) is deleted "
			    "once the new one has every member",
			    w != NULL && w->name != NULL ? w->name : key, old_id);
			goto next;
		}
		rc1 = scim_delete(scim, "Groups", old_id, &e);
		if (rc1 == L2S_OK)
			rc1 = state_meta_set(state, names[i], NULL, &e);
		if (rc1 == L2S_OK)
			log_info("deleted the old group (id %s) that a recreate "
			    "left", old_id);
next:
		if (rc1 == L2S_EAUTH || rc1 == L2S_ENOMEM) {
			*err = e;
			rc = rc1;
		} else if (rc1 != L2S_OK) {
			log_warnx("cannot finish recreating a group (old id %s; "
			    "next cycle tries again): %s", old_id, e.msg);
		}
		record_free(now);
		cJSON_Delete(res);
		free(nid);
		free(key);
	}
	return rc;
}

static void
names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
apply_prepare(const struct config *cfg, struct state *state,
    struct scim *scim, struct hmap *have_users, struct hmap *have_groups,
    const struct readset *want, struct hmap *doubt, size_t *changed,
    struct err *err)
{
	struct hmap owners = HMAP_INIT;
	char **pending = NULL, **retire = NULL;
	size_t npending = 0, nretire = 0;
	int boot_users = have_users->len == 0 && want->users.len > 0;
	int boot_groups = cfg->groups.enabled && have_groups->len == 0 &&
	    want->groups.len > 0;
	int rc;

	/* The marks are set by operations only (never by what follows), so
	 * they can be read first. */
	rc = state_meta_names(state, PENDING_PREFIX, &pending, &npending, err);
	if (rc == L2S_OK)
		rc = state_meta_names(state, RETIRE_PREFIX, &retire, &nretire,
		    err);
	/* Most cycles have nothing to bootstrap, read back or finish: they
	 * need no index of who owns which SCIM id. */
	if (rc != L2S_OK ||
	    (!boot_users && !boot_groups && npending == 0 && nretire == 0))
		goto done;
	if (owners_build(&owners, have_users) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (boot_users)
		rc = prepare_bootstrap(cfg, state, scim, have_users,
		    &want->users, REC_USER, &owners, changed, err);
	if (rc == L2S_OK && boot_groups)
		rc = prepare_bootstrap(cfg, state, scim, have_groups,
		    &want->groups, REC_GROUP, &owners, changed, err);
	if (rc == L2S_OK)
		rc = prepare_pending(cfg, state, scim, have_users, have_groups,
		    &owners, (const char *const *)pending, npending, doubt,
		    changed, err);
	if (rc == L2S_OK)
		rc = prepare_retire(cfg, state, scim, have_groups,
		    &want->groups, &owners, (const char *const *)retire,
		    nretire, changed, err);
done:
	names_free(pending, npending);
	names_free(retire, nretire);
	hmap_free(&owners, free);
	return rc;
}
