/*
 * glob.c - shell patterns (see glob.h)
 *
 * Backtracking on the last '*' only: a later '*' can absorb whatever an
 * earlier one would have, so one restart point suffices and the match is
 * linear in practice, quadratic at worst, never exponential.
 */
#include <ctype.h>
#include <string.h>

#include "glob.h"

/* Does byte c belong to the class named by [name, name + len)?  -1 when
 * no such class (the bracket is then taken literally by the caller). */
static int
class_has(const char *name, size_t len, unsigned char c)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} classes[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper },
		{ "xdigit", isxdigit },
	};
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i].name) == len &&
		    memcmp(classes[i].name, name, len) == 0)
			return classes[i].is(c) != 0;
	return -1;
}

/*
 * The bracket expression at p (just after its '['), against c.  Returns
 * the pattern after the closing ']' and sets *hit, or NULL when the
 * bracket is not closed (or names an unknown class): then '[' is literal.
 */
static const char *
bracket(const char *p, unsigned char c, int *hit)
{
	int negate = 0, in = 0, first = 1;

	if (*p == '!' || *p == '^') {
		negate = 1;
		p++;
	}
	for (;; first = 0) {
		unsigned char lo, hi;

		if (*p == '\0')
			return NULL;
		if (*p == ']' && !first)
			break;
		if (p[0] == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]");
			int r;

			if (end == NULL)
				return NULL;
			r = class_has(p + 2, (size_t)(end - p - 2), c);
			if (r < 0)
				return NULL;
			in |= r;
			p = end + 2;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\' && p[1] != '\0')
				p++;
			hi = (unsigned char)*p++;
		}
		if (lo <= c && c <= hi)
			in = 1;
	}
	*hit = in != negate;
	return p + 1;
}

int
glob_match(const char *pattern, const char *s)
{
	const char *p = pattern, *star = NULL, *resume = NULL;

	for (;;) {
		const char *next = NULL;
		int hit = 0;

		if (*p == '*') {
			while (*p == '*')
				p++;
			star = p;
			resume = s;
			continue;
		}
		if (*s == '\0') {
			if (*p == '\0')
				return 1;
			goto backtrack;
		}
		if (*p == '\0')
			goto backtrack;
		if (*p == '?') {
			next = p + 1;
			hit = 1;
		} else if (*p != '[' ||
		    (next = bracket(p + 1, (unsigned char)*s, &hit)) == NULL) {
			/* a literal byte (an unclosed '[' included) */
			if (*p == '\\' && p[1] != '\0')
				p++;
			hit = *p == *s;
			next = p + 1;
		}
		if (hit) {
			p = next;
			s++;
			continue;
		}
backtrack:
		if (star == NULL || *resume == '\0')
			return 0;
		p = star;
		s = ++resume;
	}
}
