/*
 * diff.c - from (directory read, state) to a plan, and the guard on it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compiler.h"
#include "diff.h"
#include "mapping.h"

static int
plan_push(struct plan *p, const struct op *op)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct op *ops = realloc(p->ops, cap * sizeof(*ops));

		if (ops == NULL)
			return -1;
		p->ops = ops;
		p->cap = cap;
	}
	p->ops[p->n++] = *op;
	p->count[op->kind]++;
	/* A recreate deletes the old group: a removal like any other. */
	if (op->kind == OP_USER_DEACTIVATE || op->kind == OP_USER_DELETE ||
	    op->kind == OP_GROUP_DELETE || op->recreate)
		p->removals++;
	return 0;
}

static const char *
op_name_of(const struct op *op)
{
	const struct record *r = op->want != NULL ? op->want : op->have;

	return r->name != NULL ? r->name : r->key;
}

static int
op_cmp_name(const void *a, const void *b)
{
	const struct op *x = a, *y = b;
	int c = strcmp(op_name_of(x), op_name_of(y));

	if (c != 0)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp((x->want ? x->want : x->have)->key,
	    (y->want ? y->want : y->have)->key);
}

/* Member deltas between two sorted key lists. */
static int
member_delta(struct op *op, const struct record *want, const struct record *have)
{
	size_t i = 0, j = 0;
	size_t nw = want->nmembers, nh = have != NULL ? have->nmembers : 0;

	op->add = calloc(nw + 1, sizeof(*op->add));
	op->del = calloc(nh + 1, sizeof(*op->del));
	if (op->add == NULL || op->del == NULL)
		return -1;
	while (i < nw || j < nh) {
		/* Member keys are the pool's: equal keys are one pointer. */
		int c = i == nw ? 1 : j == nh ? -1 :
		    want->members[i] == have->members[j] ? 0 :
		    strcmp(want->members[i], have->members[j]);

		if (c < 0)
			op->add[op->nadd++] = want->members[i++];
		else if (c > 0)
			op->del[op->ndel++] = have->members[j++];
		else
			i++, j++;
	}
	return 0;
}

/* How many creates in this cycle stand above r in the management chain. */
static size_t
manager_depth(const struct record *r, const struct hmap *want_users,
    const struct hmap *have_users, size_t limit)
{
	size_t depth = 0;
	const char *mk;

	while (depth < limit &&
	    (mk = attrs_get(&r->attrs, SCIM_MANAGER_PATH)) != NULL &&
	    hmap_get(have_users, mk) == NULL &&
	    (r = hmap_get(want_users, mk)) != NULL)
		depth++;
	return depth;
}

struct ranked {
	struct op op;
	size_t rank;
};

static int
ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return op_cmp_name(&x->op, &y->op);
}

/* A record read and the state's record of the same object (or NULL). */
struct pair {
	const struct record *w, *h;
};

/*
 * Comparing a user's attributes with the state's waits for memory four
 * times over (each record, its attributes, their values), a hundred
 * thousand records apart from the last.  Before pair i is compared, ask
 * for the records of pair i + 2 * AHEAD, the attributes of pair i + AHEAD
 * (whose records have arrived by then) and the values of pair
 * i + AHEAD / 2: the waits overlap.
 */
#define AHEAD 8

static void
user_ahead(const struct pair *p, size_t n, size_t i)
{
	if (i + 2 * AHEAD < n) {
		L2S_PREFETCH(p[i + 2 * AHEAD].w);
		L2S_PREFETCH(p[i + 2 * AHEAD].h);
	}
	if (i + AHEAD < n) {
		attrs_prefetch(&p[i + AHEAD].w->attrs);
		if (p[i + AHEAD].h != NULL)
			attrs_prefetch(&p[i + AHEAD].h->attrs);
	}
	if (i + AHEAD / 2 < n) {
		attrs_prefetch_values(&p[i + AHEAD / 2].w->attrs);
		if (p[i + AHEAD / 2].h != NULL)
			attrs_prefetch_values(&p[i + AHEAD / 2].h->attrs);
	}
}

void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->ops[i].add);
		free(p->ops[i].del);
	}
	free(p->ops);
	memset(p, 0, sizeof(*p));
}

int
diff_build(struct plan *out, const struct readset *want,
    const struct hmap *have_users, const struct hmap *have_groups,
    const struct config *cfg, struct err *err)
{
	struct ranked *creates = NULL;
	struct pair *pairs = NULL;
	struct op *rest = NULL, op;
	size_t ncreates = 0, nrest = 0, npairs = 0, cap, i, pos;
	const char *key;
	void *v, *hv;
	int rc = L2S_ENOMEM;

	memset(out, 0, sizeof(*out));
	out->want_users = &want->users;
	out->have_users = have_users;
	cap = want->users.len + want->groups.len + have_users->len +
	    have_groups->len + 1;
	creates = calloc(want->users.len + 1, sizeof(*creates));
	rest = calloc(cap, sizeof(*rest));
	if (creates == NULL || rest == NULL)
		goto done;

	/* Users present in LDAP: paired with the state's first, then
	 * compared with the memory asked for ahead (user_ahead()). */
	pairs = malloc((want->users.len + 1) * sizeof(*pairs));
	if (pairs == NULL)
		goto done;
	pos = 0;
	while (hmap_next_join(&want->users, have_users, &pos, &key, &v, &hv)) {
		pairs[npairs].w = v;
		pairs[npairs++].h = hv;
	}
	for (i = 0; i < npairs; i++) {
		const struct record *w = pairs[i].w, *h = pairs[i].h;

		user_ahead(pairs, npairs, i);
		if (w->held != NULL) {
			out->held++;
			continue;
		}
		memset(&op, 0, sizeof(op));
		op.want = w;
		op.have = h;
		if (h == NULL) {
			op.kind = OP_USER_CREATE;
			creates[ncreates].op = op;
			creates[ncreates++].rank = manager_depth(w, &want->users,
			    have_users, want->users.len);
		} else if (h->removed || !attrs_equal(&w->attrs, &h->attrs)) {
			op.kind = OP_USER_UPDATE;
			rest[nrest++] = op;
		}
	}
	/* Users that left LDAP. */
	pos = 0;
	while (hmap_next_join(have_users, &want->users, &pos, &key, &v,
	    &hv)) {
		const struct record *h = v;

		if (hv != NULL)
			continue;
		if (h->removed && cfg->sync.removal == REMOVAL_DEACTIVATE)
			continue;
		memset(&op, 0, sizeof(op));
		op.have = h;
		op.kind = cfg->sync.removal == REMOVAL_DELETE ? OP_USER_DELETE :
		    OP_USER_DEACTIVATE;
		rest[nrest++] = op;
	}
	/* Groups; untouched altogether when the config has no groups. */
	if (cfg->groups.enabled) {
		pos = 0;
		while (hmap_next_join(&want->groups, have_groups, &pos, &key,
		    &v, &hv)) {
			const struct record *w = v, *h = hv;

			if (w->held != NULL) {
				out->held++;
				continue;
			}
			memset(&op, 0, sizeof(op));
			op.want = w;
			op.have = h;
			op.kind = h == NULL ? OP_GROUP_CREATE : OP_GROUP_UPDATE;
			if (member_delta(&op, w, h) != 0) {
				free(op.add);
				free(op.del);
				goto done;
			}
			if (h != NULL)
				op.rename = strcmp(w->name, h->name) != 0;
			/* Services that cannot rename hold names without case:
			 * a change of case alone would meet the old group. */
			if (op.rename && cfg->scim.group_rename ==
			    RENAME_RECREATE && strcasecmp(w->name, h->name) == 0)
				op.rename = 0;
			op.recreate = op.rename &&
			    cfg->scim.group_rename == RENAME_RECREATE;
			if (h != NULL && !op.rename && op.nadd == 0 &&
			    op.ndel == 0) {
				free(op.add);
				free(op.del);
				continue;
			}
			rest[nrest++] = op;
		}
		pos = 0;
		while (hmap_next_join(have_groups, &want->groups, &pos, &key,
		    &v, &hv)) {
			if (hv != NULL)
				continue;
			memset(&op, 0, sizeof(op));
			op.have = v;
			op.kind = OP_GROUP_DELETE;
			rest[nrest++] = op;
		}
	}

	/* Order: user creates (managers first), user updates, group creates,
	 * group updates, user removals, group deletions; by name within. */
	qsort(creates, ncreates, sizeof(*creates), ranked_cmp);
	qsort(rest, nrest, sizeof(*rest), op_cmp_name);
	for (i = 0; i < ncreates; i++)
		if (plan_push(out, &creates[i].op) != 0)
			goto done;
	{
		static const enum op_kind order[] = {
			OP_USER_UPDATE, OP_GROUP_CREATE, OP_GROUP_UPDATE,
			OP_USER_DEACTIVATE, OP_USER_DELETE, OP_GROUP_DELETE
		};
		size_t k;

		for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
			for (i = 0; i < nrest; i++) {
				if (rest[i].kind != order[k])
					continue;
				if (plan_push(out, &rest[i]) != 0)
					goto done;
				rest[i].add = rest[i].del = NULL;
			}
	}
	rc = L2S_OK;
done:
	if (rest != NULL)
		for (i = 0; i < nrest; i++) {
			free(rest[i].add);
			free(rest[i].del);
		}
	free(rest);
	free(creates);
	free(pairs);
	if (rc != L2S_OK) {
		plan_free(out);
		return err_set(err, rc, "out of memory");
	}
	return L2S_OK;
}

static size_t
count_active(const struct hmap *users)
{
	size_t pos = 0, n = 0;
	void *v;

	while (hmap_next(users, &pos, NULL, &v))
		if (!((const struct record *)v)->removed)
			n++;
	return n;
}

/* sync.max_removals for base objects: a count, or a percentage rounded
 * up (5% of 10 objects allows 1, not 0). */
static size_t
removal_limit(const struct config *cfg, size_t base)
{
	if (!cfg->sync.max_removals_is_percent)
		return (size_t)cfg->sync.max_removals;
	return (base * (size_t)cfg->sync.max_removals + 99) / 100;
}

/*
 * Memberships taken away count too: a member attribute that stopped being
 * readable (an ACL, a typo in groups.member_attribute) empties groups
 * without removing a single object.  The same limit applies to the member
 * removals, against the memberships the state holds.
 */
static int
guard_members(const struct plan *p, const struct readset *want,
    const struct hmap *have_groups, const struct config *cfg,
    struct err *err)
{
	size_t pos = 0, base = 0, removed = 0, limit, i, k;
	const char *worst = NULL;
	size_t worst_n = 0;
	void *v;

	/* Only members who stay in the directory: a user who leaves leaves
	 * its groups, and is counted as a removal already. */
	for (i = 0; i < p->n; i++) {
		const struct op *op = &p->ops[i];
		size_t n = 0;

		if (op->kind != OP_GROUP_UPDATE)
			continue;
		for (k = 0; k < op->ndel; k++)
			if (hmap_get(&want->users, op->del[k]) != NULL)
				n++;
		removed += n;
		if (n > worst_n) {
			worst_n = n;
			worst = op_name_of(op);
		}
	}
	if (removed == 0)
		return L2S_OK;
	while (hmap_next(have_groups, &pos, NULL, &v))
		base += ((const struct record *)v)->nmembers;
	limit = removal_limit(cfg, base);
	if (removed <= limit)
		return L2S_OK;
	return err_set(err, L2S_EUNSAFE, "refusing to take %zu memberships "
	    "away from users who stay, over the limit of %zu (sync.max_removals "
	    "of %zu memberships synced); the most from group '%s' (%zu); run "
	    "with --force if this is intended", removed, limit, base, worst,
	    worst_n);
}

int
guard_check(const struct plan *p, const struct readset *want,
    const struct hmap *have_users, const struct hmap *have_groups,
    const struct config *cfg, int force, struct err *err)
{
	size_t active = count_active(have_users), base, limit, i, shown = 0;
	struct buf b = BUF_INIT;
	int rc;

	if (!want->complete)
		return err_set(err, L2S_EUNSAFE, "the directory read was "
		    "incomplete: refusing to change anything");
	if (want->users.len == 0 && active > 0)
		return err_set(err, L2S_EUNSAFE, "the users search returned no "
		    "entries but %zu users were synced before: refusing to remove "
		    "them (check users.base_dn and users.filter)", active);
	if (cfg->groups.enabled && want->groups.len == 0 && have_groups->len > 0)
		return err_set(err, L2S_EUNSAFE, "the groups search returned no "
		    "entries but %zu groups were synced before: refusing to delete "
		    "them (check groups.base_dn and groups.filter)",
		    have_groups->len);
	if (force)
		return L2S_OK;
	base = active + (cfg->groups.enabled ? have_groups->len : 0);
	limit = removal_limit(cfg, base);
	if (p->removals <= limit)
		return guard_members(p, want, have_groups, cfg, err);
	for (i = 0; i < p->n && shown < 5; i++) {
		const struct op *op = &p->ops[i];

		if (op->kind != OP_USER_DEACTIVATE && op->kind != OP_USER_DELETE &&
		    op->kind != OP_GROUP_DELETE && !op->recreate)
			continue;
		buf_printf(&b, "%s%s '%s'", shown ? ", " : "",
		    op->recreate ? "recreate group" : plan_op_name(op->kind),
		    op->recreate ? op->have->name : op_name_of(op));
		shown++;
	}
	if (p->removals > shown)
		buf_printf(&b, " and %zu more", p->removals - shown);
	if (cfg->sync.max_removals_is_percent)
		rc = err_set(err, L2S_EUNSAFE, "refusing %zu removals, over the "
		    "limit of %zu (sync.max_removals %d%% of %zu synced objects): "
		    "%s; run with --force if this is intended", p->removals, limit,
		    cfg->sync.max_removals, base, buf_str(&b));
	else
		rc = err_set(err, L2S_EUNSAFE, "refusing %zu removals, over the "
		    "limit of %zu (sync.max_removals): %s; run with --force if this "
		    "is intended", p->removals, limit, buf_str(&b));
	buf_free(&b);
	return rc;
}
