/*
 * mapping.c - templates over LDAP attributes, and the SCIM paths they fill
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mapping.h"
#include "utf8.h"

struct segment {
	char *text;		/* literal text, or the attribute name */
	int is_attr;
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
			if (*q != '}' || q == name) {
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
			p = q + 1;
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

int
template_render(const struct template *t, const struct entry *e, char **out,
    struct err *err)
{
	struct buf b = BUF_INIT;
	size_t i;

	*out = NULL;
	for (i = 0; i < t->nseg; i++) {
		const struct value *v;

		if (!t->seg[i].is_attr) {
			buf_puts(&b, t->seg[i].text);
			continue;
		}
		v = entry_first(e, t->seg[i].text);
		if (v == NULL) {
			buf_free(&b);
			return L2S_ENOTFOUND;
		}
		if (!utf8_valid(v->p, v->len)) {
			buf_free(&b);
			return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
			    "is not valid UTF-8 text", t->seg[i].text, e->dn);
		}
		if (v->len > MAPPING_VALUE_MAX || b.len + v->len > MAPPING_VALUE_MAX) {
			buf_free(&b);
			return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' "
			    "makes a value of more than %d bytes, the limit for "
			    "one SCIM value", t->seg[i].text, e->dn,
			    MAPPING_VALUE_MAX);
		}
		buf_add(&b, v->p, v->len);
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
