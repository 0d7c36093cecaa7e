/*
 * sync.c - one cycle: lock, read, diff, guard, then dry-run or apply
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "diff.h"
#include "http.h"
#include "ldap.h"
#include "log.h"
#include "mapping.h"
#include "platform.h"
#include "scim.h"
#include "scimjson.h"
#include "source.h"
#include "state.h"
#include "sync.h"

/* Everything one apply needs. */
struct apply {
	const struct config *cfg;
	struct state *state;
	struct scim *scim;
	struct hmap *have_users;	/* key -> record; creates are added */
	struct sync_stats *st;
	int fatal;			/* an outcome that ends the cycle */
	struct err fatal_err;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
sync_secret(const char *file, const char *env, const char *what, char **out,
    struct err *err)
{
	const char *warning = NULL;
	int rc;

	*out = NULL;
	if (env != NULL) {
		const char *v = getenv(env);

		if (v == NULL || v[0] == '\0')
			return err_set(err, L2S_EIO, "%s: environment variable "
			    "'%s' is not set or empty", what, env);
		*out = strdup(v);
		if (*out == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		log_secret(*out);
		return L2S_OK;
	}
	if (file == NULL)
		return err_set(err, L2S_EIO, "%s: no secret file configured", what);
	rc = platform_read_secret(file, out, &warning, err);
	if (rc != L2S_OK)
		return err_prefix(err, "%s", what);
	if (warning != NULL)
		log_warnx("%s: secret file '%s' %s", what, file, warning);
	log_secret(*out);
	return L2S_OK;
}

static const char *
apply_id(void *arg, const char *key)
{
	struct apply *a = arg;
	const struct record *r = hmap_get(a->have_users, key);

	return r != NULL ? r->scim_id : NULL;
}

/* Note a failed operation; auth and unreachable services end the cycle. */
static void
apply_failed(struct apply *a, const struct op *op, const char *name,
    int rc, const struct err *e)
{
	a->st->failed++;
	log_warnx("%s '%s': %s", plan_op_name(op->kind), name, e->msg);
	if (rc == L2S_EAUTH && !a->fatal) {
		a->fatal = rc;
		a->fatal_err = *e;
	}
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
	rc = scimjson_user(&body, tmp, apply_id, a, err);
	if (rc != L2S_OK)
		goto done;
	rc = scim_create(a->scim, "Users", body, &id, err);
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
	if (hmap_put(a->have_users, done_rec->key, done_rec, NULL) != 0) {
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

/* The remote object is gone: forget it so the next cycle creates it. */
static int
apply_forget(struct apply *a, const struct record *have, struct err *err)
{
	struct err e2 = ERR_INIT;

	if (state_del(a->state, have->kind, have->key, &e2) != L2S_OK)
		return err_set(err, e2.code, "%s", e2.msg);
	return err_prefix(err, "it no longer exists on the SCIM service and "
	    "will be created again next cycle");
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
		rc = scimjson_user_patch(&body, &op->have->attrs, &eff, apply_id,
		    a, err);
		if (rc != L2S_OK)
			goto done;
		rc = cJSON_GetArraySize(body) == 0 && !op->have->removed ? L2S_OK :
		    scim_patch(a->scim, "Users", op->have->scim_id, body, err);
	} else {
		rc = scimjson_user(&body, tmp, apply_id, a, err);
		if (rc == L2S_OK)
			rc = scim_replace(a->scim, "Users", op->have->scim_id,
			    body, err);
	}
	if (rc == L2S_ENOTFOUND)
		rc = apply_forget(a, op->have, err);
	if (rc != L2S_OK)
		goto done;
	rc = state_put(a->state, tmp, err);
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
		rc = scimjson_user(&body, tmp, apply_id, a, err);
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
	rc = scim_create(a->scim, "Groups", body, &id, err);
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

/*
 * One PATCH per chunk of at most scim.member_batch member changes: the first
 * also carries the rename.  After each confirmed request the state records
 * exactly that request's changes, so a failure part-way loses nothing.
 */
static int
apply_group_update(struct apply *a, const struct op *op, struct err *err)
{
	const char **del_ids = NULL, **del_keys = NULL, **add_ids = NULL,
	    **add_keys = NULL, **gone = NULL;
	const struct record *h = op->have;
	size_t ndel = 0, nadd = 0, ngone = 0, di = 0, ai = 0, i;
	size_t batch = (size_t)a->cfg->scim.member_batch;
	int rename = op->rename, rc = L2S_OK;

	if (!scim_caps(a->scim)->patch)
		return apply_group_put(a, op, err);
	if (resolve_members(a, op->del, op->ndel, &del_ids, &del_keys, &ndel) != 0 ||
	    resolve_members(a, op->add, op->nadd, &add_ids, &add_keys, &nadd) != 0 ||
	    (gone = calloc(op->ndel + 1, sizeof(*gone))) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	/* Members whose users left the state went remotely with them: only
	 * the state still lists them. */
	for (i = 0; i < op->ndel; i++)
		if (apply_id(a, op->del[i]) == NULL)
			gone[ngone++] = op->del[i];
	if (ngone > 0) {
		rc = state_remove_members(a->state, h->key, gone, ngone, err);
		if (rc != L2S_OK)
			goto done;
	}
	while (rename || di < ndel || ai < nadd) {
		size_t nd = ndel - di < batch ? ndel - di : batch;
		size_t na = nadd - ai < batch - nd ? nadd - ai : batch - nd;
		cJSON *ops = cJSON_CreateArray(), *more = NULL;
		struct record *tmp = NULL;

		if (ops == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		if (rename)
			rc = scimjson_group_rename(&more, op->want->name, err);
		if (rc == L2S_OK && more != NULL)
			rc = ops_append(ops, more);
		more = NULL;
		if (rc == L2S_OK && nd > 0 &&
		    (rc = scimjson_members_remove(&more, del_ids + di, nd, err)) == L2S_OK)
			rc = ops_append(ops, more);
		more = NULL;
		if (rc == L2S_OK && na > 0 &&
		    (rc = scimjson_members_add(&more, add_ids + ai, na, err)) == L2S_OK)
			rc = ops_append(ops, more);
		if (rc == L2S_OK)
			rc = scim_patch(a->scim, "Groups", h->scim_id, ops, err);
		cJSON_Delete(ops);
		if (rc != L2S_OK)
			goto done;
		/* Confirmed: record exactly this request. */
		rc = state_begin(a->state, err);
		if (rc == L2S_OK && rename) {
			tmp = confirmed(h, &op->want->attrs, NULL, 0);
			if (tmp == NULL || (free(tmp->name),
			    tmp->name = strdup(op->want->name)) == NULL)
				rc = err_set(err, L2S_ENOMEM, "out of memory");
			if (rc == L2S_OK)
				rc = state_put(a->state, tmp, err);
			record_free(tmp);
		}
		if (rc == L2S_OK && nd > 0)
			rc = state_remove_members(a->state, h->key, del_keys + di,
			    nd, err);
		if (rc == L2S_OK && na > 0)
			rc = state_add_members(a->state, h->key, add_keys + ai, na,
			    err);
		if (rc == L2S_OK)
			rc = state_commit(a->state, err);
		if (rc != L2S_OK)
			goto done;
		rename = 0;
		di += nd;
		ai += na;
	}
done:
	if (rc == L2S_ENOTFOUND)
		rc = apply_forget(a, h, err);
	free(del_ids);
	free(del_keys);
	free(add_ids);
	free(add_keys);
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

static int
apply_plan(struct apply *a, const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n && !a->fatal; i++) {
		const struct op *op = &p->ops[i];
		const struct record *r = op->want != NULL ? op->want : op->have;
		struct err e = ERR_INIT;
		int rc = L2S_OK;

		if (platform_stop_requested()) {
			a->st->stopped = 1;
			log_info("stop requested: %zu operations left for the "
			    "next cycle", p->n - i);
			break;
		}
		switch (op->kind) {
		case OP_USER_CREATE:
			rc = apply_user_create(a, op, &e);
			break;
		case OP_USER_UPDATE:
			rc = apply_user_update(a, op, &e);
			break;
		case OP_USER_DEACTIVATE:
		case OP_USER_DELETE:
			rc = apply_user_remove(a, op, &e);
			break;
		case OP_GROUP_CREATE:
			rc = apply_group_create(a, op, &e);
			break;
		case OP_GROUP_UPDATE:
			rc = apply_group_update(a, op, &e);
			break;
		case OP_GROUP_DELETE:
			rc = apply_group_delete(a, op, &e);
			break;
		case OP_KINDS:
			break;
		}
		if (rc != L2S_OK) {
			apply_failed(a, op, r->name != NULL ? r->name : r->key,
			    rc, &e);
			continue;
		}
		a->st->done[op->kind]++;
		log_debug("%s '%s': done", plan_op_name(op->kind),
		    r->name != NULL ? r->name : r->key);
	}
	return a->fatal ? a->fatal : L2S_OK;
}

static void
warn_token_expiry(const struct config *cfg)
{
	time_t now = time(NULL), exp = cfg->scim.token_expires;
	char day[16];
	struct tm tm;

	if (exp == 0)
		return;
	gmtime_r(&exp, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (now >= exp)
		log_error("the SCIM token expired on %s (scim.token_expires): "
		    "replace it", day);
	else if (exp - now <= 30 * 86400)
		log_warnx("the SCIM token expires on %s (scim.token_expires), "
		    "in %ld days: replace it", day, (long)((exp - now) / 86400) + 1);
}

/* The bind password, when the bind method takes one (else *out NULL). */
static int
ldap_password(const struct config *cfg, char **out, struct err *err)
{
	*out = NULL;
	if (cfg->ldap.bind_method != BIND_SIMPLE)
		return L2S_OK;
	return sync_secret(cfg->ldap.password_file, cfg->ldap.password_env,
	    "LDAP bind password", out, err);
}

static int
ldap_read(const struct config *cfg, const char *password,
    struct source_result *res, struct err *err)
{
	struct ldapconn *c = NULL;
	int rc;

	rc = ldapconn_open(&c, &cfg->ldap, password, err);
	if (rc != L2S_OK)
		return rc;
	log_debug("connected to '%s'", ldapconn_uri(c));
	rc = source_read(res, c, cfg, err);
	ldapconn_close(c);
	return rc;
}

static int
scim_connect(const struct config *cfg, struct http **hp, struct scim **sp,
    struct err *err)
{
	char *token = NULL;
	int rc;

	*hp = NULL;
	*sp = NULL;
	warn_token_expiry(cfg);
	rc = sync_secret(cfg->scim.token_file, cfg->scim.token_env, "SCIM token",
	    &token, err);
	if (rc != L2S_OK)
		return rc;
	rc = http_open(hp, &cfg->scim, token, err);
	platform_secret_free(token);
	if (rc != L2S_OK)
		return rc;
	rc = scim_open(sp, *hp, err);
	if (rc != L2S_OK)
		return rc;
	return scim_discover(*sp, err);
}

static char *
lock_path(const char *state)
{
	size_t n = strlen(state) + 6;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.lock", state);
	return p;
}

int
sync_cycle(const struct config *cfg, const struct sync_opts *o,
    struct sync_stats *st, struct buf *out, struct err *err)
{
	struct source_result res;
	struct hmap users = HMAP_INIT, groups = HMAP_INIT;
	struct plan plan = PLAN_INIT;
	struct platform_lock *lock = NULL;
	struct state *state = NULL;
	struct http *http = NULL;
	struct scim *scim = NULL;
	char *lpath = NULL, *password = NULL;
	double t0 = now_seconds();
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	source_result_init(&res);

	st->phase = PHASE_LOCAL;
	if (!o->dry_run) {
		lpath = lock_path(cfg->sync.state);
		if (lpath == NULL) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		rc = platform_lock(&lock, lpath, err);
		if (rc != L2S_OK)
			goto done;
	}
	rc = state_open(&state, cfg->sync.state, o->dry_run, err);
	if (rc != L2S_OK)
		goto done;
	rc = state_load(state, &users, &groups, err);
	if (rc != L2S_OK)
		goto done;

	rc = ldap_password(cfg, &password, err);
	if (rc != L2S_OK)
		goto done;

	st->phase = PHASE_LDAP;
	rc = ldap_read(cfg, password, &res, err);
	platform_secret_free(password);
	password = NULL;
	st->users_read = res.rs.users.len;
	st->groups_read = res.rs.groups.len;
	for (i = 0; i < res.nnotes; i++)
		log_warnx("entry '%s': %s", res.notes[i].dn, res.notes[i].reason);
	if (rc != L2S_OK) {
		if (rc != L2S_EAUTH && rc != L2S_ENOMEM)
			err_prefix(err, "directory read incomplete, nothing "
			    "changed");
		goto done;
	}

	st->phase = PHASE_GUARD;
	rc = diff_build(&plan, &res.rs, &users, &groups, cfg, err);
	if (rc != L2S_OK)
		goto done;
	memcpy(st->planned, plan.count, sizeof(st->planned));
	st->held = plan.held;
	{
		/* Held objects are named once per cycle, not silently kept. */
		struct hmap *maps[2] = { &res.rs.users, &res.rs.groups };
		int m;

		for (m = 0; m < 2; m++) {
			size_t pos = 0;
			void *v;

			while (hmap_next(maps[m], &pos, NULL, &v)) {
				const struct record *r = v;

				if (r->held != NULL)
					log_warnx("%s '%s' held back, left as it "
					    "is: %s", m == 0 ? "user" : "group",
					    r->dn, r->held);
			}
		}
	}
	rc = guard_check(&plan, &res.rs, &users, &groups, cfg, o->force, err);
	if (rc != L2S_OK)
		goto done;

	if (o->dry_run) {
		if (o->json) {
			plan_print_json(&plan, out);
		} else {
			plan_print_text(&plan, out);
			buf_puts(out, "plan: ");
			plan_summary(&plan, out);
			buf_putc(out, '\n');
		}
		st->phase = PHASE_NONE;
		goto done;
	}
	/* Connect even with nothing to do: a refused token must show in the
	 * exit code of every cycle, not only of the next busy one. */
	st->phase = PHASE_SCIM;
	rc = scim_connect(cfg, &http, &scim, err);
	if (rc != L2S_OK) {
		if (rc == L2S_EIO && http == NULL)
			st->phase = PHASE_LOCAL;	/* the token file */
		goto done;
	}
	{
		struct apply a;

		memset(&a, 0, sizeof(a));
		a.cfg = cfg;
		a.state = state;
		a.scim = scim;
		a.have_users = &users;
		a.st = st;
		rc = apply_plan(&a, &plan);
		if (rc != L2S_OK) {
			*err = a.fatal_err;
			goto done;
		}
	}
	st->phase = PHASE_NONE;
done:
	if (http != NULL)
		st->requests = http_requests(http);
	st->seconds = now_seconds() - t0;
	plan_free(&plan);
	scim_close(scim);
	http_close(http);
	state_close(state);
	hmap_free(&users, record_free_v);
	hmap_free(&groups, record_free_v);
	source_result_free(&res);
	platform_unlock(lock);
	platform_secret_free(password);
	free(lpath);
	return rc;
}

int
sync_check(const struct config *cfg, struct sync_stats *st, struct err *err)
{
	struct ldapconn *c = NULL;
	struct state *state = NULL;
	struct http *http = NULL;
	struct scim *scim = NULL;
	char *password = NULL, *ctx = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	log_info("config '%s': ok", cfg->path);
	st->phase = PHASE_LOCAL;
	rc = state_open(&state, cfg->sync.state, 1, err);
	if (rc != L2S_OK)
		goto done;
	log_info("state '%s': ok", cfg->sync.state);
	rc = ldap_password(cfg, &password, err);
	if (rc != L2S_OK)
		goto done;
	st->phase = PHASE_LDAP;
	rc = ldapconn_open(&c, &cfg->ldap, password, err);
	if (rc != L2S_OK)
		goto done;
	rc = ldapconn_rootdse(c, "namingContexts", &ctx, err);
	if (rc != L2S_OK)
		goto done;
	log_info("LDAP '%s': bind ok%s%s", ldapconn_uri(c),
	    ctx != NULL ? ", naming context " : "", ctx != NULL ? ctx : "");
	st->phase = PHASE_SCIM;
	rc = scim_connect(cfg, &http, &scim, err);
	if (rc != L2S_OK) {
		if (rc == L2S_EIO && http == NULL)
			st->phase = PHASE_LOCAL;
		goto done;
	}
	log_info("SCIM '%s': token accepted%s", cfg->scim.url,
	    scim_caps(scim)->patch ? "" : " (no PATCH support: PUT is used)");
	st->phase = PHASE_NONE;
done:
	free(ctx);
	platform_secret_free(password);
	ldapconn_close(c);
	scim_close(scim);
	http_close(http);
	state_close(state);
	return rc;
}

void
sync_summary(const struct sync_stats *st, int dry_run, struct buf *out)
{
	const size_t *d = dry_run ? st->planned : st->done;

	buf_printf(out, "%s in %.2f s: read %zu users, %zu groups; users "
	    "%zu %s, %zu %s, %zu %s, %zu %s; groups %zu %s, %zu %s, %zu %s; "
	    "%zu held back; %zu failed; %lu requests",
	    dry_run ? "dry run" : "cycle done", st->seconds, st->users_read,
	    st->groups_read,
	    d[OP_USER_CREATE], dry_run ? "to create" : "created",
	    d[OP_USER_UPDATE], dry_run ? "to update" : "updated",
	    d[OP_USER_DEACTIVATE], dry_run ? "to deactivate" : "deactivated",
	    d[OP_USER_DELETE], dry_run ? "to delete" : "deleted",
	    d[OP_GROUP_CREATE], dry_run ? "to create" : "created",
	    d[OP_GROUP_UPDATE], dry_run ? "to update" : "updated",
	    d[OP_GROUP_DELETE], dry_run ? "to delete" : "deleted",
	    st->held, st->failed, st->requests);
}
