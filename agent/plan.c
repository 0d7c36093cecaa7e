/*
 * plan.c - showing a plan to a person (text) or a program (JSON)
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mapping.h"
#include "plan.h"

static const char *const op_names[OP_KINDS] = {
	"create user", "update user", "deactivate user", "delete user",
	"create group", "update group", "delete group",
};

const char *
plan_op_name(enum op_kind k)
{
	return k < OP_KINDS ? op_names[k] : "?";
}

static const struct record *
op_record(const struct op *op)
{
	return op->want != NULL ? op->want : op->have;
}

/* A user's name for showing a key: from the read, else the state, else key. */
static const char *
user_name(const struct plan *p, const char *key)
{
	const struct record *r = NULL;

	if (p->want_users != NULL)
		r = hmap_get(p->want_users, key);
	if ((r == NULL || r->name == NULL) && p->have_users != NULL)
		r = hmap_get(p->have_users, key);
	return r != NULL && r->name != NULL ? r->name : key;
}

static const char *
shown_value(const struct plan *p, const char *path, const char *value)
{
	if (value != NULL && strcmp(path, SCIM_MANAGER_PATH) == 0)
		return user_name(p, value);
	return value;
}

/* s with control characters shown as \xNN: a directory value must not
 * drive the terminal that shows a dry run. */
static void
put_printable(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\x%02x", c);
		else
			buf_putc(out, (char)c);
	}
}

/* "      path: 'before' -> 'after'" with either side absent. */
static void
text_change(struct buf *out, const char *path, const char *before,
    const char *after, int create)
{
	buf_puts(out, "      ");
	put_printable(out, path);
	buf_puts(out, ": ");
	if (!create) {
		if (before != NULL) {
			buf_putc(out, '\'');
			put_printable(out, before);
			buf_putc(out, '\'');
		} else {
			buf_puts(out, "(absent)");
		}
		buf_puts(out, " -> ");
	}
	if (after != NULL) {
		buf_putc(out, '\'');
		put_printable(out, after);
		buf_putc(out, '\'');
	} else {
		buf_puts(out, "(removed)");
	}
	buf_putc(out, '\n');
}

static void
text_attr_changes(const struct plan *p, const struct attrs *before,
    const struct attrs *after, struct buf *out)
{
	size_t i = 0, j = 0, nb = before ? before->n : 0, na = after ? after->n : 0;

	while (i < nb || j < na) {
		int c = i == nb ? 1 : j == na ? -1 :
		    strcmp(before->v[i].path, after->v[j].path);

		if (c < 0) {
			text_change(out, before->v[i].path, shown_value(p,
			    before->v[i].path, before->v[i].value), NULL, 0);
			i++;
		} else if (c > 0) {
			text_change(out, after->v[j].path, NULL, shown_value(p,
			    after->v[j].path, after->v[j].value), before == NULL);
			j++;
		} else {
			if (strcmp(before->v[i].value, after->v[j].value) != 0)
				text_change(out, after->v[j].path,
				    shown_value(p, before->v[i].path,
				    before->v[i].value), shown_value(p,
				    after->v[j].path, after->v[j].value), 0);
			i++, j++;
		}
	}
}

void
plan_print_text(const struct plan *p, struct buf *out)
{
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		const struct op *op = &p->ops[i];
		const struct record *r = op_record(op);
		char sign = op->kind == OP_USER_CREATE || op->kind == OP_GROUP_CREATE ?
		    '+' : op->kind == OP_USER_UPDATE || op->kind == OP_GROUP_UPDATE ?
		    '~' : '-';

		if (op->recreate) {
			/* The service cannot rename: a new group, then the
			 * old one deleted. */
			buf_puts(out, "~ recreate group '");
			put_printable(out, op->have->name);
			buf_puts(out, "' as '");
		} else {
			buf_printf(out, "%c %s '", sign, plan_op_name(op->kind));
		}
		put_printable(out, r->name != NULL ? r->name : r->key);
		buf_putc(out, '\'');
		if (r->dn != NULL) {
			buf_puts(out, " (");
			put_printable(out, r->dn);
			buf_putc(out, ')');
		}
		buf_putc(out, '\n');
		switch (op->kind) {
		case OP_USER_CREATE:
			text_attr_changes(p, NULL, &op->want->attrs, out);
			break;
		case OP_USER_UPDATE:
			if (op->have->removed)
				buf_puts(out, "      (reactivated: it is back in "
				    "the directory)\n");
			text_attr_changes(p, &op->have->attrs, &op->want->attrs, out);
			break;
		case OP_USER_DEACTIVATE:
			buf_puts(out, "      active: 'true' -> 'false', and out of "
			    "every group\n");
			break;
		case OP_GROUP_CREATE:
		case OP_GROUP_UPDATE:
			if (op->recreate)
				buf_printf(out, "      (created anew with its %zu "
				    "members, then the old group is deleted)\n",
				    op->want->nmembers);
			else if (op->rename)
				buf_printf(out, "      displayName: '%s' -> '%s'\n",
				    op->have->name, op->want->name);
			for (k = 0; k < op->nadd; k++)
				buf_printf(out, "      + member '%s'\n",
				    user_name(p, op->add[k]));
			for (k = 0; k < op->ndel; k++)
				buf_printf(out, "      - member '%s'\n",
				    user_name(p, op->del[k]));
			break;
		default:
			break;
		}
	}
	for (i = 0; i < p->nnotes; i++) {
		const struct plan_note *nt = &p->notes[i];

		buf_printf(out, "! %s %s '", nt->held ? "hold" : "skip",
		    nt->type);
		put_printable(out, nt->dn);
		buf_puts(out, "': ");
		put_printable(out, nt->reason);
		buf_putc(out, '\n');
	}
}

static cJSON *
json_attrs(const struct attrs *a)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (o == NULL || a == NULL)
		return o;
	for (i = 0; i < a->n; i++)
		if (cJSON_AddStringToObject(o, a->v[i].path, a->v[i].value) == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

static cJSON *
json_members(const struct plan *p, const char **keys, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		cJSON *m = cJSON_CreateObject();

		if (m == NULL || !cJSON_AddItemToArray(arr, m) ||
		    cJSON_AddStringToObject(m, "key", keys[i]) == NULL ||
		    cJSON_AddStringToObject(m, "name", user_name(p, keys[i])) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

/* Add item to o under name; deletes item when that fails. */
static int
json_add(cJSON *o, const char *name, cJSON *item)
{
	if (item == NULL)
		return -1;
	if (!cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

/* The notes that are held (or skipped) as [{type, dn, reason}]. */
static cJSON *
json_notes(const struct plan *p, int held)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr != NULL && i < p->nnotes; i++) {
		const struct plan_note *nt = &p->notes[i];
		cJSON *o;

		if (nt->held != held)
			continue;
		o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);	/* not in arr */
			cJSON_Delete(arr);
			return NULL;
		}
		if (cJSON_AddStringToObject(o, "type", nt->type) == NULL ||
		    cJSON_AddStringToObject(o, "dn", nt->dn) == NULL ||
		    cJSON_AddStringToObject(o, "reason", nt->reason) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static const char *const op_verbs[OP_KINDS] = {
	"create", "update", "deactivate", "delete", "create", "update", "delete",
};

void
plan_print_json(const struct plan *p, struct buf *out)
{
	cJSON *root = cJSON_CreateObject(), *ops, *sum;
	char *text = NULL;
	size_t i;
	int k;

	if (root == NULL)
		goto fail;
	sum = cJSON_AddObjectToObject(root, "summary");
	ops = cJSON_AddArrayToObject(root, "operations");
	if (sum == NULL || ops == NULL)
		goto fail;
	for (k = 0; k < OP_KINDS; k++) {
		char name[32];
		size_t j;

		strcpy(name, plan_op_name((enum op_kind)k));
		for (j = 0; name[j] != '\0'; j++)
			if (name[j] == ' ')
				name[j] = '_';
		if (cJSON_AddNumberToObject(sum, name, (double)p->count[k]) == NULL)
			goto fail;
	}
	if (cJSON_AddNumberToObject(sum, "held", (double)p->held) == NULL)
		goto fail;
	for (i = 0; i < p->n; i++) {
		const struct op *op = &p->ops[i];
		const struct record *r = op_record(op);
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(ops, o))
			goto fail_item;
		if (cJSON_AddStringToObject(o, "op", op->recreate ? "recreate" :
		    op_verbs[op->kind]) == NULL ||
		    cJSON_AddStringToObject(o, "type",
		    r->kind == REC_USER ? "user" : "group") == NULL ||
		    cJSON_AddStringToObject(o, "key", r->key) == NULL ||
		    cJSON_AddStringToObject(o, "name", r->name ? r->name : "") == NULL)
			goto fail;
		if (r->dn != NULL && cJSON_AddStringToObject(o, "dn", r->dn) == NULL)
			goto fail;
		if (op->recreate && cJSON_AddStringToObject(o, "old_name",
		    op->have->name) == NULL)
			goto fail;
		if (json_add(o, "before", op->have != NULL ?
		    json_attrs(&op->have->attrs) : cJSON_CreateNull()) != 0)
			goto fail;
		if (op->kind == OP_USER_DEACTIVATE) {
			cJSON *after = json_attrs(&op->have->attrs);

			if (after != NULL) {
				cJSON_DeleteItemFromObjectCaseSensitive(after,
				    "active");
				if (cJSON_AddStringToObject(after, "active",
				    "false") == NULL) {
					cJSON_Delete(after);
					after = NULL;
				}
			}
			if (json_add(o, "after", after) != 0)
				goto fail;
		} else if (json_add(o, "after", op->want != NULL ?
		    json_attrs(&op->want->attrs) : cJSON_CreateNull()) != 0) {
			goto fail;
		}
		if (op->kind == OP_GROUP_CREATE || op->kind == OP_GROUP_UPDATE) {
			if (json_add(o, "members_added", json_members(p, op->add,
			    op->nadd)) != 0 ||
			    json_add(o, "members_removed", json_members(p, op->del,
			    op->ndel)) != 0)
				goto fail;
		}
		continue;
fail_item:
		cJSON_Delete(o);
		goto fail;
	}
	if (json_add(root, "skipped", json_notes(p, 0)) != 0 ||
	    json_add(root, "held_back", json_notes(p, 1)) != 0)
		goto fail;
	text = cJSON_Print(root);
	if (text == NULL)
		goto fail;
	buf_puts(out, text);
	buf_putc(out, '\n');
	free(text);
	cJSON_Delete(root);
	return;
fail:
	cJSON_Delete(root);
	out->failed = 1;
}

void
plan_summary(const struct plan *p, struct buf *out)
{
	buf_printf(out, "users: %zu to create, %zu to update, %zu to deactivate, "
	    "%zu to delete; groups: %zu to create, %zu to update, %zu to delete",
	    p->count[OP_USER_CREATE], p->count[OP_USER_UPDATE],
	    p->count[OP_USER_DEACTIVATE], p->count[OP_USER_DELETE],
	    p->count[OP_GROUP_CREATE], p->count[OP_GROUP_UPDATE],
	    p->count[OP_GROUP_DELETE]);
	{
		size_t i, n = 0;

		for (i = 0; i < p->n; i++)
			n += p->ops[i].recreate;
		if (n > 0)
			buf_printf(out, "; %zu of the group updates recreate%s "
			    "a group under its new name", n, n == 1 ? "s" : "");
	}
	if (p->held > 0)
		buf_printf(out, "; %zu held back", p->held);
}
