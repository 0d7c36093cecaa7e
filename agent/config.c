/*
 * config.c - loading and validating the YAML configuration
 *
 * Two passes.  First the libyaml event stream becomes a small tree of
 * scalars, sequences and mappings, each node remembering its line and
 * column; anchors, aliases and second documents are refused there.  Then the
 * tree is walked against the schema below: one table of keys per section,
 * each key with its type, where its value goes in struct config, its default
 * and its range.  Checks that involve several keys (bind method and
 * password, token file or variable, defaults taken from other sections) run
 * after a section has been read.
 *
 * The first error ends the load; its message is "FILE:LINE:COL: what" with
 * the position of the key or value at fault.
 *
 * Pure: reads one file, never logs, never exits.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <yaml.h>

#include "config.h"
#include "filter.h"
#include "mapping.h"
#include "platform.h"

/* --- the YAML tree ------------------------------------------------------ */

enum node_type { NODE_SCALAR, NODE_SEQ, NODE_MAP };

struct node {
	enum node_type type;
	int line, col;			/* 1-based */
	char *text;			/* scalar: owned, NUL-terminated */
	int plain;			/* scalar: written without quotes */
	struct node **kid;		/* owned; a map holds key, value, ... */
	size_t n, cap;
};

#define TREE_DEPTH_MAX 32

static void
node_free(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		node_free(n->kid[i]);
	free(n->kid);
	free(n->text);
	free(n);
}

/* Append kid to parent; on failure the caller still owns kid. */
static int
node_append(struct node *parent, struct node *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct node **v = realloc(parent->kid, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		parent->kid = v;
		parent->cap = cap;
	}
	parent->kid[parent->n++] = kid;
	return 0;
}

/* A plain scalar that YAML would read as null. */
static int
node_is_null(const struct node *n)
{
	return n->type == NODE_SCALAR && n->plain &&
	    (n->text[0] == '\0' || strcmp(n->text, "~") == 0 ||
	    strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	    strcmp(n->text, "NULL") == 0);
}

struct loader {
	const char *path;		/* borrowed: the file name for messages */
	struct err *err;		/* borrowed */
	struct config *cfg;		/* borrowed: being filled */
	const struct node *targets;	/* the root's targets: list, if any */
};

static int L2S_PRINTF(4, 5)
fail_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ld->err, L2S_EPARSE, "%s:%d:%d: %s", ld->path, line,
	    col, msg);
}

#define fail(ld, node, ...) fail_at((ld), (node)->line, (node)->col, __VA_ARGS__)

static int
nomem(struct loader *ld)
{
	return err_set(ld->err, L2S_ENOMEM, "out of memory");
}

/* The 1-based line and column (in bytes) of byte offset off in f; libyaml
 * reports encoding errors by offset only. */
static void
offset_position(FILE *f, size_t off, int *line, int *col)
{
	size_t i;
	int c;

	*line = 1;
	*col = 1;
	if (fseek(f, 0, SEEK_SET) != 0)
		return;
	for (i = 0; i < off && (c = getc(f)) != EOF; i++) {
		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Turn libyaml's event stream into a tree.  On success the caller owns
 * *out, which is NULL for a file without any document. */
static int
tree_load(struct node **out, FILE *f, struct loader *ld)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct node *stack[TREE_DEPTH_MAX];
	struct node *root = NULL, *n;
	size_t depth = 0;
	int ndocs = 0, finished = 0, rc = L2S_OK;

	*out = NULL;
	if (yaml_parser_initialize(&parser) == 0)
		return nomem(ld);
	yaml_parser_set_input_file(&parser, f);
	while (!finished && rc == L2S_OK) {
		if (yaml_parser_parse(&parser, &ev) == 0) {
			if (parser.error == YAML_MEMORY_ERROR)
				rc = nomem(ld);
			else if (parser.error == YAML_READER_ERROR) {
				int line, col;

				offset_position(f, parser.problem_offset, &line,
				    &col);
				rc = fail_at(ld, line, col, "%s", parser.problem ?
				    parser.problem : "cannot read the file");
			}
			else if (parser.context != NULL)
				rc = fail_at(ld,
				    (int)parser.problem_mark.line + 1,
				    (int)parser.problem_mark.column + 1,
				    "%s %s", parser.problem, parser.context);
			else
				rc = fail_at(ld,
				    (int)parser.problem_mark.line + 1,
				    (int)parser.problem_mark.column + 1,
				    "%s", parser.problem ? parser.problem :
				    "YAML syntax error");
			break;
		}
		n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			finished = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (ndocs++ > 0)
				rc = fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "only one YAML document is allowed");
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_at(ld, (int)ev.start_mark.line + 1,
			    (int)ev.start_mark.column + 1,
			    "aliases are not supported");
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			const yaml_char_t *anchor =
			    ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor :
			    ev.type == YAML_SEQUENCE_START_EVENT ?
			    ev.data.sequence_start.anchor :
			    ev.data.mapping_start.anchor;

			if (anchor != NULL) {
				rc = fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "anchors are not supported");
				break;
			}
			if (depth == TREE_DEPTH_MAX) {
				rc = fail_at(ld, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "nested too deeply");
				break;
			}
			n = calloc(1, sizeof(*n));
			if (n == NULL) {
				rc = nomem(ld);
				break;
			}
			n->line = (int)ev.start_mark.line + 1;
			n->col = (int)ev.start_mark.column + 1;
			if (ev.type == YAML_SCALAR_EVENT) {
				size_t len = ev.data.scalar.length;

				n->type = NODE_SCALAR;
				n->plain = ev.data.scalar.style ==
				    YAML_PLAIN_SCALAR_STYLE;
				n->text = malloc(len + 1);
				if (n->text == NULL) {
					node_free(n);
					rc = nomem(ld);
					break;
				}
				memcpy(n->text, ev.data.scalar.value, len);
				n->text[len] = '\0';
				if (strlen(n->text) != len) {
					rc = fail(ld, n, "NUL byte in a value");
					node_free(n);
					break;
				}
			} else {
				n->type = ev.type == YAML_SEQUENCE_START_EVENT ?
				    NODE_SEQ : NODE_MAP;
			}
			if (depth == 0) {
				root = n;
			} else if (node_append(stack[depth - 1], n) != 0) {
				node_free(n);
				rc = nomem(ld);
				break;
			}
			if (n->type != NODE_SCALAR)
				stack[depth++] = n;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc != L2S_OK) {
		node_free(root);
		return rc;
	}
	*out = root;
	return L2S_OK;
}

/* --- the schema --------------------------------------------------------- */

enum key_type {
	T_SECTION,	/* a mapping with its own table */
	T_STR,		/* a non-empty string */
	T_BOOL,		/* true | false */
	T_INT,		/* an integer from min to max */
	T_DURATION,	/* N followed by s, m, h or d; seconds from min to max */
	T_ENUM,		/* one of names, stored as its index */
	T_PERCENT,	/* "N%" (0..100) or a count; off2: is_percent */
	T_DATE,		/* YYYY-MM-DD, stored as time_t of 00:00 UTC */
	T_FILTER,	/* an LDAP filter (RFC 4515) */
	T_URIS,		/* ldap[si]:// string or list; off2: count */
	T_URL,		/* http(s):// string, one trailing '/' stripped */
	T_DOMAINS,	/* list of strings stored lower case; off2: count */
	T_PATTERNS,	/* list of non-empty strings (glob patterns); off2: count */
	T_MAP,		/* users.map: SCIM path -> template */
	T_TEMPLATE,	/* a template; off2: the text as written */
	T_RATE,		/* "N/s", "N/m" or "N/h", stored as requests per hour */
	T_TARGETS,	/* the list of targets, loaded once the root is read */
};

struct section;

struct key {
	const char *name;
	enum key_type type;
	size_t off, off2;		/* into struct config */
	int required;
	long def;			/* T_BOOL, T_INT, T_DURATION, T_ENUM */
	long min, max;			/* T_INT, T_DURATION */
	const char *const *names;	/* T_ENUM, NULL-terminated */
	const struct section *sub;	/* T_SECTION */
};

/* What the file held for each key of one section (NULL: absent). */
struct seen {
	const struct node *key, *val;
};

#define SECTION_KEYS_MAX 32

struct section {
	const struct key *keys;
	/* Checks across keys once the section is read; at is the section's
	 * key in the file (or the document root), path its dotted name. */
	int (*check)(struct loader *ld, const struct node *at,
	    const char *path, const struct seen *seen);
};

#define OFF(field) offsetof(struct config, field)

static const char *const bind_names[] = {
	"simple", "gssapi", "external", "anonymous", NULL
};
static const char *const dialect_names[] = {
	"auto", "openldap", "ad", NULL
};
static const char *const nested_names[] = {
	"flatten", "direct", "in_chain", NULL
};
static const char *const profile_names[] = {
	"generic", "atlassian", "aws", "github", "slack", NULL
};
static const char *const removal_names[] = { "deactivate", "delete", NULL };
static const char *const conflict_names[] = { "adopt", "skip", "fail", NULL };
static const char *const rename_names[] = { "patch", "recreate", NULL };

static int check_bind(struct loader *, const struct node *, const char *,
    const struct seen *);
static int check_groups(struct loader *, const struct node *, const char *,
    const struct seen *);
static int check_scim(struct loader *, const struct node *, const char *,
    const struct seen *);
static int check_root(struct loader *, const struct node *, const char *,
    const struct seen *);

static const struct key bind_keys[] = {
	{ .name = "method", .type = T_ENUM, .off = OFF(ldap.bind_method),
	  .def = BIND_SIMPLE, .names = bind_names },
	{ .name = "dn", .type = T_STR, .off = OFF(ldap.bind_dn) },
	{ .name = "password_file", .type = T_STR,
	  .off = OFF(ldap.password_file) },
	{ .name = "password_env", .type = T_STR,
	  .off = OFF(ldap.password_env) },
	{ .name = "keytab", .type = T_STR, .off = OFF(ldap.keytab) },
	{ .name = "principal", .type = T_STR, .off = OFF(ldap.principal) },
	{ .name = NULL }
};
static const struct section bind_section = { bind_keys, check_bind };

static const struct key ldap_keys[] = {
	{ .name = "uri", .type = T_URIS, .off = OFF(ldap.uris),
	  .off2 = OFF(ldap.nuris), .required = 1 },
	{ .name = "bind", .type = T_SECTION, .required = 1,
	  .sub = &bind_section },
	{ .name = "starttls", .type = T_BOOL, .off = OFF(ldap.starttls),
	  .def = 0 },
	{ .name = "tls_ca_file", .type = T_STR, .off = OFF(ldap.tls_ca_file) },
	{ .name = "tls_verify", .type = T_BOOL, .off = OFF(ldap.tls_verify),
	  .def = 1 },
	{ .name = "base_dn", .type = T_STR, .off = OFF(ldap.base_dn),
	  .required = 1 },
	{ .name = "page_size", .type = T_INT, .off = OFF(ldap.page_size),
	  .def = 500, .min = 1, .max = 100000 },
	{ .name = "dialect", .type = T_ENUM, .off = OFF(ldap.dialect),
	  .def = DIALECT_AUTO, .names = dialect_names },
	{ .name = "timeout", .type = T_DURATION, .off = OFF(ldap.timeout),
	  .def = 30, .min = 1, .max = 3600 },
	{ .name = NULL }
};
static const struct section ldap_section = { ldap_keys, NULL };

static int check_photo(struct loader *, const struct node *, const char *,
    const struct seen *);

static const struct key photo_keys[] = {
	{ .name = "attribute", .type = T_STR,
	  .off = OFF(users.photo_attribute) },
	{ .name = "directory", .type = T_STR, .off = OFF(users.photo_dir),
	  .required = 1 },
	{ .name = "url", .type = T_URL, .off = OFF(users.photo_url),
	  .required = 1 },
	{ .name = NULL }
};
static const struct section photo_section = { photo_keys, check_photo };

static const struct key users_keys[] = {
	{ .name = "base_dn", .type = T_STR, .off = OFF(users.base_dn) },
	{ .name = "filter", .type = T_FILTER, .off = OFF(users.filter),
	  .required = 1 },
	{ .name = "key", .type = T_STR, .off = OFF(users.key) },
	{ .name = "disabled_filter", .type = T_FILTER,
	  .off = OFF(users.disabled_filter) },
	{ .name = "email_domains", .type = T_DOMAINS,
	  .off = OFF(users.email_domains), .off2 = OFF(users.nemail_domains) },
	{ .name = "map", .type = T_MAP, .off = OFF(users.map), .required = 1 },
	{ .name = "photo", .type = T_SECTION, .sub = &photo_section },
	{ .name = NULL }
};
static const struct section users_section = { users_keys, NULL };

static const struct key groups_keys[] = {
	{ .name = "enabled", .type = T_BOOL, .off = OFF(groups.enabled),
	  .def = 1 },
	{ .name = "base_dn", .type = T_STR, .off = OFF(groups.base_dn) },
	{ .name = "filter", .type = T_FILTER, .off = OFF(groups.filter) },
	{ .name = "key", .type = T_STR, .off = OFF(groups.key) },
	{ .name = "name", .type = T_TEMPLATE, .off = OFF(groups.name),
	  .off2 = OFF(groups.name_text) },
	{ .name = "member_attribute", .type = T_STR,
	  .off = OFF(groups.member_attribute) },
	{ .name = "nested", .type = T_ENUM, .off = OFF(groups.nested),
	  .def = NESTED_FLATTEN, .names = nested_names },
	{ .name = "prefix", .type = T_STR, .off = OFF(groups.prefix) },
	{ .name = "include", .type = T_PATTERNS, .off = OFF(groups.include),
	  .off2 = OFF(groups.ninclude) },
	{ .name = "exclude", .type = T_PATTERNS, .off = OFF(groups.exclude),
	  .off2 = OFF(groups.nexclude) },
	{ .name = "member_range", .type = T_INT, .off = OFF(groups.member_range),
	  .def = 1500, .min = 0, .max = 100000 },
	{ .name = "on_conflict", .type = T_ENUM, .off = OFF(groups.on_conflict),
	  .def = CONFLICT_ADOPT, .names = conflict_names },
	{ .name = NULL }
};
static const struct section groups_section = { groups_keys, check_groups };

static const struct key scim_keys[] = {
	{ .name = "url", .type = T_URL, .off = OFF(scim.url), .required = 1 },
	{ .name = "profile", .type = T_ENUM, .off = OFF(scim.profile),
	  .def = PROFILE_GENERIC, .names = profile_names },
	{ .name = "token_file", .type = T_STR, .off = OFF(scim.token_file) },
	{ .name = "token_env", .type = T_STR, .off = OFF(scim.token_env) },
	{ .name = "token_expires", .type = T_DATE,
	  .off = OFF(scim.token_expires) },
	{ .name = "concurrency", .type = T_INT, .off = OFF(scim.concurrency),
	  .def = 4, .min = 1, .max = 64 },
	{ .name = "rate_limit", .type = T_INT, .off = OFF(scim.rate_limit),
	  .def = 0, .min = 0, .max = 100000 },
	{ .name = "rate_limit_users", .type = T_RATE,
	  .off = OFF(scim.rate_limit_users) },
	{ .name = "rate_limit_groups", .type = T_RATE,
	  .off = OFF(scim.rate_limit_groups) },
	{ .name = "group_rename", .type = T_ENUM, .off = OFF(scim.group_rename),
	  .def = RENAME_PATCH, .names = rename_names },
	{ .name = "timeout", .type = T_DURATION, .off = OFF(scim.timeout),
	  .def = 30, .min = 1, .max = 3600 },
	{ .name = "tls_verify", .type = T_BOOL, .off = OFF(scim.tls_verify),
	  .def = 1 },
	{ .name = "tls_ca_file", .type = T_STR, .off = OFF(scim.tls_ca_file) },
	{ .name = "allow_insecure_http", .type = T_BOOL,
	  .off = OFF(scim.allow_insecure_http), .def = 0 },
	{ .name = "member_batch", .type = T_INT, .off = OFF(scim.member_batch),
	  .def = 100, .min = 1, .max = 1000 },
	{ .name = "retries", .type = T_INT, .off = OFF(scim.retries),
	  .def = 5, .min = 0, .max = 20 },
	{ .name = "retry_max_wait", .type = T_DURATION,
	  .off = OFF(scim.retry_max_wait), .def = 60, .min = 1, .max = 3600 },
	{ .name = NULL }
};
static const struct section scim_section = { scim_keys, check_scim };

static const struct key sync_keys[] = {
	{ .name = "state", .type = T_STR, .off = OFF(sync.state),
	  .required = 1 },
	{ .name = "interval", .type = T_DURATION, .off = OFF(sync.interval),
	  .def = 300, .min = 1, .max = 30L * 86400 },
	{ .name = "removal", .type = T_ENUM, .off = OFF(sync.removal),
	  .def = REMOVAL_DEACTIVATE, .names = removal_names },
	{ .name = "max_removals", .type = T_PERCENT,
	  .off = OFF(sync.max_removals),
	  .off2 = OFF(sync.max_removals_is_percent), .def = 5 },
	{ .name = "incremental", .type = T_BOOL, .off = OFF(sync.incremental),
	  .def = 0 },
	{ .name = "full_interval", .type = T_DURATION,
	  .off = OFF(sync.full_interval), .def = 86400, .min = 60,
	  .max = 366L * 86400 },
	{ .name = NULL }
};
static const struct section sync_section = { sync_keys, NULL };

/* users, scim and sync are required unless the file has targets: */
static const struct key root_keys[] = {
	{ .name = "ldap", .type = T_SECTION, .required = 1,
	  .sub = &ldap_section },
	{ .name = "users", .type = T_SECTION, .sub = &users_section },
	{ .name = "groups", .type = T_SECTION, .sub = &groups_section },
	{ .name = "scim", .type = T_SECTION, .sub = &scim_section },
	{ .name = "sync", .type = T_SECTION, .sub = &sync_section },
	{ .name = "targets", .type = T_TARGETS },
	{ .name = NULL }
};
static const struct section root_section = { root_keys, check_root };

static int check_target(struct loader *, const struct node *, const char *,
    const struct seen *);

/* One item of targets: (the ldap section is the root's). */
static const struct key target_keys[] = {
	{ .name = "name", .type = T_STR, .off = OFF(name), .required = 1 },
	{ .name = "users", .type = T_SECTION, .required = 1,
	  .sub = &users_section },
	{ .name = "groups", .type = T_SECTION, .sub = &groups_section },
	{ .name = "scim", .type = T_SECTION, .required = 1,
	  .sub = &scim_section },
	{ .name = "sync", .type = T_SECTION, .required = 1,
	  .sub = &sync_section },
	{ .name = NULL }
};
static const struct section target_section = { target_keys, check_target };

#define FIELD(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))

/* Numeric defaults, for every section whether present or not. */
static void
apply_defaults(struct config *cfg, const struct section *sec)
{
	const struct key *k;

	for (k = sec->keys; k->name != NULL; k++) {
		switch (k->type) {
		case T_SECTION:
			apply_defaults(cfg, k->sub);
			break;
		case T_BOOL:
		case T_INT:
		case T_DURATION:
		case T_ENUM:
			*FIELD(cfg, k->off, int) = (int)k->def;
			break;
		case T_PERCENT:
			*FIELD(cfg, k->off, int) = (int)k->def;
			*FIELD(cfg, k->off2, int) = 1;
			break;
		default:
			break;
		}
	}
}

static void
key_path(char *out, size_t size, const char *path, const char *name)
{
	snprintf(out, size, "%s%s%s", path, path[0] ? "." : "", name);
}

static const struct seen *
seen_get(const struct section *sec, const struct seen *seen, const char *name)
{
	size_t i;

	for (i = 0; sec->keys[i].name != NULL; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &seen[i];
	return NULL;
}

/* --- scalar parsers (strict) -------------------------------------------- */

/* Decimal digits only, no sign, no leading zero; 0 when in [0, max]. */
static int
parse_count(const char *s, size_t len, long max, long *out)
{
	long v = 0;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static long
unit_seconds(char u)
{
	switch (u) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	}
	return 0;
}

static int
parse_duration(const char *s, long min, long max, long *out)
{
	size_t len = strlen(s);
	long n, unit;

	if (len < 2 || (unit = unit_seconds(s[len - 1])) == 0)
		return -1;
	if (parse_count(s, len - 1, max / unit, &n) != 0)
		return -1;
	n *= unit;
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* "N/s", "N/m", "N/h" as requests per hour; "0" for none. */
static int
parse_rate(const char *s, long *out)
{
	size_t len = strlen(s);
	long n, unit;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (len < 3 || s[len - 2] != '/' ||
	    (unit = unit_seconds(s[len - 1])) == 0 || unit > 3600)
		return -1;
	if (parse_count(s, len - 2, 100000, &n) != 0 || n == 0)
		return -1;
	*out = n * (3600 / unit);
	return 0;
}

/* "90s" as "90s", 3600 as "1h": the largest unit that divides evenly. */
static void
format_duration(char *out, size_t size, long secs)
{
	static const char units[] = "dhms";
	size_t i;

	for (i = 0; units[i] != '\0'; i++) {
		long u = unit_seconds(units[i]);

		if (secs % u == 0) {
			snprintf(out, size, "%ld%c", secs / u, units[i]);
			return;
		}
	}
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12): the
 * civil-to-days arithmetic, so that no C library's timegm() is needed. */
static long
days_since_epoch(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
parse_date(const char *s, time_t *out)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	long y, m, d;
	int leap, dim;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (!isdigit((unsigned char)s[0]) ||
	    parse_count(s, 4, 9999, &y) != 0 ||
	    !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]) ||
	    !isdigit((unsigned char)s[8]) || !isdigit((unsigned char)s[9]))
		return -1;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	dim = mdays[m - 1] + (m == 2 && leap);
	if (d > dim)
		return -1;
	*out = (time_t)days_since_epoch(y, m, d) * 86400;
	return 0;
}

static int
has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* --- storing one value -------------------------------------------------- */

/* A non-empty string scalar, or an error naming path. */
static int
want_string(struct loader *ld, const struct node *v, const char *path)
{
	if (v->type != NODE_SCALAR)
		return fail(ld, v, "'%s' must be a string", path);
	if (node_is_null(v) || v->text[0] == '\0')
		return fail(ld, v, "'%s' must not be empty", path);
	return L2S_OK;
}

static int
store_strdup(struct loader *ld, char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst != NULL ? L2S_OK : nomem(ld);
}

static int
store_uris(struct loader *ld, const struct key *k, const struct node *v,
    const char *path)
{
	const struct node *one = v;
	char ***uris = FIELD(ld->cfg, k->off, char **);
	size_t *n = FIELD(ld->cfg, k->off2, size_t);
	size_t count = v->type == NODE_SEQ ? v->n : 1, i;
	int rc;

	if (v->type == NODE_MAP)
		return fail(ld, v, "'%s' must be a URI or a list of URIs", path);
	if (count == 0)
		return fail(ld, v, "'%s' must not be empty", path);
	*uris = calloc(count, sizeof(**uris));
	if (*uris == NULL)
		return nomem(ld);
	for (i = 0; i < count; i++) {
		if (v->type == NODE_SEQ)
			one = v->kid[i];
		rc = want_string(ld, one, path);
		if (rc != L2S_OK)
			return rc;
		if (!has_prefix_ci(one->text, "ldap://") &&
		    !has_prefix_ci(one->text, "ldaps://") &&
		    !has_prefix_ci(one->text, "ldapi://"))
			return fail(ld, one, "'%s' must start with ldap://, "
			    "ldaps:// or ldapi://", path);
		if (strpbrk(one->text, " \t\r\n") != NULL)
			return fail(ld, one, "'%s' must hold one URI per "
			    "string (write a list for several)", path);
		rc = store_strdup(ld, &(*uris)[i], one->text);
		if (rc != L2S_OK)
			return rc;
		*n = i + 1;
	}
	return L2S_OK;
}

static int
store_url(struct loader *ld, const struct key *k, const struct node *v,
    const char *path)
{
	char **dst = FIELD(ld->cfg, k->off, char *);
	size_t skip, len;
	int rc;

	rc = want_string(ld, v, path);
	if (rc != L2S_OK)
		return rc;
	if (has_prefix_ci(v->text, "https://"))
		skip = 8;
	else if (has_prefix_ci(v->text, "http://"))
		skip = 7;
	else
		return fail(ld, v, "'%s' must start with http:// or https://",
		    path);
	if (v->text[skip] == '\0' || v->text[skip] == '/')
		return fail(ld, v, "'%s' must name a host", path);
	if (strpbrk(v->text, " \t\r\n") != NULL)
		return fail(ld, v, "'%s' must not contain white space", path);
	rc = store_strdup(ld, dst, v->text);
	if (rc != L2S_OK)
		return rc;
	len = strlen(*dst);
	if ((*dst)[len - 1] == '/')
		(*dst)[len - 1] = '\0';
	return L2S_OK;
}

/* A list of strings: domains (no '@' or white space, lower-cased) or
 * glob patterns (any non-empty text). */
static int
store_strings(struct loader *ld, const struct key *k, const struct node *v,
    const char *path)
{
	char ***doms = FIELD(ld->cfg, k->off, char **);
	size_t *n = FIELD(ld->cfg, k->off2, size_t);
	int domains = k->type == T_DOMAINS;
	size_t i;
	char *p;
	int rc;

	if (v->type != NODE_SEQ)
		return fail(ld, v, "'%s' must be a list of %s", path,
		    domains ? "domains" : "names or patterns");
	if (v->n == 0)
		return L2S_OK;
	*doms = calloc(v->n, sizeof(**doms));
	if (*doms == NULL)
		return nomem(ld);
	for (i = 0; i < v->n; i++) {
		rc = want_string(ld, v->kid[i], path);
		if (rc != L2S_OK)
			return rc;
		if (!domains) {
			rc = store_strdup(ld, &(*doms)[i], v->kid[i]->text);
			if (rc != L2S_OK)
				return rc;
			*n = i + 1;
			continue;
		}
		if (strpbrk(v->kid[i]->text, " \t\r\n@") != NULL)
			return fail(ld, v->kid[i], "'%s' must hold domain "
			    "names such as example.com", path);
		rc = store_strdup(ld, &(*doms)[i], v->kid[i]->text);
		if (rc != L2S_OK)
			return rc;
		*n = i + 1;
		for (p = (*doms)[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return L2S_OK;
}

static int
store_map(struct loader *ld, const struct key *k, const struct node *kn,
    const struct node *v, const char *path)
{
	struct mapping **map = FIELD(ld->cfg, k->off, struct mapping *);
	size_t i;
	int rc;

	if (v->type != NODE_MAP)
		return fail(ld, v, "'%s' must be a mapping of SCIM attributes "
		    "to templates", path);
	rc = mapping_new(map, ld->err);
	if (rc != L2S_OK)
		return rc;
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct node *pk = v->kid[i], *pv = v->kid[i + 1];

		if (pk->type != NODE_SCALAR || pk->text[0] == '\0')
			return fail(ld, pk, "keys of '%s' must be SCIM "
			    "attribute names", path);
		if (pv->type != NODE_SCALAR)
			return fail(ld, pv, "'%s.%s' must be a template string",
			    path, pk->text);
		if (node_is_null(pv) || pv->text[0] == '\0')
			return fail(ld, pv, "'%s.%s' must not be empty", path,
			    pk->text);
		rc = mapping_add(*map, pk->text, pv->text, ld->err);
		if (rc == L2S_EPARSE)
			return err_prefix(ld->err, "%s:%d:%d", ld->path,
			    pk->line, pk->col);
		if (rc != L2S_OK)
			return rc;
	}
	rc = mapping_finish(*map, ld->err);
	if (rc == L2S_EPARSE)
		return err_prefix(ld->err, "%s:%d:%d", ld->path, kn->line,
		    kn->col);
	return rc;
}

static int load_section(struct loader *ld, const struct section *sec,
    const struct node *at, const struct node *map, const char *path);

static int
store_value(struct loader *ld, const struct key *k, const struct node *kn,
    const struct node *v, const char *path)
{
	struct config *cfg = ld->cfg;
	long n;
	int rc;

	switch (k->type) {
	case T_SECTION:
		return load_section(ld, k->sub, kn, v, path);
	case T_STR:
		rc = want_string(ld, v, path);
		if (rc != L2S_OK)
			return rc;
		return store_strdup(ld, FIELD(cfg, k->off, char *), v->text);
	case T_BOOL:
		if (v->type != NODE_SCALAR || (strcmp(v->text, "true") != 0 &&
		    strcmp(v->text, "false") != 0))
			return fail(ld, v, "'%s' must be true or false", path);
		*FIELD(cfg, k->off, int) = strcmp(v->text, "true") == 0;
		return L2S_OK;
	case T_INT:
		if (v->type != NODE_SCALAR ||
		    parse_count(v->text, strlen(v->text), k->max, &n) != 0 ||
		    n < k->min)
			return fail(ld, v, "'%s' must be an integer from %ld "
			    "to %ld", path, k->min, k->max);
		*FIELD(cfg, k->off, int) = (int)n;
		return L2S_OK;
	case T_DURATION:
		if (v->type != NODE_SCALAR ||
		    parse_duration(v->text, k->min, k->max, &n) != 0) {
			char lo[32], hi[32];

			format_duration(lo, sizeof(lo), k->min);
			format_duration(hi, sizeof(hi), k->max);
			return fail(ld, v, "'%s' must be a duration from %s "
			    "to %s: a number followed by s, m, h or d", path,
			    lo, hi);
		}
		*FIELD(cfg, k->off, int) = (int)n;
		return L2S_OK;
	case T_ENUM: {
		char list[256] = "";
		size_t i;

		for (i = 0; v->type == NODE_SCALAR && k->names[i] != NULL; i++)
			if (strcmp(v->text, k->names[i]) == 0) {
				*FIELD(cfg, k->off, int) = (int)i;
				return L2S_OK;
			}
		for (i = 0; k->names[i] != NULL; i++) {
			if (i > 0)
				strcat(list, k->names[i + 1] ? ", " : " or ");
			strcat(list, k->names[i]);
		}
		return fail(ld, v, "'%s' must be %s", path, list);
	}
	case T_PERCENT: {
		size_t len = v->type == NODE_SCALAR ? strlen(v->text) : 0;
		int pct = len > 1 && v->text[len - 1] == '%';

		if (len == 0 || parse_count(v->text, pct ? len - 1 : len,
		    pct ? 100 : INT_MAX, &n) != 0)
			return fail(ld, v, "'%s' must be a count or a "
			    "percentage from 0%% to 100%%", path);
		*FIELD(cfg, k->off, int) = (int)n;
		*FIELD(cfg, k->off2, int) = pct;
		return L2S_OK;
	}
	case T_TARGETS:
		if (v->type != NODE_SEQ || v->n == 0)
			return fail(ld, v, "'%s' must be a list of targets, each "
			    "with its name, users, groups, scim and sync", path);
		ld->targets = v;	/* loaded once the root is read */
		return L2S_OK;
	case T_RATE:
		if (v->type != NODE_SCALAR || parse_rate(v->text, &n) != 0)
			return fail(ld, v, "'%s' must be a rate such as 10/s, "
			    "180/m or 1000/h (0 for none)", path);
		*FIELD(cfg, k->off, int) = (int)n;
		return L2S_OK;
	case T_DATE:
		if (v->type != NODE_SCALAR ||
		    parse_date(v->text, FIELD(cfg, k->off, time_t)) != 0)
			return fail(ld, v, "'%s' must be a date as YYYY-MM-DD",
			    path);
		return L2S_OK;
	case T_FILTER: {
		struct err ferr = ERR_INIT;

		rc = want_string(ld, v, path);
		if (rc != L2S_OK)
			return rc;
		if (filter_check(v->text, &ferr) != L2S_OK)
			return fail(ld, v, "'%s' is not a valid LDAP filter: %s",
			    path, ferr.msg);
		return store_strdup(ld, FIELD(cfg, k->off, char *), v->text);
	}
	case T_URIS:
		return store_uris(ld, k, v, path);
	case T_URL:
		return store_url(ld, k, v, path);
	case T_DOMAINS:
	case T_PATTERNS:
		return store_strings(ld, k, v, path);
	case T_MAP:
		return store_map(ld, k, kn, v, path);
	case T_TEMPLATE:
		rc = want_string(ld, v, path);
		if (rc != L2S_OK)
			return rc;
		rc = template_compile(FIELD(cfg, k->off, struct template *),
		    v->text, ld->err);
		if (rc == L2S_EPARSE)
			return err_prefix(ld->err, "%s:%d:%d", ld->path,
			    v->line, v->col);
		if (rc != L2S_OK)
			return rc;
		return store_strdup(ld, FIELD(cfg, k->off2, char *), v->text);
	}
	return fail(ld, v, "'%s': unhandled key type", path);
}

/*
 * Read the mapping map against sec.  at is where the section is named (its
 * key, or the document root) for "missing required key" errors; path is its
 * dotted name ("" for the root).
 */
static int
load_section(struct loader *ld, const struct section *sec,
    const struct node *at, const struct node *map, const char *path)
{
	struct seen seen[SECTION_KEYS_MAX];
	char kpath[256];
	size_t i, j;
	int rc;

	memset(seen, 0, sizeof(seen));
	if (map->type != NODE_MAP) {
		if (path[0] == '\0')
			return fail(ld, map, "the configuration must be a "
			    "mapping of sections (ldap, users, groups, scim, "
			    "sync)");
		return fail(ld, map, "'%s' must be a mapping", path);
	}
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct node *kn = map->kid[i], *v = map->kid[i + 1];

		if (kn->type != NODE_SCALAR)
			return fail(ld, kn, "keys must be plain names");
		for (j = 0; sec->keys[j].name != NULL; j++)
			if (strcmp(sec->keys[j].name, kn->text) == 0)
				break;
		if (sec->keys[j].name == NULL)
			return fail(ld, kn, "unknown key '%s%s%s'", path,
			    path[0] ? "." : "", kn->text);
		key_path(kpath, sizeof(kpath), path, kn->text);
		if (seen[j].key != NULL)
			return fail(ld, kn, "duplicate key '%s' (first at "
			    "line %d)", kpath, seen[j].key->line);
		seen[j].key = kn;
		seen[j].val = v;
		rc = store_value(ld, &sec->keys[j], kn, v, kpath);
		if (rc != L2S_OK)
			return rc;
	}
	for (j = 0; sec->keys[j].name != NULL; j++) {
		if (sec->keys[j].required && seen[j].key == NULL) {
			key_path(kpath, sizeof(kpath), path,
			    sec->keys[j].name);
			return fail(ld, at, "missing required key '%s'", kpath);
		}
	}
	return sec->check != NULL ? sec->check(ld, at, path, seen) : L2S_OK;
}

/* --- checks across keys ------------------------------------------------- */

/* The later of two present keys, for "cannot both" errors. */
static const struct node *
later(const struct node *a, const struct node *b)
{
	if (a->line != b->line)
		return a->line > b->line ? a : b;
	return a->col > b->col ? a : b;
}

static int
check_bind(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	/* Which keys each method accepts (bit 1 << method). */
	static const struct {
		const char *name;
		unsigned methods;
	} allowed[] = {
		{ "dn", 1u << BIND_SIMPLE },
		{ "password_file", 1u << BIND_SIMPLE },
		{ "password_env", 1u << BIND_SIMPLE },
		{ "keytab", 1u << BIND_GSSAPI },
		{ "principal", 1u << BIND_GSSAPI },
	};
	const struct config_ldap *l = &ld->cfg->ldap;
	const struct seen *pf, *pe;
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		const struct seen *s = seen_get(&bind_section, seen,
		    allowed[i].name);

		if (s->key != NULL &&
		    (allowed[i].methods & (1u << l->bind_method)) == 0)
			return fail(ld, s->key, "'%s.%s' cannot be used with "
			    "method %s", path, allowed[i].name,
			    bind_names[l->bind_method]);
	}
	if (l->bind_method != BIND_SIMPLE)
		return L2S_OK;
	if (l->bind_dn == NULL)
		return fail(ld, at, "missing required key '%s.dn'", path);
	pf = seen_get(&bind_section, seen, "password_file");
	pe = seen_get(&bind_section, seen, "password_env");
	if (pf->key != NULL && pe->key != NULL)
		return fail(ld, later(pf->key, pe->key), "'%s.password_file' "
		    "and '%s.password_env' cannot both be set", path, path);
	if (pf->key == NULL && pe->key == NULL)
		return fail(ld, at, "missing required key '%s.password_file' "
		    "or '%s.password_env'", path, path);
	return L2S_OK;
}

static int
check_groups(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	const struct seen *ma = seen_get(&groups_section, seen,
	    "member_attribute");
	const struct seen *ne = seen_get(&groups_section, seen, "nested");
	const char *p;

	if (ld->cfg->groups.enabled && ld->cfg->groups.filter == NULL)
		return fail(ld, at, "missing required key '%s.filter'", path);
	/* An attribute type name (or OID): it is also sent with ";range=". */
	if (ma->val != NULL) {
		for (p = ld->cfg->groups.member_attribute; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
				break;
		if (*p != '\0' || p - ld->cfg->groups.member_attribute > 64)
			return fail(ld, ma->val, "'%s.member_attribute' must be "
			    "an attribute name of at most 64 letters, digits, "
			    "'-' or '.'", path);
	}
	/* Only AD knows the in-chain rule; OpenLDAP answers "no entries". */
	if (ne->val != NULL && ld->cfg->groups.nested == NESTED_IN_CHAIN &&
	    ld->cfg->ldap.dialect == DIALECT_OPENLDAP)
		return fail(ld, ne->val, "'%s.nested: in_chain' needs Active "
		    "Directory, not ldap.dialect openldap", path);
	return L2S_OK;
}

/*
 * What scim.profile implies for the keys the file leaves out, and the
 * values a target refuses.  Atlassian cannot rename a group (recreate);
 * GitHub takes at most 1,000 users an hour; Slack limits writes to each
 * endpoint to 180 a minute; AWS IAM Identity Center takes at most 100
 * member changes in one PATCH.
 */
static int
profile_defaults(struct loader *ld, const char *path, const struct seen *seen)
{
	struct config_scim *s = &ld->cfg->scim;
	const struct seen *gr = seen_get(&scim_section, seen, "group_rename");
	const struct seen *ru = seen_get(&scim_section, seen, "rate_limit_users");
	const struct seen *rg = seen_get(&scim_section, seen,
	    "rate_limit_groups");
	const struct seen *mb = seen_get(&scim_section, seen, "member_batch");

	switch (s->profile) {
	case PROFILE_ATLASSIAN:
		if (gr->key == NULL)
			s->group_rename = RENAME_RECREATE;
		else if (s->group_rename == RENAME_PATCH)
			return fail(ld, gr->val, "'%s.group_rename' cannot be "
			    "patch with profile atlassian: Atlassian does not "
			    "rename groups (use recreate)", path);
		break;
	case PROFILE_AWS:
		if (mb->key != NULL && s->member_batch > 100)
			return fail(ld, mb->val, "'%s.member_batch' must be at "
			    "most 100 with profile aws: AWS IAM Identity Center "
			    "takes at most 100 member changes in one request",
			    path);
		break;
	case PROFILE_GITHUB:
		if (ru->key == NULL)
			s->rate_limit_users = 1000;
		break;
	case PROFILE_SLACK:
		if (ru->key == NULL)
			s->rate_limit_users = 180 * 60;
		if (rg->key == NULL)
			s->rate_limit_groups = 180 * 60;
		break;
	case PROFILE_GENERIC:
		break;
	}
	return L2S_OK;
}

static int
check_photo(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	const char *p;

	(void)seen;
	for (p = ld->cfg->users.photo_attribute; p != NULL && *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != ';')
			return fail(ld, at, "'%s.attribute' must be an attribute "
			    "name such as jpegPhoto", path);
	if (ld->cfg->users.photo_dir[0] != '/')
		return fail(ld, at, "'%s.directory' must be an absolute path",
		    path);
	return L2S_OK;
}

static int
check_scim(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	const struct seen *tf = seen_get(&scim_section, seen, "token_file");
	const struct seen *te = seen_get(&scim_section, seen, "token_env");

	if (tf->key != NULL && te->key != NULL)
		return fail(ld, later(tf->key, te->key), "'%s.token_file' and "
		    "'%s.token_env' cannot both be set", path, path);
	if (tf->key == NULL && te->key == NULL)
		return fail(ld, at, "missing required key '%s.token_file' or "
		    "'%s.token_env'", path, path);
	return profile_defaults(ld, path, seen);
}

/*
 * Defaults that depend on other keys, once every section of one target is
 * read; groups, users and sync are where those sections are named in the
 * file (groups NULL when absent).
 */
static int
finish_target(struct loader *ld, const struct node *groups,
    const struct node *users, const struct node *sync)
{
	struct config *cfg = ld->cfg;
	const char *key;
	int rc;

	if (groups == NULL)
		cfg->groups.enabled = 0;
	key = cfg->ldap.dialect == DIALECT_AD ? "objectGUID" : "entryUUID";
	if (cfg->users.base_dn == NULL &&
	    store_strdup(ld, &cfg->users.base_dn, cfg->ldap.base_dn) != L2S_OK)
		return L2S_ENOMEM;
	if (cfg->users.key == NULL) {
		cfg->users.key_auto = cfg->ldap.dialect == DIALECT_AUTO;
		if (store_strdup(ld, &cfg->users.key, key) != L2S_OK)
			return L2S_ENOMEM;
	}
	if (cfg->groups.base_dn == NULL &&
	    store_strdup(ld, &cfg->groups.base_dn, cfg->ldap.base_dn) != L2S_OK)
		return L2S_ENOMEM;
	if (cfg->groups.key == NULL) {
		cfg->groups.key_auto = cfg->users.key_auto;
		if (store_strdup(ld, &cfg->groups.key, cfg->users.key) != L2S_OK)
			return L2S_ENOMEM;
	}
	if (cfg->groups.member_attribute == NULL &&
	    store_strdup(ld, &cfg->groups.member_attribute, "member") != L2S_OK)
		return L2S_ENOMEM;
	if (cfg->users.photo_dir != NULL && cfg->users.photo_attribute == NULL) {
		cfg->users.photo_auto = cfg->ldap.dialect == DIALECT_AUTO;
		if (store_strdup(ld, &cfg->users.photo_attribute,
		    cfg->ldap.dialect == DIALECT_AD ? "thumbnailPhoto" :
		    "jpegPhoto") != L2S_OK)
			return L2S_ENOMEM;
	}
	if (cfg->users.photo_dir != NULL && cfg->users.map != NULL) {
		size_t i;

		for (i = 0; i < mapping_count(cfg->users.map); i++)
			if (strncmp(mapping_path(cfg->users.map, i),
			    "photos[type eq \"photo\"]", 23) == 0)
				return fail(ld, users, "'users.photo' and a "
				    "mapped '%s' cannot both be set: the photo "
				    "section sets it",
				    mapping_path(cfg->users.map, i));
	}
	if (cfg->scim.profile == PROFILE_ATLASSIAN) {
		if (cfg->sync.removal == REMOVAL_DELETE)
			return fail(ld, sync, "'sync.removal' cannot be delete "
			    "with profile atlassian: Atlassian keeps accounts, "
			    "users leaving are deactivated");
	}
	if (cfg->groups.name == NULL) {
		rc = template_compile(&cfg->groups.name, "{cn}", ld->err);
		if (rc != L2S_OK)
			return rc;
		if (store_strdup(ld, &cfg->groups.name_text, "{cn}") != L2S_OK)
			return L2S_ENOMEM;
	}
	return L2S_OK;
}

static int
check_root(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	static const char *const per_target[] = {
		"users", "groups", "scim", "sync", NULL
	};
	const struct seen *t = seen_get(&root_section, seen, "targets");
	size_t i;

	(void)path;
	for (i = 0; per_target[i] != NULL; i++) {
		const struct seen *s = seen_get(&root_section, seen,
		    per_target[i]);

		if (t->key != NULL && s->key != NULL)
			return fail(ld, s->key, "'%s' belongs in each target "
			    "when the file has 'targets' (line %d)",
			    per_target[i], t->key->line);
		if (t->key == NULL && s->key == NULL && i != 1)
			return fail(ld, at, "missing required key '%s'",
			    per_target[i]);
	}
	if (t->key != NULL)
		return L2S_OK;
	return finish_target(ld, seen_get(&root_section, seen, "groups")->key,
	    seen_get(&root_section, seen, "users")->key,
	    seen_get(&root_section, seen, "sync")->key);
}

static int
check_target(struct loader *ld, const struct node *at, const char *path,
    const struct seen *seen)
{
	const struct seen *sy = seen_get(&target_section, seen, "sync");

	(void)at;
	if (ld->cfg->sync.incremental)
		return fail(ld, sy->key, "'%s.sync.incremental' cannot be used "
		    "with several targets: each cycle reads the directory once "
		    "for all of them", path);
	return finish_target(ld, seen_get(&target_section, seen, "groups")->key,
	    seen_get(&target_section, seen, "users")->key, sy->key);
}

/*
 * Each item of targets becomes a whole config of its own: the root's ldap
 * section read again into it, then the item's sections.  Two targets may
 * not share a name or a state file.
 */
static int
load_targets(struct loader *ld, const struct node *root)
{
	const struct node *lk = NULL, *lv = NULL, *v = ld->targets;
	struct config *cfg = ld->cfg;
	char path[64];
	size_t i, j;
	int rc;

	for (i = 0; i + 1 < root->n; i += 2)
		if (strcmp(root->kid[i]->text, "ldap") == 0) {
			lk = root->kid[i];
			lv = root->kid[i + 1];
		}
	cfg->targets = calloc(v->n, sizeof(*cfg->targets));
	if (cfg->targets == NULL)
		return nomem(ld);
	for (i = 0; i < v->n; i++) {
		struct loader sub = { ld->path, ld->err, NULL, NULL };
		struct config *t = calloc(1, sizeof(*t));

		if (t == NULL)
			return nomem(ld);
		cfg->targets[cfg->ntargets++] = t;
		apply_defaults(t, &root_section);
		memcpy(t->fingerprint, cfg->fingerprint, sizeof(t->fingerprint));
		sub.cfg = t;
		rc = store_strdup(&sub, &t->path, ld->path);
		if (rc != L2S_OK)
			return rc;
		rc = load_section(&sub, &ldap_section, lk, lv, "ldap");
		if (rc != L2S_OK)
			return rc;
		snprintf(path, sizeof(path), "targets[%zu]", i);
		rc = load_section(&sub, &target_section, v->kid[i], v->kid[i],
		    path);
		if (rc != L2S_OK)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->targets[j]->name, t->name) == 0)
				return fail(ld, v->kid[i], "'%s': target name "
				    "'%s' is used twice", path, t->name);
			if (strcmp(cfg->targets[j]->sync.state,
			    t->sync.state) == 0)
				return fail(ld, v->kid[i], "'%s': targets '%s' "
				    "and '%s' cannot share the state file '%s'",
				    path, cfg->targets[j]->name, t->name,
				    t->sync.state);
			/* Each prunes the images the other publishes. */
			if (t->users.photo_dir != NULL &&
			    cfg->targets[j]->users.photo_dir != NULL &&
			    strcmp(cfg->targets[j]->users.photo_dir,
			    t->users.photo_dir) == 0)
				return fail(ld, v->kid[i], "'%s': targets '%s' "
				    "and '%s' cannot share the photo directory "
				    "'%s'", path, cfg->targets[j]->name, t->name,
				    t->users.photo_dir);
		}
	}
	return L2S_OK;
}

/* --- the interface ------------------------------------------------------ */

/* FNV-1a over the file f was parsed from (read again from the start, the
 * same open file) and the version: another file or another agent reads
 * the directory another way. */
static void
fingerprint(FILE *f, char out[17])
{
	unsigned long long h = 1469598103934665603ULL;
	const char *v = L2S_VERSION;
	unsigned char buf[4096];
	size_t n, i;

	rewind(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	for (; *v != '\0'; v++)
		h = (h ^ (unsigned char)*v) * 1099511628211ULL;
	snprintf(out, 17, "%016llx", h);
}

int
config_load(struct config **out, const char *path, struct err *err)
{
	struct loader ld = { path, err, NULL, NULL };
	struct node *root = NULL;
	struct platform_stat st;
	FILE *f = NULL;
	int rc;

	*out = NULL;
	f = platform_fopen(path, "rb");
	if (f == NULL || (platform_stat(path, &st) == 0 && st.is_dir)) {
		rc = err_set(err, L2S_EIO, "cannot open config file '%s': %s",
		    path, strerror(f == NULL ? errno : EISDIR));
		goto done;
	}
	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (ld.cfg == NULL) {
		rc = nomem(&ld);
		goto done;
	}
	apply_defaults(ld.cfg, &root_section);
	rc = store_strdup(&ld, &ld.cfg->path, path);
	if (rc != L2S_OK)
		goto done;
	rc = tree_load(&root, f, &ld);
	if (rc != L2S_OK)
		goto done;
	fingerprint(f, ld.cfg->fingerprint);
	if (root == NULL || node_is_null(root)) {
		rc = fail_at(&ld, 1, 1, "the configuration is empty");
		goto done;
	}
	rc = load_section(&ld, &root_section, root, root, "");
	if (rc == L2S_OK && ld.targets != NULL)
		rc = load_targets(&ld, root);
	if (rc != L2S_OK)
		goto done;
	*out = ld.cfg;
	ld.cfg = NULL;
done:
	config_free(ld.cfg);
	node_free(root);
	if (f != NULL)
		fclose(f);
	return rc;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->ntargets; i++)
		config_free(cfg->targets[i]);
	free(cfg->targets);
	free(cfg->name);
	free(cfg->path);
	free_strv(cfg->ldap.uris, cfg->ldap.nuris);
	free(cfg->ldap.bind_dn);
	free(cfg->ldap.password_file);
	free(cfg->ldap.password_env);
	free(cfg->ldap.keytab);
	free(cfg->ldap.principal);
	free(cfg->ldap.tls_ca_file);
	free(cfg->ldap.base_dn);
	free(cfg->users.base_dn);
	free(cfg->users.filter);
	free(cfg->users.key);
	free(cfg->users.disabled_filter);
	free_strv(cfg->users.email_domains, cfg->users.nemail_domains);
	free(cfg->users.photo_attribute);
	free(cfg->users.photo_dir);
	free(cfg->users.photo_url);
	free_strv(cfg->groups.include, cfg->groups.ninclude);
	free_strv(cfg->groups.exclude, cfg->groups.nexclude);
	free(cfg->groups.prefix);
	mapping_free(cfg->users.map);
	free(cfg->groups.base_dn);
	free(cfg->groups.filter);
	free(cfg->groups.key);
	template_free(cfg->groups.name);
	free(cfg->groups.name_text);
	free(cfg->groups.member_attribute);
	free(cfg->scim.url);
	free(cfg->scim.token_file);
	free(cfg->scim.token_env);
	free(cfg->scim.tls_ca_file);
	free(cfg->sync.state);
	free(cfg);
}

size_t
config_ntargets(const struct config *cfg)
{
	return cfg->ntargets > 0 ? cfg->ntargets : 1;
}

const struct config *
config_target(const struct config *cfg, size_t i)
{
	return cfg->ntargets > 0 ? cfg->targets[i] : cfg;
}

const char *
config_removal_name(enum removal_mode m)
{
	return (size_t)m < sizeof(removal_names) / sizeof(removal_names[0]) - 1 ?
	    removal_names[m] : "unknown";
}

const char *
config_profile_name(enum scim_profile p)
{
	return (size_t)p < sizeof(profile_names) / sizeof(profile_names[0]) - 1 ?
	    profile_names[p] : "unknown";
}
