/*
 * test_filter.c - filter_check() against RFC 4515, and filter_escape()
 */
#include <stdlib.h>

#include "filter.h"
#include "tap.h"

static void
accepts(const char *filter)
{
	struct err err = ERR_INIT;
	int rc = filter_check(filter, &err);

	if (!ok(rc == L2S_OK, "filter_check accepts %s", filter))
		printf("#   error: %s\n", err.msg);
}

static void
refuses(const char *filter, const char *want)
{
	struct err err = ERR_INIT;
	int rc = filter_check(filter, &err);

	is_int(rc, L2S_EPARSE, "filter_check refuses %s", filter);
	is_str(err.msg, want, "filter_check explains what is wrong with %s",
	    filter);
}

static void
escapes(const char *value, const char *want)
{
	char *got = filter_escape(value);

	is_str(got, want, "filter_escape turns '%s' into '%s'", value,
	    want != NULL ? want : "(null)");
	free(got);
}

int
main(void)
{
	/* The examples of RFC 4515 section 4. */
	accepts("(cn=Babs Jensen)");
	accepts("(!(cn=Tim Howes))");
	accepts("(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))");
	accepts("(o=univ*of*mich*)");
	accepts("(seeAlso=)");
	accepts("(cn:caseExactMatch:=Fred Flintstone)");
	accepts("(cn:=Betty Rubble)");
	accepts("(sn:dn:2.4.6.8.10:=Barney Rubble)");
	accepts("(o:dn:=Ace Industry)");
	accepts("(:1.2.3:=Wilma Flintstone)");
	accepts("(:DN:2.4.6.8.10:=Dino)");
	accepts("(o=Parens R Us \\28for all your parenthetical needs\\29)");
	accepts("(cn=*\\2A*)");
	accepts("(filename=C:\\5cMyFile)");
	accepts("(bin=\\00\\00\\00\\04)");
	accepts("(sn=Lu\\c4\\8di\\c4\\87)");
	accepts("(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)");
	/* The other filter types, options, UTF-8 and nesting. */
	accepts("(objectClass=*)");
	accepts("(cn=*end)");
	accepts("(cn=start*)");
	accepts("(uidNumber>=1000)");
	accepts("(uidNumber<=2000)");
	accepts("(cn~=jensen)");
	accepts("(cn;lang-de=M\xc3\xbcller)");
	accepts("(userCertificate;binary=*)");
	accepts("(member:1.2.840.113556.1.4.1941:=cn=g,dc=example,dc=com)");
	accepts("(userAccountControl:1.2.840.113556.1.4.803:=2)");
	accepts("(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))");
	accepts("(|(a=1)(b=2)(c=3))");
	accepts("(!(!(!(x=1))))");
	accepts("(cn=\xe4\xb8\xad\xe6\x96\x87)");
	accepts("(cn=\xf0\x9f\x98\x80)");
	accepts("(cn:=x:y)");

	refuses("", "empty filter");
	refuses("cn=x", "filter must start with '(' at offset 0");
	refuses("(cn=x", "missing ')' at offset 5 for the '(' at offset 0");
	refuses("(&(a=1)(b=2)", "missing ')' at offset 12 for the '(' at "
	    "offset 0");
	refuses("(cn=x))", "text after the closing ')' at offset 6");
	refuses("(cn=x) ", "text after the closing ')' at offset 6");
	refuses("()", "empty filter component at offset 1");
	refuses("(&)", "expected '(' after '&' or '|' at offset 2");
	refuses("(|)", "expected '(' after '&' or '|' at offset 2");
	refuses("(!)", "expected '(' at offset 2");
	refuses("(!(a=1)(b=2))", "expected ')' at offset 7");
	refuses("(&(a=1) (b=2))", "expected ')' at offset 7");
	refuses("(=x)", "expected an attribute description at offset 1");
	refuses("(c n=x)", "expected '=', '>=', '<=', '~=' or ':=' after the "
	    "attribute at offset 2");
	refuses("(cn)", "expected '=', '>=', '<=', '~=' or ':=' after the "
	    "attribute at offset 3");
	refuses("(cn", "unexpected end of filter at offset 3");
	refuses("(_cn=x)", "expected an attribute description at offset 1");
	refuses("(cn;=x)", "empty attribute option at offset 4");
	refuses("(1=x)", "numeric OID needs at least two parts at offset 1");
	refuses("(1.02=x)", "leading zero in numeric OID at offset 3");
	refuses("(1..2=x)", "expected a digit in numeric OID at offset 3");
	refuses("(cn=a(b)", "unescaped '(' in value (write \\28) at offset 5");
	refuses("(cn>=a*)", "unescaped '*' in value (write \\2a) at offset 6");
	refuses("(cn~=*)", "unescaped '*' in value (write \\2a) at offset 5");
	refuses("(cn:=*)", "unescaped '*' in value (write \\2a) at offset 5");
	refuses("(cn=a**b)", "empty substring between '*'s at offset 6");
	refuses("(cn=\\2)", "'\\' must be followed by two hex digits at offset 4");
	refuses("(cn=\\zz)", "'\\' must be followed by two hex digits at offset 4");
	refuses("(cn=a\\)", "'\\' must be followed by two hex digits at offset 5");
	refuses("(cn=\xc3)", "invalid UTF-8 in value at offset 4");
	refuses("(cn=\xc0\xaf)", "invalid UTF-8 in value at offset 4");
	refuses("(cn=\xed\xa0\x80)", "invalid UTF-8 in value at offset 4");
	refuses("(cn=\xff)", "invalid UTF-8 in value at offset 4");
	refuses("(:=x)", "extensible match needs an attribute or a matching "
	    "rule at offset 1");
	refuses("(:dn:=x)", "extensible match needs an attribute or a matching "
	    "rule at offset 1");
	refuses("(cn:dn=x)", "expected ':=' in extensible match at offset 6");
	refuses("(cn:1.2:x=y)", "expected ':=' in extensible match at offset 7");
	refuses("(cn<x)", "expected '=', '>=', '<=', '~=' or ':=' after the "
	    "attribute at offset 3");
	{
		char deep[400];
		int i, n = 0;

		for (i = 0; i < 100; i++)
			deep[n++] = '(', deep[n++] = '!';
		n += sprintf(deep + n, "(a=1)");
		for (i = 0; i < 100; i++)
			deep[n++] = ')';
		deep[n] = '\0';
		refuses(deep, "filter nested too deeply at offset 128");
	}

	escapes("plain", "plain");
	escapes("", "");
	escapes("a*b", "a\\2ab");
	escapes("(x)", "\\28x\\29");
	escapes("C:\\dir", "C:\\5cdir");
	escapes("M\xc3\xbcller", "M\xc3\xbcller");
	{
		char *e = filter_escape("*()\\");
		char f[64];
		struct err err = ERR_INIT;

		snprintf(f, sizeof(f), "(cn=%s)", e);
		is_int(filter_check(f, &err), L2S_OK,
		    "an escaped value makes a valid filter");
		free(e);
	}
	return tap_done();
}
