/*
 * state.c - the state store in one SQLite file
 *
 * Tables: schema_version (one row), objects (kind 'user' or 'group', key,
 * scim_id, name, dn, attrs, removed, last_seen, vals), group_members
 * (group_key, members: one blob per group), meta (name, value) and
 * snapshot.  Version 3 keeps attributes in vals, in the compact form of
 * attrs_to_blob(), and packs UUID member keys in 16 bytes; versions 1 and
 * 2 kept the JSON of attrs_to_json() in attrs (version 1 also one row per
 * membership, in table members).  A writable open upgrades an older file
 * in one transaction; a read-only one reads it as it is.  Writes reuse
 * prepared statements and buffers; a user's put is one statement, a
 * group's a savepoint around two.
 *
 * The file runs in WAL mode with synchronous=NORMAL: a crash (of the
 * machine, not only the process) can lose the last committed transactions,
 * and those are operations the next cycle redoes.  Every write is its own
 * transaction; inside a state_begin()/state_commit() batch each write is a
 * savepoint, so a write that fails leaves nothing half done in the batch.
 * state_close() commits a batch still open: what it holds was confirmed by
 * the SCIM service and is worth keeping.
 *
 * A new file is created with mode 0600 whatever the umask; its directory
 * must exist.  A file that is not SQLite, that holds tables but no
 * schema_version, or whose schema version is newer than this program's is
 * refused with L2S_EPARSE.
 *
 * Read-only handles never write, never create a file and never change the
 * journal mode; a missing file reads as an empty store.  A write through a
 * read-only handle is refused with L2S_EIO ("cannot write: opened
 * read-only") rather than asserted, so that a caller's mistake costs a
 * failed command, not a crash.  (SQLite itself may leave empty -wal and
 * -shm files beside a WAL file a read-only handle read: it needs them to
 * read safely while a writer runs; the database file is never touched.)
 *
 * state_meta_set() with a NULL value unsets the name.
 *
 * Every SQLite failure reads "state file 'PATH': <what>: <sqlite message>".
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "compiler.h"
#include "platform.h"
#include "state.h"

#define STR_(x) #x
#define STR(x) STR_(x)

enum {
	ST_PUT,
	ST_DEL_MEMBERS,
	ST_PUT_MEMBERS,
	ST_GET_MEMBERS,
	ST_DEL_OBJ,
	ST_META_GET,
	ST_META_SET,
	ST_META_DEL,
	ST_LOAD_OBJ,
	ST_LOAD_MEM,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST__N
};

static const char *const stmt_sql[ST__N] = {
	[ST_PUT] = "INSERT OR REPLACE INTO objects"
	    "(kind, key, scim_id, name, dn, vals, removed, last_seen)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DEL_MEMBERS] = "DELETE FROM group_members WHERE group_key = ?1",
	[ST_PUT_MEMBERS] = "INSERT OR REPLACE INTO group_members"
	    "(group_key, members) VALUES (?1, ?2)",
	[ST_GET_MEMBERS] = "SELECT members FROM group_members"
	    " WHERE group_key = ?1",
	[ST_DEL_OBJ] = "DELETE FROM objects WHERE kind = ?1 AND key = ?2",
	[ST_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta(name, value)"
	    " VALUES (?1, ?2)",
	[ST_META_DEL] = "DELETE FROM meta WHERE name = ?1",
	[ST_LOAD_OBJ] = "SELECT kind, key, scim_id, name, dn, attrs, removed,"
	    " vals FROM objects",
	[ST_LOAD_MEM] = "SELECT group_key, members FROM group_members",
	/* A group's two statements inside a batch (tx_begin()): prepared
	 * once, not parsed again for each of thousands of groups. */
	[ST_SAVEPOINT] = "SAVEPOINT w",
	[ST_RELEASE] = "RELEASE w",
	[ST_ROLLBACK_TO] = "ROLLBACK TO w",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_version("
	    "version INTEGER NOT NULL);"
	"INSERT INTO schema_version(version)"
	    " SELECT " STR(STATE_SCHEMA_VERSION)
	    " WHERE NOT EXISTS (SELECT 1 FROM schema_version);"
	"CREATE TABLE IF NOT EXISTS objects("
	    "kind TEXT NOT NULL, key TEXT NOT NULL, scim_id TEXT, name TEXT,"
	    " dn TEXT, attrs TEXT, removed INTEGER NOT NULL DEFAULT 0,"
	    " last_seen INTEGER, vals BLOB, PRIMARY KEY(kind, key));"
	"CREATE TABLE IF NOT EXISTS group_members("
	    "group_key TEXT PRIMARY KEY, members BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS meta("
	    "name TEXT PRIMARY KEY, value TEXT);";

/* Added after version 1's first release: created on every writable open. */
static const char snapshot_sql[] =
	"CREATE TABLE IF NOT EXISTS snapshot("
	    "uuid TEXT PRIMARY KEY, kind INTEGER NOT NULL,"
	    " disabled INTEGER NOT NULL, dn TEXT NOT NULL, entry BLOB,"
	    " members BLOB)";

struct state {
	sqlite3 *db;		/* owned; NULL: read-only view of no file */
	char *path;		/* owned */
	int readonly;
	int depth;		/* open transactions: batches and writes */
	int lost;		/* SQLite rolled an open batch back */
	int loading;		/* a state_loader is open: no writes */
	sqlite3_stmt *stmt[ST__N];	/* owned */
	sqlite3_stmt *snap_put;		/* owned; prepared on first use */
	int v1;				/* a version 1 file, read-only: members
					 * one row each, in table members */
	int old;			/* a version 1 or 2 file, read-only:
					 * no column vals */
	struct buf vals, blob;		/* owned: reused by every write */
};

/* Version 1 kept one row per membership; version 2 one row per group. */
static const char load_members_v1[] = "SELECT group_key, member_key FROM "
    "members ORDER BY group_key, member_key";
/* Versions 1 and 2 kept attributes as JSON only (read-only handles). */
static const char load_objects_v2[] = "SELECT kind, key, scim_id, name, dn,"
    " attrs, removed, NULL FROM objects";

static const char *
kind_name(enum rec_kind kind)
{
	return kind == REC_GROUP ? "group" : "user";
}

/* Fill err with "state file 'PATH': <what>: <sqlite message>" and return
 * the outcome matching the SQLite error code. */
static int L2S_PRINTF(3, 4)
db_fail(struct state *st, struct err *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	int code;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	switch (st->db != NULL ? sqlite3_errcode(st->db) : SQLITE_NOMEM) {
	case SQLITE_NOMEM:
		code = L2S_ENOMEM;
		break;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		code = L2S_EPARSE;
		break;
	default:
		code = L2S_EIO;
		break;
	}
	return err_set(err, code, "state file '%s': %s: %s", st->path, what,
	    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
}

static int
nomem(struct state *st, struct err *err, const char *what)
{
	return err_set(err, L2S_ENOMEM, "state file '%s': %s: out of memory",
	    st->path, what);
}

static void
stmt_reset(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Run s (bindings set) to completion; an SQLite result code. */
static int
stmt_run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		rc = SQLITE_OK;
	return rc;
}

static int
writable(struct state *st, struct err *err)
{
	if (st->readonly || st->db == NULL)
		return err_set(err, L2S_EIO,
		    "state file '%s': cannot write: opened read-only",
		    st->path);
	if (st->loading)
		return err_set(err, L2S_EIO, "state file '%s': cannot write "
		    "while it is being loaded", st->path);
	return L2S_OK;
}

/* Run one of the savepoint statements (by its text while state_open()
 * has not prepared them: migrations); an SQLite result code. */
static int
tx_step(struct state *st, int which)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc;

	if (s == NULL)
		return sqlite3_exec(st->db, stmt_sql[which], NULL, NULL, NULL);
	rc = stmt_run(s);
	sqlite3_reset(s);
	return rc;
}

/* Open a transaction, or a savepoint inside one. */
static int
tx_begin(struct state *st, struct err *err)
{
	int src = st->depth == 0 ? sqlite3_exec(st->db, "BEGIN IMMEDIATE",
	    NULL, NULL, NULL) : tx_step(st, ST_SAVEPOINT);

	if (src != SQLITE_OK)
		return db_fail(st, err, "cannot begin transaction");
	st->depth++;
	return L2S_OK;
}

/* Close what tx_begin() opened: keep it when rc is L2S_OK, else undo it
 * (err already says why).  Returns rc, or the failure to commit. */
static int
tx_end(struct state *st, int rc, struct err *err)
{
	assert(st->depth > 0);
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite already rolled everything back (I/O error, full
		 * disk): the batch around us is gone too. */
		if (st->depth > 1)
			st->lost = 1;
		st->depth = 0;
		return rc;
	}
	st->depth--;
	if (st->depth == 0) {
		if (rc == L2S_OK) {
			if (sqlite3_exec(st->db, "COMMIT", NULL, NULL,
			    NULL) == SQLITE_OK)
				return L2S_OK;
			rc = db_fail(st, err, "cannot commit");
		}
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (rc != L2S_OK)
		tx_step(st, ST_ROLLBACK_TO);
	if (tx_step(st, ST_RELEASE) != SQLITE_OK && rc == L2S_OK)
		rc = db_fail(st, err, "cannot release savepoint");
	return rc;
}

/* Look at what the file holds: *ntables user tables; refuse a foreign or
 * newer file. */
static int
schema_check(struct state *st, int *ntables, long long *vout,
    struct err *err)
{
	sqlite3_stmt *s = NULL;
	int has_version = 0, nrows = 0, rc, src;
	long long version = 0;

	*ntables = 0;
	*vout = STATE_SCHEMA_VERSION;
	src = sqlite3_prepare_v2(st->db, "SELECT name FROM sqlite_master"
	    " WHERE type = 'table'", -1, &s, NULL);
	if (src != SQLITE_OK) {
		rc = db_fail(st, err, "cannot read");
		goto done;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		(*ntables)++;
		if (name != NULL && strcmp(name, "schema_version") == 0)
			has_version = 1;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, err, "cannot read");
		goto done;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (*ntables == 0) {
		rc = L2S_OK;
		goto done;
	}
	if (!has_version) {
		rc = err_set(err, L2S_EPARSE, "state file '%s': not an "
		    "ldap2scim state file (no schema_version table)",
		    st->path);
		goto done;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT version FROM schema_version",
	    -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "cannot read schema version");
		goto done;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		version = sqlite3_column_int64(s, 0);
		nrows++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(st, err, "cannot read schema version");
		goto done;
	}
	if (nrows != 1) {
		rc = err_set(err, L2S_EPARSE, "state file '%s': schema_version "
		    "holds %d rows instead of one", st->path, nrows);
		goto done;
	}
	if (version > STATE_SCHEMA_VERSION) {
		rc = err_set(err, L2S_EPARSE, "state file '%s' has schema "
		    "version %lld; this ldap2scim reads up to %d: upgrade "
		    "ldap2scim", st->path, version, STATE_SCHEMA_VERSION);
		goto done;
	}
	if (version < 1) {
		rc = err_set(err, L2S_EPARSE, "state file '%s' has unknown "
		    "schema version %lld", st->path, version);
		goto done;
	}
	*vout = version;
	rc = L2S_OK;
done:
	sqlite3_finalize(s);
	return rc;
}

/* Run a pragma, reading (and ignoring) any rows it returns. */
static int
pragma(struct state *st, const char *sql, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int src, rc = L2S_OK;

	src = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (src == SQLITE_OK)
		while ((src = sqlite3_step(s)) == SQLITE_ROW)
			;
	if (src != SQLITE_OK && src != SQLITE_DONE)
		rc = db_fail(st, err, "cannot run '%s'", sql);
	sqlite3_finalize(s);
	return rc;
}

/*
 * A member blob holds the sorted, unique keys in order, each either as
 * its text and a NUL or, when it is a UUID in lower case (8-4-4-4-12 hex
 * digits), as the byte 0xff and its 16 bytes (schema version 3).  Keys
 * are UTF-8 (source_key_text()), and 0xff never occurs in UTF-8: a text
 * key can never be taken for a packed one, and version 2's blobs (text
 * only) read the same.
 */
#define PACKED_UUID 0xff

/* hexv[c]: one more than the value of lower-case hex digit c; 0 for any
 * other byte. */
static const unsigned char hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
};

/* Where the 16 bytes of a UUID's text start, two digits each. */
static const unsigned char uuid_at[16] = {
	0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34
};

/* Byte b as two lower-case hex digits: hex2 + 2 * b. */
static const char hex2[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Pack key into out[16] if it is a lower-case UUID; 1 if so, else 0.
 * Called for every member of every group saved: no branch per digit. */
static int
uuid_pack(const char *k, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)k;
	unsigned bad = 0;
	size_t i;

	if (strlen(k) != 36 || p[8] != '-' || p[13] != '-' || p[18] != '-' ||
	    p[23] != '-')
		return 0;
	for (i = 0; i < 16; i++) {
		unsigned hi = hexv[p[uuid_at[i]]], lo = hexv[p[uuid_at[i] + 1]];

		bad |= (hi - 1) | (lo - 1);	/* > 15 for a 0 */
		out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return bad < 16;
}

/* The text of packed UUID u[16] into t[37], NUL-ended. */
static void
uuid_unpack(const unsigned char *u, char *t)
{
	size_t i;

	for (i = 0; i < 16; i++)
		memcpy(t + uuid_at[i], hex2 + 2 * u[i], 2);
	t[8] = t[13] = t[18] = t[23] = '-';
	t[36] = '\0';
}

/* The keys of a group are the pool's, each in its own allocation, in an
 * order that has nothing to do with their addresses: each would be a
 * wait for the memory, so the key MEMBERS_AHEAD on is asked for first. */
#define MEMBERS_AHEAD 8

static int
members_blob(const char *const *keys, size_t n, struct buf *b)
{
	unsigned char u[17];
	size_t i;

	buf_reset(b);
	u[0] = PACKED_UUID;
	for (i = 0; i < n; i++) {
		if (i + MEMBERS_AHEAD < n)
			L2S_PREFETCH(keys[i + MEMBERS_AHEAD]);
		/* Not UTF-8: it would read back as a packed key. */
		if ((unsigned char)keys[i][0] == PACKED_UUID)
			return -1;
		if (uuid_pack(keys[i], u + 1))
			buf_add(b, u, sizeof(u));
		else
			buf_add(b, keys[i], strlen(keys[i]) + 1);
	}
	return buf_failed(b) ? -1 : 0;
}

/* A member blob as text keys, each ended by a NUL, into out (reset
 * first).  0; -1 out of memory; 1 when blob is damaged. */
static int
members_unpack(const char *blob, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)blob;
	const unsigned char *end = p + len;
	const char *z;
	char t[37];

	buf_reset(out);
	if (len > 0 && blob == NULL)
		return 1;
	while (p < end) {
		if (*p == PACKED_UUID) {
			if (end - p < 17)
				return 1;
			uuid_unpack(p + 1, t);
			buf_add(out, t, sizeof(t));
			p += 17;
			continue;
		}
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			return 1;
		buf_add(out, p, (size_t)((const unsigned char *)z - p) + 1);
		p = (const unsigned char *)z + 1;
	}
	return buf_failed(out) ? -1 : 0;
}

/*
 * Packed member keys to the pool's keys, for one state_load().  A group's
 * member is found by its 16 bytes; only a key not met before is written
 * out as text and looked up in the pool (record_pooled()).  A user is a
 * member of several groups (6.7 on average in test/bench's directory), so
 * most members cost a hash of 16 bytes and one compare, where the text
 * would cost 36 bytes written, hashed, compared and checked for order.
 */
struct ukey {
	unsigned char u[16];
	const char *key;	/* the pool's; NULL: a free slot */
};

struct ukeys {
	struct ukey *slot;	/* owned */
	size_t cap, len;	/* cap: 0 or a power of 2 */
};

#define UKEYS_AHEAD 8		/* members looked ahead for the memory */

/* Two multiplications: the bytes of a UUID are random (version 4) or a
 * clock (version 1), either way spread over both halves. */
static inline uint64_t
ukey_hash(const unsigned char *u)
{
	uint64_t a, b;

	memcpy(&a, u, 8);
	memcpy(&b, u + 8, 8);
	a = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
	return a ^ (a >> 31);
}

static int
ukeys_grow(struct ukeys *c)
{
	size_t cap = c->cap > 0 ? c->cap * 2 : 1024, i, j;
	struct ukey *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (i = 0; i < c->cap; i++) {
		if (c->slot[i].key == NULL)
			continue;
		for (j = ukey_hash(c->slot[i].u) & (cap - 1);
		    slot[j].key != NULL; j = (j + 1) & (cap - 1))
			;
		slot[j] = c->slot[i];
	}
	free(c->slot);
	c->slot = slot;
	c->cap = cap;
	return 0;
}

/* The pool's key for packed UUID u; NULL out of memory. */
static const char *
ukeys_get(struct ukeys *c, const unsigned char *u)
{
	size_t i, mask;
	char t[37];

	if (c->len >= c->cap / 2 && ukeys_grow(c) != 0)
		return NULL;
	mask = c->cap - 1;
	for (i = ukey_hash(u) & mask; c->slot[i].key != NULL;
	    i = (i + 1) & mask)
		if (memcmp(c->slot[i].u, u, 16) == 0)
			return c->slot[i].key;
	uuid_unpack(u, t);
	if ((c->slot[i].key = record_pooled(t)) == NULL)
		return NULL;
	memcpy(c->slot[i].u, u, 16);
	c->len++;
	return c->slot[i].key;
}

/* Group r's members from a member blob (members_blob()), which must be
 * in order (strcmp of the text, which for two packed keys is memcmp of
 * their bytes) and unique.  0; -1 out of memory; 1 when blob is damaged
 * or out of order.  r is unchanged unless 0. */
static int
members_load(struct ukeys *c, struct record *r, const unsigned char *blob,
    size_t len)
{
	const unsigned char *p, *u, *pu = NULL, *z;
	const size_t ahead = 17 * UKEYS_AHEAD;
	const char *key;
	char **v = NULL;
	size_t n = 0, i, off;
	int rc = 0;

	if (blob == NULL)
		return len > 0 ? 1 : 0;
	for (off = 0; off < len; n++) {
		if (blob[off] == PACKED_UUID) {
			if (len - off < 17)
				return 1;
			off += 17;
		} else {
			z = memchr(blob + off, '\0', len - off);
			if (z == NULL)
				return 1;
			off = (size_t)(z - blob) + 1;
		}
	}
	if (n > 0 && (v = malloc(n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0, off = 0; i < n; i++) {
		/* where the slot of the member UKEYS_AHEAD on would be, if
		 * the members between are packed ones */
		if (c->cap > 0 && len - off >= ahead + 17 &&
		    blob[off + ahead] == PACKED_UUID)
			L2S_PREFETCH(&c->slot[ukey_hash(blob + off + ahead +
			    1) & (c->cap - 1)]);
		p = blob + off;
		if (*p == PACKED_UUID) {
			u = p + 1;
			key = ukeys_get(c, u);
			off += 17;
		} else {
			u = NULL;
			key = record_pooled((const char *)p);
			off += strlen((const char *)p) + 1;
		}
		if (key == NULL) {
			rc = -1;
			break;
		}
		if (i > 0 && (u != NULL && pu != NULL ? memcmp(pu, u, 16) :
		    strcmp(v[i - 1], key)) >= 0) {
			rc = 1;
			break;
		}
		v[i] = (char *)key;
		pu = u;
	}
	if (rc != 0) {
		free(v);
		return rc;
	}
	record_adopt_members(r, v, n);
	return 0;
}

/*
 * Version 1 to 2: the membership rows of each group become one blob.  One
 * transaction: a file is either version 1 or version 2, never half.
 */
static int
migrate_v1(struct state *st, struct err *err)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	struct buf b = BUF_INIT;
	char *cur = NULL;
	int src, rc;

	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	if (sqlite3_exec(st->db, "CREATE TABLE group_members(group_key TEXT "
	    "PRIMARY KEY, members BLOB NOT NULL) WITHOUT ROWID", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, load_members_v1, -1, &sel, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "INSERT INTO group_members(group_key, "
	    "members) VALUES (?1, ?2)", -1, &ins, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "cannot upgrade to schema version 2");
		goto done;
	}
	for (;;) {
		const char *gk = NULL, *mk = NULL;

		src = sqlite3_step(sel);
		if (src == SQLITE_ROW) {
			gk = (const char *)sqlite3_column_text(sel, 0);
			mk = (const char *)sqlite3_column_text(sel, 1);
			if (gk == NULL || mk == NULL)
				continue;
		} else if (src != SQLITE_DONE) {
			rc = db_fail(st, err, "cannot upgrade to schema "
			    "version 2");
			goto done;
		}
		if (cur != NULL && (gk == NULL || strcmp(cur, gk) != 0)) {
			bind_text(ins, 1, cur);
			sqlite3_bind_blob64(ins, 2, b.s, b.len, SQLITE_STATIC);
			if (buf_failed(&b) || stmt_run(ins) != SQLITE_OK) {
				rc = db_fail(st, err, "cannot upgrade to "
				    "schema version 2");
				goto done;
			}
			stmt_reset(ins);
			buf_reset(&b);
			free(cur);
			cur = NULL;
		}
		if (gk == NULL)
			break;
		if (cur == NULL && (cur = strdup(gk)) == NULL) {
			rc = nomem(st, err, "cannot upgrade to schema version 2");
			goto done;
		}
		buf_add(&b, mk, strlen(mk) + 1);
	}
	if (sqlite3_exec(st->db, "DROP TABLE members; UPDATE schema_version "
	    "SET version = 2", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, err, "cannot upgrade to schema version 2");
done:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	free(cur);
	buf_free(&b);
	return tx_end(st, rc, err);
}

/*
 * Version 2 to 3: attributes move from JSON text (column attrs) to the
 * compact form of attrs_to_blob() (column vals).  Member blobs of version
 * 2 read as they are.  One transaction.
 */
static int
migrate_v2(struct state *st, struct err *err)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct attrs a = ATTRS_INIT;
	struct buf b = BUF_INIT;
	int src, rc;

	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	if (sqlite3_exec(st->db, "ALTER TABLE objects ADD COLUMN vals BLOB",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT rowid, kind, key, attrs FROM "
	    "objects WHERE attrs IS NOT NULL", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "UPDATE objects SET vals = ?1, attrs = "
	    "NULL WHERE rowid = ?2", -1, &upd, NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "cannot upgrade to schema version 3");
		goto done;
	}
	while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(sel, 3);

		attrs_free(&a);
		if (attrs_from_json(&a, json) != 0) {
			rc = err_set(err, L2S_EPARSE, "state file '%s': %s '%s' "
			    "has unreadable attributes", st->path,
			    (const char *)sqlite3_column_text(sel, 1),
			    (const char *)sqlite3_column_text(sel, 2));
			goto done;
		}
		buf_reset(&b);
		attrs_to_blob(&a, &b);
		if (buf_failed(&b)) {
			rc = nomem(st, err, "cannot upgrade to schema version 3");
			goto done;
		}
		sqlite3_bind_blob64(upd, 1, b.len > 0 ? b.s : "", b.len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
		if (stmt_run(upd) != SQLITE_OK) {
			rc = db_fail(st, err, "cannot upgrade to schema "
			    "version 3");
			goto done;
		}
		stmt_reset(upd);
	}
	if (src != SQLITE_DONE ||
	    sqlite3_exec(st->db, "UPDATE schema_version SET version = 3",
	    NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, err, "cannot upgrade to schema version 3");
done:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	attrs_free(&a);
	buf_free(&b);
	return tx_end(st, rc, err);
}

/* Bring a writable file of an older version up to this one, all in one
 * transaction. */
static int
migrate(struct state *st, long long version, struct err *err)
{
	int rc;

	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	if (version == 1)
		rc = migrate_v1(st, err);
	if (rc == L2S_OK && version <= 2)
		rc = migrate_v2(st, err);
	return tx_end(st, rc, err);
}

/*
 * Before SQLite's first use in the process: no statistics of its memory.
 * They are counted under a lock of their own on every allocation, and this
 * program never asks for them (sqlite3_memory_used() and the soft heap
 * limit would).  A no-op once SQLite is initialized.
 */
static void
sqlite_setup(void)
{
	static int done;

	if (!done) {
		done = 1;
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
}

int
state_open(struct state **out, const char *path, int readonly,
    struct err *err)
{
	struct state *st = NULL;
	struct platform_stat sb;
	long long version;
	int flags, ntables, i, rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		rc = err_set(err, L2S_ENOMEM, "cannot open state file '%s': "
		    "out of memory", path);
		goto done;
	}
	st->readonly = readonly;
	if (readonly) {
		if (platform_stat(path, &sb) != 0) {
			if (errno == ENOENT) {
				rc = L2S_OK;	/* an empty store */
				goto done;
			}
			rc = err_set(err, L2S_EIO, "cannot open state file "
			    "'%s': %s", path, strerror(errno));
			goto done;
		}
		flags = SQLITE_OPEN_READONLY;
	} else {
		rc = platform_create_private(path, "state file", err);
		if (rc != L2S_OK)
			goto done;
		flags = SQLITE_OPEN_READWRITE;
	}
	sqlite_setup();
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(st->db, 5000);
	rc = schema_check(st, &ntables, &version, err);
	if (rc != L2S_OK)
		goto done;
	if (readonly && ntables == 0) {
		/* Created but never initialised: as good as missing. */
		sqlite3_close(st->db);
		st->db = NULL;
		goto done;
	}
	/* A new file gets 16 KiB pages (before WAL fixes the size): a
	 * group's member list of a few thousand keys then stays on its own
	 * page instead of spilling into half-empty overflow pages, and a
	 * state of 100,000 users takes a quarter less room and fewer
	 * writes.  An existing file keeps the size it has. */
	if (!readonly && ntables == 0) {
		rc = pragma(st, "PRAGMA page_size = 16384", err);
		if (rc != L2S_OK)
			goto done;
	}
	if (!readonly) {
		rc = pragma(st, "PRAGMA journal_mode = WAL", err);
		if (rc == L2S_OK)
			rc = pragma(st, "PRAGMA synchronous = NORMAL", err);
		if (rc == L2S_OK)
			rc = pragma(st, "PRAGMA cache_size = -4096", err);
		/* Statement journals (an INSERT OR REPLACE inside a batch
		 * needs one) in memory, not in a temporary file. */
		if (rc == L2S_OK)
			rc = pragma(st, "PRAGMA temp_store = MEMORY", err);
		if (rc != L2S_OK)
			goto done;
	}
	if (ntables == 0) {
		rc = tx_begin(st, err);
		if (rc != L2S_OK)
			goto done;
		if (sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) !=
		    SQLITE_OK)
			rc = db_fail(st, err, "cannot create tables");
		rc = tx_end(st, rc, err);
		if (rc != L2S_OK)
			goto done;
	}
	if (!readonly && sqlite3_exec(st->db, snapshot_sql, NULL, NULL,
	    NULL) != SQLITE_OK) {
		rc = db_fail(st, err, "cannot create tables");
		goto done;
	}
	if (version < STATE_SCHEMA_VERSION && !readonly) {
		rc = migrate(st, version, err);
		if (rc != L2S_OK)
			goto done;
	}
	st->v1 = version == 1 && readonly;
	st->old = version < 3 && readonly;
	for (i = 0; i < ST__N; i++) {
		const char *sql = stmt_sql[i];

		if (st->v1 && (i == ST_DEL_MEMBERS || i == ST_PUT_MEMBERS ||
		    i == ST_GET_MEMBERS))
			continue;	/* never written: read-only */
		if (st->v1 && i == ST_LOAD_MEM)
			sql = load_members_v1;
		if (st->old && i == ST_PUT)
			continue;	/* no column vals: never written */
		if (st->old && i == ST_LOAD_OBJ)
			sql = load_objects_v2;
		if (sqlite3_prepare_v3(st->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			rc = db_fail(st, err, "unexpected layout");
			if (rc == L2S_EIO)
				rc = err_set(err, L2S_EPARSE, "state file '%s': "
				    "unexpected layout: %s", st->path,
				    sqlite3_errmsg(st->db));
			goto done;
		}
	}
done:
	if (rc != L2S_OK) {
		state_close(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

void
state_close(struct state *st)
{
	int i;

	if (st == NULL)
		return;
	if (st->db != NULL && st->depth > 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_finalize(st->snap_put);
	sqlite3_close(st->db);
	buf_free(&st->vals);
	buf_free(&st->blob);
	free(st->path);
	free(st);
}

/* Hand every entry of src to dst (replacing and freeing what dst held
 * under the same key); src ends empty.  0, or -1 out of memory, when src
 * still owns what was not handed over. */
static int
map_take(struct hmap *dst, struct hmap *src)
{
	const char *key;
	void *val, *old;
	size_t pos = 0;

	if (dst->len == 0) {
		hmap_free(dst, NULL);
		*dst = *src;
		*src = (struct hmap)HMAP_INIT;
		return 0;
	}
	while (hmap_next(src, &pos, &key, &val)) {
		if (hmap_put(dst, key, val, &old) != 0)
			return -1;
		record_free(old);
		hmap_put(src, key, NULL, NULL);	/* replaces: cannot fail */
	}
	hmap_free(src, NULL);
	return 0;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v != NULL ? strdup(v) : NULL;
}

/* Give group gk of g the member keys in b (each ended by a NUL). */
static int
members_give(struct state *st, struct hmap *g, const char *gk,
    const char *blob, size_t len, struct err *err)
{
	struct record *r = hmap_get(g, gk);
	int rc;

	if (r == NULL || len == 0)
		return L2S_OK;	/* members of a group not in the store */
	rc = record_members_from_blob(r, blob, len);
	if (rc < 0)
		return nomem(st, err, "cannot load members");
	if (rc > 0)
		return err_set(err, L2S_EPARSE, "state file '%s': the members "
		    "of group '%s' are out of order", st->path, gk);
	return L2S_OK;
}

/*
 * A load in steps (state_load_begin() ... state_load_end()): the rows of
 * objects, then those of group_members, a few at a time, inside one read
 * transaction so that objects and members agree.  The first failure stops
 * the load and is kept for state_load_end().
 */
struct state_loader {
	struct state *st;
	/* Keyed by each record's key, which is the pool's. */
	struct hmap u, g;
	size_t expect_users;	/* counted at the start (a hint) */
	size_t expect_groups;
	struct ukeys uk;
	struct buf mb;		/* version 1: one group's member rows */
	char *cur;		/* version 1: the group they belong to */
	int intx;		/* in the transaction it began */
	int phase;		/* LOAD_OBJECTS, LOAD_MEMBERS, LOAD_DONE */
	int rc;			/* the first failure, or L2S_OK */
	struct err err;		/* its message */
};

enum { LOAD_OBJECTS, LOAD_MEMBERS, LOAD_DONE };

/* One row of objects into l->u or l->g. */
static int
load_object(struct state_loader *l, sqlite3_stmt *so, struct err *err)
{
	struct state *st = l->st;
	const char *kind = (const char *)sqlite3_column_text(so, 0);
	const char *key = (const char *)sqlite3_column_text(so, 1);
	const char *json = NULL;
	const void *vals = sqlite3_column_blob(so, 7);
	size_t nvals = (size_t)sqlite3_column_bytes(so, 7);
	const char *text[3];	/* scim_id, name, dn */
	struct record *r;
	void *old = NULL;
	enum rec_kind k;
	size_t i;
	int rc = 0;

	if (kind != NULL && strcmp(kind, "user") == 0) {
		k = REC_USER;
	} else if (kind != NULL && strcmp(kind, "group") == 0) {
		k = REC_GROUP;
	} else {
		return err_set(err, L2S_EPARSE, "state file '%s': unknown "
		    "object kind '%s'", st->path, kind != NULL ? kind : "");
	}
	if (key == NULL)
		return err_set(err, L2S_EPARSE, "state file '%s': %s without "
		    "a key", st->path, kind);
	/* SQLite's text of one column stays valid while the others of the
	 * row are read as text too (sqlite3_column_text()); NULL out of
	 * memory, or for an SQL NULL. */
	for (i = 0; i < 3; i++) {
		text[i] = (const char *)sqlite3_column_text(so, 2 + i);
		if (text[i] == NULL && sqlite3_column_type(so, 2 + i) !=
		    SQLITE_NULL)
			return nomem(st, err, "cannot load objects");
	}
	r = record_new_with(k, key, text[0], text[1], text[2]);
	if (r == NULL)
		return nomem(st, err, "cannot load objects");
	r->removed = sqlite3_column_int(so, 6) != 0;
	/* Version 3: the compact form; before, JSON text. */
	if (sqlite3_column_type(so, 7) != SQLITE_NULL)
		rc = attrs_from_blob(&r->attrs, vals, nvals);
	else if ((json = (const char *)sqlite3_column_text(so, 5)) != NULL)
		rc = attrs_from_json(&r->attrs, json) != 0 ? 1 : 0;
	if (rc != 0) {
		record_free(r);
		if (rc < 0)
			return nomem(st, err, "cannot load objects");
		return err_set(err, L2S_EPARSE, "state file '%s': %s '%s' has "
		    "unreadable attributes", st->path, kind, key);
	}
	if (hmap_put(k == REC_USER ? &l->u : &l->g, r->key, r, &old) != 0) {
		record_free(r);
		return nomem(st, err, "cannot load objects");
	}
	record_free(old);
	return L2S_OK;
}

/* Version 1: give group l->cur the member rows gathered in l->mb, and
 * start afresh.  Nothing to do before the first row. */
static int
v1_group_done(struct state_loader *l, struct err *err)
{
	int rc;

	if (l->cur == NULL)
		return L2S_OK;
	rc = buf_failed(&l->mb) ? nomem(l->st, err, "cannot load members") :
	    members_give(l->st, &l->g, l->cur, l->mb.s, l->mb.len, err);
	free(l->cur);
	l->cur = NULL;
	buf_reset(&l->mb);
	return rc;
}

/*
 * One row of group_members.  Version 2 and later: one row per group, its
 * keys sorted, each packed or ended by a NUL.  Version 1 (read-only): one
 * row per member, sorted, gathered in l->mb until the group changes.
 * Members of a group not in the store are ignored.
 */
static int
load_members(struct state_loader *l, sqlite3_stmt *sm, struct err *err)
{
	struct state *st = l->st;
	const char *gk = (const char *)sqlite3_column_text(sm, 0);
	const char *blob;
	size_t len;
	int rc;

	if (gk == NULL)
		return L2S_OK;
	if (!st->v1) {
		struct record *gr = hmap_get(&l->g, gk);

		if (gr == NULL)
			return L2S_OK;
		blob = sqlite3_column_blob(sm, 1);
		len = (size_t)sqlite3_column_bytes(sm, 1);
		rc = members_load(&l->uk, gr, (const unsigned char *)blob, len);
		if (rc < 0)
			return nomem(st, err, "cannot load members");
		if (rc > 0)
			return err_set(err, L2S_EPARSE, "state file '%s': the "
			    "members of group '%s' are damaged or out of order",
			    st->path, gk);
		return L2S_OK;
	}
	if (l->cur == NULL || strcmp(l->cur, gk) != 0) {
		rc = v1_group_done(l, err);
		if (rc != L2S_OK)
			return rc;
		if ((l->cur = strdup(gk)) == NULL)
			return nomem(st, err, "cannot load members");
	}
	blob = (const char *)sqlite3_column_text(sm, 1);
	if (blob != NULL)
		buf_add(&l->mb, blob, strlen(blob) + 1);
	return L2S_OK;
}

/* One count(*) of the objects table: SQLite counts the entries of its
 * smallest index, a few milliseconds for a hundred thousand. */
static int
count_rows(struct state *st, const char *sql, size_t *n, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = L2S_OK;

	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		rc = db_fail(st, err, "cannot count objects");
	else if (sqlite3_step(s) != SQLITE_ROW)
		rc = db_fail(st, err, "cannot count objects");
	else if (sqlite3_column_int64(s, 0) > 0)
		*n = (size_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc;
}

/* How many users and groups the store holds (0 and 0 with no file). */
static int
state_count(struct state *st, size_t *users, size_t *groups,
    struct err *err)
{
	size_t all;
	int rc;

	*users = *groups = 0;
	if (st->db == NULL)
		return L2S_OK;
	rc = count_rows(st, "SELECT count(*) FROM objects", &all, err);
	if (rc == L2S_OK)
		rc = count_rows(st, "SELECT count(*) FROM objects WHERE "
		    "kind = 'group'", groups, err);
	if (rc == L2S_OK)
		*users = all > *groups ? all - *groups : 0;
	return rc;
}

int
state_load_begin(struct state *st, struct state_loader **out,
    struct err *err)
{
	struct state_loader *l;
	size_t nu = 0, ng = 0;

	*out = NULL;
	if (st->loading)
		return err_set(err, L2S_EIO, "state file '%s': a load is "
		    "under way already", st->path);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return nomem(st, err, "cannot load objects");
	l->st = st;
	l->u = (struct hmap)HMAP_INIT_BORROWED;
	l->g = (struct hmap)HMAP_INIT_BORROWED;
	l->mb = (struct buf)BUF_INIT;
	l->phase = st->db == NULL ? LOAD_DONE : LOAD_OBJECTS;
	if (st->db != NULL && st->depth == 0) {
		if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			int rc = db_fail(st, err, "cannot begin transaction");

			free(l);
			return rc;
		}
		l->intx = 1;
	}
	/* The tables sized at once (hmap_reserve()): the count is a hint,
	 * and a failed one only leaves them to grow. */
	if (st->db != NULL && state_count(st, &nu, &ng, &l->err) == L2S_OK &&
	    (hmap_reserve(&l->u, nu) != 0 || hmap_reserve(&l->g, ng) != 0 ||
	    record_pool_reserve(nu + ng) != 0)) {
		state_load_abort(l);
		return nomem(st, err, "cannot load objects");
	}
	err_clear(&l->err);
	l->expect_users = nu;
	l->expect_groups = ng;
	st->loading = 1;	/* writes are refused until the end */
	*out = l;
	return L2S_OK;
}

void
state_load_expect(const struct state_loader *l, size_t *users,
    size_t *groups)
{
	*users = l->expect_users;
	*groups = l->expect_groups;
}

/* A step counts a group's member row as one row more for each this many
 * bytes of members (some fifteen keys: about what one object row costs to
 * load), so that a group of 30,000 members ends a step, and a step stays
 * about as long as its rows say. */
#define MEMBER_ROW_BYTES 256

int
state_load_step(struct state_loader *l, size_t rows)
{
	struct state *st = l->st;
	sqlite3_stmt *s;
	int src = SQLITE_DONE, rc;

	while (rows > 0 && l->phase != LOAD_DONE) {
		s = st->stmt[l->phase == LOAD_OBJECTS ? ST_LOAD_OBJ :
		    ST_LOAD_MEM];
		while (rows > 0 && (src = sqlite3_step(s)) == SQLITE_ROW) {
			size_t cost = 1;

			if (l->phase == LOAD_OBJECTS) {
				rc = load_object(l, s, &l->err);
			} else {
				rc = load_members(l, s, &l->err);
				cost += (size_t)sqlite3_column_bytes(s, 1) /
				    MEMBER_ROW_BYTES;
			}
			if (rc != L2S_OK) {
				l->rc = rc;
				l->phase = LOAD_DONE;
				return 0;
			}
			rows -= cost < rows ? cost : rows;
		}
		if (src == SQLITE_ROW)
			break;		/* out of rows to do, not of rows */
		if (src != SQLITE_DONE) {
			l->rc = db_fail(st, &l->err, l->phase == LOAD_OBJECTS ?
			    "cannot load objects" : "cannot load members");
			l->phase = LOAD_DONE;
			return 0;
		}
		stmt_reset(s);
		if (l->phase == LOAD_MEMBERS)	/* version 1: the last group */
			l->rc = v1_group_done(l, &l->err);
		l->phase = l->phase == LOAD_OBJECTS && l->rc == L2S_OK ?
		    LOAD_MEMBERS : LOAD_DONE;
	}
	return l->phase != LOAD_DONE;
}

/* Close l's statements and its (read) transaction; free it. */
static void
loader_free(struct state_loader *l)
{
	struct state *st = l->st;

	if (st->db != NULL) {
		stmt_reset(st->stmt[ST_LOAD_OBJ]);
		stmt_reset(st->stmt[ST_LOAD_MEM]);
	}
	if (l->intx)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->loading = 0;
	free(l->cur);
	free(l->uk.slot);
	buf_free(&l->mb);
	hmap_free(&l->u, record_free_v);
	hmap_free(&l->g, record_free_v);
	free(l);
}

int
state_load_end(struct state_loader *l, struct hmap *users,
    struct hmap *groups, struct err *err)
{
	int rc;

	while (state_load_step(l, 4096))
		;
	rc = l->rc;
	if (rc != L2S_OK)
		err_set(err, rc, "%s", l->err.msg);
	else if (map_take(users, &l->u) != 0 || map_take(groups, &l->g) != 0)
		rc = nomem(l->st, err, "cannot load objects");
	loader_free(l);
	return rc;
}

void
state_load_abort(struct state_loader *l)
{
	if (l != NULL)
		loader_free(l);
}

int
state_load(struct state *st, struct hmap *users, struct hmap *groups,
    struct err *err)
{
	struct state_loader *l;
	int rc;

	rc = state_load_begin(st, &l, err);
	return rc != L2S_OK ? rc : state_load_end(l, users, groups, err);
}

/* Replace the member rows of group key with keys[0..n). */
static int
members_write(struct state *st, const char *key, const char *const *keys,
    size_t n, struct err *err)
{
	sqlite3_stmt *s = st->stmt[n > 0 ? ST_PUT_MEMBERS : ST_DEL_MEMBERS];
	struct buf *b = &st->blob;
	int rc = L2S_OK;

	bind_text(s, 1, key);
	if (n > 0) {
		if (members_blob(keys, n, b) != 0) {
			rc = nomem(st, err, "cannot save members");
			buf_free(b);
			goto done;
		}
		sqlite3_bind_blob64(s, 2, b->s, b->len, SQLITE_STATIC);
	}
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot save members of group '%s'",
		    key);
done:
	stmt_reset(s);
	return rc;
}

/* A single statement just ran outside tx_begin(): if SQLite rolled an
 * open batch back (I/O error, full disk), the batch is lost. */
static void
single_done(struct state *st)
{
	if (st->depth > 0 && sqlite3_get_autocommit(st->db)) {
		st->lost = 1;
		st->depth = 0;
	}
}

int
state_put(struct state *st, const struct record *r, struct err *err)
{
	sqlite3_stmt *s = st->stmt[ST_PUT];
	const char *kind = kind_name(r->kind);
	struct buf *vals = &st->vals;
	int rc, group = r->kind == REC_GROUP;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	buf_reset(vals);
	attrs_to_blob(&r->attrs, vals);
	if (buf_failed(vals)) {
		buf_free(vals);
		return err_set(err, L2S_ENOMEM, "state file '%s': cannot save "
		    "%s '%s': out of memory", st->path, kind, r->key);
	}
	/* A user is one statement, atomic by itself; a group two. */
	if (group) {
		rc = tx_begin(st, err);
		if (rc != L2S_OK)
			return rc;
	}
	bind_text(s, 1, kind);
	bind_text(s, 2, r->key);
	bind_text(s, 3, r->scim_id);
	bind_text(s, 4, r->name);
	bind_text(s, 5, r->dn);
	sqlite3_bind_blob64(s, 6, vals->len > 0 ? vals->s : "", vals->len,
	    SQLITE_STATIC);
	sqlite3_bind_int(s, 7, r->removed != 0);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)time(NULL));
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot save %s '%s'", kind, r->key);
	stmt_reset(s);
	if (!group) {
		single_done(st);
		return rc;
	}
	if (rc == L2S_OK)
		rc = members_write(st, r->key,
		    (const char *const *)r->members, r->nmembers, err);
	return tx_end(st, rc, err);
}

/* Add (add set) or remove member rows of one group. */
static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Add (or remove) keys to (from) the group's stored member set. */
static int
members_change(struct state *st, const char *group_key,
    const char *const *keys, size_t n, int add, struct err *err)
{
	sqlite3_stmt *s = st->stmt[ST_GET_MEMBERS];
	const char **have = NULL, **want = NULL, **sorted = NULL;
	char *copy = NULL;
	size_t nh = 0, nw = 0, i = 0, j = 0, off, len = 0;
	int src, rc;

	rc = writable(st, err);
	if (rc != L2S_OK || n == 0)
		return rc;
	for (i = 0; i < n; i++)
		if (keys[i] == NULL)
			return err_set(err, L2S_EIO, "state file '%s': cannot %s "
			    "members of group '%s': a member key is missing",
			    st->path, add ? "add" : "remove", group_key);
	i = 0;
	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	bind_text(s, 1, group_key);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		struct buf text = BUF_INIT;
		int urc = members_unpack(sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), &text);

		if (urc > 0) {
			buf_free(&text);
			rc = err_set(err, L2S_EPARSE, "state file '%s': the "
			    "members of group '%s' are damaged", st->path,
			    group_key);
			goto done;
		}
		if (urc < 0) {
			buf_free(&text);
			goto nomem;
		}
		len = text.len;
		copy = buf_take(&text);
	} else if (src != SQLITE_DONE) {
		rc = db_fail(st, err, "cannot read members of group '%s'",
		    group_key);
		goto done;
	}
	stmt_reset(s);
	for (off = 0; off < len; off += strlen(copy + off) + 1)
		nh++;
	have = malloc((nh + 1) * sizeof(*have));
	want = malloc((nh + n + 1) * sizeof(*want));
	sorted = malloc((n + 1) * sizeof(*sorted));
	if (have == NULL || want == NULL || sorted == NULL)
		goto nomem;
	for (off = 0, nh = 0; off < len; off += strlen(copy + off) + 1)
		have[nh++] = copy + off;
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_key);
	/* Merge two sorted lists: the union, or have minus keys. */
	while (i < nh || j < n) {
		int c = i == nh ? 1 : j == n ? -1 : strcmp(have[i], sorted[j]);

		if (c < 0) {
			want[nw++] = have[i++];
		} else if (c > 0) {
			if (add && (nw == 0 || strcmp(want[nw - 1], sorted[j]) != 0))
				want[nw++] = sorted[j];
			j++;
		} else {
			if (add)
				want[nw++] = have[i];
			i++;
			j++;
		}
	}
	rc = members_write(st, group_key, want, nw, err);
	goto done;
nomem:
	rc = nomem(st, err, "cannot change members");
done:
	stmt_reset(s);
	free(have);
	free(want);
	free(sorted);
	free(copy);
	return tx_end(st, rc, err);
}

int
state_add_members(struct state *st, const char *group_key,
    const char *const *keys, size_t n, struct err *err)
{
	return members_change(st, group_key, keys, n, 1, err);
}

int
state_remove_members(struct state *st, const char *group_key,
    const char *const *keys, size_t n, struct err *err)
{
	return members_change(st, group_key, keys, n, 0, err);
}

int
state_del(struct state *st, enum rec_kind kind, const char *key,
    struct err *err)
{
	sqlite3_stmt *s = st->stmt[ST_DEL_OBJ];
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	bind_text(s, 1, kind_name(kind));
	bind_text(s, 2, key);
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot forget %s '%s'", kind_name(kind),
		    key);
	stmt_reset(s);
	if (rc == L2S_OK && kind == REC_GROUP)
		rc = members_write(st, key, NULL, 0, err);
	return tx_end(st, rc, err);
}

int
state_clear(struct state *st, struct err *err)
{
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	rc = tx_begin(st, err);
	if (rc != L2S_OK)
		return rc;
	if (sqlite3_exec(st->db, "DELETE FROM objects; DELETE FROM group_members;"
	    " DELETE FROM meta; DELETE FROM snapshot", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = db_fail(st, err, "cannot clear");
	return tx_end(st, rc, err);
}

int
state_meta_get(struct state *st, const char *name, char **value,
    struct err *err)
{
	sqlite3_stmt *s;
	int src, rc = L2S_OK;

	*value = NULL;
	if (st->db == NULL)
		return L2S_OK;
	s = st->stmt[ST_META_GET];
	bind_text(s, 1, name);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
			*value = col_dup(s, 0);
			if (*value == NULL)
				rc = nomem(st, err, "cannot read meta value");
		}
	} else if (src != SQLITE_DONE) {
		rc = db_fail(st, err, "cannot read meta value '%s'", name);
	}
	stmt_reset(s);
	return rc;
}

int
state_meta_names(struct state *st, const char *prefix, char ***names,
    size_t *n, struct err *err)
{
	sqlite3_stmt *s = NULL;
	char **v = NULL, **nv;
	size_t len = strlen(prefix), count = 0;
	int src, rc = L2S_OK;

	*names = NULL;
	*n = 0;
	if (st->db == NULL)
		return L2S_OK;
	/* substr() rather than LIKE: a prefix may hold '%' or '_'. */
	if (sqlite3_prepare_v2(st->db, "SELECT name FROM meta WHERE "
	    "substr(name, 1, ?1) = ?2 ORDER BY name", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "cannot list meta values");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)len);
	bind_text(s, 2, prefix);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		nv = realloc(v, (count + 1) * sizeof(*v));
		if (nv == NULL || (nv[count] = col_dup(s, 0)) == NULL) {
			v = nv != NULL ? nv : v;
			rc = nomem(st, err, "cannot list meta values");
			break;
		}
		v = nv;
		count++;
	}
	if (rc == L2S_OK && src != SQLITE_DONE)
		rc = db_fail(st, err, "cannot list meta values");
	sqlite3_finalize(s);
	if (rc != L2S_OK) {
		while (count > 0)
			free(v[--count]);
		free(v);
		return rc;
	}
	*names = v;
	*n = count;
	return L2S_OK;
}

int
state_meta_set(struct state *st, const char *name, const char *value,
    struct err *err)
{
	sqlite3_stmt *s;
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	s = st->stmt[value != NULL ? ST_META_SET : ST_META_DEL];
	bind_text(s, 1, name);
	if (value != NULL)
		bind_text(s, 2, value);
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot save meta value '%s'", name);
	stmt_reset(s);
	single_done(st);
	return rc;
}

int
state_begin(struct state *st, struct err *err)
{
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	if (st->depth == 0)
		st->lost = 0;
	return tx_begin(st, err);
}

int
state_commit(struct state *st, struct err *err)
{
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	if (st->depth == 0) {
		if (st->lost) {
			st->lost = 0;
			return err_set(err, L2S_EIO, "state file '%s': cannot "
			    "commit: an earlier error rolled the batch back",
			    st->path);
		}
		assert(!"state_commit() without state_begin()");
		return err_set(err, L2S_EIO, "state file '%s': cannot commit: "
		    "no batch open", st->path);
	}
	return tx_end(st, L2S_OK, err);
}

/* --- the directory snapshot (incremental reads) --- */

int
state_snap_put(struct state *st, const struct snap_row *row, struct err *err)
{
	sqlite3_stmt *s;
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	if (st->snap_put == NULL && sqlite3_prepare_v3(st->db, "INSERT OR "
	    "REPLACE INTO snapshot(uuid, kind, disabled, dn, entry, members)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, SQLITE_PREPARE_PERSISTENT,
	    &st->snap_put, NULL) != SQLITE_OK)
		return db_fail(st, err, "cannot save the directory snapshot");
	s = st->snap_put;
	bind_text(s, 1, row->uuid);
	sqlite3_bind_int(s, 2, row->kind);
	sqlite3_bind_int(s, 3, row->disabled);
	bind_text(s, 4, row->dn);
	sqlite3_bind_blob64(s, 5, row->entry, row->entry_len, SQLITE_STATIC);
	if (row->members != NULL)
		sqlite3_bind_blob64(s, 6, row->members, row->members_len,
		    SQLITE_STATIC);
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot save entry '%s' of the "
		    "directory snapshot", row->dn);
	stmt_reset(s);
	return rc;
}

int
state_snap_del(struct state *st, const char *uuid, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM snapshot WHERE uuid = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "cannot save the directory snapshot");
	bind_text(s, 1, uuid);
	if (stmt_run(s) != SQLITE_OK)
		rc = db_fail(st, err, "cannot save the directory snapshot");
	sqlite3_finalize(s);
	return rc;
}

int
state_snap_clear(struct state *st, struct err *err)
{
	int rc;

	rc = writable(st, err);
	if (rc != L2S_OK)
		return rc;
	if (sqlite3_exec(st->db, "DELETE FROM snapshot", NULL, NULL, NULL) !=
	    SQLITE_OK)
		rc = db_fail(st, err, "cannot clear the directory snapshot");
	return rc;
}

int
state_snap_load(struct state *st, state_snap_fn fn, void *arg,
    struct err *err)
{
	sqlite3_stmt *s = NULL;
	struct snap_row row;
	int src, rc = L2S_OK;

	if (st->db == NULL)
		return L2S_OK;
	src = sqlite3_prepare_v2(st->db, "SELECT uuid, kind, disabled, dn,"
	    " entry, members FROM snapshot", -1, &s, NULL);
	if (src != SQLITE_OK) {
		/* A file from before the snapshot, opened read-only. */
		if (st->readonly && strstr(sqlite3_errmsg(st->db),
		    "no such table") != NULL)
			return L2S_OK;
		return db_fail(st, err, "cannot read the directory snapshot");
	}
	while (rc == L2S_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
		row.uuid = (const char *)sqlite3_column_text(s, 0);
		row.kind = sqlite3_column_int(s, 1);
		row.disabled = sqlite3_column_int(s, 2);
		row.dn = (const char *)sqlite3_column_text(s, 3);
		row.entry = sqlite3_column_blob(s, 4);
		row.entry_len = (size_t)sqlite3_column_bytes(s, 4);
		row.members = sqlite3_column_blob(s, 5);
		row.members_len = (size_t)sqlite3_column_bytes(s, 5);
		if (row.uuid == NULL || row.dn == NULL) {
			rc = err_set(err, L2S_EPARSE, "state file '%s': a "
			    "directory snapshot row without uuid or DN",
			    st->path);
			break;
		}
		rc = fn(arg, &row, err);
	}
	if (rc == L2S_OK && src != SQLITE_DONE)
		rc = db_fail(st, err, "cannot read the directory snapshot");
	sqlite3_finalize(s);
	return rc;
}
