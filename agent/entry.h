/*
 * entry.h - one LDAP entry as the source hands it to the mapping
 *
 * A view, not a copy: every pointer is borrowed from the LDAP module and is
 * valid only during the callback that received the entry.  Values are byte
 * strings with a length (they may be binary, or not NUL-terminated).
 */
#ifndef L2S_ENTRY_H
#define L2S_ENTRY_H

#include <stddef.h>

struct value {
	const char *p;
	size_t len;
};

struct entry_attr {
	const char *name;		/* as the server spelled it */
	size_t nvals;
	const struct value *vals;
};

struct entry {
	const char *dn;
	size_t nattrs;
	const struct entry_attr *attrs;
};

/* The attribute named name (ASCII case-insensitive), or NULL. */
const struct entry_attr *entry_attr(const struct entry *e, const char *name);

/* The first value of name when present and non-empty, else NULL. */
const struct value *entry_first(const struct entry *e, const char *name);

#endif
