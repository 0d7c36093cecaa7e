/*
 * test_hmap.c - the string-keyed hash table: put, get, replace, delete,
 * lookups by a counted key (hmap_getn), growth past many resizes, joins
 * of one table against another, and the hash: every byte counts, and the
 * low bits the tables use spread; a table of borrowed keys
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "tap.h"

static void
test_basic(void)
{
	struct hmap m = HMAP_INIT;
	void *old = (void *)1;
	int a = 1, b = 2;

	ok(hmap_get(&m, "x") == NULL, "an empty table has nothing");
	ok(hmap_getn(&m, "x", 1) == NULL, "an empty table has nothing by "
	    "counted key either");
	ok(hmap_put(&m, "alice", &a, &old) == 0 && old == NULL,
	    "a new key goes in and replaces nothing");
	ok(hmap_put(&m, "alice", &b, &old) == 0 && old == &a,
	    "putting a key again gives the value it replaced");
	ok(hmap_get(&m, "alice") == &b && m.len == 1, "one key, its last "
	    "value");
	ok(hmap_del(&m, "alice") == &b && hmap_get(&m, "alice") == NULL &&
	    m.len == 0, "a deleted key is gone");
	hmap_free(&m, NULL);
}

static void
test_getn(void)
{
	static const char text[] = "uid=alice,ou=people|uid=bob";
	struct hmap m = HMAP_INIT;
	int a = 1, b = 2, e = 3;

	hmap_put(&m, "uid=alice,ou=people", &a, NULL);
	hmap_put(&m, "uid=bob", &b, NULL);
	hmap_put(&m, "", &e, NULL);
	ok(hmap_getn(&m, text, 19) == &a, "a key found by its bytes inside a "
	    "longer text");
	ok(hmap_getn(&m, text + 20, 7) == &b, "a key found at the end of a "
	    "text");
	ok(hmap_getn(&m, text, 18) == NULL, "a prefix of a key is not the key");
	ok(hmap_getn(&m, text + 20, 3) == NULL, "a prefix of a shorter key is "
	    "not the key");
	ok(hmap_getn(&m, "uid=bobby", 9) == NULL, "a longer text is not the "
	    "key it starts with");
	ok(hmap_getn(&m, "uid=bob\0x", 9) == NULL, "bytes with a NUL among "
	    "them are no key");
	ok(hmap_getn(&m, "", 0) == &e, "the empty key is found by zero bytes");
	hmap_del(&m, "uid=bob");
	ok(hmap_getn(&m, text + 20, 7) == NULL, "a deleted key is not found by "
	    "its bytes");
	ok(hmap_put_h(&m, "uid=carol", hmap_hashn("uid=carol", 9), &b,
	    NULL) == 0 && hmap_get(&m, "uid=carol") == &b && m.len == 3,
	    "a key put with its hash known is found as any other");
	ok(hmap_put_h(&m, "uid=carol", hmap_hash("uid=carol"), &a,
	    NULL) == 0 && hmap_get(&m, "uid=carol") == &a && m.len == 3,
	    "... and replaced by its hash too, not added twice");
	hmap_free(&m, NULL);
}

/* Many keys through many resizes and deletions: every lookup agrees. */
static void
test_many(void)
{
	struct hmap m = HMAP_INIT;
	char key[32];
	size_t i, bad = 0, badn = 0;

	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (hmap_put(&m, key, (void *)(i + 1), NULL) != 0)
			bad++;
	}
	for (i = 0; i < 50000; i += 2) {
		snprintf(key, sizeof(key), "k%zu", i);
		hmap_del(&m, key);
	}
	for (i = 0; i < 50000; i++) {
		void *want = i % 2 ? (void *)(i + 1) : NULL;

		snprintf(key, sizeof(key), "k%zu", i);
		if (hmap_get(&m, key) != want)
			bad++;
		if (hmap_getn(&m, key, strlen(key)) != want)
			badn++;
	}
	ok(bad == 0 && m.len == 25000, "50,000 keys, half deleted: every "
	    "lookup right (%zu wrong)", bad);
	ok(badn == 0, "and every lookup by counted key agrees (%zu wrong)",
	    badn);
	hmap_free(&m, NULL);
}

/* A join gives every entry of a once, with what b holds under its key:
 * through deletions in both tables, and against an empty table. */
static void
test_join(void)
{
	struct hmap a = HMAP_INIT, b = HMAP_INIT, empty = HMAP_INIT;
	char key[32];
	const char *k;
	void *av, *bv;
	size_t i, pos, seen = 0, bad = 0, nulls = 0;

	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "uid=u%zu", i);
		if (i < 15000)
			hmap_put(&a, key, (void *)(i + 1), NULL);
		if (i >= 5000)
			hmap_put(&b, key, (void *)(i + 100001), NULL);
	}
	for (i = 0; i < 20000; i += 7) {
		snprintf(key, sizeof(key), "uid=u%zu", i);
		hmap_del(&a, key);
		if (i % 2 == 0)
			hmap_del(&b, key);
	}
	pos = 0;
	while (hmap_next_join(&a, &b, &pos, &k, &av, &bv)) {
		seen++;
		if (hmap_get(&a, k) != av || hmap_get(&b, k) != bv)
			bad++;
	}
	ok(seen == a.len && bad == 0, "a join visits each of %zu entries once "
	    "with both values right (%zu visits, %zu wrong)", a.len, seen, bad);
	pos = 0;
	seen = 0;
	while (hmap_next_join(&a, &empty, &pos, NULL, NULL, &bv)) {
		seen++;
		if (bv == NULL)
			nulls++;
	}
	ok(seen == a.len && nulls == seen, "against an empty table every "
	    "entry comes with NULL");
	pos = 0;
	ok(!hmap_next_join(&empty, &a, &pos, &k, &av, &bv), "an empty table "
	    "gives nothing");
	hmap_free(&a, NULL);
	hmap_free(&b, NULL);
}

/* The hash reads its key eight bytes at a time and the tail apart: a
 * change in any byte of a key of any length changes it, and so does
 * dropping the last byte. */
static void
test_hash_bytes(void)
{
	char a[41], b[41];
	size_t len, i, same = 0;

	for (len = 1; len <= 40; len++) {
		memset(a, 'x', len);
		a[len] = '\0';
		for (i = 0; i < len; i++) {
			memcpy(b, a, len + 1);
			b[i] = 'y';
			if (hmap_hash(a) == hmap_hash(b))
				same++;
		}
		memcpy(b, a, len + 1);
		b[len - 1] = '\0';
		if (hmap_hash(a) == hmap_hash(b))
			same++;
	}
	ok(same == 0, "one byte changed anywhere in keys of 1 to 40 bytes, "
	    "or the last one dropped: the hash changes (%zu did not)", same);
}

/* Keys that differ only in their last characters (as UUIDs and DNs of a
 * directory do) spread over the low bits the tables index by as random
 * values would: 65,536 keys fill about 63% of 65,536 buckets. */
static void
test_hash_spread(void)
{
	unsigned char *seen = calloc(65536, 1);
	char key[40];
	size_t i, used = 0;

	if (seen == NULL) {
		ok(0, "out of memory");
		return;
	}
	for (i = 0; i < 65536; i++) {
		snprintf(key, sizeof(key), "5f1c0a2e-9b7d-4c1e-8a3f-00000000%04zx",
		    i);
		seen[hmap_hash(key) & 0xffff] = 1;
	}
	for (i = 0; i < 65536; i++)
		used += seen[i];
	ok(used > 65536 * 6 / 10, "65,536 keys differing in their last four "
	    "characters fill %zu of 65,536 buckets (random: about 41,400)",
	    used);
	free(seen);
}

/* HMAP_INIT_BORROWED: keys are not copied, not freed (ASan would see a
 * free of the stack buffer), and a lookup by the same pointer needs no
 * comparison of bytes. */
static void
test_borrowed(void)
{
	struct hmap m = HMAP_INIT_BORROWED, c = HMAP_INIT;
	char k1[] = "carol", k2[] = "dave", same[] = "carol";
	const char *key;
	void *v;
	size_t pos = 0;
	int a = 1, b = 2;

	ok(hmap_put(&m, k1, &a, NULL) == 0 && hmap_put(&m, k2, &b, NULL) == 0,
	    "borrowed keys go in");
	ok(hmap_next(&m, &pos, &key, &v) && (key == k1 || key == k2),
	    "the table holds the caller's pointer, not a copy");
	ok(hmap_get(&m, same) == &a, "an equal key at another address finds "
	    "the entry");
	ok(hmap_del(&m, k2) == &b && hmap_get(&m, "dave") == NULL,
	    "a borrowed key is deleted without being freed");
	hmap_free(&m, NULL);
	ok(m.borrowed == 1, "hmap_free() keeps the table borrowing");
	ok(hmap_put(&m, k1, &a, NULL) == 0 && hmap_get(&m, "carol") == &a,
	    "and it can be used again");
	hmap_free(&m, NULL);
	ok(hmap_put(&c, k1, &a, NULL) == 0 && hmap_next(&c, &(size_t){ 0 },
	    &key, &v) && key != k1 && strcmp(key, k1) == 0,
	    "a table made with HMAP_INIT still keeps copies");
	hmap_free(&c, NULL);
}

/* hmap_reserve(): room made once; the entries already there stay; putting
 * the reserved number never grows the table, one more may. */
static void
test_reserve(void)
{
	struct hmap m = HMAP_INIT;
	struct hmap_slot *slots;
	size_t i, cap, found = 0;
	char key[32];

	is_int(hmap_reserve(&m, 0), 0, "a reserve of none in an empty table");
	ok(m.cap == 0 && m.slots == NULL, "allocates nothing (an empty load "
	    "of the state gives tables with nothing to free)");
	ok(hmap_put(&m, "early", (void *)1, NULL) == 0, "one entry first");
	is_int(hmap_reserve(&m, 1000), 0, "room for 1,000 more");
	cap = m.cap;
	slots = m.slots;
	ok(cap >= 1001 * 4 / 3 && cap < 4096, "the table has %zu slots: "
	    "1,001 entries below 3/4, no more than twice that", cap);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		hmap_put(&m, key, (void *)(i + 2), NULL);
	}
	ok(m.cap == cap && m.slots == slots, "putting the 1,000 never grew "
	    "it");
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		found += hmap_get(&m, key) == (void *)(i + 2);
	}
	ok(found == 1000 && hmap_get(&m, "early") == (void *)1 &&
	    m.len == 1001, "all 1,001 are found, the first one too");
	is_int(hmap_reserve(&m, 10), 0, "a reserve that fits");
	ok(m.cap == cap, "changes nothing");
	is_int(hmap_reserve(&m, 0), 0, "nor does a reserve of none");
	for (i = 1000; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		hmap_put(&m, key, (void *)(i + 2), NULL);
	}
	ok(m.len == 2001 && hmap_get(&m, "k1999") == (void *)2001,
	    "a reserve is no limit: past it the table grows as before");
	hmap_free(&m, NULL);
}

int
main(void)
{
	test_basic();
	test_reserve();
	test_borrowed();
	test_getn();
	test_many();
	test_join();
	test_hash_bytes();
	test_hash_spread();
	return tap_done();
}
