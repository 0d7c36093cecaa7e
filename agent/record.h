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

struct attr {
	char *path;		/* owned */
	char *value;		/* owned */
};

struct attrs {
	size_t n, cap;
	struct attr *v;		/* sorted by path (strcmp), paths unique */
};

#define ATTRS_INIT { 0, 0, NULL }

/* Set path to a copy of value (replacing any).  0, or -1 out of memory. */
int attrs_set(struct attrs *a, const char *path, const char *value);
/* Borrowed value, or NULL. */
const char *attrs_get(const struct attrs *a, const char *path);
int attrs_del(struct attrs *a, const char *path);	/* 1 removed, 0 absent */
int attrs_equal(const struct attrs *a, const struct attrs *b);
int attrs_copy(struct attrs *dst, const struct attrs *src);	/* dst empty */
void attrs_free(struct attrs *a);

/* {"path":"value",...}; the caller owns the result (free()); NULL on ENOMEM. */
char *attrs_to_json(const struct attrs *a);
/* Parse what attrs_to_json() wrote; 0, or -1 when s is not such an object. */
int attrs_from_json(struct attrs *a, const char *s);

enum rec_kind { REC_USER, REC_GROUP };

struct record {
	enum rec_kind kind;
	char *key;		/* owned: the immutable directory id */
	char *dn;		/* owned; may be NULL for state records */
	char *name;		/* owned: userName, or the group's displayName */
	struct attrs attrs;	/* user: mapped SCIM attributes incl. "active";
				   group: "displayName" */
	char **members;		/* owned, sorted, unique user keys (groups) */
	size_t nmembers;
	char *held;		/* owned: why this read record must not be
				   acted on (state kept as it is), or NULL */
	/* State only: */
	char *scim_id;		/* owned: the id the SCIM service assigned */
	int removed;		/* deactivated because it left LDAP */
};

struct record *record_new(enum rec_kind kind, const char *key);
void record_free(struct record *r);
void record_free_v(void *r);		/* for hmap_free() */
/* Deep copy; NULL on ENOMEM. */
struct record *record_dup(const struct record *r);

/* Set the sorted, de-duplicated member list from n keys (copied). */
int record_set_members(struct record *r, const char *const *keys, size_t n);
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
