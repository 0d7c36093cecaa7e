#!/usr/bin/env bash
# install_test.sh - `make install PREFIX=...` puts the binary, both man pages
# and the example config in place, and what it installed works; the man
# pages are lint-clean and the synopsis of ldap2scim(8) names every command
# and option of usage().
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/tap.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

make -s -C "$top" install BUILD="${L2S_BUILD:-build}" PREFIX=/usr DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr succeeds" || diag "$(cat "$tmp/install.log")"
for f in usr/bin/ldap2scim usr/share/man/man8/ldap2scim.8 usr/share/man/man5/ldap2scim.yaml.5 \
    usr/share/doc/ldap2scim/ldap2scim.yaml.example usr/share/doc/ldap2scim/ad.yaml.example \
    usr/share/doc/ldap2scim/targets.yaml.example; do
	test -s "$tmp/root/$f"
	ok $? "it installs /$f"
done
like "$("$tmp/root/usr/bin/ldap2scim" version)" "^ldap2scim [0-9]+\.[0-9]+\.[0-9]+$" "the installed binary runs"

lint=$(mandoc -Tlint -Wwarning "$top/man/ldap2scim.8" "$top/man/ldap2scim.yaml.5" 2>&1)
is "$lint" "" "both man pages are mandoc -Tlint clean"

synopsis=$(mandoc -Tascii "$top/man/ldap2scim.8" 2>/dev/null | sed 's/.\x08//g' |
    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
usage=$("$tmp/root/usr/bin/ldap2scim" --help)
missing=""
for word in $(printf '%s\n' "$usage" | grep -oE -- '(--?[a-z-]+|\b(sync|run|check|state|show|export|forget|reset|version)\b)' | sort -u); do
	grep -qF -- "$word" <<<"$synopsis" || missing="$missing $word"
done
is "$missing" "" "the synopsis of ldap2scim(8) names every command and option of usage()"
tap_done
