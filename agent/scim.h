/*
 * scim.h - the SCIM 2.0 protocol client (RFC 7644)
 *
 * Turns operations into requests over http.h and responses into outcomes
 * (after the retries described at scim_set_retry()):
 * 2xx -> L2S_OK; 401/403 -> L2S_EAUTH; 404 -> L2S_ENOTFOUND; 409 ->
 * L2S_ECONFLICT; 429, 5xx and transport failures -> L2S_ETEMP; other 4xx
 * -> L2S_ESCIM.  Errors are one line: the request, the status, and the
 * SCIM error body's scimType and detail ("POST /Users: 400 Bad Request:
 * invalidValue: userName is required").
 *
 * Bodies are cJSON trees: borrowed when passed in; results the caller owns.
 * Responses are parsed with a length and a nesting bound; a body that is not
 * JSON, or a created resource without an "id", is an error for that request.
 *
 * Not thread-safe.
 */
#ifndef L2S_SCIM_H
#define L2S_SCIM_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "http.h"

struct cJSON;
struct scim;

/* What ServiceProviderConfig said (defaults when it could not be read). */
struct scim_caps {
	int patch;		/* PATCH supported (default 1) */
	int filter;		/* filter supported (default 1) */
	int max_results;	/* filter.maxResults, 0 when unknown */
};

/* Borrow h for all requests.  The caller owns *out (scim_close()). */
int scim_open(struct scim **out, struct http *h, struct err *err);
void scim_close(struct scim *s);

/* Retries: a request that failed with a transport error, 429 or 5xx is
 * sent again up to retries times, after the wait its Retry-After asks for
 * (a longer one than max_wait_seconds gives up until the next cycle), or
 * else after an exponential backoff with jitter capped at max_wait_seconds.
 * A stop request cuts the wait short and gives up.  Default 5 and 60. */
void scim_set_retry(struct scim *s, int retries, int max_wait_seconds);

/* Retries made so far (for the cycle summary). */
unsigned long scim_retries(const struct scim *s);

/* GET /ServiceProviderConfig: proves the URL and the token (L2S_EAUTH on
 * 401/403).  A 404 or unreadable body keeps the defaults (logged at debug). */
int scim_discover(struct scim *s, struct err *err);
const struct scim_caps *scim_caps(const struct scim *s);

/* POST /{type} with body; on success *id is the new resource's id (caller
 * frees).  type is "Users" or "Groups". */
int scim_create(struct scim *s, const char *type, const struct cJSON *body,
    char **id, struct err *err);

/* As scim_create(), but a failure after which the resource may or may not
 * have been created is not retried: L2S_ETEMP with *ambiguous set, and the
 * caller looks it up (by externalId) before sending it again.  When
 * ambiguous is NULL, this is scim_create(). */
int scim_create_once(struct scim *s, const char *type,
    const struct cJSON *body, char **id, int *ambiguous, struct err *err);

/* PATCH /{type}/{id} with a PatchOp whose "Operations" are ops (borrowed).
 * 200 with a body and 204 without are both success. */
int scim_patch(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, struct err *err);

/* As scim_patch(), for operations that must not be repeated blindly
 * (adding members: some services append a duplicate).  A failure after
 * which the request may or may not have been applied is not retried: it
 * returns L2S_ETEMP with *ambiguous set, and the caller reads the resource
 * before going on.  Failures that certainly applied nothing (429, 503) are
 * retried as usual. */
int scim_patch_once(struct scim *s, const char *type, const char *id,
    const struct cJSON *ops, int *ambiguous, struct err *err);

/* PUT /{type}/{id} with the full resource. */
int scim_replace(struct scim *s, const char *type, const char *id,
    const struct cJSON *body, struct err *err);

/* DELETE /{type}/{id}; 404 counts as done (already gone). */
int scim_delete(struct scim *s, const char *type, const char *id,
    struct err *err);

/*
 * Concurrent first attempts.  scim_prefetch() sends reqs at once (up to
 * scim.concurrency in flight, over http_request_many()) and keeps each
 * answer for the scim_* call that sends the very same request (method,
 * path and body) next: that call takes the kept answer as its first
 * attempt instead of sending, then goes on exactly as usual (retries,
 * outcomes, messages).  An operation's code therefore behaves the same
 * whether its first request went alone or in a batch; the caller must
 * only do before scim_prefetch() what the operation does before its first
 * request (a pending mark).  Answers nobody took are dropped, with a debug
 * line, by the next scim_prefetch() or by scim_prefetch_drop().
 * L2S_OK, or L2S_ENOMEM (nothing kept).
 */
struct scim_req {
	const char *method;		/* "POST", "PATCH", "PUT" or "DELETE" */
	const char *type;		/* "Users" or "Groups" */
	const char *id;			/* the resource; NULL for POST */
	const struct cJSON *body;	/* borrowed; PATCH: the operations */
};

int scim_prefetch(struct scim *s, const struct scim_req *reqs, size_t n,
    struct err *err);
/* Is a success (2xx) kept for reqs[i] of the last scim_prefetch(), and
 * not taken yet?  (A stop request still lets such operations complete.) */
int scim_prefetched(const struct scim *s, size_t i);
void scim_prefetch_drop(struct scim *s);
/* How many requests scim_prefetch() runs at once (scim.concurrency). */
int scim_concurrency(const struct scim *s);

/* GET /{type}/{id}; the caller owns *out. */
int scim_get(struct scim *s, const char *type, const char *id,
    struct cJSON **out, struct err *err);

/* GET /{type}?filter=... following startIndex paging until totalResults;
 * *out is a JSON array of every resource found (caller owns).  filter may
 * be NULL (all resources). */
int scim_list(struct scim *s, const char *type, const char *filter,
    struct cJSON **out, struct err *err);

#endif
