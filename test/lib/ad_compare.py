#!/usr/bin/env python3
"""ad_compare.py - does the SCIM server hold exactly what Active Directory says?

The oracle of test/integration/ad_test.sh, written apart from the agent: it
reads the directory as ldapsearch printed it (LDIF, binary values base64) and
the SCIM server's dump (JSON), computes what the SCIM side must hold under the
AD test mapping, and prints every difference.  Exit status 0 when equal.

The AD test mapping (ad_test.sh writes the same one):
  externalId = objectGUID in its registry form (little-endian first fields)
  userName={userPrincipalName} displayName={displayName}
  name.givenName={givenName} name.familyName={sn}
  emails work={mail}, emails other={proxyAddresses|smtp_primary|lower}
  userType={objectSid} (S-1-5-21-...)
  enterprise manager={manager} (-> the manager's SCIM id)
  active = not ACCOUNTDISABLE (userAccountControl & 2) and not expired
           (accountExpires neither 0 nor 2^63-1, and not after NOW)
Groups: displayName={cn}; members = users of the users LDIF reached through
member, nested groups of the groups LDIF followed (cycles included).

usage: ad_compare.py USERS.ldif GROUPS.ldif DUMP.json NOW-FILETIME
"""
import base64
import json
import struct
import sys
import uuid

import oracle

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
NEVER = (0, 2**63 - 1)


def parse_ldif(path):
    """Entries as {lower attr: [bytes, ...]}, "dn" included."""
    entries, cur = [], None
    unfolded = []
    for line in open(path, "rb").read().split(b"\n"):
        if line.startswith(b" ") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    for line in unfolded + [b""]:
        if line.startswith(b"#"):
            continue
        if line == b"":
            if cur:
                entries.append(cur)
            cur = None
            continue
        name, _, rest = line.partition(b":")
        if rest.startswith(b":"):
            val = base64.b64decode(rest[1:].strip())
        else:
            val = rest[1:] if rest.startswith(b" ") else rest
        cur = cur if cur is not None else {}
        cur.setdefault(name.decode().lower(), []).append(val)
    return entries


def first(e, a):
    v = e.get(a.lower())
    return v[0] if v and v[0] != b"" else None


def text(e, a):
    v = first(e, a)
    return v.decode("utf-8") if v is not None else None


def guid(e):
    return str(uuid.UUID(bytes_le=bytes(first(e, "objectGUID"))))


def sid(e):
    b = first(e, "objectSid")
    n = b[1]
    auth = int.from_bytes(b[2:8], "big")
    subs = struct.unpack("<%dI" % n, b[8:8 + 4 * n])
    return "S-1-%d" % auth + "".join("-%d" % s for s in subs)


def norm_dn(dn):
    return ",".join(p.strip().lower() for p in dn.split(","))


def smtp_primary(e):
    for v in e.get("proxyaddresses", []):
        v = v.decode("utf-8")
        if v.startswith("SMTP:") and len(v) > 5:
            return v[5:].lower()
    return None


def active(e, now):
    uac = int(text(e, "userAccountControl") or "0")
    exp = int(text(e, "accountExpires") or "0")
    return not (uac & 2) and (exp in NEVER or exp > now)


def main():
    users = parse_ldif(sys.argv[1])
    groups = parse_ldif(sys.argv[2])
    dump = json.load(open(sys.argv[3], encoding="utf-8"))
    now = int(sys.argv[4])
    problems = []

    remote_users = dump.get("Users", [])
    remote_groups = dump.get("Groups", [])
    problems += oracle.duplicate_problems(remote_users, remote_groups)

    by_dn = {norm_dn(text(u, "dn")): u for u in users}
    remote_by_ext = {r.get("externalId"): r for r in remote_users}
    id_of = {guid(u): remote_by_ext[guid(u)]["id"]
             for u in users if guid(u) in remote_by_ext}

    for u in users:
        g = guid(u)
        r = remote_by_ext.get(g)
        upn = text(u, "userPrincipalName")
        if r is None:
            problems.append("user %s (%s) missing on the SCIM side" % (upn, text(u, "dn")))
            continue
        for k, v in (("userName", upn), ("displayName", text(u, "displayName")),
                     ("userType", sid(u))):
            if r.get(k) != v:
                problems.append("user %s: %s is %r, want %r" % (upn, k, r.get(k), v))
        name = r.get("name") or {}
        for k, a in (("givenName", "givenName"), ("familyName", "sn")):
            if name.get(k) != text(u, a):
                problems.append("user %s: name.%s is %r, want %r" % (upn, k, name.get(k), text(u, a)))
        for typ, want in (("work", text(u, "mail")), ("other", smtp_primary(u))):
            got = [e.get("value") for e in (r.get("emails") or []) if e.get("type") == typ]
            if got != ([want] if want is not None else []):
                problems.append("user %s: %s email is %r, want %r" % (upn, typ, got, want))
        mgr = text(u, "manager")
        want_mgr = None
        if mgr is not None and norm_dn(mgr) in by_dn:
            want_mgr = id_of.get(guid(by_dn[norm_dn(mgr)]))
        got_mgr = ((r.get(ENT) or {}).get("manager") or {}).get("value")
        if got_mgr != want_mgr:
            problems.append("user %s: manager is %r, want %r" % (upn, got_mgr, want_mgr))
        if bool(r.get("active")) != active(u, now):
            problems.append("user %s: active is %r, want %r" % (upn, r.get("active"), active(u, now)))

    ldap_guids = {guid(u) for u in users}
    gone = set()
    for r in remote_users:
        if r.get("externalId") not in ldap_guids:
            gone.add(r["id"])
            if r.get("active") is not False:
                problems.append("user %s left the searched OU but is still active" % r.get("userName"))

    gby_dn = {norm_dn(text(g, "dn")): g for g in groups}

    def members(dn):
        return [norm_dn(m.decode("utf-8")) for m in gby_dn[dn].get("member", [])]

    def user_key(dn):
        return guid(by_dn[dn]) if dn in by_dn else None

    want_groups = [(text(g, "cn"), guid(g),
                    oracle.flatten(norm_dn(text(g, "dn")), members, user_key, gby_dn))
                   for g in groups]
    problems += oracle.group_problems(want_groups, remote_groups, id_of, gone, "AD")
    return oracle.report(problems, len(users), len(groups))


if __name__ == "__main__":
    sys.exit(main())
