/*
 * mapping.h - from LDAP attributes to SCIM attributes
 *
 * A template is text with "{attr}" references ("{givenName} {sn}"); "{{"
 * and "}}" stand for literal braces.  A reference takes the attribute's
 * first value as the server returned it, or passes it through filters,
 * left to right: "{attr|filter|filter(\"ARG\")}".  A selecting filter
 * (smtp_primary, smtp_secondary, first, join("SEP")) comes first and
 * chooses among the values; the others (lower, upper, trim,
 * default("TEXT"), replace("REGEX", "REPL"), match("REGEX"), not, digest)
 * work on the text.  digest (hex of the first 16 bytes of the SHA-256)
 * straight after the attribute reads the value's raw bytes, so it alone
 * takes a value that is not UTF-8.  An empty value counts as absent; only default turns an absent
 * value into text.  When any reference is absent after its filters, the
 * rendered SCIM attribute is absent (and an update removes it).
 * Arguments are double-quoted ('\"' and '\\' escape) and cannot hold
 * '{' or '}'; regular expressions are POSIX extended, compiled here.
 *
 * A mapping is the ordered list of (SCIM attribute path, template) pairs of
 * users.map.  Paths are checked when added: a core User attribute
 * ("userName", "name.givenName", "emails[type eq \"work\"].value", ...) or
 * an attribute of the enterprise extension named by its full URN.  The
 * enterprise "manager" takes a DN, which the source resolves to the
 * manager's key.
 *
 * Pure: no I/O, no logging.  Errors carry no file position; config_load()
 * prefixes them with FILE:LINE:COL.
 */
#ifndef L2S_MAPPING_H
#define L2S_MAPPING_H

#include <stddef.h>

#include "buf.h"
#include "entry.h"
#include "err.h"

#define SCIM_ENTERPRISE_URN \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_MANAGER_PATH SCIM_ENTERPRISE_URN ":manager"

struct template;
struct mapping;

/* Compile text.  On success the caller owns *out (template_free()). */
int template_compile(struct template **out, const char *text, struct err *err);
void template_free(struct template *t);

/* The LDAP attributes text refers to, in order of first use; borrowed. */
size_t template_nattrs(const struct template *t);
const char *template_attr(const struct template *t, size_t i);

/* The longest value a template may render (bytes): every buffer fed by
 * the network is bounded, and no SCIM attribute needs more. */
#define MAPPING_VALUE_MAX 65536

/* Render against e.  L2S_OK: *out is the caller's (free()).  L2S_ENOTFOUND:
 * a reference is absent or empty after its filters, *out is NULL.
 * L2S_EPARSE: a value is not valid UTF-8 (also after replace), holds a NUL
 * byte, 'not' got something other than true/false, or a value or the
 * result would be longer than MAPPING_VALUE_MAX; err names the attribute
 * and the entry. */
int template_render(const struct template *t, const struct entry *e,
    char **out, struct err *err);
/* The same into out (emptied first, a NUL after the value: buf_str()),
 * with v as scratch; both the caller's, reused from value to value, so
 * that rendering allocates nothing once they have grown.  out holds
 * nothing of use unless L2S_OK. */
int template_render_buf(const struct template *t, const struct entry *e,
    struct buf *out, struct buf *v, struct err *err);

enum map_kind {
	MAP_STRING,		/* a SCIM string attribute */
	MAP_BOOLEAN,		/* "active": rendered value must be true/false */
	MAP_MANAGER,		/* enterprise manager: the value is a DN */
};

/* An empty mapping; the caller owns *out (mapping_free()). */
int mapping_new(struct mapping **out, struct err *err);
void mapping_free(struct mapping *m);

/* Check path, compile text, append.  L2S_EPARSE names the bad path or
 * template; a path given twice is an error. */
int mapping_add(struct mapping *m, const char *path, const char *text,
    struct err *err);

/* After the last add: userName must be mapped. */
int mapping_finish(const struct mapping *m, struct err *err);

size_t mapping_count(const struct mapping *m);
const char *mapping_path(const struct mapping *m, size_t i);	/* borrowed */
const struct template *mapping_template(const struct mapping *m, size_t i);
enum map_kind mapping_kind(const struct mapping *m, size_t i);

/* Is path a SCIM User attribute this version can map?  (Exposed for tests.) */
int mapping_path_valid(const char *path, enum map_kind *kind);

#endif
