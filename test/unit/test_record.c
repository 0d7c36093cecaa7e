/*
 * test_record.c - attribute sets, their JSON form, member lists, read sets
 * and entry lookups
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entry.h"
#include "mapping.h"
#include "record.h"
#include "tap.h"

static void
attrs_should_stay_sorted_and_unique(void)
{
	struct attrs a = ATTRS_INIT;
	size_t i;
	int sorted = 1;

	is_int(attrs_set(&a, "userName", "alice"), 0, "attrs_set adds a path");
	attrs_set(&a, "active", "true");
	attrs_set(&a, "name.givenName", "Alice");
	attrs_set(&a, "emails[type eq \"work\"].value", "a@example.org");
	attrs_set(&a, "active", "false");
	is_int(a.n, 4, "setting an existing path replaces its value");
	for (i = 1; i < a.n; i++)
		if (strcmp(a.v[i - 1].path, a.v[i].path) >= 0)
			sorted = 0;
	ok(sorted, "paths are kept sorted with strcmp");
	is_str(attrs_get(&a, "active"), "false", "attrs_get finds the new value");
	is_str(attrs_get(&a, "userName"), "alice", "attrs_get finds the last path");
	ok(attrs_get(&a, "title") == NULL, "attrs_get of an absent path is NULL");
	is_int(attrs_del(&a, "name.givenName"), 1, "attrs_del removes a path");
	is_int(attrs_del(&a, "name.givenName"), 0,
	    "attrs_del of an absent path reports it");
	is_int(a.n, 3, "three paths remain");
	attrs_free(&a);
	attrs_free(&a);
	ok(a.n == 0 && a.v == NULL, "attrs_free leaves an empty set");
}

/* Paths set in any order, some already the pool's, some set twice: the
 * set stays sorted and unique and every value is found. */
static void
attrs_in_any_order_should_stay_sorted(void)
{
	static const char *const paths[] = { "userName", "active", "title",
	    "name.givenName", "name.familyName", "displayName",
	    "emails[type eq \"work\"].value", "nickName", "a", "zz",
	    SCIM_ENTERPRISE_URN ":employeeNumber", "phoneNumbers[type eq "
	    "\"work\"].value" };
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t round, i, bad = 0;
	char val[32];

	for (round = 0; round < 300; round++) {
		struct attrs a = ATTRS_INIT;
		size_t order[N];

		for (i = 0; i < N; i++)
			order[i] = i;
		for (i = N - 1; i > 0; i--) {	/* Fisher-Yates */
			size_t j, t;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			j = (size_t)(x % (i + 1));
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < N; i++) {
			const char *p = paths[order[i]];

			snprintf(val, sizeof(val), "v%zu", order[i]);
			if ((x >> (i % 60)) & 1)
				attrs_set(&a, p, "first");
			if (i % 2)
				attrs_set_pooled(&a, record_pooled(p), val,
				    strlen(val));
			else
				attrs_set(&a, p, val);
		}
		for (i = 1; i < a.n; i++)
			if (strcmp(a.v[i - 1].path, a.v[i].path) >= 0)
				bad++;
		for (i = 0; i < N; i++) {
			const char *got = attrs_get(&a, paths[i]);

			snprintf(val, sizeof(val), "v%zu", i);
			if (got == NULL || strcmp(got, val) != 0)
				bad++;
		}
		if (a.n != N)
			bad++;
		attrs_free(&a);
	}
	is_int((int)bad, 0, "300 orders of %d paths: sorted, unique, every "
	    "value found", (int)N);
}

static void
attrs_should_compare_and_copy(void)
{
	struct attrs a = ATTRS_INIT, b = ATTRS_INIT, c = ATTRS_INIT;

	attrs_set(&a, "x", "1");
	attrs_set(&a, "y", "2");
	attrs_set(&b, "y", "2");
	attrs_set(&b, "x", "1");
	ok(attrs_equal(&a, &b), "sets built in different orders are equal");
	attrs_set(&b, "y", "3");
	ok(!attrs_equal(&a, &b), "a different value makes sets differ");
	attrs_del(&b, "y");
	ok(!attrs_equal(&a, &b), "a missing path makes sets differ");
	is_int(attrs_copy(&c, &a), 0, "attrs_copy succeeds");
	ok(attrs_equal(&a, &c), "a copy equals its source");
	ok(c.v != a.v && c.v[0].value != a.v[0].value,
	    "a copy owns its values");
	ok(c.v[0].path == a.v[0].path, "and shares the interned paths");
	attrs_set(&c, "y", attrs_get(&c, "x"));
	is_str(attrs_get(&c, "y"), "1", "a value may be set from the same set");
	is_str(attrs_get(&a, "y"), "2", "without touching the source");
	attrs_free(&a);
	attrs_free(&b);
	attrs_free(&c);
}

static void
attrs_json_should_round_trip_utf8_and_quotes(void)
{
	struct attrs a = ATTRS_INIT, b = ATTRS_INIT;
	char *json;

	attrs_set(&a, "userName", "zoë");
	attrs_set(&a, "displayName", "Zoë \"Z\" O'Brien \\ 東京");
	attrs_set(&a, "title", "line\none\ttab");
	attrs_set(&a, "active", "true");
	json = attrs_to_json(&a);
	ok(json != NULL, "attrs_to_json gives text");
	is_str(json, "{\"active\":\"true\",\"displayName\":\"Zoë \\\"Z\\\" "
	    "O'Brien \\\\ 東京\",\"title\":\"line\\none\\ttab\","
	    "\"userName\":\"zoë\"}", "keys come out in sorted order");
	is_int(attrs_from_json(&b, json), 0, "attrs_from_json reads it back");
	ok(attrs_equal(&a, &b), "the JSON round trip keeps every value");
	free(json);
	attrs_free(&b);

	json = attrs_to_json(&b);
	is_str(json, "{}", "an empty set is an empty object");
	is_int(attrs_from_json(&b, json), 0, "an empty object reads back");
	is_int(b.n, 0, "as an empty set");
	free(json);

	is_int(attrs_from_json(&b, "[\"a\"]"), -1, "an array is refused");
	is_int(attrs_from_json(&b, "{\"a\":1}"), -1,
	    "a number value is refused");
	is_int(attrs_from_json(&b, "{\"a\":\"x\"} junk"), -1,
	    "trailing text is refused");
	is_int(attrs_from_json(&b, "{\"a\":"), -1, "truncated JSON is refused");
	is_int(b.n, 0, "a refused text leaves the set untouched");
	attrs_free(&a);
	attrs_free(&b);
}

static void
attrs_json_should_read_any_escape(void)
{
	struct attrs a = ATTRS_INIT;

	is_int(attrs_from_json(&a, " { \"a\" : \"\\u00e9\\ud83d\\ude00\\/\" ,"
	    "\"b\":\"\\b\\f\\r\"}\n"), 0,
	    "whitespace, \\u escapes and surrogate pairs are read");
	is_str(attrs_get(&a, "a"), "\xc3\xa9\xf0\x9f\x98\x80/",
	    "as UTF-8");
	is_str(attrs_get(&a, "b"), "\b\f\r", "short escapes too");
	attrs_free(&a);
	is_int(attrs_from_json(&a, "{\"a\":\"\\u0000\"}"), -1,
	    "a NUL in a value is refused");
	is_int(attrs_from_json(&a, "{\"a\":\"\\ud83d\"}"), -1,
	    "a lone surrogate is refused");
	is_int(attrs_from_json(&a, "{\"a\":\"x\",}"), -1,
	    "a trailing comma is refused");
	is_int(attrs_from_json(&a, "{\"a\":\"\x01\"}"), -1,
	    "a raw control character is refused");
	is_int(attrs_from_json(&a, "{\"a\":\"1\",\"a\":\"2\"}"), 0,
	    "a repeated key is read");
	is_str(attrs_get(&a, "a"), "2", "the last one wins");
	attrs_free(&a);
	attrs_set(&a, "c", "\x01\x1f");
	{
		char *json = attrs_to_json(&a);

		is_str(json, "{\"c\":\"\\u0001\\u001f\"}",
		    "other control characters are written as \\u escapes");
		free(json);
	}
	attrs_free(&a);
}

static void
attrs_blob_should_round_trip(void)
{
	struct attrs a = ATTRS_INIT, b = ATTRS_INIT;
	struct buf blob = BUF_INIT;
	static const char bad1[] = "\x02" "alice";	/* no NUL */
	static const char bad2[] = "\x7f" "x";		/* unknown code */
	static const char bad3[] = "\x02" "a\0" "\x01" "true";	/* order */
	static const char bad4[] = "\x02" "a\0" "\x02" "b";	/* twice */
	static const char bad5[] = "\0" "zz\0" "v\0" "\x01" "true";
	static const char bad6[] = "\x01" "true\0" "\0" "active\0" "x";
	static const char good[] = "\x01" "true\0" "\0" "b-custom\0" "\0"
	    "\x02" "alice";

	attrs_set(&a, "userName", "alice");
	attrs_set(&a, "active", "true");
	attrs_set(&a, "x-custom", "");
	attrs_set(&a, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
	    "User:manager", "k1");
	attrs_to_blob(&a, &blob);
	ok(!buf_failed(&blob) && blob.len == 2 * 1 + 5 + 6 + 1 + 9 + 1 + 1 + 3,
	    "the compact form codes well-known paths in one byte");
	is_int(attrs_from_blob(&b, blob.s, blob.len), 0,
	    "attrs_from_blob reads it back");
	ok(attrs_equal(&a, &b), "with every path and value");
	ok(b.v[0].path == a.v[0].path, "paths come back interned");
	is_int(attrs_from_blob(&b, bad1, sizeof(bad1) - 1), 1,
	    "a value without its NUL is refused");
	is_int(attrs_from_blob(&b, bad2, sizeof(bad2) - 1), 1,
	    "an unknown path code is refused");
	is_int(attrs_from_blob(&b, bad3, sizeof(bad3)), 1,
	    "paths out of order are refused");
	is_int(attrs_from_blob(&b, bad4, sizeof(bad4)), 1,
	    "a well-known path twice is refused");
	is_int(attrs_from_blob(&b, bad5, sizeof(bad5)), 1,
	    "a path as text out of order with a well-known one is refused");
	is_int(attrs_from_blob(&b, bad6, sizeof(bad6)), 1,
	    "a well-known path also written as text is refused");
	ok(attrs_equal(&a, &b), "a refused form leaves the set as it was");
	is_int(attrs_from_blob(&b, good, sizeof(good)), 0,
	    "paths as text among well-known ones, in order, are read");
	ok(b.n == 3 && strcmp(b.v[0].path, "active") == 0 &&
	    strcmp(b.v[0].value, "true") == 0 &&
	    strcmp(b.v[1].path, "b-custom") == 0 &&
	    strcmp(b.v[1].value, "") == 0 &&
	    strcmp(b.v[2].path, "userName") == 0 &&
	    strcmp(b.v[2].value, "alice") == 0, "each with its value");
	is_int(attrs_from_blob(&b, "", 0), 0, "an empty form reads");
	is_int(b.n, 0, "as an empty set");
	buf_free(&blob);
	attrs_free(&a);
	attrs_free(&b);
}

static void
members_should_come_from_a_blob(void)
{
	static const char blob[] = "a\0b\0cc\0";
	static const char unsorted[] = "b\0a\0";
	static const char open[] = "a\0b";
	struct record *r = record_new(REC_GROUP, "g");

	is_int(record_members_from_blob(r, blob, sizeof(blob) - 1), 0,
	    "record_members_from_blob takes sorted keys");
	ok(r->nmembers == 3 && strcmp(r->members[2], "cc") == 0,
	    "all of them");
	is_int(record_members_from_blob(r, unsorted, sizeof(unsorted) - 1), 1,
	    "keys out of order are refused");
	is_int(record_members_from_blob(r, open, sizeof(open) - 1), 1,
	    "a key without its NUL is refused");
	is_int(r->nmembers, 3, "a refused blob leaves the members as they were");
	is_int(record_set_members(r, (const char *const *)r->members + 1, 2),
	    0, "members may be set from the record's own");
	ok(r->nmembers == 2 && strcmp(r->members[0], "b") == 0 &&
	    strcmp(r->members[1], "cc") == 0, "and read right");
	record_free(r);
}

/* A long blob: 5,000 keys, half of them new to the pool, read while the
 * pool grows; every member is the pool's one copy of its key. */
static void
many_members_should_come_from_a_blob(void)
{
	struct record *r = record_new(REC_GROUP, "g-many");
	struct buf blob = BUF_INIT;
	char key[40];
	size_t i, bad = 0, n = 5000;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "blob-key-%06zu", i);
		buf_add(&blob, key, strlen(key) + 1);
		if (i % 2 == 0)
			record_pooled(key);	/* in the pool already */
	}
	is_int(record_members_from_blob(r, blob.s, blob.len), 0,
	    "a blob of 5,000 keys is taken");
	is_int((int)r->nmembers, (int)n, "all of them");
	for (i = 0; i < n && i < r->nmembers; i++) {
		snprintf(key, sizeof(key), "blob-key-%06zu", i);
		if (strcmp(r->members[i], key) != 0 ||
		    r->members[i] != record_pooled(key) ||
		    r->members[i] == blob.s + i * (strlen(key) + 1))
			bad++;
	}
	ok(bad == 0, "each is its key, the pool's copy, not the blob's "
	    "(%zu wrong)", bad);
	buf_free(&blob);
	record_free(r);
}

static void
record_set_members_should_sort_and_dedupe(void)
{
	const char *keys[] = { "c", "a", "b", "a", "c", "c" };
	const char *one[] = { "z" };
	struct record *r = record_new(REC_GROUP, "g1");

	ok(r != NULL && strcmp(r->key, "g1") == 0, "record_new copies the key");
	is_int(record_set_members(r, keys, 6), 0, "record_set_members succeeds");
	is_int(r->nmembers, 3, "duplicates are dropped");
	ok(r->nmembers == 3 && strcmp(r->members[0], "a") == 0 &&
	    strcmp(r->members[1], "b") == 0 && strcmp(r->members[2], "c") == 0,
	    "members are sorted");
	ok(record_has_member(r, "b"), "record_has_member finds a member");
	ok(!record_has_member(r, "d"), "record_has_member rejects a stranger");
	record_set_members(r, one, 1);
	ok(r->nmembers == 1 && strcmp(r->members[0], "z") == 0,
	    "setting members again replaces the list");
	record_set_members(r, NULL, 0);
	ok(r->nmembers == 0 && r->members == NULL,
	    "an empty list clears the members");
	ok(!record_has_member(r, "z"), "a group without members has none");
	record_free(r);
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Member keys come out in strcmp() order, whatever their lengths and
 * bytes: 4,000 random keys of 0 to 19 bytes, many sharing their first
 * eight, some with bytes over 0x7f, some repeated; qsort() with strcmp()
 * is the oracle. */
static void
members_should_sort_as_strcmp(void)
{
	static const char alpha[] = "ab-9\x7f\x80\xff";
	enum { N = 4000 };
	char (*text)[20] = calloc(N, sizeof(*text));
	const char **keys = calloc(N, sizeof(*keys));
	struct record *r = record_new(REC_GROUP, "g-sort");
	unsigned long long x = 88172645463325252ULL;
	size_t i, j, len, m = 0, bad = 0;

	for (i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = (size_t)(x % 20);
		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly "aaaaaaaa..." so that prefixes tie */
			text[i][j] = j < 8 && x % 4 != 0 ? 'a' :
			    alpha[x % (sizeof(alpha) - 1)];
		}
		text[i][len] = '\0';
		keys[i] = text[i];
	}
	is_int(record_set_members(r, keys, N), 0, "4,000 random keys are taken");
	qsort(keys, N, sizeof(*keys), cmp_strp);
	for (i = 0; i < N; i++)
		if (m == 0 || strcmp(keys[m - 1], keys[i]) != 0)
			keys[m++] = keys[i];
	for (i = 0; i < m && i < r->nmembers; i++)
		if (strcmp(r->members[i], keys[i]) != 0)
			bad++;
	ok(r->nmembers == m && bad == 0, "in strcmp() order without repeats "
	    "(%zu of %zu, %zu out of place)", r->nmembers, m, bad);
	/* in order already (one run), then backwards (every merge) */
	for (j = 0; j < 2; j++) {
		const char **in = calloc(m, sizeof(*in));

		for (i = 0; i < m; i++)
			in[i] = keys[j == 0 ? i : m - 1 - i];
		record_set_members(r, in, m);
		for (i = 0, bad = 0; i < m && i < r->nmembers; i++)
			bad += strcmp(r->members[i], keys[i]) != 0;
		ok(r->nmembers == m && bad == 0, "and the same from them %s",
		    j == 0 ? "in order" : "backwards");
		free(in);
	}
	record_free(r);
	free(keys);
	free(text);
}

/* A record's key is the pool's: two records of one object (the one read,
 * the one the state remembers) share it, and so do member lists. */
static void
record_keys_should_be_the_pools(void)
{
	char k[] = "0a6c7f3e-key-of-two-records";
	struct record *r1 = record_new(REC_USER, k);
	struct record *r2 = record_new(REC_USER, "0a6c7f3e-key-of-two-records");
	struct record *d = r1 != NULL ? record_dup(r1) : NULL;

	ok(r1 != NULL && r2 != NULL && d != NULL, "records are made");
	ok(r1->key != k && strcmp(r1->key, k) == 0, "a record's key is a "
	    "copy of the text it was given");
	ok(r1->key == r2->key && r1->key == record_pooled(k),
	    "two records of one key share the pool's copy");
	ok(d->key == r1->key, "and so does a duplicate");
	record_free(r1);
	ok(strcmp(r2->key, k) == 0, "freeing one record leaves the key of "
	    "the other whole");
	record_free(r2);
	record_free(d);
}

/* record_pool_reserve(): a larger pool keeps every key it held at the
 * same address, and finds it again. */
static void
pool_reserve_should_keep_the_keys(void)
{
	const char *before[64];
	char k[48];
	size_t i, same = 0;

	for (i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "reserve-%zu", i);
		before[i] = record_pooled(k);
	}
	is_int(record_pool_reserve(20000), 0, "room for 20,000 more keys");
	for (i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "reserve-%zu", i);
		same += record_pooled(k) == before[i];
	}
	ok(same == 64, "the 64 keys pooled before are the same strings after");
	is_int(record_pool_reserve(0), 0, "a reserve of none is fine");
	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "reserve-more-%zu", i);
		if (record_pooled(k) == NULL)
			break;
	}
	ok(i == 20000 && strcmp(record_pooled("reserve-more-19999"),
	    "reserve-more-19999") == 0, "and the 20,000 go in");
}

static void
pooled_member_keys_should_sort_and_dedupe(void)
{
	char c[] = "c", a1[] = "a", a2[] = "a", b[] = "b";
	const char *keys[5];
	struct record *r = record_new(REC_GROUP, "g2");
	struct record *d;

	keys[0] = record_pooled(c);
	keys[1] = record_pooled(a1);
	keys[2] = record_pooled(b);
	keys[3] = record_pooled(a2);
	keys[4] = keys[0];
	ok(keys[1] == keys[3] && keys[1] != a1, "record_pooled gives one "
	    "copy, the pool's, of equal keys");
	is_int(record_set_member_keys(r, keys, 5), 0,
	    "record_set_member_keys succeeds");
	ok(r->nmembers == 3 && r->members[0] == keys[1] &&
	    r->members[1] == keys[2] && r->members[2] == keys[0],
	    "pooled keys are sorted, repeats dropped, the pool's copies kept");
	record_set_members(r, (const char *const *)r->members, r->nmembers);
	ok(r->nmembers == 3 && r->members[0] == keys[1],
	    "record_set_members finds the same copies in the pool");
	d = record_dup(r);
	ok(d != NULL && d->nmembers == 3 && d->members != r->members &&
	    d->members[2] == keys[0], "a copy has its own array of the "
	    "pool's keys");
	record_free(d);
	record_free(r);
}

static void
record_dup_should_copy_deeply(void)
{
	const char *keys[] = { "u2", "u1" };
	struct record *r = record_new(REC_GROUP, "g"), *d;

	r->dn = strdup("cn=g,dc=example");
	r->name = strdup("staff");
	r->scim_id = strdup("42");
	r->removed = 1;
	attrs_set(&r->attrs, "displayName", "staff");
	record_set_members(r, keys, 2);
	d = record_dup(r);
	ok(d != NULL, "record_dup succeeds");
	ok(d->kind == REC_GROUP && d->removed == 1, "kind and flag are copied");
	is_str(d->dn, "cn=g,dc=example", "the dn is copied");
	is_str(d->scim_id, "42", "the scim id is copied");
	ok(d->held == NULL, "an absent field stays absent");
	ok(attrs_equal(&d->attrs, &r->attrs), "the attributes are copied");
	ok(d->nmembers == 2 && strcmp(d->members[0], "u1") == 0 &&
	    d->members != r->members, "the members are copied");
	record_free(r);
	record_free(d);
	record_free(NULL);
	record_free_v(NULL);
	ok(1, "record_free accepts NULL");
}

static void
readset_should_own_its_records(void)
{
	struct readset rs;

	readset_init(&rs);
	ok(rs.users.len == 0 && rs.groups.len == 0 && rs.complete == 0,
	    "readset_init gives an empty, incomplete set");
	hmap_put(&rs.users, "u1", record_new(REC_USER, "u1"), NULL);
	hmap_put(&rs.groups, "g1", record_new(REC_GROUP, "g1"), NULL);
	readset_free(&rs);
	ok(rs.users.len == 0 && rs.users.slots == NULL,
	    "readset_free frees the records and empties the set");
	readset_free(&rs);
	readset_free(NULL);
	ok(1, "readset_free is safe twice and on NULL");
}

/* record_new_with(): the three strings in the record's own allocation,
 * freed with it; one replaced by the caller is freed on its own. */
static void
record_new_with_should_hold_its_strings(void)
{
	struct record *r, *d;

	r = record_new_with(REC_USER, "k-with", "id-1", "alice",
	    "uid=alice,dc=example");
	if (!ok(r != NULL, "record_new_with makes a record"))
		return;
	ok(strcmp(r->key, "k-with") == 0 && r->key == record_pooled("k-with"),
	    "its key is the pool's");
	ok(strcmp(r->scim_id, "id-1") == 0 && strcmp(r->name, "alice") == 0 &&
	    strcmp(r->dn, "uid=alice,dc=example") == 0,
	    "with copies of scim_id, name and dn");
	d = record_dup(r);
	ok(d != NULL && d->tail_end == NULL && d->name != r->name &&
	    strcmp(d->name, "alice") == 0, "a copy owns its strings apart");
	record_free(d);
	record_free_str(r, r->name);	/* in the record: nothing to free */
	r->name = strdup("alicia");
	ok(r->name != NULL && strcmp(r->name, "alicia") == 0,
	    "a string replaced after record_free_str() is the caller's");
	record_free(r);			/* frees "alicia" on its own */
	r = record_new_with(REC_GROUP, "k-none", NULL, NULL, NULL);
	ok(r != NULL && r->scim_id == NULL && r->name == NULL &&
	    r->dn == NULL, "absent strings stay NULL");
	record_free(r);
}

/* records_free() on a table larger than its lookahead, of records with
 * values in one block or several, and members: all freed (the sanitizer
 * build finds what is not), the table empty. */
static void
records_free_should_free_every_record(void)
{
	static const char *const keys[] = { "k1", "k2", "k3" };
	struct hmap m = HMAP_INIT_BORROWED, none = HMAP_INIT;
	struct record *r;
	char key[16], val[600];
	size_t i, bad = 0;

	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "r%zu", i);
		r = record_new(i % 2 ? REC_GROUP : REC_USER, key);
		if (r == NULL || attrs_set(&r->attrs, "title", "t") != 0 ||
		    (i % 3 == 0 && attrs_set(&r->attrs, "x", val) != 0) ||
		    (i % 2 && record_set_members(r, keys, 3) != 0) ||
		    (r->dn = strdup(key)) == NULL ||
		    hmap_put(&m, r->key, r, NULL) != 0)
			bad++;
	}
	records_free(&m);
	ok(bad == 0 && m.len == 0 && m.slots == NULL,
	    "records_free frees 100 records and empties their table");
	records_free(&none);
	ok(none.len == 0, "records_free of an empty table does nothing");
}

static void
entry_lookups_should_ignore_case(void)
{
	struct value mail[] = { { "a@example.org", 13 }, { "b@example.org", 13 } };
	struct value empty[] = { { "", 0 } };
	struct entry_attr attrs[] = {
		{ "mail", 2, mail },
		{ "entryUUID", 0, NULL },
		{ "description", 1, empty },
	};
	struct entry e = { "uid=a,dc=example", 3, attrs };
	const struct value *v;

	ok(entry_attr(&e, "MAIL") == &attrs[0],
	    "entry_attr matches names case-insensitively");
	ok(entry_attr(&e, "entryuuid") == &attrs[1], "entry_attr finds entryUUID");
	ok(entry_attr(&e, "mai") == NULL, "entry_attr needs the whole name");
	ok(entry_attr(&e, "mailx") == NULL, "entry_attr rejects a longer name");
	v = entry_first(&e, "Mail");
	ok(v != NULL && v->len == 13 && memcmp(v->p, "a@example.org", 13) == 0,
	    "entry_first gives the first value");
	ok(entry_first(&e, "entryUUID") == NULL,
	    "entry_first of an attribute without values is NULL");
	ok(entry_first(&e, "description") == NULL,
	    "entry_first of an empty value is NULL");
	ok(entry_first(&e, "cn") == NULL, "entry_first of an absent name is NULL");
}

/* entry_attr() remembers where a name was last found; entries laid out
 * otherwise must still be read right. */
static void
entry_lookups_should_survive_other_layouts(void)
{
	static const char title[] = "title";
	struct value v1[] = { { "x", 1 } }, v2[] = { { "y", 1 } };
	struct entry_attr a1[] = { { "cn", 1, v1 }, { "title", 1, v2 } };
	struct entry_attr a2[] = { { "Title", 1, v2 }, { "cn", 1, v1 } };
	struct entry_attr a3[] = { { "cn", 1, v1 } };
	struct entry_attr a4[] = { { "cn", 1, v1 }, { "sn", 1, v2 },
	    { "TITLE", 1, v1 } };
	struct entry e1 = { "cn=1", 2, a1 }, e2 = { "cn=2", 2, a2 };
	struct entry e3 = { "cn=3", 1, a3 }, e4 = { "cn=4", 3, a4 };
	struct entry e5 = { "cn=5", 0, NULL };

	ok(entry_attr(&e1, title) == &a1[1], "found second");
	ok(entry_attr(&e1, title) == &a1[1], "found second again");
	ok(entry_attr(&e2, title) == &a2[0], "then first in an entry laid "
	    "out otherwise");
	ok(entry_attr(&e1, title) == &a1[1], "then second again");
	ok(entry_attr(&e3, title) == NULL, "absent from a shorter entry");
	ok(entry_attr(&e4, title) == &a4[2], "third in a longer one");
	ok(entry_attr(&e2, title) == &a2[0], "first again");
	ok(entry_attr(&e3, title) == NULL, "absent where another name holds "
	    "the place");
	ok(entry_attr(&e5, title) == NULL, "absent from an empty entry");
}

/* attrs_reserve(): the entries set afterwards fit where they are. */
static void
attrs_reserve_should_make_room_once(void)
{
	struct attrs a = ATTRS_INIT;
	const struct attr *v;
	char path[32];
	size_t i, moved = 0;

	is_int(attrs_reserve(&a, 11), 0, "room for 11 attributes");
	ok(a.cap == 11 && a.n == 0, "and none set (cap %zu)", a.cap);
	v = a.v;
	for (i = 0; i < 11; i++) {
		snprintf(path, sizeof(path), "p%02zu", 10 - i);
		attrs_set(&a, path, "x");
		moved += a.v != v;
	}
	ok(a.n == 11 && moved == 0 && a.cap == 11,
	    "11 set in reverse order, the entries never moved");
	is_int(attrs_reserve(&a, 4), 0, "asking for less keeps all");
	ok(a.cap == 11 && a.n == 11 && strcmp(a.v[0].path, "p00") == 0 &&
	    strcmp(a.v[10].path, "p10") == 0, "in order");
	attrs_set(&a, "p11", "y");
	ok(a.n == 12 && a.cap > 11 && strcmp(attrs_get(&a, "p11"), "y") == 0,
	    "one more grows past the room reserved");
	attrs_free(&a);
}

int
main(void)
{
	attrs_should_stay_sorted_and_unique();
	attrs_reserve_should_make_room_once();
	attrs_in_any_order_should_stay_sorted();
	attrs_should_compare_and_copy();
	attrs_json_should_round_trip_utf8_and_quotes();
	attrs_json_should_read_any_escape();
	attrs_blob_should_round_trip();
	members_should_come_from_a_blob();
	many_members_should_come_from_a_blob();
	record_set_members_should_sort_and_dedupe();
	members_should_sort_as_strcmp();
	record_keys_should_be_the_pools();
	pool_reserve_should_keep_the_keys();
	pooled_member_keys_should_sort_and_dedupe();
	record_dup_should_copy_deeply();
	readset_should_own_its_records();
	records_free_should_free_every_record();
	record_new_with_should_hold_its_strings();
	entry_lookups_should_ignore_case();
	entry_lookups_should_survive_other_layouts();
	return tap_done();
}
