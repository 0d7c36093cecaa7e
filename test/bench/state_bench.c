/*
 * state_bench.c - time saving and loading the state of a large directory
 *
 *   state_bench FILE USERS GROUPS
 *
 * Builds USERS users and GROUPS groups in memory, then (timed: "save")
 * writes them into a new state file FILE (which must not exist), every
 * state_put() in one transaction, and closes it; then (timed: "load")
 * opens it again and loads it whole with state_load().  Making up the
 * records is not timed: the agent holds them already when it saves.  The records look like the
 * ones a sync of test/bench's directory leaves (the same mapped attributes,
 * entryUUID-like keys, SCIM ids, the same group sizes: twelve groups of
 * 10.5% to 32.5% of the users, the rest about 4.17 memberships per user
 * spread over the other groups).  Prints on stdout:
 *
 *   save SECONDS
 *   load SECONDS
 *   objects N
 *   members N
 *
 * Exit status 0, or 1 with a message on stderr.  Not a unit test: built and
 * run by test/bench/run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hmap.h"
#include "record.h"
#include "state.h"

#define NBIG 12

static const char *const titles[] = { "Engineer", "Senior Engineer",
    "Staff Engineer", "Manager", "Director", "Analyst", "Designer",
    "Support Specialist", "Accountant", "Recruiter" };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same records on every run */
static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An entryUUID-like key for object number i of kind k (0 user, 1 group). */
static void
make_uuid(char *buf, size_t size, int k, size_t i, int scim)
{
	snprintf(buf, size, "%08x-%04x-4%03x-8%03x-%012llx",
	    (unsigned)(i & 0xffffffffu), k ? 0xb00 : 0xa00,
	    scim ? 0x5c1 : 0x1da, (unsigned)(i % 4096),
	    (unsigned long long)(rng_next() & 0xffffffffffffULL));
}

static int
make_user(struct record **out, size_t i, char (*keys)[40], struct err *err)
{
	struct record *r = record_new(REC_USER, keys[i]);
	char buf[128], id[40];
	int rc = L2S_OK;

	if (r == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	make_uuid(id, sizeof(id), 0, i, 1);
	snprintf(buf, sizeof(buf), "user%05zu", i + 1);
	r->name = strdup(buf);
	r->scim_id = strdup(id);
	snprintf(buf, sizeof(buf), "uid=user%05zu,ou=people,dc=example,dc=com",
	    i + 1);
	r->dn = strdup(buf);
	if (r->name == NULL || r->scim_id == NULL || r->dn == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
#define SET(p, v) \
	if (rc == L2S_OK && attrs_set(&r->attrs, (p), (v)) != 0) \
		rc = err_set(err, L2S_ENOMEM, "out of memory")
	SET("userName", r->name != NULL ? r->name : "");
	snprintf(buf, sizeof(buf), "Grace Hopper %05zu", i + 1);
	SET("displayName", buf);
	SET("name.givenName", "Grace");
	SET("name.familyName", "Hopper");
	snprintf(buf, sizeof(buf), "user%05zu@example.com", i + 1);
	SET("emails[type eq \"work\"].value", buf);
	snprintf(buf, sizeof(buf), "+1 555 %03zu %04zu", (i + 1) / 10000,
	    (i + 1) % 10000);
	SET("phoneNumbers[type eq \"work\"].value", buf);
	SET("title", titles[rng_next() % 10]);
	snprintf(buf, sizeof(buf), "E%05zu", i + 1);
	SET("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	    "employeeNumber", buf);
	if (i > 0)
		SET("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
		    "manager", keys[(i + 1) / 10]);
	SET("active", "true");
#undef SET
	if (rc == L2S_OK)
		*out = r;
	else
		record_free(r);
	return rc;
}

static int
make_group(struct record **out, size_t g, size_t ngroups, size_t nusers,
    char (*ukeys)[40], size_t *nmembers, struct err *err)
{
	char key[40], id[40], name[32];
	struct record *r = NULL;
	const char **m = NULL;
	size_t want, n = 0, i;
	int rc = L2S_OK;

	if (g < NBIG)
		want = (size_t)((double)nusers * (0.105 + 0.02 * (double)g));
	else
		want = (size_t)((double)nusers * 4.17 /
		    (double)(ngroups > NBIG ? ngroups - NBIG : 1));
	if (want < 1)
		want = 1;
	if (want > nusers)
		want = nusers;
	make_uuid(key, sizeof(key), 1, g, 0);
	make_uuid(id, sizeof(id), 1, g, 1);
	snprintf(name, sizeof(name), "group%04zu", g);
	r = record_new(REC_GROUP, key);
	m = calloc(want + 1, sizeof(*m));
	if (r == NULL || m == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	r->name = strdup(name);
	r->scim_id = strdup(id);
	if (r->name == NULL || r->scim_id == NULL ||
	    attrs_set(&r->attrs, "displayName", name) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	/* a random start and a stride: want distinct users */
	{
		size_t start = (size_t)(rng_next() % nusers);
		size_t stride = nusers / want;

		for (i = 0; i < want; i++)
			m[n++] = ukeys[(start + i * stride) % nusers];
	}
	if (record_set_members(r, m, n) != 0) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	*nmembers += r->nmembers;
	*out = r;
	r = NULL;
done:
	record_free(r);
	free(m);
	return rc;
}

int
main(int argc, char **argv)
{
	struct err err = ERR_INIT;
	struct state *st = NULL;
	struct hmap users = HMAP_INIT, groups = HMAP_INIT;
	char (*ukeys)[40] = NULL;
	struct record **recs = NULL;
	size_t nusers, ngroups, nmembers = 0, i, nrecs = 0;
	double t0, save = 0, load = 0;
	FILE *f;
	int rc = L2S_OK;

	if (argc != 4 || atol(argv[2]) < 1 || atol(argv[3]) < 0) {
		fprintf(stderr, "usage: state_bench FILE USERS GROUPS\n");
		return 2;
	}
	nusers = (size_t)atol(argv[2]);
	ngroups = (size_t)atol(argv[3]);
	f = fopen(argv[1], "r");
	if (f != NULL) {
		fclose(f);
		fprintf(stderr, "state_bench: '%s' already exists\n", argv[1]);
		return 1;
	}
	ukeys = calloc(nusers, sizeof(*ukeys));
	recs = calloc(nusers + ngroups, sizeof(*recs));
	if (ukeys == NULL || recs == NULL) {
		rc = err_set(&err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < nusers; i++)
		make_uuid(ukeys[i], sizeof(ukeys[i]), 0, i, 0);

	for (i = 0; rc == L2S_OK && i < nusers; i++)
		rc = make_user(&recs[nrecs++], i, ukeys, &err);
	for (i = 0; rc == L2S_OK && i < ngroups; i++)
		rc = make_group(&recs[nrecs++], i, ngroups, nusers, ukeys,
		    &nmembers, &err);
	if (rc != L2S_OK)
		goto done;

	t0 = now_seconds();
	rc = state_open(&st, argv[1], 0, &err);
	if (rc == L2S_OK)
		rc = state_begin(st, &err);
	for (i = 0; rc == L2S_OK && i < nrecs; i++)
		rc = state_put(st, recs[i], &err);
	if (rc == L2S_OK)
		rc = state_commit(st, &err);
	state_close(st);
	st = NULL;
	save = now_seconds() - t0;
	if (rc != L2S_OK)
		goto done;

	t0 = now_seconds();
	rc = state_open(&st, argv[1], 0, &err);
	if (rc == L2S_OK)
		rc = state_load(st, &users, &groups, &err);
	state_close(st);
	st = NULL;
	load = now_seconds() - t0;
	if (rc != L2S_OK)
		goto done;
	if (users.len != nusers || groups.len != ngroups) {
		rc = err_set(&err, L2S_EIO, "loaded %zu users and %zu groups, "
		    "saved %zu and %zu", users.len, groups.len, nusers,
		    ngroups);
		goto done;
	}
	printf("save %.3f\nload %.3f\nobjects %zu\nmembers %zu\n", save, load,
	    nusers + ngroups, nmembers);
done:
	if (rc != L2S_OK)
		fprintf(stderr, "state_bench: %s\n", err.msg);
	hmap_free(&users, record_free_v);
	hmap_free(&groups, record_free_v);
	for (i = 0; recs != NULL && i < nrecs; i++)
		record_free(recs[i]);
	free(recs);
	free(ukeys);
	return rc == L2S_OK ? 0 : 1;
}
