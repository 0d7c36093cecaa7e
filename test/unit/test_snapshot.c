/*
 * test_snapshot.c - the directory snapshot of incremental reads: entries
 * round-trip through the encoding and the state store, damaged bytes are
 * refused, and a user's rename or delete follows into its groups.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "snapshot.h"
#include "state.h"
#include "tap.h"

static const char *
attr_value(const struct entry *e, const char *name, size_t i)
{
	static char buf[256];
	size_t k;

	for (k = 0; k < e->nattrs; k++)
		if (strcmp(e->attrs[k].name, name) == 0 && i < e->attrs[k].nvals) {
			snprintf(buf, sizeof(buf), "%.*s",
			    (int)e->attrs[k].vals[i].len, e->attrs[k].vals[i].p);
			return buf;
		}
	return NULL;
}

static size_t
nvals(const struct entry *e, const char *name)
{
	size_t k;

	for (k = 0; k < e->nattrs; k++)
		if (strcmp(e->attrs[k].name, name) == 0)
			return e->attrs[k].nvals;
	return 0;
}

static void
test_roundtrip(void)
{
	struct snapshot s;
	struct fx_entry u, g;
	struct snap_view v = SNAP_VIEW_INIT;
	struct entry e;
	struct err err = ERR_INIT;
	const struct snap_obj *o;
	char bin[3] = { 'a', '\0', 'b' };
	char *members[2] = { "uid=ada,ou=people,dc=example,dc=com",
	    "uid=alan,ou=people,dc=example,dc=com" };

	snapshot_init(&s);
	fx_entry_init(&u, "uid=ada,ou=people,dc=example,dc=com");
	fx_add(&u, "uid", "ada");
	fx_add(&u, "mail", "ada@example.com");
	fx_add(&u, "mail", "lovelace@example.com");
	fx_addn(&u, "photo", bin, 3);
	is_int(snapshot_put(&s, "u:1", REC_USER, 1, &u.e, NULL, NULL, 0, &err),
	    L2S_OK, "a user entry is recorded");
	o = hmap_get(&s.objs, "u:1");
	ok(o != NULL && o->disabled && o->kind == REC_USER,
	    "with its kind and disabled flag");
	is_int(snapshot_entry(o, "member", &v, &e, &err), L2S_OK,
	    "and decodes again");
	is_str(e.dn, "uid=ada,ou=people,dc=example,dc=com", "the DN comes back");
	is_int(nvals(&e, "mail"), 2, "a multi-valued attribute keeps both values");
	is_str(attr_value(&e, "mail", 1), "lovelace@example.com",
	    "in their order");
	ok(nvals(&e, "photo") == 1 && e.attrs[2].vals[0].len == 3 &&
	    memcmp(e.attrs[2].vals[0].p, bin, 3) == 0,
	    "a binary value with a NUL byte comes back byte for byte");

	fx_entry_init(&g, "cn=staff,ou=groups,dc=example,dc=com");
	fx_add(&g, "cn", "staff");
	fx_add(&g, "member", "uid=stale,dc=example,dc=com");
	fx_add(&g, "member;range=0-1", "uid=stale2,dc=example,dc=com");
	is_int(snapshot_put(&s, "g:1", REC_GROUP, 0, &g.e, "member", members, 2,
	    &err), L2S_OK, "a group entry is recorded with its member list");
	o = hmap_get(&s.objs, "g:1");
	is_int(snapshot_entry(o, "member", &v, &e, &err), L2S_OK,
	    "and decodes again");
	is_int(nvals(&e, "member"), 2,
	    "the member attributes of the entry (ranges too) give way to the list");
	is_str(attr_value(&e, "member", 0), members[0], "first member");
	is_str(attr_value(&e, "cn", 0), "staff", "the other attributes stay");
	snapshot_view_free(&v);
	snapshot_free(&s);
}

static void
test_moves(void)
{
	struct snapshot s, delta;
	struct fx_entry u, u2, g, g2;
	struct snap_view v = SNAP_VIEW_INIT;
	struct entry e;
	struct err err = ERR_INIT;
	char **dns = NULL;
	size_t n = 0;
	char *members[2] = { "uid=ada,ou=people,dc=example,dc=com",
	    "uid=alan,ou=people,dc=example,dc=com" };
	char *other[1] = { "uid=grace,ou=people,dc=example,dc=com" };

	snapshot_init(&s);
	snapshot_init(&delta);
	fx_entry_init(&u, "uid=ada,ou=people,dc=example,dc=com");
	fx_add(&u, "uid", "ada");
	fx_entry_init(&g, "cn=staff,ou=groups,dc=example,dc=com");
	fx_add(&g, "cn", "staff");
	fx_entry_init(&g2, "cn=other,ou=groups,dc=example,dc=com");
	fx_add(&g2, "cn", "other");
	snapshot_put(&s, "u:1", REC_USER, 0, &u.e, NULL, NULL, 0, &err);
	snapshot_put(&s, "g:1", REC_GROUP, 0, &g.e, "member", members, 2, &err);
	snapshot_put(&s, "g:2", REC_GROUP, 0, &g2.e, "member", other, 1, &err);
	is_int(snapshot_listing(&s, &dns, &n), 0, "nothing moved: no listing");
	is_int((int)n, 0, "no group to read again");

	fx_entry_init(&u2, "UID=Ada2,ou=People,dc=example,dc=com");
	fx_add(&u2, "uid", "ada2");
	snapshot_put(&delta, "u:1", REC_USER, 0, &u2.e, NULL, NULL, 0, &err);
	is_int(snapshot_merge(&s, &delta, &err), L2S_OK, "a renamed user merges");
	is_int((int)delta.objs.len, 0, "the delta ends empty");
	snapshot_entry(hmap_get(&s.objs, "g:1"), "member", &v, &e, &err);
	is_str(attr_value(&e, "member", 0), members[0],
	    "its group's list is not guessed at");
	is_int(snapshot_listing(&s, &dns, &n), 0, "the listing is made");
	ok(n == 1 && strcmp(dns[0], "cn=staff,ou=groups,dc=example,dc=com") == 0,
	    "it names the group that lists the old DN, to be read again");
	while (n > 0)
		free(dns[--n]);
	free(dns);

	snapshot_put(&delta, "g:1", REC_GROUP, 0, &g.e, "member", members + 1, 1,
	    &err);
	snapshot_merge(&s, &delta, &err);
	is_int(snapshot_listing(&s, &dns, &n), 0, "a group read again");
	is_int((int)n, 0, "is not listed again in the same cycle");
	free(dns);

	is_int(snapshot_del(&s, "u:1"), 1, "a deleted user is forgotten");
	is_int(snapshot_del(&s, "u:1"), 0, "forgetting it twice is no error");
	ok(hmap_get(&s.moved, "uid=ada2,ou=people,dc=example,dc=com") != NULL,
	    "its DN is remembered as gone");
	is_int(snapshot_set_disabled(&s, "u:9", 1), 0,
	    "disabling an unknown user changes nothing");
	snapshot_view_free(&v);
	snapshot_free(&s);
	snapshot_free(&delta);
}

static void
test_damaged(void)
{
	struct snap_obj o;
	struct snap_view v = SNAP_VIEW_INIT;
	struct entry e;
	struct err err = ERR_INIT;
	unsigned char bad1[] = { 1, 0, 0, 0, 200, 0, 0, 0, 'x' };
	unsigned char bad2[] = { 1, 0, 0, 0, 2, 0, 0, 0, 'x', 'y', 0, 0, 0, 0 };
	unsigned char bad3[] = { 0, 0, 0, 0, 7 };

	memset(&o, 0, sizeof(o));
	o.kind = REC_USER;
	o.dn = "uid=x,dc=example,dc=com";
	o.entry = bad1;
	o.entry_len = sizeof(bad1);
	is_int(snapshot_entry(&o, "member", &v, &e, &err), L2S_EPARSE,
	    "a name longer than the bytes there are is refused");
	like(err.msg, "snapshot entry 'uid=x,dc=example,dc=com' is damaged",
	    "naming the entry");
	o.entry = bad2;
	o.entry_len = sizeof(bad2);
	is_int(snapshot_entry(&o, "member", &v, &e, &err), L2S_EPARSE,
	    "a name without its NUL is refused");
	o.entry = bad3;
	o.entry_len = sizeof(bad3);
	is_int(snapshot_entry(&o, "member", &v, &e, &err), L2S_EPARSE,
	    "bytes left over after the last attribute are refused");
	o.entry_len = 2;
	is_int(snapshot_entry(&o, "member", &v, &e, &err), L2S_EPARSE,
	    "a truncated count is refused");
	o.entry = bad3;
	o.entry_len = 4;
	o.kind = REC_GROUP;
	o.members = "uid=a,dc=x\0uid=b";
	o.members_len = 16;
	is_int(snapshot_entry(&o, "member", &v, &e, &err), L2S_EPARSE,
	    "a member list without its last NUL is refused");
	snapshot_view_free(&v);
}

static void
test_store(void)
{
	char path[] = "/tmp/l2s-snap-XXXXXX";
	struct snapshot s, back;
	struct state *st = NULL;
	struct fx_entry u;
	struct err err = ERR_INIT;
	char *members[1] = { "uid=ada,dc=example,dc=com" };
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	snapshot_init(&s);
	snapshot_init(&back);
	snapshot_reset(&s);
	fx_entry_init(&u, "uid=ada,dc=example,dc=com");
	fx_add(&u, "uid", "ada");
	snapshot_put(&s, "u:1", REC_USER, 1, &u.e, NULL, NULL, 0, &err);
	snapshot_put(&s, "g:1", REC_GROUP, 0, &u.e, "member", members, 1, &err);
	is_int(state_open(&st, path, 0, &err), L2S_OK, "a state file opens");
	is_int(snapshot_save(&s, st, &err), L2S_OK, "the snapshot is saved");
	is_int(snapshot_load(&back, st, &err), L2S_OK, "and loads again");
	is_int((int)back.objs.len, 2, "with both entries");
	ok(((struct snap_obj *)hmap_get(&back.objs, "u:1"))->disabled,
	    "the disabled flag survives");
	ok(((struct snap_obj *)hmap_get(&back.objs, "g:1"))->members_len ==
	    strlen(members[0]) + 1, "and the member list");
	snapshot_del(&s, "u:1");
	is_int(snapshot_save(&s, st, &err), L2S_OK, "a later save writes changes");
	snapshot_free(&back);
	snapshot_init(&back);
	snapshot_load(&back, st, &err);
	is_int((int)back.objs.len, 1, "the forgotten entry is gone from the file");
	is_int(state_clear(st, &err), L2S_OK, "state reset");
	snapshot_free(&back);
	snapshot_init(&back);
	snapshot_load(&back, st, &err);
	is_int((int)back.objs.len, 0, "clears the snapshot too");
	state_close(st);
	unlink(path);
	snapshot_free(&s);
	snapshot_free(&back);
}

static void
test_digest(void)
{
	char *a[3] = { "b", "a", "c" }, *b[3] = { "c", "b", "a" }, *c[2] = { "a", "b" };
	char da[17], db[17], dc[17];

	snapshot_disabled_digest(a, 3, da);
	snapshot_disabled_digest(b, 3, db);
	snapshot_disabled_digest(c, 2, dc);
	is_str(da, db, "the disabled digest does not depend on the order");
	ok(strcmp(da, dc) != 0, "and changes when a user leaves the set");
}

int
main(void)
{
	test_roundtrip();
	test_moves();
	test_damaged();
	test_store();
	test_digest();
	return tap_done();
}
