/*
 * test_hmap.c - the string-keyed hash table: put, get, replace, delete,
 * lookups by a counted key (hmap_getn), and growth past many resizes
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

int
main(void)
{
	test_basic();
	test_getn();
	test_many();
	return tap_done();
}
