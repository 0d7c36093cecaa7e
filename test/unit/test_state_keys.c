/*
 * test_state_keys.c - keys and paths the state store must give back as it
 * took them: member keys that are text beginning with a control byte
 * (never taken for packed UUIDs), in version 3 and in version 2 files,
 * and the empty attribute path in the compact form (regression tests from
 * a review of schema version 3); packed member keys loaded by their bytes,
 * shared with the users' keys, and member blobs damaged or out of order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "state.h"
#include "tap.h"

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

/* Save one group with these member keys, load the store again; the loaded
 * group (caller frees g), or NULL with err set. */
static const struct record *
round_trip(const char *const *keys, size_t n, struct hmap *u, struct hmap *g,
    struct err *err, int *load_rc)
{
	struct state *st = NULL;
	struct record *r = record_new(REC_GROUP, "g1");

	r->name = strdup("staff");
	r->scim_id = strdup("gid");
	attrs_set(&r->attrs, "displayName", "staff");
	record_set_members(r, keys, n);
	rm_db(path);
	state_open(&st, path, 0, err);
	is_int(state_put(st, r, err), L2S_OK, "the group saves");
	state_close(st);
	record_free(r);
	state_open(&st, path, 0, err);
	*load_rc = state_load(st, u, g, err);
	state_close(st);
	return hmap_get(g, "g1");
}

static void
member_key_starting_with_byte_1_should_read_back(void)
{
	/* A users.key value (uid, employeeNumber...) that begins with U+0001:
	 * valid UTF-8, accepted by source_key_text(). */
	static const char *const longkey[] = { "\x01" "ABCDEFGHIJKLMNOPzz" };
	static const char *const shortkey[] = { "\x01" "short" };
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	const struct record *r;
	int rc;

	r = round_trip(longkey, 1, &u, &g, &err, &rc);
	is_int(rc, L2S_OK, "a group whose member key begins with byte 1 loads");
	ok(r != NULL && r->nmembers == 1,
	    "it still has its one member (got %zu)", r ? r->nmembers : 0);
	is_str(r != NULL && r->nmembers > 0 ? r->members[0] : NULL,
	    "\x01" "ABCDEFGHIJKLMNOPzz", "the key reads back as it was");
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);

	err = (struct err)ERR_INIT;
	r = round_trip(shortkey, 1, &u, &g, &err, &rc);
	is_int(rc, L2S_OK, "a short key beginning with byte 1 does not make "
	    "the whole store unreadable");
	is_str(rc == L2S_OK ? NULL : err.msg, NULL, "no load error");
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

static void
empty_path_should_read_back(void)
{
	struct attrs a = ATTRS_INIT, b = ATTRS_INIT;
	struct buf blob = BUF_INIT;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct record *r = record_new(REC_USER, "u1");

	attrs_set(&a, "", "x");
	attrs_to_blob(&a, &blob);
	is_int(attrs_from_blob(&b, blob.s, blob.len), 0,
	    "attrs_from_blob() reads what attrs_to_blob() wrote for path ''");
	r->name = strdup("ann");
	attrs_set(&r->attrs, "", "x");
	rm_db(path);
	state_open(&st, path, 0, &err);
	is_int(state_put(st, r, &err), L2S_OK, "a user with path '' saves");
	is_int(state_load(st, &u, &g, &err), L2S_OK,
	    "and the store still loads afterwards");
	state_close(st);
	record_free(r);
	attrs_free(&a);
	attrs_free(&b);
	buf_free(&blob);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

/* A version 2 file (as ldap2scim 0.1 wrote it) with attributes as JSON
 * and text member keys; bad_json puts unreadable attributes on a second
 * user, so that an upgrade fails half way. */
static void
make_v2(const char *members, size_t len, int bad_json)
{
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
	    "('user', 'u1', 's1', 'zoe', '{\"userName\":\"zoe\"}'),"
	    "('group', 'g1', 's2', 'staff', '{\"displayName\":\"staff\"}');",
	    NULL, NULL, NULL);
	if (bad_json)
		sqlite3_exec(db, "INSERT INTO objects(kind, key, attrs) VALUES "
		    "('user', 'u2', '{\"userName\":')", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO group_members VALUES ('g1', ?1)",
	    -1, &s, NULL);
	sqlite3_bind_blob(s, 1, members, (int)len, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
v2_member_key_starting_with_byte_1_should_still_load(void)
{
	/* Valid in version 2 (each key, a NUL): ldap2scim 0.1 loads it. */
	static const char members[] = "\x01" "E1\0u-plain";
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;

	make_v2(members, sizeof(members), 0);
	is_int(state_open(&st, path, 1, &err), L2S_OK, "a version 2 file opens "
	    "read-only");
	is_int(state_load(st, &u, &g, &err), L2S_OK, "and its group whose member "
	    "key begins with byte 1 loads as the old version loaded it");
	is_str(err.msg, "", "no error");
	state_close(st);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

static int
one_int(void *arg, int n, char **v, char **names)
{
	(void)n;
	(void)names;
	*(int *)arg = v[0] != NULL ? atoi(v[0]) : -1;
	return 0;
}

/* Not a finding: pins that a failed upgrade leaves version 2 whole. */
static void
failed_upgrade_should_leave_version_2(void)
{
	static const char members[] = "u-plain";
	struct err err = ERR_INIT;
	struct state *st = NULL;
	sqlite3 *db = NULL;
	int n = -1;

	make_v2(members, sizeof(members), 1);
	is_int(state_open(&st, path, 0, &err), L2S_EPARSE,
	    "an upgrade that meets unreadable attributes fails");
	like(err.msg, "user 'u2' has unreadable attributes", "and says which");
	sqlite3_open(path, &db);
	sqlite3_exec(db, "SELECT version FROM schema_version", one_int, &n, NULL);
	is_int(n, 2, "the file still says version 2");
	n = -1;
	sqlite3_exec(db, "SELECT count(*) FROM pragma_table_info('objects') "
	    "WHERE name = 'vals'", one_int, &n, NULL);
	is_int(n, 0, "and has no column vals");
	n = -1;
	sqlite3_exec(db, "SELECT count(*) FROM objects WHERE attrs IS NOT NULL",
	    one_int, &n, NULL);
	is_int(n, 3, "and every object keeps its JSON");
	sqlite3_close(db);
	rm_db(path);
}

/* Keys that look like UUIDs but are not quite one (upper case, a
 * non-hex digit, a dash out of place, one character short or long) read
 * back as they were; real lower-case UUIDs are packed in 17 bytes. */
static void
near_uuid_keys_should_read_back(void)
{
	static const char *const keys[] = {
		"0123abcd-4567-89ef-0123-456789abcdef",	/* packed */
		"0123abcd-4567-89ef-0123-456789abcdeF",	/* upper case */
		"0123abcd-4567-89ef-0123-456789abcdefa",	/* 37 */
		"0123abcd-4567-89ef-0123-456789abcde",	/* 35 */
		"0123abcd-4567-89ef-0123-456789abcdeg",	/* not hex */
		"0123abcd-4567-89ef-0123-45678-abcdef",	/* dash in a digit */
		"0123abcd04567-89ef-0123-456789abcdef",	/* digit for a dash */
		"ffffffff-ffff-ffff-ffff-ffffffffffff",	/* packed */
		"g",
	};
	size_t n = sizeof(keys) / sizeof(keys[0]), i, same = 0, text = 0;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	const struct record *r;
	sqlite3 *db = NULL;
	int rc, len = 0;

	r = round_trip(keys, n, &u, &g, &err, &rc);
	is_int(rc, L2S_OK, "a group with near-UUID member keys loads");
	ok(r != NULL && r->nmembers == n, "with all %zu members (got %zu)",
	    n, r ? r->nmembers : 0);
	for (i = 0; r != NULL && i < r->nmembers && i < n; i++) {
		size_t j;

		for (j = 0; j < n; j++)
			same += strcmp(r->members[i], keys[j]) == 0;
	}
	is_int((int)same, (int)n, "every key reads back exactly");
	ok(r != NULL && r->key == record_pooled("g1") &&
	    r->members[0] == record_pooled(r->members[0]),
	    "the loaded group's key and member keys are the pool's");
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	/* Two packed (17 bytes each), the rest text with their NULs. */
	for (i = 0; i < n; i++)
		if (i != 0 && i != 7)
			text += strlen(keys[i]) + 1;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "SELECT length(members) FROM group_members",
	    one_int, &len, NULL);
	is_int(len, (int)(2 * 17 + text), "two keys are packed, the rest "
	    "kept as text");
	sqlite3_close(db);
	rm_db(path);
}

/* Many groups sharing many UUID members: each member comes back as the
 * pool's key (the one the users hold), in order, in every group. */
static void
shared_uuid_members_should_load_as_the_pools_keys(void)
{
	enum { NU = 3000, NG = 7 };
	static char keys[NU][37];
	const char *m[NU];
	struct hmap u = HMAP_INIT, g = HMAP_INIT;
	struct err err = ERR_INIT;
	struct state *st = NULL;
	size_t i, j, n, bad = 0, total = 0;
	char gk[8];

	rm_db(path);
	is_int(state_open(&st, path, 0, &err), L2S_OK, "a new store opens");
	state_begin(st, &err);
	for (i = 0; i < NU; i++) {
		struct record *r;

		/* the first byte varies slowest: keys sorted as i */
		snprintf(keys[i], sizeof(keys[i]),
		    "%08zx-1234-4abc-8def-%012zx", i * 0x10001, i ^ 0x5a5a);
		r = record_new(REC_USER, keys[i]);
		r->scim_id = strdup("id");
		state_put(st, r, &err);
		record_free(r);
	}
	for (j = 0; j < NG; j++) {
		struct record *r;

		snprintf(gk, sizeof(gk), "g%zu", j);
		r = record_new(REC_GROUP, gk);
		r->scim_id = strdup("gid");
		for (i = 0, n = 0; i < NU; i++)
			if ((i + j) % (j + 1) == 0)
				m[n++] = keys[i];
		record_set_members(r, m, n);
		is_int(state_put(st, r, &err), L2S_OK, "group %s (%zu members) "
		    "saves", gk, n);
		record_free(r);
	}
	is_int(state_commit(st, &err), L2S_OK, "and commits");
	state_close(st);
	st = NULL;
	state_open(&st, path, 1, &err);
	is_int(state_load(st, &u, &g, &err), L2S_OK, "the store loads");
	state_close(st);
	for (j = 0; j < NG; j++) {
		const struct record *r;

		snprintf(gk, sizeof(gk), "g%zu", j);
		r = hmap_get(&g, gk);
		if (r == NULL) {
			bad++;
			continue;
		}
		for (i = 0, n = 0; i < NU; i++) {
			if ((i + j) % (j + 1) != 0)
				continue;
			if (n >= r->nmembers || strcmp(r->members[n],
			    keys[i]) != 0 || r->members[n] !=
			    ((const struct record *)hmap_get(&u,
			    keys[i]))->key)
				bad++;
			n++;
		}
		bad += n != r->nmembers;
		total += r->nmembers;
	}
	is_int((int)bad, 0, "every group has its %zu members, in order, each "
	    "the very key its user holds", total);
	hmap_free(&u, record_free_v);
	hmap_free(&g, record_free_v);
	rm_db(path);
}

/* A member blob written by something else: cut short, out of order, a
 * key twice.  Each is refused with the group named, never half loaded. */
static void
damaged_member_blob_should_be_refused(void)
{
	static const struct {
		const char *hex, *what;
	} cases[] = {
		/* one packed UUID cut to 10 of its 16 bytes */
		{ "ff0123abcd456789ef0123", "a packed key cut short" },
		/* ...02 then ...01 */
		{ "ff0123abcd456789ef0123456789abcd02"
		  "ff0123abcd456789ef0123456789abcd01", "packed keys out of order" },
		{ "ff0123abcd456789ef0123456789abcd01"
		  "ff0123abcd456789ef0123456789abcd01", "a packed key twice" },
		/* "zz" then a packed key: 'z' sorts after every hex digit */
		{ "7a7a00ff0123abcd456789ef0123456789abcd01",
		  "a text key before a packed one it sorts after" },
		{ "7a7a", "a text key without its NUL" },
	};
	static const char *const keys[] = {
		"0123abcd-4567-89ef-0123-456789abcd01",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hmap u = HMAP_INIT, g = HMAP_INIT;
		struct err err = ERR_INIT;
		struct state *st = NULL;
		const struct record *r;
		char sql[256];
		sqlite3 *db = NULL;
		int rc;

		r = round_trip(keys, 1, &u, &g, &err, &rc);
		ok(rc == L2S_OK && r != NULL && r->nmembers == 1,
		    "(%s) the group loads before", cases[i].what);
		hmap_free(&u, record_free_v);
		hmap_free(&g, record_free_v);
		u = (struct hmap)HMAP_INIT;
		g = (struct hmap)HMAP_INIT;
		snprintf(sql, sizeof(sql), "UPDATE group_members SET members = "
		    "X'%s'", cases[i].hex);
		sqlite3_open(path, &db);
		is_int(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK,
		    "(%s) written in", cases[i].what);
		sqlite3_close(db);
		state_open(&st, path, 1, &err);
		is_int(state_load(st, &u, &g, &err), L2S_EPARSE,
		    "(%s) refused on load", cases[i].what);
		like(err.msg, "group 'g1' are damaged or out of order",
		    "(%s) the error names the group", cases[i].what);
		is_int((int)g.len, 0, "(%s) and no group is given back",
		    cases[i].what);
		state_close(st);
		hmap_free(&u, record_free_v);
		hmap_free(&g, record_free_v);
	}
	rm_db(path);
}

/* state_open() came before any other use of SQLite in this program: it
 * counts no memory (a lock per allocation saved), even with a store open. */
static void
no_memory_statistics(void)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap u = HMAP_INIT, g = HMAP_INIT;

	rm_db(path);
	is_int(state_open(&st, path, 0, &err), L2S_OK, "a store opens");
	state_load(st, &u, &g, &err);
	is_int((int)sqlite3_memory_used(), 0, "SQLite keeps no statistics "
	    "of its memory");
	state_close(st);
	rm_db(path);
}

int
main(void)
{
	snprintf(path, sizeof(path), "/tmp/l2s-review5-%ld.db", (long)getpid());
	member_key_starting_with_byte_1_should_read_back();
	no_memory_statistics();
	empty_path_should_read_back();
	v2_member_key_starting_with_byte_1_should_still_load();
	failed_upgrade_should_leave_version_2();
	near_uuid_keys_should_read_back();
	shared_uuid_members_should_load_as_the_pools_keys();
	damaged_member_blob_should_be_refused();
	return tap_done();
}
