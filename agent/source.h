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
};

void source_result_init(struct source_result *res);
void source_result_free(struct source_result *res);

/* Read users (and groups when enabled) through c.  Returns L2S_OK with
 * res->rs.complete set when everything arrived; L2S_ELDAP when a search
 * failed (res->rs.complete stays 0; what was read is kept for messages
 * only).  res must be initialised; the caller frees it either way. */
int source_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct err *err);

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

/* The canonical text of a key value: objectGUID (16 bytes) as the
 * registry-form GUID string, anything else as UTF-8 text.  The caller owns
 * *out; L2S_EPARSE when the value is neither. */
int source_key_text(const char *attr, const struct value *v, char **out);

#endif
