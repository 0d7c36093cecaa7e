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

/* template_render_buf() into buffers kept from call to call, beside
 * every template_render() below: renders that disagree, and how many. */
static struct buf kept_out = BUF_INIT, kept_seg = BUF_INIT;
static size_t buf_renders, buf_disagree;

/* Compile text and render it against e; *rc gets the render outcome. */
static char *
render(const char *text, const struct entry *e, int *rc, struct err *err)
{
	struct template *t = NULL;
	struct err e2 = ERR_INIT;
	char *out = NULL;
	int rc2;

	*rc = template_compile(&t, text, err);
	if (*rc != L2S_OK)
		return NULL;
	*rc = template_render(t, e, &out, err);
	rc2 = template_render_buf(t, e, &kept_out, &kept_seg, &e2);
	buf_renders++;
	if (rc2 != *rc || (rc2 == L2S_OK && (out == NULL ||
	    strlen(out) != kept_out.len || strcmp(out, buf_str(&kept_out)) != 0)) ||
	    (rc2 != L2S_OK && rc2 != L2S_ENOTFOUND &&
	    strcmp(e2.msg, err->msg) != 0))
		buf_disagree++;
	template_free(t);
	return out;
}

static void
render_buf_should_agree(void)
{
	ok(buf_renders > 50, "template_render_buf() ran beside %zu renders",
	    buf_renders);
	is_int((int)buf_disagree, 0, "and gave the same outcome, text and "
	    "message every time, its buffers reused");
	buf_free(&kept_out);
	buf_free(&kept_seg);
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
	add_fails(m, "urn:acme:badge", "{x}",
	    "unknown SCIM attribute 'urn:acme:badge': an extension attribute "
	    "is written URN:ATTRIBUTE, the URN of at least three parts after "
	    "'urn:', such as "
	    "'urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge' (the "
	    "core and enterprise schemas take only their own attributes)",
	    "an extension URN of two parts is refused, saying how to write one");
	add_fails(m, SCIM_ENTERPRISE_URN ":badge", "{x}",
	    "unknown SCIM attribute '" SCIM_ENTERPRISE_URN ":badge': an "
	    "extension attribute is written URN:ATTRIBUTE, the URN of at least "
	    "three parts after 'urn:', such as "
	    "'urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge' (the "
	    "core and enterprise schemas take only their own attributes)",
	    "an attribute the enterprise extension does not have is refused");
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

	ok(adattr_is_guid("objectGUID") && adattr_is_guid("OBJECTGUID") &&
	    adattr_is_guid("objectguid") && adattr_is_sid("objectSid") &&
	    adattr_is_sid("ObjectSID"), "objectGUID and objectSid are told "
	    "in any case");
	ok(!adattr_is_guid("") && !adattr_is_guid("o") &&
	    !adattr_is_guid("bjectGUID") && !adattr_is_guid("objectGUIDs") &&
	    !adattr_is_guid("objectSid") && !adattr_is_sid("objectGUID") &&
	    !adattr_is_sid("pbjectSid") && !adattr_is_sid("mail"),
	    "and no other name is taken for them");
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
	    "smtp_secondary, first, join, lower, upper, trim, default, replace, "
	    "match, not, digest)", "an unknown filter is refused");
	compile_fails("{mail|lower|smtp_primary}", "template "
	    "'{mail|lower|smtp_primary}': filter 'smtp_primary' chooses among "
	    "the values and must come first",
	    "a selecting filter after another is refused");
	compile_fails("{mail|}", "template '{mail|}': unknown filter '' at "
	    "offset 6 (known: smtp_primary, smtp_secondary, first, join, lower, "
	    "upper, trim, default, replace, match, not, digest)",
	    "an empty filter name is refused");
	compile_fails("{mail|trim|lower|upper|lower|upper|lower|upper}",
	    "template '{mail|trim|lower|upper|lower|upper|lower|upper}': more "
	    "than 6 filters on one attribute",
	    "more than six filters are refused");
	compile_fails("{mail lower}", "template '{mail lower}': expected an "
	    "LDAP attribute name and '}' at offset 1",
	    "a filter without '|' is refused");
}

/* Render text against e and expect want (NULL: absent). */
static void
renders(const char *text, const struct entry *e, const char *want,
    const char *name)
{
	struct err err = ERR_INIT;
	char *s;
	int rc;

	s = render(text, e, &rc, &err);
	if (want == NULL) {
		is_int(rc, L2S_ENOTFOUND, "%s (outcome)", name);
		ok(s == NULL, "%s (no text)", name);
	} else {
		is_int(rc, L2S_OK, "%s (outcome)", name);
		is_str(s, want, "%s", name);
	}
	free(s);
}

/* Rendering must fail with L2S_EPARSE and exactly want. */
static void
render_fails(const char *text, const struct entry *e, const char *want,
    const char *name)
{
	struct err err = ERR_INIT;
	char *s;
	int rc;

	s = render(text, e, &rc, &err);
	is_int(rc, L2S_EPARSE, "%s (outcome)", name);
	ok(s == NULL, "%s (no text)", name);
	is_str(err.msg, want, "%s", name);
	free(s);
}

/* trim, default, first and join. */
static void
test_filters_values(void)
{
	struct fx_entry f;

	fx_entry_init(&f, DN);
	fx_add(&f, "cn", " \t Alice Liddell\r\n ");
	fx_add(&f, "description", " \t\r\n");
	fx_add(&f, "mail", "alice@example.com");
	fx_add(&f, "mail", "");
	fx_add(&f, "mail", "al@example.com");
	fx_add(&f, "uid", "alice");
	fx_add(&f, "title", "");
	fx_add(&f, "sn", "Liddell");

	renders("[{cn|trim}]", &f.e, "[Alice Liddell]",
	    "trim strips blanks, tabs, CR and LF at both ends only");
	renders("[{uid|trim}]", &f.e, "[alice]",
	    "trim leaves a value without blanks as it is");
	renders("{description|trim}", &f.e, NULL,
	    "a value that trim empties counts as absent");
	renders("{description|trim|default(\"none\")}", &f.e, "none",
	    "default after trim replaces a value trim emptied");

	renders("{manager|default(\"nobody@example.com\")}", &f.e,
	    "nobody@example.com", "default replaces an absent attribute");
	renders("{manager}", &f.e, NULL,
	    "an absent attribute without default is still absent");
	renders("<{title|default(\"staff\")}>", &f.e, "<staff>",
	    "default replaces an empty value");
	renders("{uid|default(\"nobody\")}", &f.e, "alice",
	    "default leaves a present value alone");
	renders("{manager|default(\"Say \\\"hi\\\" \\\\ back\")}", &f.e,
	    "Say \"hi\" \\ back",
	    "inside quotes '\\\"' is a quote and '\\\\' a backslash");
	renders("{manager|default(\"a\\.b\")}", &f.e, "a\\.b",
	    "any other backslash in quotes stays as written");
	renders("{manager|default(\"x|y) (z\")}", &f.e, "x|y) (z",
	    "'|', ')' and '(' inside quotes are text");
	renders("{manager|default(\"\")}", &f.e, NULL,
	    "an empty default leaves the attribute absent");
	renders("{manager|upper|default(\"none\")|upper}", &f.e, "NONE",
	    "filters before default pass an absent value on, those after "
	    "apply to the default");
	renders("{manager|default( \"x\" )}", &f.e, "x",
	    "blanks around an argument are allowed");

	renders("{mail|first}", &f.e, "alice@example.com",
	    "first picks the first value");
	renders("{mail|first|upper}", &f.e, "ALICE@EXAMPLE.COM",
	    "filters after first apply to the first value");
	renders("{mail|join(\", \")}", &f.e,
	    "alice@example.com, al@example.com",
	    "join joins all values with the separator, leaving out empty ones");
	renders("{mail|join(\"\")}", &f.e, "alice@example.comal@example.com",
	    "join with an empty separator concatenates");
	renders("{mail|join(\";\")|upper}", &f.e,
	    "ALICE@EXAMPLE.COM;AL@EXAMPLE.COM",
	    "filters after join apply to the joined text");
	renders("{uid|join(\", \")}", &f.e, "alice",
	    "join of one value is that value, without separator");
	renders("{title|join(\", \")}", &f.e, NULL,
	    "join of only empty values is absent");
	renders("{manager|join(\", \")}", &f.e, NULL,
	    "join of an absent attribute is absent");
	renders("{manager|join(\", \")|default(\"-\")}", &f.e, "-",
	    "default after join covers an absent attribute");
	renders("{sn|upper}, {cn|trim|lower}", &f.e, "LIDDELL, alice liddell",
	    "each reference has its own filters");
	renders("{uid|first|trim|lower|upper|lower|upper}", &f.e, "ALICE",
	    "six filters on one reference are accepted");
}

static void
test_filters_replace(void)
{
	static const char e_acute[] = "Ren\xc3\xa9";
	struct fx_entry f;
	char *big;

	fx_entry_init(&f, DN);
	fx_add(&f, "mail", "alice@old.example.com");
	fx_add(&f, "cn", "Alice Liddell");
	fx_add(&f, "uid", "abc");
	fx_add(&f, "l", "a/b/c");
	fx_addn(&f, "sn", e_acute, sizeof(e_acute) - 1);

	renders("{mail|replace(\"@old\\.example\\.com$\", \"@example.com\")}",
	    &f.e, "alice@example.com", "replace rewrites a match");
	renders("{mail|replace(\"o\", \"0\")}", &f.e, "alice@0ld.example.c0m",
	    "replace rewrites every match");
	renders("{mail|replace(\"^x\", \"y\")}", &f.e, "alice@old.example.com",
	    "replace without a match leaves the value alone");
	renders("{cn|replace(\"^([^ ]+) (.+)$\", \"\\2, \\1\")}", &f.e,
	    "Liddell, Alice", "'\\1' and '\\2' in the replacement are the groups");
	renders("{l|replace(\"/\", \"\\\\\\\\\")}", &f.e, "a\\b\\c",
	    "'\\\\' in the replacement is one backslash");
	renders("{uid|replace(\"x*\", \"-\")}", &f.e, "-a-b-c-",
	    "an empty match is replaced once between characters, "
	    "and the loop ends");
	renders("{uid|replace(\"b*\", \"-\")}", &f.e, "-a-c-",
	    "an empty match right after a match is not another one");
	renders("{uid|replace(\"^\", \">\")}", &f.e, ">abc",
	    "'^' matches only at the start of the value");
	renders("{sn|replace(\"x*\", \"-\")}", &f.e, "-R-e-n-\xc3\xa9-",
	    "an empty match steps over a multi-byte character whole");
	renders("{uid|replace(\"abc\", \"\")}", &f.e, NULL,
	    "a value that replace empties counts as absent");
	renders("{uid|replace(\"abc\", \"\")|default(\"none\")}", &f.e, "none",
	    "and default can stand in for it");
	renders("{manager|replace(\"^\", \"x\")}", &f.e, NULL,
	    "replace leaves an absent attribute absent");
	render_fails("{sn|replace(\"\xa9\", \"\")}", &f.e,
	    "filter 'replace' on attribute 'sn' of '" DN "' makes text that "
	    "is not valid UTF-8", "a replace that cuts a character in two is "
	    "refused");

	big = malloc(MAPPING_VALUE_MAX / 2 + 2);
	if (big == NULL)
		fx_bail("out of memory");
	memset(big, 'a', MAPPING_VALUE_MAX / 2 + 1);
	big[MAPPING_VALUE_MAX / 2 + 1] = '\0';
	fx_add(&f, "description", big);
	render_fails("{description|replace(\"a\", \"aa\")}", &f.e,
	    "attribute 'description' of '" DN "' makes a value of more than "
	    "65536 bytes, the limit for one SCIM value",
	    "a replace that grows the value past the limit is refused");
	renders("{description|replace(\"a\", \"\")|default(\"x\")}", &f.e, "x",
	    "a replace that shrinks a big value is fine");
	free(big);
}

/* The result is checked against MAPPING_VALUE_MAX after join and default,
 * and when the references are put together. */
static void
test_filters_size(void)
{
	struct fx_entry f;
	char *half, *text, *s;
	size_t n;
	struct err err = ERR_INIT;
	int rc;

	half = malloc(MAPPING_VALUE_MAX / 2 + 1);
	text = malloc(MAPPING_VALUE_MAX + 64);
	if (half == NULL || text == NULL)
		fx_bail("out of memory");
	memset(half, 'a', MAPPING_VALUE_MAX / 2);
	half[MAPPING_VALUE_MAX / 2] = '\0';

	fx_entry_init(&f, DN);
	fx_add(&f, "member", half);
	fx_add(&f, "member", half);
	fx_add(&f, "uid", "alice");
	s = render("{member|join(\"\")}", &f.e, &rc, &err);
	is_int(rc, L2S_OK, "a join of exactly MAPPING_VALUE_MAX bytes is kept");
	ok(s != NULL && strlen(s) == MAPPING_VALUE_MAX,
	    "a join of exactly MAPPING_VALUE_MAX bytes is whole");
	free(s);
	render_fails("{member|join(\", \")}", &f.e, "attribute 'member' of '"
	    DN "' makes a value of more than 65536 bytes, the limit for one "
	    "SCIM value", "a join whose separators push it past the limit is "
	    "refused");
	render_fails("{uid}{member|join(\"\")}", &f.e, "attribute 'member' of '"
	    DN "' makes a value of more than 65536 bytes, the limit for one "
	    "SCIM value", "a join that fits alone but not after the text "
	    "before it is refused");

	n = (size_t)snprintf(text, 64, "{manager|default(\"");
	memset(text + n, 'd', MAPPING_VALUE_MAX + 1);
	strcpy(text + n + MAPPING_VALUE_MAX + 1, "\")}");
	render_fails(text, &f.e, "attribute 'manager' of '" DN "' makes a "
	    "value of more than 65536 bytes, the limit for one SCIM value",
	    "a default text over the limit is refused when it is used");
	free(half);
	free(text);
}

/* "active" from a condition: match and not. */
static void
test_filters_active(void)
{
	static const char cond[] = "{employeeType|default(\"none\")|"
	    "match(\"^(staff|contractor)$\")}";
	static const char notcond[] = "{employeeType|default(\"none\")|"
	    "match(\"^(staff|contractor)$\")|not}";
	struct mapping *m = NULL;
	struct err err = ERR_INIT;
	struct fx_entry f;

	fx_entry_init(&f, DN);
	fx_add(&f, "employeeType", "staff");
	renders(cond, &f.e, "true", "match gives true when the regex matches");
	renders(notcond, &f.e, "false", "not turns true into false");
	fx_entry_init(&f, DN);
	fx_add(&f, "employeeType", "contractor");
	renders(cond, &f.e, "true", "match tries every alternative");
	fx_entry_init(&f, DN);
	fx_add(&f, "employeeType", "staffing");
	renders(cond, &f.e, "false", "match gives false when the regex does "
	    "not match");
	renders(notcond, &f.e, "true", "not turns false into true");
	fx_add(&f, "userAccountControl", "514");
	fx_add(&f, "description", "disabled by HR");
	fx_add(&f, "cn", "TRUE");
	renders("{employeeType|match(\"staff\")}", &f.e, "true",
	    "an unanchored regex matches anywhere in the value");
	renders("{description|match(\"(^| )disabled( |$)\")|not}", &f.e,
	    "false", "match and not make a condition on a word");
	renders("{cn|not}", &f.e, "false",
	    "not reads true and false without regard to case");

	fx_entry_init(&f, DN);
	renders(cond, &f.e, "false", "an absent attribute with a default "
	    "is tested through the default");
	renders("{employeeType|match(\"^staff$\")}", &f.e, NULL,
	    "match leaves an absent attribute absent");
	renders("{employeeType|not}", &f.e, NULL,
	    "not leaves an absent attribute absent");
	fx_add(&f, "employeeType", "staff");
	render_fails("{employeeType|not}", &f.e, "attribute 'employeeType' of '"
	    DN "': filter 'not' needs 'true' or 'false'",
	    "not of anything but true or false is refused, naming the attribute "
	    "and the entry");

	if (!ok(mapping_new(&m, &err) == L2S_OK, "a mapping is made"))
		return;
	is_int(mapping_add(m, "active", notcond, &err), L2S_OK,
	    "active takes a condition");
	is_int(mapping_kind(m, 0), MAP_BOOLEAN, "the condition is a boolean rule");
	is_str(template_attr(mapping_template(m, 0), 0), "employeeType",
	    "the condition reads its attribute");
	mapping_free(m);
}

static void
test_filters_errors(void)
{
	compile_fails("{cn|replace(\"(a\", \"b\")}", "template "
	    "'{cn|replace(\"(a\", \"b\")}': invalid regular expression '(a' in "
	    "filter 'replace' at offset 4: Unmatched ( or \\(",
	    "an invalid regex in replace is refused with regerror's text");
	compile_fails("{cn|match(\"[a\")}", "template '{cn|match(\"[a\")}': "
	    "invalid regular expression '[a' in filter 'match' at offset 4: "
	    "Unmatched [, [^, [:, [., or [=",
	    "an invalid regex in match is refused with regerror's text");
	compile_fails("{cn|replace(\"a\", \"\\0\")}", "template "
	    "'{cn|replace(\"a\", \"\\0\")}': in the replacement '\\0' of filter "
	    "'replace' at offset 4, '\\' must be followed by a group number 1 "
	    "to 9 or '\\'", "'\\0' in a replacement is refused");
	compile_fails("{cn|replace(\"a\", \"x\\\\\")}", "template "
	    "'{cn|replace(\"a\", \"x\\\\\")}': in the replacement 'x\\' of filter "
	    "'replace' at offset 4, '\\' must be followed by a group number 1 "
	    "to 9 or '\\'", "a lone backslash ending a replacement is refused");
	compile_fails("{cn|replace(\"(a)\", \"\\2\")}", "template "
	    "'{cn|replace(\"(a)\", \"\\2\")}': the replacement '\\2' of filter "
	    "'replace' at offset 4 refers to group 2, but the regular "
	    "expression has 1", "a replacement naming a missing group is "
	    "refused");

	compile_fails("{mail|default(none)}", "template '{mail|default(none)}': "
	    "expected '\"' at offset 14 (filter arguments are quoted: "
	    "default(\"TEXT\"))", "an unquoted argument is refused");
	compile_fails("{mail|default(\"none", "template '{mail|default(\"none': "
	    "unterminated string at offset 14 (filter arguments are quoted: "
	    "default(\"TEXT\"))", "an unterminated string is refused");
	compile_fails("{mail|default(\"a\"b\")}", "template "
	    "'{mail|default(\"a\"b\")}': expected ',' or ')' at offset 17 in the "
	    "arguments of filter 'default'", "text after a closing quote is "
	    "refused");
	compile_fails("{mail|default(\"none\"}", "template "
	    "'{mail|default(\"none\"}': expected ',' or ')' at offset 20 in the "
	    "arguments of filter 'default'", "a missing ')' is refused");
	compile_fails("{mail|default(\"none\")", "template "
	    "'{mail|default(\"none\")': expected '|' or '}' at offset 21",
	    "a missing '}' after the arguments is refused");
	compile_fails("{mail|default(\"none\") |lower}", "template "
	    "'{mail|default(\"none\") |lower}': expected '|' or '}' at offset 21",
	    "text between filters is refused");
	compile_fails("{mail|default}", "template '{mail|default}': filter "
	    "'default' needs arguments at offset 13 (write default(\"TEXT\"))",
	    "default without arguments is refused");
	compile_fails("{mail|join|lower}", "template '{mail|join|lower}': filter "
	    "'join' needs arguments at offset 10 (write join(\"SEP\"))",
	    "join without arguments is refused");
	compile_fails("{mail|default()}", "template '{mail|default()}': filter "
	    "'default' takes 1 argument, not 0, at offset 13 (write "
	    "default(\"TEXT\"))", "default with an empty list is refused");
	compile_fails("{mail|default(\"a\", \"b\")}", "template "
	    "'{mail|default(\"a\", \"b\")}': filter 'default' takes 1 argument, "
	    "not 2, at offset 13 (write default(\"TEXT\"))",
	    "default with two arguments is refused");
	compile_fails("{mail|replace(\"a\")}", "template "
	    "'{mail|replace(\"a\")}': filter 'replace' takes 2 arguments, not 1, "
	    "at offset 13 (write replace(\"REGEX\", \"REPL\"))",
	    "replace with one argument is refused");
	compile_fails("{mail|lower()}", "template '{mail|lower()}': filter "
	    "'lower' takes no arguments at offset 11",
	    "an empty argument list on a filter that takes none is refused");
	compile_fails("{mail|trim(\" \")}", "template '{mail|trim(\" \")}': "
	    "filter 'trim' takes no arguments at offset 10",
	    "an argument to a filter that takes none is refused");
	compile_fails("{mail|default(\"{x}\")}", "template "
	    "'{mail|default(\"{x}\")}': '{' at offset 15: filter arguments "
	    "cannot contain '{' or '}'", "'{' in an argument is refused");
	compile_fails("{mail|default(\"}\")}", "template "
	    "'{mail|default(\"}\")}': '}' at offset 15: filter arguments cannot "
	    "contain '{' or '}'", "'}' in an argument is refused");
	compile_fails("{mail|lower|first}", "template '{mail|lower|first}': "
	    "filter 'first' chooses among the values and must come first",
	    "first after another filter is refused");
	compile_fails("{mail|first|join(\",\")}", "template "
	    "'{mail|first|join(\",\")}': filter 'join' chooses among the values "
	    "and must come first", "two selecting filters are refused");
	compile_fails("{mail|smtp_primary(\"x\")}", "template "
	    "'{mail|smtp_primary(\"x\")}': filter 'smtp_primary' takes no "
	    "arguments at offset 18", "smtp_primary takes no arguments");
	compile_fails("{mail|lower x}", "template '{mail|lower x}': unknown "
	    "filter 'lower x' at offset 6 (known: smtp_primary, smtp_secondary, "
	    "first, join, lower, upper, trim, default, replace, match, not, "
	    "digest)",
	    "a filter name with a blank in it is unknown");
}

/* The digest filter: 32 hex digits of the SHA-256 of the value. */
static void
test_filters_digest(void)
{
	/* A JPEG start, with a NUL and bytes that are not UTF-8. */
	static const char photo[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x80\xfe";
	char other[sizeof(photo)];
	struct fx_entry f, g;
	struct err err = ERR_INIT;
	char *s, *t;
	int rc;

	fx_entry_init(&f, DN);
	fx_add(&f, "uid", "alice");
	fx_addn(&f, "jpegPhoto", photo, sizeof(photo) - 1);
	fx_add(&f, "mail", "Alice@Example.com");
	fx_add(&f, "mail", "al@example.com");
	fx_addn(&f, "cn", photo, sizeof(photo) - 1);
	fx_add(&f, "title", "");

	s = render("https://photos.example.com/{uid}.jpg?v={jpegPhoto|digest}",
	    &f.e, &rc, &err);
	is_int(rc, L2S_OK, "digest accepts a binary value");
	is_str(s, "https://photos.example.com/alice.jpg?v="
	    "98ba906c3536b362e0e52f9eb373cef0",
	    "digest renders the first 16 bytes of the SHA-256 in lower-case hex");
	free(s);

	s = render("{jpegPhoto|first|digest}", &f.e, &rc, &err);
	is_str(s, "98ba906c3536b362e0e52f9eb373cef0",
	    "first before digest still digests the raw bytes");
	free(s);

	s = render("{jpegPhoto|digest|upper}", &f.e, &rc, &err);
	is_str(s, "98BA906C3536B362E0E52F9EB373CEF0",
	    "filters after digest work on its hex text");
	free(s);

	memcpy(other, photo, sizeof(photo));
	other[sizeof(photo) - 2] ^= 0x01;
	fx_entry_init(&g, DN);
	fx_addn(&g, "jpegPhoto", other, sizeof(other) - 1);
	s = render("{jpegPhoto|digest}", &f.e, &rc, &err);
	t = render("{jpegPhoto|digest}", &g.e, &rc, &err);
	ok(s != NULL && t != NULL && strcmp(s, t) != 0,
	    "the digest changes when one byte of the value changes");
	free(s);
	free(t);

	s = render("{uid|digest}", &f.e, &rc, &err);
	is_str(s, "2bd806c97f0e00af1a1fc3328fa763a9",
	    "digest of a text value digests its bytes");
	free(s);

	s = render("{mail|lower|digest}", &f.e, &rc, &err);
	t = render("{mail|first|lower|digest}", &f.e, &rc, &err);
	is_str(s, t, "digest after another filter digests the filtered text");
	free(s);
	s = render("{mail|digest}", &f.e, &rc, &err);
	ok(s != NULL && t != NULL && strcmp(s, t) != 0,
	    "lower before digest changes the digest of mixed-case text");
	free(s);
	free(t);

	s = render("{mail|join(\",\")|digest}", &f.e, &rc, &err);
	is_str(s, "d786eeeba99e512b838f47876e8b877c",
	    "digest after join digests the joined text");
	free(s);

	s = render("{cn|lower|digest}", &f.e, &rc, &err);
	is_int(rc, L2S_EPARSE, "a binary value before a text filter is refused");
	is_str(err.msg, "attribute 'cn' of '" DN "' is not valid UTF-8 text",
	    "the refusal names the attribute and the entry");
	free(s);

	s = render("{title|digest}", &f.e, &rc, &err);
	is_int(rc, L2S_ENOTFOUND, "digest of an empty value is absent");
	ok(s == NULL, "an absent digest renders nothing");
	s = render("{thumbnailPhoto|digest}", &f.e, &rc, &err);
	is_int(rc, L2S_ENOTFOUND, "digest of a missing attribute is absent");
	s = render("{thumbnailPhoto|digest|default(\"none\")}", &f.e, &rc,
	    &err);
	is_str(s, "none", "default after digest fills in a missing value");
	free(s);

	compile_fails("{jpegPhoto|digest(\"x\")}", "template "
	    "'{jpegPhoto|digest(\"x\")}': filter 'digest' takes no arguments "
	    "at offset 17", "digest takes no arguments");
	compile_fails("{jpegPhoto|digest|first}", "template "
	    "'{jpegPhoto|digest|first}': filter 'first' chooses among the values "
	    "and must come first", "digest is not a selecting filter");
}

int
main(void)
{
	test_render();
	test_render_not_text();
	test_render_too_long();
	test_compile_errors();
	test_filters_and_ad();
	test_filters_values();
	test_filters_replace();
	test_filters_size();
	test_filters_active();
	test_filters_errors();
	test_template_attrs();
	test_paths();
	test_mapping();
	test_filters_digest();
	render_buf_should_agree();
	return tap_done();
}
