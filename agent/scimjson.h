/*
 * scimjson.h - SCIM resources and PATCH operations built from records
 *
 * Pure: builds cJSON trees (RFC 7643 User and Group, RFC 7644 PATCH
 * operations); no I/O, no logging.  The flat attribute paths of a record
 * ("name.givenName", "emails[type eq \"work\"].value", "urn:...:User:
 * employeeNumber") become nested JSON; "active" becomes a boolean; the
 * enterprise manager (a user key) becomes {"value": SCIM id} through the
 * ids callback.  Every tree returned is the caller's (cJSON_Delete()).
 */
#ifndef L2S_SCIMJSON_H
#define L2S_SCIMJSON_H

#include <stddef.h>

#include "err.h"
#include "record.h"

struct cJSON;
struct mapping;

/* The SCIM id of the user with this key, or NULL when it has none yet.
 * The string is borrowed for the duration of the call that asked. */
typedef const char *(*scim_id_fn)(void *arg, const char *user_key);

/*
 * How a target wants its users shaped.  Of each multi-valued attribute
 * (emails, phoneNumbers, ims, photos, addresses), one element carries
 * "primary": true: the one of the first type mapped in map's order that
 * the user has (an element of type "work" comes first for emails, as it
 * always did); without map, the first type in path order.
 * single_email sends only that primary email and drops the others (AWS
 * IAM Identity Center takes one).  A NULL shape means { NULL, 0 }.
 */
struct scimjson_shape {
	const struct mapping *map;	/* borrowed, may be NULL */
	int single_email;
};

/* The full User resource for r (externalId = r->key).  Attributes of
 * custom extensions ("urn:...:Schema:attr[.sub]") go under the URN's
 * object, and every extension used is listed in "schemas". */
int scimjson_user(struct cJSON **out, const struct record *r,
    const struct scimjson_shape *shape, scim_id_fn ids, void *arg,
    struct err *err);

/* The PATCH operations turning before into after (changed paths only;
 * "remove" for paths that disappeared; "primary" moved when the primary
 * element changes).  *out is an array, possibly empty. */
int scimjson_user_patch(struct cJSON **out, const struct attrs *before,
    const struct attrs *after, const struct scimjson_shape *shape,
    scim_id_fn ids, void *arg, struct err *err);

/* The full Group resource: displayName, externalId, members (ids). */
int scimjson_group(struct cJSON **out, const struct record *g,
    const char *const *member_ids, size_t n, struct err *err);

/* One operation each: replace displayName; add members; remove members
 * (one "members[value eq \"ID\"]" op per id).  *out is an array. */
int scimjson_group_rename(struct cJSON **out, const char *name, struct err *err);
int scimjson_members_add(struct cJSON **out, const char *const *ids, size_t n,
    struct err *err);
int scimjson_members_remove(struct cJSON **out, const char *const *ids,
    size_t n, struct err *err);

/* The SCIM id's owner: the user key recorded for it, or NULL. */
typedef const char *(*scim_key_fn)(void *arg, const char *scim_id);

/* The reverse of scimjson_user() for the paths of mapping m (and "active"):
 * what the remote resource res holds, as flat attributes into out (which
 * must be empty).  Values that are absent or not strings are left out; the
 * manager's id becomes its key through keys (left out when unknown).  Used
 * to record a remote resource's real state before a diff. */
int scimjson_user_attrs(struct attrs *out, const struct cJSON *res,
    const struct mapping *m, scim_key_fn keys, void *arg, struct err *err);

/* Deactivation: replace active with false. */
int scimjson_deactivate(struct cJSON **out, struct err *err);

#endif
