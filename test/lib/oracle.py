"""oracle.py - the parts the comparison oracles share (scim_compare.py,
ad_compare.py): duplicates on the SCIM side, groups against the members the
directory gives them, and the report.  Written apart from the agent."""


def duplicate_problems(remote_users, remote_groups):
    """No two users with one userName (any case) or externalId, no two groups
    with one displayName or externalId."""
    problems = []
    for what, items, key in (("userName", remote_users, "userName"),
                             ("user externalId", remote_users, "externalId"),
                             ("group displayName", remote_groups, "displayName"),
                             ("group externalId", remote_groups, "externalId")):
        seen = set()
        for r in items:
            k = r.get(key)
            k = k.lower() if isinstance(k, str) and key == "userName" else k
            if k in seen:
                problems.append("duplicate %s %r" % (what, k))
            seen.add(k)
    return problems


def flatten(root_dn, members, user_key, groups_by_dn):
    """The user keys reachable from the group root_dn (normalised DN):
    members(dn) gives a group's normalised member DNs, user_key(dn) a user's
    key or None, groups_by_dn the groups nesting may go through; cycles end."""
    out, seen, todo = set(), {root_dn}, [root_dn]
    while todo:
        for n in members(todo.pop()):
            k = user_key(n)
            if k is not None:
                out.add(k)
            elif n in groups_by_dn and n not in seen:
                seen.add(n)
                todo.append(n)
    return out


def group_problems(want_groups, remote_groups, id_of, gone_ids, origin):
    """want_groups: (name, key, set of member user keys) per directory group;
    id_of: user key -> SCIM id; gone_ids: SCIM ids of users that left."""
    problems = []
    remote = {r.get("externalId"): r for r in remote_groups}
    for name, key, member_keys in want_groups:
        r = remote.get(key)
        if r is None:
            problems.append("group %s missing on the SCIM side" % name)
            continue
        if r.get("displayName") != name:
            problems.append("group %s: displayName is %r" % (name, r.get("displayName")))
        want = {id_of.get(k) for k in member_keys}
        got = [m.get("value") for m in (r.get("members") or [])]
        if len(got) != len(set(got)):
            problems.append("group %s: duplicate members" % name)
        if set(got) != want:
            problems.append("group %s: %d members, want %d (missing %s, extra %s)" % (
                name, len(set(got)), len(want), sorted(want - set(got), key=str)[:5],
                sorted(set(got) - want, key=str)[:5]))
        if set(got) & gone_ids:
            problems.append("group %s still holds a user that left the directory" % name)
    keys = {key for _, key, _ in want_groups}
    for r in remote_groups:
        if r.get("externalId") not in keys:
            problems.append("group %s left %s but is still on the SCIM side" % (
                r.get("displayName"), origin))
    return problems


def report(problems, nusers, ngroups):
    """Print the differences (at most 50) and a summary; the exit status."""
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print("... and %d more" % (len(problems) - 50))
    print("%d users, %d groups compared: %d differences" % (nusers, ngroups, len(problems)))
    return 1 if problems else 0
