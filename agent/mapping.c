/*
 * mapping.c - templates over LDAP attributes, and the SCIM paths they fill
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adattr.h"
#include "buf.h"
#include "mapping.h"
#include "utf8.h"

/* What "{attr|filter}" does to the attribute's values, in order. */
enum filter_op {
	F_NONE,
	F_SMTP_PRIMARY,		/* picks the "SMTP:" value, without the prefix */
	F_SMTP_SECONDARY,	/* picks the first "smtp:" value, likewise */
	F_LOWER,		/* ASCII letters to lower case */
	F_UPPER,		/* ASCII letters to upper case */
};

#define SEG_FILTERS_MAX 4

static const struct {
	const char *name;
	enum filter_op op;
	int selects;		/* chooses among the values: must come first */
} filter_ops[] = {
	{ "smtp_primary", F_SMTP_PRIMARY, 1 },
	{ "smtp_secondary", F_SMTP_SECONDARY, 1 },
	{ "lower", F_LOWER, 0 },
	{ "upper", F_UPPER, 0 },
	{ NULL, F_NONE, 0 }
};

struct segment {
	char *text;		/* literal text, or the attribute name */
	int is_attr;
	enum filter_op filters[SEG_FILTERS_MAX];	/* F_NONE-terminated */
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
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nseg; i++)
		free(t->seg[i].text);
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
	seg[t->nseg].text = strndup(p, n);
	if (seg[t->nseg].text == NULL)
		return -1;
	seg[t->nseg].is_attr = is_attr;
	memset(seg[t->nseg].filters, 0, sizeof(seg[t->nseg].filters));
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

/* Parse "|name|name" in [p, end) into ops (F_NONE-terminated). */
static int
filters_parse(enum filter_op *ops, const char *text, const char *p,
    const char *end, struct err *err)
{
	size_t n = 0, i, len;

	while (p < end) {
		const char *name = ++p;	/* past the '|' */

		while (p < end && *p != '|')
			p++;
		len = (size_t)(p - name);
		for (i = 0; filter_ops[i].name != NULL; i++)
			if (strlen(filter_ops[i].name) == len &&
			    strncmp(filter_ops[i].name, name, len) == 0)
				break;
		if (filter_ops[i].name == NULL)
			return err_set(err, L2S_EPARSE, "template '%s': unknown "
			    "filter '%.*s' at offset %zu (known: smtp_primary, "
			    "smtp_secondary, lower, upper)", text, (int)len,
			    name, (size_t)(name - text));
		if (filter_ops[i].selects && n > 0)
			return err_set(err, L2S_EPARSE, "template '%s': filter "
			    "'%s' chooses among the values and must come first",
			    text, filter_ops[i].name);
		if (n + 1 >= SEG_FILTERS_MAX)
			return err_set(err, L2S_EPARSE, "template '%s': more "
			    "than %d filters on one attribute", text,
			    SEG_FILTERS_MAX - 1);
		ops[n++] = filter_ops[i].op;
	}
	ops[n] = F_NONE;
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

			const char *end;

			while (attr_name_char(*q))
				q++;
			end = q;
			while (*end != '\0' && *end != '}' && *end != '{')
				end++;
			if (q == name || *end != '}' || (q != end && *q != '|')) {
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
			rc = filters_parse(t->seg[t->nseg - 1].filters, text, q,
			    end, err);
			if (rc != L2S_OK)
				goto done;
			p = end + 1;
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

/* The value of segment sg in e: the first one, or the one its selecting
 * filter picks (prefix dropped).  NULL when there is none. */
static const struct value *
segment_value(const struct segment *sg, const struct entry *e,
    struct value *tmp)
{
	const struct entry_attr *a;
	const char *prefix;
	size_t i;

	if (sg->filters[0] != F_SMTP_PRIMARY &&
	    sg->filters[0] != F_SMTP_SECONDARY)
		return entry_first(e, sg->text);
	/* Exchange marks the primary address "SMTP:", the others "smtp:". */
	prefix = sg->filters[0] == F_SMTP_PRIMARY ? "SMTP:" : "smtp:";
	a = entry_attr(e, sg->text);
	for (i = 0; a != NULL && i < a->nvals; i++) {
		if (a->vals[i].len > 5 && memcmp(a->vals[i].p, prefix, 5) == 0) {
			tmp->p = a->vals[i].p + 5;
			tmp->len = a->vals[i].len - 5;
			return tmp;
		}
	}
	return NULL;
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
		return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
		    "makes a value of more than %d bytes, the limit for "
		    "one SCIM value", name, e->dn, MAPPING_VALUE_MAX);
	buf_add(b, v->p, v->len);
	return L2S_OK;
}

/* Apply the case filters to b's bytes from off on. */
static void
apply_case(struct buf *b, size_t off, const enum filter_op *ops)
{
	size_t i, j;

	if (buf_failed(b))
		return;
	for (i = 0; i < SEG_FILTERS_MAX && ops[i] != F_NONE; i++)
		for (j = off; j < b->len; j++) {
			char c = b->s[j];

			if (ops[i] == F_LOWER && c >= 'A' && c <= 'Z')
				b->s[j] = (char)(c - 'A' + 'a');
			else if (ops[i] == F_UPPER && c >= 'a' && c <= 'z')
				b->s[j] = (char)(c - 'a' + 'A');
		}
}

int
template_render(const struct template *t, const struct entry *e, char **out,
    struct err *err)
{
	struct buf b = BUF_INIT;
	size_t i, off;
	int rc;

	*out = NULL;
	for (i = 0; i < t->nseg; i++) {
		const struct value *v;
		struct value tmp;

		if (!t->seg[i].is_attr) {
			buf_puts(&b, t->seg[i].text);
			continue;
		}
		v = segment_value(&t->seg[i], e, &tmp);
		if (v == NULL) {
			buf_free(&b);
			return L2S_ENOTFOUND;
		}
		off = b.len;
		rc = append_value(&b, t->seg[i].text, v, e, err);
		if (rc != L2S_OK) {
			buf_free(&b);
			return rc;
		}
		apply_case(&b, off, t->seg[i].filters);
	}
	if (buf_failed(&b)) {
		buf_free(&b);
		return err_set(err, L2S_ENOMEM, "out of memory");
	}
	*out = buf_take(&b);
	return *out != NULL ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
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
