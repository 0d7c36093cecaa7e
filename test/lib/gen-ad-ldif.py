#!/usr/bin/env python3
"""gen-ad-ldif.py - the Active Directory test directory as LDIF (stdout).

Written for the Samba AD DC lab (test/lib/samba-ad.sh), loaded with
ldapmodify -a as the Administrator.  Every record carries a changetype, so
that group nesting, the group cycle and the manager link, which point at
entries that must exist first, come last as modifications.

Under the base DN (default DC=l2s,DC=test):
  OU=People     u00001..u05100 (--users), user objects, userAccountControl
                544 (enabled, no password required), with these exceptions:
                  u00002  disabled (546)
                  u00003  accountExpires in the past (2020-01-01 00:00 UTC)
                  u00004  accountExpires 0 (never)
                  u00005  accountExpires 9223372036854775807 (never)
                  u00006..u00010  proxyAddresses SMTP:first.last@l2s.test
                          (primary) and smtp:uNNNNN.alias@l2s-old.test, mail
                          uNNNNN@l2s.test (differs from the primary)
                  u00011  manager: u00012
                  u00013..u00015  non-ASCII names (NON_ASCII below)
  OU=Elsewhere  x00001, x00002 (outside the searched OU)
  OU=Groups     big (every People user), level1 > level2 > level3 (each
                with users), cycle-a <-> cycle-b, small (u00040..u00049)

Only the standard library.  Deterministic: the same arguments give the same
output.
"""

import argparse
import base64
import sys

# FILETIME (100 ns since 1601-01-01 UTC) of 2020-01-01T00:00:00Z
EXPIRED_2020 = (1577836800 + 11644473600) * 10_000_000
NEVER_MAX = 9223372036854775807

GIVEN = ["Ada", "Brian", "Chloe", "Dmitri", "Elena", "Farid", "Grace",
         "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya", "Noor", "Oskar",
         "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen",
         "Ximena", "Yusuf", "Zara"]
SURNAMES = ["Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer",
            "Garcia", "Haddad", "Ivanova", "Jensen", "Kowalski", "Lopez",
            "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi",
            "Schmidt", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz",
            "Zimmer"]

# user number -> (givenName, sn, displayName)
NON_ASCII = {
    13: ("Zoë", "Ångström", "Zoë Ångström"),
    14: ("Łukasz", "Żółć", "Łukasz Żółć"),
    15: ("太郎", "山田", "山田 太郎"),
}


def attr(name, value):
    """One LDIF attribute line, base64 when the value is not safe ASCII."""
    value = str(value)
    raw = value.encode("utf-8")
    safe = (raw.isascii() and value[:1] not in (" ", ":", "<")
            and not value.endswith(" ")
            and all(32 <= b < 127 for b in raw))
    if safe:
        return "%s: %s" % (name, value)
    return "%s:: %s" % (name, base64.b64encode(raw).decode("ascii"))


def record(dn, lines):
    return "\n".join([attr("dn", dn)] + lines) + "\n"


def user_record(dn, sam, given, sn, display, uac, extra):
    lines = [
        "changetype: add",
        "objectClass: top",
        "objectClass: person",
        "objectClass: organizationalPerson",
        "objectClass: user",
        attr("sAMAccountName", sam),
        attr("userPrincipalName", "%s@l2s.test" % sam),
        attr("givenName", given),
        attr("sn", sn),
        attr("displayName", display),
        attr("mail", "%s@l2s.test" % sam),
        "userAccountControl: %d" % uac,
    ]
    lines += [attr(k, v) for k, v in extra]
    return record(dn, lines)


def group_record(dn, cn, members):
    lines = [
        "changetype: add",
        "objectClass: top",
        "objectClass: group",
        attr("sAMAccountName", cn),
    ]
    lines += [attr("member", m) for m in members]
    return record(dn, lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", default="DC=l2s,DC=test")
    p.add_argument("--users", type=int, default=5100,
                   help="users in OU=People (at least 50)")
    args = p.parse_args()
    if args.users < 50:
        p.error("--users must be at least 50")
    base = args.base
    people = "OU=People," + base
    groups = "OU=Groups," + base
    out = sys.stdout

    def udn(n):
        return "CN=u%05d,%s" % (n, people)

    def gdn(cn):
        return "CN=%s,%s" % (cn, groups)

    for ou in ("People", "Elsewhere", "Groups"):
        out.write(record("OU=%s,%s" % (ou, base), [
            "changetype: add",
            "objectClass: top",
            "objectClass: organizationalUnit",
        ]) + "\n")

    for n in range(1, args.users + 1):
        sam = "u%05d" % n
        given = GIVEN[n % len(GIVEN)]
        sn = SURNAMES[(n // len(GIVEN)) % len(SURNAMES)]
        display = "%s %s" % (given, sn)
        if n in NON_ASCII:
            given, sn, display = NON_ASCII[n]
        uac = 546 if n == 2 else 544
        extra = []
        if n == 3:
            extra.append(("accountExpires", EXPIRED_2020))
        elif n == 4:
            extra.append(("accountExpires", 0))
        elif n == 5:
            extra.append(("accountExpires", NEVER_MAX))
        elif 6 <= n <= 10:
            extra.append(("proxyAddresses", "SMTP:%s.%s@l2s.test"
                          % (given.lower(), sn.lower())))
            extra.append(("proxyAddresses", "smtp:%s.alias@l2s-old.test" % sam))
        out.write(user_record(udn(n), sam, given, sn, display, uac, extra) + "\n")

    for n in (1, 2):
        sam = "x%05d" % n
        out.write(user_record("CN=%s,OU=Elsewhere,%s" % (sam, base), sam,
                              "Outside", "User%d" % n, "Outside User%d" % n,
                              544, []) + "\n")

    everyone = [udn(n) for n in range(1, args.users + 1)]
    plain = [
        ("big", everyone),
        ("level3", [udn(22), udn(23)]),
        ("level2", [udn(21)]),
        ("level1", [udn(20)]),
        ("cycle-a", [udn(30)]),
        ("cycle-b", [udn(31)]),
        ("small", [udn(n) for n in range(40, 50)]),
    ]
    for cn, members in plain:
        out.write(group_record(gdn(cn), cn, members) + "\n")

    # Links to entries that had to exist first.
    links = [
        (gdn("level2"), "member", gdn("level3")),
        (gdn("level1"), "member", gdn("level2")),
        (gdn("cycle-a"), "member", gdn("cycle-b")),
        (gdn("cycle-b"), "member", gdn("cycle-a")),
        (udn(11), "manager", udn(12)),
    ]
    for dn, name, value in links:
        out.write(record(dn, [
            "changetype: modify",
            "add: " + name,
            attr(name, value),
            "-",
        ]) + "\n")


if __name__ == "__main__":
    main()
