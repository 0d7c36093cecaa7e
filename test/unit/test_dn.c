/*
 * test_dn.c - dn_norm(): the normal form of DNs, and agreement with
 * libldap (ldap_dn_norm() in the POSIX build) on which DNs are equal and
 * which are not DNs at all; dn_plain(): the DNs whose normal form is
 * themselves in lower case, checked against libldap's own parser
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>		/* the system one, for the reference form */

#include "dn.h"
#include "err.h"
#include "ldap.h"
#include "tap.h"

static char *
norm(const char *dn)
{
	struct err err = ERR_INIT;
	char *out = NULL;

	if (dn_norm(dn, &out, &err) != L2S_OK)
		return NULL;
	return out;
}

static void
is_norm(const char *dn, const char *want, const char *name)
{
	char *got = norm(dn);

	is_str(got, want, "%s", name);
	free(got);
}

static void
cases(void)
{
	struct err err = ERR_INIT;
	char *out = NULL;

	is_norm("CN=Alice Smith,OU=People,DC=Example,DC=Com",
	    "cn=alice smith,ou=people,dc=example,dc=com",
	    "types and values go to lower case");
	is_norm("  cn = Alice ,  ou=People , dc=example ",
	    "cn=alice,ou=people,dc=example",
	    "spaces around separators go");
	is_norm("cn=Alice,\tou=People", "cn=alice,ou=people",
	    "a tab around a separator goes too");
	is_norm("cn=Smith\\, Alice,dc=x", "cn=smith\\, alice,dc=x",
	    "an escaped comma stays escaped");
	is_norm("cn=Smith\\2C Alice,dc=x", "cn=smith\\, alice,dc=x",
	    "a hex-escaped comma is the same comma");
	is_norm("cn=caf\\C3\\A9,dc=x", "cn=caf\xc3\xa9,dc=x",
	    "hex-escaped UTF-8 is UTF-8");
	is_norm("cn=\\ lead,dc=x", "cn=\\ lead,dc=x", "a leading space stays "
	    "escaped");
	is_norm("cn=trail\\ ,dc=x", "cn=trail\\ ,dc=x",
	    "an escaped trailing space is kept");
	is_norm("cn=a+uid=B,dc=x", "cn=a+uid=b,dc=x", "a multi-valued RDN");
	is_norm("2.5.4.3=Alice,dc=x", "2.5.4.3=alice,dc=x", "a numeric type");
	is_norm("cn=#04024869,dc=x", "cn=#04024869,dc=x", "a BER value");
	is_norm("", "", "the empty DN");
	is_norm("cn=a=b,dc=x", "cn=a\\=b,dc=x", "an '=' in a value is escaped");
	is_int(dn_norm("cn", &out, &err), L2S_EPARSE, "a type alone is no DN");
	like(err.msg, "invalid DN 'cn'", "and the error names it");
	is_int(dn_norm("cn=a,,dc=x", &out, &err), L2S_EPARSE,
	    "an empty RDN is no DN");
	is_int(dn_norm("cn=a\\zz", &out, &err), L2S_EPARSE,
	    "a bad escape is no DN");
	is_int(dn_norm("=a", &out, &err), L2S_EPARSE, "a missing type is no DN");
	is_int(dn_norm("cn=\"q\"", &out, &err), L2S_EPARSE,
	    "an unescaped quote is no DN");
	ok(out == NULL, "and nothing is returned");
	is_int(dn_norm("cn=a;dc=x", &out, &err), L2S_EPARSE,
	    "';' between RDNs is no LDAPv3 DN");
	is_int(dn_norm("cn=\\ff,dc=x", &out, &err), L2S_EPARSE,
	    "a value that is not UTF-8 once unescaped is no DN");
}

/* Variants of base that LDAP takes as the same DN. */
static const char *const bases[] = {
	"cn=Alice Smith,ou=People,dc=example,dc=com",
	"uid=bob,ou=people,dc=example,dc=com",
	"cn=Smith\\, Bob,ou=People,dc=example,dc=com",
	"cn=caf\xc3\xa9 team,ou=Groups,dc=example,dc=com",
	"cn=a+uid=b,dc=example,dc=com",
	"CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com",
	"cn=x\\+y,dc=com",
	"ou=T\\3Bz,dc=com",
};

static void
variant(const char *base, unsigned how, char *out, size_t size)
{
	size_t o = 0, i, n = strlen(base);

	for (i = 0; i < n && o + 8 < size; i++) {
		char c = base[i];

		if ((how & 1) && c >= 'a' && c <= 'z' && i % 3 == 0)
			c = (char)(c - 32);
		int escaped = i > 0 && base[i - 1] == '\\';

		if ((how & 2) && c == ',' && !escaped) {
			memcpy(out + o, " , ", 3);
			o += 3;
			continue;
		}
		if ((how & 4) && c == '=' && !escaped) {
			memcpy(out + o, " = ", 3);
			o += 3;
			continue;
		}
		if ((how & 8) && c == 'e' && !escaped) {
			memcpy(out + o, "\\65", 3);
			o += 3;
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

static void
oracle(void)
{
	static char v[64][256];
	struct err err = ERR_INIT;
	size_t nv = 0, i, j;
	unsigned how;
	int bad = 0, pairs = 0, same = 0;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		for (how = 0; how < 16; how += 3)
			if (nv < 64)
				variant(bases[i], how, v[nv++], sizeof(v[0]));
	for (i = 0; i < nv; i++)
		for (j = 0; j < nv; j++) {
			char *a = NULL, *b = NULL, *x = norm(v[i]), *y = norm(v[j]);
			int ref, ours;

			if (ldap_dn_norm(v[i], &a, &err) != L2S_OK ||
			    ldap_dn_norm(v[j], &b, &err) != L2S_OK ||
			    x == NULL || y == NULL) {
				if (bad++ < 3)
					printf("# not parsed: '%s' / '%s'\n",
					    v[i], v[j]);
			} else {
				ref = strcmp(a, b) == 0;
				ours = strcmp(x, y) == 0;
				same += ref;
				if (ref != ours && bad++ < 3)
					printf("# '%s' vs '%s': libldap %d, "
					    "dn_norm %d\n", v[i], v[j], ref,
					    ours);
			}
			pairs++;
			free(a);
			free(b);
			free(x);
			free(y);
		}
	is_int(bad, 0, "dn_norm and libldap agree on %d pairs of DNs", pairs);
	ok(same > (int)nv, "the pairs include equal DNs written differently");
}

/* What one side refuses, the other refuses too. */
static void
acceptance(void)
{
	static const char *const odd[] = {
		"cn=a;dc=x", "cn=\\ff,dc=x", "cn=a,\tdc=x", "cn=a\n,dc=x",
		"cn=\"q\"", "cn", "=a", "cn=a,,dc=x", "cn=a\\zz", "cn=a=b",
		"cn=#zz", "cn=#04", "1.2.3=x", "1..2=x", "cn=a+", "+cn=a",
		"cn=caf\\c3\\a9", "cn=a\\", "cn=<x>", " ", "cn= ",
		"cn=\\20", "cn=a b  ,dc=x",
	};
	struct err err = ERR_INIT;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *a = NULL, *b = NULL;
		int ra = ldap_dn_norm(odd[i], &a, &err) == L2S_OK;
		int rb = dn_norm(odd[i], &b, &err) == L2S_OK;

		if (ra != rb && bad++ < 5)
			printf("# '%s': libldap %s it, dn_norm %s it\n", odd[i],
			    ra ? "takes" : "refuses", rb ? "takes" : "refuses");
		free(a);
		free(b);
	}
	is_int(bad, 0, "dn_norm refuses what libldap refuses (%zu odd DNs)",
	    sizeof(odd) / sizeof(odd[0]));
}

/* A copy of s in ASCII lower case, as ldap_dn_norm() writes it. */
static char *
lower_dup(const char *s)
{
	char *out = strdup(s), *p;

	for (p = out; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return out;
}

/* libldap's form of dn in ASCII lower case, without ldap_dn_norm()'s
 * shortcut; NULL when libldap takes no DN. */
static char *
libldap_form(const char *dn)
{
	LDAPDN parsed = NULL;
	char *s = NULL, *out = NULL;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	    ldap_dn2str(parsed, &s, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS)
		out = lower_dup(s != NULL ? s : "");
	if (parsed != NULL)
		ldap_dnfree(parsed);
	ldap_memfree(s);
	return out;
}

static void
plain_cases(void)
{
	static const char *const yes[] = {
		"uid=user00001,ou=people,dc=example,dc=com",
		"CN=Alice Smith,OU=People,DC=Example,DC=Com",
		"cn=a.b_c-d@example.org,o=x-1", "x=1", "c1-x=y",
	};
	static const char *const no[] = {
		"", "uid=bob, ou=people", "uid=bob ,ou=people", "cn= x",
		"cn=x ", "cn =x", "cn=", "=x", "1cn=x", "2.5.4.3=x",
		"cn=a+sn=b", "cn=a\\,b", "cn=#04", "cn=a,", ",cn=a",
		"cn=a;dc=x", "cn=\"q\"", "cn=caf\xc3\xa9", "cn=a=b",
		"cn=a\tb", "cn=a<b", "cn=x,,dc=y",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!dn_plain(yes[i]) && bad++ < 3)
			printf("# not plain: '%s'\n", yes[i]);
	is_int(bad, 0, "plain DNs are taken as plain");
	bad = 0;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (dn_plain(no[i]) && bad++ < 3)
			printf("# plain: '%s'\n", no[i]);
	is_int(bad, 0, "spaces at separators, escapes, multi-valued RDNs, "
	    "numeric types, odd bytes and broken DNs are not plain");
	/* dn_plainn(): the same answers, and only len bytes are read */
	bad = 0;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!dn_plainn(yes[i], strlen(yes[i])) && bad++ < 3)
			printf("# dn_plainn: not plain: '%s'\n", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (dn_plainn(no[i], strlen(no[i])) && bad++ < 3)
			printf("# dn_plainn: plain: '%s'\n", no[i]);
	is_int(bad, 0, "dn_plainn() of the whole string says what dn_plain() "
	    "says");
	ok(dn_plainn("uid=a,ou=b;junk", 10) && dn_plainn("cn=x,dc=y", 4) &&
	    !dn_plainn("cn=x,dc=y", 5) && !dn_plainn("cn=x,dc=y", 3) &&
	    !dn_plainn("cn=x\0", 5) && !dn_plainn("cn=x", 0),
	    "dn_plainn() judges the first len bytes: a DN cut after a value "
	    "is plain, one cut at a separator, an '=' or a NUL is not");
	{
		char *low = dn_lower("CN=Zo\xc3\x89,DC=Example;rest", 18);

		char to[20];

		is_str(low, "cn=zo\xc3\x89,dc=example", "dn_lower() lowers "
		    "ASCII letters only, in the first len bytes");
		memset(to, 'x', sizeof(to));
		dn_lower_to(to, "CN=Zo\xc3\x89,DC=Example;rest", 18);
		ok(memcmp(to, "cn=zo\xc3\x89,dc=example", 19) == 0 &&
		    to[19] == 'x', "dn_lower_to() writes the same, NUL-ended, "
		    "and no further");
		free(low);
	}
}

/*
 * Random DNs over an alphabet of plain bytes and of bytes that need a
 * parser: every one dn_plain() takes must be, in lower case, what libldap
 * writes; most of the rest must go to libldap.
 */
static void
plain_oracle(void)
{
	static const char alpha[] = "aZ0-._@ ,=+\\\"#;<>\xc3\xa9\t";
	uint64_t x = 0x2545f4914f6cdd1dULL;
	char dn[48];
	int plain = 0, other = 0, bad = 0, n;

	for (n = 0; n < 200000; n++) {
		size_t len, i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 3 + (size_t)(x % 20);
		/* mostly plain shapes: a type, '=', then random bytes */
		memcpy(dn, "cn=", 3);
		for (i = 3; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			dn[i] = x % 4 ? "aZ0-._@ ,=ou"[x % 12] :
			    alpha[(x >> 8) % (sizeof(alpha) - 1)];
		}
		dn[len] = '\0';
		{
			/* any prefix: dn_plainn() as dn_plain() of a copy */
			size_t k = (size_t)(x >> 20) % (len + 1);
			char cut[48];

			memcpy(cut, dn, k);
			cut[k] = '\0';
			if ((dn_plainn(dn, k) != dn_plain(cut) ||
			    dn_plainn(dn, len) != dn_plain(dn)) && bad++ < 3)
				printf("# dn_plainn disagrees on '%s' (%zu)\n",
				    dn, k);
		}
		if (dn_plain(dn)) {
			char *ref = libldap_form(dn), *low = lower_dup(dn);

			if ((ref == NULL || strcmp(ref, low) != 0) && bad++ < 3)
				printf("# plain '%s': libldap '%s'\n", dn,
				    ref != NULL ? ref : "(no DN)");
			free(ref);
			free(low);
			plain++;
		} else {
			other++;
		}
	}
	is_int(bad, 0, "every plain DN is, in lower case, libldap's form "
	    "(%d plain of 200000 random DNs)", plain);
	ok(plain > 10000 && other > 10000, "the random DNs hold both kinds "
	    "(%d plain, %d not)", plain, other);
}

int
main(void)
{
	cases();
	oracle();
	acceptance();
	plain_cases();
	plain_oracle();
	return tap_done();
}
