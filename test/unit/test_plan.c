/*
 * test_plan.c - how a plan is shown: the dry-run text, the --json plan
 * (parsed back with cJSON) and the one-line summary
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "diff.h"
#include "fixtures.h"
#include "mapping.h"
#include "plan.h"
#include "record.h"
#include "tap.h"

#define ENT SCIM_ENTERPRISE_URN

struct world {
	struct readset want;
	struct hmap have_users, have_groups;
	struct plan plan;
};

/* One of each operation, and one held user. */
static int
world_build(struct world *w, const struct config *cfg)
{
	static const char *const staff[] = { "u-alice", "u-new" };
	static const char *const eng_old[] = { "u-alice", "u-gone" };
	static const char *const eng_new[] = { "u-alice", "u-new" };
	struct err err = ERR_INIT;
	struct record *r;
	int rc;

	memset(w, 0, sizeof(*w));
	readset_init(&w->want);
	w->want.complete = 1;

	fx_put(&w->have_users, fx_state_user("u-boss", "boss"));
	fx_put(&w->want.users, fx_user("u-boss", "boss"));

	r = fx_put(&w->want.users, fx_user("u-new", "newbie"));
	fx_set(r, "displayName", "New Person");
	fx_set(r, ENT ":manager", "u-boss");

	r = fx_put(&w->want.users, fx_user("u-alice", "alice"));
	fx_set(r, "title", "Manager");
	fx_set(r, "name.givenName", "Alice");
	r = fx_put(&w->have_users, fx_state_user("u-alice", "alice"));
	fx_set(r, "title", "Engineer");
	fx_set(r, "displayName", "Alice L");

	fx_put(&w->want.users, fx_user("u-back", "back"));
	fx_put(&w->have_users, fx_state_user("u-back", "back"))->removed = 1;

	fx_put(&w->have_users, fx_state_user("u-gone", "gone"));

	r = fx_put(&w->want.users, fx_user("u-held", "held"));
	r->held = fx_strdup("the mapping gives no userName");

	fx_put(&w->want.groups, fx_group("g-staff", "Staff", staff, 2));
	fx_put(&w->want.groups, fx_group("g-eng", "Engineering", eng_new, 2));
	fx_put(&w->have_groups, fx_state_group("g-eng", "Engineers", eng_old,
	    2));
	fx_put(&w->have_groups, fx_state_group("g-old", "Old", NULL, 0));

	rc = diff_build(&w->plan, &w->want, &w->have_users, &w->have_groups,
	    cfg, &err);
	if (rc != L2S_OK)
		printf("# diff_build: %s\n", err.msg);
	return rc;
}

static void
world_free(struct world *w)
{
	plan_free(&w->plan);
	readset_free(&w->want);
	hmap_free(&w->have_users, record_free_v);
	hmap_free(&w->have_groups, record_free_v);
}

static void
test_text(const struct plan *p)
{
	struct buf b = BUF_INIT;
	const char *s;

	plan_print_text(p, &b);
	ok(!buf_failed(&b), "the text plan is written");
	s = buf_str(&b);
	like(s, "+ create user 'newbie' (uid=newbie,ou=people,dc=example,dc=com)\n"
	    "      active: 'true'\n"
	    "      displayName: 'New Person'\n"
	    "      " ENT ":manager: 'boss'\n"
	    "      userName: 'newbie'\n",
	    "a create shows the DN and every value, the manager by name");
	like(s, "~ update user 'alice' (uid=alice,ou=people,dc=example,dc=com)\n"
	    "      displayName: 'Alice L' -> (removed)\n"
	    "      name.givenName: (absent) -> 'Alice'\n"
	    "      title: 'Engineer' -> 'Manager'\n",
	    "an update shows only changed values, before -> after");
	like(s, "~ update user 'back' (uid=back,ou=people,dc=example,dc=com)\n"
	    "      (reactivated: it is back in the directory)\n",
	    "a reactivation says so");
	like(s, "- deactivate user 'gone'\n"
	    "      active: 'true' -> 'false', and out of every group\n",
	    "a deactivation shows active going to false");
	like(s, "+ create group 'Staff' (cn=Staff,ou=groups,dc=example,dc=com)\n"
	    "      + member 'alice'\n"
	    "      + member 'newbie'\n",
	    "a group create lists its members by name");
	like(s, "~ update group 'Engineering' (cn=Engineering,ou=groups,"
	    "dc=example,dc=com)\n"
	    "      displayName: 'Engineers' -> 'Engineering'\n"
	    "      + member 'newbie'\n"
	    "      - member 'gone'\n",
	    "a group update shows the rename and member deltas by name, "
	    "including a member known only to the state");
	like(s, "- delete group 'Old'\n", "a group deletion is shown");
	ok(strstr(s, "'held'") == NULL, "a held user is not in the plan");
	ok(strstr(s, "user 'boss'") == NULL,
	    "an unchanged user is not in the plan");
	is_str(s,
	    "+ create user 'newbie' (uid=newbie,ou=people,dc=example,dc=com)\n"
	    "      active: 'true'\n"
	    "      displayName: 'New Person'\n"
	    "      " ENT ":manager: 'boss'\n"
	    "      userName: 'newbie'\n"
	    "~ update user 'alice' (uid=alice,ou=people,dc=example,dc=com)\n"
	    "      displayName: 'Alice L' -> (removed)\n"
	    "      name.givenName: (absent) -> 'Alice'\n"
	    "      title: 'Engineer' -> 'Manager'\n"
	    "~ update user 'back' (uid=back,ou=people,dc=example,dc=com)\n"
	    "      (reactivated: it is back in the directory)\n"
	    "+ create group 'Staff' (cn=Staff,ou=groups,dc=example,dc=com)\n"
	    "      + member 'alice'\n"
	    "      + member 'newbie'\n"
	    "~ update group 'Engineering' (cn=Engineering,ou=groups,"
	    "dc=example,dc=com)\n"
	    "      displayName: 'Engineers' -> 'Engineering'\n"
	    "      + member 'newbie'\n"
	    "      - member 'gone'\n"
	    "- deactivate user 'gone'\n"
	    "      active: 'true' -> 'false', and out of every group\n"
	    "- delete group 'Old'\n",
	    "the whole text plan lists the operations in order");
	buf_free(&b);
}

static const cJSON *
find_op(const cJSON *ops, const char *key)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, ops) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");

		if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
			return o;
	}
	return NULL;
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Is o[name] the string want? */
static int
str_is(const cJSON *o, const char *name, const char *want)
{
	const char *v = str_of(o, name);

	return v != NULL && strcmp(v, want) == 0;
}

static double
num_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Is arr a list of {key, name} matching the n pairs of want? */
static int
members_are(const cJSON *arr, const char *const *want, int n)
{
	int i;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
		return 0;
	for (i = 0; i < n; i++) {
		const cJSON *m = cJSON_GetArrayItem(arr, i);
		const char *k = str_of(m, "key"), *nm = str_of(m, "name");

		if (k == NULL || nm == NULL || strcmp(k, want[2 * i]) != 0 ||
		    strcmp(nm, want[2 * i + 1]) != 0)
			return 0;
	}
	return 1;
}

static void
test_json(const struct plan *p)
{
	static const char *const staff[] = {
		"u-alice", "alice", "u-new", "newbie"
	};
	static const char *const added[] = { "u-new", "newbie" };
	static const char *const removed[] = { "u-gone", "gone" };
	struct buf b = BUF_INIT;
	cJSON *root;
	const cJSON *sum, *ops, *o, *before, *after;

	plan_print_json(p, &b);
	ok(!buf_failed(&b), "the JSON plan is written");
	root = cJSON_Parse(buf_str(&b));
	if (!ok(cJSON_IsObject(root), "the JSON plan parses as an object")) {
		printf("#   %s\n", buf_str(&b));
		goto done;
	}
	sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	ops = cJSON_GetObjectItemCaseSensitive(root, "operations");
	ok(cJSON_IsObject(sum) && cJSON_IsArray(ops),
	    "the JSON plan has a summary and a list of operations");
	is_int(cJSON_GetArraySize(ops), 7, "the JSON plan lists every operation");
	ok(num_of(sum, "create_user") == 1 && num_of(sum, "update_user") == 2 &&
	    num_of(sum, "deactivate_user") == 1 &&
	    num_of(sum, "delete_user") == 0 && num_of(sum, "create_group") == 1 &&
	    num_of(sum, "update_group") == 1 &&
	    num_of(sum, "delete_group") == 1 && num_of(sum, "held") == 1,
	    "the JSON summary counts every kind of operation and the held");

	o = find_op(ops, "u-new");
	ok(str_is(o, "op", "create") && str_is(o, "type", "user") &&
	    str_is(o, "name", "newbie") &&
	    str_is(o, "dn", "uid=newbie,ou=people,dc=example,dc=com"),
	    "a user create has op, type, key, name and dn");
	before = cJSON_GetObjectItemCaseSensitive(o, "before");
	after = cJSON_GetObjectItemCaseSensitive(o, "after");
	ok(cJSON_IsNull(before), "a create has no before");
	ok(str_is(after, "displayName", "New Person") &&
	    str_is(after, "active", "true") &&
	    str_is(after, ENT ":manager", "u-boss"),
	    "a create's after holds the attributes to send");

	o = find_op(ops, "u-alice");
	before = cJSON_GetObjectItemCaseSensitive(o, "before");
	after = cJSON_GetObjectItemCaseSensitive(o, "after");
	is_str(str_of(o, "op"), "update", "a user update has op update");
	is_str(str_of(before, "title"), "Engineer",
	    "an update's before holds the old value");
	is_str(str_of(after, "title"), "Manager",
	    "an update's after holds the new value");
	ok(str_of(before, "displayName") != NULL &&
	    str_of(after, "displayName") == NULL,
	    "a vanished attribute is in before only");

	o = find_op(ops, "u-gone");
	before = cJSON_GetObjectItemCaseSensitive(o, "before");
	after = cJSON_GetObjectItemCaseSensitive(o, "after");
	is_str(str_of(o, "op"), "deactivate", "a deactivation has op "
	    "deactivate");
	ok(o != NULL && cJSON_GetObjectItemCaseSensitive(o, "dn") == NULL,
	    "a state record without a DN has no dn");
	is_str(str_of(before, "active"), "true",
	    "a deactivation's before is active");
	is_str(str_of(after, "active"), "false",
	    "a deactivation's after is inactive");

	o = find_op(ops, "g-staff");
	is_str(str_of(o, "type"), "group", "a group operation has type group");
	is_str(str_of(o, "op"), "create", "a group create has op create");
	ok(members_are(cJSON_GetObjectItemCaseSensitive(o, "members_added"),
	    staff, 2), "a group create lists its members with key and name");
	ok(members_are(cJSON_GetObjectItemCaseSensitive(o, "members_removed"),
	    NULL, 0), "a group create removes no member");

	o = find_op(ops, "g-eng");
	is_str(str_of(o, "op"), "update", "a group update has op update");
	is_str(str_of(cJSON_GetObjectItemCaseSensitive(o, "before"),
	    "displayName"), "Engineers", "a rename's before has the old name");
	is_str(str_of(cJSON_GetObjectItemCaseSensitive(o, "after"),
	    "displayName"), "Engineering", "a rename's after has the new name");
	ok(members_are(cJSON_GetObjectItemCaseSensitive(o, "members_added"),
	    added, 1), "a group update lists the added member");
	ok(members_are(cJSON_GetObjectItemCaseSensitive(o, "members_removed"),
	    removed, 1), "a group update lists the removed member, named from "
	    "the state");

	o = find_op(ops, "g-old");
	is_str(str_of(o, "op"), "delete", "a group deletion has op delete");
	ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "after")),
	    "a group deletion has no after");
	ok(find_op(ops, "u-held") == NULL && find_op(ops, "u-boss") == NULL,
	    "held and unchanged users are not in the JSON plan");
done:
	cJSON_Delete(root);
	buf_free(&b);
}

/* A directory value cannot drive the terminal that shows a dry run. */
static void
test_text_control_characters(void)
{
	struct record *w = fx_user("u-esc", "esc");
	struct plan p = PLAN_INIT;
	struct op op;
	struct buf b = BUF_INIT;

	fx_set(w, "title", "a\x1b[31mred\x7f");
	memset(&op, 0, sizeof(op));
	op.kind = OP_USER_CREATE;
	op.want = w;
	p.ops = &op;
	p.n = 1;
	plan_print_text(&p, &b);
	like(buf_str(&b), "      title: 'a\\x1b[31mred\\x7f'\n",
	    "control characters in values are shown as \\xNN");
	ok(strchr(buf_str(&b), 0x1b) == NULL, "no escape byte reaches the output");
	buf_free(&b);
	record_free(w);
}

/* A deactivation shows active "false" after, even when the state did not
 * remember an "active" attribute (no leak either: valgrind checks). */
static void
test_json_deactivate_without_active(void)
{
	struct record *h = fx_state_user("u-x", "x");
	struct plan p = PLAN_INIT;
	struct op op;
	struct buf b = BUF_INIT;
	cJSON *root, *o;

	attrs_del(&h->attrs, "active");
	memset(&op, 0, sizeof(op));
	op.kind = OP_USER_DEACTIVATE;
	op.have = h;
	p.ops = &op;
	p.n = 1;
	plan_print_json(&p, &b);
	root = cJSON_Parse(buf_str(&b));
	o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root,
	    "operations"), 0);
	is_str(str_of(cJSON_GetObjectItemCaseSensitive(o, "after"), "active"),
	    "false", "a deactivation's after is inactive even when the state "
	    "did not remember active");
	cJSON_Delete(root);
	buf_free(&b);
	record_free(h);
}

/* Entries left out of the plan are shown with the reason: skipped (out of
 * scope) and held back, in the text and in the JSON. */
static void
test_notes(void)
{
	static const struct plan_note notes[] = {
		{ "user", "uid=out,ou=people,dc=example,dc=com",
		  "skipped: email 'out@evil.example' is not on a domain of "
		  "users.email_domains", 0 },
		{ "group", "cn=bad\x1b,ou=groups,dc=example,dc=com",
		  "the group name template renders empty", 1 },
	};
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	cJSON *root, *sk, *hb;

	p.notes = notes;
	p.nnotes = 2;
	plan_print_text(&p, &b);
	is_str(buf_str(&b), "! skip user 'uid=out,ou=people,dc=example,dc=com': "
	    "skipped: email 'out@evil.example' is not on a domain of "
	    "users.email_domains\n"
	    "! hold group 'cn=bad\\x1b,ou=groups,dc=example,dc=com': the group "
	    "name template renders empty\n",
	    "the text plan names skipped and held entries with the reason");
	buf_reset(&b);
	plan_print_json(&p, &b);
	root = cJSON_Parse(buf_str(&b));
	sk = cJSON_GetObjectItemCaseSensitive(root, "skipped");
	hb = cJSON_GetObjectItemCaseSensitive(root, "held_back");
	ok(cJSON_GetArraySize(sk) == 1 && cJSON_GetArraySize(hb) == 1,
	    "the JSON plan lists one skipped and one held entry");
	is_str(str_of(cJSON_GetArrayItem(sk, 0), "reason"), notes[0].reason,
	    "with the reason");
	is_str(str_of(cJSON_GetArrayItem(hb, 0), "type"), "group",
	    "and the type");
	cJSON_Delete(root);
	buf_free(&b);
}

static void
test_summary(const struct plan *p)
{
	struct plan empty = PLAN_INIT;
	struct buf b = BUF_INIT;

	plan_summary(p, &b);
	is_str(buf_str(&b), "users: 1 to create, 2 to update, 1 to deactivate, "
	    "0 to delete; groups: 1 to create, 1 to update, 1 to delete; 1 held "
	    "back", "the summary counts every kind of operation and the held");
	buf_reset(&b);
	plan_summary(&empty, &b);
	is_str(buf_str(&b), "users: 0 to create, 0 to update, 0 to deactivate, "
	    "0 to delete; groups: 0 to create, 0 to update, 0 to delete",
	    "an empty plan's summary has no held part");
	buf_reset(&b);
	plan_print_text(&empty, &b);
	is_str(buf_str(&b), "", "an empty plan prints no text");
	buf_free(&b);
	is_str(plan_op_name(OP_USER_DEACTIVATE), "deactivate user",
	    "operations have names for people");
}

/* The same world with group_rename: recreate. */
static void
test_recreate(void)
{
	struct config *cfg = fx_config(FX_LDAP
	    "users:\n"
	    "  filter: (objectClass=inetOrgPerson)\n"
	    "  map:\n"
	    "    userName: \"{uid}\"\n"
	    "groups:\n"
	    "  filter: (objectClass=groupOfNames)\n" FX_SCIM
	    "  group_rename: recreate\n" FX_SYNC);
	struct buf b = BUF_INIT;
	struct world w;
	cJSON *root = NULL, *op;

	if (world_build(&w, cfg) != L2S_OK) {
		ok(0, "the plan is built");
		goto done;
	}
	plan_print_text(&w.plan, &b);
	like(buf_str(&b), "~ recreate group 'Engineers' as 'Engineering' "
	    "(cn=Engineering,ou=groups,dc=example,dc=com)\n"
	    "      (created anew with its 2 members, then the old group is "
	    "deleted)\n"
	    "      + member 'newbie'\n"
	    "      - member 'gone'\n",
	    "a recreate says so, with the old and the new name and what it does");
	ok(strstr(buf_str(&b), "displayName: 'Engineers'") == NULL,
	    "it shows no displayName change (nothing is renamed)");
	buf_reset(&b);
	plan_summary(&w.plan, &b);
	like(buf_str(&b), "groups: 1 to create, 1 to update, 1 to delete; 1 of "
	    "the group updates recreates a group under its new name; 1 held",
	    "the summary says how many updates are recreates");
	buf_reset(&b);
	plan_print_json(&w.plan, &b);
	root = cJSON_Parse(buf_str(&b));
	op = NULL;
	if (root != NULL) {
		cJSON *it;

		cJSON_ArrayForEach(it, cJSON_GetObjectItem(root, "operations"))
			if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring,
			    "g-eng") == 0)
				op = it;
	}
	ok(op != NULL && strcmp(cJSON_GetObjectItem(op, "op")->valuestring,
	    "recreate") == 0, "the JSON plan's op is \"recreate\"");
	ok(op != NULL && cJSON_IsString(cJSON_GetObjectItem(op, "old_name")) &&
	    strcmp(cJSON_GetObjectItem(op, "old_name")->valuestring,
	    "Engineers") == 0 && strcmp(cJSON_GetObjectItem(op,
	    "name")->valuestring, "Engineering") == 0,
	    "with the old name beside the new one");
done:
	cJSON_Delete(root);
	buf_free(&b);
	world_free(&w);
	config_free(cfg);
}

int
main(void)
{
	struct config *cfg = fx_config(FX_LDAP
	    "users:\n"
	    "  filter: (objectClass=inetOrgPerson)\n"
	    "  map:\n"
	    "    userName: \"{uid}\"\n"
	    "groups:\n"
	    "  filter: (objectClass=groupOfNames)\n" FX_SCIM FX_SYNC);
	struct world w;

	if (world_build(&w, cfg) == L2S_OK) {
		test_text(&w.plan);
		test_json(&w.plan);
		test_summary(&w.plan);
	} else {
		ok(0, "the plan is built");
	}
	world_free(&w);
	config_free(cfg);
	test_json_deactivate_without_active();
	test_text_control_characters();
	test_notes();
	test_recreate();
	return tap_done();
}
