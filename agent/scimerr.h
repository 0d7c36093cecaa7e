/*
 * scimerr.h - what a SCIM response means: outcome and one-line message
 *
 * Turns an HTTP status and the body the service sent into the outcome the
 * caller acts on (2xx ok, 401/403 auth, 404 not found, 409 conflict, 429
 * and 5xx temporary, anything else a refusal) and into one line:
 * "METHOD PATH: STATUS REASON: scimType: detail", taken from the SCIM error
 * schema (RFC 7644 3.12) when the body is one, else from the first
 * printable characters of the body.  Also the bounded JSON parse every
 * response body goes through.
 *
 * Pure: no I/O, never logs.  A message never carries a bearer token: any
 * "Bearer ..." the body echoes and any secret registered with log_secret()
 * are masked.
 */
#ifndef L2S_SCIMERR_H
#define L2S_SCIMERR_H

#include <stddef.h>

#include "err.h"

struct cJSON;

#define SCIMERR_JSON_DEPTH 64		/* deepest nesting accepted in a body */
#define SCIMERR_SNIPPET_MAX 200		/* body characters quoted in a message */

/* The outcome for an HTTP status: L2S_OK for 2xx, else a negative L2S_*. */
int scimerr_outcome(long status);

/* The reason phrase for status ("Not Found"); "" when not a known one.
 * Static storage. */
const char *scimerr_reason(long status);

/* Fill err with "METHOD PATH: STATUS REASON[: scimType][: detail]" (or the
 * body's first SCIMERR_SNIPPET_MAX printable characters when it is not a
 * SCIM error) and return scimerr_outcome(status).  body (len bytes, may be
 * NULL) is borrowed.  For a 2xx status the message is still filled and
 * L2S_OK returned. */
int scimerr_set(struct err *err, const char *method, const char *path,
    long status, const char *body, size_t len);

/* Parse len bytes of body as JSON, refusing nesting deeper than
 * SCIMERR_JSON_DEPTH before cJSON sees it.  On success the caller owns *out
 * (cJSON_Delete()).  On failure *out is NULL, L2S_EPARSE is returned and
 * *why (static text, may be NULL) says "the body is not JSON" or "the body
 * is nested deeper than 64 levels". */
int scimerr_json_parse(struct cJSON **out, const char *body, size_t len,
    const char **why);

/* 1 when body (len bytes) never nests arrays/objects deeper than max;
 * strings are skipped correctly.  Does not validate the JSON. */
int scimerr_json_depth_ok(const char *body, size_t len, int max);

#endif
