/*
 * test_state.c - the SQLite state store: round trips, replacement, member
 * deltas, batches, read-only use, refusing foreign and newer files
 *
 * The last case times 100000 state_put() calls and one state_load() and
 * prints the result as a comment; L2S_STATE_USERS changes the count (it
 * drops to 2000 by itself under valgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state.h"
#include "tap.h"

static char dir[64];
static char path[128];

static void
rm_db(const char *p)
{
	char q[256];

	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

static struct record *
user(const char *key, const char *name, const char *id)
{
	struct record *r = record_new(REC_USER, key);

	r->name = strdup(name);
	r->dn = malloc(64);
	snprintf(r->dn, 64, "uid=%s,ou=people,dc=example", name);
	if (id != NULL)
		r->scim_id = strdup(id);
	attrs_set(&r->attrs, "userName", name);
	attrs_set(&r->attrs, "active", "true");
	return r;
}

static struct record *
group(const char *key, const char *name, const char *const *m, size_t n)
{
	struct record *r = record_new(REC_GROUP, key);

	r->name = strdup(name);
	r->scim_id = strdup("gid");
	attrs_set(&r->attrs, "displayName", name);
	record_set_members(r, m, n);
	return r;
}

static int
members_are(const struct record *r, const char *want)
{
	char got[512] = "";
	size_t i;

	if (r == NULL)
		return 0;
	for (i = 0; i < r->nmembers; i++) {
		if (i > 0)
			strcat(got, ",");
		strcat(got, r->members[i]);
	}
	if (strcmp(got, want) != 0) {
		printf("#   members '%s', want '%s'\n", got, want);
		return 0;
	}
	return 1;
}

static int
one_int(void *arg, int ncol, char **vals, char **names)
{
	(void)names;
	if (ncol > 0 && vals[0] != NULL)
		*(int *)arg = atoi(vals[0]);
	return 0;
}

static void
load(struct state *st, struct hmap *u, struct hmap *g)
{
	struct err err = ERR_INIT;

	hmap_free(u, record_free_v);
	hmap_free(g, record_free_v);
	if (state_load(st, u, g, &err) != L2S_OK)
		printf("# state_load: %s\n", err.msg);
}

static void
state_should_round_trip_users_and_groups(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct record *a, *b, *grp, *r;
	const char *m[] = { "u2", "u1", "u1" };
	struct stat sb;

	rm_db(path);
	is_int(state_open(&st, path, 0, &err), L2S_OK, "state_open creates a file");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "a new state file has mode 0600");
	a = user("u1", "alice", "scim-1");
	attrs_set(&a->attrs, "displayName", "Zoë \"the\" Ünïcode");
	b = user("u2", "bob", NULL);
	b->removed = 1;
	grp = group("g1", "staff", m, 3);
	is_int(state_put(st, a, &err), L2S_OK, "state_put stores a user");
	is_int(state_put(st, b, &err), L2S_OK, "state_put stores a removed user");
	is_int(state_put(st, grp, &err), L2S_OK, "state_put stores a group");
	load(st, &u, &g);
	is_int(u.len, 2, "two users load");
	is_int(g.len, 1, "one group loads");
	r = hmap_get(&u, "u1");
	ok(r != NULL && r->kind == REC_USER, "the user loads as a user");
	is_str(r ? r->scim_id : NULL, "scim-1", "its scim id survives");
	is_str(r ? r->name : NULL, "alice", "its name survives");
	is_str(r ? r->dn : NULL, "uid=alice,ou=people,dc=example",
	    "its dn survives");
	ok(r != NULL && attrs_equal(&r->attrs, &a->attrs),
	    "its attributes survive, UTF-8 and quotes included");
	ok(r != NULL && !r->removed, "it is not removed");
	r = hmap_get(&u, "u2");
	ok(r != NULL && r->removed, "the removed flag survives");
	ok(r != NULL && r->scim_id == NULL, "a missing scim id stays missing");
	r = hmap_get(&g, "g1");
	ok(r != NULL && r->kind == REC_GROUP, "the group loads as a group");
	ok(members_are(r, "u1,u2"), "its members load sorted");
	is_str(r ? attrs_get(&r->attrs, "displayName") : NULL, "staff",
	    "its display name survives");
	state_close(st);

	is_int(state_open(&st, path, 0, &err), L2S_OK, "state_open reopens it");
	load(st, &u, &g);
	ok(u.len == 2 && g.len == 1, "everything persists across a reopen");
	ok(members_are(hmap_get(&g, "g1"), "u1,u2"), "members persist too");
	state_close(st);

	record_free(a);
	record_free(b);
	record_free(grp);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_put_should_replace(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	const char *m1[] = { "u1", "u2", "u3" }, *m2[] = { "u4" };
	struct record *a, *grp, *r;

	rm_db(path);
	state_open(&st, path, 0, &err);
	a = user("u1", "alice", "1");
	attrs_set(&a->attrs, "title", "boss");
	state_put(st, a, &err);
	attrs_del(&a->attrs, "title");
	free(a->name);
	a->name = strdup("alicia");
	is_int(state_put(st, a, &err), L2S_OK, "state_put replaces a user");
	grp = group("g1", "staff", m1, 3);
	state_put(st, grp, &err);
	record_set_members(grp, m2, 1);
	is_int(state_put(st, grp, &err), L2S_OK, "state_put replaces a group");
	load(st, &u, &g);
	r = hmap_get(&u, "u1");
	is_int(u.len, 1, "a replaced user is stored once");
	is_str(r ? r->name : NULL, "alicia", "the new name wins");
	ok(r != NULL && attrs_get(&r->attrs, "title") == NULL,
	    "a dropped attribute is gone");
	ok(members_are(hmap_get(&g, "g1"), "u4"),
	    "the new member list replaces the old one");
	state_close(st);
	record_free(a);
	record_free(grp);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_members_should_change_idempotently(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	const char *m[] = { "u1" }, *add[] = { "u3", "u2", "u3" };
	const char *rm[] = { "u1", "u9" };
	struct record *grp;

	rm_db(path);
	state_open(&st, path, 0, &err);
	grp = group("g1", "staff", m, 1);
	state_put(st, grp, &err);
	is_int(state_add_members(st, "g1", add, 3, &err), L2S_OK,
	    "state_add_members succeeds");
	is_int(state_add_members(st, "g1", add, 2, &err), L2S_OK,
	    "adding present members again succeeds");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "u1,u2,u3"),
	    "each added member is stored once");
	is_int(state_remove_members(st, "g1", rm, 2, &err), L2S_OK,
	    "state_remove_members succeeds, absent keys included");
	is_int(state_remove_members(st, "g1", rm, 2, &err), L2S_OK,
	    "removing again succeeds");
	is_int(state_add_members(st, "g1", NULL, 0, &err), L2S_OK,
	    "adding nothing succeeds");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "u2,u3"), "the removed member is gone");
	state_close(st);
	record_free(grp);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_del_and_clear_should_forget(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	const char *m[] = { "u1" };
	struct record *a, *grp, *grp2;
	char *v = NULL;

	rm_db(path);
	state_open(&st, path, 0, &err);
	a = user("u1", "alice", "1");
	grp = group("g1", "staff", m, 1);
	state_put(st, a, &err);
	state_put(st, grp, &err);
	is_int(state_del(st, REC_USER, "u1", &err), L2S_OK,
	    "state_del forgets a user");
	is_int(state_del(st, REC_USER, "nobody", &err), L2S_OK,
	    "state_del of an absent key succeeds");
	is_int(state_del(st, REC_GROUP, "u1", &err), L2S_OK,
	    "state_del of the wrong kind succeeds");
	load(st, &u, &g);
	ok(u.len == 0 && g.len == 1, "only the user is gone");
	is_int(state_del(st, REC_GROUP, "g1", &err), L2S_OK,
	    "state_del forgets a group");
	grp2 = group("g1", "staff", NULL, 0);
	state_put(st, grp2, &err);
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), ""),
	    "a forgotten group's members are gone too");

	state_put(st, a, &err);
	state_meta_set(st, "cookie", "abc", &err);
	is_int(state_clear(st, &err), L2S_OK, "state_clear succeeds");
	load(st, &u, &g);
	ok(u.len == 0 && g.len == 0, "state_clear forgets every object");
	state_meta_get(st, "cookie", &v, &err);
	ok(v == NULL, "state_clear forgets meta values");
	state_close(st);
	record_free(a);
	record_free(grp);
	record_free(grp2);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_meta_should_store_values(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	char *v = NULL;

	rm_db(path);
	state_open(&st, path, 0, &err);
	is_int(state_meta_get(st, "cookie", &v, &err), L2S_OK,
	    "state_meta_get of an unset name succeeds");
	ok(v == NULL, "and gives NULL");
	is_int(state_meta_set(st, "cookie", "rid=001,csn=x", &err), L2S_OK,
	    "state_meta_set stores a value");
	state_meta_set(st, "cookie", "rid=002", &err);
	state_meta_get(st, "cookie", &v, &err);
	is_str(v, "rid=002", "the last value set wins");
	free(v);
	is_int(state_meta_set(st, "cookie", NULL, &err), L2S_OK,
	    "state_meta_set with NULL unsets");
	state_meta_get(st, "cookie", &v, &err);
	ok(v == NULL, "an unset value reads as NULL");
	state_meta_set(st, "last_cycle", "1700000000", &err);
	state_close(st);
	state_open(&st, path, 0, &err);
	state_meta_get(st, "last_cycle", &v, &err);
	is_str(v, "1700000000", "meta values persist across a reopen");
	free(v);
	{
		char **names = NULL;
		size_t n = 0, i;

		state_meta_set(st, "pending:user:b", "1", &err);
		state_meta_set(st, "pending:group:a", "1", &err);
		state_meta_set(st, "pendingX", "1", &err);
		state_meta_set(st, "pend%:y", "1", &err);
		is_int(state_meta_names(st, "pending:", &names, &n, &err), L2S_OK,
		    "state_meta_names lists names by prefix");
		ok(n == 2 && strcmp(names[0], "pending:group:a") == 0 &&
		    strcmp(names[1], "pending:user:b") == 0,
		    "only the names with the prefix, sorted");
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		state_meta_names(st, "pend%", &names, &n, &err);
		ok(n == 1 && strcmp(names[0], "pend%:y") == 0,
		    "a '%%' in the prefix is a character, not a wildcard");
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	state_close(st);
}

static void
state_batch_should_commit_together(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL, *ro = NULL;
	const char *m[] = { "u1", "u2" };
	struct record *a, *b, *grp;

	rm_db(path);
	state_open(&st, path, 0, &err);
	a = user("u1", "alice", "1");
	b = user("u2", "bob", "2");
	grp = group("g1", "staff", m, 2);
	is_int(state_begin(st, &err), L2S_OK, "state_begin opens a batch");
	state_put(st, a, &err);
	is_int(state_begin(st, &err), L2S_OK, "batches nest");
	state_put(st, b, &err);
	state_put(st, grp, &err);
	is_int(state_commit(st, &err), L2S_OK, "the inner batch commits");
	state_open(&ro, path, 1, &err);
	load(ro, &u, &g);
	ok(u.len == 0 && g.len == 0, "another reader sees nothing before commit");
	is_int(state_commit(st, &err), L2S_OK, "the outer batch commits");
	load(ro, &u, &g);
	ok(u.len == 2 && g.len == 1, "another reader sees the batch after commit");
	state_close(ro);

	{
		const char *bad[] = { "u5", NULL };
		char want[512];

		state_begin(st, &err);
		state_remove_members(st, "g1", m, 1, &err);
		is_int(state_add_members(st, "g1", bad, 2, &err), L2S_EIO,
		    "a failing write inside a batch fails");
		snprintf(want, sizeof(want), "state file '%s': cannot add "
		    "members of group 'g1': a member key is missing", path);
		is_str(err.msg, want, "its message names file, write and cause");
		is_int(state_commit(st, &err), L2S_OK,
		    "the batch still commits");
		load(st, &u, &g);
		ok(members_are(hmap_get(&g, "g1"), "u2"),
		    "the failed write left nothing, the others stay");
		is_int(state_add_members(st, "g1", bad, 2, &err), L2S_EIO,
		    "a failing write outside a batch fails");
		load(st, &u, &g);
		ok(members_are(hmap_get(&g, "g1"), "u2"),
		    "and leaves nothing behind either");
	}

	state_begin(st, &err);
	state_del(st, REC_USER, "u1", &err);
	state_close(st);
	state_open(&st, path, 1, &err);
	load(st, &u, &g);
	ok(u.len == 1, "state_close commits a batch left open");
	state_close(st);
	record_free(a);
	record_free(b);
	record_free(grp);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_readonly_should_never_write(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct record *a;
	char missing[192], want[256], *v = NULL;
	struct stat sb, before;

	snprintf(missing, sizeof(missing), "%s/missing.db", dir);
	is_int(state_open(&st, missing, 1, &err), L2S_OK,
	    "a read-only open of a missing file succeeds");
	ok(stat(missing, &sb) != 0, "and creates no file");
	hmap_put(&u, "stale", record_new(REC_USER, "stale"), NULL);
	hmap_free(&u, record_free_v);
	is_int(state_load(st, &u, &g, &err), L2S_OK, "state_load succeeds");
	ok(u.len == 0 && g.len == 0, "and gives empty maps");
	is_int(state_meta_get(st, "cookie", &v, &err), L2S_OK,
	    "state_meta_get succeeds");
	ok(v == NULL, "and finds nothing");
	a = user("u1", "alice", "1");
	is_int(state_put(st, a, &err), L2S_EIO, "a write is refused");
	snprintf(want, sizeof(want), "state file '%s': cannot write: opened "
	    "read-only", missing);
	is_str(err.msg, want, "the refusal names the file");
	state_close(st);
	ok(stat(missing, &sb) != 0, "still no file after close");

	rm_db(path);
	state_open(&st, path, 0, &err);
	state_put(st, a, &err);
	state_close(st);
	stat(path, &before);
	is_int(state_open(&st, path, 1, &err), L2S_OK,
	    "a read-only open of an existing file succeeds");
	load(st, &u, &g);
	ok(u.len == 1 && hmap_get(&u, "u1") != NULL, "and loads it");
	hmap_put(&u, "stale", record_new(REC_USER, "stale"), NULL);
	is_int(state_load(st, &u, &g, &err), L2S_OK,
	    "state_load into a filled map succeeds");
	ok(u.len == 2 && hmap_get(&u, "stale") != NULL,
	    "it keeps other keys and replaces its own");
	is_int(state_meta_set(st, "x", "y", &err), L2S_EIO,
	    "a meta write through it is refused");
	like(err.msg, "cannot write: opened read-only",
	    "the refusal says the store is read-only");
	is_int(state_begin(st, &err), L2S_EIO, "a batch is refused");
	state_close(st);
	ok(stat(path, &sb) == 0 && sb.st_size == before.st_size &&
	    sb.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
	    "the file is left as it was");
	record_free(a);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static void
state_open_should_refuse_foreign_files(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	char want[512], p[192];
	sqlite3 *db = NULL;
	FILE *f;

	rm_db(path);
	state_open(&st, path, 0, &err);
	state_close(st);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE schema_version SET version = 7", NULL, NULL,
	    NULL);
	sqlite3_close(db);
	is_int(state_open(&st, path, 0, &err), L2S_EPARSE,
	    "a newer schema version is refused");
	ok(st == NULL, "and no handle is returned");
	snprintf(want, sizeof(want), "state file '%s' has schema version 7; "
	    "this ldap2scim reads up to %d: upgrade ldap2scim", path,
	    STATE_SCHEMA_VERSION);
	is_str(err.msg, want, "the refusal names the file and both versions");
	is_int(state_open(&st, path, 1, &err), L2S_EPARSE,
	    "a read-only open refuses it too");

	snprintf(p, sizeof(p), "%s/text.db", dir);
	f = fopen(p, "w");
	fputs("this is not a database, just some text that is long enough "
	    "to fill a header of one hundred bytes or so, and then some more "
	    "text to be sure\n", f);
	fclose(f);
	is_int(state_open(&st, p, 0, &err), L2S_EPARSE,
	    "a file that is not SQLite is refused");
	snprintf(want, sizeof(want), "state file '%s': cannot read: file is "
	    "not a database", p);
	is_str(err.msg, want, "the refusal names the file");
	is_int(state_open(&st, p, 1, &err), L2S_EPARSE,
	    "a read-only open refuses it too");
	unlink(p);

	snprintf(p, sizeof(p), "%s/other.db", dir);
	sqlite3_open(p, &db);
	sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(state_open(&st, p, 0, &err), L2S_EPARSE,
	    "an SQLite file of another program is refused");
	snprintf(want, sizeof(want), "state file '%s': not an ldap2scim state "
	    "file (no schema_version table)", p);
	is_str(err.msg, want, "the refusal names the file and the reason");
	rm_db(p);

	sqlite3_open(p, &db);
	sqlite3_exec(db, "CREATE TABLE schema_version(version INTEGER);"
	    "INSERT INTO schema_version VALUES (1)", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(state_open(&st, p, 1, &err), L2S_EPARSE,
	    "a file missing the other tables is refused");
	snprintf(want, sizeof(want), "state file '%s': unexpected layout: ", p);
	like(err.msg, want, "the refusal names the file");
	like(err.msg, "no such table", "and the missing table");
	rm_db(p);

	snprintf(p, sizeof(p), "%s/nodir/state.db", dir);
	is_int(state_open(&st, p, 0, &err), L2S_EIO,
	    "a missing directory is an error");
	snprintf(want, sizeof(want), "cannot create state file '%s': No such "
	    "file or directory", p);
	is_str(err.msg, want, "the error names the file");
	ok(access(p, F_OK) != 0, "and nothing is created");
}

/* A file written by the first release (schema version 1, one row per
 * membership) is read as it is read-only, and upgraded on a writable open. */
/* A new version 1 file at path (objects, members, meta), then rows (SQL). */
static void
v1_file(const char *rows)
{
	sqlite3 *db = NULL;

	rm_db(path);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (1);"
	    "CREATE TABLE objects(kind TEXT NOT NULL, key TEXT NOT NULL, "
	    "scim_id TEXT, name TEXT, dn TEXT, attrs TEXT, removed INTEGER NOT "
	    "NULL DEFAULT 0, last_seen INTEGER, PRIMARY KEY(kind, key));"
	    "CREATE TABLE members(group_key TEXT NOT NULL, member_key TEXT NOT "
	    "NULL, PRIMARY KEY(group_key, member_key)) WITHOUT ROWID;"
	    "CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT);",
	    NULL, NULL, NULL);
	sqlite3_exec(db, rows, NULL, NULL, NULL);
	sqlite3_close(db);
}

static void
state_v1_should_upgrade(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	sqlite3 *db = NULL;
	int n = -1;

	v1_file("INSERT INTO objects(kind, key, scim_id, name) VALUES "
	    "('group', 'g1', 's1', 'staff'), ('group', 'g2', 's2', 'none');"
	    "INSERT INTO members VALUES ('g1', 'u2'), ('g1', 'u1'), ('g1', 'u3'),"
	    " ('gone', 'u1');");

	is_int(state_open(&st, path, 1, &err), L2S_OK,
	    "a version 1 file opens read-only");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "u1,u2,u3"),
	    "and its members load from the old table");
	state_close(st);

	is_int(state_open(&st, path, 0, &err), L2S_OK,
	    "a writable open upgrades it");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "u1,u2,u3"),
	    "the members are the same after the upgrade");
	ok(members_are(hmap_get(&g, "g2"), ""), "an empty group stays empty");
	is_int(state_add_members(st, "g1", (const char *[]){ "u0", "u2" }, 2,
	    &err), L2S_OK, "members are added to the new layout");
	is_int(state_remove_members(st, "g1", (const char *[]){ "u3" }, 1, &err),
	    L2S_OK, "and removed");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "u0,u1,u2"),
	    "kept sorted and unique");
	state_close(st);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "SELECT version FROM schema_version", one_int, &n, NULL);
	is_int(n, 3, "the file says version 3");
	n = -1;
	sqlite3_exec(db, "SELECT count(*) FROM sqlite_master WHERE name = "
	    "'members'", one_int, &n, NULL);
	is_int(n, 0, "the old table is gone");
	sqlite3_close(db);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

/* A version 2 file as ldap2scim 0.1 wrote it: attributes as JSON text,
 * members as text keys. */
static void
make_v2_file(void)
{
	static const char members[] = "11111111-2222-4333-8444-555555555555\0"
	    "u-plain\0";
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	rm_db(path);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (2);"
	    "CREATE TABLE objects(kind TEXT NOT NULL, key TEXT NOT NULL, "
	    "scim_id TEXT, name TEXT, dn TEXT, attrs TEXT, removed INTEGER NOT "
	    "NULL DEFAULT 0, last_seen INTEGER, PRIMARY KEY(kind, key));"
	    "CREATE TABLE group_members(group_key TEXT PRIMARY KEY, members "
	    "BLOB NOT NULL) WITHOUT ROWID;"
	    "CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT);"
	    "INSERT INTO objects(kind, key, scim_id, name, attrs) VALUES "
	    "('user', 'u1', 's1', 'zoe', '{\"active\":\"true\",\"custom:x\":"
	    "\"a\\\"b\\\\c\\u00e9\",\"userName\":\"zo\\u00eb\"}'),"
	    "('group', 'g1', 's2', 'staff', '{\"displayName\":\"staff\"}');",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO group_members VALUES ('g1', ?1)",
	    -1, &s, NULL);
	sqlite3_bind_blob(s, 1, members, sizeof(members) - 1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static int
v2_loaded_right(struct hmap *u, struct hmap *g)
{
	const struct record *r = hmap_get(u, "u1");

	return r != NULL && r->attrs.n == 3 &&
	    strcmp(attrs_get(&r->attrs, "custom:x"), "a\"b\\c\xc3\xa9") == 0 &&
	    strcmp(attrs_get(&r->attrs, "userName"), "zo\xc3\xab") == 0 &&
	    strcmp(attrs_get(&r->attrs, "active"), "true") == 0 &&
	    members_are(hmap_get(g, "g1"),
	    "11111111-2222-4333-8444-555555555555,u-plain");
}

static void
state_v2_should_upgrade(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	sqlite3 *db = NULL;
	int n = -1;

	make_v2_file();
	is_int(state_open(&st, path, 1, &err), L2S_OK,
	    "a version 2 file opens read-only");
	load(st, &u, &g);
	ok(v2_loaded_right(&u, &g), "its JSON attributes and text members load");
	state_close(st);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "SELECT version FROM schema_version", one_int, &n, NULL);
	is_int(n, 2, "a read-only open leaves it at version 2");
	sqlite3_close(db);

	is_int(state_open(&st, path, 0, &err), L2S_OK,
	    "a writable open upgrades it");
	load(st, &u, &g);
	ok(v2_loaded_right(&u, &g), "the same objects load after the upgrade");
	is_int(state_add_members(st, "g1", (const char *[]){
	    "00000000-0000-4000-8000-00000000000a" }, 1, &err), L2S_OK,
	    "a UUID member is added to an old member list");
	load(st, &u, &g);
	ok(members_are(hmap_get(&g, "g1"), "00000000-0000-4000-8000-"
	    "00000000000a,11111111-2222-4333-8444-555555555555,u-plain"),
	    "old and new keys read back in order");
	state_close(st);
	sqlite3_open(path, &db);
	n = -1;
	sqlite3_exec(db, "SELECT version FROM schema_version", one_int, &n, NULL);
	is_int(n, 3, "the file says version 3");
	n = -1;
	sqlite3_exec(db, "SELECT count(*) FROM objects WHERE attrs IS NULL AND "
	    "vals IS NOT NULL", one_int, &n, NULL);
	is_int(n, 2, "every object's attributes moved to the compact column");
	n = -1;
	sqlite3_exec(db, "SELECT length(members) FROM group_members", one_int,
	    &n, NULL);
	is_int(n, 17 + 17 + 8, "UUID members take 17 bytes, others their text");
	sqlite3_close(db);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

static void
state_should_keep_any_path_and_key(void)
{
	static const char *const keys[] = { "A0000000-0000-4000-8000-000000000000",
	    "a0000000-0000-4000-8000-00000000000", "a0000000-0000-4000-8000-"
	    "0000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff", "x",
	    "\xc3\xa9t\xc3\xa9", "a0000000-0000-4000-8000-00000000000g",
	    "a0000000x0000-4000-8000-000000000000" };
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct record *r = user("u1", "ann", "s1"), *grp, *got;

	attrs_set(&r->attrs, "urn:example:custom:1.0:User:shoeSize", "44");
	attrs_set(&r->attrs, "name.givenName", "");
	attrs_set(&r->attrs, "title", "line\none\ttab \"q\" \\ \x01");
	grp = group("g1", "mixed", keys, sizeof(keys) / sizeof(keys[0]));
	rm_db(path);
	state_open(&st, path, 0, &err);
	is_int(state_put(st, r, &err), L2S_OK, "a user with unusual paths saves");
	is_int(state_put(st, grp, &err), L2S_OK,
	    "a group with keys that are nearly UUIDs saves");
	load(st, &u, &g);
	got = hmap_get(&u, "u1");
	ok(got != NULL && attrs_equal(&got->attrs, &r->attrs),
	    "every path and value, empty or odd, reads back the same");
	got = hmap_get(&g, "g1");
	ok(got != NULL && got->nmembers == grp->nmembers &&
	    memcmp(got->members[0], grp->members[0], 1) == 0,
	    "every member reads back");
	if (got != NULL && got->nmembers == grp->nmembers) {
		size_t i;
		int same = 1;

		for (i = 0; i < got->nmembers; i++)
			same &= strcmp(got->members[i], grp->members[i]) == 0;
		ok(same, "each key exactly, in order");
	} else {
		ok(0, "each key exactly, in order");
	}
	state_close(st);
	record_free(r);
	record_free(grp);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

static void
state_new_file_should_be_private(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct stat sb;
	mode_t old;

	rm_db(path);
	old = umask(0);
	state_open(&st, path, 0, &err);
	umask(old);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "a new state file has mode 0600 even with umask 0");
	state_close(st);
}

static int
page_size(const char *p)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int size = -1;

	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		size = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return size;
}

/* New files get 16 KiB pages; a file made with other pages keeps them
 * and works as before. */
static void
state_page_size_should_be_set_once(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct record *a = user("k-a", "alice", "id-a");
	sqlite3 *db = NULL;

	rm_db(path);
	state_open(&st, path, 0, &err);
	state_close(st);
	is_int(page_size(path), 16384, "a new state file has 16 KiB pages");

	/* The same file rewritten with 4 KiB pages, as older releases made. */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA page_size = "
	    "4096; VACUUM", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(page_size(path), 4096, "(the file now has 4 KiB pages)");
	is_int(state_open(&st, path, 0, &err), L2S_OK, "it opens");
	is_int(state_put(st, a, &err), L2S_OK, "takes a user");
	state_close(st);
	state_open(&st, path, 1, &err);
	is_int(state_load(st, &u, &g, &err), L2S_OK, "and loads");
	ok(u.len == 1 && hmap_get(&u, "k-a") != NULL, "with that user");
	state_close(st);
	is_int(page_size(path), 4096, "and keeps its 4 KiB pages");
	record_free(a);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
state_should_be_quick_with_many_users(void)
{
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct record *r = NULL, *grp = NULL, *got;
	char **keys = NULL, name[32];
	const char *env = getenv("L2S_STATE_USERS");
	const char *pre = getenv("LD_PRELOAD");
	int i, j, n = 100000, ngroups, failed = 0;
	size_t nmem = 0;
	double t0, t1, t2;

	/* Under valgrind (its preload is visible) a smaller run suffices. */
	if (env != NULL && atoi(env) > 0)
		n = atoi(env);
	else if (pre != NULL && strstr(pre, "vgpreload") != NULL)
		n = 2000;
	ngroups = n / 100 > 0 ? n / 100 : 1;	/* 700 members each */
	keys = calloc(n, sizeof(*keys));
	for (i = 0; i < n; i++) {
		keys[i] = malloc(48);
		snprintf(keys[i], 48, "%08x-0000-4000-8000-%012d", i, i);
	}
	rm_db(path);
	state_open(&st, path, 0, &err);
	r = user("x", "x", "x");
	attrs_set(&r->attrs, "emails[type eq \"work\"].value", "x@example.org");
	attrs_set(&r->attrs, "name.familyName", "Example");
	grp = group("x", "x", NULL, 0);
	t0 = now();
	state_begin(st, &err);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		r->key = record_pooled(keys[i]);
		attrs_set(&r->attrs, "userName", name);
		if (state_put(st, r, &err) != L2S_OK)
			failed++;
	}
	for (i = 0; i < ngroups; i++) {
		const char *m[700];

		for (j = 0; j < 700; j++)
			m[j] = keys[(i * 7 + j * 131) % n];
		snprintf(name, sizeof(name), "group%d", i);
		grp->key = record_pooled(name);
		record_set_members(grp, m, 700);
		if (state_put(st, grp, &err) != L2S_OK)
			failed++;
	}
	if (state_commit(st, &err) != L2S_OK)
		failed++;
	t1 = now();
	load(st, &u, &g);
	t2 = now();
	for (i = 0; i < ngroups; i++) {
		snprintf(name, sizeof(name), "group%d", i);
		got = hmap_get(&g, name);
		nmem += got != NULL ? got->nmembers : 0;
	}
	ok(failed == 0 && u.len == (size_t)n && g.len == (size_t)ngroups,
	    "%d users and %d groups are stored and load", n, ngroups);
	printf("# state_put of %d users and %d groups (%zu member rows) in one "
	    "batch: %.2f s, state_load: %.2f s\n", n, ngroups, nmem, t1 - t0,
	    t2 - t1);
	state_close(st);
	record_free(r);
	record_free(grp);
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
}

/*
 * The load in steps (what a full cycle does while the directory answers):
 * the same records as state_load(), a few rows a step; writes refused
 * until the end, reads allowed; an abort leaves the store as it was and
 * writable; a damaged row stops the steps and state_load_end() names it.
 */
/*
 * A step's rows count a long member list as many: a group of 1,000
 * members (some 14 KB) ends the step it is read in, so that a step stays
 * short; the load is the same.
 */
static void
state_load_steps_should_weigh_long_member_lists(void)
{
	static char keys[1000][16];
	const char *m[1000];
	const char *one[] = { "member-0001" };
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct state_loader *l = NULL;
	struct record *r;
	size_t i;
	int more1, more2;

	rm_db(path);
	state_open(&st, path, 0, &err);
	for (i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "member-%04zu", i);
		m[i] = keys[i];
	}
	r = group("a-big", "big", m, 1000);
	state_put(st, r, &err);
	record_free(r);
	r = group("b-small", "small", one, 1);
	state_put(st, r, &err);
	record_free(r);
	r = group("c-small", "small2", one, 1);
	state_put(st, r, &err);
	record_free(r);

	state_load_begin(st, &l, &err);
	/* 3 object rows, then the big group's members: over 40 rows' worth */
	more1 = state_load_step(l, 40);
	more2 = state_load_step(l, 40);
	ok(more1 == 1 && more2 == 0, "a step of 40 rows ends after the "
	    "1,000 members; the next reads the two short lists (%d, %d)",
	    more1, more2);
	is_int(state_load_end(l, &u, &g, &err), L2S_OK, "the load ends");
	r = hmap_get(&g, "a-big");
	ok(r != NULL && r->nmembers == 1000 && members_are(hmap_get(&g,
	    "c-small"), "member-0001"), "with every member");
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	state_close(st);
}

static void
state_load_in_steps_should_match_the_whole(void)
{
	static const char *const m[] = { "u0", "u3", "u5" };
	struct hmap u = HMAP_INIT, g = HMAP_INIT, u2 = HMAP_INIT, g2 = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct state_loader *l = NULL;
	struct record *r;
	size_t i, steps = 0, same = 0;
	char k[16], name[16];
	sqlite3 *db = NULL;
	char *v = NULL;

	rm_db(path);
	state_open(&st, path, 0, &err);
	for (i = 0; i < 40; i++) {
		snprintf(k, sizeof(k), "u%zu", i);
		snprintf(name, sizeof(name), "user%zu", i);
		r = user(k, name, "id");
		state_put(st, r, &err);
		record_free(r);
	}
	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "g%zu", i);
		r = group(k, k, m + i, 3 - i);
		state_put(st, r, &err);
		record_free(r);
	}
	load(st, &u, &g);

	is_int(state_load_begin(st, &l, &err), L2S_OK, "a load in steps begins");
	{
		size_t eu = 0, eg = 0;

		state_load_expect(l, &eu, &eg);
		ok(eu == 40 && eg == 3, "expecting 40 users and 3 groups "
		    "(%zu, %zu)", eu, eg);
	}
	while (state_load_step(l, 7))
		steps++;
	ok(steps >= 43 / 7, "43 rows, 7 a step: %zu steps with more to come",
	    steps);
	r = user("u99", "late", "id");
	is_int(state_put(st, r, &err), L2S_EIO, "a write meanwhile is refused");
	like(err.msg, "cannot write while it is being loaded", "saying why");
	is_int(state_begin(st, &err), L2S_EIO, "so is a batch");
	is_int(state_meta_get(st, "nothing", &v, &err), L2S_OK,
	    "a read works");
	free(v);
	is_int(state_load_end(l, &u2, &g2, &err), L2S_OK, "the load ends");
	for (i = 0; i < 40; i++) {
		const struct record *a, *b;

		snprintf(k, sizeof(k), "u%zu", i);
		a = hmap_get(&u, k);
		b = hmap_get(&u2, k);
		same += a != NULL && b != NULL && a->key == b->key &&
		    attrs_equal(&a->attrs, &b->attrs) &&
		    strcmp(a->scim_id, b->scim_id) == 0 &&
		    strcmp(a->dn, b->dn) == 0;
	}
	ok(u2.len == 40 && same == 40, "the same 40 users as state_load()");
	ok(g2.len == 3 && members_are(hmap_get(&g2, "g0"), "u0,u3,u5") &&
	    members_are(hmap_get(&g2, "g2"), "u5"),
	    "and the same groups with their members");
	is_int(state_put(st, r, &err), L2S_OK, "after the end, writes work");
	record_free(r);
	hmap_free(&u2, record_free_v);
	hmap_free(&g2, record_free_v);

	/* an abort half way */
	is_int(state_load_begin(st, &l, &err), L2S_OK, "another load begins");
	is_int(state_load_step(l, 5), 1, "five rows, more to come");
	state_load_abort(l);
	r = user("u98", "later", "id");
	is_int(state_put(st, r, &err), L2S_OK, "after an abort, writes work");
	record_free(r);
	load(st, &u2, &g2);
	ok(u2.len == 42 && g2.len == 3, "and everything is still there "
	    "(%zu users)", u2.len);
	hmap_free(&u2, record_free_v);
	hmap_free(&g2, record_free_v);
	state_close(st);

	/* a damaged member blob, met in a step */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE group_members SET members = X'ff0102' WHERE "
	    "group_key = 'g1'", NULL, NULL, NULL);
	sqlite3_close(db);
	st = NULL;
	state_open(&st, path, 1, &err);
	state_load_begin(st, &l, &err);
	steps = 0;
	while (state_load_step(l, 1))
		steps++;
	/* 42 users, 3 groups, then group_members in key order: g0, g1 */
	ok(steps == 46, "steps stop at the damaged row, before g2's (%zu "
	    "steps)", steps);
	is_int(state_load_end(l, &u2, &g2, &err), L2S_EPARSE,
	    "state_load_end() reports it");
	like(err.msg, "the members of group 'g1' are damaged", "naming the "
	    "group");
	ok(u2.len == 0 && g2.len == 0, "and gives nothing");
	state_close(st);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

/* A version 1 file whose member rows come out of order at a group's end
 * (text 'a', then the blob X'6100', which reads as text 'a' too): the load
 * fails naming the group, and frees what it held once.  Regression: the
 * group's name was freed twice (review of the stepwise load; older). */
static void
state_v1_bad_members_should_fail_cleanly(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;

	v1_file("INSERT INTO objects(kind, key, scim_id, name) VALUES "
	    "('group', 'g1', 's1', 'one'), ('group', 'g2', 's2', 'two');"
	    "INSERT INTO members VALUES ('g1', 'a'), ('g1', X'6100'),"
	    " ('g2', 'b');");
	is_int(state_open(&st, path, 1, &err), L2S_OK, "a version 1 file with "
	    "g1's members out of order opens read-only");
	is_int(state_load(st, &u, &g, &err), L2S_EPARSE, "its load fails");
	like(err.msg, "members of group 'g1' are out of order", "naming g1");
	ok(u.len == 0 && g.len == 0, "and gives nothing (no crash: the name "
	    "is freed once)");
	state_close(st);
	rm_db(path);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "%s/l2s-state-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);

	state_should_round_trip_users_and_groups();
	state_put_should_replace();
	state_members_should_change_idempotently();
	state_del_and_clear_should_forget();
	state_meta_should_store_values();
	state_batch_should_commit_together();
	state_readonly_should_never_write();
	state_open_should_refuse_foreign_files();
	state_v1_should_upgrade();
	state_v2_should_upgrade();
	state_v1_bad_members_should_fail_cleanly();
	state_should_keep_any_path_and_key();
	state_new_file_should_be_private();
	state_page_size_should_be_set_once();
	state_should_be_quick_with_many_users();
	state_load_in_steps_should_match_the_whole();
	state_load_steps_should_weigh_long_member_lists();

	rm_db(path);
	rmdir(dir);
	return tap_done();
}
