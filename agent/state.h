/*
 * state.h - what the agent believes the SCIM service holds
 *
 * Maps each directory object, keyed by an id that never changes (objectGUID
 * on AD, entryUUID on OpenLDAP), to the id the SCIM service assigned, the
 * attribute values last sent and, for a group, the member keys last
 * confirmed.  An entry changes only after the service confirmed the
 * request, so a crash mid-cycle loses nothing: the next cycle redoes the
 * rest.
 *
 * SQLite in WAL mode, one file per target.  A schema_version table guards
 * the format: a file written by a newer ldap2scim is refused with a clear
 * error.  Every write is its own transaction unless the caller wraps a
 * batch in state_begin()/state_commit().
 *
 * Not thread-safe: one state handle per thread.  Never stores secrets.
 */
#ifndef L2S_STATE_H
#define L2S_STATE_H

#include <stddef.h>

#include "err.h"
#include "hmap.h"
#include "record.h"

#define STATE_SCHEMA_VERSION 3

struct state;

/* Open or create the store at path.  With readonly set, nothing is ever
 * written and a missing file gives an empty store (no file is created).
 * On success the caller owns *out (state_close()).  On failure *out is NULL
 * and err says why (L2S_EIO, or L2S_EPARSE for a foreign or newer file). */
int state_open(struct state **out, const char *path, int readonly,
    struct err *err);
void state_close(struct state *st);

/* Load every object: users and groups receive key -> struct record *, each
 * owned by the map (free with hmap_free(m, record_free_v)); scim_id set. */
int state_load(struct state *st, struct hmap *users, struct hmap *groups,
    struct err *err);

/*
 * The same load in steps, to be done while waiting on something else (the
 * directory's answers): state_load_begin(), then state_load_step() as
 * often as wanted, each reading at most rows rows, a group's long member
 * list counting as several (1: more to read; 0: all
 * read, or a failure, which state_load_end() reports), then
 * state_load_end(), which reads the rest and gives what state_load()
 * gives, or state_load_abort().  In between, the store is read in one
 * transaction (from the first step on: what it holds then is what is
 * loaded), other reads work, and any write, or a second load, is refused
 * (L2S_EIO); st must not be closed before the end or the abort.  The
 * loader is freed by either.
 */
struct state_loader;
int state_load_begin(struct state *st, struct state_loader **out,
    struct err *err);
int state_load_step(struct state_loader *l, size_t rows);
/* How many users and groups the load expects, as counted when it began
 * (its tables are sized for them): a hint, for sizing other tables. */
void state_load_expect(const struct state_loader *l, size_t *users,
    size_t *groups);
int state_load_end(struct state_loader *l, struct hmap *users,
    struct hmap *groups, struct err *err);
void state_load_abort(struct state_loader *l);	/* NULL: nothing */

/* Insert or replace r (kind, key, scim_id, name, dn, attrs, removed); for a
 * group also replace its member set with r->members. */
int state_put(struct state *st, const struct record *r, struct err *err);

/* Add or remove member keys of one group (idempotent). */
int state_add_members(struct state *st, const char *group_key,
    const char *const *keys, size_t n, struct err *err);
int state_remove_members(struct state *st, const char *group_key,
    const char *const *keys, size_t n, struct err *err);

/* Forget one object (and a group's members).  Absent is not an error. */
int state_del(struct state *st, enum rec_kind kind, const char *key,
    struct err *err);

/* Forget everything (state reset). */
int state_clear(struct state *st, struct err *err);

/* Small named values (a sync cookie, the last cycle's time, the objects
 * whose change is in doubt).  *value is the caller's (free()), NULL when
 * unset; setting NULL unsets. */
int state_meta_get(struct state *st, const char *name, char **value,
    struct err *err);
int state_meta_set(struct state *st, const char *name, const char *value,
    struct err *err);
/* The names of the meta values starting with prefix, sorted.  The caller
 * owns *names and each string in it (free()). */
int state_meta_names(struct state *st, const char *prefix, char ***names,
    size_t *n, struct err *err);

/*
 * The directory snapshot kept for incremental reads (snapshot.h): one row
 * per LDAP entry, by its entryUUID (objectGUID on AD).  entry is the
 * entry's encoded attributes, members a group's normalised member DNs,
 * each followed by a NUL.  Absent from files written by older versions:
 * loads as empty then.
 */
struct snap_row {
	const char *uuid;
	int kind;			/* enum rec_kind */
	int disabled;			/* matched users.disabled_filter */
	const char *dn;
	const void *entry;
	size_t entry_len;
	const void *members;
	size_t members_len;
};

typedef int (*state_snap_fn)(void *arg, const struct snap_row *row,
    struct err *err);

int state_snap_put(struct state *st, const struct snap_row *row,
    struct err *err);
int state_snap_del(struct state *st, const char *uuid, struct err *err);
int state_snap_clear(struct state *st, struct err *err);
/* Every row, in no particular order; the row's pointers are valid during
 * the call only. */
int state_snap_load(struct state *st, state_snap_fn fn, void *arg,
    struct err *err);

/* Batch several writes in one transaction. */
int state_begin(struct state *st, struct err *err);
int state_commit(struct state *st, struct err *err);

#endif
