/*
 * test_record.c - attribute sets, their JSON form, member lists, read sets
 * and entry lookups
 */
#include <stdlib.h>
#include <string.h>

#include "entry.h"
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
	ok(c.v != a.v && c.v[0].path != a.v[0].path, "a copy owns its memory");
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

int
main(void)
{
	attrs_should_stay_sorted_and_unique();
	attrs_should_compare_and_copy();
	attrs_json_should_round_trip_utf8_and_quotes();
	record_set_members_should_sort_and_dedupe();
	record_dup_should_copy_deeply();
	readset_should_own_its_records();
	entry_lookups_should_ignore_case();
	return tap_done();
}
