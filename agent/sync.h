/*
 * sync.h - one cycle: lock, read, diff, guard, then dry-run or apply
 *
 * The order never changes: nothing is written anywhere before the
 * directory read is complete and the guard accepted the plan.  In apply,
 * each operation the SCIM service confirmed is recorded in the state store
 * at once, so a crash loses nothing; an operation that failed is reported
 * and the rest of the cycle goes on (the next cycle retries it).
 *
 * A dry run takes no lock, opens the state read-only (creating nothing),
 * sends no SCIM request at all and prints the plan.
 */
#ifndef L2S_SYNC_H
#define L2S_SYNC_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "plan.h"

struct sync_opts {
	int dry_run;
	int json;		/* dry run: print the plan as JSON */
	int force;		/* lift sync.max_removals (never an incomplete read) */
	int full;		/* sync.incremental: read everything this time */
};

/* Where a cycle stopped, so that main can choose the exit code. */
enum sync_phase {
	PHASE_NONE,		/* finished */
	PHASE_LOCAL,		/* secrets, lock, state store */
	PHASE_LDAP,		/* connect, bind, read */
	PHASE_GUARD,		/* refused by a safety rule */
	PHASE_SCIM,		/* SCIM unreachable or auth refused */
};

struct sync_stats {
	size_t users_read, groups_read;
	size_t planned[OP_KINDS];
	size_t done[OP_KINDS];
	size_t failed;		/* operations that failed this cycle */
	size_t held;
	size_t adopted;		/* 409s resolved by adopting the remote object */
	size_t skipped;		/* group conflicts left alone */
	size_t recreated;	/* group updates that recreated the group */
	unsigned long requests;
	unsigned long retries;	/* requests sent again after a failure */
	double seconds;
	enum sync_phase phase;
	int stopped;		/* a stop request ended the apply early */
	int unchanged;		/* incremental: nothing changed, no plan made */
};

/* Run one cycle with cfg (borrowed).  The plan text (dry run) is appended
 * to out.  Returns L2S_OK when the cycle ran (st->failed may still be
 * non-zero), or the outcome that stopped it with st->phase and err set. */
int sync_cycle(const struct config *cfg, const struct sync_opts *o,
    struct sync_stats *st, struct buf *out, struct err *err);

/* One target's outcome in a cycle of several. */
struct sync_target {
	const char *name;	/* borrowed from the config */
	int rc;			/* as sync_cycle() returns it */
	struct err err;		/* set when rc is not L2S_OK */
	struct sync_stats st;
	struct buf out;		/* the dry run's plan; the caller frees it */
};

/* A cycle for a file with targets: each target's lock and state, then ONE
 * read of the directory (source_read_targets()) feeding every target whose
 * lock and state were in hand, then each target's diff, guard and apply
 * (or plan) on its own: one target refused or failing does not stop the
 * others.  res has config_ntargets(cfg) elements. */
int sync_targets(const struct config *cfg, const struct sync_opts *o,
    struct sync_target *res);

/* check: config loaded; bind to LDAP, read the root DSE, open the state
 * read-only, authenticate to SCIM.  Changes nothing.  One info line per
 * step through log_info(). */
int sync_check(const struct config *cfg, struct sync_stats *st, struct err *err);

/* The one-line summary of a finished cycle into out. */
void sync_summary(const struct sync_stats *st, int dry_run, struct buf *out);

/* The run lock's path: beside the state file, "STATE.lock".  The caller
 * owns the result (free()); NULL on ENOMEM. */
char *sync_lock_path(const char *state);

/* Read a secret from file or environment (exactly one is set).  The caller
 * owns *out (platform_secret_free()). */
int sync_secret(const char *file, const char *env, const char *what,
    char **out, struct err *err);

#endif
