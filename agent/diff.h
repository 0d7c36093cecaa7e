/*
 * diff.h - what must change so that the SCIM service equals the directory
 *
 * Pure: compares the records read from LDAP with the records the state
 * store remembers and builds a plan (plan.h).  No I/O, no logging.
 *
 * - A user in LDAP but not in the state is created; one whose attributes
 *   differ from what was last sent, or that had been deactivated, is
 *   updated (an update carries only the changed attributes).
 * - A user in the state but not in LDAP is deactivated or deleted per
 *   sync.removal (an already deactivated one is left alone, or deleted
 *   once removal is switched to delete).
 * - Groups are created, renamed, and get member deltas (never full lists);
 *   a group that left LDAP is deleted.
 * - Held records (source.h) produce no operation at all.
 *
 * guard_check() then decides whether the plan may run.
 */
#ifndef L2S_DIFF_H
#define L2S_DIFF_H

#include "config.h"
#include "err.h"
#include "hmap.h"
#include "plan.h"
#include "record.h"

/* Build the plan.  want is the read; have_users/have_groups the state maps
 * (key -> struct record *).  The plan borrows records from all three. */
int diff_build(struct plan *out, const struct readset *want,
    const struct hmap *have_users, const struct hmap *have_groups,
    const struct config *cfg, struct err *err);

/* The never-remove-on-doubt rules: refuse (L2S_EUNSAFE, with the counts and
 * the first objects concerned) when the read is incomplete, when users or
 * groups came back empty while the state holds some, or when the plan's
 * removals exceed sync.max_removals (objects against the objects synced;
 * memberships taken from users who stay against the memberships synced; a
 * percentage rounds up).  force lifts only the limits, never the first two rules. */
int guard_check(const struct plan *p, const struct readset *want,
    const struct hmap *have_users, const struct hmap *have_groups,
    const struct config *cfg, int force, struct err *err);

#endif
