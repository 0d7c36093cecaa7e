/*
 * incremental.c - sync.incremental: ask the directory only what changed
 *
 * The state store's meta values:
 *   incremental.cookie.users, incremental.cookie.groups  the sync cookies
 *   incremental.fingerprint  config file and server of the last full read
 *   incremental.full_at      when the last full read was (epoch seconds)
 *   incremental.disabled     digest of the disabled users' uuids
 *   incremental.clean        "1": the last cycle applied all it planned
 *   incremental.refused      "1": a safety rule refused what changes gave
 *   incremental.usn, incremental.invocation   Active Directory: the DC's
 *                            highestCommittedUSN when the last read began,
 *                            and its invocationId (a restored or another DC
 *                            has another)
 * The cookies are asked for before a full read starts, so a change made
 * while it runs is reported again by the next cycle (an upsert is
 * idempotent); a delete of an entry the snapshot never held is ignored.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "adattr.h"
#include "buf.h"
#include "incremental.h"
#include "log.h"
#include "snapshot.h"
#include "ldap.h"

#define META_COOKIE_USERS	"incremental.cookie.users"
#define META_COOKIE_GROUPS	"incremental.cookie.groups"
#define META_FINGERPRINT	"incremental.fingerprint"
#define META_FULL_AT		"incremental.full_at"
#define META_DISABLED		"incremental.disabled"
#define META_CLEAN		"incremental.clean"
#define META_USN		"incremental.usn"
#define META_REFUSED		"incremental.refused"
#define META_INVOCATION		"incremental.invocation"

struct meta {
	char *cookie[2];	/* users, groups */
	char *fingerprint, *full_at, *disabled, *clean;
	char *usn, *invocation;	/* Active Directory */
	char *refused;
};

static void
meta_free(struct meta *m)
{
	free(m->cookie[0]);
	free(m->cookie[1]);
	free(m->fingerprint);
	free(m->full_at);
	free(m->disabled);
	free(m->clean);
	free(m->usn);
	free(m->invocation);
	free(m->refused);
}

static int
meta_load(struct state *st, struct meta *m, struct err *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = state_meta_get(st, META_COOKIE_USERS, &m->cookie[0], err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_COOKIE_GROUPS, &m->cookie[1], err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_FINGERPRINT, &m->fingerprint, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_FULL_AT, &m->full_at, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_DISABLED, &m->disabled, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_CLEAN, &m->clean, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_USN, &m->usn, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_INVOCATION, &m->invocation, err);
	if (rc == L2S_OK)
		rc = state_meta_get(st, META_REFUSED, &m->refused, err);
	return rc;
}

/* The config that was loaded and the server that answered: when either
 * differs from the last full read, the snapshot may not fit any more. */
static void
fingerprint(const struct config *cfg, const char *uri, char out[17])
{
	unsigned long long h = 1469598103934665603ULL;	/* FNV-1a */
	const char *p;

	for (p = cfg->fingerprint; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (p = uri; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(out, 17, "%016llx", h);
}

static void
strv_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* What one refreshOnly search reported. */
struct feed {
	const struct config *cfg;
	enum rec_kind kind;
	struct snapshot delta;	/* upserted entries */
	struct hmap gone;	/* names reported deleted */
	struct hmap present;	/* names reported present (present phase) */
	struct ldap_sync_out out;
};

static int
on_sync(void *arg, enum ldap_sync_event ev, const char *uuid,
    const struct entry *e, struct err *err)
{
	struct feed *f = arg;
	char *name = snapshot_name(f->kind, uuid), **dns = NULL;
	size_t n = 0;
	int rc = L2S_OK;

	if (name == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	log_debug("content sync: %s %s%s%s", ev == SYNC_PRESENT ? "present" :
	    ev == SYNC_DELETE ? "delete" : "upsert", name, e != NULL ? " " : "",
	    e != NULL ? e->dn : "");
	switch (ev) {
	case SYNC_PRESENT:
		if (hmap_put(&f->present, name, (void *)1, NULL) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		break;
	case SYNC_DELETE:
		if (snapshot_del(&f->delta, name) < 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		else if (hmap_put(&f->gone, name, (void *)1, NULL) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		break;
	case SYNC_UPSERT:
		hmap_del(&f->gone, name);
		if (f->kind == REC_GROUP)
			rc = source_member_dns(f->cfg, e, &dns, &n, err);
		if (rc == L2S_OK)
			rc = snapshot_put(&f->delta, name, f->kind, 0, e,
			    f->cfg->groups.member_attribute, dns, n, err);
		strv_free(dns, n);
		break;
	}
	free(name);
	return rc;
}

static void
feed_free(struct feed *f)
{
	snapshot_free(&f->delta);
	hmap_free(&f->gone, NULL);
	hmap_free(&f->present, NULL);
	free(f->out.cookie);
}

/* Does the filter test memberOf (a back link: it changes when a group
 * does, the entry itself is not reported as changed)? */
static int
mentions_member_of(const char *filter)
{
	const char *p;

	for (p = filter; p != NULL && *p != '\0'; p++)
		if (strncasecmp(p, "memberof", 8) == 0)
			return 1;
	return 0;
}

/* Where a full read is due before asking anything; NULL when not. */
static const char *
full_due(const struct config *cfg, const struct meta *m, const char *fp,
    int ad, int full)
{
	long long at;

	if (full)
		return "asked for (sync --full)";
	if (m->refused != NULL)
		return "a safety rule refused the changes the last cycle read";
	if (cfg->groups.enabled && cfg->groups.nested == NESTED_IN_CHAIN)
		return "groups.nested is in_chain";
	if (mentions_member_of(cfg->users.filter) ||
	    mentions_member_of(cfg->users.disabled_filter) ||
	    (cfg->groups.enabled && mentions_member_of(cfg->groups.filter)))
		return "a filter uses memberOf, which changes without the entry "
		    "being reported as changed";
	if (ad ? m->usn == NULL || m->invocation == NULL :
	    m->cookie[0] == NULL || (cfg->groups.enabled && m->cookie[1] == NULL))
		return "no earlier full read to start from";
	if (m->fingerprint == NULL || strcmp(m->fingerprint, fp) != 0)
		return "the config file or the server changed since the last "
		    "full read";
	at = m->full_at != NULL ? strtoll(m->full_at, NULL, 10) : 0;
	if ((long long)time(NULL) - at >= cfg->sync.full_interval ||
	    (long long)time(NULL) < at)
		return "sync.full_interval passed since the last full read";
	return NULL;
}

/* Digest of the disabled users in snap (after a full read). */
static int
snap_disabled_digest(const struct snapshot *snap, char out[17],
    struct err *err)
{
	size_t pos = 0, n = 0;
	const char *name;
	void *v;
	const char **names = malloc((snap->objs.len + 1) * sizeof(*names));

	if (names == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	while (hmap_next(&snap->objs, &pos, &name, &v)) {
		const struct snap_obj *o = v;

		if (o->kind == REC_USER && o->disabled)
			names[n++] = name + 2;		/* without "u:" */
	}
	snapshot_disabled_digest((char *const *)names, n, out);
	free(names);
	return L2S_OK;
}

/* Ask for the current cookies: a sync search that matches nothing. */
static int
fresh_cookies(struct ldapconn *c, const struct config *cfg, char *cookie[2],
    struct err *err)
{
	const char *none[2] = { "1.1", NULL };
	struct ldap_sync_out out;
	struct buf f = BUF_INIT;
	int i, rc = L2S_OK;

	for (i = 0; i < 2 && rc == L2S_OK; i++) {
		const char *base = i == 0 ? cfg->users.base_dn :
		    cfg->groups.base_dn;
		const char *filter = i == 0 ? cfg->users.filter :
		    cfg->groups.filter;

		if (i == 1 && !cfg->groups.enabled)
			break;
		buf_reset(&f);
		buf_printf(&f, "(&%s(!(objectClass=*)))", filter);
		if (buf_failed(&f)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			break;
		}
		rc = ldapconn_sync(c, base, buf_str(&f), none, NULL, NULL, NULL,
		    &out, err);
		if (rc == L2S_OK && out.cookie == NULL)
			rc = err_set(err, L2S_EUNSAFE, "content sync '%s': the "
			    "server sent no cookie", base);
		if (rc == L2S_OK)
			cookie[i] = out.cookie;
	}
	buf_free(&f);
	return rc;
}

/* Active Directory: where the DC stands (highestCommittedUSN) and who it
 * is (its invocationId). */
struct ad_pos {
	char *usn;
	char *invocation;
};

static void
ad_pos_free(struct ad_pos *p)
{
	free(p->usn);
	free(p->invocation);
}

static int
on_invocation(void *arg, const struct entry *e, struct err *err)
{
	char **out = arg, text[ADATTR_GUID_LEN + 1];
	const struct value *v = entry_first(e, "invocationId");

	(void)err;
	if (v != NULL && adattr_guid_text(v->p, v->len, text) == 0)
		*out = strdup(text);
	return L2S_OK;
}

static int
ad_position(struct ldapconn *c, struct ad_pos *p, struct err *err)
{
	const char *attrs[2] = { "invocationId", NULL };
	char *service = NULL;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = ldapconn_rootdse(c, "highestCommittedUSN", &p->usn, err);
	if (rc == L2S_OK)
		rc = ldapconn_rootdse(c, "dsServiceName", &service, err);
	if (rc != L2S_OK)
		goto done;
	for (i = 0; p->usn != NULL && p->usn[i] != '\0'; i++)
		if (p->usn[i] < '0' || p->usn[i] > '9')
			break;
	if (p->usn == NULL || i == 0 || p->usn[i] != '\0' || i > 19 ||
	    service == NULL) {
		rc = err_set(err, L2S_ELDAP, "'%s': the root DSE has no usable "
		    "highestCommittedUSN or dsServiceName", ldapconn_uri(c));
		goto done;
	}
	rc = ldapconn_read(c, service, attrs, on_invocation, &p->invocation,
	    err);
	if (rc == L2S_OK && p->invocation == NULL)
		rc = err_set(err, L2S_ELDAP, "'%s': no invocationId on '%s'",
		    ldapconn_uri(c), service);
done:
	free(service);
	if (rc != L2S_OK)
		ad_pos_free(p);
	return rc;
}

static int
full_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct state *st, int dry_run, int ad,
    const char *fp, struct err *err)
{
	struct snapshot snap;
	struct ad_pos pos = { NULL, NULL };
	char *cookie[2] = { NULL, NULL }, dis[17], now[32];
	struct err cerr = ERR_INIT;
	int rc;

	snapshot_init(&snap);
	snapshot_reset(&snap);
	if (!dry_run && ad) {
		rc = ad_position(c, &pos, err);
		if (rc != L2S_OK)
			goto done;
	} else if (!dry_run) {
		rc = fresh_cookies(c, cfg, cookie, &cerr);
		if (rc == L2S_ELDAP || rc == L2S_ENOMEM) {
			rc = err_set(err, rc, "%s", cerr.msg);
			goto done;
		}
		if (rc != L2S_OK)
			log_warnx("%s: incremental reads need the syncprov "
			    "overlay on the server; every cycle reads "
			    "everything until then", cerr.msg);
	}
	res->snap = dry_run ? NULL : &snap;	/* a dry run saves nothing */
	rc = source_read(res, c, cfg, err);
	res->snap = NULL;
	if (rc != L2S_OK || dry_run)
		goto done;
	if (snap.broken)
		log_warnx("some entries have no %s: incremental reads are off "
		    "until every entry has one", source_uuid_attr(res->ad));
	rc = state_begin(st, err);
	if (rc != L2S_OK)
		goto done;
	if (snap.broken || (ad ? pos.usn == NULL : cookie[0] == NULL)) {
		/* Nothing to start from next time: read everything again. */
		rc = state_meta_set(st, META_COOKIE_USERS, NULL, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_USN, NULL, err);
	} else {
		snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
		rc = snapshot_save(&snap, st, err);
		if (rc == L2S_OK)
			rc = snap_disabled_digest(&snap, dis, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_COOKIE_USERS, cookie[0], err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_COOKIE_GROUPS, cookie[1], err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_USN, pos.usn, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_INVOCATION, pos.invocation, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_FINGERPRINT, fp, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_FULL_AT, now, err);
		if (rc == L2S_OK)
			rc = state_meta_set(st, META_DISABLED, dis, err);
	}
	if (rc == L2S_OK)
		rc = state_meta_set(st, META_CLEAN, NULL, err);
	if (rc == L2S_OK)
		rc = state_meta_set(st, META_REFUSED, NULL, err);
	if (rc == L2S_OK)
		rc = state_commit(st, err);
done:
	free(cookie[0]);
	free(cookie[1]);
	ad_pos_free(&pos);
	snapshot_free(&snap);
	return rc;
}

/* Apply one feed to snap.  *why set when the feed cannot be trusted. */
static int
feed_apply(struct snapshot *snap, struct feed *f, const char **why,
    size_t *applied, struct err *err)
{
	size_t pos = 0, kept = 0, had = 0;
	int r;
	const char *name;
	void *v;
	struct hmap drop = HMAP_INIT;
	int rc = L2S_OK;

	if (f->out.present_phase) {
		/* Whatever the server did not mention is gone. */
		while (hmap_next(&snap->objs, &pos, &name, &v)) {
			const struct snap_obj *o = v;

			if (o->kind != f->kind)
				continue;
			had++;
			if (hmap_get(&f->present, name) != NULL ||
			    hmap_get(&f->delta.objs, name) != NULL)
				kept++;
			else if (hmap_put(&drop, name, (void *)1, NULL) != 0)
				rc = err_set(err, L2S_ENOMEM, "out of memory");
		}
		if (rc == L2S_OK && had > 0 && kept == 0) {
			*why = "the server's present phase reported no entry "
			    "present";
			goto done;
		}
		pos = 0;
		while (rc == L2S_OK && hmap_next(&drop, &pos, &name, NULL))
			if (snapshot_del(snap, name) < 0)
				rc = err_set(err, L2S_ENOMEM, "out of memory");
		*applied += drop.len;
	}
	/* A delete may name an entry this search never returned: slapd
	 * reports an entry changed outside the search that way. */
	pos = 0;
	while (rc == L2S_OK && hmap_next(&f->gone, &pos, &name, NULL)) {
		if ((r = snapshot_del(snap, name)) < 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		else
			*applied += (size_t)r;
	}
	*applied += f->delta.objs.len;
	if (rc == L2S_OK)
		rc = snapshot_merge(snap, &f->delta, err);
done:
	hmap_free(&drop, NULL);
	return rc;
}

/*
 * Groups that list a DN that left or changed this cycle may have changed
 * without being reported (slapd's refint, AD's links): read them again
 * rather than guess.
 */
static int
reread_listing(struct snapshot *snap, struct ldapconn *c,
    const struct config *cfg, int ad, size_t *n_reread, struct err *err)
{
	struct snapshot delta;
	struct source_result part;
	char **dns = NULL;
	size_t n = 0;
	int rc;

	if (snapshot_listing(snap, &dns, &n) != 0)
		return err_set(err, L2S_ENOMEM, "out of memory");
	*n_reread = n;
	if (n == 0)
		return L2S_OK;
	log_debug("reading %zu groups again: they list an entry that left or "
	    "moved", n);
	snapshot_init(&delta);
	source_result_init(&part);
	part.ad = ad;
	part.snap = &delta;
	rc = source_read_groups(&part, c, cfg, dns, n, err);
	source_result_free(&part);
	if (rc == L2S_OK)
		rc = snapshot_merge(snap, &delta, err);
	snapshot_free(&delta);
	strv_free(dns, n);
	return rc;
}

/* Answers whether a stray member is a user the snapshot does not know. */
struct stray_ctx {
	const struct snapshot *snap;
	int ad;
	int stale;
};

static int
on_stray(void *arg, const struct entry *e, struct err *err)
{
	struct stray_ctx *sc = arg;
	const char *ua = source_uuid_attr(sc->ad);
	const struct value *v = entry_first(e, ua);
	const struct snap_obj *o = NULL;
	char *uuid = NULL, *name = NULL, *a = NULL, *b = NULL;
	struct err derr = ERR_INIT;

	if (v != NULL && source_key_text(ua, v, &uuid) == L2S_OK &&
	    (name = snapshot_name(REC_USER, uuid)) != NULL)
		o = hmap_get(&sc->snap->objs, name);
	/* Known under this very DN: a user the read leaves out on purpose
	 * (users.email_domains).  Anything else: the snapshot is stale. */
	if (o == NULL || ldap_dn_norm(o->dn, &a, &derr) != L2S_OK ||
	    ldap_dn_norm(e->dn, &b, &derr) != L2S_OK || strcmp(a, b) != 0)
		sc->stale = 1;
	free(uuid);
	free(name);
	free(a);
	free(b);
	(void)err;
	return L2S_OK;
}

#define STRAYS_MAX 100

/*
 * Members of the groups read this cycle that are under users.base_dn but
 * no user of the snapshot: each is looked up; one that is a user of the
 * users filter the snapshot does not know under that DN (an OU renamed or
 * moved: its children are not reported) means the snapshot is stale.
 */
static int
check_strays(const struct source_result *res, const struct snapshot *snap,
    struct ldapconn *c, const struct config *cfg, int ad, const char **why,
    struct err *err)
{
	struct stray_ctx sc = { snap, ad, 0 };
	const char *attrs[2] = { source_uuid_attr(ad), NULL };
	char **groups = NULL, **strays = NULL;
	size_t ng = 0, ns = 0, pos = 0, i;
	const char *name;
	int rc = L2S_OK;

	if (snap->fresh.len == 0)
		return L2S_OK;
	groups = calloc(snap->fresh.len, sizeof(*groups));
	if (groups == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	while (hmap_next(&snap->fresh, &pos, &name, NULL)) {
		const struct snap_obj *o = hmap_get(&snap->objs, name);

		if (o != NULL)
			groups[ng++] = o->dn;
	}
	rc = source_stray_members(res, cfg, groups, ng, STRAYS_MAX, &strays,
	    &ns, err);
	if (rc == L2S_EUNSAFE) {
		*why = "the groups read list more than 100 members the snapshot "
		    "does not know";
		rc = L2S_OK;
		goto done;
	}
	for (i = 0; i < ns && rc == L2S_OK && !sc.stale; i++) {
		rc = ldapconn_read_if(c, strays[i], cfg->users.filter, attrs,
		    on_stray, &sc, err);
		if (rc == L2S_ENOTFOUND)
			rc = L2S_OK;
	}
	if (rc == L2S_OK && sc.stale)
		*why = "a group lists a user the snapshot knows under another DN, "
		    "or not at all (an OU renamed or moved?)";
done:
	free(groups);
	strv_free(strays, ns);
	return rc;
}

/* Set every user's disabled flag from the uuids; the count that changed. */
static int
apply_disabled(struct snapshot *snap, char **uuids, size_t n, size_t *changed,
    struct err *err)
{
	struct hmap set = HMAP_INIT;
	size_t pos = 0, i;
	const char *name;
	void *v;
	char *nm;
	int rc = L2S_OK, r;

	*changed = 0;
	for (i = 0; i < n && rc == L2S_OK; i++) {
		if ((nm = snapshot_name(REC_USER, uuids[i])) == NULL ||
		    hmap_put(&set, nm, (void *)1, NULL) != 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		free(nm);
	}
	while (rc == L2S_OK && hmap_next(&snap->objs, &pos, &name, &v)) {
		if (((struct snap_obj *)v)->kind != REC_USER)
			continue;
		r = snapshot_set_disabled(snap, name,
		    hmap_get(&set, name) != NULL);
		if (r < 0)
			rc = err_set(err, L2S_ENOMEM, "out of memory");
		else
			*changed += (size_t)r;
	}
	hmap_free(&set, NULL);
	return rc;
}

/* Where the next cycle starts: the new cookies, or the DC's USN. */
static int
save_position(struct state *st, const struct feed *f, int nfeeds,
    const struct ad_pos *pos, struct err *err)
{
	int i, rc = L2S_OK;

	if (pos->usn != NULL)
		return state_meta_set(st, META_USN, pos->usn, err);
	for (i = 0; i < nfeeds && rc == L2S_OK; i++)
		if (f[i].out.cookie != NULL)
			rc = state_meta_set(st, i == 0 ? META_COOKIE_USERS :
			    META_COOKIE_GROUPS, f[i].out.cookie, err);
	return rc;
}

/* OpenLDAP: one refreshOnly search for users, one for groups. */
static int
collect_sync(struct ldapconn *c, const struct config *cfg,
    const struct meta *m, struct feed *f, int nfeeds, const char **why,
    struct err *err)
{
	const char **attrs = NULL;
	char member[128];
	int i, rc = L2S_OK;

	for (i = 0; i < nfeeds && rc == L2S_OK && *why == NULL; i++) {
		rc = source_attrs(cfg, 0, f[i].kind, &attrs, member, err);
		if (rc != L2S_OK)
			break;
		rc = ldapconn_sync(c, i == 0 ? cfg->users.base_dn :
		    cfg->groups.base_dn, i == 0 ? cfg->users.filter :
		    cfg->groups.filter, attrs, m->cookie[i], on_sync, &f[i],
		    &f[i].out, err);
		free(attrs);
		attrs = NULL;
		if (rc == L2S_EUNSAFE || rc == L2S_EPARSE) {
			log_warnx("%s", err->msg);
			*why = "the content sync search failed";
			rc = L2S_OK;
		} else if (rc == L2S_OK && f[i].out.refresh_required) {
			*why = "the server cannot serve the stored cookie "
			    "(e-syncRefreshRequired)";
		}
	}
	return rc;
}

/* A changed object in the domain (tombstones included): gone from the
 * snapshot unless the users or groups search returned it. */
static int
on_changed(void *arg, const struct entry *e, struct err *err)
{
	struct feed *f = arg;
	const struct value *v = entry_first(e, "objectGUID");
	char text[ADATTR_GUID_LEN + 1], *name;
	int k;

	if (v == NULL || adattr_guid_text(v->p, v->len, text) != 0)
		return L2S_OK;
	for (k = 0; k < 2; k++) {
		name = snapshot_name(k == 0 ? REC_USER : REC_GROUP, text);
		if (name == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		if (hmap_get(&f->delta.objs, name) == NULL &&
		    hmap_put(&f->gone, name, (void *)1, NULL) != 0) {
			free(name);
			return err_set(err, L2S_ENOMEM, "out of memory");
		}
		free(name);
	}
	return L2S_OK;
}

/*
 * Active Directory: the users and groups changed since the stored USN
 * (member ranges and all), then every object of the domain changed since,
 * tombstones included: one that neither search returned was deleted, moved
 * out of scope or no longer matches its filter.
 */
static int
collect_ad(struct ldapconn *c, const struct config *cfg,
    const struct meta *m, struct feed *f, struct ad_pos *pos,
    const char **why, struct err *err)
{
	const char *guid[2] = { "objectGUID", NULL };
	struct source_result part;
	char range[96], *root = NULL, filter[104];
	unsigned long long last;
	int rc;

	rc = ad_position(c, pos, err);
	if (rc != L2S_OK)
		return rc;
	last = strtoull(m->usn, NULL, 10);
	if (strcmp(pos->invocation, m->invocation) != 0) {
		*why = "the domain controller is another one, or was restored "
		    "(its invocationId changed)";
		return L2S_OK;
	}
	if (strtoull(pos->usn, NULL, 10) < last) {
		*why = "the domain controller's highestCommittedUSN went back";
		return L2S_OK;
	}
	/* Both searches see the same USN range: a change made while they run
	 * is above it and comes whole with the next cycle, never half (in
	 * the domain-wide search only, which would make it look gone). */
	snprintf(range, sizeof(range), "(uSNChanged>=%llu)(uSNChanged<=%s)",
	    last + 1, pos->usn);
	source_result_init(&part);
	part.snap = &f->delta;
	rc = source_read_since(&part, c, cfg, range, err);
	source_result_free(&part);
	if (rc == L2S_OK)
		rc = ldapconn_rootdse(c, "defaultNamingContext", &root, err);
	if (rc == L2S_OK && root == NULL)
		rc = err_set(err, L2S_ELDAP, "'%s': the root DSE has no "
		    "defaultNamingContext", ldapconn_uri(c));
	if (rc == L2S_OK) {
		snprintf(filter, sizeof(filter), "(&%s)", range);
		rc = ldapconn_search_deleted(c, root, filter, guid, on_changed,
		    f, err);
	}
	if (rc == L2S_OK && f->delta.broken)
		*why = "a changed entry has no objectGUID";
	free(root);
	return rc;
}

/*
 * Ask what changed.  L2S_OK with *why NULL: res is filled (or out->mode
 * says nothing changed); with *why set: read everything instead.
 */
static int
changes(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct state *st, int dry_run, int ad,
    const struct meta *m, struct incr_result *out, const char **why,
    struct err *err)
{
	struct feed f[2];
	struct snapshot snap;
	struct ad_pos pos = { NULL, NULL };
	char **dis = NULL, digest[17];
	size_t ndis = 0, nchanged = 0, i;
	int nfeeds = !ad && cfg->groups.enabled ? 2 : 1, rc = L2S_OK;

	memset(f, 0, sizeof(f));
	snapshot_init(&snap);
	for (i = 0; i < 2; i++) {
		f[i].cfg = cfg;
		f[i].kind = i == 0 ? REC_USER : REC_GROUP;
		snapshot_init(&f[i].delta);
	}
	rc = ad ? collect_ad(c, cfg, m, &f[0], &pos, why, err) :
	    collect_sync(c, cfg, m, f, nfeeds, why, err);
	for (i = 0; i < (size_t)nfeeds; i++)
		nchanged += f[i].delta.objs.len + f[i].gone.len;
	if (rc != L2S_OK || *why != NULL)
		goto done;
	rc = source_disabled_uuids(c, cfg, ad, &dis, &ndis, err);
	if (rc != L2S_OK)
		goto done;
	snapshot_disabled_digest(dis, ndis, digest);
	out->changes = nchanged;
	if (nchanged == 0 && !f[0].out.present_phase &&
	    !(nfeeds == 2 && f[1].out.present_phase) &&
	    m->disabled != NULL && strcmp(m->disabled, digest) == 0 &&
	    m->clean != NULL && strcmp(m->clean, "1") == 0) {
		out->mode = INCR_UNCHANGED;
		if (dry_run)
			goto done;
		rc = state_begin(st, err);
		if (rc == L2S_OK)
			rc = save_position(st, f, nfeeds, &pos, err);
		if (rc == L2S_OK)
			rc = state_commit(st, err);
		goto done;
	}
	rc = snapshot_load(&snap, st, err);
	out->changes = 0;
	for (i = 0; i < (size_t)nfeeds && rc == L2S_OK && *why == NULL; i++)
		rc = feed_apply(&snap, &f[i], why, &out->changes, err);
	if (rc != L2S_OK || *why != NULL)
		goto done;
	{
		size_t flipped, reread;

		rc = reread_listing(&snap, c, cfg, ad, &reread, err);
		if (rc == L2S_OK)
			rc = apply_disabled(&snap, dis, ndis, &flipped, err);
		if (rc != L2S_OK)
			goto done;
		out->changes += flipped;
	}
	rc = source_from_snapshot(res, cfg, ad, &snap, err);
	if (rc == L2S_EPARSE) {
		log_warnx("%s", err->msg);
		*why = "the directory snapshot in the state file is damaged";
		rc = L2S_OK;
		goto done;
	}
	if (rc == L2S_OK)
		rc = check_strays(res, &snap, c, cfg, ad, why, err);
	if (rc != L2S_OK || *why != NULL)
		goto done;
	out->mode = INCR_CHANGES;
	if (dry_run)
		goto done;
	rc = state_begin(st, err);
	if (rc == L2S_OK)
		rc = snapshot_save(&snap, st, err);
	if (rc == L2S_OK)
		rc = save_position(st, f, nfeeds, &pos, err);
	if (rc == L2S_OK)
		rc = state_meta_set(st, META_DISABLED, digest, err);
	if (rc == L2S_OK)
		rc = state_meta_set(st, META_CLEAN, NULL, err);
	if (rc == L2S_OK)
		rc = state_commit(st, err);
done:
	for (i = 0; i < 2; i++)
		feed_free(&f[i]);
	ad_pos_free(&pos);
	strv_free(dis, ndis);
	snapshot_free(&snap);
	return rc;
}

int
incremental_read(struct source_result *res, struct ldapconn *c,
    const struct config *cfg, struct state *st, int dry_run, int full,
    struct incr_result *out, struct err *err)
{
	struct meta m;
	char fp[17];
	const char *why;
	int ad, rc;

	memset(out, 0, sizeof(*out));
	out->mode = INCR_FULL;
	rc = meta_load(st, &m, err);
	if (rc == L2S_OK)
		rc = source_dialect_ad(c, cfg, &ad, err);
	if (rc != L2S_OK)
		goto done;
	fingerprint(cfg, ldapconn_uri(c), fp);
	why = full_due(cfg, &m, fp, ad, full);
	if (why == NULL) {
		rc = changes(res, c, cfg, st, dry_run, ad, &m, out, &why, err);
		if (rc != L2S_OK || why == NULL)
			goto done;
		/* What changes() built is dropped: read it all afresh
		 * (the caller's settings kept). */
		int photo_write = res->photo_write;

		source_result_free(res);
		source_result_init(res);
		res->photo_write = photo_write;
	}
	out->mode = INCR_FULL;
	snprintf(out->why, sizeof(out->why), "%s", why);
	rc = full_read(res, c, cfg, st, dry_run, ad, fp, err);
done:
	meta_free(&m);
	return rc;
}

int
incremental_clean(struct state *st, struct err *err)
{
	return state_meta_set(st, META_CLEAN, "1", err);
}

int
incremental_unclean(struct state *st, struct err *err)
{
	return state_meta_set(st, META_CLEAN, NULL, err);
}

int
incremental_forget(struct state *st, struct err *err)
{
	int rc;

	rc = state_meta_set(st, META_REFUSED, "1", err);
	if (rc == L2S_OK)
		rc = state_meta_set(st, META_CLEAN, NULL, err);
	return rc;
}
