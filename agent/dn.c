/*
 * dn.c - distinguished names in one normal form (see dn.h)
 *
 * The grammar of RFC 4514, section 3: a DN is RDNs separated by ',', an
 * RDN is attribute type and value pairs separated by '+', a pair is TYPE
 * '=' VALUE.  A type is a
 * descriptor (a letter, then letters, digits and '-') or a numeric OID.  A
 * value is #hex (BER) or a string whose special characters are escaped
 * with a backslash, as \c or as two hex digits, and is UTF-8 once
 * unescaped.  Spaces (and tabs and line ends, as libldap takes them)
 * around ',', '+' and '=' are not part of anything.  What libldap refuses
 * in LDAPv3 form is refused here too: ';' between RDNs, values that are
 * not UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dn.h"
#include "utf8.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
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

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
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

/* The type at *sp (spaces before it skipped), lower case, into b. */
static int
parse_type(const char **sp, struct buf *b)
{
	const char *s = *sp;

	while (is_space(*s))
		s++;
	if (is_alpha(*s)) {
		while (is_alpha(*s) || is_digit(*s) || *s == '-')
			buf_putc(b, lower(*s++));
	} else if (is_digit(*s)) {	/* numeric OID: digits and dots */
		for (;;) {
			if (!is_digit(*s))
				return -1;
			while (is_digit(*s))
				buf_putc(b, *s++);
			if (*s != '.')
				break;
			buf_putc(b, *s++);
		}
	} else {
		return -1;
	}
	while (is_space(*s))
		s++;
	if (*s != '=')
		return -1;
	*sp = s + 1;
	return 0;
}

/* Write the unescaped value [v, v + n) escaped the one way, lower case. */
static void
put_value(struct buf *b, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = lower(v[i]);

		if (c == '\0') {
			buf_puts(b, "\\00");
			continue;
		}
		if (strchr(",+\"\\<>;=", c) != NULL ||
		    ((c == '#' || c == ' ') && i == 0) ||
		    (c == ' ' && i == n - 1))
			buf_putc(b, '\\');
		buf_putc(b, c);
	}
}

/* The value at *sp, ending at ',', ';', '+' or the end, into out. */
static int
parse_value(const char **sp, struct buf *out, struct buf *tmp)
{
	const char *s = *sp, *end;
	size_t keep;

	while (is_space(*s))
		s++;
	if (*s == '#') {		/* BER, as hex: compared as it is */
		buf_putc(out, '#');
		s++;
		if (hexval(s[0]) < 0)
			return -1;
		while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
			buf_putc(out, lower(s[0]));
			buf_putc(out, lower(s[1]));
			s += 2;
		}
		while (is_space(*s))
			s++;
		if (*s != '\0' && *s != ',' && *s != '+')
			return -1;
		*sp = s;
		return 0;
	}
	buf_reset(tmp);
	keep = 0;	/* length up to the last byte that is not a bare space */
	for (; *s != '\0' && *s != ',' && *s != '+'; s++) {
		if (*s == '\\') {
			int hi = hexval(s[1]), lo;

			if (hi >= 0 && (lo = hexval(s[2])) >= 0) {
				buf_putc(tmp, (char)(hi << 4 | lo));
				s += 2;
			} else if (s[1] != '\0' &&
			    strchr(",+\"\\<>;= #", s[1]) != NULL) {
				buf_putc(tmp, s[1]);
				s++;
			} else {
				return -1;
			}
			keep = tmp->len;
			continue;
		}
		if (*s == '"' || *s == '<' || *s == '>' || *s == ';')
			return -1;
		buf_putc(tmp, *s);
		if (!is_space(*s))
			keep = tmp->len;
	}
	end = s;
	if (keep > 0 && !utf8_valid(tmp->s, keep))
		return -1;
	put_value(out, tmp->s != NULL ? tmp->s : "", keep);
	*sp = end;
	return 0;
}

/* A byte a plain value may hold (see dn_plain()). */
static int
plain_value_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == ' ' || c == '-' ||
	    c == '.' || c == '_' || c == '@';
}

int
dn_plainn(const char *dn, size_t len)
{
	const char *s = dn, *v, *end = dn + len;

	for (;;) {
		if (s == end || !is_alpha(*s))
			return 0;
		while (s < end && (is_alpha(*s) || is_digit(*s) || *s == '-'))
			s++;
		if (s == end || *s++ != '=')
			return 0;
		for (v = s; s < end && plain_value_char(*s); s++)
			;
		if (s == v || *v == ' ' || s[-1] == ' ')
			return 0;
		if (s == end)
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

int
dn_plain(const char *dn)
{
	return dn_plainn(dn, strlen(dn));
}

void
dn_lower_to(char *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = lower(s[i]);
	out[len] = '\0';
}

char *
dn_lower(const char *s, size_t len)
{
	char *out = malloc(len + 1);

	if (out != NULL)
		dn_lower_to(out, s, len);
	return out;
}

int
dn_norm(const char *dn, char **out, struct err *err)
{
	struct buf b = BUF_INIT, tmp = BUF_INIT;
	const char *s = dn;
	int rc = L2S_OK;

	*out = NULL;
	while (is_space(*s))
		s++;
	if (*s == '\0' && dn[0] != '\0') {	/* blanks are no DN */
		rc = err_set(err, L2S_EPARSE, "invalid DN '%s'", dn);
		goto done;
	}
	if (*s != '\0') {
		for (;;) {
			if (parse_type(&s, &b) != 0 || (buf_putc(&b, '='),
			    parse_value(&s, &b, &tmp)) != 0) {
				rc = err_set(err, L2S_EPARSE, "invalid DN '%s'",
				    dn);
				goto done;
			}
			if (*s == '\0')
				break;
			buf_putc(&b, *s);
			s++;
		}
	}
	if (buf_failed(&b) || buf_failed(&tmp)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	*out = b.s != NULL ? buf_take(&b) : strdup("");
	if (*out == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	buf_free(&b);
	buf_free(&tmp);
	return rc;
}
