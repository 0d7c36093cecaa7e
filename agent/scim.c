/*
 * scim.c - the SCIM 2.0 protocol client (RFC 7644) over http.h and cJSON
 *
 * Every request goes through scim_send(): the body serialized compactly,
 * the response's status turned into an outcome and a one-line message by
 * scimerr.c.  Paths in messages are relative to the base URL, with filters
 * shown unescaped so that an administrator can read them; a transport
 * failure (from http.c) names the whole URL, since the host is the news.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "platform.h"
#include "scim.h"
#include "scimerr.h"

#define SCIM_PAGE_SIZE 100		/* resources asked per list page */
#define SCIM_MAX_PAGES 10000		/* a list never loops forever */
#define SCIM_PATCHOP "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* An answer sent ahead by scim_prefetch(), waiting for its request. */
struct kept {
	char *method;			/* owned copies */
	char *path;
	char *text;			/* the body sent, or NULL */
	struct http_response resp;	/* owned */
	int rc;
	struct err err;
	int taken;
};

struct scim {
	struct http *h;			/* borrowed */
	struct kept *kept;		/* owned, nkept of them */
	size_t nkept;
	struct scim_caps caps;
	int retries;			/* retries after the first attempt */
	long max_wait_ms;		/* the longest wait before a retry */
	unsigned long nretries;		/* retries made, for the summary */
	unsigned long rng;		/* jitter */
};

#define SCIM_BACKOFF_BASE_MS 500	/* the first backoff, doubled each time */

int
scim_open(struct scim **out, struct http *h, struct err *err)
{
	struct scim *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	s->h = h;
	s->caps.patch = 1;
	s->caps.filter = 1;
	s->caps.max_results = 0;
	s->retries = 5;
	s->max_wait_ms = 60000;
	s->rng = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
	*out = s;
	return L2S_OK;
}

void
scim_set_retry(struct scim *s, int retries, int max_wait_seconds)
{
	s->retries = retries < 0 ? 0 : retries;
	s->max_wait_ms = (long)max_wait_seconds * 1000;
}

unsigned long
scim_retries(const struct scim *s)
{
	return s != NULL ? s->nretries : 0;
}

/* A number in [0, n) for jitter (xorshift; not for secrets). */
static unsigned long
scim_random(struct scim *s, unsigned long n)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return n > 0 ? s->rng % n : 0;
}

/*
 * How long to wait before retry number attempt (1-based): what Retry-After
 * asks, else exponential backoff with jitter (half to all of base * 2^n),
 * never more than max_wait_ms.  -1: Retry-After asks for longer than the
 * cap, so this cycle gives up on the request.
 */
static long
retry_delay(struct scim *s, const struct http_response *resp, int attempt)
{
	long asked = resp != NULL ? http_retry_after_ms(resp) : -1, d;
	int shift = attempt - 1 < 20 ? attempt - 1 : 20;

	if (asked >= 0)
		return asked <= s->max_wait_ms ? asked : -1;
	d = (long)SCIM_BACKOFF_BASE_MS << shift;
	if (d > s->max_wait_ms || d <= 0)
		d = s->max_wait_ms;
	return d / 2 + (long)scim_random(s, (unsigned long)(d / 2) + 1);
}

void
scim_close(struct scim *s)
{
	if (s == NULL)
		return;
	scim_prefetch_drop(s);
	free(s);
}

const struct scim_caps *
scim_caps(const struct scim *s)
{
	return &s->caps;
}

/* "201 Created", or "299" when the reason is not known. */
static void
status_text(char *dst, size_t n, long status)
{
	const char *r = scimerr_reason(status);

	snprintf(dst, n, "%ld%s%s", status, r[0] != '\0' ? " " : "", r);
}

/* A successful status whose body is not what the request needs. */
static int
bad_success(struct err *err, const char *method, const char *shown,
    long status, const char *why)
{
	char st[64];

	status_text(st, sizeof(st), status);
	return err_set(err, L2S_EPARSE, "%s %s: %s but %s", method, shown, st,
	    why);
}

#define SCIM_NOT_KEPT 1		/* kept_take(): no answer kept */

static int
same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The kept answer to this very request, if scim_prefetch() sent it:
 * moved into resp and err, and its outcome returned; else SCIM_NOT_KEPT. */
static int
kept_take(struct scim *s, const char *method, const char *path,
    const char *text, struct http_response *resp, struct err *err)
{
	size_t i;

	for (i = 0; i < s->nkept; i++) {
		struct kept *k = &s->kept[i];

		if (k->taken || strcmp(k->method, method) != 0 ||
		    strcmp(k->path, path) != 0 || !same(k->text, text))
			continue;
		k->taken = 1;
		*resp = k->resp;
		k->resp = (struct http_response)HTTP_RESPONSE_INIT;
		if (err != NULL)
			*err = k->err;
		return k->rc;
	}
	return SCIM_NOT_KEPT;
}

void
scim_prefetch_drop(struct scim *s)
{
	size_t i;

	for (i = 0; i < s->nkept; i++) {
		struct kept *k = &s->kept[i];

		if (!k->taken && k->method != NULL)
			log_debug("%s %s: the answer sent ahead (%ld) was not "
			    "used", k->method, k->path, k->resp.status);
		http_response_free(&k->resp);
		free(k->method);
		free(k->path);
		cJSON_free(k->text);
	}
	free(s->kept);
	s->kept = NULL;
	s->nkept = 0;
}

int
scim_prefetched(const struct scim *s, size_t i)
{
	const struct kept *k = i < s->nkept ? &s->kept[i] : NULL;

	return k != NULL && !k->taken && k->method != NULL &&
	    k->rc == L2S_OK && k->resp.status >= 200 && k->resp.status <= 299;
}

int
scim_concurrency(const struct scim *s)
{
	return http_concurrency(s->h);
}

static char *resource_path(struct scim *s, const char *type, const char *id);
static cJSON *patch_envelope(const cJSON *ops);

/* The path and body text of r exactly as the scim_* call sends them. */
static int
kept_build(struct scim *s, const struct scim_req *r, struct kept *k)
{
	struct buf path = BUF_INIT;
	cJSON *env = NULL;

	k->method = strdup(r->method);
	if (r->id == NULL) {
		buf_printf(&path, "/%s", r->type);
		k->path = buf_take(&path);
	} else {
		k->path = resource_path(s, r->type, r->id);
	}
	if (k->method == NULL || k->path == NULL)
		return -1;
	if (r->body == NULL)
		return 0;
	if (strcmp(r->method, "PATCH") == 0) {
		if (!cJSON_IsArray(r->body) ||
		    (env = patch_envelope(r->body)) == NULL)
			return -1;
		k->text = cJSON_PrintUnformatted(env);
		cJSON_Delete(env);
	} else {
		k->text = cJSON_PrintUnformatted(r->body);
	}
	return k->text != NULL ? 0 : -1;
}

int
scim_prefetch(struct scim *s, const struct scim_req *reqs, size_t n,
    struct err *err)
{
	struct http_req *hr = NULL;
	size_t i;
	int rc;

	scim_prefetch_drop(s);
	if (n == 0)
		return err_set(err, L2S_OK, "%s", "");
	rc = err_set(err, L2S_ENOMEM, "out of memory");
	s->kept = calloc(n, sizeof(*s->kept));
	hr = calloc(n, sizeof(*hr));
	if (s->kept == NULL || hr == NULL)
		goto done;
	s->nkept = n;
	for (i = 0; i < n; i++) {
		if (kept_build(s, &reqs[i], &s->kept[i]) != 0)
			goto done;
		hr[i].method = s->kept[i].method;
		hr[i].path = s->kept[i].path;
		hr[i].body = s->kept[i].text;
	}
	rc = http_request_many(s->h, hr, n, err);
	if (rc != L2S_OK)
		goto done;
	for (i = 0; i < n; i++) {
		s->kept[i].resp = hr[i].resp;
		s->kept[i].rc = hr[i].rc;
		s->kept[i].err = hr[i].err;
		hr[i].resp = (struct http_response)HTTP_RESPONSE_INIT;
	}
	rc = L2S_OK;
done:
	if (rc != L2S_OK) {
		/* Nothing kept: every operation sends its own request. */
		for (i = 0; i < s->nkept; i++)
			s->kept[i].taken = 1;
		scim_prefetch_drop(s);
	}
	free(hr);
	return rc;
}

/*
 * Send one request, retrying what may succeed later: transport failures,
 * 429 and 5xx, after the wait retry_delay() gives.  shown is the path as
 * messages print it (NULL: path).
 *
 * ambiguous == NULL: the request may be repeated blindly (reads, replaces,
 * removals, creates whose repeat ends in a 409 the caller resolves).
 * Otherwise a failure after which the request may have been applied (a
 * transport failure once sent, 500, 502, 504) is not retried: *ambiguous
 * is set and the caller checks the resource before going on.
 *
 * L2S_OK for a 2xx status; otherwise the outcome for the last status (resp
 * holds that response) or transport failure (resp->status is 0).  The
 * caller frees resp either way.
 */
static int
scim_send(struct scim *s, const char *method, const char *path,
    const char *shown, const cJSON *body, struct http_response *resp,
    int *ambiguous, struct err *err)
{
	char *text = NULL;
	int attempt, rc = L2S_OK;

	*resp = (struct http_response)HTTP_RESPONSE_INIT;
	if (ambiguous != NULL)
		*ambiguous = 0;
	if (shown == NULL)
		shown = path;
	if (body != NULL) {
		text = cJSON_PrintUnformatted(body);
		if (text == NULL) {
			rc = err_set(err, L2S_ENOMEM,
			    "%s %s: cannot serialize the request body",
			    method, shown);
			goto done;
		}
	}
	for (attempt = 0;; attempt++) {
		int maybe_applied;
		long wait;

		http_response_free(resp);
		rc = attempt == 0 ? kept_take(s, method, path, text, resp, err) :
		    SCIM_NOT_KEPT;
		if (rc == SCIM_NOT_KEPT)
			rc = http_request(s->h, method, path, text, resp, err);
		if (rc == L2S_OK && scimerr_outcome(resp->status) == L2S_OK) {
			rc = err_set(err, L2S_OK, "%s", "");
			goto done;
		}
		if (rc == L2S_OK) {
			rc = scimerr_set(err, method, shown, resp->status,
			    resp->body, resp->len);
			if (resp->status >= 300 && resp->status <= 399 &&
			    resp->location != NULL && err != NULL) {
				size_t n = strlen(err->msg);

				snprintf(err->msg + n, sizeof(err->msg) - n,
				    " (redirected to '%s': check scim.url)",
				    resp->location);
			}
		}
		if (rc != L2S_ETEMP)
			goto done;
		/* 429 and 503 say the request was not taken; the rest may
		 * have been, unless it was a read. */
		maybe_applied = strcmp(method, "GET") != 0 &&
		    !resp->not_sent && resp->status != 429 &&
		    resp->status != 503;
		if (maybe_applied && ambiguous != NULL) {
			*ambiguous = 1;
			goto done;
		}
		if (attempt >= s->retries)
			goto done;
		wait = retry_delay(s, resp, attempt + 1);
		if (wait < 0 && err == NULL)
			goto done;
		if (wait < 0) {
			size_t n = strlen(err->msg);

			snprintf(err->msg + n, sizeof(err->msg) - n, " (Retry-After "
			    "asks for longer than scim.retry_max_wait, %ld s: "
			    "left for the next cycle)", s->max_wait_ms / 1000);
			goto done;
		}
		log_debug("%s; retry %d of %d in %.1f s",
		    err != NULL ? err->msg : method, attempt + 1, s->retries,
		    (double)wait / 1000);
		s->nretries++;
		if (platform_sleep_ms(wait))
			goto done;	/* a stop request: give up this one */
	}
done:
	cJSON_free(text);
	return rc;
}

/* Parse a 2xx response body that must be a JSON object. */
static int
parse_object(cJSON **out, const char *method, const char *shown,
    const struct http_response *resp, struct err *err)
{
	const char *why = NULL;

	*out = NULL;
	if (scimerr_json_parse(out, resp->body, resp->len, &why) != L2S_OK)
		return bad_success(err, method, shown, resp->status,
		    why != NULL ? why : "the body is not JSON");
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return bad_success(err, method, shown, resp->status,
		    "the body is not a JSON object");
	}
	return L2S_OK;
}

/* "/{type}/{escaped id}"; caller frees; NULL when out of memory. */
static char *
resource_path(struct scim *s, const char *type, const char *id)
{
	struct buf b = BUF_INIT;
	char *e;

	e = http_escape(s->h, id);
	if (e == NULL)
		return NULL;
	buf_printf(&b, "/%s/%s", type, e);
	free(e);
	return buf_take(&b);
}

int
scim_discover(struct scim *s, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	const char *path = "/ServiceProviderConfig";
	const cJSON *o;
	cJSON *j = NULL;
	struct err local = ERR_INIT;
	char st[64];
	int rc;

	if (err == NULL)
		err = &local;
	rc = scim_send(s, "GET", path, NULL, NULL, &resp, NULL, err);
	if (resp.status == 401 || resp.status == 403) {
		status_text(st, sizeof(st), resp.status);
		rc = err_set(err, L2S_EAUTH,
		    "GET %s: %s: the SCIM service refused the token", path, st);
		goto done;
	}
	if (resp.status == 404 || resp.status == 501) {
		log_debug("%s: keeping the default capabilities", err->msg);
		rc = err_set(err, L2S_OK, "%s", "");
		goto done;
	}
	if (rc != L2S_OK)
		goto done;
	if (parse_object(&j, "GET", path, &resp, err) != L2S_OK) {
		log_debug("%s: keeping the default capabilities", err->msg);
		rc = err_set(err, L2S_OK, "%s", "");
		goto done;
	}
	o = cJSON_GetObjectItem(j, "patch");
	o = cJSON_GetObjectItem(o, "supported");
	if (cJSON_IsBool(o))
		s->caps.patch = cJSON_IsTrue(o);
	o = cJSON_GetObjectItem(j, "filter");
	if (cJSON_IsBool(cJSON_GetObjectItem(o, "supported")))
		s->caps.filter = cJSON_IsTrue(cJSON_GetObjectItem(o,
		    "supported"));
	o = cJSON_GetObjectItem(o, "maxResults");
	if (cJSON_IsNumber(o) && o->valuedouble >= 1 &&
	    o->valuedouble <= 1e9)
		s->caps.max_results = (int)o->valuedouble;
	log_debug("SCIM service: patch %s, filter %s, maxResults %d",
	    s->caps.patch ? "yes" : "no", s->caps.filter ? "yes" : "no",
	    s->caps.max_results);
	rc = L2S_OK;
done:
	cJSON_Delete(j);
	http_response_free(&resp);
	return rc;
}

int
scim_create(struct scim *s, const char *type, const struct cJSON *body,
    char **id, struct err *err)
{
	return scim_create_once(s, type, body, id, NULL, err);
}

int
scim_create_once(struct scim *s, const char *type, const struct cJSON *body,
    char **id, int *ambiguous, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct buf path = BUF_INIT;
	const cJSON *v;
	cJSON *j = NULL;
	int rc;

	*id = NULL;
	buf_printf(&path, "/%s", type);
	if (buf_failed(&path)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	rc = scim_send(s, "POST", buf_str(&path), NULL, body, &resp, ambiguous,
	    err);
	if (rc != L2S_OK)
		goto done;
	rc = parse_object(&j, "POST", buf_str(&path), &resp, err);
	if (rc != L2S_OK)
		goto done;
	v = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		rc = bad_success(err, "POST", buf_str(&path), resp.status,
		    "the response has no \"id\"");
		goto done;
	}
	*id = strdup(v->valuestring);
	if (*id == NULL)
		rc = err_set(err, L2S_ENOMEM, "out of memory");
done:
	cJSON_Delete(j);
	http_response_free(&resp);
	buf_free(&path);
	return rc;
}

static int
scim_patch_ex(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, int *ambiguous, struct err *err);

/* The PatchOp message around ops (an array): the operations stay the
 * caller's, referenced, not copied.  NULL on ENOMEM. */
static cJSON *
patch_envelope(const cJSON *ops)
{
	cJSON *env = cJSON_CreateObject(), *schemas, *ref;

	schemas = cJSON_AddArrayToObject(env, "schemas");
	if (schemas == NULL)
		goto fail;
	ref = cJSON_CreateString(SCIM_PATCHOP);
	if (ref == NULL)
		goto fail;
	if (!cJSON_AddItemToArray(schemas, ref)) {
		cJSON_Delete(ref);
		goto fail;
	}
	ref = cJSON_CreateArrayReference(ops->child);
	if (ref == NULL)
		goto fail;
	if (!cJSON_AddItemToObject(env, "Operations", ref)) {
		cJSON_Delete(ref);
		goto fail;
	}
	return env;
fail:
	cJSON_Delete(env);
	return NULL;
}

int
scim_patch(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, struct err *err)
{
	return scim_patch_ex(s, type, id, ops, NULL, err);
}

int
scim_patch_once(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, int *ambiguous, struct err *err)
{
	return scim_patch_ex(s, type, id, ops, ambiguous, err);
}

static int
scim_patch_ex(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, int *ambiguous, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	cJSON *env = NULL;
	char *path = NULL;
	int rc;

	rc = err_set(err, L2S_ENOMEM, "out of memory");
	path = resource_path(s, type, id);
	if (path == NULL)
		goto done;
	if (!cJSON_IsArray(ops)) {
		rc = err_set(err, L2S_EPARSE,
		    "PATCH %s: the operations are not a JSON array", path);
		goto done;
	}
	env = patch_envelope(ops);
	if (env == NULL)
		goto done;
	rc = scim_send(s, "PATCH", path, NULL, env, &resp, ambiguous, err);
done:
	cJSON_Delete(env);
	http_response_free(&resp);
	free(path);
	return rc;
}

int
scim_replace(struct scim *s, const char *type, const char *id,
    const struct cJSON *body, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char *path;
	int rc;

	path = resource_path(s, type, id);
	if (path == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = scim_send(s, "PUT", path, NULL, body, &resp, NULL, err);
	http_response_free(&resp);
	free(path);
	return rc;
}

int
scim_delete(struct scim *s, const char *type, const char *id,
    struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char *path;
	int rc;

	path = resource_path(s, type, id);
	if (path == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = scim_send(s, "DELETE", path, NULL, NULL, &resp, NULL, err);
	if (rc == L2S_ENOTFOUND && resp.status == 404) {
		log_debug("DELETE %s: already gone", path);
		rc = err_set(err, L2S_OK, "%s", "");
	}
	http_response_free(&resp);
	free(path);
	return rc;
}

int
scim_get(struct scim *s, const char *type, const char *id,
    struct cJSON **out, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char *path;
	int rc;

	*out = NULL;
	path = resource_path(s, type, id);
	if (path == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	rc = scim_send(s, "GET", path, NULL, NULL, &resp, NULL, err);
	if (rc == L2S_OK)
		rc = parse_object(out, "GET", path, &resp, err);
	http_response_free(&resp);
	free(path);
	return rc;
}

int
scim_list(struct scim *s, const char *type, const char *filter,
    struct cJSON **out, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct buf path = BUF_INIT, shown = BUF_INIT;
	cJSON *all = NULL, *page = NULL, *res, *it;
	const cJSON *total;
	char *efilter = NULL;
	long start = 1, collected = 0, pages = 0, count = SCIM_PAGE_SIZE;
	int rc, n;

	*out = NULL;
	rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (filter != NULL && (efilter = http_escape(s->h, filter)) == NULL)
		goto done;
	if (s->caps.max_results > 0 && s->caps.max_results < count)
		count = s->caps.max_results;
	all = cJSON_CreateArray();
	if (all == NULL)
		goto done;
	for (;;) {
		if (++pages > SCIM_MAX_PAGES) {
			rc = err_set(err, L2S_ESCIM,
			    "%s: still short of totalResults after %d pages",
			    buf_str(&shown), SCIM_MAX_PAGES);
			goto done;
		}
		buf_reset(&path);
		buf_reset(&shown);
		if (filter != NULL) {
			buf_printf(&path, "/%s?filter=%s&", type, efilter);
			buf_printf(&shown, "/%s?filter=%s&", type, filter);
		} else {
			buf_printf(&path, "/%s?", type);
			buf_printf(&shown, "/%s?", type);
		}
		buf_printf(&path, "startIndex=%ld&count=%ld", start, count);
		buf_printf(&shown, "startIndex=%ld&count=%ld", start, count);
		if (buf_failed(&path) || buf_failed(&shown)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		http_response_free(&resp);
		rc = scim_send(s, "GET", buf_str(&path), buf_str(&shown), NULL,
		    &resp, NULL, err);
		if (rc != L2S_OK)
			goto done;
		cJSON_Delete(page);
		rc = parse_object(&page, "GET", buf_str(&shown), &resp, err);
		if (rc != L2S_OK)
			goto done;
		total = cJSON_GetObjectItem(page, "totalResults");
		if (!cJSON_IsNumber(total) || total->valuedouble < 0) {
			rc = bad_success(err, "GET", buf_str(&shown),
			    resp.status, "the ListResponse has no totalResults");
			goto done;
		}
		res = cJSON_GetObjectItem(page, "Resources");
		if (res != NULL && !cJSON_IsArray(res)) {
			rc = bad_success(err, "GET", buf_str(&shown),
			    resp.status, "its Resources is not an array");
			goto done;
		}
		n = 0;
		while (res != NULL && (it = cJSON_DetachItemFromArray(res, 0))
		    != NULL) {
			if (!cJSON_AddItemToArray(all, it)) {
				cJSON_Delete(it);
				rc = err_set(err, L2S_ENOMEM, "out of memory");
				goto done;
			}
			n++;
		}
		collected += n;
		if ((double)collected >= total->valuedouble)
			break;
		if (n == 0) {
			log_debug("GET %s: empty page before totalResults "
			    "(%ld of %.0f): stopping", buf_str(&shown),
			    collected, total->valuedouble);
			break;
		}
		start += n;
	}
	*out = all;
	all = NULL;
	rc = err_set(err, L2S_OK, "%s", "");
done:
	cJSON_Delete(page);
	cJSON_Delete(all);
	http_response_free(&resp);
	buf_free(&path);
	buf_free(&shown);
	free(efilter);
	return rc;
}
