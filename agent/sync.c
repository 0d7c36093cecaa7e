/*
 * sync.c - one cycle: lock, read, diff, guard, then dry-run or apply
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "apply.h"
#include "diff.h"
#include "http.h"
#include "incremental.h"
#include "ldap.h"
#include "log.h"
#include "mapping.h"
#include "photo.h"
#include "platform.h"
#include "scim.h"
#include "scimjson.h"
#include "source.h"
#include "state.h"
#include "sync.h"

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

/* Is uri plain ldap:// to a host other than this one? */
static int
uri_cleartext_remote(const char *uri)
{
	const char *h;

	if (strncasecmp(uri, "ldap://", 7) != 0)
		return 0;
	h = uri + 7;
	return !(h[0] == '\0' || h[0] == '/' || strncmp(h, "127.", 4) == 0 ||
	    strncasecmp(h, "localhost", 9) == 0 || strncmp(h, "[::1]", 5) == 0);
}

static void
warn_cleartext(const struct config *cfg, const char *password)
{
	size_t i;

	for (i = 0; password != NULL && !cfg->ldap.starttls &&
	    i < cfg->ldap.nuris; i++)
		if (uri_cleartext_remote(cfg->ldap.uris[i]))
			log_warnx("the LDAP bind password goes to '%s' in clear "
			    "text: use ldaps:// or ldap.starttls: true",
			    cfg->ldap.uris[i]);
}

/* The state's load, done in pieces while the directory is slow to
 * answer: some hundred rows, a millisecond or so, each. */
struct idle_load {
	struct state_loader *loader;
	size_t pieces;
};

static int
load_piece(void *arg)
{
	struct idle_load *il = arg;

	il->pieces++;
	return state_load_step(il->loader, 256);
}

static int
ldap_read(const struct config *cfg, const char *password, struct state *st,
    const struct sync_opts *o, struct source_result *res,
    struct incr_result *incr, struct state_loader *loader, struct err *err)
{
	struct ldapconn *c = NULL;
	struct idle_load il = { loader, 0 };
	int rc;

	warn_cleartext(cfg, password);
	rc = ldapconn_open(&c, &cfg->ldap, password, err);
	if (rc != L2S_OK)
		return rc;
	log_debug("connected to '%s'", ldapconn_uri(c));
	if (loader != NULL)
		ldapconn_set_idle(c, load_piece, &il);
	if (cfg->sync.incremental) {
		rc = incremental_read(res, c, cfg, st, o->dry_run, o->full, incr,
		    err);
		if (rc == L2S_OK && incr->mode == INCR_FULL)
			log_info("full read: %s", incr->why);
		else if (rc == L2S_OK)
			log_info("incremental read: %zu entries changed",
			    incr->changes);
	} else {
		rc = source_read(res, c, cfg, err);
	}
	if (rc == L2S_OK && cfg->ldap.dialect == DIALECT_AUTO)
		log_debug("'%s' read as %s (dialect auto)", ldapconn_uri(c),
		    res->ad ? "Active Directory" : "OpenLDAP");
	if (loader != NULL)
		log_debug("state: %zu pieces of its load done while waiting "
		    "for the directory", il.pieces);
	ldapconn_close(c);
	return rc;
}

/* Say where the refused token came from (never the token itself). */
static void
token_hint(const struct config *cfg, struct err *err)
{
	size_t n = strlen(err->msg);

	if (cfg->scim.token_env != NULL)
		snprintf(err->msg + n, sizeof(err->msg) - n, " (the token from "
		    "environment variable '%s')", cfg->scim.token_env);
	else
		snprintf(err->msg + n, sizeof(err->msg) - n, " (the token from "
		    "file '%s')", cfg->scim.token_file);
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
	scim_set_retry(*sp, cfg->scim.retries, cfg->scim.retry_max_wait);
	rc = scim_discover(*sp, err);
	if (rc == L2S_EAUTH)
		token_hint(cfg, err);
	return rc;
}

/* Diff and guard: the plan, or the refusal. */
/* What changes gave was refused: let a full read decide next time. */
static void
refused_changes(const struct config *cfg, const struct sync_opts *o,
    const struct incr_result *incr, struct state *state)
{
	struct err ferr = ERR_INIT;

	if (!cfg->sync.incremental || o->dry_run || incr->mode != INCR_CHANGES)
		return;
	if (incremental_forget(state, &ferr) != L2S_OK)
		log_warnx("%s", ferr.msg);
	else
		log_info("the next cycle reads the whole directory, to check "
		    "what was refused against a full read");
}

/* scim_connect() in PHASE_SCIM; a token file that cannot be read is a
 * local error (PHASE_LOCAL). */
static int
scim_reach(const struct config *cfg, struct http **hp, struct scim **sp,
    struct sync_stats *st, struct err *err)
{
	int rc;

	st->phase = PHASE_SCIM;
	rc = scim_connect(cfg, hp, sp, err);
	if ((rc == L2S_EIO || rc == L2S_EPARSE) && *hp == NULL)
		st->phase = PHASE_LOCAL;	/* the token file */
	return rc;
}

static int
plan_guarded(struct plan *plan, const struct readset *want,
    const struct hmap *users, const struct hmap *groups,
    const struct config *cfg, int force, struct err *err)
{
	int rc = diff_build(plan, want, users, groups, cfg, err);

	if (rc == L2S_OK)
		rc = guard_check(plan, want, users, groups, cfg, force, err);
	return rc;
}

char *
sync_lock_path(const char *state)
{
	size_t n = strlen(state) + 6;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.lock", state);
	return p;
}

/* The entries the plan leaves out: the skipped ones (out of scope) and the
 * objects held back, which are named here once per cycle, not silently
 * kept.  A dry run shows them after the operations. */
struct notes {
	struct plan_note *v;	/* owned array; strings borrowed from src */
	size_t n, cap;
};

static int
notes_add(struct notes *nt, struct plan_note note)
{
	if (nt->n == nt->cap) {
		size_t cap = nt->cap ? nt->cap * 2 : 16;
		struct plan_note *v = realloc(nt->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		nt->v = v;
		nt->cap = cap;
	}
	nt->v[nt->n++] = note;
	return 0;
}

static int
plan_notes(struct notes *nt, const struct source_result *src,
    struct err *err)
{
	const struct hmap *maps[2] = { &src->rs.users, &src->rs.groups };
	size_t i, pos;
	void *v;
	int m;

	for (i = 0; i < src->nnotes; i++)
		if (notes_add(nt, (struct plan_note){
		    src->notes[i].kind == REC_USER ? "user" : "group",
		    src->notes[i].dn, src->notes[i].reason, 0 }) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
	for (m = 0; m < 2; m++)
		for (pos = 0; hmap_next(maps[m], &pos, NULL, &v);) {
			const struct record *r = v;
			const char *type = m == 0 ? "user" : "group";

			if (r->held == NULL)
				continue;
			log_warnx("%s '%s' held back, left as it is: %s", type,
			    r->dn, r->held);
			if (notes_add(nt, (struct plan_note){ type, r->dn,
			    r->held, 1 }) != 0)
				return err_set(err, L2S_ENOMEM, "out of memory");
		}
	return L2S_OK;
}

/* users.photo: after a cycle that read everything, remove the images that
 * neither the directory nor the state (what the service may still show)
 * refers to.  A failure is a warning: a stale file harms nobody. */
static void
prune_photos(const struct config *cfg, const struct hmap *want,
    const struct hmap *have)
{
	const struct hmap *maps[2] = { want, have };
	struct err perr = ERR_INIT;
	char **keep = NULL;
	size_t n = 0, removed = 0, pos;
	void *v;
	int m;

	keep = calloc(want->len + have->len + 1, sizeof(*keep));
	if (keep == NULL) {
		log_warnx("photos not pruned: out of memory");
		return;
	}
	for (m = 0; m < 2; m++)
		for (pos = 0; hmap_next(maps[m], &pos, NULL, &v);) {
			const char *url = attrs_get(&((struct record *)v)->attrs,
			    PHOTO_PATH);
			const char *name = url != NULL ? photo_name(url) : NULL;

			if (name != NULL)
				keep[n++] = (char *)name;
		}
	if (photo_prune(cfg->users.photo_dir, keep, n, &removed, &perr) !=
	    L2S_OK)
		log_warnx("photos: %s", perr.msg);
	if (removed > 0)
		log_info("photos: %zu images no user refers to removed from '%s'",
		    removed, cfg->users.photo_dir);
	free(keep);
}

/* The users whose image could not be used keep the photo the service
 * shows (the state's), so that the diff neither removes nor changes it. */
static int
photos_kept(struct source_result *src, const struct hmap *have,
    struct err *err)
{
	size_t pos = 0;
	const char *key;
	void *why;

	while (hmap_next(&src->photo_kept, &pos, &key, &why)) {
		struct record *w = hmap_get(&src->rs.users, key);
		const struct record *h = hmap_get(have, key);
		const char *url = h != NULL ? attrs_get(&h->attrs, PHOTO_PATH) :
		    NULL;

		if (w == NULL)
			continue;
		log_warnx("user '%s': photo left as it is: %s", w->dn != NULL ?
		    w->dn : key, (const char *)why);
		if (url != NULL && attrs_set(&w->attrs, PHOTO_PATH, url) != 0)
			return err_set(err, L2S_ENOMEM, "out of memory");
	}
	return L2S_OK;
}

/* One target's part of a cycle: its lock, its state, what was read for it. */
struct target_run {
	const struct config *cfg;	/* borrowed */
	struct platform_lock *lock;
	struct state *state;
	struct source_result src;
	struct incr_result incr;
	struct state_loader *loader;	/* the state, loaded while the
					 * directory is read; or NULL */
};

static void
target_init(struct target_run *t, const struct config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->incr.mode = INCR_FULL;
	source_result_init(&t->src);
}

static void
target_close(struct target_run *t)
{
	state_load_abort(t->loader);
	t->loader = NULL;
	state_close(t->state);
	t->state = NULL;
	source_result_free(&t->src);
	platform_unlock(t->lock);
	t->lock = NULL;
}

/* Take the target's lock (not in a dry run) and open its state. */
static int
target_open(struct target_run *t, const struct sync_opts *o,
    struct sync_stats *st, struct err *err)
{
	const struct config *cfg = t->cfg;
	char *lpath;
	int rc;

	st->phase = PHASE_LOCAL;
	if (!o->dry_run) {
		lpath = sync_lock_path(cfg->sync.state);
		if (lpath == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		rc = platform_lock(&t->lock, lpath, err);
		free(lpath);
		if (rc != L2S_OK)
			return rc;
	}
	t->src.photo_write = !o->dry_run;
	rc = state_open(&t->state, cfg->sync.state, o->dry_run, err);
	if (rc != L2S_OK)
		return rc;
	/* A cycle without incremental reads: the next one with them must
	 * not take this one's outcome for granted. */
	if (!cfg->sync.incremental && !o->dry_run)
		rc = incremental_unclean(t->state, err);
	return rc;
}

/* Everything after a complete read: diff, guard, then the dry run's plan
 * into out or the apply. */
static int
target_finish(struct target_run *t, const struct sync_opts *o,
    struct sync_stats *st, struct buf *out, struct err *err)
{
	const struct config *cfg = t->cfg;
	struct hmap users = HMAP_INIT, groups = HMAP_INIT, doubt = HMAP_INIT;
	struct plan plan = PLAN_INIT;
	struct notes notes = { NULL, 0, 0 };
	struct http *http = NULL;
	struct scim *scim = NULL;
	int rc;

	source_done(&t->src);
	if (t->incr.mode == INCR_UNCHANGED) {
		/* Nothing changed since a cycle that applied all it planned:
		 * no plan to make.  Still check the token (below). */
		st->unchanged = 1;
		if (o->dry_run) {
			buf_puts(out, "plan: nothing changed in the directory "
			    "since the last cycle\n");
			st->phase = PHASE_NONE;
			rc = L2S_OK;
			goto done;
		}
		rc = scim_reach(cfg, &http, &scim, st, err);
		if (rc == L2S_OK)
			st->phase = PHASE_NONE;
		goto done;
	}
	st->phase = PHASE_LOCAL;
	if (t->loader != NULL) {
		rc = state_load_end(t->loader, &users, &groups, err);
		t->loader = NULL;
	} else {
		rc = state_load(t->state, &users, &groups, err);
	}
	if (rc != L2S_OK)
		goto done;

	rc = photos_kept(&t->src, &users, err);
	if (rc != L2S_OK)
		goto done;
	st->phase = PHASE_GUARD;
	rc = plan_guarded(&plan, &t->src.rs, &users, &groups, cfg, o->force,
	    err);
	if (rc != L2S_OK) {
		refused_changes(cfg, o, &t->incr, t->state);
		goto done;
	}
	st->held = plan.held;
	rc = plan_notes(&notes, &t->src, err);
	if (rc != L2S_OK)
		goto done;
	if (o->dry_run) {
		plan.notes = notes.v;
		plan.nnotes = notes.n;
		if (o->json) {
			plan_print_json(&plan, out);
		} else {
			plan_print_text(&plan, out);
			buf_puts(out, "plan: ");
			plan_summary(&plan, out);
			buf_putc(out, '\n');
		}
		memcpy(st->planned, plan.count, sizeof(st->planned));
		st->phase = PHASE_NONE;
		goto done;
	}
	/* Connect even with nothing to do: a refused token must show in the
	 * exit code of every cycle, not only of the next busy one.  Then bring
	 * the state up to what the service holds where it may lag behind
	 * (apply.h); when that changed anything, plan again. */
	rc = scim_reach(cfg, &http, &scim, st, err);
	if (rc != L2S_OK)
		goto done;
	{
		size_t changed = 0;

		rc = apply_prepare(cfg, t->state, scim, &users, &groups,
		    &t->src.rs, &doubt, &changed, err);
		if (rc == L2S_EAUTH)
			token_hint(cfg, err);
		if (rc != L2S_OK)
			goto done;
		if (changed > 0) {
			plan_free(&plan);
			st->phase = PHASE_GUARD;
			rc = plan_guarded(&plan, &t->src.rs, &users, &groups,
			    cfg, o->force, err);
			if (rc != L2S_OK) {
				refused_changes(cfg, o, &t->incr, t->state);
				goto done;
			}
			st->phase = PHASE_SCIM;
		}
	}
	memcpy(st->planned, plan.count, sizeof(st->planned));
	{
		struct apply_result res;

		rc = apply_plan(&plan, cfg, t->state, scim, &users, &groups,
		    &t->src.rs, &doubt, &res, err);
		memcpy(st->done, res.done, sizeof(st->done));
		st->failed = res.failed;
		st->adopted = res.adopted;
		st->skipped = res.skipped;
		st->recreated = res.recreated;
		st->stopped = res.stopped;
		if (rc == L2S_EAUTH)
			token_hint(cfg, err);
		if (rc != L2S_OK)
			goto done;
	}
	st->phase = PHASE_NONE;
	if (cfg->users.photo_dir != NULL)
		prune_photos(cfg, &t->src.rs.users, &users);
	if (cfg->sync.incremental && st->failed == 0 && !st->stopped)
		rc = incremental_clean(t->state, err);
done:
	free(notes.v);
	if (http != NULL)
		st->requests = http_requests(http);
	st->retries = scim_retries(scim);
	plan_free(&plan);
	scim_close(scim);
	http_close(http);
	records_free(&users);
	records_free(&groups);
	hmap_free(&doubt, NULL);
	return rc;
}

int
sync_cycle(const struct config *cfg, const struct sync_opts *o,
    struct sync_stats *st, struct buf *out, struct err *err)
{
	struct target_run t;
	char *password = NULL;
	double t0 = now_seconds();
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	target_init(&t, cfg);
	rc = target_open(&t, o, st, err);
	if (rc != L2S_OK)
		goto done;
	rc = ldap_password(cfg, &password, err);
	if (rc != L2S_OK)
		goto done;

	/* A full read leaves the state alone: it is loaded in the time the
	 * read waits for the server, which on a large directory is most of
	 * the time the load would take after it.  (The incremental read uses
	 * the state; the load waits for it.)  If this cannot start, the load
	 * comes after the read, as it would. */
	if (!cfg->sync.incremental) {
		struct err lerr = ERR_INIT;

		/* The read will find about what the state holds: its tables
		 * are sized for that at once. */
		if (state_load_begin(t.state, &t.loader, &lerr) == L2S_OK)
			state_load_expect(t.loader, &t.src.expect_users,
			    &t.src.expect_groups);
		else
			t.loader = NULL;
	}
	st->phase = PHASE_LDAP;
	rc = ldap_read(cfg, password, t.state, o, &t.src, &t.incr, t.loader,
	    err);
	platform_secret_free(password);
	password = NULL;
	st->users_read = t.src.rs.users.len;
	st->groups_read = t.src.rs.groups.len;
	for (i = 0; i < t.src.nnotes; i++)
		log_warnx("entry '%s': %s", t.src.notes[i].dn,
		    t.src.notes[i].reason);
	if (rc != L2S_OK) {
		if (rc != L2S_EAUTH && rc != L2S_ENOMEM)
			err_prefix(err, "directory read incomplete, nothing "
			    "changed");
		goto done;
	}
	rc = target_finish(&t, o, st, out, err);
done:
	st->seconds = now_seconds() - t0;
	target_close(&t);
	platform_secret_free(password);
	return rc;
}

int
sync_targets(const struct config *cfg, const struct sync_opts *o,
    struct sync_target *res)
{
	size_t n = config_ntargets(cfg), i, j, nopen = 0;
	struct target_run *t = calloc(n, sizeof(*t));
	struct source_result **srcs = calloc(n, sizeof(*srcs));
	const struct config **cfgs = calloc(n, sizeof(*cfgs));
	struct ldapconn *c = NULL;
	struct err err = ERR_INIT;
	char *password = NULL;
	double t0 = now_seconds();
	int rc;

	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].name = config_target(cfg, i)->name;
		res[i].rc = L2S_ENOMEM;
	}
	if (t == NULL || srcs == NULL || cfgs == NULL) {
		for (i = 0; i < n; i++)
			err_set(&res[i].err, L2S_ENOMEM, "out of memory");
		free(t);
		free(srcs);
		free(cfgs);
		return L2S_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		target_init(&t[i], config_target(cfg, i));
		res[i].rc = target_open(&t[i], o, &res[i].st, &res[i].err);
		if (res[i].rc == L2S_OK) {
			srcs[nopen] = &t[i].src;
			cfgs[nopen++] = t[i].cfg;
		}
	}
	if (nopen == 0)
		goto done;

	/* One read for every target whose lock and state are in hand. */
	rc = ldap_password(cfg, &password, &err);
	for (i = 0; i < n; i++)
		if (res[i].rc == L2S_OK)
			res[i].st.phase = rc == L2S_OK ? PHASE_LDAP : PHASE_LOCAL;
	if (rc == L2S_OK) {
		warn_cleartext(cfg, password);
		rc = ldapconn_open(&c, &cfg->ldap, password, &err);
		if (rc == L2S_OK) {
			log_debug("connected to '%s'", ldapconn_uri(c));
			rc = source_read_targets(srcs, c, cfgs, nopen, cfg, &err);
		}
		if (rc != L2S_OK && rc != L2S_EAUTH && rc != L2S_ENOMEM)
			err_prefix(&err, "directory read incomplete, nothing "
			    "changed");
	}
	platform_secret_free(password);
	password = NULL;
	ldapconn_close(c);
	for (i = 0; i < n; i++) {
		struct sync_stats *st = &res[i].st;

		if (res[i].rc != L2S_OK)
			continue;
		st->users_read = t[i].src.rs.users.len;
		st->groups_read = t[i].src.rs.groups.len;
		for (j = 0; j < t[i].src.nnotes; j++)
			log_warnx("target '%s': entry '%s': %s", t[i].cfg->name,
			    t[i].src.notes[j].dn, t[i].src.notes[j].reason);
		if (rc != L2S_OK) {
			res[i].rc = rc;
			res[i].err = err;
			continue;
		}
		res[i].rc = target_finish(&t[i], o, st, &res[i].out,
		    &res[i].err);
		st->seconds = now_seconds() - t0;
		target_close(&t[i]);
	}
done:
	for (i = 0; i < n; i++)
		target_close(&t[i]);
	free(t);
	free(srcs);
	free(cfgs);
	return L2S_OK;
}

int
sync_check(const struct config *cfg, struct sync_stats *st, struct err *err)
{
	struct ldapconn *c = NULL;
	struct state *state = NULL;
	struct http *http = NULL;
	struct scim *scim = NULL;
	char *password = NULL, *ctx = NULL;
	int ad = 0, rc;

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
	if (rc == L2S_OK)
		rc = source_dialect_ad(c, cfg, &ad, err);
	if (rc != L2S_OK)
		goto done;
	log_info("LDAP '%s': bind ok%s%s, dialect %s%s", ldapconn_uri(c),
	    ctx != NULL ? ", naming context " : "", ctx != NULL ? ctx : "",
	    ad ? "ad" : "openldap",
	    cfg->ldap.dialect == DIALECT_AUTO ? " (detected)" : "");
	st->phase = PHASE_SCIM;
	rc = scim_connect(cfg, &http, &scim, err);
	if (rc != L2S_OK) {
		if ((rc == L2S_EIO || rc == L2S_EPARSE) && http == NULL)
			st->phase = PHASE_LOCAL;
		goto done;
	}
	if (cfg->scim.profile == PROFILE_ATLASSIAN && !scim_caps(scim)->patch) {
		rc = err_set(err, L2S_ESCIM, "SCIM '%s': profile atlassian, but "
		    "the service says it does not support PATCH: check scim.url "
		    "and scim.profile", cfg->scim.url);
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

	if (st->unchanged) {
		buf_printf(out, "%s in %.2f s: nothing changed in the directory "
		    "since the last cycle; %lu requests", dry_run ? "dry run" :
		    "cycle done", st->seconds, st->requests);
		return;
	}

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
	if (st->retries > 0)
		buf_printf(out, " (%lu retried)", st->retries);
	if (st->adopted > 0)
		buf_printf(out, "; %zu adopted", st->adopted);
	if (st->skipped > 0)
		buf_printf(out, "; %zu conflicts skipped", st->skipped);
	if (st->recreated > 0)
		buf_printf(out, "; %zu groups recreated under a new name",
		    st->recreated);
}
