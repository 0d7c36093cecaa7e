/*
 * filter.c - checking and escaping LDAP search filters (RFC 4515)
 *
 * filter_check() is a recursive-descent recogniser for the grammar of RFC
 * 4515 section 3: and, or, not, equality, substrings, >=, <=, ~=, presence
 * and extensible match, with attribute descriptions as in RFC 4512 (a
 * descriptor or a numeric OID, then ";option"s) and values made of UTF-8
 * text and \XX escapes.  It builds nothing: it only says whether the text
 * would be accepted by a conforming library, and if not, what is wrong and
 * at which byte offset (0-based).
 *
 * Pure: no I/O, no logging, no allocation except in filter_escape().
 */
#include <stdlib.h>
#include <string.h>

#include "filter.h"

#define FILTER_DEPTH_MAX 64

struct fparse {
	const char *s;		/* borrowed: the whole filter */
	size_t i;		/* the next byte to read */
	struct err *err;
};

static int
fail(struct fparse *p, size_t at, const char *what)
{
	return err_set(p->err, L2S_EPARSE, "%s at offset %zu", what, at);
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_keychar(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the UTF-8 sequence at s (a lead byte >= 0x80), or 0 when it is
 * not well formed (overlong forms, surrogates and values above U+10FFFF are
 * refused, as RFC 3629 requires). */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, k;
	unsigned long cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* numericoid = number 1*( DOT number ); number = DIGIT / LDIGIT 1*DIGIT */
static int
scan_numericoid(struct fparse *p)
{
	size_t start = p->i, parts = 0;

	for (;;) {
		size_t num = p->i;

		if (!is_digit(p->s[p->i]))
			return fail(p, p->i, "expected a digit in numeric OID");
		while (is_digit(p->s[p->i]))
			p->i++;
		if (p->s[num] == '0' && p->i - num > 1)
			return fail(p, num, "leading zero in numeric OID");
		parts++;
		if (p->s[p->i] != '.')
			break;
		p->i++;
	}
	if (parts < 2)
		return fail(p, start, "numeric OID needs at least two parts");
	return L2S_OK;
}

/* oid = descr / numericoid; descr = ALPHA *( ALPHA / DIGIT / HYPHEN ) */
static int
scan_oid(struct fparse *p, const char *what)
{
	if (is_alpha(p->s[p->i])) {
		while (is_keychar(p->s[p->i]))
			p->i++;
		return L2S_OK;
	}
	if (is_digit(p->s[p->i]))
		return scan_numericoid(p);
	return err_set(p->err, L2S_EPARSE, "expected %s at offset %zu", what,
	    p->i);
}

/* attributedescription = oid *( SEMI 1*keychar ) */
static int
scan_attrdesc(struct fparse *p)
{
	int rc;

	rc = scan_oid(p, "an attribute description");
	if (rc != L2S_OK)
		return rc;
	while (p->s[p->i] == ';') {
		size_t opt = ++p->i;

		while (is_keychar(p->s[p->i]))
			p->i++;
		if (p->i == opt)
			return fail(p, opt, "empty attribute option");
	}
	return L2S_OK;
}

/*
 * Scan an assertion value up to the ')' that ends the item.  With stars,
 * '*' separates substrings (and an empty substring between two stars is
 * refused); without, '*' is an error.  *nstars counts the stars seen.
 */
static int
scan_value(struct fparse *p, int stars, size_t *nstars)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t seg = p->i;

	*nstars = 0;
	for (;;) {
		unsigned char c = s[p->i];

		if (c == '\0' || c == ')')
			return L2S_OK;
		if (c == '(')
			return fail(p, p->i, "unescaped '(' in value "
			    "(write \\28)");
		if (c == '*') {
			if (!stars)
				return fail(p, p->i, "unescaped '*' in value "
				    "(write \\2a)");
			if (*nstars > 0 && p->i == seg)
				return fail(p, p->i, "empty substring between "
				    "'*'s");
			(*nstars)++;
			seg = ++p->i;
			continue;
		}
		if (c == '\\') {
			if (hexval((char)s[p->i + 1]) < 0 ||
			    hexval((char)s[p->i + 2]) < 0)
				return fail(p, p->i, "'\\' must be followed by "
				    "two hex digits");
			p->i += 3;
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_len(s + p->i);

			if (n == 0)
				return fail(p, p->i, "invalid UTF-8 in value");
			p->i += n;
			continue;
		}
		p->i++;
	}
}

/* item: simple / present / substring / extensible; p->i is after '(' */
static int
scan_item(struct fparse *p)
{
	size_t start = p->i, nstars;
	int has_attr = 0, rc;
	char c;

	if (p->s[p->i] != ':') {
		rc = scan_attrdesc(p);
		if (rc != L2S_OK)
			return rc;
		has_attr = 1;
	}
	c = p->s[p->i];
	if (c == ':') {
		/* extensible = attr [":dn"] [":" oid] ":=" value
		 *            / [":dn"] ":" oid ":=" value */
		int has_rule = 0;

		if ((p->s[p->i + 1] == 'd' || p->s[p->i + 1] == 'D') &&
		    (p->s[p->i + 2] == 'n' || p->s[p->i + 2] == 'N') &&
		    p->s[p->i + 3] == ':')
			p->i += 3;
		if (p->s[p->i] == ':' && p->s[p->i + 1] != '=') {
			p->i++;
			rc = scan_oid(p, "a matching rule");
			if (rc != L2S_OK)
				return rc;
			has_rule = 1;
		}
		if (p->s[p->i] != ':' || p->s[p->i + 1] != '=')
			return fail(p, p->i, "expected ':=' in extensible match");
		if (!has_attr && !has_rule)
			return fail(p, start, "extensible match needs an "
			    "attribute or a matching rule");
		p->i += 2;
		return scan_value(p, 0, &nstars);
	}
	if ((c == '>' || c == '<' || c == '~') && p->s[p->i + 1] == '=') {
		p->i += 2;
		return scan_value(p, 0, &nstars);
	}
	if (c == '=') {
		p->i++;
		return scan_value(p, 1, &nstars);
	}
	if (c == '\0')
		return fail(p, p->i, "unexpected end of filter");
	return fail(p, p->i, "expected '=', '>=', '<=', '~=' or ':=' after "
	    "the attribute");
}

static int scan_filter(struct fparse *p, int depth);

/* filterlist = 1*filter */
static int
scan_list(struct fparse *p, int depth)
{
	int rc;

	if (p->s[p->i] != '(')
		return fail(p, p->i, "expected '(' after '&' or '|'");
	while (p->s[p->i] == '(') {
		rc = scan_filter(p, depth + 1);
		if (rc != L2S_OK)
			return rc;
	}
	return L2S_OK;
}

/* filter = "(" filtercomp ")" */
static int
scan_filter(struct fparse *p, int depth)
{
	size_t open = p->i;
	int rc;

	if (p->s[p->i] != '(')
		return fail(p, p->i, "expected '('");
	if (depth >= FILTER_DEPTH_MAX)
		return fail(p, p->i, "filter nested too deeply");
	p->i++;
	switch (p->s[p->i]) {
	case '&':
	case '|':
		p->i++;
		rc = scan_list(p, depth);
		break;
	case '!':
		p->i++;
		rc = scan_filter(p, depth + 1);
		break;
	case ')':
		return fail(p, p->i, "empty filter component");
	default:
		rc = scan_item(p);
		break;
	}
	if (rc != L2S_OK)
		return rc;
	if (p->s[p->i] == '\0')
		return err_set(p->err, L2S_EPARSE, "missing ')' at offset "
		    "%zu for the '(' at offset %zu", p->i, open);
	if (p->s[p->i] != ')')
		return fail(p, p->i, "expected ')'");
	p->i++;
	return L2S_OK;
}

int
filter_check(const char *filter, struct err *err)
{
	struct fparse p = { filter, 0, err };
	int rc;

	if (filter[0] == '\0')
		return err_set(err, L2S_EPARSE, "empty filter");
	if (filter[0] != '(')
		return fail(&p, 0, "filter must start with '('");
	rc = scan_filter(&p, 0);
	if (rc != L2S_OK)
		return rc;
	if (filter[p.i] != '\0')
		return fail(&p, p.i, "text after the closing ')'");
	return L2S_OK;
}

char *
filter_escape(const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, i;
	char *out, *o;

	for (i = 0; value[i] != '\0'; i++)
		n += strchr("*()\\", value[i]) != NULL ? 3 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0, o = out; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (strchr("*()\\", c) != NULL) {
			*o++ = '\\';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}
