/*
 * hmap.c - string-keyed hash table
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "hmap.h"

static char hmap_tomb[1];	/* key of a deleted slot */

/* A full avalanche of the state (keys such as DNs and UUIDs differ in a
 * few bytes, and the table takes the low bits). */
static uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The len bytes at p, eight at a time (a key is read in a few steps, not
 * one per byte), then fully mixed.  Each step multiplies and folds the
 * high half down, so every byte reaches every later step.  The last one
 * to seven bytes of a key of eight or more are read as the last eight
 * bytes (a fixed-size read, which compiles to one load), the ones already
 * hashed shifted out; those of a shorter key one by one. */
static uint64_t
hash_n(const char *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = len * k, w;
	int whole = len >= 8;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	if (len > 0) {
		if (whole) {
			memcpy(&w, p + len - 8, 8);
			w = L2S_LITTLE_ENDIAN ? w >> (8 - len) * 8 :
			    w << (8 - len) * 8;
		} else {
			for (w = 0, i = 0; i < len; i++)
				w = w << 8 | (unsigned char)p[i];
		}
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	return hash_mix(h);
}

uint64_t
hmap_hash(const char *s)
{
	return hash_n(s, strlen(s));
}

static struct hmap_slot *
hmap_find_h(const struct hmap *m, const char *key, uint64_t h)
{
	size_t i, mask;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		/* The same pointer: a pooled key (record.h) found by
		 * itself, no need to read the bytes. */
		if (s->hash == h && s->key != hmap_tomb &&
		    (s->key == key || strcmp(s->key, key) == 0))
			return s;
	}
}

static struct hmap_slot *
hmap_find(const struct hmap *m, const char *key)
{
	return m->cap == 0 ? NULL : hmap_find_h(m, key, hmap_hash(key));
}

static int
hmap_resize(struct hmap *m, size_t cap)
{
	struct hmap_slot *old = m->slots, *slots;
	size_t oldcap = m->cap, i, j, mask = cap - 1;

	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL || old[i].key == hmap_tomb)
			continue;
		for (j = old[i].hash & mask; slots[j].key != NULL;
		    j = (j + 1) & mask)
			;
		slots[j] = old[i];
	}
	free(old);
	m->slots = slots;
	m->cap = cap;
	m->tombs = 0;
	return 0;
}

int
hmap_reserve(struct hmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	if (n == 0)		/* an empty table stays unallocated */
		return 0;
	/* put grows at 3/4 full to twice the entries: reserve so that n
	 * entries never reach 3/4 */
	while ((m->len + n + m->tombs) * 4 > cap * 3)
		cap *= 2;
	return cap > m->cap ? hmap_resize(m, cap) : 0;
}

int
hmap_put(struct hmap *m, const char *key, void *value, void **old)
{
	return hmap_put_h(m, key, hmap_hash(key), value, old);
}

/* Put key (hash h), absent from m, with value. */
static int
insert_h(struct hmap *m, const char *key, uint64_t h, void *value)
{
	struct hmap_slot *s;
	size_t i, mask;
	char *k;

	if ((m->len + m->tombs + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap : 16;

		while ((m->len + 1) * 2 > cap)
			cap *= 2;
		if (hmap_resize(m, cap) != 0)
			return -1;
	}
	k = m->borrowed ? (char *)key : strdup(key);
	if (k == NULL)
		return -1;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		s = &m->slots[i];
		if (s->key == NULL || s->key == hmap_tomb)
			break;
	}
	if (s->key == hmap_tomb)
		m->tombs--;
	s->key = k;
	s->value = value;
	s->hash = h;
	m->len++;
	return 0;
}

int
hmap_put_h(struct hmap *m, const char *key, uint64_t h, void *value,
    void **old)
{
	struct hmap_slot *s;

	if (old != NULL)
		*old = NULL;
	s = hmap_find_h(m, key, h);
	if (s != NULL) {
		if (old != NULL)
			*old = s->value;
		s->value = value;
		return 0;
	}
	return insert_h(m, key, h, value);
}

int
hmap_put_new(struct hmap *m, const char *key, void *value, void **old)
{
	uint64_t h = hmap_hash(key);
	struct hmap_slot *s = hmap_find_h(m, key, h);

	*old = NULL;
	if (s != NULL) {
		*old = s->value;
		return 1;
	}
	return insert_h(m, key, h, value);
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_slot *s = hmap_find(m, key);

	return s != NULL ? s->value : NULL;
}

uint64_t
hmap_hashn(const char *p, size_t len)
{
	return hash_n(p, len);
}

void *
hmap_getn_h(const struct hmap *m, const char *p, size_t len, uint64_t h)
{
	size_t i, mask;

	if (m->cap == 0 || memchr(p, '\0', len) != NULL)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		const struct hmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->hash == h && s->key != hmap_tomb &&
		    strncmp(s->key, p, len) == 0 && s->key[len] == '\0')
			return s->value;
	}
}

void *
hmap_getn(const struct hmap *m, const char *p, size_t len)
{
	return hmap_getn_h(m, p, len, hash_n(p, len));
}

void
hmap_prefetch_slot(const struct hmap *m, uint64_t h)
{
	if (m->cap > 0)
		L2S_PREFETCH(&m->slots[h & (m->cap - 1)]);
}

void
hmap_prefetch_key(const struct hmap *m, uint64_t h)
{
	const struct hmap_slot *s;

	if (m->cap == 0)
		return;
	s = &m->slots[h & (m->cap - 1)];
	if (s->hash == h && s->key != NULL) {
		L2S_PREFETCH(s->key);
		L2S_PREFETCH(s->value);
	}
}

void *
hmap_del(struct hmap *m, const char *key)
{
	struct hmap_slot *s = hmap_find(m, key);
	void *v;

	if (s == NULL)
		return NULL;
	v = s->value;
	if (!m->borrowed)
		free(s->key);
	s->key = hmap_tomb;
	s->value = NULL;
	m->len--;
	m->tombs++;
	return v;
}

int
hmap_next(const struct hmap *m, size_t *pos, const char **key, void **value)
{
	while (*pos < m->cap) {
		struct hmap_slot *s = &m->slots[(*pos)++];

		if (s->key != NULL && s->key != hmap_tomb) {
			if (key != NULL)
				*key = s->key;
			if (value != NULL)
				*value = s->value;
			return 1;
		}
	}
	return 0;
}

/* Slot i of m when it holds a key, else NULL. */
static const struct hmap_slot *
slot_used(const struct hmap *m, size_t i)
{
	const struct hmap_slot *s;

	if (i >= m->cap)
		return NULL;
	s = &m->slots[i];
	return s->key != NULL && s->key != hmap_tomb ? s : NULL;
}

int
hmap_next_join(const struct hmap *a, const struct hmap *b, size_t *pos,
    const char **key, void **avalue, void **bvalue)
{
	const struct hmap_slot *s, *ahead, *bs;

	while (*pos < a->cap) {
		if ((s = slot_used(a, (*pos)++)) == NULL)
			continue;
		/* Ahead in slots of a, of which at most three in four hold
		 * an entry. */
		if ((ahead = slot_used(a, *pos + HMAP_AHEAD_SLOT)) != NULL) {
			hmap_prefetch_slot(b, ahead->hash);
			L2S_PREFETCH(ahead->value);
		}
		if ((ahead = slot_used(a, *pos + HMAP_AHEAD_KEY)) != NULL)
			hmap_prefetch_key(b, ahead->hash);
		if (key != NULL)
			*key = s->key;
		if (avalue != NULL)
			*avalue = s->value;
		if (bvalue != NULL) {
			bs = b->cap > 0 ? hmap_find_h(b, s->key, s->hash) : NULL;
			*bvalue = bs != NULL ? bs->value : NULL;
		}
		return 1;
	}
	return 0;
}

void
hmap_free(struct hmap *m, void (*destroy)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		struct hmap_slot *s = &m->slots[i];

		if (s->key == NULL || s->key == hmap_tomb)
			continue;
		if (destroy != NULL)
			destroy(s->value);
		if (!m->borrowed)
			free(s->key);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = m->tombs = 0;
}
