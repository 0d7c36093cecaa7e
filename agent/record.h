/*
 * record.h - canonical directory objects, as read and as remembered
 *
 * A record is what one LDAP entry becomes after mapping: its stable key
 * (entryUUID / objectGUID, which goes to SCIM externalId), its DN (for
 * messages and member resolution only: never an identity), a flat, sorted
 * set of SCIM attributes (path -> string value), and for a group the sorted
 * keys of its member users.  The same struct describes what the state store
 * remembers as last confirmed by the SCIM service; then scim_id is set.
 *
 * Attribute values are UTF-8 strings.  The path "active" holds "true" or
 * "false"; the enterprise manager path holds the manager's key.
 */
#ifndef L2S_RECORD_H
#define L2S_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

struct cJSON;

/*
 * Memory: a path is interned in a process-wide pool that is never freed (a
 * handful of mapped names), so equal paths share one string and setting a
 * path costs no allocation for it.  The values of a set live in a few
 * blocks the set owns (struct attrs_blk): attrs_free() frees those blocks,
 * never a value one by one.  Nobody but record.c writes these fields.
 * Group member keys are interned in the same pool: a key is kept once
 * however many groups, read or remembered, list it.  The pool grows with
 * the distinct paths and keys a process meets (a directory's users).
 * It makes this module not thread-safe (the agent has one thread).
 */
struct attr {
	char *path;		/* interned: never freed, never written */
	char *value;		/* in the set's blocks: valid until the set is
				   freed (a replaced or deleted value stays
				   readable until then) */
};

struct attrs_blk;

struct attrs {
	size_t n, cap;
	struct attr *v;		/* sorted by path (strcmp), paths unique */
	struct attrs_blk *blk;	/* owned: where the values live */
};

#define ATTRS_INIT { 0, 0, NULL, NULL }

struct buf;

/* Set path to a copy of value (replacing any).  0, or -1 out of memory.
 * value may point into a itself. */
int attrs_set(struct attrs *a, const char *path, const char *value);
/* The same for len bytes at value (no NUL needed) and a path that is the
 * pool's already (record_pooled()): the path is not looked up again. */
int attrs_set_pooled(struct attrs *a, const char *path, const char *value,
    size_t len);
/* Room for n attributes in all, so that setting them allocates no more
 * entries; 0, or -1 out of memory (a unchanged). */
int attrs_reserve(struct attrs *a, size_t n);
/* Borrowed value, or NULL. */
const char *attrs_get(const struct attrs *a, const char *path);
int attrs_del(struct attrs *a, const char *path);	/* 1 removed, 0 absent */
int attrs_equal(const struct attrs *a, const struct attrs *b);
/*
 * For a caller about to compare many sets that memory holds far apart
 * (the diff: a directory's records against the state's): ask the memory
 * (L2S_PREFETCH) for a's entries, and later, once they have arrived, for
 * its values.  Hints: they return at once and change nothing.
 */
void attrs_prefetch(const struct attrs *a);
void attrs_prefetch_values(const struct attrs *a);
int attrs_copy(struct attrs *dst, const struct attrs *src);	/* dst empty */
void attrs_free(struct attrs *a);

/* {"path":"value",...}; the caller owns the result (free()); NULL on ENOMEM. */
char *attrs_to_json(const struct attrs *a);
/* The same text appended to b (check buf_failed()). */
void attrs_json_buf(const struct attrs *a, struct buf *b);
/* Parse what attrs_to_json() wrote (any JSON object of string values);
 * 0, or -1 when s is not such an object or out of memory. */
int attrs_from_json(struct attrs *a, const char *s);

/*
 * The compact form the state store keeps (schema version 3): for each
 * attribute in order, one byte naming a well-known path (1..) or 0 then
 * the path and a NUL, then the value and a NUL.  attrs_to_blob() appends
 * it to b (check buf_failed()); attrs_from_blob() replaces a's contents:
 * 0, -1 out of memory, or 1 when blob is not such a form (a unchanged).
 */
void attrs_to_blob(const struct attrs *a, struct buf *b);
int attrs_from_blob(struct attrs *a, const void *blob, size_t len);

enum rec_kind { REC_USER, REC_GROUP };

struct record {
	enum rec_kind kind;
	const char *key;	/* the pool's (see above: never freed, never
				   written): the immutable directory id, so
				   a read record and the state's record of
				   one object share one string */
	char *dn;		/* owned; may be NULL for state records */
	char *name;		/* owned: userName, or the group's displayName */
	struct attrs attrs;	/* user: mapped SCIM attributes incl. "active";
				   group: "displayName" */
	char **members;		/* owned array, sorted, unique user keys
				   (groups); the keys are the pool's (see
				   above: never freed, never written), so
				   free(members) alone frees it; only
				   record.c builds it */
	size_t nmembers;
	char *held;		/* owned: why this read record must not be
				   acted on (state kept as it is), or NULL */
	/* State only: */
	char *scim_id;		/* owned: the id the SCIM service assigned */
	int removed;		/* deactivated because it left LDAP */
	const char *tail_end;	/* record_new_with(): dn, name and scim_id
				 * live after the struct, up to here, in
				 * its own allocation; else NULL */
};

struct record *record_new(enum rec_kind kind, const char *key);
/*
 * The same, with copies of scim_id, name and dn (each may be NULL) in the
 * record's own allocation: one allocation for what would be four, made
 * and freed a hundred thousand times by a state load.  record_free()
 * frees them with it.  A caller that changes one of the three frees the
 * old one with record_free_str(), never free().
 */
struct record *record_new_with(enum rec_kind kind, const char *key,
    const char *scim_id, const char *name, const char *dn);
void record_free_str(const struct record *r, char *s);
void record_free(struct record *r);
void record_free_v(void *r);		/* for hmap_free() */
/* hmap_free(m, record_free_v), faster for a large table: a directory's
 * records, or the state's. */
void records_free(struct hmap *m);
/* Deep copy; NULL on ENOMEM. */
struct record *record_dup(const struct record *r);

/* Set the sorted, de-duplicated member list from n keys (copied; keys
 * may point into r's own members). */
int record_set_members(struct record *r, const char *const *keys, size_t n);
/* The same for keys that are the pool's already (record_pooled(), or a
 * record's members): no lookup.  No other string may be passed. */
int record_set_member_keys(struct record *r, const char *const *keys,
    size_t n);
/* The pool's copy of key (see above), for record_set_member_keys(); NULL
 * out of memory. */
const char *record_pooled(const char *key);
/* Room in the pool for n more keys, so that interning them never grows
 * it (a directory's worth, known ahead).  0, or -1 out of memory. */
int record_pool_reserve(size_t n);
/* Make v (malloc'd: n keys, the pool's, sorted by strcmp and unique; the
 * caller vouches for all three) r's members; r frees it. */
void record_adopt_members(struct record *r, char **v, size_t n);
/* Set the members from len bytes of keys, each ended by a NUL, sorted
 * (strcmp) and unique (copied).  0; -1 out of memory; 1 when blob is not
 * so.  r is unchanged unless 0. */
int record_members_from_blob(struct record *r, const char *blob, size_t len);
/* Is key a member?  (binary search) */
int record_has_member(const struct record *r, const char *key);

/* The result of one read of the directory. */
struct readset {
	struct hmap users;	/* key -> struct record * (owned) */
	struct hmap groups;	/* key -> struct record * (owned) */
	int complete;		/* every page and every search arrived */
	size_t nentries;	/* entries seen, including skipped ones */
	size_t nskipped;	/* entries without a usable key */
};

void readset_init(struct readset *rs);
void readset_free(struct readset *rs);

#endif
