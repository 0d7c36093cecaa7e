/*
 * test_diff.c - diff_build(): which operations a read and a state give, in
 * which order; guard_check(): when a plan is refused, with what message
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diff.h"
#include "fixtures.h"
#include "mapping.h"
#include "plan.h"
#include "record.h"
#include "tap.h"

#define ENT SCIM_ENTERPRISE_URN

#define USERS \
	"users:\n" \
	"  filter: (objectClass=inetOrgPerson)\n" \
	"  map:\n" \
	"    userName: \"{uid}\"\n"
#define GROUPS \
	"groups:\n" \
	"  filter: (objectClass=groupOfNames)\n"

static struct config *cfg_deact, *cfg_delete, *cfg_nogroups, *cfg_count2,
    *cfg_pct10, *cfg_recreate;

/* One read, one state, the plan between them. */
struct world {
	struct readset want;
	struct hmap have_users, have_groups;
	struct plan plan;
};

static void
world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	readset_init(&w->want);
	w->want.complete = 1;
}

static void
world_free(struct world *w)
{
	plan_free(&w->plan);
	readset_free(&w->want);
	hmap_free(&w->have_users, record_free_v);
	hmap_free(&w->have_groups, record_free_v);
}

static int
build(struct world *w, const struct config *cfg)
{
	struct err err = ERR_INIT;
	int rc;

	plan_free(&w->plan);
	rc = diff_build(&w->plan, &w->want, &w->have_users, &w->have_groups,
	    cfg, &err);
	if (rc != L2S_OK)
		printf("# diff_build: %s\n", err.msg);
	return rc;
}

static int
guard(struct world *w, const struct config *cfg, int force, struct err *err)
{
	return guard_check(&w->plan, &w->want, &w->have_users, &w->have_groups,
	    cfg, force, err);
}

static const struct record *
op_rec(const struct op *op)
{
	return op->want != NULL ? op->want : op->have;
}

/* The operation on key, or NULL. */
static const struct op *
find_op(const struct plan *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(op_rec(&p->ops[i])->key, key) == 0)
			return &p->ops[i];
	return NULL;
}

static void
show_plan(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		printf("#   %zu: %s '%s'\n", i, plan_op_name(p->ops[i].kind),
		    op_rec(&p->ops[i])->key);
}

/* Is the plan exactly one operation of kind on key? */
static int
only_op(const struct plan *p, enum op_kind kind, const char *key)
{
	int yes = p->n == 1 && p->ops[0].kind == kind &&
	    strcmp(op_rec(&p->ops[0])->key, key) == 0 && p->count[kind] == 1;

	if (!yes)
		show_plan(p);
	return yes;
}

static void
test_user_create_noop_update(void)
{
	struct world w;
	struct record *h, *r;

	world_init(&w);
	r = fx_put(&w.want.users, fx_user("u-new", "newbie"));
	if (build(&w, cfg_deact) == L2S_OK) {
		ok(only_op(&w.plan, OP_USER_CREATE, "u-new"),
		    "a user in the directory but not in the state is created");
		ok(w.plan.n == 1 && w.plan.ops[0].want == r &&
		    w.plan.ops[0].have == NULL,
		    "a create borrows the read record and has no state record");
		is_int(w.plan.removals, 0, "a create is not a removal");
	}
	world_free(&w);

	world_init(&w);
	r = fx_put(&w.want.users, fx_user("u-same", "same"));
	fx_set(r, "title", "Engineer");
	h = fx_put(&w.have_users, fx_state_user("u-same", "same"));
	fx_set(h, "title", "Engineer");
	if (build(&w, cfg_deact) == L2S_OK)
		is_int(w.plan.n, 0, "a user equal to what was last sent gives no "
		    "operation");
	fx_set(r, "title", "Manager");
	if (build(&w, cfg_deact) == L2S_OK) {
		ok(only_op(&w.plan, OP_USER_UPDATE, "u-same"),
		    "a user with a changed attribute is updated");
		ok(w.plan.n == 1 && w.plan.ops[0].want == r &&
		    w.plan.ops[0].have == h,
		    "an update carries both the read and the state record");
	}
	fx_set(r, "title", "Engineer");
	attrs_del(&r->attrs, "title");
	if (build(&w, cfg_deact) == L2S_OK)
		ok(only_op(&w.plan, OP_USER_UPDATE, "u-same"),
		    "a user whose attribute disappeared is updated");
	fx_set(r, "title", "Engineer");
	fx_set(r, "displayName", "Same Person");
	if (build(&w, cfg_deact) == L2S_OK)
		ok(only_op(&w.plan, OP_USER_UPDATE, "u-same"),
		    "a user with a new attribute is updated");
	attrs_del(&r->attrs, "displayName");
	h->removed = 1;
	if (build(&w, cfg_deact) == L2S_OK)
		ok(only_op(&w.plan, OP_USER_UPDATE, "u-same"),
		    "a removed user back in the directory is reactivated by an "
		    "update, even with equal attributes");
	world_free(&w);
}

/* Many users, every fifth of each kind: the comparison looks ahead along
 * the pairs (user_ahead()), and each user still gets its own verdict,
 * up to the last ones, where there is nothing ahead. */
static void
test_many_users(void)
{
	struct world w;
	struct record *r, *h;
	size_t i, want[OP_KINDS] = { 0 }, held = 0, wrong = 0;
	char key[16], name[16];

	world_init(&w);
	for (i = 0; i < 203; i++) {
		snprintf(key, sizeof(key), "u-%03zu", i);
		snprintf(name, sizeof(name), "user%03zu", i);
		r = fx_put(&w.want.users, fx_user(key, name));
		fx_set(r, "title", "Engineer");
		if (i % 5 == 0) {		/* new */
			want[OP_USER_CREATE]++;
			continue;
		}
		h = fx_put(&w.have_users, fx_state_user(key, name));
		fx_set(h, "title", i % 5 == 1 ? "Manager" : "Engineer");
		if (i % 5 == 1)
			want[OP_USER_UPDATE]++;
		if (i % 5 == 2) {		/* removed, back */
			h->removed = 1;
			want[OP_USER_UPDATE]++;
		}
		if (i % 5 == 3) {		/* held */
			r->held = strdup("held");
			held++;
		}
	}
	if (build(&w, cfg_deact) == L2S_OK) {
		for (i = 0; i < w.plan.n; i++) {
			const struct op *op = &w.plan.ops[i];
			int n = atoi(op_rec(op)->key + 2);

			if ((op->kind == OP_USER_CREATE && n % 5 != 0) ||
			    (op->kind == OP_USER_UPDATE && n % 5 != 1 &&
			    n % 5 != 2) || (op->kind != OP_USER_CREATE &&
			    op->kind != OP_USER_UPDATE))
				wrong++;
		}
		ok(wrong == 0 && w.plan.count[OP_USER_CREATE] ==
		    want[OP_USER_CREATE] && w.plan.count[OP_USER_UPDATE] ==
		    want[OP_USER_UPDATE] && w.plan.held == held,
		    "203 users: %zu creates, %zu updates, %zu held, the rest "
		    "unchanged, each on its own user (%zu wrong)",
		    want[OP_USER_CREATE], want[OP_USER_UPDATE], held, wrong);
	}
	world_free(&w);
}

static void
test_user_removal(void)
{
	struct world w;
	struct record *h;

	world_init(&w);
	fx_put(&w.want.users, fx_user("u-stay", "stay"));
	fx_put(&w.have_users, fx_state_user("u-stay", "stay"));
	h = fx_put(&w.have_users, fx_state_user("u-gone", "gone"));
	if (build(&w, cfg_deact) == L2S_OK) {
		ok(only_op(&w.plan, OP_USER_DEACTIVATE, "u-gone"),
		    "with removal: deactivate a user that left is deactivated");
		ok(w.plan.n == 1 && w.plan.ops[0].want == NULL &&
		    w.plan.ops[0].have == h, "a removal has only the state record");
		is_int(w.plan.removals, 1, "a deactivation counts as a removal");
	}
	if (build(&w, cfg_delete) == L2S_OK) {
		ok(only_op(&w.plan, OP_USER_DELETE, "u-gone"),
		    "with removal: delete a user that left is deleted");
		is_int(w.plan.removals, 1, "a deletion counts as a removal");
	}
	h->removed = 1;
	if (build(&w, cfg_deact) == L2S_OK) {
		is_int(w.plan.n, 0, "with removal: deactivate an already "
		    "deactivated user is left alone");
		is_int(w.plan.removals, 0, "an already deactivated user is not "
		    "counted as a removal");
	}
	if (build(&w, cfg_delete) == L2S_OK)
		ok(only_op(&w.plan, OP_USER_DELETE, "u-gone"),
		    "with removal: delete an already deactivated user is deleted");
	world_free(&w);
}

static void
test_held(void)
{
	static const char *const one[] = { "u-a" };
	struct world w;
	struct record *r;

	world_init(&w);
	r = fx_put(&w.want.users, fx_user("u-held-new", "x"));
	r->held = fx_strdup("userName 'x' is also used by 'uid=y'");
	r = fx_put(&w.want.users, fx_user("u-held-old", "y"));
	fx_set(r, "title", "Changed");
	r->held = fx_strdup("userName 'y' is also used by 'uid=x'");
	fx_put(&w.have_users, fx_state_user("u-held-old", "y"));
	r = fx_put(&w.want.groups, fx_group("g-held-new", "Dup", one, 1));
	r->held = fx_strdup("group name 'Dup' is also used by 'cn=dup'");
	r = fx_put(&w.want.groups, fx_group("g-held-old", "Dup2", NULL, 0));
	r->held = fx_strdup("group name 'Dup2' is also used by 'cn=dup2'");
	fx_put(&w.have_groups, fx_state_group("g-held-old", "Renamed", one, 1));
	if (build(&w, cfg_deact) == L2S_OK) {
		if (!ok(w.plan.n == 0, "held users and groups produce no "
		    "operation: no create, update, rename, member change or "
		    "removal"))
			show_plan(&w.plan);
		is_int(w.plan.held, 4, "held objects are counted in the plan");
		is_int(w.plan.removals, 0, "held objects are never removals");
	}
	if (build(&w, cfg_delete) == L2S_OK)
		ok(w.plan.n == 0, "a held user is not deleted with removal: delete");
	world_free(&w);
}

static void
test_groups(void)
{
	static const char *const abc[] = { "u-c", "u-a", "u-b" };
	static const char *const ab[] = { "u-a", "u-b" };
	struct world w;
	const struct op *op;

	world_init(&w);
	fx_put(&w.want.groups, fx_group("g-new", "New", abc, 3));
	fx_put(&w.want.groups, fx_group("g-ren", "Engineering", ab, 2));
	fx_put(&w.have_groups, fx_state_group("g-ren", "Engineers", ab, 2));
	fx_put(&w.want.groups, fx_group("g-same", "Same", ab, 2));
	fx_put(&w.have_groups, fx_state_group("g-same", "Same", ab, 2));
	fx_put(&w.have_groups, fx_state_group("g-gone", "Gone", ab, 2));
	if (build(&w, cfg_deact) != L2S_OK)
		goto done;
	is_int(w.plan.n, 3, "three groups need an operation");
	op = find_op(&w.plan, "g-new");
	ok(op != NULL && op->kind == OP_GROUP_CREATE,
	    "a group in the directory but not in the state is created");
	ok(op != NULL && op->nadd == 3 && op->ndel == 0 &&
	    strcmp(op->add[0], "u-a") == 0 && strcmp(op->add[1], "u-b") == 0 &&
	    strcmp(op->add[2], "u-c") == 0,
	    "a created group adds all its members, sorted");
	op = find_op(&w.plan, "g-ren");
	ok(op != NULL && op->kind == OP_GROUP_UPDATE && op->rename == 1,
	    "a group with another name is renamed");
	ok(op != NULL && op->nadd == 0 && op->ndel == 0,
	    "a renamed group with the same members has no member change");
	ok(find_op(&w.plan, "g-same") == NULL,
	    "a group with the same name and members gives no operation");
	op = find_op(&w.plan, "g-gone");
	ok(op != NULL && op->kind == OP_GROUP_DELETE && op->want == NULL,
	    "a group that left the directory is deleted");
	is_int(w.plan.removals, 1, "a group deletion counts as a removal");

	if (build(&w, cfg_nogroups) == L2S_OK)
		is_int(w.plan.n, 0, "groups are left untouched when the config "
		    "has no groups");
done:
	world_free(&w);
}


static void
test_group_recreate(void)
{
	static const char *const abc[] = { "u-a", "u-b", "u-c" };
	static const char *const ab[] = { "u-a", "u-b" };
	struct world w;
	const struct op *op;

	world_init(&w);
	fx_put(&w.want.groups, fx_group("g-ren", "Platform", abc, 3));
	fx_put(&w.have_groups, fx_state_group("g-ren", "Infra", ab, 2));
	fx_put(&w.want.groups, fx_group("g-mem", "Same", abc, 3));
	fx_put(&w.have_groups, fx_state_group("g-mem", "Same", ab, 2));
	if (build(&w, cfg_recreate) != L2S_OK)
		goto done;
	op = find_op(&w.plan, "g-ren");
	ok(op != NULL && op->kind == OP_GROUP_UPDATE && op->rename &&
	    op->recreate, "with group_rename recreate a renamed group is "
	    "planned as a recreate");
	ok(op != NULL && op->nadd == 1 && op->ndel == 0,
	    "it still carries its member delta (for the guard and the plan)");
	is_int(w.plan.count[OP_GROUP_UPDATE], 2, "a recreate counts as a group "
	    "update");
	is_int(w.plan.removals, 1, "and as a removal: the old group is "
	    "deleted, so sync.max_removals counts it");
	op = find_op(&w.plan, "g-mem");
	ok(op != NULL && !op->rename && !op->recreate,
	    "a group whose name stays is not recreated");
	if (build(&w, cfg_deact) == L2S_OK) {
		op = find_op(&w.plan, "g-ren");
		ok(op != NULL && op->rename && !op->recreate,
		    "with group_rename patch (the default) it is renamed");
	}
	world_free(&w);
	world_init(&w);
	fx_put(&w.want.groups, fx_group("g-case", "PLATFORM", ab, 2));
	fx_put(&w.have_groups, fx_state_group("g-case", "Platform", ab, 2));
	if (build(&w, cfg_recreate) != L2S_OK)
		goto done;
	ok(find_op(&w.plan, "g-case") == NULL && w.plan.removals == 0,
	    "with recreate a change of case alone is no recreate (the service "
	    "holds names without case)");
	if (build(&w, cfg_deact) == L2S_OK) {
		op = find_op(&w.plan, "g-case");
		ok(op != NULL && op->rename, "with patch it is a rename");
	}
done:
	world_free(&w);
}

static void
test_member_delta(void)
{
	enum { N = 800 };
	static char names[N + 1][8];
	const char *have[N], *want[N];
	struct world w;
	const struct op *op;
	size_t i;

	for (i = 0; i <= N; i++)
		snprintf(names[i], sizeof(names[i]), "m%03zu", i);
	for (i = 0; i < N; i++) {
		have[i] = names[i];		/* m000 .. m799 */
		want[i] = names[i + 1];		/* m001 .. m800 */
	}
	world_init(&w);
	fx_put(&w.want.groups, fx_group("g-big", "Everyone", want, N));
	fx_put(&w.have_groups, fx_state_group("g-big", "Everyone", have, N));
	if (build(&w, cfg_deact) == L2S_OK) {
		op = find_op(&w.plan, "g-big");
		ok(op != NULL && op->kind == OP_GROUP_UPDATE && !op->rename,
		    "an 800-member group that gained and lost one is updated");
		is_int(op != NULL ? op->nadd : 0, 1,
		    "only the one new member is added");
		is_int(op != NULL ? op->ndel : 0, 1,
		    "only the one departed member is removed");
		is_str(op != NULL && op->nadd == 1 ? op->add[0] : NULL, "m800",
		    "the added member is the new one");
		is_str(op != NULL && op->ndel == 1 ? op->del[0] : NULL, "m000",
		    "the removed member is the departed one");
	}
	world_free(&w);
}

static void
test_order(void)
{
	static const char *const members[] = { "u-a-report" };
	static const enum op_kind want_kinds[] = {
		OP_USER_CREATE, OP_USER_CREATE, OP_USER_CREATE, OP_USER_CREATE,
		OP_USER_UPDATE, OP_GROUP_CREATE, OP_GROUP_UPDATE,
		OP_USER_DEACTIVATE, OP_GROUP_DELETE
	};
	static const char *const want_keys[] = {
		"u-c-top", "u-aa-other", "u-b-mid", "u-a-report", "u-upd",
		"g-new", "g-upd", "u-gone", "g-gone"
	};
	struct world w;
	struct record *r;
	size_t i, n = sizeof(want_keys) / sizeof(want_keys[0]);
	int same = 1;

	world_init(&w);
	/* A chain of three creates whose names sort against the chain. */
	r = fx_put(&w.want.users, fx_user("u-a-report", "a-report"));
	fx_set(r, ENT ":manager", "u-b-mid");
	r = fx_put(&w.want.users, fx_user("u-b-mid", "b-mid"));
	fx_set(r, ENT ":manager", "u-c-top");
	fx_put(&w.want.users, fx_user("u-c-top", "c-top"));
	/* A create whose manager exists already ranks with the top. */
	r = fx_put(&w.want.users, fx_user("u-aa-other", "d-other"));
	fx_set(r, ENT ":manager", "u-upd");
	r = fx_put(&w.want.users, fx_user("u-upd", "upd"));
	fx_set(r, "title", "New");
	fx_put(&w.have_users, fx_state_user("u-upd", "upd"));
	fx_put(&w.have_users, fx_state_user("u-gone", "gone"));
	fx_put(&w.want.groups, fx_group("g-new", "a-new", members, 1));
	fx_put(&w.want.groups, fx_group("g-upd", "b-upd", members, 1));
	fx_put(&w.have_groups, fx_state_group("g-upd", "b-upd", NULL, 0));
	fx_put(&w.have_groups, fx_state_group("g-gone", "0-gone", NULL, 0));
	if (build(&w, cfg_deact) != L2S_OK)
		goto done;
	if (w.plan.n != n)
		same = 0;
	for (i = 0; same && i < n; i++)
		if (w.plan.ops[i].kind != want_kinds[i] ||
		    strcmp(op_rec(&w.plan.ops[i])->key, want_keys[i]) != 0)
			same = 0;
	if (!ok(same, "creates come before updates, before group creates and "
	    "updates, before removals, before group deletions; managers are "
	    "created before their reports"))
		show_plan(&w.plan);
	is_int(w.plan.count[OP_USER_CREATE], 4, "four user creates are counted");
	is_int(w.plan.count[OP_GROUP_DELETE], 1, "one group deletion is counted");
	is_int(w.plan.removals, 2, "a deactivation and a group deletion are "
	    "two removals");
done:
	world_free(&w);
}

static void
refused(int rc, const struct err *err, const char *want, const char *name)
{
	is_int(rc, L2S_EUNSAFE, "%s (outcome)", name);
	is_str(err->msg, want, "%s", name);
}

static void
test_guard_doubt(void)
{
	struct world w;
	struct err err = ERR_INIT;

	world_init(&w);
	fx_put(&w.want.users, fx_user("u-a", "a"));
	fx_put(&w.have_users, fx_state_user("u-a", "a"));
	w.want.complete = 0;
	if (build(&w, cfg_deact) == L2S_OK) {
		refused(guard(&w, cfg_deact, 0, &err), &err, "the directory read "
		    "was incomplete: refusing to change anything",
		    "an incomplete read is refused");
		err = (struct err)ERR_INIT;
		refused(guard(&w, cfg_deact, 1, &err), &err, "the directory read "
		    "was incomplete: refusing to change anything",
		    "an incomplete read is refused even with --force");
	}
	w.want.complete = 1;
	err = (struct err)ERR_INIT;
	if (build(&w, cfg_deact) == L2S_OK)
		is_int(guard(&w, cfg_deact, 0, &err), L2S_OK,
		    "a complete read with nothing to remove passes");
	world_free(&w);

	world_init(&w);
	fx_put(&w.have_users, fx_state_user("u-a", "a"));
	fx_put(&w.have_users, fx_state_user("u-b", "b"));
	fx_put(&w.have_users, fx_state_user("u-c", "c"))->removed = 1;
	if (build(&w, cfg_deact) == L2S_OK) {
		refused(guard(&w, cfg_deact, 0, &err), &err, "the users search "
		    "returned no entries but 2 users were synced before: refusing "
		    "to remove them (check users.base_dn and users.filter)",
		    "an empty users read with a non-empty state is refused");
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_deact, 1, &err), L2S_EUNSAFE,
		    "an empty users read is refused even with --force");
	}
	world_free(&w);

	world_init(&w);
	fx_put(&w.want.users, fx_user("u-a", "a"));
	fx_put(&w.have_users, fx_state_user("u-a", "a"));
	fx_put(&w.have_groups, fx_state_group("g-a", "A", NULL, 0));
	if (build(&w, cfg_deact) == L2S_OK) {
		refused(guard(&w, cfg_deact, 0, &err), &err, "the groups search "
		    "returned no entries but 1 groups were synced before: refusing "
		    "to delete them (check groups.base_dn and groups.filter)",
		    "an empty groups read with a non-empty state is refused");
	}
	world_free(&w);
}

static void
test_guard_limits(void)
{
	struct world w;
	struct err err = ERR_INIT;
	char key[16], name[16];
	int i;

	/* Six users synced, three left: over a limit of 2. */
	world_init(&w);
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "u-%c", 'a' + i);
		snprintf(name, sizeof(name), "%c", 'a' + i);
		if (i < 3)
			fx_put(&w.want.users, fx_user(key, name));
		fx_put(&w.have_users, fx_state_user(key, name));
	}
	if (build(&w, cfg_count2) == L2S_OK) {
		refused(guard(&w, cfg_count2, 0, &err), &err, "refusing 3 "
		    "removals, over the limit of 2 (sync.max_removals): deactivate "
		    "user 'd', deactivate user 'e', deactivate user 'f'; run with "
		    "--force if this is intended",
		    "removals over a count limit are refused, naming the counts "
		    "and the objects");
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_count2, 1, &err), L2S_OK,
		    "--force lifts the count limit");
	}
	fx_put(&w.want.users, fx_user("u-d", "d"));
	if (build(&w, cfg_count2) == L2S_OK) {
		err = (struct err)ERR_INIT;
		is_int(w.plan.removals, 2, "two removals are planned");
		is_int(guard(&w, cfg_count2, 0, &err), L2S_OK,
		    "removals at the count limit pass");
	}
	world_free(&w);

	/* Twenty users synced, seven left: 10% of 20 is 2. */
	world_init(&w);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "u-%02d", i);
		snprintf(name, sizeof(name), "user%02d", i);
		if (i < 13)
			fx_put(&w.want.users, fx_user(key, name));
		fx_put(&w.have_users, fx_state_user(key, name));
	}
	if (build(&w, cfg_pct10) == L2S_OK) {
		err = (struct err)ERR_INIT;
		refused(guard(&w, cfg_pct10, 0, &err), &err, "refusing 7 removals, "
		    "over the limit of 2 (sync.max_removals 10% of 20 synced "
		    "objects): deactivate user 'user13', deactivate user 'user14', "
		    "deactivate user 'user15', deactivate user 'user16', "
		    "deactivate user 'user17' and 2 more; run with --force if this "
		    "is intended", "removals over a percentage limit are refused, "
		    "naming the counts and the first five objects");
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_pct10, 1, &err), L2S_OK,
		    "--force lifts the percentage limit");
		w.want.complete = 0;
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_pct10, 1, &err), L2S_EUNSAFE,
		    "--force never lifts the incomplete-read refusal");
	}
	world_free(&w);
}

/* Member removals count against the limit too; a percentage rounds up. */
static void
test_guard_members(void)
{
	struct world w;
	struct err err = ERR_INIT;
	const char *keys[20];
	char *buf[20];
	int i;

	for (i = 0; i < 20; i++) {
		char k[16];

		snprintf(k, sizeof(k), "u-%02d", i);
		keys[i] = buf[i] = fx_strdup(k);
	}
	world_init(&w);
	for (i = 0; i < 20; i++) {
		fx_put(&w.want.users, fx_user(keys[i], keys[i]));
		fx_put(&w.have_users, fx_state_user(keys[i], keys[i]));
	}
	fx_put(&w.have_groups, fx_state_group("g-all", "all", keys, 20));
	/* The member attribute became unreadable: the group reads empty. */
	fx_put(&w.want.groups, fx_group("g-all", "all", NULL, 0));
	if (build(&w, cfg_deact) == L2S_OK) {
		is_int(w.plan.removals, 0, "emptying a group removes no object");
		refused(guard(&w, cfg_deact, 0, &err), &err, "refusing to take "
		    "20 memberships away from users who stay, over the limit of "
		    "1 (sync.max_removals of 20 memberships synced); the most "
		    "from group 'all' (20); run with --force if this is intended",
		    "a group emptied at once is refused: member removals count "
		    "against sync.max_removals");
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_deact, 1, &err), L2S_OK,
		    "--force lifts the member limit");
	}
	world_free(&w);

	/* 5% of 20 memberships rounds up to 1: one member removal passes. */
	world_init(&w);
	for (i = 0; i < 20; i++) {
		fx_put(&w.want.users, fx_user(keys[i], keys[i]));
		fx_put(&w.have_users, fx_state_user(keys[i], keys[i]));
	}
	fx_put(&w.have_groups, fx_state_group("g-all", "all", keys, 20));
	fx_put(&w.want.groups, fx_group("g-all", "all", keys + 1, 19));
	if (build(&w, cfg_deact) == L2S_OK) {
		err = (struct err)ERR_INIT;
		is_int(guard(&w, cfg_deact, 0, &err), L2S_OK,
		    "one member removal of 20 passes 5%% (the limit rounds up)");
	}
	world_free(&w);
	for (i = 0; i < 20; i++)
		free(buf[i]);
}

int
main(void)
{
	cfg_deact = fx_config(FX_LDAP USERS GROUPS FX_SCIM FX_SYNC);
	cfg_delete = fx_config(FX_LDAP USERS GROUPS FX_SCIM FX_SYNC
	    "  removal: delete\n");
	cfg_nogroups = fx_config(FX_LDAP USERS FX_SCIM FX_SYNC);
	cfg_recreate = fx_config(FX_LDAP USERS GROUPS FX_SCIM
	    "  group_rename: recreate\n" FX_SYNC);
	cfg_count2 = fx_config(FX_LDAP USERS FX_SCIM FX_SYNC
	    "  max_removals: 2\n");
	cfg_pct10 = fx_config(FX_LDAP USERS FX_SCIM FX_SYNC
	    "  max_removals: 10%\n");
	ok(cfg_deact->groups.enabled && !cfg_nogroups->groups.enabled,
	    "the fixtures enable groups only where a groups section is given");
	is_int(cfg_delete->sync.removal, REMOVAL_DELETE,
	    "the delete fixture removes by deleting");
	ok(cfg_count2->sync.max_removals == 2 &&
	    !cfg_count2->sync.max_removals_is_percent &&
	    cfg_pct10->sync.max_removals == 10 &&
	    cfg_pct10->sync.max_removals_is_percent,
	    "the limit fixtures hold a count and a percentage");

	test_user_create_noop_update();
	test_many_users();
	test_user_removal();
	test_held();
	test_groups();
	test_group_recreate();
	test_member_delta();
	test_order();
	test_guard_doubt();
	test_guard_limits();
	test_guard_members();

	config_free(cfg_deact);
	config_free(cfg_delete);
	config_free(cfg_nogroups);
	config_free(cfg_count2);
	config_free(cfg_pct10);
	config_free(cfg_recreate);
	return tap_done();
}
