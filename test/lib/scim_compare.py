#!/usr/bin/env python3
"""scim_compare.py - does the SCIM server hold exactly what the directory says?

An oracle written apart from the agent: it reads the directory with ldapsearch
output (LDIF, given as files) and the SCIM server's dump (JSON), computes what
the SCIM side must hold under the test mapping, and prints every difference.
Exit status 0 when equal, 1 otherwise.

The test mapping (test/integration/sync_test.sh writes the same one):
  userName={uid} displayName={cn} name.givenName={givenName}
  name.familyName={sn} emails[type eq "work"].value={mail} title={title}
  phoneNumbers[type eq "work"].value={telephoneNumber}
  enterprise employeeNumber={employeeNumber}, manager={manager} (-> SCIM id)
  active = not (pwdAccountLockedTime present); externalId = entryUUID
Groups: displayName={cn}, members = users reached through member, following
nested groups (flatten), users only.

usage: scim_compare.py USERS.ldif GROUPS.ldif DUMP.json
"""
import base64
import json
import sys

import oracle

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def parse_ldif(path):
    entries, cur, last = [], None, None
    lines = open(path, encoding="utf-8").read().split("\n")
    unfolded = []
    for line in lines:
        if line.startswith(" ") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    for line in unfolded:
        if line.startswith("#"):
            continue
        if line == "":
            if cur:
                entries.append(cur)
            cur = None
            continue
        if "::" in line and line.index("::") < line.index(":") + 1:
            name, val = line.split("::", 1)
            val = base64.b64decode(val.strip()).decode("utf-8", "replace")
        else:
            name, val = line.split(":", 1)
            val = val[1:] if val.startswith(" ") else val
        if cur is None:
            cur = {}
        cur.setdefault(name.lower(), []).append(val)
    if cur:
        entries.append(cur)
    return entries


def norm_dn(dn):
    return ",".join(p.strip().lower() for p in dn.split(","))


def first(e, a):
    v = e.get(a.lower())
    return v[0] if v and v[0] != "" else None


def main():
    users = parse_ldif(sys.argv[1])
    groups = parse_ldif(sys.argv[2])
    dump = json.load(open(sys.argv[3], encoding="utf-8"))
    problems = []

    by_dn = {norm_dn(first(u, "dn")): u for u in users}
    remote_users = dump.get("Users", [])
    remote_groups = dump.get("Groups", [])

    # No duplicates, ever.
    problems += oracle.duplicate_problems(remote_users, remote_groups)

    remote_by_ext = {r.get("externalId"): r for r in remote_users}
    id_of_uuid = {}
    for u in users:
        uuid = first(u, "entryUUID")
        r = remote_by_ext.get(uuid)
        if r is not None:
            id_of_uuid[uuid] = r["id"]

    for u in users:
        uuid = first(u, "entryUUID")
        r = remote_by_ext.get(uuid)
        if r is None:
            problems.append("user %s (%s) missing on the SCIM side" % (first(u, "uid"), first(u, "dn")))
            continue
        want = {
            "userName": first(u, "uid"),
            "displayName": first(u, "cn"),
            "title": first(u, "title"),
        }
        for k, v in want.items():
            if r.get(k) != v:
                problems.append("user %s: %s is %r, want %r" % (want["userName"], k, r.get(k), v))
        name = r.get("name") or {}
        for k, a in (("givenName", "givenName"), ("familyName", "sn")):
            if name.get(k) != first(u, a):
                problems.append("user %s: name.%s is %r, want %r" % (want["userName"], k, name.get(k), first(u, a)))
        for multi, a in (("emails", "mail"), ("phoneNumbers", "telephoneNumber")):
            vals = [e.get("value") for e in (r.get(multi) or []) if e.get("type") == "work"]
            w = [first(u, a)] if first(u, a) is not None else []
            if vals != w:
                problems.append("user %s: %s work is %r, want %r" % (want["userName"], multi, vals, w))
        ent = r.get(ENT) or {}
        if ent.get("employeeNumber") != first(u, "employeeNumber"):
            problems.append("user %s: employeeNumber is %r, want %r" % (want["userName"], ent.get("employeeNumber"), first(u, "employeeNumber")))
        mgr_dn = first(u, "manager")
        want_mgr = None
        if mgr_dn is not None and norm_dn(mgr_dn) in by_dn:
            want_mgr = id_of_uuid.get(first(by_dn[norm_dn(mgr_dn)], "entryUUID"))
        got_mgr = (ent.get("manager") or {}).get("value")
        if got_mgr != want_mgr:
            problems.append("user %s: manager is %r, want %r" % (want["userName"], got_mgr, want_mgr))
        want_active = first(u, "pwdAccountLockedTime") is None
        if bool(r.get("active")) != want_active:
            problems.append("user %s: active is %r, want %r" % (want["userName"], r.get("active"), want_active))

    ldap_uuids = {first(u, "entryUUID") for u in users}
    gone_ids = set()
    for r in remote_users:
        if r.get("externalId") not in ldap_uuids:
            gone_ids.add(r["id"])
            if r.get("active") is not False:
                problems.append("user %s left LDAP but is still active" % r.get("userName"))

    gby_dn = {norm_dn(first(g, "dn")): g for g in groups}

    def members(dn):
        return [norm_dn(m) for m in gby_dn[dn].get("member", [])]

    def user_key(dn):
        return first(by_dn[dn], "entryUUID") if dn in by_dn else None

    want_groups = [(first(g, "cn"), first(g, "entryUUID"),
                    oracle.flatten(norm_dn(first(g, "dn")), members, user_key, gby_dn))
                   for g in groups]
    problems += oracle.group_problems(want_groups, remote_groups, id_of_uuid, gone_ids, "LDAP")
    return oracle.report(problems, len(users), len(groups))


if __name__ == "__main__":
    sys.exit(main())
