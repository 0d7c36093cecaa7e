/*
 * hmap.h - a string-keyed hash table (open addressing, linear probing)
 *
 * Keys are copied into the table and freed with it, except in a table
 * made with HMAP_INIT_BORROWED: there each key is the caller's and must
 * outlive the table (the record pool's keys, record.h, which live as long
 * as the process).  Values are borrowed pointers: the table never frees
 * them unless a destructor was given to hmap_free().  Iteration order is
 * unspecified; callers that print sort first.
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
	int borrowed;		/* keys are the caller's: not copied, not
				   freed (kept by hmap_free()) */
};

#define HMAP_INIT { NULL, 0, 0, 0, 0 }
#define HMAP_INIT_BORROWED { NULL, 0, 0, 0, 1 }

/* Insert or replace.  Returns 0, or -1 when out of memory (table unchanged).
 * When old is not NULL, *old receives the value replaced (or NULL). */
int hmap_put(struct hmap *m, const char *key, void *value, void **old);

/* Put key with value unless key is there already: 0 put; 1 there, *old
 * its value (the table unchanged); -1 out of memory.  One lookup where
 * hmap_get() then hmap_put() take two. */
int hmap_put_new(struct hmap *m, const char *key, void *value, void **old);

/* Room for n more entries, so that putting them never grows the table
 * (a table about to receive a directory's objects: one allocation for
 * what would be a dozen, each copying the last).  0, or -1 out of memory
 * (m unchanged).  A hint only: more entries still fit. */
int hmap_reserve(struct hmap *m, size_t n);

/* The value stored under key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);

/* The value stored under the key of len bytes at p (not NUL-terminated),
 * or NULL; bytes with a NUL among them are no key. */
void *hmap_getn(const struct hmap *m, const char *p, size_t len);

/*
 * Looking up many keys known ahead (the member values of a group): each
 * lookup waits for two reads from memory, the slot and then its key, when
 * the table is larger than the CPU's caches.  hmap_prefetch_slot() asks
 * the memory for the slot where a key of hash h would be; once that slot
 * has arrived, hmap_prefetch_key() asks for the key and value it holds.
 * Both return at once and change no result.  A caller looking up key i
 * asks for the slot of key i + HMAP_AHEAD_SLOT and the key of key
 * i + HMAP_AHEAD_KEY, and the waits overlap.  hmap_hashn() is the table's
 * hash of len bytes at p, hmap_getn_h() hmap_getn() with that hash known.
 */
#define HMAP_AHEAD_SLOT 16
#define HMAP_AHEAD_KEY 8

uint64_t hmap_hashn(const char *p, size_t len);
void hmap_prefetch_slot(const struct hmap *m, uint64_t h);
void hmap_prefetch_key(const struct hmap *m, uint64_t h);
void *hmap_getn_h(const struct hmap *m, const char *p, size_t len,
    uint64_t h);
/* hmap_put() of a key whose hmap_hash() h is known. */
int hmap_put_h(struct hmap *m, const char *key, uint64_t h, void *value,
    void **old);

/* Remove key; returns its value (or NULL when absent). */
void *hmap_del(struct hmap *m, const char *key);

/* Iterate: start with *pos = 0; returns 0 at the end. */
int hmap_next(const struct hmap *m, size_t *pos, const char **key, void **value);

/*
 * Iterate a as hmap_next() does, and give with each entry the value b
 * holds under the same key (*bvalue: NULL when none).  For walking one
 * large table against another (what a directory holds against what the
 * state remembers): while it looks up one key in b, it asks the memory
 * for the slots and keys of entries ahead (as hmap_prefetch_slot() and
 * hmap_prefetch_key() below), so the waits for those reads overlap
 * instead of coming one after another.
 */
int hmap_next_join(const struct hmap *a, const struct hmap *b, size_t *pos,
    const char **key, void **avalue, void **bvalue);

/* The table's hash of s, fully mixed (for other open-addressing tables
 * that take the low bits): the same as hmap_hashn(s, strlen(s)). */
uint64_t hmap_hash(const char *s);

/* Free the table; destroy (when not NULL) is called on every value. */
void hmap_free(struct hmap *m, void (*destroy)(void *));

#endif
