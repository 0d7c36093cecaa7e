/*
 * test_scimjson.c - SCIM User and Group resources and PATCH operations
 * built from records: nesting of flat paths, booleans, the enterprise
 * extension and its manager reference, and minimal attribute-level PATCHes
 *
 * PATCH operations are compared as compact JSON text: their order and
 * shape are what a SCIM service receives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fixtures.h"
#include "mapping.h"
#include "record.h"
#include "scimjson.h"
#include "tap.h"

#define ENT SCIM_ENTERPRISE_URN
#define CORE "urn:ietf:params:scim:schemas:core:2.0:User"
#define WORK "emails[type eq \"work\"]"
#define WORK_JSON "emails[type eq \\\"work\\\"]"	/* inside JSON text */

static int ncalls;

/* Only the boss has a SCIM id. */
static const char *
ids(void *arg, const char *key)
{
	(void)arg;
	ncalls++;
	return strcmp(key, "u-boss") == 0 ? "scim-boss" : NULL;
}

static const cJSON *
get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *v = get(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Compact text of j (for comparing); the caller frees. */
static char *
text(const cJSON *j)
{
	return j != NULL ? cJSON_PrintUnformatted(j) : NULL;
}

static void
is_json(const cJSON *j, const char *want, const char *name)
{
	char *s = text(j);

	is_str(s, want, "%s", name);
	free(s);
}

static void
test_user(void)
{
	struct record *r = fx_user("u-alice", "alice");
	struct err err = ERR_INIT;
	const cJSON *schemas, *name, *emails, *el, *ent, *phones, *addrs;
	cJSON *u = NULL;

	fx_set(r, "displayName", "Alice L");
	fx_set(r, "name.givenName", "Alice");
	fx_set(r, "name.familyName", "Liddell");
	fx_set(r, WORK ".value", "alice@example.com");
	fx_set(r, "phoneNumbers[type eq \"mobile\"].value", "+44 7700 900123");
	fx_set(r, "addresses[type eq \"work\"].locality", "Oxford");
	fx_set(r, "addresses[type eq \"work\"].postalCode", "OX1 1AA");
	fx_set(r, ENT ":employeeNumber", "1001");
	fx_set(r, ENT ":manager", "u-boss");

	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user resource is built");
	if (u == NULL)
		goto done;
	schemas = get(u, "schemas");
	ok(cJSON_GetArraySize(schemas) == 2 &&
	    strcmp(cJSON_GetArrayItem(schemas, 0)->valuestring, CORE) == 0 &&
	    strcmp(cJSON_GetArrayItem(schemas, 1)->valuestring, ENT) == 0,
	    "the schemas list the core User and the enterprise extension");
	is_str(str(u, "externalId"), "u-alice", "externalId is the record key");
	ok(get(u, "id") == NULL, "the resource carries no id");
	is_str(str(u, "userName"), "alice", "userName is a top-level string");
	is_str(str(u, "displayName"), "Alice L",
	    "displayName is a top-level string");
	ok(cJSON_IsTrue(get(u, "active")), "active \"true\" is the boolean true");

	name = get(u, "name");
	ok(cJSON_IsObject(name) && cJSON_GetArraySize(name) == 2,
	    "name.* paths become one nested name object");
	is_str(str(name, "givenName"), "Alice", "name.givenName is nested");
	is_str(str(name, "familyName"), "Liddell", "name.familyName is nested");

	emails = get(u, "emails");
	ok(cJSON_IsArray(emails) && cJSON_GetArraySize(emails) == 1,
	    "emails is an array of one element");
	el = cJSON_GetArrayItem(emails, 0);
	is_str(str(el, "type"), "work", "the email element has its type");
	is_str(str(el, "value"), "alice@example.com",
	    "the email element has its value");
	ok(cJSON_IsTrue(get(el, "primary")), "the only email is primary: true");

	phones = get(u, "phoneNumbers");
	el = cJSON_GetArrayItem(phones, 0);
	ok(cJSON_GetArraySize(phones) == 1 && str(el, "type") != NULL &&
	    strcmp(str(el, "type"), "mobile") == 0 &&
	    strcmp(str(el, "value"), "+44 7700 900123") == 0,
	    "a mobile phone number becomes a typed element");
	ok(cJSON_IsTrue(get(el, "primary")),
	    "the only phone number is primary too");

	addrs = get(u, "addresses");
	el = cJSON_GetArrayItem(addrs, 0);
	ok(cJSON_GetArraySize(addrs) == 1 && str(el, "locality") != NULL &&
	    strcmp(str(el, "locality"), "Oxford") == 0 &&
	    str(el, "postalCode") != NULL &&
	    strcmp(str(el, "postalCode"), "OX1 1AA") == 0,
	    "two sub-attributes of one typed element share one element");

	ent = get(u, ENT);
	ok(cJSON_IsObject(ent), "the enterprise attributes are one object "
	    "under the extension URN");
	is_str(str(ent, "employeeNumber"), "1001",
	    "employeeNumber is in the extension object");
	is_json(get(ent, "manager"), "{\"value\":\"scim-boss\"}",
	    "the manager is {\"value\": SCIM id} from the callback");
	ok(get(u, ENT ":employeeNumber") == NULL,
	    "no flat enterprise path is left at the top level");
done:
	cJSON_Delete(u);

	/* The manager has no SCIM id yet; then none at all. */
	u = NULL;
	fx_set(r, ENT ":manager", "u-nobody");
	fx_set(r, "active", "false");
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user whose manager has no SCIM id is built");
	ok(u != NULL && cJSON_IsObject(get(u, ENT)) &&
	    get(get(u, ENT), "manager") == NULL &&
	    str(get(u, ENT), "employeeNumber") != NULL,
	    "a manager without a SCIM id is omitted, the rest is kept");
	ok(u != NULL && cJSON_IsFalse(get(u, "active")),
	    "active \"false\" is the boolean false");
	cJSON_Delete(u);
	u = NULL;
	is_int(scimjson_user(&u, r, NULL, NULL, NULL, &err), L2S_OK,
	    "a user is built without an id callback");
	ok(u != NULL && get(get(u, ENT), "manager") == NULL,
	    "without a callback the manager is omitted");
	cJSON_Delete(u);
	record_free(r);

	r = fx_user("u-plain", "plain");
	u = NULL;
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user without enterprise attributes is built");
	is_json(u, "{\"schemas\":[\"" CORE "\"],\"externalId\":\"u-plain\","
	    "\"active\":true,\"userName\":\"plain\"}",
	    "a user without enterprise attributes has the core schema only");
	cJSON_Delete(u);
	record_free(r);

	/* Only an unresolvable manager: no empty extension object. */
	r = fx_user("u-lone", "lone");
	fx_set(r, ENT ":manager", "u-nobody");
	u = NULL;
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user whose only enterprise attribute is an unknown manager is built");
	is_json(u, "{\"schemas\":[\"" CORE "\"],\"externalId\":\"u-lone\","
	    "\"active\":true,\"userName\":\"lone\"}",
	    "it carries neither an empty extension object nor its schema");
	cJSON_Delete(u);
	record_free(r);

	/* The work email is the primary one, whatever sorts first. */
	r = fx_user("u-two", "two");
	fx_set(r, "emails[type eq \"home\"].value", "two@home.example");
	fx_set(r, WORK ".value", "two@example.com");
	u = NULL;
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user with a home and a work email is built");
	is_json(get(u, "emails"), "[{\"type\":\"home\",\"value\":"
	    "\"two@home.example\"},{\"type\":\"work\",\"value\":"
	    "\"two@example.com\",\"primary\":true}]",
	    "exactly one email is primary, the work one");
	cJSON_Delete(u);
	record_free(r);
}

/* Build the PATCH from before to after and compare it with want. */
static void
patch_is(const struct attrs *before, const struct attrs *after,
    const char *want, const char *name)
{
	struct err err = ERR_INIT;
	cJSON *ops = NULL;
	int rc;

	rc = scimjson_user_patch(&ops, before, after, NULL, ids, NULL, &err);
	if (!ok(rc == L2S_OK && cJSON_IsArray(ops), "%s (built)", name))
		printf("#   %s\n", err.msg);
	is_json(ops, want, name);
	cJSON_Delete(ops);
}

static void
set(struct attrs *a, const char *path, const char *value)
{
	if (attrs_set(a, path, value) != 0)
		fx_bail("out of memory");
}

static void
test_patch(void)
{
	struct attrs b = ATTRS_INIT, a = ATTRS_INIT;

	set(&b, "userName", "alice");
	set(&b, "active", "true");
	set(&b, "title", "Engineer");
	set(&b, "displayName", "Alice");
	set(&b, "name.givenName", "Alice");
	if (attrs_copy(&a, &b) != 0)
		fx_bail("out of memory");

	patch_is(&b, &a, "[]", "equal attributes give an empty PATCH");

	set(&a, "title", "Manager");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"title\","
	    "\"value\":\"Manager\"}]",
	    "a changed simple attribute is replaced");
	set(&a, "title", "Engineer");

	attrs_del(&a, "displayName");
	patch_is(&b, &a, "[{\"op\":\"remove\",\"path\":\"displayName\"}]",
	    "a vanished attribute is removed");
	set(&a, "displayName", "Alice");

	set(&a, "name.givenName", "Alicia");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"name.givenName\","
	    "\"value\":\"Alicia\"}]",
	    "a changed sub-attribute is replaced by its dotted path");
	set(&a, "name.givenName", "Alice");

	set(&a, "active", "false");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"active\","
	    "\"value\":false}]", "active is replaced by a boolean");
	set(&a, "active", "true");

	set(&a, ENT ":employeeNumber", "1001");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"" ENT
	    ":employeeNumber\",\"value\":\"1001\"}]",
	    "a new enterprise attribute is set by its full URN path");
	attrs_del(&a, ENT ":employeeNumber");

	set(&a, ENT ":manager", "u-boss");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"" ENT ":manager\","
	    "\"value\":{\"value\":\"scim-boss\"}}]",
	    "a manager is set as {\"value\": SCIM id}");
	set(&a, ENT ":manager", "u-nobody");
	patch_is(&b, &a, "[]", "a manager without a SCIM id is left out of the "
	    "PATCH");
	attrs_del(&a, ENT ":manager");

	/* Multi-valued elements. */
	set(&a, WORK ".value", "alice@example.com");
	patch_is(&b, &a, "[{\"op\":\"add\",\"path\":\"emails\",\"value\":"
	    "[{\"type\":\"work\",\"value\":\"alice@example.com\","
	    "\"primary\":true}]}]",
	    "a new email element is added to emails whole, as the primary one");
	set(&b, WORK ".value", "alice@example.com");
	set(&a, WORK ".value", "alice@example.org");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":\"" WORK_JSON ".value\","
	    "\"value\":\"alice@example.org\"}]",
	    "a changed sub-attribute of an element is replaced by its path");
	attrs_del(&a, WORK ".value");
	patch_is(&b, &a, "[{\"op\":\"remove\",\"path\":\"" WORK_JSON "\"}]",
	    "a vanished element is removed by its filter");

	attrs_free(&a);
	attrs_free(&b);
	set(&b, "userName", "alice");
	set(&b, "addresses[type eq \"work\"].locality", "Oxford");
	set(&b, "addresses[type eq \"work\"].postalCode", "OX1 1AA");
	set(&a, "userName", "alice");
	patch_is(&b, &a, "[{\"op\":\"remove\",\"path\":"
	    "\"addresses[type eq \\\"work\\\"]\"}]",
	    "an element whose sub-attributes all vanished is removed once");
	patch_is(&a, &b, "[{\"op\":\"add\",\"path\":\"addresses\",\"value\":"
	    "[{\"type\":\"work\",\"locality\":\"Oxford\","
	    "\"postalCode\":\"OX1 1AA\",\"primary\":true}]}]",
	    "an element that appears with two sub-attributes is added once, "
	    "whole");
	if (attrs_copy(&a, &b) != 0)
		fx_bail("out of memory");
	attrs_del(&a, "addresses[type eq \"work\"].postalCode");
	set(&a, "addresses[type eq \"work\"].locality", "Cambridge");
	set(&a, "userName", "alice2");
	patch_is(&b, &a, "[{\"op\":\"replace\",\"path\":"
	    "\"addresses[type eq \\\"work\\\"].locality\","
	    "\"value\":\"Cambridge\"},"
	    "{\"op\":\"remove\",\"path\":"
	    "\"addresses[type eq \\\"work\\\"].postalCode\"},"
	    "{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"alice2\"}]",
	    "in a kept element each sub-attribute is replaced or removed on "
	    "its own, in path order");
	attrs_free(&a);
	attrs_free(&b);
}

static void
test_group(void)
{
	static const char *const members[] = { "scim-1", "scim-2" };
	static const char *const odd[] = { "plain", "we\"ird\\id" };
	struct record *g = fx_group("g-eng", "Engineering", NULL, 0);
	struct err err = ERR_INIT;
	cJSON *j = NULL;

	is_int(scimjson_group(&j, g, members, 2, &err), L2S_OK,
	    "a group resource is built");
	is_json(j, "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
	    "Group\"],\"displayName\":\"Engineering\",\"externalId\":\"g-eng\","
	    "\"members\":[{\"value\":\"scim-1\"},{\"value\":\"scim-2\"}]}",
	    "a group has its schema, name, key as externalId and member ids");
	cJSON_Delete(j);
	j = NULL;
	is_int(scimjson_group(&j, g, NULL, 0, &err), L2S_OK,
	    "a group without members is built");
	is_json(get(j, "members"), "[]", "a group without members has an empty "
	    "member list");
	cJSON_Delete(j);
	record_free(g);

	j = NULL;
	is_int(scimjson_members_add(&j, members, 2, &err), L2S_OK,
	    "a members add is built");
	is_json(j, "[{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"scim-1\"},{\"value\":\"scim-2\"}]}]",
	    "adding members is one add operation listing their ids");
	cJSON_Delete(j);

	j = NULL;
	is_int(scimjson_members_remove(&j, odd, 2, &err), L2S_OK,
	    "a members remove is built");
	is_json(j, "[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"plain\\\"]\"},"
	    "{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"we\\\\\\\"ird\\\\\\\\id\\\"]\"}]",
	    "removing members is one filtered remove per id, quotes and "
	    "backslashes escaped");
	if (j != NULL)
		is_str(str(cJSON_GetArrayItem(j, 1), "path"),
		    "members[value eq \"we\\\"ird\\\\id\"]",
		    "the remove filter escapes the quote and the backslash");
	cJSON_Delete(j);

	j = NULL;
	is_int(scimjson_group_rename(&j, "Platform", &err), L2S_OK,
	    "a rename is built");
	is_json(j, "[{\"op\":\"replace\",\"path\":\"displayName\","
	    "\"value\":\"Platform\"}]", "a rename replaces displayName");
	cJSON_Delete(j);

	j = NULL;
	is_int(scimjson_deactivate(&j, &err), L2S_OK, "a deactivation is built");
	is_json(j, "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]",
	    "a deactivation replaces active with false");
	cJSON_Delete(j);
}

static const char *
key_of(void *arg, const char *id)
{
	(void)arg;
	return strcmp(id, "scim-boss") == 0 ? "u-boss" : NULL;
}

/* Reading a remote user back into flat attributes is the inverse of
 * building it, for the mapped paths. */
static void
test_user_attrs(void)
{
	struct config *cfg = fx_config(FX_LDAP
	    "users:\n"
	    "  filter: (objectClass=inetOrgPerson)\n"
	    "  map:\n"
	    "    userName: \"{uid}\"\n"
	    "    name.givenName: \"{givenName}\"\n"
	    "    emails[type eq \"work\"].value: \"{mail}\"\n"
	    "    phoneNumbers[type eq \"work\"].value: \"{telephoneNumber}\"\n"
	    "    title: \"{title}\"\n"
	    "    " ENT ":employeeNumber: \"{employeeNumber}\"\n"
	    "    " ENT ":manager: \"{manager}\"\n"
	    FX_SCIM FX_SYNC);
	struct record *r = fx_user("u-alice", "alice");
	struct attrs back = ATTRS_INIT;
	struct err err = ERR_INIT;
	cJSON *u = NULL, *res;

	fx_set(r, "name.givenName", "Alice");
	fx_set(r, WORK ".value", "alice@example.com");
	fx_set(r, ENT ":employeeNumber", "1001");
	fx_set(r, ENT ":manager", "u-boss");
	fx_set(r, "active", "false");
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user to read back is built");
	is_int(scimjson_user_attrs(&back, u, cfg->users.map, key_of, NULL, &err),
	    L2S_OK, "scimjson_user_attrs reads a user resource");
	ok(attrs_equal(&back, &r->attrs), "reading back what was built gives "
	    "the same attributes (manager id back to its key, active, email)");
	attrs_free(&back);

	res = cJSON_Parse("{\"userName\":\"bob\",\"title\":42,"
	    "\"emails\":{\"type\":\"work\"},\"name\":\"x\","
	    "\"" ENT "\":{\"manager\":{\"value\":\"unknown\"}}}");
	is_int(scimjson_user_attrs(&back, res, cfg->users.map, key_of, NULL,
	    &err), L2S_OK, "a resource with wrong types is read without error");
	is_str(attrs_get(&back, "userName"), "bob", "its userName is read");
	ok(attrs_get(&back, "title") == NULL &&
	    attrs_get(&back, WORK ".value") == NULL &&
	    attrs_get(&back, "name.givenName") == NULL &&
	    attrs_get(&back, ENT ":manager") == NULL,
	    "values of the wrong type, and a manager not ours, are left out");
	is_str(attrs_get(&back, "active"), "true",
	    "a missing active reads as true (the SCIM default)");
	attrs_free(&back);
	cJSON_Delete(res);
	cJSON_Delete(u);
	record_free(r);
	config_free(cfg);
}

#define ACME "urn:example:params:scim:schemas:extension:acme:2.0:User"

/* A mapping in config order (only the paths matter here). */
static struct config *
map_config(const char *map)
{
	struct buf b = BUF_INIT;
	struct config *cfg;

	buf_printf(&b, "%s%s%s%s%s", FX_LDAP, "users:\n"
	    "  filter: (objectClass=inetOrgPerson)\n"
	    "  map:\n"
	    "    userName: \"{uid}\"\n", map, FX_SCIM, FX_SYNC);
	if (buf_failed(&b))
		fx_bail("out of memory");
	cfg = fx_config(buf_str(&b));
	buf_free(&b);
	return cfg;
}

/* The types of the elements of arr[name] that are primary, "|"-joined. */
static void
primaries_is(const cJSON *u, const char *name, const char *want,
    const char *what)
{
	char got[256] = "";
	const cJSON *el;

	cJSON_ArrayForEach(el, get(u, name))
		if (cJSON_IsTrue(get(el, "primary")) && str(el, "type") != NULL) {
			if (got[0] != '\0')
				strcat(got, "|");
			strncat(got, str(el, "type"), 100);
		}
	is_str(got, want, "%s", what);
}

static void
test_primary(void)
{
	struct config *cfg = map_config(
	    "    emails[type eq \"home\"].value: \"{homeMail}\"\n"
	    "    emails[type eq \"work\"].value: \"{mail}\"\n"
	    "    emails[type eq \"other\"].value: \"{otherMail}\"\n"
	    "    phoneNumbers[type eq \"mobile\"].value: \"{mobile}\"\n"
	    "    phoneNumbers[type eq \"fax\"].value: \"{fax}\"\n"
	    "    phoneNumbers[type eq \"work\"].value: \"{telephoneNumber}\"\n"
	    "    ims[type eq \"xmpp\"].value: \"{jid}\"\n"
	    "    photos[type eq \"thumbnail\"].value: \"{photoUrl}\"\n"
	    "    addresses[type eq \"work\"].locality: \"{l}\"\n"
	    "    addresses[type eq \"home\"].locality: \"{homeL}\"\n");
	struct scimjson_shape shape = { cfg->users.map, 0 };
	struct scimjson_shape aws = { cfg->users.map, 1 };
	struct record *r = fx_user("u-p", "p");
	struct err err = ERR_INIT;
	struct attrs b = ATTRS_INIT, a = ATTRS_INIT;
	cJSON *u = NULL, *ops = NULL;

	fx_set(r, "emails[type eq \"home\"].value", "p@home.example");
	fx_set(r, "emails[type eq \"other\"].value", "p@other.example");
	fx_set(r, "emails[type eq \"work\"].value", "p@example.com");
	fx_set(r, "phoneNumbers[type eq \"work\"].value", "+1 555 0100");
	fx_set(r, "phoneNumbers[type eq \"fax\"].value", "+1 555 0101");
	fx_set(r, "ims[type eq \"xmpp\"].value", "p@jabber.example");
	fx_set(r, "photos[type eq \"thumbnail\"].value", "https://p/p.jpg");
	fx_set(r, "addresses[type eq \"home\"].locality", "Leeds");
	fx_set(r, "addresses[type eq \"work\"].locality", "York");
	is_int(scimjson_user(&u, r, &shape, ids, NULL, &err), L2S_OK,
	    "a user with several typed values of each attribute is built");
	primaries_is(u, "emails", "work", "the work email stays the primary "
	    "one even when another type is mapped before it");
	primaries_is(u, "phoneNumbers", "fax", "the first phone type mapped "
	    "that the user has is primary (mobile is absent, fax is next)");
	primaries_is(u, "ims", "xmpp", "a lone im is primary");
	primaries_is(u, "photos", "thumbnail", "a lone photo is primary");
	primaries_is(u, "addresses", "work", "the first address type mapped "
	    "is primary, not the first in path order");
	ok(cJSON_GetArraySize(get(u, "emails")) == 3,
	    "every email is sent by default");
	cJSON_Delete(u);

	/* Without the work email, config order decides. */
	attrs_del(&r->attrs, "emails[type eq \"work\"].value");
	u = NULL;
	scimjson_user(&u, r, &shape, ids, NULL, &err);
	primaries_is(u, "emails", "home", "without a work email the first "
	    "email type mapped is primary");
	cJSON_Delete(u);
	u = NULL;
	scimjson_user(&u, r, NULL, ids, NULL, &err);
	primaries_is(u, "emails", "home", "without a mapping the first type in "
	    "path order is primary");
	cJSON_Delete(u);

	/* aws: only the primary email. */
	u = NULL;
	is_int(scimjson_user(&u, r, &aws, ids, NULL, &err), L2S_OK,
	    "a user is built with single_email");
	is_json(get(u, "emails"), "[{\"type\":\"home\",\"value\":"
	    "\"p@home.example\",\"primary\":true}]",
	    "with single_email only the primary email is sent");
	ok(cJSON_GetArraySize(get(u, "phoneNumbers")) == 2,
	    "single_email leaves the other attributes whole");
	cJSON_Delete(u);
	record_free(r);

	/* The primary element moves. */
	set(&b, "userName", "p");
	set(&b, "emails[type eq \"home\"].value", "p@home.example");
	set(&b, WORK ".value", "p@example.com");
	if (attrs_copy(&a, &b) != 0)
		fx_bail("out of memory");
	attrs_del(&a, WORK ".value");
	is_int(scimjson_user_patch(&ops, &b, &a, &shape, ids, NULL, &err),
	    L2S_OK, "a PATCH that drops the primary email is built");
	is_json(ops, "[{\"op\":\"remove\",\"path\":\"" WORK_JSON "\"},"
	    "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"]."
	    "primary\",\"value\":true}]",
	    "when the primary email goes, the next one is made primary");
	cJSON_Delete(ops);
	ops = NULL;
	is_int(scimjson_user_patch(&ops, &a, &b, &shape, ids, NULL, &err),
	    L2S_OK, "a PATCH that brings a work email back is built");
	is_json(ops, "[{\"op\":\"add\",\"path\":\"emails\",\"value\":"
	    "[{\"type\":\"work\",\"value\":\"p@example.com\",\"primary\":true}]},"
	    "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"]."
	    "primary\",\"value\":false}]",
	    "a new primary email is added as primary and the old one loses it");
	cJSON_Delete(ops);
	ops = NULL;
	is_int(scimjson_user_patch(&ops, &a, &b, &aws, ids, NULL, &err),
	    L2S_OK, "the same PATCH is built with single_email");
	is_json(ops, "[{\"op\":\"remove\",\"path\":\"emails[type eq "
	    "\\\"home\\\"]\"},{\"op\":\"add\",\"path\":\"emails\",\"value\":"
	    "[{\"type\":\"work\",\"value\":\"p@example.com\",\"primary\":true}]}]",
	    "with single_email the old email is removed and the new one added");
	cJSON_Delete(ops);
	ops = NULL;
	set(&a, "emails[type eq \"home\"].value", "p2@home.example");
	set(&b, "emails[type eq \"home\"].value", "p3@home.example");
	is_int(scimjson_user_patch(&ops, &b, &a, &aws, ids, NULL, &err),
	    L2S_OK, "a PATCH changing only a dropped email is built");
	is_json(ops, "[{\"op\":\"remove\",\"path\":\"" WORK_JSON "\"},"
	    "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"type\":\"home\","
	    "\"value\":\"p2@home.example\",\"primary\":true}]}]",
	    "with single_email a change of primary swaps the one email sent");
	cJSON_Delete(ops);
	ops = NULL;
	set(&b, WORK ".value", "p@example.com");
	set(&a, WORK ".value", "p@example.com");
	is_int(scimjson_user_patch(&ops, &b, &a, &aws, ids, NULL, &err),
	    L2S_OK, "a PATCH where only a dropped email changed is built");
	is_json(ops, "[]", "with single_email a change of a dropped email "
	    "sends nothing");
	cJSON_Delete(ops);
	attrs_free(&a);
	attrs_free(&b);
	config_free(cfg);
}

static void
test_extension(void)
{
	static const struct { const char *path; int valid; } paths[] = {
		{ ACME ":badge", 1 },
		{ ACME ":site.building", 1 },
		{ "urn:acme:ext:User:badge", 1 },
		{ "URN:acme:ext:User:badge_2", 1 },
		{ "urn:acme:User:badge", 0 },		/* 2 parts only */
		{ "urn:acme::ext:User:badge", 0 },	/* an empty part */
		{ ACME ":", 0 },			/* no attribute */
		{ ACME ":2badge", 0 },
		{ ACME ":site.", 0 },
		{ ACME ":a.b.c", 0 },
		{ ACME ":bad name", 0 },
		{ "urn:ac me:ext:User:badge", 0 },
		{ "urn:ietf:params:scim:schemas:core:2.0:User:userName", 0 },
		{ "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
		  "badge", 0 },
		{ "urn:IETF:params:scim:schemas:extension:enterprise:2.0:User:"
		  "department", 0 },
		{ ENT ":department", 1 },
	};
	struct config *cfg = map_config(
	    "    " ACME ":badge: \"{employeeNumber}\"\n"
	    "    " ACME ":site.building: \"{roomNumber}\"\n"
	    "    " ENT ":department: \"{ou}\"\n");
	struct record *r = fx_user("u-x", "x");
	struct attrs back = ATTRS_INIT, a = ATTRS_INIT;
	struct err err = ERR_INIT;
	enum map_kind kind;
	cJSON *u = NULL, *ops = NULL;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		is_int(mapping_path_valid(paths[i].path, &kind), paths[i].valid,
		    "mapping_path_valid('%s') is %d", paths[i].path,
		    paths[i].valid);
	mapping_path_valid(ACME ":badge", &kind);
	is_int(kind, MAP_STRING, "a custom extension attribute is a string");

	fx_set(r, ACME ":badge", "42");
	fx_set(r, ACME ":site.building", "B7");
	fx_set(r, ENT ":department", "R&D");
	is_int(scimjson_user(&u, r, NULL, ids, NULL, &err), L2S_OK,
	    "a user with a custom extension is built");
	is_json(get(u, "schemas"), "[\"" CORE "\",\"" ACME "\",\"" ENT "\"]",
	    "the custom extension's URN is listed in schemas once");
	is_json(get(u, ACME), "{\"badge\":\"42\",\"site\":{\"building\":"
	    "\"B7\"}}", "its attributes, and a sub-attribute, are under its URN");
	is_int(scimjson_user_attrs(&back, u, cfg->users.map, NULL, NULL, &err),
	    L2S_OK, "the custom extension is read back");
	is_str(attrs_get(&back, ACME ":badge"), "42",
	    "its attribute is read back by its full path");
	is_str(attrs_get(&back, ACME ":site.building"), "B7",
	    "its sub-attribute is read back by its full path");
	if (attrs_copy(&a, &r->attrs) != 0)
		fx_bail("out of memory");
	set(&a, ACME ":badge", "43");
	attrs_del(&a, ACME ":site.building");
	is_int(scimjson_user_patch(&ops, &r->attrs, &a, NULL, ids, NULL, &err),
	    L2S_OK, "a PATCH of custom extension attributes is built");
	is_json(ops, "[{\"op\":\"replace\",\"path\":\"" ACME ":badge\","
	    "\"value\":\"43\"},{\"op\":\"remove\",\"path\":\"" ACME
	    ":site.building\"}]", "PATCH paths name the URN and the attribute");
	cJSON_Delete(ops);
	cJSON_Delete(u);
	attrs_free(&a);
	attrs_free(&back);
	record_free(r);
	config_free(cfg);
}

int
main(void)
{
	test_user_attrs();
	test_user();
	test_patch();
	test_group();
	test_primary();
	test_extension();
	ok(ncalls > 0, "the id callback was consulted for managers");
	return tap_done();
}
