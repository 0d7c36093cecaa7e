/*
 * entry.c - looking up attributes of one borrowed LDAP entry
 *
 * Attribute names match ASCII case-insensitively, independent of the
 * locale (LDAP descriptors are ASCII), as LDAP servers treat them.
 * Pure: no allocation, no I/O.
 */
#include <stddef.h>

#include "entry.h"

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (ascii_lower((unsigned char)*a) !=
		    ascii_lower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
	return *a == *b;
}

const struct entry_attr *
entry_attr(const struct entry *e, const char *name)
{
	size_t i;

	int c0;

	if (e == NULL || name == NULL)
		return NULL;
	/* Every mapped value looks its attribute up here: the first
	 * letter, compared in line, turns most names away. */
	c0 = ascii_lower((unsigned char)name[0]);
	for (i = 0; i < e->nattrs; i++) {
		const struct entry_attr *a = &e->attrs[i];

		if (a->name != NULL &&
		    ascii_lower((unsigned char)a->name[0]) == c0 &&
		    ascii_caseeq(a->name, name))
			return a;
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
