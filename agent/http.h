/*
 * http.h - the HTTP transport to the SCIM service (libcurl)
 *
 * One handle per target: a curl multi handle with scim.concurrency easy
 * handles, so connections are kept alive and shared (HTTP/2 multiplexing
 * over TLS where the server offers it).  scim.rate_limit spaces the start
 * of every request evenly (single or concurrent, retries included): never
 * more than that many a second, and no burst after an idle time.  On top
 * of it, scim.rate_limit_users and scim.rate_limit_groups limit the
 * requests to /Users... and /Groups... with a token bucket each (a small
 * burst after an idle time, see http_bucket_burst()).  Waiting for either
 * ends when a stop is requested: the request is then not sent.
 * TLS verification is on unless the config turns it off;
 * http:// to a host that is not loopback is refused unless
 * scim.allow_insecure_http is set.  Every request sends
 * "Content-Type: application/scim+json" and "Authorization: Bearer ...";
 * the token never appears in an error or a log line.  Response bodies are
 * bounded (HTTP_BODY_MAX): a larger body is an error, not a truncation.
 *
 * Not thread-safe.  curl_global_init() is the caller's (main), once.
 */
#ifndef L2S_HTTP_H
#define L2S_HTTP_H

#include <stddef.h>

#include "config.h"
#include "err.h"

#define HTTP_BODY_MAX (8u * 1024 * 1024)

struct http;

struct http_response {
	long status;		/* HTTP status; 0 when no response arrived */
	char *body;		/* owned, NUL-terminated (may be empty) */
	size_t len;
	char *location;		/* owned Location header, or NULL */
	char *retry_after;	/* owned Retry-After header, or NULL */
	int not_sent;		/* transport failure before the request could
				   reach the service (no connection, TLS) */
};

#define HTTP_RESPONSE_INIT { 0, NULL, 0, NULL, NULL, 0 }

/* Prepare a handle for cfg->url with token (copied, masked in logs).
 * The caller owns *out (http_close()).  L2S_EPARSE for an unusable URL or an
 * insecure http:// that is not allowed. */
int http_open(struct http **out, const struct config_scim *cfg,
    const char *token, struct err *err);
void http_close(struct http *h);

/* Replace the bearer token (the token file is re-read every cycle). */
int http_set_token(struct http *h, const char *token, struct err *err);

/* method "GET", "POST", "PUT", "PATCH" or "DELETE"; path is relative to the
 * base URL ("/Users", "/Users/ID", "/Users?filter=..."); body may be NULL.
 * Returns L2S_OK whenever a complete response arrived, whatever its status:
 * the caller reads resp->status.  L2S_ETEMP: connection failed, timed out or
 * was reset; L2S_EIO: the body exceeded HTTP_BODY_MAX; err names the method
 * and URL.  resp is filled on success and must be freed either way. */
int http_request(struct http *h, const char *method, const char *path,
    const char *body, struct http_response *resp, struct err *err);

void http_response_free(struct http_response *resp);

/* How long the response's Retry-After asks to wait, in milliseconds
 * (delay-seconds or an HTTP-date); -1 when absent or unreadable. */
long http_retry_after_ms(const struct http_response *resp);

/* One request of a batch (http_request_many()).  method, path and body are
 * borrowed and must stay valid until the batch returns. */
struct http_req {
	const char *method;
	const char *path;
	const char *body;		/* may be NULL */
	struct http_response resp;	/* filled; free with http_response_free() */
	int rc;				/* as http_request() returns it */
	struct err err;			/* the message when rc is not L2S_OK */
};

/* Send n requests, up to scim.concurrency of them at once, each within the
 * rate limit.  Each one ends as http_request() would end it: reqs[i].rc,
 * .resp and .err (resp must be freed whatever rc is).  Once a stop is
 * requested no further request starts: those left get L2S_ETEMP with
 * resp.not_sent set.  Returns L2S_OK, or L2S_ENOMEM when the batch could
 * not run (no request was sent). */
int http_request_many(struct http *h, struct http_req *reqs, size_t n,
    struct err *err);

/* How many requests h runs at once (scim.concurrency, at least 1). */
int http_concurrency(const struct http *h);

/* Number of requests sent through h (for the cycle summary). */
unsigned long http_requests(const struct http *h);

/*
 * The token bucket of one endpoint, exposed for tests: the clock is the
 * caller's (nanoseconds of a monotonic clock).  It holds up to burst
 * tokens, starts full, and gains one every 3600 s / per_hour; a request
 * takes one.  So over any time T at most burst + per_hour * T / 1 h
 * requests start.
 */
struct http_bucket {
	long long per_ns;		/* nanoseconds per token; 0: no limit */
	long long cap_ns;		/* burst * per_ns */
	long long credit_ns;		/* tokens held, in nanoseconds */
	long long last_ns;		/* when credit_ns was last brought up */
};

/* The burst for per_hour: five seconds' worth, at least 1, at most 20. */
int http_bucket_burst(int per_hour);
/* per_hour 0: no limit (never waits). */
void http_bucket_init(struct http_bucket *b, int per_hour, long long now_ns);
/* Nanoseconds until a token is there (0: now). */
long long http_bucket_wait_ns(const struct http_bucket *b, long long now_ns);
/* Take a token (the caller waited for it). */
void http_bucket_take(struct http_bucket *b, long long now_ns);

/* Which bucket a request path falls under: HTTP_EP_USERS for "/Users",
 * "/Users/..." and "/Users?...", HTTP_EP_GROUPS likewise, else -1. */
#define HTTP_EP_USERS 0
#define HTTP_EP_GROUPS 1
int http_endpoint(const char *path);

/* Percent-encode s for a URL query; caller frees. */
char *http_escape(struct http *h, const char *s);

#endif
