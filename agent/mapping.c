/*
 * mapping.c - templates over LDAP attributes, and the SCIM paths they fill
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adattr.h"
#include "buf.h"
#include "mapping.h"
#include "sha256.h"
#include "utf8.h"

/* What "{attr|filter}" does to the attribute's values, in order. */
enum filter_op {
	F_SMTP_PRIMARY,		/* picks the "SMTP:" value, without the prefix */
	F_SMTP_SECONDARY,	/* picks the first "smtp:" value, likewise */
	F_FIRST,		/* picks the first value (what no filter does) */
	F_JOIN,			/* all non-empty values, SEP between them */
	F_LOWER,		/* ASCII letters to lower case */
	F_UPPER,		/* ASCII letters to upper case */
	F_TRIM,			/* drops leading and trailing blanks */
	F_DEFAULT,		/* TEXT when the value is absent or empty */
	F_REPLACE,		/* every match of REGEX becomes REPL */
	F_MATCH,		/* "true" when REGEX matches, else "false" */
	F_NOT,			/* "true" <-> "false" */
	F_DIGEST,		/* hex of the first 16 bytes of the SHA-256 */
};

#define SEG_FILTERS_MAX 6	/* filters on one reference */
#define FILTER_ARGS_MAX 2
#define DIGEST_BYTES 16		/* of the SHA-256: 32 hex digits */

static const struct filter_def {
	const char *name;
	enum filter_op op;
	int selects;		/* chooses among the values: must come first */
	int nargs;		/* quoted arguments it takes */
	const char *usage;	/* how to write it, for error messages */
} filter_defs[] = {
	{ "smtp_primary", F_SMTP_PRIMARY, 1, 0, "smtp_primary" },
	{ "smtp_secondary", F_SMTP_SECONDARY, 1, 0, "smtp_secondary" },
	{ "first", F_FIRST, 1, 0, "first" },
	{ "join", F_JOIN, 1, 1, "join(\"SEP\")" },
	{ "lower", F_LOWER, 0, 0, "lower" },
	{ "upper", F_UPPER, 0, 0, "upper" },
	{ "trim", F_TRIM, 0, 0, "trim" },
	{ "default", F_DEFAULT, 0, 1, "default(\"TEXT\")" },
	{ "replace", F_REPLACE, 0, 2, "replace(\"REGEX\", \"REPL\")" },
	{ "match", F_MATCH, 0, 1, "match(\"REGEX\")" },
	{ "not", F_NOT, 0, 0, "not" },
	{ "digest", F_DIGEST, 0, 0, "digest" },
	{ NULL, F_FIRST, 0, 0, NULL }
};

struct filter {
	const struct filter_def *def;
	char *arg[FILTER_ARGS_MAX];	/* unquoted arguments, owned */
	regex_t *re;			/* replace, match: arg[0] compiled, owned */
};

struct segment {
	char *text;		/* literal text, or the attribute name */
	int is_attr;
	size_t nfilters;
	struct filter filters[SEG_FILTERS_MAX];
	size_t raw;		/* > 0: 'digest' works on the raw bytes of the
				 * first value; segment_select() applies the
				 * first raw filters, the render loop the rest */
};

struct template {
	size_t nseg;
	struct segment *seg;
	size_t nattrs;
	char **attrs;		/* distinct attribute names, borrowed from seg */
};

struct rule {
	char *path;
	struct template *tpl;
	enum map_kind kind;
};

struct mapping {
	size_t n;
	struct rule *rules;
	int has_username;
};

void
template_free(struct template *t)
{
	size_t i, j, k;

	if (t == NULL)
		return;
	for (i = 0; i < t->nseg; i++) {
		for (j = 0; j < t->seg[i].nfilters; j++) {
			struct filter *f = &t->seg[i].filters[j];

			for (k = 0; k < FILTER_ARGS_MAX; k++)
				free(f->arg[k]);
			if (f->re != NULL)
				regfree(f->re);
			free(f->re);
		}
		free(t->seg[i].text);
	}
	free(t->seg);
	free(t->attrs);
	free(t);
}

static int
template_push(struct template *t, const char *p, size_t n, int is_attr)
{
	struct segment *seg;
	size_t i;

	seg = realloc(t->seg, (t->nseg + 1) * sizeof(*seg));
	if (seg == NULL)
		return -1;
	t->seg = seg;
	memset(&seg[t->nseg], 0, sizeof(seg[t->nseg]));
	seg[t->nseg].text = str_ndup(p, n);
	if (seg[t->nseg].text == NULL)
		return -1;
	seg[t->nseg].is_attr = is_attr;
	t->nseg++;
	if (!is_attr)
		return 0;
	for (i = 0; i < t->nattrs; i++)
		if (strcasecmp(t->attrs[i], seg[t->nseg - 1].text) == 0)
			return 0;
	{
		char **a = realloc(t->attrs, (t->nattrs + 1) * sizeof(*a));

		if (a == NULL)
			return -1;
		t->attrs = a;
		a[t->nattrs++] = seg[t->nseg - 1].text;
	}
	return 0;
}

static int
attr_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ';' ||
	    c == '_';
}

/* The filter called [name, name + len), or NULL. */
static const struct filter_def *
filter_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; filter_defs[i].name != NULL; i++)
		if (strlen(filter_defs[i].name) == len &&
		    strncmp(filter_defs[i].name, name, len) == 0)
			return &filter_defs[i];
	return NULL;
}

static int
filter_unknown(const char *text, const char *name, size_t len,
    struct err *err)
{
	char known[256] = "";
	size_t i;

	for (i = 0; filter_defs[i].name != NULL; i++) {
		if (i > 0)
			strncat(known, ", ", sizeof(known) - strlen(known) - 1);
		strncat(known, filter_defs[i].name,
		    sizeof(known) - strlen(known) - 1);
	}
	return err_set(err, L2S_EPARSE, "template '%s': unknown filter '%.*s' "
	    "at offset %zu (known: %s)", text, (int)len, name,
	    (size_t)(name - text), known);
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read the quoted string at *pp (at its opening '"') into b, without the
 * quotes; '\"' is a quote, '\\' a backslash, any other backslash stays.
 * *pp is left past the closing quote. */
static int
arg_parse(struct buf *b, const char *text, const struct filter_def *d,
    const char **pp, struct err *err)
{
	const char *p = *pp, *open = p;

	if (*p != '"')
		return err_set(err, L2S_EPARSE, "template '%s': expected '\"' at "
		    "offset %zu (filter arguments are quoted: %s)", text,
		    (size_t)(p - text), d->usage);
	for (p++; *p != '"'; p++) {
		if (*p == '\0')
			return err_set(err, L2S_EPARSE, "template '%s': "
			    "unterminated string at offset %zu (filter arguments "
			    "are quoted: %s)", text, (size_t)(open - text),
			    d->usage);
		if (*p == '{' || *p == '}')
			return err_set(err, L2S_EPARSE, "template '%s': '%c' at "
			    "offset %zu: filter arguments cannot contain '{' or "
			    "'}'", text, *p, (size_t)(p - text));
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		buf_putc(b, *p);
	}
	*pp = p + 1;
	return L2S_OK;
}

/* Parse the argument list at *pp (at its '(') into f->arg.  *pp is left
 * past the ')'. */
static int
args_parse(struct filter *f, const char *text, const char **pp,
    struct err *err)
{
	const struct filter_def *d = f->def;
	const char *p = *pp, *open = p;
	struct buf b = BUF_INIT;
	int n = 0, rc;

	if (d->nargs == 0)
		return err_set(err, L2S_EPARSE, "template '%s': filter '%s' takes "
		    "no arguments at offset %zu", text, d->name,
		    (size_t)(p - text));
	p = skip_blanks(p + 1);
	while (*p != ')') {
		if (n > 0) {
			if (*p != ',') {
				rc = err_set(err, L2S_EPARSE, "template '%s': "
				    "expected ',' or ')' at offset %zu in the "
				    "arguments of filter '%s'", text,
				    (size_t)(p - text), d->name);
				goto done;
			}
			p = skip_blanks(p + 1);
		}
		rc = arg_parse(&b, text, d, &p, err);
		if (rc != L2S_OK)
			goto done;
		if (buf_failed(&b)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		if (n < d->nargs) {
			f->arg[n] = buf_take(&b);
			if (f->arg[n] == NULL) {
				rc = err_set(err, L2S_ENOMEM, "out of memory");
				goto done;
			}
		}
		buf_free(&b);
		n++;
		p = skip_blanks(p);
	}
	if (n != d->nargs) {
		rc = err_set(err, L2S_EPARSE, "template '%s': filter '%s' takes "
		    "%d argument%s, not %d, at offset %zu (write %s)", text,
		    d->name, d->nargs, d->nargs == 1 ? "" : "s", n,
		    (size_t)(open - text), d->usage);
		goto done;
	}
	*pp = p + 1;
	rc = L2S_OK;
done:
	buf_free(&b);
	return rc;
}

/* Compile the regex of f (named at offset off) and check its replacement:
 * '\' is followed by '\' or a group the regex has. */
static int
filter_prepare(struct filter *f, const char *text, size_t off,
    struct err *err)
{
	const struct filter_def *d = f->def;
	char msg[256];
	const char *r;
	int rc;

	if (d->op != F_REPLACE && d->op != F_MATCH)
		return L2S_OK;
	f->re = malloc(sizeof(*f->re));
	if (f->re == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = regcomp(f->re, f->arg[0],
	    REG_EXTENDED | (d->op == F_MATCH ? REG_NOSUB : 0));
	if (rc != 0) {
		regerror(rc, f->re, msg, sizeof(msg));
		free(f->re);
		f->re = NULL;
		if (rc == REG_ESPACE)
			return err_set(err, L2S_ENOMEM, "out of memory");
		return err_set(err, L2S_EPARSE, "template '%s': invalid regular "
		    "expression '%s' in filter '%s' at offset %zu: %s", text,
		    f->arg[0], d->name, off, msg);
	}
	if (d->op != F_REPLACE)
		return L2S_OK;
	for (r = f->arg[1]; *r != '\0'; r++) {
		if (*r != '\\')
			continue;
		r++;
		if (*r == '\\')
			continue;
		if (*r < '1' || *r > '9')
			return err_set(err, L2S_EPARSE, "template '%s': in the "
			    "replacement '%s' of filter 'replace' at offset %zu, "
			    "'\\' must be followed by a group number 1 to 9 or "
			    "'\\'", text, f->arg[1], off);
		if ((size_t)(*r - '0') > f->re->re_nsub)
			return err_set(err, L2S_EPARSE, "template '%s': the "
			    "replacement '%s' of filter 'replace' at offset %zu "
			    "refers to group %c, but the regular expression has "
			    "%zu", text, f->arg[1], off, *r,
			    (size_t)f->re->re_nsub);
	}
	return L2S_OK;
}

/* Parse the filters of a reference, from p (at its first '|') to the
 * closing '}', into sg.  *endp is left past the '}'. */
static int
filters_parse(struct segment *sg, const char *text, const char *p,
    const char **endp, struct err *err)
{
	while (*p == '|') {
		const char *name = ++p;	/* past the '|' */
		const struct filter_def *d;
		struct filter *f;
		int rc;

		while (*p != '\0' && strchr("|(){}\"", *p) == NULL)
			p++;
		d = filter_find(name, (size_t)(p - name));
		if (d == NULL)
			return filter_unknown(text, name, (size_t)(p - name),
			    err);
		if (d->selects && sg->nfilters > 0)
			return err_set(err, L2S_EPARSE, "template '%s': filter "
			    "'%s' chooses among the values and must come first",
			    text, d->name);
		if (sg->nfilters == SEG_FILTERS_MAX)
			return err_set(err, L2S_EPARSE, "template '%s': more "
			    "than %d filters on one attribute", text,
			    SEG_FILTERS_MAX);
		f = &sg->filters[sg->nfilters++];
		f->def = d;
		if (*p == '(') {
			rc = args_parse(f, text, &p, err);
			if (rc != L2S_OK)
				return rc;
		} else if (d->nargs > 0) {
			return err_set(err, L2S_EPARSE, "template '%s': filter "
			    "'%s' needs arguments at offset %zu (write %s)", text,
			    d->name, (size_t)(p - text), d->usage);
		}
		rc = filter_prepare(f, text, (size_t)(name - text), err);
		if (rc != L2S_OK)
			return rc;
		/* Straight on the first value ({jpegPhoto|digest} or
		 * {jpegPhoto|first|digest}), digest takes its raw bytes. */
		if (d->op == F_DIGEST && (sg->nfilters == 1 ||
		    (sg->nfilters == 2 && sg->filters[0].def->op == F_FIRST)))
			sg->raw = sg->nfilters;
		if (*p != '|' && *p != '}')
			return err_set(err, L2S_EPARSE, "template '%s': expected "
			    "'|' or '}' at offset %zu", text, (size_t)(p - text));
	}
	*endp = p + 1;
	return L2S_OK;
}

int
template_compile(struct template **out, const char *text, struct err *err)
{
	struct template *t;
	struct buf lit = BUF_INIT;
	const char *p = text;
	int rc = L2S_ENOMEM;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	while (*p != '\0') {
		if (p[0] == '{' && p[1] == '{') {
			buf_putc(&lit, '{');
			p += 2;
		} else if (p[0] == '}' && p[1] == '}') {
			buf_putc(&lit, '}');
			p += 2;
		} else if (p[0] == '}') {
			rc = err_set(err, L2S_EPARSE, "template '%s': unmatched '}' "
			    "at offset %zu (write '}}' for a literal brace)", text,
			    (size_t)(p - text));
			goto done;
		} else if (p[0] == '{') {
			const char *name = p + 1, *q = name;

			while (attr_name_char(*q))
				q++;
			if (q == name || (*q != '}' && *q != '|')) {
				rc = err_set(err, L2S_EPARSE, "template '%s': expected "
				    "an LDAP attribute name and '}' at offset %zu",
				    text, (size_t)(name - text));
				goto done;
			}
			if (lit.len > 0) {
				if (buf_failed(&lit) ||
				    template_push(t, lit.s, lit.len, 0) != 0)
					goto nomem;
				buf_reset(&lit);
			}
			if (template_push(t, name, (size_t)(q - name), 1) != 0)
				goto nomem;
			rc = filters_parse(&t->seg[t->nseg - 1], text, q, &p, err);
			if (rc != L2S_OK)
				goto done;
		} else {
			buf_putc(&lit, *p++);
		}
	}
	if (lit.len > 0 &&
	    (buf_failed(&lit) || template_push(t, lit.s, lit.len, 0) != 0))
		goto nomem;
	*out = t;
	t = NULL;
	rc = L2S_OK;
	goto done;
nomem:
	rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	buf_free(&lit);
	template_free(t);
	return rc;
}

size_t
template_nattrs(const struct template *t)
{
	return t->nattrs;
}

const char *
template_attr(const struct template *t, size_t i)
{
	return i < t->nattrs ? t->attrs[i] : NULL;
}

static int
too_long(const char *name, const struct entry *e, struct err *err)
{
	return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' makes a value "
	    "of more than %d bytes, the limit for one SCIM value", name, e->dn,
	    MAPPING_VALUE_MAX);
}

/* Append v (from attribute name of e) to b as text: objectGUID and
 * objectSid in their usual written forms, anything else as UTF-8. */
static int
append_value(struct buf *b, const char *name, const struct value *v,
    const struct entry *e, struct err *err)
{
	char text[ADATTR_SID_MAX];

	if (adattr_is_guid(name)) {
		if (adattr_guid_text(v->p, v->len, text) != 0)
			return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
			    "is not a 16-byte GUID", name, e->dn);
		buf_puts(b, text);
		return L2S_OK;
	}
	if (adattr_is_sid(name)) {
		if (adattr_sid_text(v->p, v->len, text, sizeof(text)) != 0)
			return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
			    "is not a valid SID", name, e->dn);
		buf_puts(b, text);
		return L2S_OK;
	}
	if (!utf8_valid(v->p, v->len))
		return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
		    "is not valid UTF-8 text", name, e->dn);
	if (v->len > MAPPING_VALUE_MAX || b->len + v->len > MAPPING_VALUE_MAX)
		return too_long(name, e, err);
	buf_add(b, v->p, v->len);
	return L2S_OK;
}

/* Put the value(s) of sg in e that its selecting filter picks into v, as
 * text; v stays empty when there is none. */
static int
segment_select(const struct segment *sg, const struct entry *e,
    struct buf *v, struct err *err)
{
	enum filter_op op = sg->nfilters > 0 ? sg->filters[0].def->op : F_FIRST;
	const struct entry_attr *a;
	const struct value *first;
	const char *prefix;
	size_t i;
	int rc;

	switch (op) {
	case F_SMTP_PRIMARY:
	case F_SMTP_SECONDARY:
		/* Exchange marks the primary address "SMTP:", the others
		 * "smtp:". */
		prefix = op == F_SMTP_PRIMARY ? "SMTP:" : "smtp:";
		a = entry_attr(e, sg->text);
		for (i = 0; a != NULL && i < a->nvals; i++) {
			if (a->vals[i].len > 5 &&
			    memcmp(a->vals[i].p, prefix, 5) == 0) {
				struct value tmp;

				tmp.p = a->vals[i].p + 5;
				tmp.len = a->vals[i].len - 5;
				return append_value(v, sg->text, &tmp, e, err);
			}
		}
		return L2S_OK;
	case F_JOIN:
		a = entry_attr(e, sg->text);
		for (i = 0; a != NULL && i < a->nvals; i++) {
			if (a->vals[i].len == 0)
				continue;
			if (v->len > 0) {
				buf_puts(v, sg->filters[0].arg[0]);
				if (v->len > MAPPING_VALUE_MAX)
					return too_long(sg->text, e, err);
			}
			rc = append_value(v, sg->text, &a->vals[i], e, err);
			if (rc != L2S_OK)
				return rc;
		}
		return L2S_OK;
	default:
		first = entry_first(e, sg->text);
		if (first != NULL && sg->raw > 0) {
			char hex[SHA256_HEX_MAX];

			/* Binary allowed: the bytes never become text. */
			sha256_hex(first->p, first->len, DIGEST_BYTES, hex);
			buf_puts(v, hex);
			return L2S_OK;
		}
		return first == NULL ? L2S_OK :
		    append_value(v, sg->text, first, e, err);
	}
}

/* Bytes in the UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t
utf8_seqlen(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Replace every non-overlapping match of f's regex in v with its
 * replacement, as sed's s///g does: an empty match right after the
 * previous match is not one, and an empty match moves on one character. */
static int
filter_replace(const struct filter *f, struct buf *v, const char *name,
    const struct entry *e, struct err *err)
{
	struct buf w = BUF_INIT;
	regmatch_t m[10];
	const char *s = buf_str(v), *r;
	size_t len = v->len, pos = 0, last = (size_t)-1, so, eo, step, nm;
	int rc;

	nm = f->re->re_nsub + 1 < 10 ? f->re->re_nsub + 1 : 10;
	while (pos <= len) {
		rc = regexec(f->re, s + pos, nm, m, pos > 0 ? REG_NOTBOL : 0);
		if (rc == REG_NOMATCH)
			break;
		if (rc != 0) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		so = pos + (size_t)m[0].rm_so;
		eo = pos + (size_t)m[0].rm_eo;
		if (so == eo && so == last) {
			/* pos == last: not a new match; keep one character */
			if (so == len)
				break;
			step = utf8_seqlen((unsigned char)s[so]);
			step = step < len - so ? step : len - so;
			buf_add(&w, s + pos, so + step - pos);
			pos = so + step;
			continue;
		}
		buf_add(&w, s + pos, so - pos);
		for (r = f->arg[1]; *r != '\0'; r++) {
			if (*r != '\\') {
				buf_putc(&w, *r);
			} else if (*++r == '\\') {
				buf_putc(&w, '\\');
			} else {
				size_t g = (size_t)(*r - '0');

				if (g < nm && m[g].rm_so >= 0)
					buf_add(&w, s + pos + m[g].rm_so,
					    (size_t)(m[g].rm_eo - m[g].rm_so));
			}
		}
		if (w.len > MAPPING_VALUE_MAX) {
			rc = too_long(name, e, err);
			goto done;
		}
		last = pos = eo;
		if (so == eo) {
			if (eo == len)
				break;
			step = utf8_seqlen((unsigned char)s[eo]);
			step = step < len - eo ? step : len - eo;
			buf_add(&w, s + eo, step);
			pos = eo + step;
		}
	}
	if (pos < len)
		buf_add(&w, s + pos, len - pos);
	if (w.len > MAPPING_VALUE_MAX) {
		rc = too_long(name, e, err);
		goto done;
	}
	if (buf_failed(&w)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	if (!utf8_valid(buf_str(&w), w.len)) {
		rc = err_set(err, L2S_EPARSE, "filter 'replace' on attribute "
		    "'%s' of '%s' makes text that is not valid UTF-8", name,
		    e->dn);
		goto done;
	}
	buf_reset(v);
	buf_add(v, buf_str(&w), w.len);
	rc = L2S_OK;
done:
	buf_free(&w);
	return rc;
}

/* Apply filter f to v (empty: absent). */
static int
filter_apply(const struct filter *f, struct buf *v, const char *name,
    const struct entry *e, struct err *err)
{
	char hex[SHA256_HEX_MAX];
	size_t i, j;
	int yes;

	if (f->def->op == F_DEFAULT) {
		if (v->len == 0) {
			buf_puts(v, f->arg[0]);
			if (v->len > MAPPING_VALUE_MAX)
				return too_long(name, e, err);
		}
		return L2S_OK;
	}
	if (v->len == 0)
		return L2S_OK;		/* absent stays absent */
	switch (f->def->op) {
	case F_LOWER:
	case F_UPPER:
		for (i = 0; i < v->len; i++) {
			char c = v->s[i];

			if (f->def->op == F_LOWER && c >= 'A' && c <= 'Z')
				v->s[i] = (char)(c - 'A' + 'a');
			else if (f->def->op == F_UPPER && c >= 'a' && c <= 'z')
				v->s[i] = (char)(c - 'a' + 'A');
		}
		return L2S_OK;
	case F_TRIM:
		for (i = 0; i < v->len && strchr(" \t\r\n", v->s[i]) != NULL; i++)
			;
		for (j = v->len; j > i && strchr(" \t\r\n", v->s[j - 1]) != NULL;
		    j--)
			;
		memmove(v->s, v->s + i, j - i);
		v->len = j - i;
		v->s[v->len] = '\0';
		return L2S_OK;
	case F_REPLACE:
		return filter_replace(f, v, name, e, err);
	case F_MATCH:
		yes = regexec(f->re, v->s, 0, NULL, 0) == 0;
		buf_reset(v);
		buf_puts(v, yes ? "true" : "false");
		return L2S_OK;
	case F_DIGEST:
		sha256_hex(v->s, v->len, DIGEST_BYTES, hex);
		buf_reset(v);
		buf_puts(v, hex);
		return L2S_OK;
	case F_NOT:
		yes = strcasecmp(v->s, "true") == 0;
		if (!yes && strcasecmp(v->s, "false") != 0)
			return err_set(err, L2S_EPARSE, "attribute '%s' of '%s': "
			    "filter 'not' needs 'true' or 'false'", name, e->dn);
		buf_reset(v);
		buf_puts(v, yes ? "false" : "true");
		return L2S_OK;
	default:
		return L2S_OK;	/* the selecting filters did their part */
	}
}

int
template_render_buf(const struct template *t, const struct entry *e,
    struct buf *out, struct buf *v, struct err *err)
{
	size_t i, j;
	int rc;

	buf_reset(out);
	if (t->nseg == 1 && t->seg[0].is_attr && t->seg[0].nfilters == 0) {
		/* "{attr}", most rules: its first value, straight into out */
		const struct value *first = entry_first(e, t->seg[0].text);

		if (first == NULL)
			return L2S_ENOTFOUND;
		rc = append_value(out, t->seg[0].text, first, e, err);
		if (rc == L2S_OK && buf_failed(out))
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		return rc == L2S_OK && out->len == 0 ? L2S_ENOTFOUND : rc;
	}
	for (i = 0; i < t->nseg; i++) {
		const struct segment *sg = &t->seg[i];

		if (!sg->is_attr) {
			buf_puts(out, sg->text);
			continue;
		}
		buf_reset(v);
		rc = segment_select(sg, e, v, err);
		for (j = sg->raw; rc == L2S_OK && j < sg->nfilters; j++)
			rc = filter_apply(&sg->filters[j], v, sg->text, e, err);
		if (rc == L2S_OK && buf_failed(v))
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		if (rc != L2S_OK)
			return rc;
		if (v->len == 0)
			return L2S_ENOTFOUND;
		if (out->len + v->len > MAPPING_VALUE_MAX)
			return too_long(sg->text, e, err);
		buf_add(out, v->s, v->len);
	}
	if (buf_failed(out))
		return err_set(err, L2S_ENOMEM, "out of memory");
	return L2S_OK;
}

int
template_render(const struct template *t, const struct entry *e, char **out,
    struct err *err)
{
	struct buf b = BUF_INIT, v = BUF_INIT;
	int rc;

	*out = NULL;
	rc = template_render_buf(t, e, &b, &v, err);
	if (rc == L2S_OK) {
		*out = buf_take(&b);
		if (*out == NULL)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
	}
	buf_free(&b);
	buf_free(&v);
	return rc;
}

/* Core User attributes (RFC 7643 section 4.1) that take one string. */
static const char *const core_simple[] = {
	"userName", "displayName", "nickName", "profileUrl", "title",
	"userType", "preferredLanguage", "locale", "timezone",
	"name.formatted", "name.familyName", "name.givenName",
	"name.middleName", "name.honorificPrefix", "name.honorificSuffix",
	NULL
};

/* Multi-valued attributes addressed as NAME[type eq "T"].SUB. */
static const struct {
	const char *name;
	const char *const subs[8];
} core_multi[] = {
	{ "emails", { "value", "display", NULL } },
	{ "phoneNumbers", { "value", "display", NULL } },
	{ "ims", { "value", "display", NULL } },
	{ "photos", { "value", "display", NULL } },
	{ "addresses", { "formatted", "streetAddress", "locality", "region",
	    "postalCode", "country", NULL } },
	{ NULL, { NULL } }
};

static const char *const enterprise_attrs[] = {
	"employeeNumber", "costCenter", "organization", "division",
	"department", "manager", NULL
};

static int
in_list(const char *const *list, const char *s, size_t n)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncmp(*list, s, n) == 0)
			return 1;
	return 0;
}

static int
multi_path_valid(const char *path)
{
	const char *open = strchr(path, '['), *close, *type, *q;
	size_t i;

	if (open == NULL)
		return 0;
	for (i = 0; core_multi[i].name != NULL; i++) {
		size_t n = strlen(core_multi[i].name);

		if ((size_t)(open - path) != n ||
		    strncmp(path, core_multi[i].name, n) != 0)
			continue;
		if (strncmp(open, "[type eq \"", 10) != 0)
			return 0;
		type = open + 10;
		for (q = type; attr_name_char(*q) && *q != ';' && *q != '.'; q++)
			;
		if (q == type || strncmp(q, "\"].", 3) != 0)
			return 0;
		close = q + 3;
		return in_list(core_multi[i].subs, close, strlen(close));
	}
	return 0;
}

/*
 * A custom extension: "urn:" and at least three ':'-separated parts naming
 * the schema, then ":attr" or ":attr.sub" (SCIM attribute names).  The
 * core User schema and the enterprise extension (checked above, by name)
 * are not custom.
 */
static int
ext_path_valid(const char *path)
{
	static const char *const reserved[] = {
		"urn:ietf:params:scim:schemas:core:",
		SCIM_ENTERPRISE_URN ":", NULL
	};
	const char *attr = strrchr(path, ':'), *p;
	size_t i, parts = 0, len = 0;
	int dot = 0;

	if (strncasecmp(path, "urn:", 4) != 0 || attr == NULL)
		return 0;
	for (i = 0; reserved[i] != NULL; i++)
		if (strncasecmp(path, reserved[i], strlen(reserved[i])) == 0)
			return 0;
	for (p = path + 4; p <= attr; p++) {
		if (p == attr || *p == ':') {
			if (len == 0)
				return 0;
			parts++;
			len = 0;
		} else if ((attr_name_char(*p) && *p != ';') ||
		    strchr("~%+=@!$*'()", *p) != NULL) {
			len++;
		} else {
			return 0;
		}
	}
	/* ATTRNAME = ALPHA *(nameChar), once more after a '.' */
	for (p = attr + 1; parts >= 3; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');

		if (!alpha)
			return 0;
		while (attr_name_char(p[1]) && p[1] != '.' && p[1] != ';')
			p++;
		if (p[1] == '\0')
			return 1;
		if (p[1] != '.' || dot++)
			return 0;
		p++;
	}
	return 0;
}

int
mapping_path_valid(const char *path, enum map_kind *kind)
{
	size_t n = strlen(SCIM_ENTERPRISE_URN);

	*kind = MAP_STRING;
	if (strcmp(path, "active") == 0) {
		*kind = MAP_BOOLEAN;
		return 1;
	}
	if (in_list(core_simple, path, strlen(path)))
		return 1;
	if (strncmp(path, SCIM_ENTERPRISE_URN, n) == 0 && path[n] == ':') {
		if (strcmp(path, SCIM_MANAGER_PATH) == 0)
			*kind = MAP_MANAGER;
		return in_list(enterprise_attrs, path + n + 1, strlen(path + n + 1));
	}
	if (strncasecmp(path, "urn:", 4) == 0)
		return ext_path_valid(path);
	return multi_path_valid(path);
}

int
mapping_new(struct mapping **out, struct err *err)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
}

void
mapping_free(struct mapping *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->rules[i].path);
		template_free(m->rules[i].tpl);
	}
	free(m->rules);
	free(m);
}

int
mapping_add(struct mapping *m, const char *path, const char *text,
    struct err *err)
{
	struct template *tpl = NULL;
	struct rule *rules;
	enum map_kind kind;
	size_t i;
	int rc;

	if (strcmp(path, "externalId") == 0 || strcmp(path, "id") == 0)
		return err_set(err, L2S_EPARSE, "SCIM attribute '%s' cannot be "
		    "mapped: ldap2scim sets it (externalId is the directory key)",
		    path);
	if (!mapping_path_valid(path, &kind) &&
	    strncasecmp(path, "urn:", 4) == 0)
		return err_set(err, L2S_EPARSE, "unknown SCIM attribute '%s': "
		    "an extension attribute is written URN:ATTRIBUTE, the URN of "
		    "at least three parts after 'urn:', such as "
		    "'urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge' "
		    "(the core and enterprise schemas take only their own "
		    "attributes)", path);
	if (!mapping_path_valid(path, &kind))
		return err_set(err, L2S_EPARSE, "unknown SCIM attribute '%s'",
		    path);
	for (i = 0; i < m->n; i++)
		if (strcmp(m->rules[i].path, path) == 0)
			return err_set(err, L2S_EPARSE, "SCIM attribute '%s' is "
			    "mapped twice", path);
	rc = template_compile(&tpl, text, err);
	if (rc != L2S_OK)
		return rc;
	rules = realloc(m->rules, (m->n + 1) * sizeof(*rules));
	if (rules == NULL) {
		template_free(tpl);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	m->rules = rules;
	rules[m->n].path = strdup(path);
	if (rules[m->n].path == NULL) {
		template_free(tpl);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	rules[m->n].tpl = tpl;
	rules[m->n].kind = kind;
	m->n++;
	if (strcmp(path, "userName") == 0)
		m->has_username = 1;
	return L2S_OK;
}

int
mapping_finish(const struct mapping *m, struct err *err)
{
	if (!m->has_username)
		return err_set(err, L2S_EPARSE, "the mapping must set 'userName'");
	return L2S_OK;
}

size_t
mapping_count(const struct mapping *m)
{
	return m->n;
}

const char *
mapping_path(const struct mapping *m, size_t i)
{
	return m->rules[i].path;
}

const struct template *
mapping_template(const struct mapping *m, size_t i)
{
	return m->rules[i].tpl;
}

enum map_kind
mapping_kind(const struct mapping *m, size_t i)
{
	return m->rules[i].kind;
}
