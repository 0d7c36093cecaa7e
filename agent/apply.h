/*
 * apply.h - carry a plan out against the SCIM service
 *
 * Operations complete in plan order.  With scim.concurrency above 1 the
 * first requests of a window of independent operations of one kind (user
 * creates, user updates, group creates, member PATCHes of different
 * groups, ...) are sent together; each operation then completes with its
 * own answer as if it had sent it alone, and whatever is not a plain
 * success (409, 429, 5xx, a lost answer) takes the one-at-a-time path
 * below.  Each operation the service confirms is recorded in the state
 * store at once, so a crash loses nothing and never duplicates: a create
 * whose answer was lost is sent again next cycle, meets a 409, and the
 * existing resource is adopted.  A stop request ends the apply after the
 * operations whose success is already in hand are recorded.
 *
 * - 409 on create: the remote resource is looked up (users by externalId,
 *   then userName; groups by externalId, then displayName; each a single
 *   "eq" filter) and adopted: put to the desired state with a full PUT, or
 *   with profile atlassian (whose PUT clears what it leaves out) read and
 *   PATCHed to it, and recorded.  Groups follow groups.on_conflict (adopt,
 *   skip, fail).  A remote user recorded for a directory object that is
 *   gone (re-created in LDAP with a new key) is taken over and the old
 *   record dropped; one that belongs to another directory object still
 *   present is never taken.
 * - scim.group_rename: recreate: a renamed group is created anew (POST
 *   with its new name and members, the rest of them by PATCH), recorded,
 *   and the old one deleted.  The old group is marked to retire before the
 *   POST, so that when the run dies or the DELETE fails, apply_prepare()
 *   of a later cycle still deletes it (and records the new group if the
 *   state missed it); the group the state records is never the one
 *   deleted.
 * - Profile atlassian never sends PUT: a service whose
 *   ServiceProviderConfig denies PATCH ends the apply before anything is
 *   sent.  Profile aws sends only the primary email (scimjson.h).
 * - Member additions are never repeated blindly: after an ambiguous
 *   failure the group is read back and only what is missing is sent again.
 * - A failed operation is reported and the rest goes on; a refused token
 *   ends the cycle, and so do several operations in a row that failed
 *   because the service could not be reached.
 */
#ifndef L2S_APPLY_H
#define L2S_APPLY_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "hmap.h"
#include "plan.h"
#include "scim.h"
#include "state.h"

/* After this many operations in a row failed as unreachable, give up. */
#define APPLY_MAX_UNREACHABLE 3

struct apply_result {
	size_t done[OP_KINDS];	/* operations confirmed */
	size_t failed;		/* operations that failed (retried next cycle) */
	size_t adopted;		/* 409s resolved by adopting the remote object */
	size_t skipped;		/* group conflicts left alone (on_conflict: skip) */
	size_t recreated;	/* group updates done by recreating the group
				   (also counted in done[OP_GROUP_UPDATE]) */
	int stopped;		/* a stop request ended the apply early */
};

/*
 * Before the diff of a real cycle (never in a dry run): record in the state
 * what the service really holds where the state may lag behind it.
 * - An empty state (a first run, or after "state reset") lists the remote
 *   users and groups once: those whose externalId is a key just read are
 *   recorded as they are, so the diff sends only what differs and a user
 *   renamed meanwhile is not created twice.
 * - The object whose PATCH was in flight when a previous run died (its
 *   marker is still in the state) is read back, so a member addition or an
 *   element "add" is never sent twice.
 * - A group recreate left half done (see above) is finished: the new
 *   group recorded if need be, the old one deleted.
 * have_users and have_groups are updated in place; want is borrowed.  An
 * object that cannot be read back (the service answers garbage) keeps its
 * mark and its key goes into doubt (key -> (void *)1): apply_plan() then
 * leaves its operations for a later cycle.  *changed is increased by the
 * number of records brought up to date (the plan must then be built again).
 */
int apply_prepare(const struct config *cfg, struct state *state,
    struct scim *scim, struct hmap *have_users, struct hmap *have_groups,
    const struct readset *want, struct hmap *doubt, size_t *changed,
    struct err *err);

/* Carry out p.  have_users and have_groups are the state maps the plan was
 * built from (key -> struct record *); created users are added to
 * have_users.  want is the read (for conflict checks); doubt (may be NULL)
 * the keys from apply_prepare() whose operations wait.  All borrowed.
 * Returns L2S_OK when the apply ran to the end (res->failed may be
 * non-zero), or the outcome that ended it early (L2S_EAUTH, L2S_ETEMP for
 * an unreachable service) with err set. */
int apply_plan(const struct plan *p, const struct config *cfg,
    struct state *state, struct scim *scim, struct hmap *have_users,
    struct hmap *have_groups, const struct readset *want,
    const struct hmap *doubt, struct apply_result *res, struct err *err);

#endif
