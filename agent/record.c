/*
 * record.c - canonical directory objects: attribute sets, member lists,
 * and the read set that holds them
 *
 * An attribute set is an array kept sorted by path (strcmp) with unique
 * paths, so lookups are binary searches and two sets compare element by
 * element.  Its JSON form is one object of string values whose keys come
 * out in that same sorted order, so equal sets give byte-identical text.
 *
 * Memory is laid out for a hundred thousand records held twice (read and
 * remembered): paths are interned in one pool for the whole process (the
 * mapping names a handful), a set's values are packed into a few blocks,
 * and a group's member keys share one block with their array.  Freeing a
 * record then frees a few pieces, not dozens.
 *
 * Pure: no I/O, no logging.  Every free function accepts NULL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compiler.h"
#include "record.h"

/* --- the pool of paths and member keys --- */

/*
 * An open-addressing hash set of strings (hmap_hash()), grown at 3/4
 * full.  A slot keeps its string's hash beside it, so a probe compares
 * strings only when the hashes agree: with a hundred thousand member
 * keys in the pool, most probes would otherwise fetch a string from a
 * cold cache line just to find it different.  Its strings and table stay
 * reachable from these statics until exit: never freed.
 */
struct pool_slot {
	char *s;		/* NULL: empty */
	uint64_t h;		/* hmap_hash(s) */
};

static struct {
	struct pool_slot *slot;
	size_t cap, len;
} pool;

/* Move the pool to a table of cap slots (a power of two, more than it
 * holds).  0, or -1 out of memory (the pool unchanged). */
static int
pool_grow(size_t cap)
{
	size_t i, j;
	struct pool_slot *nv;

	nv = calloc(cap, sizeof(*nv));
	if (nv == NULL)
		return -1;
	for (j = 0; j < pool.cap; j++) {
		if (pool.slot[j].s == NULL)
			continue;
		i = pool.slot[j].h & (cap - 1);
		while (nv[i].s != NULL)
			i = (i + 1) & (cap - 1);
		nv[i] = pool.slot[j];
	}
	free(pool.slot);
	pool.slot = nv;
	pool.cap = cap;
	return 0;
}

/* Room for one more string: grow at 3/4 full.  0, or -1 out of memory. */
static int
pool_room(void)
{
	if (pool.len + 1 <= pool.cap / 4 * 3)
		return 0;
	return pool_grow(pool.cap ? pool.cap * 2 : 64);
}

int
record_pool_reserve(size_t n)
{
	size_t cap = pool.cap ? pool.cap : 64;

	while (pool.len + n > cap / 4 * 3)
		cap *= 2;
	return cap == pool.cap ? 0 : pool_grow(cap);
}

/* The pool's copy of s, whose hmap_hash() is h; NULL out of memory. */
static char *
pool_intern_h(const char *s, uint64_t h)
{
	size_t i, mask;
	char *p;

	if (pool_room() != 0)
		return NULL;
	mask = pool.cap - 1;
	for (i = h & mask; pool.slot[i].s != NULL; i = (i + 1) & mask)
		if (pool.slot[i].h == h && strcmp(pool.slot[i].s, s) == 0)
			return pool.slot[i].s;
	p = strdup(s);
	if (p == NULL)
		return NULL;
	pool.slot[i].s = p;
	pool.slot[i].h = h;
	pool.len++;
	return p;
}

/* The pool's copy of s; NULL out of memory. */
static char *
path_intern(const char *s)
{
	return pool_intern_h(s, hmap_hash(s));
}

/*
 * out[i] = the pool's copy of key i of blob (n keys one after another,
 * each ended by a NUL), for i < n; 0, or -1 out of memory.  For a long list (a
 * group's members, as the state store gives them): the hashes come first,
 * then each lookup asks the memory for the slot POOL_AHEAD keys ahead,
 * and for the string of the slot half as far ahead, so that the lookups
 * wait for those reads together instead of one by one.
 */
#define POOL_AHEAD 8

static int
pool_intern_blob(const char *blob, size_t n, char **out)
{
	const char *p;
	uint64_t *h;
	size_t i, l;

	h = malloc((n > 0 ? n : 1) * sizeof(*h));
	if (h == NULL)
		return -1;
	for (i = 0, p = blob; i < n; i++, p += l + 1) {
		l = strlen(p);
		h[i] = hmap_hashn(p, l);
	}
	for (i = 0, p = blob; i < n; i++, p += strlen(p) + 1) {
		if (pool.cap > 0 && i + POOL_AHEAD < n)
			L2S_PREFETCH(&pool.slot[h[i + POOL_AHEAD] &
			    (pool.cap - 1)]);
		if (pool.cap > 0 && i + POOL_AHEAD / 2 < n) {
			const struct pool_slot *sl = &pool.slot[h[i +
			    POOL_AHEAD / 2] & (pool.cap - 1)];

			if (sl->s != NULL)
				L2S_PREFETCH(sl->s);
		}
		if ((out[i] = pool_intern_h(p, h[i])) == NULL) {
			free(h);
			return -1;
		}
	}
	free(h);
	return 0;
}

/* --- value blocks --- */

struct attrs_blk {
	struct attrs_blk *next;
	size_t cap, used;
	char s[];
};

#define BLK_MIN 192

/* Room for len bytes in a's newest block, or in a new one; NULL on ENOMEM.
 * Never moves a value already stored. */
static char *
blk_alloc(struct attrs *a, size_t len)
{
	struct attrs_blk *b = a->blk;
	size_t cap;

	if (b == NULL || b->cap - b->used < len) {
		cap = b != NULL ? b->cap * 2 : BLK_MIN;
		if (cap > 4096)
			cap = 4096;
		if (cap < len)
			cap = len;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->blk;
		a->blk = b;
	}
	b->used += len;
	return b->s + b->used - len;
}

/* Index of path in a, or of where it would be inserted; *found says which. */
static size_t
attrs_find(const struct attrs *a, const char *path, int *found)
{
	size_t lo = 0, hi = a->n;

	*found = 0;
	if (hi > 0) {
		/* Paths mostly come in order: try after the last first. */
		int c = a->v[hi - 1].path == path ? 0 :
		    strcmp(a->v[hi - 1].path, path);

		if (c <= 0) {
			*found = c == 0;
			return c == 0 ? hi - 1 : hi;
		}
		hi--;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = a->v[mid].path == path ? 0 :
		    strcmp(a->v[mid].path, path);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
attrs_reserve(struct attrs *a, size_t n)
{
	struct attr *nv;

	if (n <= a->cap)
		return 0;
	nv = realloc(a->v, n * sizeof(*nv));
	if (nv == NULL)
		return -1;
	a->v = nv;
	a->cap = n;
	return 0;
}

/* Make room for one more entry; 0, or -1 out of memory. */
static int
attrs_grow(struct attrs *a)
{
	return a->n < a->cap ? 0 : attrs_reserve(a, a->cap ? a->cap * 2 : 8);
}

/* attrs_set() of len bytes at value (no NUL needed); path is the pool's
 * already when pooled. */
static int
attrs_put(struct attrs *a, const char *path, int pooled, const char *value,
    size_t len)
{
	char *p = NULL, *v;
	size_t i;
	int found;

	i = attrs_find(a, path, &found);
	if (found && strncmp(a->v[i].value, value, len) == 0 &&
	    a->v[i].value[len] == '\0')
		return 0;
	if (!found && ((p = pooled ? (char *)path : path_intern(path)) ==
	    NULL || attrs_grow(a) != 0))
		return -1;
	/* Old values stay where they are: value may point at one. */
	v = blk_alloc(a, len + 1);
	if (v == NULL)
		return -1;
	memcpy(v, value, len);
	v[len] = '\0';
	if (found) {
		a->v[i].value = v;
		return 0;
	}
	memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(a->v[0]));
	a->v[i].path = p;
	a->v[i].value = v;
	a->n++;
	return 0;
}

static int
attrs_setn(struct attrs *a, const char *path, const char *value, size_t len)
{
	return attrs_put(a, path, 0, value, len);
}

int
attrs_set(struct attrs *a, const char *path, const char *value)
{
	return attrs_setn(a, path, value, strlen(value));
}

int
attrs_set_pooled(struct attrs *a, const char *path, const char *value,
    size_t len)
{
	return attrs_put(a, path, 1, value, len);
}

const char *
attrs_get(const struct attrs *a, const char *path)
{
	size_t i;
	int found;

	if (a == NULL)
		return NULL;
	i = attrs_find(a, path, &found);
	return found ? a->v[i].value : NULL;
}

int
attrs_del(struct attrs *a, const char *path)
{
	size_t i;
	int found;

	i = attrs_find(a, path, &found);
	if (!found)
		return 0;
	memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(a->v[0]));
	a->n--;
	return 1;
}

int
attrs_equal(const struct attrs *a, const struct attrs *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if ((a->v[i].path != b->v[i].path &&
		    strcmp(a->v[i].path, b->v[i].path) != 0) ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	}
	return 1;
}

void
attrs_prefetch(const struct attrs *a)
{
	size_t off, bytes = a->n * sizeof(a->v[0]);

	for (off = 0; off < bytes; off += 64)
		L2S_PREFETCH((const char *)a->v + off);
	if (a->blk != NULL)
		L2S_PREFETCH(a->blk);
}

void
attrs_prefetch_values(const struct attrs *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		L2S_PREFETCH(a->v[i].value);
}

int
attrs_copy(struct attrs *dst, const struct attrs *src)
{
	struct attrs t = ATTRS_INIT;
	size_t i, total = 0, l;
	char *p;

	if (src->n > 0) {
		for (i = 0; i < src->n; i++)
			total += strlen(src->v[i].value) + 1;
		t.v = malloc(src->n * sizeof(*t.v));
		p = t.v != NULL ? blk_alloc(&t, total) : NULL;
		if (p == NULL) {
			attrs_free(&t);
			return -1;
		}
		t.cap = src->n;
		/* Paths are interned: the copy shares them. */
		for (i = 0; i < src->n; i++) {
			l = strlen(src->v[i].value) + 1;
			memcpy(p, src->v[i].value, l);
			t.v[i].path = src->v[i].path;
			t.v[i].value = p;
			p += l;
		}
		t.n = src->n;
	}
	attrs_free(dst);
	*dst = t;
	return 0;
}

void
attrs_free(struct attrs *a)
{
	struct attrs_blk *b, *next;

	if (a == NULL)
		return;
	for (b = a->blk; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a->v);
	*a = (struct attrs)ATTRS_INIT;
}

/* --- the JSON form --- */

/* s as a JSON string, escaped the way cJSON prints it. */
static void
json_str(struct buf *b, const char *s)
{
	const char *run = s;
	char esc[8];

	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			buf_add(b, esc, 6);
			break;
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_putc(b, '"');
}

void
attrs_json_buf(const struct attrs *a, struct buf *b)
{
	size_t i;

	buf_putc(b, '{');
	for (i = 0; i < a->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		json_str(b, a->v[i].path);
		buf_putc(b, ':');
		json_str(b, a->v[i].value);
	}
	buf_putc(b, '}');
}

char *
attrs_to_json(const struct attrs *a)
{
	struct buf b = BUF_INIT;

	attrs_json_buf(a, &b);
	return buf_take(&b);
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void
put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, u, n);
}

/* Read the JSON string at *sp (at its opening quote) into b (reset
 * first); *sp moves past it.  0, or -1 when it is not a string. */
static int
json_read_str(const char **sp, struct buf *b)
{
	const char *s = *sp, *run;
	unsigned cp, lo;

	buf_reset(b);
	if (*s++ != '"')
		return -1;
	for (run = s;; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			break;
		if (c < 0x20)
			return -1;	/* control character or the end */
		if (c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		switch (*++s) {
		case '"': buf_putc(b, '"'); break;
		case '\\': buf_putc(b, '\\'); break;
		case '/': buf_putc(b, '/'); break;
		case 'b': buf_putc(b, '\b'); break;
		case 'f': buf_putc(b, '\f'); break;
		case 'n': buf_putc(b, '\n'); break;
		case 'r': buf_putc(b, '\r'); break;
		case 't': buf_putc(b, '\t'); break;
		case 'u':
			if (hex4(s + 1, &cp) != 0)
				return -1;
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s[1] != '\\' || s[2] != 'u' ||
				    hex4(s + 3, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			if (cp == 0)
				return -1;	/* would cut the value short */
			put_utf8(b, cp);
			break;
		default:
			return -1;
		}
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
	buf_putc(b, '\0');	/* even for "": b->s is then set */
	b->len--;
	*sp = s + 1;
	return buf_failed(b) ? -1 : 0;
}

int
attrs_from_json(struct attrs *a, const char *s)
{
	struct attrs t = ATTRS_INIT;
	struct buf k = BUF_INIT, v = BUF_INIT;
	size_t i;
	int rc = -1;

	if (s == NULL)
		goto done;
	s = skip_ws(s);
	if (*s++ != '{')
		goto done;
	s = skip_ws(s);
	if (*s == '}') {
		s++;
	} else {
		for (;;) {
			if (json_read_str(&s, &k) != 0)
				goto done;
			s = skip_ws(s);
			if (*s++ != ':')
				goto done;
			s = skip_ws(s);
			if (json_read_str(&s, &v) != 0)
				goto done;
			if (attrs_setn(&t, k.s, v.s, v.len) != 0)
				goto done;
			s = skip_ws(s);
			if (*s == '}') {
				s++;
				break;
			}
			if (*s++ != ',')
				goto done;
			s = skip_ws(s);
		}
	}
	if (*skip_ws(s) != '\0')
		goto done;
	if (a->n == 0) {
		attrs_free(a);
		*a = t;
		t = (struct attrs)ATTRS_INIT;
	} else {
		for (i = 0; i < t.n; i++)
			if (attrs_set(a, t.v[i].path, t.v[i].value) != 0)
				goto done;
	}
	rc = 0;
done:
	attrs_free(&t);
	buf_free(&k);
	buf_free(&v);
	return rc;
}

/* --- the compact form --- */

/*
 * The well-known paths of the compact form, by code.  Part of the state
 * file format: append only, never reorder.
 */
#define EP "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
static const char *const blob_path[] = {
	NULL, "active", "userName", "displayName", "nickName", "profileUrl",
	"title", "userType", "preferredLanguage", "locale", "timezone",
	"name.formatted", "name.familyName", "name.givenName",
	"name.middleName", "name.honorificPrefix", "name.honorificSuffix",
	"emails[type eq \"work\"].value", "emails[type eq \"home\"].value",
	"emails[type eq \"other\"].value",
	"phoneNumbers[type eq \"work\"].value",
	"phoneNumbers[type eq \"mobile\"].value",
	"phoneNumbers[type eq \"home\"].value",
	"photos[type eq \"photo\"].value",
	"photos[type eq \"thumbnail\"].value",
	EP "employeeNumber", EP "costCenter", EP "organization",
	EP "division", EP "department", EP "manager",
};
#undef EP
#define NBLOB_PATH (sizeof(blob_path) / sizeof(blob_path[0]))

/* blob_path interned, so that a path's code is a pointer comparison, and
 * each code's rank among them in strcmp() order. */
static char *blob_interned[NBLOB_PATH];
static unsigned char blob_rank[NBLOB_PATH];

static int
blob_paths_ready(void)
{
	size_t i, j;

	if (blob_interned[NBLOB_PATH - 1] != NULL)
		return 0;
	for (i = 1; i < NBLOB_PATH; i++) {
		blob_rank[i] = 0;
		for (j = 1; j < NBLOB_PATH; j++)
			if (strcmp(blob_path[j], blob_path[i]) < 0)
				blob_rank[i]++;
	}
	for (i = 1; i < NBLOB_PATH; i++)
		if ((blob_interned[i] = path_intern(blob_path[i])) == NULL)
			return -1;
	return 0;
}

void
attrs_to_blob(const struct attrs *a, struct buf *b)
{
	size_t i, c;
	char code;

	if (blob_paths_ready() != 0) {
		b->failed = 1;
		return;
	}
	for (i = 0; i < a->n; i++) {
		for (c = 1; c < NBLOB_PATH; c++)
			if (a->v[i].path == blob_interned[c])
				break;
		code = c < NBLOB_PATH ? (char)c : 0;
		buf_putc(b, code);
		if (code == 0)
			buf_add(b, a->v[i].path, strlen(a->v[i].path) + 1);
		buf_add(b, a->v[i].value, strlen(a->v[i].value) + 1);
	}
}

/* The end of the NUL-terminated string at s, or NULL if none before end. */
static const char *
str_end(const char *s, const char *end)
{
	const char *z = memchr(s, '\0', (size_t)(end - s));

	return z;
}

/*
 * The blob is copied whole into the set's block, and each value is left
 * where the copy has it (the form ends every value with a NUL): one copy,
 * not one per value.  Paths must come in strcmp() order; two well-known
 * ones are compared by their rank in that order (blob_rank).
 */
int
attrs_from_blob(struct attrs *a, const void *blob, size_t len)
{
	const char *s = blob, *end = s + len, *z;
	struct attrs t = ATTRS_INIT;
	unsigned char code, prev = 0;
	size_t n = 0;
	char *p, *path;

	if (blob_paths_ready() != 0)
		return -1;
	/* First pass: check, count. */
	while (s < end) {
		code = (unsigned char)*s++;
		if (code >= NBLOB_PATH)
			return 1;
		if (code == 0) {	/* a path as text (attrs_set() takes "") */
			if ((z = str_end(s, end)) == NULL)
				return 1;
			s = z + 1;
		}
		if (s >= end || (z = str_end(s, end)) == NULL)
			return 1;
		s = z + 1;
		n++;
	}
	if (n == 0) {
		attrs_free(a);
		return 0;
	}
	t.v = malloc(n * sizeof(*t.v));
	p = t.v != NULL ? blk_alloc(&t, len) : NULL;
	if (p == NULL) {
		attrs_free(&t);
		return -1;
	}
	t.cap = n;
	memcpy(p, blob, len);
	for (s = p, end = p + len; s < end; t.n++, prev = code) {
		code = (unsigned char)*s++;
		if (code == 0) {
			if ((path = path_intern(s)) == NULL) {
				attrs_free(&t);
				return -1;
			}
			s += strlen(s) + 1;
		} else {
			path = blob_interned[code];
		}
		if (t.n > 0 && (code != 0 && prev != 0 ?
		    blob_rank[prev] >= blob_rank[code] :
		    strcmp(t.v[t.n - 1].path, path) >= 0)) {
			attrs_free(&t);
			return 1;	/* out of order or repeated */
		}
		t.v[t.n].path = path;
		t.v[t.n].value = (char *)s;
		s += strlen(s) + 1;
	}
	attrs_free(a);
	*a = t;
	return 0;
}

/* Copy s (if any; len bytes with its NUL) to *at, and make *dst point at
 * the copy. */
static void
tail_put(char **at, char **dst, const char *s, size_t len)
{
	if (s == NULL)
		return;
	memcpy(*at, s, len);
	*dst = *at;
	*at += len;
}

/* The room s takes after the struct: its bytes and NUL, or none. */
static size_t
tail_len(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

struct record *
record_new_with(enum rec_kind kind, const char *key, const char *scim_id,
    const char *name, const char *dn)
{
	size_t ls = tail_len(scim_id), ln = tail_len(name), ld = tail_len(dn);
	struct record *r;
	char *at;

	r = calloc(1, sizeof(*r) + ls + ln + ld);
	if (r == NULL)
		return NULL;
	r->kind = kind;
	if (key != NULL && (r->key = path_intern(key)) == NULL) {
		free(r);
		return NULL;
	}
	at = (char *)(r + 1);
	tail_put(&at, &r->scim_id, scim_id, ls);
	tail_put(&at, &r->name, name, ln);
	tail_put(&at, &r->dn, dn, ld);
	if (at != (char *)(r + 1))
		r->tail_end = at;
	return r;
}

struct record *
record_new(enum rec_kind kind, const char *key)
{
	return record_new_with(kind, key, NULL, NULL, NULL);
}

void
record_free_str(const struct record *r, char *s)
{
	/* in the record's own allocation (record_new_with()): freed with it */
	if (r->tail_end != NULL && s >= (const char *)(r + 1) &&
	    s < r->tail_end)
		return;
	free(s);
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	record_free_str(r, r->dn);
	record_free_str(r, r->name);
	attrs_free(&r->attrs);
	free(r->members);	/* the keys are the pool's */
	free(r->held);
	record_free_str(r, r->scim_id);
	free(r);
}

void
record_free_v(void *r)
{
	record_free(r);
}

/* *dst = copy of s (NULL stays NULL); 0, or -1 out of memory. */
static int
dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? -1 : 0;
}

/*
 * The array of n pointers to the pool's copies of keys[0..n), in order:
 * a key is kept once however many groups, read or remembered, list it.
 * NULL out of memory (or when n is 0).
 */
static char **
members_block(const char *const *keys, size_t n, int pooled)
{
	char **v;
	size_t i;

	if (n == 0)
		return NULL;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return NULL;
	if (pooled) {
		memcpy(v, keys, n * sizeof(*v));
		return v;
	}
	for (i = 0; i < n; i++)
		if ((v[i] = path_intern(keys[i])) == NULL) {
			free(v);
			return NULL;
		}
	return v;
}

struct record *
record_dup(const struct record *r)
{
	struct record *d;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->kind = r->kind;
	d->removed = r->removed;
	d->key = r->key;	/* the pool's */
	if (dup_opt(&d->dn, r->dn) != 0 ||
	    dup_opt(&d->name, r->name) != 0 ||
	    dup_opt(&d->held, r->held) != 0 ||
	    dup_opt(&d->scim_id, r->scim_id) != 0 ||
	    attrs_copy(&d->attrs, &r->attrs) != 0)
		goto fail;
	if (r->nmembers > 0) {
		d->members = members_block((const char *const *)r->members,
		    r->nmembers, 1);
		if (d->members == NULL)
			goto fail;
		d->nmembers = r->nmembers;
	}
	return d;
fail:
	record_free(d);
	return NULL;
}

/*
 * Sorting member keys (strcmp order).  A group of the directory brings
 * thousands, and qsort() with strcmp() through a function pointer spent
 * 5% of a full cycle on them.  Each key is sorted with its first 8 bytes
 * as one big-endian number, zero after its end: two numbers compare as
 * strcmp() compares those bytes, and only keys equal in all 8 and longer
 * go on to strcmp() of the rest.  A merge sort, which finds a run already
 * in order in one comparison.
 */
struct skey {
	uint64_t pre;
	const char *s;
};

static uint64_t
key_prefix(const char *s)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8 && s[i] != '\0'; i++)
		v |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
	return v;
}

/* <0, 0, >0 as strcmp(a->s, b->s) */
static inline int
skey_cmp(const struct skey *a, const struct skey *b)
{
	if (a->pre != b->pre)
		return a->pre < b->pre ? -1 : 1;
	/* equal in 8 bytes: equal strings if they ended there */
	if ((a->pre & 0xff) == 0 || a->s == b->s)
		return 0;
	return strcmp(a->s + 8, b->s + 8);
}

static void
skey_sort(struct skey *a, struct skey *tmp, size_t n)
{
	size_t h, i, j, k;

	if (n < 16) {
		for (i = 1; i < n; i++) {
			struct skey x = a[i];

			for (j = i; j > 0 && skey_cmp(&x, &a[j - 1]) < 0; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	h = n / 2;
	skey_sort(a, tmp, h);
	skey_sort(a + h, tmp, n - h);
	if (skey_cmp(&a[h - 1], &a[h]) <= 0)
		return;		/* the two halves are one run */
	memcpy(tmp, a, h * sizeof(*a));
	for (i = 0, j = h, k = 0; i < h && j < n; k++)
		a[k] = skey_cmp(&a[j], &tmp[i]) < 0 ? a[j++] : tmp[i++];
	while (i < h)
		a[k++] = tmp[i++];
}

#define KEYS_AHEAD 8

static int
set_members(struct record *r, const char *const *keys, size_t n, int pooled)
{
	const char **sorted = NULL;
	struct skey *sk;
	char **v = NULL;
	size_t i, m = 0;

	/* Sort and drop repeats on the borrowed pointers, then copy: keys
	 * may be r's own, so the old block goes last.  Pooled keys are
	 * equal only if the same pointer. */
	if (n > 0) {
		sk = malloc(2 * n * sizeof(*sk));
		sorted = malloc(n * sizeof(*sorted));
		if (sk == NULL || sorted == NULL) {
			free(sk);
			free(sorted);
			return -1;
		}
		for (i = 0; i < n; i++) {
			/* a group's keys lie all over memory: ask ahead */
			if (i + KEYS_AHEAD < n)
				L2S_PREFETCH(keys[i + KEYS_AHEAD]);
			sk[i].pre = key_prefix(keys[i]);
			sk[i].s = keys[i];
		}
		skey_sort(sk, sk + n, n);
		for (i = 0; i < n; i++) {
			if (m > 0 && (sorted[m - 1] == sk[i].s ||
			    (!pooled && skey_cmp(&sk[i - 1], &sk[i]) == 0)))
				continue;
			sorted[m++] = sk[i].s;
		}
		free(sk);
		v = members_block(sorted, m, pooled);
		free(sorted);
		if (v == NULL)
			return -1;
	}
	free(r->members);
	r->members = v;
	r->nmembers = m;
	return 0;
}

int
record_set_members(struct record *r, const char *const *keys, size_t n)
{
	return set_members(r, keys, n, 0);
}

const char *
record_pooled(const char *key)
{
	return path_intern(key);
}

int
record_set_member_keys(struct record *r, const char *const *keys, size_t n)
{
	return set_members(r, keys, n, 1);
}

void
record_adopt_members(struct record *r, char **v, size_t n)
{
	free(r->members);
	r->members = n > 0 ? v : NULL;
	r->nmembers = n;
	if (n == 0)
		free(v);
}

int
record_members_from_blob(struct record *r, const char *blob, size_t len)
{
	const char *prev = NULL;
	size_t n = 0, off, l;
	char **v = NULL;

	if (len > 0 && (blob == NULL || blob[len - 1] != '\0'))
		return 1;
	for (off = 0; off < len; off += l + 1) {
		l = strlen(blob + off);
		if (prev != NULL && strcmp(prev, blob + off) >= 0)
			return 1;
		prev = blob + off;
		n++;
	}
	if (n > 0) {
		v = malloc(n * sizeof(*v));
		if (v == NULL)
			return -1;
		if (pool_intern_blob(blob, n, v) != 0) {
			free(v);
			return -1;
		}
	}
	record_adopt_members(r, v, n);
	return 0;
}

int
record_has_member(const struct record *r, const char *key)
{
	size_t lo = 0, hi = r->nmembers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->members[mid], key);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
readset_init(struct readset *rs)
{
	memset(rs, 0, sizeof(*rs));
	/* Keyed by each record's key, which is the pool's. */
	rs->users = (struct hmap)HMAP_INIT_BORROWED;
	rs->groups = (struct hmap)HMAP_INIT_BORROWED;
}

/*
 * The records of a large table lie all over memory, and freeing one reads
 * it and the header of each block of its values.  The records are taken
 * out of the table first, then each is freed with the next ones' records
 * asked for FREE_AHEAD ahead and their newest block half as far: the
 * waits overlap.  Without memory for the list, one by one.
 */
#define FREE_AHEAD 16

void
records_free(struct hmap *m)
{
	struct record **v;
	size_t pos = 0, n = 0, i;
	void *r;

	v = m->len > 0 ? malloc(m->len * sizeof(*v)) : NULL;
	if (v == NULL) {
		hmap_free(m, record_free_v);
		return;
	}
	while (hmap_next(m, &pos, NULL, &r))
		v[n++] = r;
	hmap_free(m, NULL);
	for (i = 0; i < n; i++) {
		if (i + FREE_AHEAD < n)
			L2S_PREFETCH(v[i + FREE_AHEAD]);
		if (i + FREE_AHEAD / 2 < n && v[i + FREE_AHEAD / 2] != NULL)
			L2S_PREFETCH(v[i + FREE_AHEAD / 2]->attrs.blk);
		record_free(v[i]);
	}
	free(v);
}

void
readset_free(struct readset *rs)
{
	if (rs == NULL)
		return;
	records_free(&rs->users);
	records_free(&rs->groups);
	readset_init(rs);
}
