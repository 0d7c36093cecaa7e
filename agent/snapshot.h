/*
 * snapshot.h - the directory as last read, kept for incremental reads
 *
 * With sync.incremental, every full read also records each user and group
 * entry it read (the attributes the searches asked for, a user's disabled
 * flag, a group's complete member list) under the entry's entryUUID (the
 * objectGUID on AD).  An incremental cycle then asks the server only for
 * what changed, applies that to the snapshot and rebuilds the whole read
 * from it: the mapping, scope rules, nesting and every safety check run on
 * exactly what a full read would have given them.
 *
 * The snapshot lives in the state file (state_snap_*), written only by
 * cycles that are not dry runs.  Pure: no logging, no server.
 */
#ifndef L2S_SNAPSHOT_H
#define L2S_SNAPSHOT_H

#include <stddef.h>

#include "entry.h"
#include "err.h"
#include "hmap.h"
#include "record.h"
#include "state.h"

struct snap_obj {
	enum rec_kind kind;
	int disabled;
	char *dn;			/* owned, as the server wrote it */
	unsigned char *entry;		/* owned: encoded attributes */
	size_t entry_len;
	char *members;			/* owned: group member DNs (normalised),
					 * each followed by a NUL; or NULL */
	size_t members_len;
};

struct snapshot {
	struct hmap objs;		/* uuid -> struct snap_obj * (owned) */
	struct hmap dirty;		/* uuid -> (void *)1: to write or delete */
	struct hmap moved;		/* normalised DN -> (void *)1: DNs that
					 * left or changed this cycle */
	struct hmap fresh;		/* name -> (void *)1: groups merged this
					 * cycle, their member lists new */
	int all_dirty;			/* write everything (after a full read) */
	int broken;			/* an entry could not be recorded: the
					 * snapshot must not be trusted */
};

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);

/* Load every row of the store into s (s must be empty). */
int snapshot_load(struct snapshot *s, struct state *st, struct err *err);

/* Write what changed (all of it after snapshot_reset()) in the caller's
 * transaction. */
int snapshot_save(struct snapshot *s, struct state *st, struct err *err);

/* An object's name in the snapshot: "u:" or "g:" and the uuid (users and
 * groups are searched apart; one entry may be both).  Caller frees. */
char *snapshot_name(enum rec_kind kind, const char *uuid);

/* Forget everything: the next save replaces the store's snapshot. */
void snapshot_reset(struct snapshot *s);

/* Record entry e under uuid.  For a group, member_attr names the member
 * attribute: it (and its ";range=" forms) are left out of the encoded
 * entry, and members (n normalised DNs, copied) are kept instead; NULL
 * members keeps the group's previous list when it has one.  An entry whose
 * DN changes has its old DN remembered for snapshot_listing(). */
int snapshot_put(struct snapshot *s, const char *uuid, enum rec_kind kind,
    int disabled, const struct entry *e, const char *member_attr,
    char *const *members, size_t n, struct err *err);

/* Move every object of from into s, replacing, with snapshot_put()'s DN
 * bookkeeping; the groups among them count as fresh.  from ends empty. */
int snapshot_merge(struct snapshot *s, struct snapshot *from,
    struct err *err);

/* Replace a group's member list (normalised DNs, copied). */
int snapshot_set_members(struct snapshot *s, const char *uuid,
    char *const *members, size_t n, struct err *err);

/* Forget uuid (its DN remembered for snapshot_listing()).  1 when it was
 * there, 0 when not, -1 out of memory. */
int snapshot_del(struct snapshot *s, const char *uuid);

/* The DNs (as the server wrote them) of the groups, not merged fresh this
 * cycle, whose member lists hold a DN that left or changed: groups that
 * slapd's refint or AD's links may have changed unreported, to be read
 * again.  The caller frees each string and the array; -1 out of memory. */
int snapshot_listing(const struct snapshot *s, char ***dns, size_t *n);
/* Set a user's disabled flag; 1 when it changed. */
int snapshot_set_disabled(struct snapshot *s, const char *uuid, int disabled);

/* The entry of o as the server sent it, the group's members under
 * member_attr.  e points into o and into v, which the caller keeps until it
 * is done with e and then frees with snapshot_view_free().  L2S_EPARSE
 * when the stored bytes are damaged. */
struct snap_view {
	struct entry_attr *attrs;
	size_t attrs_cap;
	struct value *vals;
	size_t vals_cap;
};
#define SNAP_VIEW_INIT { NULL, 0, NULL, 0 }
int snapshot_entry(const struct snap_obj *o, const char *member_attr,
    struct snap_view *v, struct entry *e, struct err *err);
void snapshot_view_free(struct snap_view *v);

/* A digest (16 hex digits) of the uuids of the disabled users, for
 * noticing a change in that set without loading the snapshot. */
void snapshot_disabled_digest(char *const *uuids, size_t n, char out[17]);

#endif
