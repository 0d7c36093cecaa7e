/*
 * source.h - read the directory into canonical records
 *
 * One read: the disabled-users search (when users.disabled_filter is set),
 * the users search and the groups search, each paged.  Entries are mapped
 * into records as they stream in; afterwards group member DNs are resolved
 * to user keys (nested groups flattened when configured, with cycle
 * detection) and manager DNs to the manager's key.
 *
 * The readset is marked complete only when every search returned every
 * page.  Entries that cannot be acted on safely are kept but "held" with a
 * reason (invalid UTF-8, no userName, a userName or group name used twice):
 * a held object is neither created, updated nor removed.  Entries without
 * a key are skipped and noted.
 */
#ifndef L2S_SOURCE_H
#define L2S_SOURCE_H

#include "config.h"
#include "err.h"
#include "ldap.h"
#include "record.h"
#include "snapshot.h"

struct source_work;

struct source_note {
	enum rec_kind kind;	/* a user or a group entry */
	char *dn;		/* owned */
	char *reason;		/* owned */
};

struct source_result {
	struct readset rs;
	struct source_note *notes;	/* skipped entries, in arrival order */
	size_t nnotes;
	struct source_work *work;	/* owned: DN indexes until resolved */
	int ad;				/* read as Active Directory */
	struct snapshot *snap;		/* borrowed, optional: source_read()
					 * records every entry it reads here */
	int photo_write;		/* users.photo: write the images (not
					 * in a dry run) */
	struct hmap photo_kept;		/* users.photo: user key -> why the
					 * image could not be used (owned);
					 * the photo the service has stays */
	size_t expect_users;		/* optional: the users and groups the
					 * read will likely find (the state's,
					 * for a full read), to size its
					 * tables at once; 0: unknown.  Only
					 * memory use and speed depend on it */
	size_t expect_groups;
};

void source_result_init(struct source_result *res);
void source_result_free(struct source_result *res);

/* Free the DN indexes of a finished read (the records stay): a large
 * directory's read need not keep them while the cycle plans and applies. */
void source_done(struct source_result *res);

/* Read users (and groups when enabled) through c.  Returns L2S_OK with
 * res->rs.complete set when everything arrived; L2S_ELDAP when a search
 * failed (res->rs.complete stays 0; what was read is kept for messages
 * only).  res must be initialised; the caller frees it either way. */
int source_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err);

/* One read for several targets (a file with targets): for each target a
 * search for the uuids (entryUUID, objectGUID) its own base and filters
 * select, then one users search and one groups search under
 * root->ldap.base_dn with the targets' filters joined by '|' and every
 * attribute any target maps; each entry is mapped into the res[i] of the
 * targets that selected it, with that target's config.  Every target's
 * base must be under ldap.base_dn.  All or nothing: on any failure no
 * res[i] is complete.  No snapshot (incremental reads serve one target). */
int source_read_targets(struct source_result **res, struct ldapconn *c,
    const struct config *const *cfgs, size_t n, const struct config *root,
    struct err *err);

/* Active Directory, incremental: read into res->snap (required) only the
 * users and groups whose uSNChanged is in usn_range, a filter component
 * such as "(uSNChanged>=101)(uSNChanged<=200)", member ranges included.
 * Nothing is resolved and rs.complete stays 0: the entries are for the
 * snapshot only. */
int source_read_since(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, const char *usn_range, struct err *err);

/* Read the groups dns again (base reads with groups.filter, member
 * ranges included) into res->snap; a DN that is gone or no longer matches
 * is left out. */
int source_read_groups(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, char *const *dns, size_t n, struct err *err);

/* After source_from_snapshot(): the member DNs of the groups named (as the
 * server wrote their DNs) that are at or below users.base_dn but neither a
 * user nor a group of the read, at most max (L2S_EUNSAFE with *out set
 * when there are more).  Such a DN is a user out of scope, or one whose DN
 * the snapshot does not know (an OU renamed).  Caller frees. */
int source_stray_members(const struct source_result *res,
    const struct config *cfg, char *const *groups, size_t ngroups,
    size_t max, char ***out, size_t *n, struct err *err);

/* Is the directory Active Directory?  The configured dialect, or with
 * dialect auto what the root DSE says.  L2S_ELDAP when it cannot be read. */
int source_dialect_ad(struct ldapconn *c, const struct config *cfg, int *ad,
    struct err *err);

/* The part of source_read() that needs no server: map one user or group
 * entry into res (exposed for unit tests).  disabled says whether the user
 * matched users.disabled_filter. */
int source_add_user(struct source_result *res, const struct config *cfg,
    const struct entry *e, int disabled, struct err *err);
int source_add_group(struct source_result *res, const struct config *cfg,
    const struct entry *e, struct err *err);
/* Resolve member and manager DNs once every entry was added. */
int source_resolve(struct source_result *res, const struct config *cfg,
    struct err *err);

/* The attribute that names an entry for incremental reads: objectGUID on
 * AD, entryUUID elsewhere. */
const char *source_uuid_attr(int ad);

/* The attributes the users or groups search asks for (with the uuid
 * attribute).  The caller frees *out (the strings are borrowed from cfg or
 * static; member names one of the caller's size-128 buffer). */
int source_attrs(const struct config *cfg, int ad, enum rec_kind kind,
    const char ***out, char member[128], struct err *err);

/* The uuids of the users that match users.disabled_filter (or AD's
 * default one); *uuids NULL and *n 0 when there is no such filter.  The
 * caller frees each string and the array. */
int source_disabled_uuids(struct ldapconn *c, const struct config *cfg,
    int ad, char ***uuids, size_t *n, struct err *err);

/* The normalised DNs in e's member attribute (values that are not DNs
 * left out).  The caller frees each string and the array. */
int source_member_dns(const struct config *cfg, const struct entry *e,
    char ***dns, size_t *n, struct err *err);

/* Rebuild a whole read from snap, as if source_read() had read exactly
 * what it holds; res->rs.complete is set on success. */
int source_from_snapshot(struct source_result *res, const struct config *cfg,
    int ad, const struct snapshot *snap, struct err *err);

/* The canonical text of a key value: objectGUID (16 bytes) as the
 * registry-form GUID string, anything else as UTF-8 text.  The caller owns
 * *out; L2S_EPARSE when the value is neither. */
int source_key_text(const char *attr, const struct value *v, char **out);

#endif
