/*
 * hmap.h - a string-keyed hash table (open addressing, linear probing)
 *
 * Keys are copied into the table and freed with it.  Values are borrowed
 * pointers: the table never frees them unless a destructor was given to
 * hmap_free().  Iteration order is unspecified; callers that print sort first.
 */
#ifndef L2S_HMAP_H
#define L2S_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	char *key;		/* NULL: empty slot */
	void *value;
	uint64_t hash;		/* of key: most probes end without strcmp() */
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;		/* 0 or a power of two */
	size_t len;
	size_t tombs;		/* deleted slots still probing */
};

#define HMAP_INIT { NULL, 0, 0, 0 }

/* Insert or replace.  Returns 0, or -1 when out of memory (table unchanged).
 * When old is not NULL, *old receives the value replaced (or NULL). */
int hmap_put(struct hmap *m, const char *key, void *value, void **old);

/* The value stored under key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);

/* The value stored under the key of len bytes at p (not NUL-terminated),
 * or NULL; bytes with a NUL among them are no key. */
void *hmap_getn(const struct hmap *m, const char *p, size_t len);

/* Remove key; returns its value (or NULL when absent). */
void *hmap_del(struct hmap *m, const char *key);

/* Iterate: start with *pos = 0; returns 0 at the end. */
int hmap_next(const struct hmap *m, size_t *pos, const char **key, void **value);

/* The table's hash of s: FNV-1a, fully mixed (for other open-addressing
 * tables that take the low bits). */
uint64_t hmap_hash(const char *s);

/* Free the table; destroy (when not NULL) is called on every value. */
void hmap_free(struct hmap *m, void (*destroy)(void *));

#endif
