/*
 * entry.c - looking up attributes of one borrowed LDAP entry
 *
 * Attribute names match ASCII case-insensitively, independent of the
 * locale (LDAP descriptors are ASCII), as LDAP servers treat them.
 * No allocation, no I/O.  entry_attr() keeps a small memo of where a name
 * was last found, by the address of the name (a mapping's names stay put
 * for a whole read): a server sends every entry's attributes in the same
 * order, so the memo's place is tried first and the scan is mostly
 * skipped.  The memo never changes a result (a miss scans as before); it
 * makes this module single-threaded, like the agent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	/* Mostly spelled the same: the C library's comparison first, which
	 * takes many bytes a step. */
	if (strcmp(a, b) == 0)
		return 1;
	while (*a != '\0' && *b != '\0') {
		if (ascii_lower((unsigned char)*a) !=
		    ascii_lower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
	return *a == *b;
}

#define MEMO_SLOTS 64

static struct {
	const char *name;
	size_t at;
} memo[MEMO_SLOTS];

const struct entry_attr *
entry_attr(const struct entry *e, const char *name)
{
	size_t i, slot;
	int c0;

	if (e == NULL || name == NULL)
		return NULL;
	slot = ((uintptr_t)name >> 3) % MEMO_SLOTS;
	if (memo[slot].name == name && memo[slot].at < e->nattrs) {
		const struct entry_attr *a = &e->attrs[memo[slot].at];

		if (a->name != NULL && ascii_caseeq(a->name, name))
			return a;
	}
	/* Every mapped value looks its attribute up here: the first
	 * letter, compared in line, turns most names away. */
	c0 = ascii_lower((unsigned char)name[0]);
	for (i = 0; i < e->nattrs; i++) {
		const struct entry_attr *a = &e->attrs[i];

		if (a->name != NULL &&
		    ascii_lower((unsigned char)a->name[0]) == c0 &&
		    ascii_caseeq(a->name, name)) {
			memo[slot].name = name;
			memo[slot].at = i;
			return a;
		}
	}
	return NULL;
}

const struct value *
entry_first(const struct entry *e, const char *name)
{
	const struct entry_attr *a = entry_attr(e, name);

	if (a == NULL || a->nvals == 0 || a->vals == NULL ||
	    a->vals[0].len == 0)
		return NULL;
	return &a->vals[0];
}
