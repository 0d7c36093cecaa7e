/*
 * test_mapping.c - templates over LDAP attributes and the SCIM paths they
 * may fill: compiling, rendering, and every refusal with its exact message
 */
#include <stdlib.h>
#include <string.h>

#include "adattr.h"
#include "err.h"
#include "fixtures.h"
#include "mapping.h"
#include "tap.h"

#define ENT SCIM_ENTERPRISE_URN
#define DN "uid=alice,ou=people,dc=example,dc=com"

/* Compile text and render it against e; *rc gets the render outcome. */
static char *
render(const char *text, const struct entry *e, int *rc, struct err *err)
{
	struct template *t = NULL;
	char *out = NULL;

	*rc = template_compile(&t, text, err);
	if (*rc != L2S_OK)
		return NULL;
	*rc = template_render(t, e, &out, err);
	template_free(t);
	return out;
}

static void
test_render(void)
{
	struct fx_entry f;
	struct err err = ERR_INIT;
	char *s;
	int rc;

	fx_entry_init(&f, DN);
	fx_add(&f, "uid", "alice");
	fx_add(&f, "givenName", "Alice");
	fx_add(&f, "sn", "Liddell");
	fx_add(&f, "mail", "alice@example.com");
	fx_add(&f, "mail", "al@example.com");
	fx_add(&f, "title", "");

	s = render("Employee", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "a template of literal text renders");
	is_str(s, "Employee", "literal text renders as itself");
	free(s);

	s = render("{givenName} {sn} <{uid}>", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "a template with several attributes renders");
	is_str(s, "Alice Liddell <alice>",
	    "several attributes and the text between them are joined");
	free(s);

	s = render("{GIVENNAME}", &f.e, &rc, &err);
	is_str(s, "Alice", "attribute names in templates are case-insensitive");
	free(s);

	s = render("{{{uid}}} {{literal}}", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "doubled braces render");
	is_str(s, "{alice} {literal}",
	    "'{{' and '}}' stand for literal braces, also around a reference");
	free(s);

	s = render("{mail}", &f.e, &rc, &err);
	is_str(s, "alice@example.com",
	    "a multi-valued attribute renders its first value");
	free(s);

	s = render("{givenName} {manager}", &f.e, &rc, &err);
	is_int(rc, L2S_ENOTFOUND, "a missing attribute renders as not found");
	ok(s == NULL, "a missing attribute gives no text");
	free(s);

	s = render("Title: {title}", &f.e, &rc, &err);
	is_int(rc, L2S_ENOTFOUND, "an empty attribute value renders as not found");
	ok(s == NULL, "an empty attribute value gives no text");
	free(s);
}

static void
test_render_too_long(void)
{
	struct fx_entry f;
	struct err err = ERR_INIT;
	char *big, *s;
	int rc;

	big = malloc(MAPPING_VALUE_MAX + 2);
	if (big == NULL)
		fx_bail("out of memory");
	memset(big, 'a', MAPPING_VALUE_MAX + 1);
	fx_entry_init(&f, DN);
	fx_addn(&f, "description", big, MAPPING_VALUE_MAX + 1);
	fx_addn(&f, "cn", big, MAPPING_VALUE_MAX);
	s = render("{description}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a value over MAPPING_VALUE_MAX bytes is refused");
	is_str(err.msg, "attribute 'description' of '" DN "' makes a value of "
	    "more than 65536 bytes, the limit for one SCIM value",
	    "the size error names the attribute, the DN and the limit");
	free(s);
	s = render("{cn}", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "a value of exactly MAPPING_VALUE_MAX bytes is kept");
	ok(s != NULL && strlen(s) == MAPPING_VALUE_MAX, "whole");
	free(s);
	s = render("x{cn}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a template whose result grows past the limit "
	    "is refused");
	free(s);
	free(big);
}

static void
test_render_not_text(void)
{
	static const char latin1[] = "Ren\xe9";
	static const char nul[] = "ab\0cd";
	static const char overlong[] = "\xc0\xaf";
	static const char surrogate[] = "\xed\xa0\x80";
	static const char accented[] = "Ren\xc3\xa9 \xf0\x9f\x98\x80";
	struct fx_entry f;
	struct err err = ERR_INIT;
	char *s;
	int rc;

	fx_entry_init(&f, DN);
	fx_addn(&f, "cn", latin1, sizeof(latin1) - 1);
	fx_addn(&f, "description", nul, sizeof(nul) - 1);
	fx_addn(&f, "l", overlong, sizeof(overlong) - 1);
	fx_addn(&f, "st", surrogate, sizeof(surrogate) - 1);
	fx_addn(&f, "displayName", accented, sizeof(accented) - 1);

	s = render("{cn}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a value that is not UTF-8 is refused");
	ok(s == NULL, "a value that is not UTF-8 gives no text");
	is_str(err.msg, "attribute 'cn' of '" DN "' is not valid UTF-8 text",
	    "the UTF-8 error names the attribute and the DN");
	free(s);

	err = (struct err)ERR_INIT;
	s = render("x{description}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a value with an embedded NUL byte is refused");
	is_str(err.msg, "attribute 'description' of '" DN "' is not valid "
	    "UTF-8 text", "the NUL error names the attribute and the DN");
	free(s);

	s = render("{l}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "an overlong UTF-8 form is refused");
	free(s);
	s = render("{st}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a UTF-16 surrogate encoded in UTF-8 is refused");
	free(s);

	s = render("{displayName}", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "multi-byte UTF-8 text is accepted");
	is_str(s, accented, "multi-byte UTF-8 text passes unchanged");
	free(s);
}

/* Compilation must fail with exactly want. */
static void
compile_fails(const char *text, const char *want, const char *name)
{
	struct template *t = NULL;
	struct err err = ERR_INIT;
	int rc;

	rc = template_compile(&t, text, &err);
	is_int(rc, L2S_EPARSE, "%s (outcome)", name);
	ok(t == NULL, "%s (no template)", name);
	is_str(err.msg, want, "%s", name);
	template_free(t);
}

static void
test_compile_errors(void)
{
	compile_fails("{uid", "template '{uid': expected an LDAP attribute name "
	    "and '}' at offset 1", "an unclosed reference is refused");
	compile_fails("uid}", "template 'uid}': unmatched '}' at offset 3 "
	    "(write '}}' for a literal brace)",
	    "a lone closing brace is refused");
	compile_fails("a {} b", "template 'a {} b': expected an LDAP attribute "
	    "name and '}' at offset 3", "an empty reference is refused");
	compile_fails("{given name}", "template '{given name}': expected an "
	    "LDAP attribute name and '}' at offset 1",
	    "a reference with a space is refused");
}

static void
test_template_attrs(void)
{
	struct template *t = NULL;
	struct err err = ERR_INIT;

	is_int(template_compile(&t, "{givenName} {sn} ({GivenName}) {mail}",
	    &err), L2S_OK, "a template with a repeated attribute compiles");
	if (t == NULL)
		return;
	is_int(template_nattrs(t), 3,
	    "a template lists each attribute once, case-insensitively");
	is_str(template_attr(t, 0), "givenName", "attributes are listed in "
	    "order of first use (first)");
	is_str(template_attr(t, 1), "sn", "attributes are listed in order of "
	    "first use (second)");
	is_str(template_attr(t, 2), "mail", "attributes are listed in order of "
	    "first use (third)");
	ok(template_attr(t, 3) == NULL, "asking past the last attribute gives "
	    "NULL");
	template_free(t);
}

static void
path_valid(const char *path, enum map_kind want_kind, const char *name)
{
	enum map_kind kind = MAP_STRING;

	ok(mapping_path_valid(path, &kind), "%s is accepted", name);
	is_int(kind, want_kind, "%s has the expected kind", name);
}

static void
path_invalid(const char *path, const char *name)
{
	enum map_kind kind;

	ok(!mapping_path_valid(path, &kind), "%s is refused", name);
}

static void
test_paths(void)
{
	path_valid("userName", MAP_STRING, "userName");
	path_valid("displayName", MAP_STRING, "displayName");
	path_valid("name.givenName", MAP_STRING, "name.givenName");
	path_valid("name.familyName", MAP_STRING, "name.familyName");
	path_valid("emails[type eq \"work\"].value", MAP_STRING,
	    "a work email value");
	path_valid("phoneNumbers[type eq \"mobile\"].value", MAP_STRING,
	    "a mobile phone number value");
	path_valid("addresses[type eq \"work\"].locality", MAP_STRING,
	    "a work address locality");
	path_valid("active", MAP_BOOLEAN, "active");
	path_valid(ENT ":employeeNumber", MAP_STRING,
	    "the enterprise employeeNumber");
	path_valid(ENT ":manager", MAP_MANAGER, "the enterprise manager");

	path_invalid("favouriteColour", "an unknown attribute");
	path_invalid("name.nickName", "an unknown sub-attribute of name");
	path_invalid("emails[type eq \"work\"].locality",
	    "a sub-attribute of another multi-valued attribute");
	path_invalid("emails[type eq work].value", "a filter without quotes");
	path_invalid("emails[type = \"work\"].value", "a filter without 'eq'");
	path_invalid("emails[type eq \"work\"]", "an element without a "
	    "sub-attribute");
	path_invalid("emails[type eq \"\"].value", "a filter with an empty type");
	path_invalid("emails.value", "a multi-valued attribute without a filter");
	path_invalid(ENT ":shoeSize", "an unknown enterprise attribute");
	path_invalid("urn:example:User:employeeNumber", "an unknown schema URN");
}

static void
add_fails(struct mapping *m, const char *path, const char *text,
    const char *want, const char *name)
{
	struct err err = ERR_INIT;
	size_t before = mapping_count(m);

	is_int(mapping_add(m, path, text, &err), L2S_EPARSE, "%s (outcome)",
	    name);
	is_str(err.msg, want, "%s", name);
	is_int(mapping_count(m), before, "%s (nothing added)", name);
}

static void
test_mapping(void)
{
	struct mapping *m = NULL;
	struct err err = ERR_INIT;

	if (!ok(mapping_new(&m, &err) == L2S_OK && m != NULL,
	    "an empty mapping is made"))
		return;
	is_int(mapping_finish(m, &err), L2S_EPARSE,
	    "a mapping without userName is refused when finished");
	is_str(err.msg, "the mapping must set 'userName'",
	    "the missing userName is named");

	is_int(mapping_add(m, "displayName", "{cn}", &err), L2S_OK,
	    "displayName is mapped");
	is_int(mapping_add(m, "userName", "{uid}", &err), L2S_OK,
	    "userName is mapped");
	is_int(mapping_add(m, "active", "{enabled}", &err), L2S_OK,
	    "active is mapped");
	is_int(mapping_add(m, ENT ":manager", "{manager}", &err), L2S_OK,
	    "the enterprise manager is mapped");
	is_int(mapping_finish(m, &err), L2S_OK,
	    "a mapping with userName finishes");
	is_int(mapping_count(m), 4, "the mapping holds four rules");
	is_str(mapping_path(m, 0), "displayName", "rules keep their order "
	    "(first)");
	is_str(mapping_path(m, 1), "userName", "rules keep their order "
	    "(second)");
	is_int(mapping_kind(m, 2), MAP_BOOLEAN, "active is a boolean rule");
	is_int(mapping_kind(m, 3), MAP_MANAGER, "the manager is a manager rule");
	is_str(template_attr(mapping_template(m, 1), 0), "uid",
	    "a rule's template is compiled");

	add_fails(m, "favouriteColour", "{x}",
	    "unknown SCIM attribute 'favouriteColour'",
	    "an unknown SCIM attribute is refused");
	add_fails(m, "externalId", "{entryUUID}", "SCIM attribute 'externalId' "
	    "cannot be mapped: ldap2scim sets it (externalId is the directory "
	    "key)", "externalId is refused");
	add_fails(m, "id", "{entryUUID}", "SCIM attribute 'id' cannot be "
	    "mapped: ldap2scim sets it (externalId is the directory key)",
	    "id is refused");
	add_fails(m, "emails[type eq work].value", "{mail}",
	    "unknown SCIM attribute 'emails[type eq work].value'",
	    "a path with bad filter syntax is refused");
	add_fails(m, "userName", "{mail}",
	    "SCIM attribute 'userName' is mapped twice",
	    "a path mapped twice is refused");
	add_fails(m, "title", "{title",
	    "template '{title': expected an LDAP attribute name and '}' at "
	    "offset 1", "a bad template is refused with the template error");
	mapping_free(m);
}

/* Active Directory: proxyAddresses picked by filter, binary GUID and SID
 * written out, case filters. */
static void
test_filters_and_ad(void)
{
	static const char guid[16] = {
		0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
		(char)0x88, (char)0x99, (char)0xaa, (char)0xbb,
		(char)0xcc, (char)0xdd, (char)0xee, (char)0xff
	};
	static const char sid[28] = {
		1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0,
		(char)0xdc, (char)0xf4, (char)0xdc, 0x3b,
		(char)0x83, 0x3d, 0x2b, 0x46,
		(char)0x82, (char)0x8b, (char)0xa6, 0x28, 0, 2, 0, 0
	};
	struct fx_entry f;
	struct err err = ERR_INIT;
	char *s;
	int rc;

	fx_entry_init(&f, DN);
	fx_add(&f, "proxyAddresses", "x500:/o=Org/cn=alice");
	fx_add(&f, "proxyAddresses", "smtp:al@old.example.com");
	fx_add(&f, "proxyAddresses", "SMTP:Alice.Liddell@Example.com");
	fx_add(&f, "proxyAddresses", "smtp:second@old.example.com");
	fx_add(&f, "sAMAccountName", "ALiddell");
	fx_addn(&f, "objectGUID", guid, sizeof(guid));
	fx_addn(&f, "objectSid", sid, sizeof(sid));
	fx_addn(&f, "badGUID", guid, 15);

	s = render("{proxyAddresses|smtp_primary}", &f.e, &rc, &err);
	is_str(s, "Alice.Liddell@Example.com",
	    "smtp_primary picks the SMTP: address, without the prefix");
	free(s);
	s = render("{proxyAddresses|smtp_primary|lower}", &f.e, &rc, &err);
	is_str(s, "alice.liddell@example.com", "and lower after it lowers it");
	free(s);
	s = render("{proxyAddresses|smtp_secondary}", &f.e, &rc, &err);
	is_str(s, "al@old.example.com",
	    "smtp_secondary picks the first smtp: address");
	free(s);
	s = render("{sAMAccountName|upper}@{sAMAccountName|lower}", &f.e, &rc,
	    &err);
	is_str(s, "ALIDDELL@aliddell", "upper and lower apply to their own "
	    "reference only");
	free(s);
	s = render("{objectGUID}", &f.e, &rc, &err);
	is_str(s, "00112233-4455-6677-8899-aabbccddeeff",
	    "objectGUID renders in its registry form");
	free(s);
	s = render("{objectSid}", &f.e, &rc, &err);
	is_str(s, "S-1-5-21-1004336348-1177238915-682003330-512",
	    "objectSid renders as S-1-5-...");
	free(s);

	fx_entry_init(&f, DN);
	fx_add(&f, "proxyAddresses", "smtp:al@old.example.com");
	fx_add(&f, "proxyAddresses", "SMTP:");
	s = render("{proxyAddresses|smtp_primary}", &f.e, &rc, &err);
	ok(s == NULL && rc == L2S_ENOTFOUND, "no SMTP: address (or an empty "
	    "one) renders as absent");
	free(s);
	fx_addn(&f, "objectGUID", guid, 15);
	fx_addn(&f, "objectSid", sid, 27);
	s = render("{objectGUID}", &f.e, &rc, &err);
	ok(s == NULL && rc == L2S_EPARSE, "a GUID that is not 16 bytes is "
	    "refused");
	like(err.msg, "attribute 'objectGUID' of '" DN "' is not a 16-byte "
	    "GUID", "naming the attribute and the entry");
	free(s);
	s = render("{objectSid}", &f.e, &rc, &err);
	ok(s == NULL && rc == L2S_EPARSE, "a truncated SID is refused");
	like(err.msg, "is not a valid SID", "with the reason");
	free(s);

	ok(adattr_filetime(0) == 116444736000000000LL &&
	    adattr_filetime(1577836800) == 132223104000000000LL,
	    "FILETIME counts 100 ns from 1601 (1970 and 2020-01-01 checked)");
	{
		char text[16];

		ok(adattr_sid_text(sid, sizeof(sid), text, sizeof(text)) != 0,
		    "a SID that does not fit the buffer is refused, not cut");
	}

	compile_fails("{mail|lowercase}", "template '{mail|lowercase}': unknown "
	    "filter 'lowercase' at offset 6 (known: smtp_primary, "
	    "smtp_secondary, lower, upper)", "an unknown filter is refused");
	compile_fails("{mail|lower|smtp_primary}", "template "
	    "'{mail|lower|smtp_primary}': filter 'smtp_primary' chooses among "
	    "the values and must come first",
	    "a selecting filter after another is refused");
	compile_fails("{mail|}", "template '{mail|}': unknown filter '' at "
	    "offset 6 (known: smtp_primary, smtp_secondary, lower, upper)",
	    "an empty filter name is refused");
	compile_fails("{mail|lower|lower|lower|lower}", "template "
	    "'{mail|lower|lower|lower|lower}': more than 3 filters on one "
	    "attribute", "more than three filters are refused");
	compile_fails("{mail lower}", "template '{mail lower}': expected an "
	    "LDAP attribute name and '}' at offset 1",
	    "a filter without '|' is refused");
}

int
main(void)
{
	test_render();
	test_render_not_text();
	test_render_too_long();
	test_compile_errors();
	test_filters_and_ad();
	test_template_attrs();
	test_paths();
	test_mapping();
	return tap_done();
}
