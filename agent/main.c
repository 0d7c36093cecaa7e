/*
 * main.c - the command line: parse, dispatch, choose the exit code
 *
 * Only main exits.  Exit codes (the contract a monitor reads):
 *   0 done, nothing failed        1 some operations failed (retried next cycle)
 *   2 usage, config or local error (config, secret or state file)
 *   3 LDAP unreachable or bind refused, or the directory read failed
 *   4 SCIM unreachable or auth refused
 *   5 refused by a safety limit (nothing applied)
 *   6 another run holds the lock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "incremental.h"
#include "log.h"
#include "platform.h"
#include "state.h"
#include "sync.h"

#ifndef L2S_VERSION
#define L2S_VERSION "unknown"
#endif

enum {
	EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_CONFIG = 2, EXIT_LDAP = 3,
	EXIT_SCIM = 4, EXIT_UNSAFE = 5, EXIT_LOCKED = 6
};

static void
usage(FILE *f)
{
	fputs("usage: ldap2scim [-c FILE] [-v | -q] [--log-format text|json] "
	    "[--syslog] COMMAND [ARGS]\n"
	    "  sync [--dry-run] [--json] [--full] [--force]   one cycle, then "
	    "exit (cron)\n"
	    "  run                                            polling loop "
	    "(service)\n"
	    "  check                                          config, LDAP bind, "
	    "SCIM auth; changes nothing\n"
	    "  state show | export | forget KEY | reset --yes inspect or repair "
	    "the state store\n"
	    "  version\n", f);
}

/* --syslog: every line to the system log (syslog, or the Windows Event
 * Log), already masked, with its level. */
static void
syslog_sink(enum log_level lvl, const char *line, void *arg)
{
	(void)arg;
	platform_syslog(lvl, line);
}

static int
exit_for(int rc, const struct sync_stats *st)
{
	if (rc == L2S_OK)
		return st->failed > 0 ? EXIT_FAILED : EXIT_DONE;
	if (rc == L2S_ELOCKED)
		return EXIT_LOCKED;
	if (rc == L2S_EUNSAFE)
		return EXIT_UNSAFE;
	switch (st->phase) {
	case PHASE_LDAP:
		return EXIT_LDAP;
	case PHASE_SCIM:
		return EXIT_SCIM;
	case PHASE_GUARD:	/* a refusal is L2S_EUNSAFE, above */
		return EXIT_FAILED;
	case PHASE_LOCAL:
		return EXIT_CONFIG;
	case PHASE_NONE:
		break;
	}
	return EXIT_FAILED;
}

static void
log_summary(const char *target, const struct sync_stats *st, int dry_run)
{
	struct buf sum = BUF_INIT;

	if (target != NULL)
		buf_printf(&sum, "target '%s': ", target);
	sync_summary(st, dry_run, &sum);
	if (st->failed > 0)
		log_warnx("%s", buf_str(&sum));
	else
		log_info("%s", buf_str(&sum));
	buf_free(&sum);
}

/*
 * A cycle of a file with targets: each target's outcome logged; the dry
 * run's plans under a heading per target, or as one JSON object
 * {"targets": [{"name": N, "plan": PLAN}, ...]}.  The exit code is the
 * highest of the targets'.
 */
/* The dry run's JSON of a cycle of several targets into out:
 * {"targets": [{"name": N, "plan": PLAN} or {"name": N, "error": MSG}]}. */
static int
targets_json(const struct sync_target *res, size_t n, struct buf *out)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char *text = NULL;
	size_t i;
	int rc = -1;

	if (root == NULL || (arr = cJSON_AddArrayToObject(root, "targets")) ==
	    NULL)
		goto done;
	for (i = 0; i < n; i++) {
		cJSON *plan = NULL;

		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(arr, o) ||
		    cJSON_AddStringToObject(o, "name", res[i].name) == NULL)
			goto done;
		if (res[i].rc != L2S_OK) {
			if (cJSON_AddStringToObject(o, "error", res[i].err.msg) ==
			    NULL)
				goto done;
			continue;
		}
		plan = cJSON_Parse(buf_str(&res[i].out));
		if (plan == NULL || !cJSON_AddItemToObject(o, "plan", plan)) {
			cJSON_Delete(plan);
			goto done;
		}
	}
	text = cJSON_Print(root);
	if (text == NULL)
		goto done;
	buf_puts(out, text);
	buf_putc(out, '\n');
	rc = 0;
done:
	free(text);
	cJSON_Delete(root);
	return rc;
}

/*
 * A cycle of a file with targets: each target's outcome logged; the dry
 * run's plans under a heading per target, or as one JSON object (above).
 * The exit code is the highest of the targets'.
 */
static int
sync_all(const struct config *cfg, const struct sync_opts *o, int quiet)
{
	size_t n = config_ntargets(cfg), i;
	struct sync_target *res = calloc(n, sizeof(*res));
	struct buf json = BUF_INIT;
	int code = EXIT_DONE, c;

	if (res == NULL) {
		log_error("out of memory");
		return EXIT_FAILED;
	}
	sync_targets(cfg, o, res);
	for (i = 0; i < n; i++) {
		c = exit_for(res[i].rc, &res[i].st);
		if (c > code)
			code = c;
		if (res[i].rc != L2S_OK) {
			log_error("target '%s'%s: %s", res[i].name, quiet ?
			    " (cycle failed)" : "", res[i].err.msg);
			continue;
		}
		if (o->dry_run && !o->json)
			printf("== target %s\n%s", res[i].name,
			    buf_str(&res[i].out));
		log_summary(res[i].name, &res[i].st, o->dry_run);
	}
	if (o->dry_run && o->json) {
		if (targets_json(res, n, &json) != 0) {
			log_error("out of memory");
			code = EXIT_FAILED;
		}
		fputs(buf_str(&json), stdout);
	}
	fflush(stdout);
	for (i = 0; i < n; i++)
		buf_free(&res[i].out);
	buf_free(&json);
	free(res);
	return code;
}

static int
cmd_sync(const struct config *cfg, int argc, char **argv)
{
	struct sync_opts o = { 0, 0, 0, 0 };
	struct sync_stats st;
	struct buf out = BUF_INIT, sum = BUF_INIT;
	struct err err = ERR_INIT;
	int i, rc, code;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			o.dry_run = 1;
		else if (strcmp(argv[i], "--json") == 0)
			o.json = 1;
		else if (strcmp(argv[i], "--force") == 0)
			o.force = 1;
		else if (strcmp(argv[i], "--full") == 0)
			o.full = 1;
		else {
			log_error("sync: unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (o.json && !o.dry_run) {
		log_error("sync: --json goes with --dry-run");
		return EXIT_CONFIG;
	}
	if (cfg->ntargets > 0)
		return sync_all(cfg, &o, 0);
	rc = sync_cycle(cfg, &o, &st, &out, &err);
	code = exit_for(rc, &st);
	if (rc != L2S_OK) {
		log_error("%s", err.msg);
	} else {
		if (o.dry_run) {
			fputs(buf_str(&out), stdout);
			fflush(stdout);
		}
		sync_summary(&st, o.dry_run, &sum);
		if (st.failed > 0)
			log_warnx("%s", buf_str(&sum));
		else
			log_info("%s", buf_str(&sum));
	}
	buf_free(&out);
	buf_free(&sum);
	return code;
}

/* The run loop's pause: with targets, the shortest of their intervals. */
static int
run_interval(const struct config *cfg)
{
	int s = config_target(cfg, 0)->sync.interval;
	size_t i;

	for (i = 1; i < config_ntargets(cfg); i++)
		if (config_target(cfg, i)->sync.interval < s)
			s = config_target(cfg, i)->sync.interval;
	return s;
}

static int
cmd_run(const char *path, struct config *cfg)
{
	struct sync_opts o = { 0, 0, 0, 0 };
	struct err err = ERR_INIT;

	if (cfg->ntargets > 0)
		log_info("running: a cycle every %d s for %zu targets",
		    run_interval(cfg), cfg->ntargets);
	else
		log_info("running: a cycle every %d s against '%s'",
		    cfg->sync.interval, cfg->scim.url);
	while (!platform_stop_requested()) {
		struct sync_stats st;
		struct buf sum = BUF_INIT;
		int rc;

		if (platform_take_reload()) {
			struct config *next = NULL;

			if (config_load(&next, path, &err) == L2S_OK) {
				config_free(cfg);
				cfg = next;
				log_info("configuration reloaded from '%s'", path);
			} else {
				log_error("reload refused, keeping the running "
				    "configuration: %s", err.msg);
			}
		}
		if (cfg->ntargets > 0) {
			sync_all(cfg, &o, 1);
			if (platform_stop_requested())
				break;
			platform_sleep(run_interval(cfg));
			continue;
		}
		rc = sync_cycle(cfg, &o, &st, &sum, &err);
		if (rc != L2S_OK) {
			log_error("cycle failed (exit code %d): %s",
			    exit_for(rc, &st), err.msg);
		} else {
			buf_reset(&sum);
			sync_summary(&st, 0, &sum);
			if (st.failed > 0)
				log_warnx("%s", buf_str(&sum));
			else
				log_info("%s", buf_str(&sum));
		}
		buf_free(&sum);
		if (platform_stop_requested())
			break;
		platform_sleep(cfg->sync.interval);
	}
	log_info("stopped");
	config_free(cfg);
	return EXIT_DONE;
}

static int
cmd_check(const struct config *cfg)
{
	struct sync_stats st;
	struct err err = ERR_INIT;
	size_t i;
	int code = EXIT_DONE, c, rc;

	for (i = 0; i < config_ntargets(cfg); i++) {
		const struct config *t = config_target(cfg, i);

		if (t->name != NULL)
			log_info("target '%s':", t->name);
		rc = sync_check(t, &st, &err);
		if (rc != L2S_OK) {
			log_error("%s%s%s%s", t->name ? "target '" : "",
			    t->name ? t->name : "", t->name ? "': " : "",
			    err.msg);
			c = exit_for(rc, &st);
			code = c > code ? c : code;
		}
	}
	if (code == EXIT_DONE)
		log_info("check passed");
	return code;
}

static int
record_cmp_key(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a;
	const struct record *y = *(const struct record *const *)b;

	return strcmp(x->key, y->key);
}

/* The records of m as a JSON array, in the order of their keys (the
 * same state exports the same text, whatever the table's order). */
static cJSON *
state_json(const struct hmap *m)
{
	cJSON *arr = cJSON_CreateArray();
	const struct record **sorted;
	size_t pos = 0, n = 0, k;
	void *v;

	sorted = malloc((m->len > 0 ? m->len : 1) * sizeof(*sorted));
	if (sorted == NULL) {
		cJSON_Delete(arr);
		return NULL;
	}
	while (n < m->len && hmap_next(m, &pos, NULL, &v))
		sorted[n++] = v;
	qsort(sorted, n, sizeof(*sorted), record_cmp_key);
	for (k = 0; arr != NULL && k < n; k++) {
		const struct record *r = sorted[k];
		cJSON *o = cJSON_CreateObject(), *attrs, *mem;
		size_t i;

		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			goto fail_o;
		if (cJSON_AddStringToObject(o, "key", r->key) == NULL ||
		    cJSON_AddStringToObject(o, "scim_id", r->scim_id ? r->scim_id : "") == NULL ||
		    cJSON_AddStringToObject(o, "name", r->name ? r->name : "") == NULL ||
		    (r->dn != NULL && cJSON_AddStringToObject(o, "dn", r->dn) == NULL) ||
		    cJSON_AddBoolToObject(o, "removed", r->removed) == NULL ||
		    (attrs = cJSON_AddObjectToObject(o, "attributes")) == NULL)
			goto fail;
		for (i = 0; i < r->attrs.n; i++)
			if (cJSON_AddStringToObject(attrs, r->attrs.v[i].path,
			    r->attrs.v[i].value) == NULL)
				goto fail;
		if (r->kind == REC_GROUP) {
			mem = cJSON_AddArrayToObject(o, "members");
			if (mem == NULL)
				goto fail;
			for (i = 0; i < r->nmembers; i++)
				if (!cJSON_AddItemToArray(mem,
				    cJSON_CreateString(r->members[i])))
					goto fail;
		}
		continue;
fail_o:
		cJSON_Delete(o);
fail:
		cJSON_Delete(arr);
		arr = NULL;
	}
	free(sorted);
	return arr;
}

static int state_one(const struct config *cfg, int argc, char **argv);

/* state [--target NAME] ...: with targets, show covers them all and the
 * other commands need the target named. */
static int
cmd_state(const struct config *cfg, int argc, char **argv)
{
	const char *name = NULL;
	size_t i;
	int code = EXIT_DONE, c;

	if (argc > 2 && strcmp(argv[1], "--target") == 0) {
		name = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (cfg->ntargets == 0) {
		if (name != NULL) {
			log_error("state: --target: '%s' has no targets",
			    cfg->path);
			return EXIT_CONFIG;
		}
		return state_one(cfg, argc, argv);
	}
	for (i = 0; i < cfg->ntargets; i++)
		if (name != NULL && strcmp(cfg->targets[i]->name, name) == 0)
			return state_one(cfg->targets[i], argc, argv);
	if (name != NULL) {
		log_error("state: no target named '%s' in '%s'", name,
		    cfg->path);
		return EXIT_CONFIG;
	}
	if (argc > 1 && strcmp(argv[1], "show") != 0) {
		log_error("state: '%s' has several targets: name one with "
		    "state --target NAME %s", cfg->path, argv[1]);
		return EXIT_CONFIG;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		printf("target: %s\n", cfg->targets[i]->name);
		c = state_one(cfg->targets[i], argc, argv);
		code = c > code ? c : code;
	}
	return code;
}

static int
state_one(const struct config *cfg, int argc, char **argv)
{
	struct hmap users = HMAP_INIT, groups = HMAP_INIT;
	struct state *st = NULL;
	struct platform_lock *lock = NULL;
	struct err err = ERR_INIT;
	const char *sub = argc > 1 ? argv[1] : "show";
	int writes, rc = EXIT_DONE;

	writes = strcmp(sub, "forget") == 0 || strcmp(sub, "reset") == 0;
	if (!writes && strcmp(sub, "show") != 0 && strcmp(sub, "export") != 0) {
		log_error("state: unknown command '%s'", sub);
		usage(stderr);
		return EXIT_CONFIG;
	}
	if ((strcmp(sub, "forget") == 0 && argc != 3) ||
	    (strcmp(sub, "reset") == 0 && (argc != 3 ||
	    strcmp(argv[2], "--yes") != 0))) {
		log_error("state: usage: state forget KEY | state reset --yes "
		    "(after a reset the next sync creates every object again)");
		return EXIT_CONFIG;
	}
	if (writes) {
		char *lpath = sync_lock_path(cfg->sync.state);
		int lrc = lpath == NULL ? err_set(&err, L2S_ENOMEM,
		    "out of memory") : platform_lock(&lock, lpath, &err);

		free(lpath);
		if (lrc != L2S_OK) {
			log_error("%s", err.msg);
			return lrc == L2S_ELOCKED ? EXIT_LOCKED : EXIT_CONFIG;
		}
	}
	if (state_open(&st, cfg->sync.state, !writes, &err) != L2S_OK ||
	    state_load(st, &users, &groups, &err) != L2S_OK) {
		log_error("%s", err.msg);
		rc = EXIT_CONFIG;
		goto done;
	}
	if (strcmp(sub, "show") == 0) {
		size_t pos = 0, removed = 0, members = 0;
		void *v;

		while (hmap_next(&users, &pos, NULL, &v))
			removed += ((struct record *)v)->removed ? 1 : 0;
		pos = 0;
		while (hmap_next(&groups, &pos, NULL, &v))
			members += ((struct record *)v)->nmembers;
		printf("state: %s\nusers: %zu (%zu deactivated after leaving "
		    "the directory)\ngroups: %zu (%zu memberships)\n",
		    cfg->sync.state, users.len, removed, groups.len, members);
	} else if (strcmp(sub, "export") == 0) {
		cJSON *root = cJSON_CreateObject();
		char *text = NULL;

		cJSON *ju = state_json(&users), *jg = state_json(&groups);

		if (root != NULL && ju != NULL && jg != NULL &&
		    cJSON_AddItemToObject(root, "users", ju)) {
			ju = NULL;
			if (cJSON_AddItemToObject(root, "groups", jg)) {
				jg = NULL;
				text = cJSON_Print(root);
			}
		}
		cJSON_Delete(ju);
		cJSON_Delete(jg);
		if (text == NULL) {
			log_error("state export: out of memory");
			rc = EXIT_FAILED;
		} else {
			printf("%s\n", text);
		}
		free(text);
		cJSON_Delete(root);
	} else if (strcmp(sub, "forget") == 0) {
		int kind = hmap_get(&users, argv[2]) != NULL ? REC_USER :
		    hmap_get(&groups, argv[2]) != NULL ? REC_GROUP : -1;

		if (kind < 0) {
			log_error("state forget: no object with key '%s'", argv[2]);
			rc = EXIT_FAILED;
		} else if (state_del(st, (enum rec_kind)kind, argv[2], &err) !=
		    L2S_OK || incremental_unclean(st, &err) != L2S_OK) {
			log_error("%s", err.msg);
			rc = EXIT_CONFIG;
		} else {
			log_info("forgot %s '%s'", kind == REC_USER ? "user" :
			    "group", argv[2]);
		}
	} else {
		if (state_clear(st, &err) != L2S_OK) {
			log_error("%s", err.msg);
			rc = EXIT_CONFIG;
		} else {
			log_info("state '%s' reset", cfg->sync.state);
		}
	}
done:
	hmap_free(&users, record_free_v);
	hmap_free(&groups, record_free_v);
	state_close(st);
	platform_unlock(lock);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("LDAP2SCIM_CONFIG");
	enum log_level level = LOG_LVL_INFO;
	enum log_format fmt = LOG_FMT_TEXT;
	struct config *cfg = NULL;
	struct err err = ERR_INIT;
	const char *cmd;
	int i, rc, use_syslog = 0;

	if (platform_args(&argc, &argv) != 0) {
		fprintf(stderr, "ldap2scim: out of memory\n");
		return EXIT_CONFIG;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			level = LOG_LVL_DEBUG;
		} else if (strcmp(argv[i], "-q") == 0) {
			level = LOG_LVL_WARN;
		} else if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "json") == 0)
				fmt = LOG_FMT_JSON;
			else if (strcmp(argv[i], "text") != 0) {
				fprintf(stderr, "ldap2scim: --log-format takes "
				    "text or json\n");
				return EXIT_CONFIG;
			}
		} else if (strcmp(argv[i], "--syslog") == 0) {
			use_syslog = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_DONE;
		} else {
			fprintf(stderr, "ldap2scim: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	cmd = argv[i];
	log_init(level, fmt);
	if (use_syslog) {
		if (platform_syslog_open("ldap2scim", &err) != L2S_OK) {
			fprintf(stderr, "ldap2scim: %s\n", err.msg);
			return EXIT_CONFIG;
		}
		atexit(platform_syslog_close);
		log_set_sink(syslog_sink, NULL);
	}
	if (strcmp(cmd, "version") == 0) {
		printf("ldap2scim %s\n", L2S_VERSION);
		return EXIT_DONE;
	}
	if (strcmp(cmd, "sync") != 0 && strcmp(cmd, "run") != 0 &&
	    strcmp(cmd, "check") != 0 && strcmp(cmd, "state") != 0) {
		fprintf(stderr, "ldap2scim: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_CONFIG;
	}
	if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "check") == 0) &&
	    i + 1 < argc) {
		fprintf(stderr, "ldap2scim: %s takes no arguments\n", cmd);
		return EXIT_CONFIG;
	}
	if (path == NULL)
		path = platform_default_config();
	if (config_load(&cfg, path, &err) != L2S_OK) {
		log_error("%s", err.msg);
		return EXIT_CONFIG;
	}
	/* SIGTERM/SIGINT: stop after the request in flight; SIGHUP: reload
	 * (run); SIGPIPE ignored, a dropped connection is an error, not death. */
	if (platform_signals(&err) != L2S_OK) {
		log_error("%s", err.msg);
		config_free(cfg);
		return EXIT_CONFIG;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		config_free(cfg);
		return EXIT_CONFIG;
	}
	if (strcmp(cmd, "sync") == 0)
		rc = cmd_sync(cfg, argc - i, argv + i);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(cfg);
	else if (strcmp(cmd, "state") == 0)
		rc = cmd_state(cfg, argc - i, argv + i);
	else {
		rc = cmd_run(path, cfg);
		cfg = NULL;	/* cmd_run owns it, it may reload */
	}
	config_free(cfg);
	curl_global_cleanup();
	log_forget_secrets();
	return rc;
}
