# shellcheck shell=bash
# ad-lab-checks.sh - what the agent's Active Directory code relies on in the
# Samba AD DC lab (test/lib/samba-ad.sh), checked with ldapsearch and kinit
# only, no agent: a Samba upgrade that changes any of it fails here first.
# Sourced by test/integration/ad_test.sh, which provisions the DC once and
# calls these in order (TAP through test/lib/tap.sh; $tmp is the test's
# directory):
#
#   ad_lab_check_start      after ad_start: name, secrets, LDAPS trust,
#                           strong authentication, the root DSE
#   ad_lab_check_directory  after ad_load_directory: the directory, member
#                           ranges, the in-chain rule, the bitwise and
#                           accountExpires filters, binary GUID/SID, names
#   ad_lab_check_gssapi     after ad_service_account: kinit -kt, GSSAPI over
#                           ldap:// and ldaps://
#   ad_lab_check_stop       stops the DC: nothing is left behind

# search ARGS / count ARGS: ad_search, its errors kept in $tmp/search.err and
# shown once at the end when something failed.
search() { ad_search "$@" 2>>"$tmp/search.err"; }
count() { search "$@" 1.1 | grep -c '^dn: '; }

ad_lab_check_start() {
	local out rc root other_ca

	is "$(getent hosts "$AD_HOST" | awk '{ print $1 }')" "$AD_IP" \
	    "$AD_HOST resolves to the DC's address inside the test"
	is "$(stat -c %a "$AD_PASS_FILE")" 600 "the Administrator's password file is mode 600"
	is "$(tr -d '\n' <"$AD_PASS_FILE")" "$(cat "$AD_PASS_RAW")" \
	    "the password file is the raw password plus a newline"

	out=$(LDAPTLS_CACERT=$AD_CA_FILE LDAPTLS_REQCERT=demand ldapsearch -x -LLL \
	    -H "$AD_LDAPS_URI" -D "$AD_ADMIN_DN" -y "$AD_PASS_RAW" -s base -b "" dnsHostName 2>&1)
	is "$out" "$(printf 'dn:\ndnsHostName: dc1.l2s.test')" \
	    "LDAPS to $AD_HOST verifies with AD_CA_FILE and the Administrator binds"
	other_ca=$tmp/other-ca.pem
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$tmp/other-ca.key" -out "$other_ca" -days 1 -subj "/CN=not the DC's CA" \
	    >/dev/null 2>&1
	out=$(LDAPTLS_CACERT=$other_ca LDAPTLS_REQCERT=demand ldapsearch -x -LLL \
	    -H "$AD_LDAPS_URI" -s base -b "" dnsHostName 2>&1)
	like "$out" "Can't contact LDAP server" "LDAPS with another CA fails: the certificate is checked"

	out=$(ldapsearch -x -LLL -H "$AD_URI" -D "$AD_ADMIN_DN" -y "$AD_PASS_RAW" -s base -b "" dn 2>&1)
	rc=$?
	is "$rc" 8 "a simple bind over plain ldap:// fails with strongAuthRequired (8)"
	like "$out" "Strong\(er\) authentication required" "and says 'Strong(er) authentication required'"

	root=$(ldapsearch -x -LLL -o ldif-wrap=no -H "$AD_URI" -s base -b "" \
	    forestFunctionality supportedCapabilities defaultNamingContext 2>&1)
	like "$root" "^forestFunctionality: [0-9]+" "the anonymous rootDSE has forestFunctionality"
	like "$root" "supportedCapabilities: 1\.2\.840\.113556\.1\.4\.800$" \
	    "the rootDSE lists the AD capability 1.2.840.113556.1.4.800"
	like "$root" "defaultNamingContext: $AD_BASE" "the default naming context is $AD_BASE"
}

ad_lab_check_directory() {
	local people groups big total start names rounds chunk name n ids guid sid
	people="OU=People,$AD_BASE"
	groups="OU=Groups,$AD_BASE"
	is "$(count -b "$people" '(&(objectCategory=person)(objectClass=user))')" 5100 \
	    "OU=People holds 5,100 users (paged search)"
	is "$(count -b "OU=Elsewhere,$AD_BASE" '(objectClass=user)')" 2 "OU=Elsewhere holds 2 users"
	is "$(search -b "$groups" '(objectClass=group)' cn | sed -n 's/^cn: //p' | sort | tr '\n' ' ')" \
	    "big cycle-a cycle-b level1 level2 level3 small " "OU=Groups holds the 7 groups"

	# member of the big group, read range by range as the agent does
	big="CN=big,$groups"
	total=0 start=0 names="" rounds=0
	while [ $rounds -lt 10 ]; do
		rounds=$((rounds + 1))
		chunk=$(search -b "$big" -s base '(objectClass=*)' "member;range=$start-$((start + 1499))" 2>&1)
		name=$(sed -n 's/^\(member;range=[0-9]*-[0-9*]*\): .*/\1/p' <<<"$chunk" | sort -u)
		n=$(grep -c '^member;range=' <<<"$chunk")
		names+="$name "
		total=$((total + n))
		case $name in
		*-\*) break ;;
		member\;range=*-*) start=$((${name##*-} + 1)) ;;
		*) break ;;
		esac
	done
	is "$total" 5100 "the big group's 5,100 members come back through range retrieval"
	is "$names" "member;range=0-1499 member;range=1500-2999 member;range=3000-4499 member;range=4500-* " \
	    "asked in ranges of 1,500, the last one comes back marked with *"
	is "$(search -b "$big" -s base '(objectClass=*)' 'member;range=0-*' | grep -c '^member;range=0-\*: ')" \
	    5100 "member;range=0-* returns all 5,100 values in one range (no server cap)"
	is "$(search -b "$big" -s base '(objectClass=*)' 'member;range=0-1499' | grep -c '^member;range=0-1499: ')" \
	    1500 "member;range=0-1499 returns that attribute name with 1,500 values"
	is "$(search -b "$big" -s base '(objectClass=*)' member | grep -c '^member: ')" 5100 \
	    "plain member returns all 5,100 values at once (Samba sets no MaxValRange)"
	is "$(search -b "$groups" '(cn=small)' 'member;range=0-1499' | grep -c '^member;range=0-\*: ')" 10 \
	    "in a subtree search a short member list comes back as member;range=0-*"

	# in_chain GROUP [FILTER]: the users under OU=People in GROUP, nested or not.
	# Over all 5,100 users one such search takes about 16 s on Samba 4.17; an
	# indexed term ANDed to it makes it fast.
	in_chain() {
		search -b "$people" "(&${2:-}(memberOf:1.2.840.113556.1.4.1941:=CN=$1,$groups))" 1.1 |
		    sed -n 's/^dn: CN=\([^,]*\),.*/\1/p' | sort | tr '\n' ' '
	}
	is "$(in_chain level1)" "u00020 u00021 u00022 u00023 " \
	    "the in-chain rule finds the users of all three levels under level1"
	is "$(in_chain level3 '(sAMAccountName=u000*)')" "u00022 u00023 " "and only level3's own users under level3"
	is "$(in_chain cycle-a '(sAMAccountName=u000*)')" "u00030 u00031 " "the in-chain rule ends on the cycle cycle-a <-> cycle-b"

	is "$(search -b "$people" '(userAccountControl:1.2.840.113556.1.4.803:=2)' sAMAccountName |
	    sed -n 's/^sAMAccountName: //p' | tr '\n' ' ')" "u00002 " \
	    "the bitwise filter on userAccountControl finds the disabled user"
	is "$(search -b "$AD_BASE" '(&(accountExpires>=1)(accountExpires<=132223104000000000))' sAMAccountName |
	    sed -n 's/^sAMAccountName: //p' | tr '\n' ' ')" "u00003 " \
	    "the accountExpires range filter finds only the expired user (0 and the maximum do not match)"

	ids=$(search -b "$people" '(sAMAccountName=u00001)' objectGUID objectSid)
	guid=$(sed -n 's/^objectGUID:: //p' <<<"$ids" | base64 -d | wc -c)
	sid=$(sed -n 's/^objectSid:: //p' <<<"$ids" | base64 -d | od -An -tx1 | tr -d ' \n')
	is "$guid" 16 "objectGUID comes back as 16 bytes of binary"
	like "$sid" "^010500000000000515000000[0-9a-f]{32}$" "objectSid comes back as a binary SID (S-1-5-21-x-y-z-rid)"

	names=$(search -b "$people" '(|(sAMAccountName=u00013)(sAMAccountName=u00014)(sAMAccountName=u00015))' displayName |
	    sed -n 's/^displayName:: //p' | while read -r v; do base64 -d <<<"$v"; echo; done | sort | tr '\n' '|')
	is "$names" "Zoë Ångström|Łukasz Żółć|山田 太郎|" "non-ASCII display names round-trip"
	is "$(count -b "$people" '(displayName=Łukasz Żółć)')" 1 "and match in a filter"
	is "$(search -b "$people" '(sAMAccountName=u00006)' proxyAddresses mail | grep -E '^(mail|proxyAddresses):' | sort | tr '\n' '|')" \
	    "mail: u00006@l2s.test|proxyAddresses: SMTP:grace.adams@l2s.test|proxyAddresses: smtp:u00006.alias@l2s-old.test|" \
	    "u00006 has a primary and a secondary proxy address, and a different mail"
	is "$(search -b "$people" '(sAMAccountName=u00011)' manager | sed -n 's/^manager: //p')" \
	    "CN=u00012,$people" "u00011's manager is u00012"
}

ad_lab_check_gssapi() {
	local out people="OU=People,$AD_BASE"
	is "$(stat -c %a "$AD_KEYTAB")" 600 "the keytab is mode 600"
	local KRB5CCNAME=FILE:$tmp/gssapi.ccache
		export KRB5CCNAME
	kinit -kt "$AD_KEYTAB" "$AD_SVC_PRINCIPAL" >"$tmp/kinit.log" 2>&1
	ok $? "kinit -kt with the keytab gets a ticket into a FILE: cache" || diag "$(cat "$tmp/kinit.log")"
	out=$(ldapsearch -Q -LLL -Y GSSAPI -H "$AD_URI" -b "$people" '(sAMAccountName=u00001)' 1.1 2>&1)
	is "$out" "dn: CN=u00001,$people" "ldapsearch -Y GSSAPI over ldap:// reads the directory with no password"
	out=$(LDAPTLS_CACERT=$AD_CA_FILE ldapsearch -Q -LLL -O maxssf=0 -Y GSSAPI -H "$AD_LDAPS_URI" \
	    -b "$people" '(sAMAccountName=u00001)' 1.1 2>&1)
	is "$out" "dn: CN=u00001,$people" "GSSAPI over ldaps:// works with -O maxssf=0"
	out=$(LDAPTLS_CACERT=$AD_CA_FILE ldapsearch -Q -LLL -Y GSSAPI -H "$AD_LDAPS_URI" \
	    -b "$people" '(sAMAccountName=u00001)' 1.1 2>&1)
	like "$out" "Sign or Seal are not allowed if TLS is used" \
	    "GSSAPI over ldaps:// with a security layer is refused (unwillingToPerform)"
	kdestroy >/dev/null 2>&1
}

ad_lab_check_stop() {
	local netns=$AD_NETNS veth=l2sad${AD_NETNS#l2sad}h
	ad_stop
	kill -0 "$SAMBA_PID" 2>/dev/null
	ok $((!$?)) "ad_stop stops samba"
	ip netns list 2>/dev/null | grep -qw "$netns"
	ok $((!$?)) "ad_stop deletes the network namespace"
	ip link show "$veth" >/dev/null 2>&1
	ok $((!$?)) "ad_stop deletes the veth pair"
	ad_stop
	ok $? "ad_stop can be called twice"
	[ "$_tap_failed" -eq 0 ] || [ ! -s "$tmp/search.err" ] ||
	    diag "ldapsearch said: $(sort -u "$tmp/search.err" | head -n 5)"
}
