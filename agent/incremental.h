/*
 * incremental.h - sync.incremental: ask the directory only what changed
 *
 * OpenLDAP: RFC 4533 content synchronisation, refreshOnly, one search for
 * users and one for groups, each with its cookie kept in the state store.
 * Active Directory: the users and groups whose uSNChanged passed the DC's
 * highestCommittedUSN of the last read, and every object of the domain
 * changed since (tombstones included, Show Deleted control) for what left;
 * the DC's invocationId must not have changed.
 * What changed is applied to the snapshot of the last read (snapshot.h)
 * and the whole read is rebuilt from it, so planning and every safety rule
 * see what a full read would have shown.  When nothing changed (no entry
 * reported, the set of disabled users the same, the last cycle finished
 * cleanly) the cycle ends there.
 *
 * A full read instead, never removals on doubt, when: `sync --full`; no
 * cookie yet; the config file or the server differs from the last full
 * read; sync.full_interval passed; the server cannot serve the cookie
 * (e-syncRefreshRequired); a present phase reports nothing present; the
 * snapshot is damaged; the server offers no content synchronisation
 * (a warning; then every cycle reads everything); groups.nested is
 * in_chain; a filter tests memberOf; on AD, another or a restored DC
 * (invocationId) or a USN that went back; and after a cycle that a safety
 * rule refused.
 */
#ifndef L2S_INCREMENTAL_H
#define L2S_INCREMENTAL_H

#include "config.h"
#include "err.h"
#include "ldap.h"
#include "source.h"
#include "state.h"

enum incr_mode {
	INCR_FULL,		/* everything was read */
	INCR_CHANGES,		/* changes applied to the snapshot */
	INCR_UNCHANGED,		/* nothing changed: res was not filled */
};

struct incr_result {
	enum incr_mode mode;
	char why[200];		/* INCR_FULL: why */
	size_t changes;		/* entries reported added, changed or gone */
};

/* Read through c into res (which the caller initialised and frees).  st
 * is the state store; with dry_run nothing is saved in it.  full asks for
 * a full read. */
int incremental_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct state *st, int dry_run, int full,
    struct incr_result *out, struct err *err);

/* The cycle applied everything it planned: the next cycle may end early
 * when nothing changes.  Any other end leaves the next cycle to plan. */
int incremental_clean(struct state *st, struct err *err);

/* Something outside an incremental cycle changed the state (state
 * forget, a cycle without sync.incremental). */
int incremental_unclean(struct state *st, struct err *err);

/* The next cycle reads everything (a safety rule refused what changes
 * gave: a full read decides). */
int incremental_forget(struct state *st, struct err *err);

#endif
