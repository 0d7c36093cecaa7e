/*
 * plan.h - the operations one cycle will send, and how they are shown
 *
 * A plan is what diff_build() derives from the directory read and the
 * state store: an ordered list of operations in which users come before
 * the groups that reference them and managers before their reports,
 * group member removals before user removals, and group deletions last.
 * Records are borrowed from the readset and the state maps the plan was
 * built from; the plan must not outlive them.
 *
 * plan_print_text() and plan_print_json() render it for --dry-run: the
 * human text and the machine JSON show the same operations with their
 * before and after attribute values, then the entries skipped or held
 * back with the reason.  Pure: writes only to the buffer.
 */
#ifndef L2S_PLAN_H
#define L2S_PLAN_H

#include <stddef.h>

#include "buf.h"
#include "record.h"

enum op_kind {
	OP_USER_CREATE,
	OP_USER_UPDATE,		/* changed attributes, or reactivation */
	OP_USER_DEACTIVATE,	/* left LDAP, removal: deactivate */
	OP_USER_DELETE,		/* left LDAP, removal: delete */
	OP_GROUP_CREATE,
	OP_GROUP_UPDATE,	/* rename and/or member deltas */
	OP_GROUP_DELETE,
	OP_KINDS
};

struct op {
	enum op_kind kind;
	const struct record *want;	/* borrowed: from the read (NULL on removal) */
	const struct record *have;	/* borrowed: from the state (NULL on create) */
	/* OP_GROUP_UPDATE / OP_GROUP_CREATE: member keys (borrowed strings) */
	const char **add;		/* owned array */
	size_t nadd;
	const char **del;		/* owned array */
	size_t ndel;
	int rename;			/* OP_GROUP_UPDATE: the name changed */
	int recreate;			/* OP_GROUP_UPDATE with rename, and
					 * scim.group_rename is recreate: the
					 * group is created anew under its new
					 * name with all its members (want's),
					 * then the old one is deleted */
};

/* An entry of the read that the plan leaves out, and why: skipped (out of
 * scope: no key, email_domains, ...) or held back (left as it is). */
struct plan_note {
	const char *type;		/* "user" or "group" */
	const char *dn;
	const char *reason;
	int held;
};

struct plan {
	struct op *ops;			/* owned */
	size_t n, cap;
	size_t count[OP_KINDS];
	size_t held;			/* read objects held back (see source.h) */
	size_t removals;		/* deactivations + deletions of users and groups */
	/* Borrowed, for showing member and manager keys by name: */
	const struct hmap *want_users;
	const struct hmap *have_users;
	/* Borrowed, shown after the operations: */
	const struct plan_note *notes;
	size_t nnotes;
};

#define PLAN_INIT { NULL, 0, 0, { 0 }, 0, 0, NULL, NULL, NULL, 0 }

void plan_free(struct plan *p);

/* "create user", "update group", ... */
const char *plan_op_name(enum op_kind k);

/* Human text / JSON of every operation into out. */
void plan_print_text(const struct plan *p, struct buf *out);
void plan_print_json(const struct plan *p, struct buf *out);

/* The one-line counts: "2 user creates, 1 update, ..." into out. */
void plan_summary(const struct plan *p, struct buf *out);

#endif
