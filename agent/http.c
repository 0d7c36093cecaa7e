/*
 * http.c - the HTTP transport to the SCIM service (libcurl multi interface)
 *
 * One multi handle per target and scim.concurrency easy handles ("slots"),
 * each reused for request after request so that connections stay open in
 * the multi handle's pool; with HTTP/2 over TLS the requests share one
 * connection.  Options that never change are set once in http_open(); a
 * request only sets its URL, method and body.  A single request is a batch
 * of one, so every request shares the same connections and the same rate
 * limit.  The token lives in one heap copy and in the header list; both
 * are wiped when replaced or freed, and it is registered with log_secret()
 * so that a line that somehow carries it is masked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "platform.h"

#ifndef L2S_VERSION
#define L2S_VERSION "unknown"
#endif

#define HTTP_CONNECT_TIMEOUT 10		/* seconds, or the timeout if lower */
#define HTTP_DEFAULT_TIMEOUT 30
#define HTTP_POLL_MS 100		/* the longest wait between stop checks */

/* One easy handle and the transfer it runs. */
struct slot {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];	/* lives as long as curl */
	struct http_req *req;		/* borrowed: in progress, or NULL */
	struct buf url;
	struct buf body;
	int overflow;
	char *location, *retry_after;
};

struct http {
	CURLM *multi;
	struct slot *slots;		/* owned, nslots of them */
	int nslots;
	struct curl_slist *headers;	/* owned; carries the token */
	char *token;			/* owned; wiped before free */
	char *base;			/* owned; the URL without trailing '/' */
	unsigned long nrequests;
	long long interval_ns;		/* rate limit: between starts, or 0 */
	long long next_ns;		/* monotonic time of the next start */
	struct http_bucket buckets[2];	/* HTTP_EP_USERS, HTTP_EP_GROUPS */
};

/* A memset the compiler may not drop because the memory is freed next. */
static void *(*const volatile http_memset)(void *, int, size_t) = memset;

static void
wipe(char *s)
{
	if (s != NULL)
		http_memset(s, 0, strlen(s));
}

static void
free_headers(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		wipe(p->data);
	curl_slist_free_all(l);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* 127.0.0.0/8 as a dotted quad, strictly: four decimal parts 0..255. */
static int
is_loopback_v4(const char *s)
{
	unsigned long part[4];
	int i;

	for (i = 0; i < 4; i++) {
		char *end;

		if (*s < '0' || *s > '9')
			return 0;
		part[i] = strtoul(s, &end, 10);
		if (part[i] > 255 || end - s > 3)
			return 0;
		s = end;
		if (i < 3 && *s++ != '.')
			return 0;
	}
	return *s == '\0' && part[0] == 127;
}

/* host as curl_url() gives it: names, dotted quads, or "[v6]". */
static int
is_loopback(const char *host)
{
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if (is_loopback_v4(host))
		return 1;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (strcmp(host, "[::1]") == 0 ||
		    strcmp(host, "[0:0:0:0:0:0:0:1]") == 0)
			return 1;
		if (strncasecmp(host, "[::ffff:", 8) == 0) {
			char v4[16];

			if (n - 9 < sizeof(v4)) {
				memcpy(v4, host + 8, n - 9);
				v4[n - 9] = '\0';
				return is_loopback_v4(v4);
			}
		}
	}
	return 0;
}

/* Check the URL: http or https, no query or fragment, and plain http only
 * to loopback unless allowed. */
static int
check_url(const struct config_scim *cfg, struct err *err)
{
	CURLU *u = NULL;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL, *part = NULL;
	int rc;

	u = curl_url();
	if (u == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	uc = curl_url_set(u, CURLUPART_URL, cfg->url, 0);
	if (uc != CURLUE_OK) {
		rc = err_set(err, L2S_EPARSE, "invalid SCIM URL '%s': %s",
		    cfg->url, curl_url_strerror(uc));
		goto done;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = err_set(err, L2S_EPARSE, "invalid SCIM URL '%s': no host",
		    cfg->url);
		goto done;
	}
	if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
		rc = err_set(err, L2S_EPARSE,
		    "unsupported scheme '%s' in SCIM URL '%s': use https",
		    scheme, cfg->url);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		rc = err_set(err, L2S_EPARSE,
		    "SCIM URL '%s' must not have a query or a fragment",
		    cfg->url);
		goto done;
	}
	if (strcasecmp(scheme, "http") == 0 && !is_loopback(host) &&
	    !cfg->allow_insecure_http) {
		rc = err_set(err, L2S_EPARSE,
		    "refusing to send the SCIM token over plain http to '%s': "
		    "use https or set scim.allow_insecure_http", host);
		goto done;
	}
	rc = L2S_OK;
done:
	curl_free(part);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct slot *x = arg;
	size_t len = size * n;

	if (len > HTTP_BODY_MAX - x->body.len) {
		x->overflow = 1;
		return 0;		/* aborts the transfer */
	}
	buf_add(&x->body, p, len);
	return buf_failed(&x->body) ? 0 : len;
}

/* Copy the value of header line p (n bytes) if it is name, trimmed. */
static int
header_value(char **out, const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	const char *v, *end = p + n;

	if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
		return 0;
	v = p + k + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	free(*out);
	*out = str_ndup(v, (size_t)(end - v));
	return *out != NULL ? 1 : -1;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct slot *x = arg;
	size_t len = size * n;

	/* A new status line (1xx, then the final one): forget earlier ones. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(x->location);
		free(x->retry_after);
		x->location = x->retry_after = NULL;
		return len;
	}
	if (header_value(&x->location, p, len, "Location") < 0 ||
	    header_value(&x->retry_after, p, len, "Retry-After") < 0)
		return 0;
	return len;
}

static void
reset_transfer(struct slot *x)
{
	buf_free(&x->url);
	buf_free(&x->body);
	x->overflow = 0;
	free(x->location);
	free(x->retry_after);
	x->location = x->retry_after = NULL;
	x->errbuf[0] = '\0';
	x->req = NULL;
}

/* The options every request of x shares.  -1 when one cannot be set. */
static int
slot_setup(struct http *h, struct slot *x, const struct config_scim *cfg)
{
	long timeout, connect;

	x->curl = curl_easy_init();
	if (x->curl == NULL)
		return -1;
	timeout = cfg->timeout > 0 ? cfg->timeout : HTTP_DEFAULT_TIMEOUT;
	connect = timeout < HTTP_CONNECT_TIMEOUT ? timeout : HTTP_CONNECT_TIMEOUT;

	curl_easy_setopt(x->curl, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT, connect);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(x->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(x->curl, CURLOPT_SSL_VERIFYPEER,
	    cfg->tls_verify ? 1L : 0L);
	curl_easy_setopt(x->curl, CURLOPT_SSL_VERIFYHOST,
	    cfg->tls_verify ? 2L : 0L);
	if (cfg->tls_ca_file != NULL && cfg->tls_ca_file[0] != '\0' &&
	    curl_easy_setopt(x->curl, CURLOPT_CAINFO, cfg->tls_ca_file) !=
	    CURLE_OK)
		return -1;
#ifdef CURLSSLOPT_REVOKE_BEST_EFFORT
	/* Schannel (Windows) checks revocation: a revoked certificate is
	 * refused, but a CA whose revocation list cannot be fetched (an
	 * internal one, offline) is not a reason to stop.  Other TLS
	 * libraries ignore the option. */
	(void)curl_easy_setopt(x->curl, CURLOPT_SSL_OPTIONS,
	    (long)CURLSSLOPT_REVOKE_BEST_EFFORT);
#endif
	/* Not every libcurl has HTTP/2; then HTTP/1.1 it is.  Over TLS a
	 * request waits for the first connection to tell whether it can
	 * multiplex rather than open one more. */
	(void)curl_easy_setopt(x->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	if (strncasecmp(h->base, "https:", 6) == 0)
		(void)curl_easy_setopt(x->curl, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(x->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(x->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->curl, CURLOPT_USERAGENT, "ldap2scim/" L2S_VERSION);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, x);
	return 0;
}

int
http_open(struct http **out, const struct config_scim *cfg,
    const char *token, struct err *err)
{
	struct http *h = NULL;
	size_t n;
	int i, rc;

	*out = NULL;
	if (cfg == NULL || cfg->url == NULL || cfg->url[0] == '\0')
		return err_set(err, L2S_EPARSE, "no SCIM URL configured");
	rc = check_url(cfg, err);
	if (rc != L2S_OK)
		goto done;
	rc = err_set(err, L2S_ENOMEM, "out of memory");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto done;
	h->base = strdup(cfg->url);
	if (h->base == NULL)
		goto done;
	n = strlen(h->base);
	while (n > 0 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	h->nslots = cfg->concurrency > 1 ? cfg->concurrency : 1;
	h->slots = calloc((size_t)h->nslots, sizeof(*h->slots));
	if (h->slots == NULL)
		goto done;
	if (cfg->rate_limit > 0)
		h->interval_ns = 1000000000LL / cfg->rate_limit;
	http_bucket_init(&h->buckets[HTTP_EP_USERS], cfg->rate_limit_users,
	    now_ns());
	http_bucket_init(&h->buckets[HTTP_EP_GROUPS], cfg->rate_limit_groups,
	    now_ns());
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		rc = err_set(err, L2S_ENOMEM, "cannot create a curl handle");
		goto done;
	}
	/* At most one connection per slot; HTTP/2 streams share one. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)h->nslots);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)h->nslots);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->nslots);
	for (i = 0; i < h->nslots; i++) {
		if (slot_setup(h, &h->slots[i], cfg) != 0) {
			rc = err_set(err, L2S_ENOMEM, "cannot create a curl "
			    "handle");
			goto done;
		}
	}

	rc = http_set_token(h, token, err);
	if (rc != L2S_OK)
		goto done;
	*out = h;
	h = NULL;
	rc = err_set(err, L2S_OK, "%s", "");
done:
	http_close(h);
	return rc;
}

void
http_close(struct http *h)
{
	int i;

	if (h == NULL)
		return;
	for (i = 0; h->slots != NULL && i < h->nslots; i++) {
		struct slot *x = &h->slots[i];

		if (x->curl != NULL) {
			if (x->req != NULL && h->multi != NULL)
				curl_multi_remove_handle(h->multi, x->curl);
			curl_easy_cleanup(x->curl);
		}
		reset_transfer(x);
	}
	free(h->slots);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free_headers(h->headers);
	wipe(h->token);
	free(h->token);
	free(h->base);
	free(h);
}

int
http_set_token(struct http *h, const char *token, struct err *err)
{
	struct curl_slist *l = NULL, *t;
	struct buf auth = BUF_INIT;
	char *copy = NULL;
	const char *p;
	int i, rc;

	if (token == NULL || token[0] == '\0')
		return err_set(err, L2S_EAUTH, "the SCIM token is empty");
	for (p = token; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, L2S_EAUTH,
			    "the SCIM token contains a control character");
	}
	rc = err_set(err, L2S_ENOMEM, "out of memory");
	copy = strdup(token);
	if (copy == NULL || log_secret(copy) != 0)
		goto done;
	buf_printf(&auth, "Authorization: Bearer %s", copy);
	if (buf_failed(&auth))
		goto done;
	{
		const char *lines[] = {
			"Content-Type: application/scim+json",
			"Accept: application/scim+json, application/json",
			"Expect:",	/* no 100-continue round trip */
			buf_str(&auth),
		};
		size_t k;

		for (k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
			t = curl_slist_append(l, lines[k]);
			if (t == NULL)
				goto done;
			l = t;
		}
	}
	for (i = 0; i < h->nslots; i++)
		curl_easy_setopt(h->slots[i].curl, CURLOPT_HTTPHEADER, l);
	free_headers(h->headers);
	h->headers = l;
	l = NULL;
	wipe(h->token);
	free(h->token);
	h->token = copy;
	copy = NULL;
	rc = err_set(err, L2S_OK, "%s", "");
done:
	free_headers(l);
	wipe(copy);
	free(copy);
	wipe(auth.s);
	buf_free(&auth);
	return rc;
}

/* The transport failure as a message naming method and URL. */
static int
transport_error(struct slot *x, CURLcode cc, const char *method,
    const char *url, struct err *err)
{
	char detail[CURL_ERROR_SIZE];
	size_t n;

	if (cc == CURLE_WRITE_ERROR && x->overflow)
		return err_set(err, L2S_EIO,
		    "%s %s: response body larger than %u bytes", method, url,
		    HTTP_BODY_MAX);
	if (cc == CURLE_OUT_OF_MEMORY ||
	    (cc == CURLE_WRITE_ERROR && buf_failed(&x->body)))
		return err_set(err, L2S_ENOMEM, "%s %s: out of memory",
		    method, url);
	snprintf(detail, sizeof(detail), "%s",
	    x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(cc));
	n = strlen(detail);
	while (n > 0 && (detail[n - 1] == '\n' || detail[n - 1] == '\r'))
		detail[--n] = '\0';
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		if (strstr(detail, "certificate") == NULL)
			return err_set(err, L2S_ETEMP,
			    "%s %s: TLS certificate problem: %s", method, url,
			    detail);
		break;
	default:
		break;
	}
	return err_set(err, L2S_ETEMP, "%s %s: %s", method, url, detail);
}

/* Set x up for r and hand it to the multi handle.  On failure r is done
 * (its rc and err say why) and x stays idle. */
static void
slot_start(struct http *h, struct slot *x, struct http_req *r)
{
	const char *method = r->method, *body = r->body;
	CURLMcode mc;

	reset_transfer(x);
	buf_puts(&x->url, h->base);
	buf_puts(&x->url, r->path);
	if (buf_failed(&x->url)) {
		r->rc = err_set(&r->err, L2S_ENOMEM, "out of memory");
		reset_transfer(x);
		return;
	}
	curl_easy_setopt(x->curl, CURLOPT_URL, buf_str(&x->url));
	/* Back to a plain GET, then the method of this request. */
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(x->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? strlen(body) : 0));
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, method);
	mc = curl_multi_add_handle(h->multi, x->curl);
	if (mc != CURLM_OK) {
		r->rc = err_set(&r->err, mc == CURLM_OUT_OF_MEMORY ?
		    L2S_ENOMEM : L2S_ETEMP, "%s %s: %s", method,
		    buf_str(&x->url), curl_multi_strerror(mc));
		r->resp.not_sent = 1;
		reset_transfer(x);
		return;
	}
	x->req = r;
	h->nrequests++;
}

/* The transfer of x ended with cc: fill its request, free the slot. */
static void
slot_finish(struct http *h, struct slot *x, CURLcode cc)
{
	struct http_req *r = x->req;
	struct http_response *resp = &r->resp;
	curl_off_t usec = 0;
	long status = 0;

	curl_multi_remove_handle(h->multi, x->curl);
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->curl, CURLINFO_TOTAL_TIME_T, &usec);
	if (cc != CURLE_OK) {
		/* Failures before a byte of the request could have left. */
		resp->not_sent = cc == CURLE_COULDNT_CONNECT ||
		    cc == CURLE_COULDNT_RESOLVE_HOST ||
		    cc == CURLE_COULDNT_RESOLVE_PROXY ||
		    cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_PEER_FAILED_VERIFICATION;
		r->rc = transport_error(x, cc, r->method, buf_str(&x->url),
		    &r->err);
		log_debug("%s %s -> failed (%ld ms): %s", r->method, r->path,
		    (long)(usec / 1000), r->err.msg);
		goto done;
	}
	log_debug("%s %s -> %ld (%zu bytes, %ld ms)", r->method, r->path,
	    status, x->body.len, (long)(usec / 1000));
	resp->status = status;
	resp->len = x->body.len;
	resp->body = buf_take(&x->body);
	if (resp->body == NULL) {
		resp->len = 0;
		r->rc = err_set(&r->err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	resp->location = x->location;
	resp->retry_after = x->retry_after;
	x->location = x->retry_after = NULL;
	r->rc = err_set(&r->err, L2S_OK, "%s", "");
done:
	reset_transfer(x);
}

/* Milliseconds until the rate limit lets the next request start (0: now). */
static long
rate_wait_ms(const struct http *h)
{
	long long d;

	if (h->interval_ns <= 0)
		return 0;
	d = h->next_ns - now_ns();
	return d > 0 ? (long)((d + 999999) / 1000000) : 0;
}

/* A request starts now: the next one may start one interval later, and
 * never earlier, however long the line was idle (no bursts). */
static void
rate_take(struct http *h)
{
	long long t = now_ns();

	if (h->interval_ns <= 0)
		return;
	h->next_ns = (h->next_ns > t ? h->next_ns : t) + h->interval_ns;
}

int
http_bucket_burst(int per_hour)
{
	int b = per_hour / 720;

	return b < 1 ? 1 : b > 20 ? 20 : b;
}

void
http_bucket_init(struct http_bucket *b, int per_hour, long long now)
{
	memset(b, 0, sizeof(*b));
	if (per_hour <= 0)
		return;
	b->per_ns = 3600LL * 1000000000LL / per_hour;
	b->cap_ns = b->per_ns * http_bucket_burst(per_hour);
	b->credit_ns = b->cap_ns;
	b->last_ns = now;
}

/* The credit at now: what was held plus what came in, up to the cap. */
static long long
bucket_credit(const struct http_bucket *b, long long now)
{
	long long c = b->credit_ns + (now > b->last_ns ? now - b->last_ns : 0);

	return c < b->cap_ns ? c : b->cap_ns;
}

long long
http_bucket_wait_ns(const struct http_bucket *b, long long now)
{
	long long c;

	if (b->per_ns <= 0)
		return 0;
	c = bucket_credit(b, now);
	return c >= b->per_ns ? 0 : b->per_ns - c;
}

void
http_bucket_take(struct http_bucket *b, long long now)
{
	if (b->per_ns <= 0)
		return;
	b->credit_ns = bucket_credit(b, now) - b->per_ns;
	if (now > b->last_ns)
		b->last_ns = now;
}

int
http_endpoint(const char *path)
{
	static const char *const names[] = { "/Users", "/Groups" };
	int i;

	for (i = 0; i < 2; i++) {
		size_t n = strlen(names[i]);

		if (strncmp(path, names[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || path[n] == '?'))
			return i;
	}
	return -1;
}

/* Milliseconds until r's endpoint bucket has a token (0: now). */
static long
bucket_wait_ms(const struct http *h, const struct http_req *r)
{
	int ep = http_endpoint(r->path);
	long long d;

	if (ep < 0)
		return 0;
	d = http_bucket_wait_ns(&h->buckets[ep], now_ns());
	return d > 0 ? (long)((d + 999999) / 1000000) : 0;
}

static struct slot *
idle_slot(struct http *h)
{
	int i;

	for (i = 0; i < h->nslots; i++)
		if (h->slots[i].req == NULL)
			return &h->slots[i];
	return NULL;
}

/* Run reqs to their end; stoppable: a stop request keeps the rest from
 * starting. */
static int
run_batch(struct http *h, struct http_req *reqs, size_t n, int stoppable,
    struct err *err)
{
	size_t next = 0, ended = 0, i;
	int active = 0;

	for (i = 0; i < n; i++) {
		reqs[i].resp = (struct http_response)HTTP_RESPONSE_INIT;
		reqs[i].rc = L2S_OK;
		reqs[i].err = (struct err)ERR_INIT;
	}
	while (ended < n) {
		CURLMsg *msg;
		CURLMcode mc;
		long wait = HTTP_POLL_MS;
		int running, left;

		while (next < n && active < h->nslots) {
			struct http_req *r = &reqs[next];
			struct slot *x;

			if (stoppable && platform_stop_requested()) {
				for (; next < n; next++, ended++) {
					reqs[next].rc = err_set(&reqs[next].err,
					    L2S_ETEMP, "%s %s: not sent: a stop "
					    "was requested", reqs[next].method,
					    reqs[next].path);
					reqs[next].resp.not_sent = 1;
				}
				break;
			}
			if (r->path == NULL || r->path[0] != '/') {
				r->rc = err_set(&r->err, L2S_EPARSE,
				    "%s '%s': request path must start with "
				    "'/'", r->method, r->path != NULL ?
				    r->path : "");
				next++;
				ended++;
				continue;
			}
			wait = bucket_wait_ms(h, r);
			if (wait > 0 && platform_stop_requested()) {
				/* Even a single request stops waiting for its
				 * endpoint's token (that can take long). */
				r->rc = err_set(&r->err, L2S_ETEMP, "%s %s: not "
				    "sent: a stop was requested", r->method,
				    r->path);
				r->resp.not_sent = 1;
				next++;
				ended++;
				continue;
			}
			if (rate_wait_ms(h) > wait)
				wait = rate_wait_ms(h);
			if (wait > 0)
				break;
			wait = HTTP_POLL_MS;
			x = idle_slot(h);
			if (x == NULL)
				break;
			rate_take(h);
			if (http_endpoint(r->path) >= 0)
				http_bucket_take(&h->buckets[http_endpoint(
				    r->path)], now_ns());
			slot_start(h, x, r);
			next++;
			if (x->req == r)
				active++;
			else
				ended++;
		}
		if (ended >= n)
			break;
		mc = curl_multi_perform(h->multi, &running);
		if (mc != CURLM_OK && mc != CURLM_CALL_MULTI_PERFORM)
			goto broken;
		while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
			struct slot *x;
			char *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			x = (struct slot *)(void *)priv;
			if (x == NULL || x->req == NULL)
				continue;
			slot_finish(h, x, msg->data.result);
			active--;
			ended++;
		}
		if (ended >= n)
			break;
		/* Slots came free and requests wait: start them now.  (With no
		 * transfer running the poll below would have no socket to
		 * wake it and would sleep its whole timeout.) */
		if (next < n && active < h->nslots && rate_wait_ms(h) <= 0 &&
		    bucket_wait_ms(h, &reqs[next]) <= 0)
			continue;
		/* Whatever comes first: traffic, the rate slot, a stop check. */
		if (wait > HTTP_POLL_MS)
			wait = HTTP_POLL_MS;
		mc = curl_multi_poll(h->multi, NULL, 0, (int)(wait > 0 ? wait :
		    1), NULL);
		if (mc != CURLM_OK)
			goto broken;
	}
	return err_set(err, L2S_OK, "%s", "");
broken:
	/* The multi handle itself failed: end what runs, as failures. */
	for (i = 0; i < (size_t)h->nslots; i++) {
		struct slot *x = &h->slots[i];

		if (x->req == NULL)
			continue;
		curl_multi_remove_handle(h->multi, x->curl);
		x->req->rc = err_set(&x->req->err, L2S_ETEMP, "%s %s: the "
		    "transfer was abandoned", x->req->method, x->req->path);
		reset_transfer(x);
	}
	for (; next < n; next++) {
		reqs[next].rc = err_set(&reqs[next].err, L2S_ETEMP,
		    "%s %s: not sent", reqs[next].method, reqs[next].path);
		reqs[next].resp.not_sent = 1;
	}
	return err_set(err, L2S_ETEMP, "the curl multi handle failed");
}

int
http_request_many(struct http *h, struct http_req *reqs, size_t n,
    struct err *err)
{
	int rc = run_batch(h, reqs, n, 1, err);

	/* A broken multi handle is reported per request. */
	return rc == L2S_ENOMEM ? rc : err_set(err, L2S_OK, "%s", "");
}

int
http_request(struct http *h, const char *method, const char *path,
    const char *body, struct http_response *resp, struct err *err)
{
	struct http_req r;

	r.method = method;
	r.path = path;
	r.body = body;
	(void)run_batch(h, &r, 1, 0, NULL);
	*resp = r.resp;
	if (err != NULL)
		*err = r.err;
	return r.rc;
}

int
http_concurrency(const struct http *h)
{
	return h != NULL ? h->nslots : 1;
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->location);
	free(resp->retry_after);
	*resp = (struct http_response)HTTP_RESPONSE_INIT;
}

unsigned long
http_requests(const struct http *h)
{
	return h != NULL ? h->nrequests : 0;
}

char *
http_escape(struct http *h, const char *s)
{
	char *e, *copy;

	e = curl_easy_escape(h != NULL ? h->slots[0].curl : NULL, s, 0);
	if (e == NULL)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

long
http_retry_after_ms(const struct http_response *resp)
{
	const char *v = resp->retry_after;
	char *end;
	long secs;
	time_t when, now;

	if (v == NULL || *v == '\0')
		return -1;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		secs = strtol(v, &end, 10);
		if (errno != 0 || *end != '\0' || secs < 0 || secs > 86400L * 7)
			return -1;
		return secs * 1000;
	}
	/* An HTTP-date. */
	when = curl_getdate(v, NULL);
	if (when == -1)
		return -1;
	now = time(NULL);
	return when > now ? (long)(when - now) * 1000 : 0;
}
