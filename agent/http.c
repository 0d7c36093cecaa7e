/*
 * http.c - the HTTP transport to the SCIM service (libcurl easy handle)
 *
 * One easy handle per target, reused for every request so that the
 * connection stays open.  Options that never change are set once in
 * http_open(); a request only sets its URL, method and body.  The token
 * lives in one heap copy and in the header list; both are wiped when
 * replaced or freed, and it is registered with log_secret() so that a line
 * that somehow carries it is masked.
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

#ifndef L2S_VERSION
#define L2S_VERSION "unknown"
#endif

#define HTTP_CONNECT_TIMEOUT 10		/* seconds, or the timeout if lower */
#define HTTP_DEFAULT_TIMEOUT 30

struct http {
	CURL *curl;
	struct curl_slist *headers;	/* owned; carries the token */
	char *token;			/* owned; wiped before free */
	char *base;			/* owned; the URL without trailing '/' */
	char errbuf[CURL_ERROR_SIZE];	/* lives as long as curl */
	unsigned long nrequests;

	/* The transfer in progress. */
	struct buf body;
	int overflow;
	char *location, *retry_after;
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
	struct http *h = arg;
	size_t len = size * n;

	if (len > HTTP_BODY_MAX - h->body.len) {
		h->overflow = 1;
		return 0;		/* aborts the transfer */
	}
	buf_add(&h->body, p, len);
	return buf_failed(&h->body) ? 0 : len;
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
	*out = strndup(v, (size_t)(end - v));
	return *out != NULL ? 1 : -1;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;

	/* A new status line (1xx, then the final one): forget earlier ones. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(h->location);
		free(h->retry_after);
		h->location = h->retry_after = NULL;
		return len;
	}
	if (header_value(&h->location, p, len, "Location") < 0 ||
	    header_value(&h->retry_after, p, len, "Retry-After") < 0)
		return 0;
	return len;
}

static void
reset_transfer(struct http *h)
{
	buf_free(&h->body);
	h->overflow = 0;
	free(h->location);
	free(h->retry_after);
	h->location = h->retry_after = NULL;
	h->errbuf[0] = '\0';
}

int
http_open(struct http **out, const struct config_scim *cfg,
    const char *token, struct err *err)
{
	struct http *h = NULL;
	long timeout, connect;
	size_t n;
	int rc;

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
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		rc = err_set(err, L2S_ENOMEM, "cannot create a curl handle");
		goto done;
	}
	timeout = cfg->timeout > 0 ? cfg->timeout : HTTP_DEFAULT_TIMEOUT;
	connect = timeout < HTTP_CONNECT_TIMEOUT ? timeout : HTTP_CONNECT_TIMEOUT;

	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, connect);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER,
	    cfg->tls_verify ? 1L : 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST,
	    cfg->tls_verify ? 2L : 0L);
	if (cfg->tls_ca_file != NULL && cfg->tls_ca_file[0] != '\0' &&
	    curl_easy_setopt(h->curl, CURLOPT_CAINFO, cfg->tls_ca_file) !=
	    CURLE_OK)
		goto done;
	/* Not every libcurl has HTTP/2; then HTTP/1.1 it is. */
	(void)curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "ldap2scim/" L2S_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);

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
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free_headers(h->headers);
	wipe(h->token);
	free(h->token);
	free(h->base);
	reset_transfer(h);
	free(h);
}

int
http_set_token(struct http *h, const char *token, struct err *err)
{
	struct curl_slist *l = NULL, *t;
	struct buf auth = BUF_INIT;
	char *copy = NULL;
	const char *p;
	int rc;

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
		size_t i;

		for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			t = curl_slist_append(l, lines[i]);
			if (t == NULL)
				goto done;
			l = t;
		}
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, l);
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
transport_error(struct http *h, CURLcode cc, const char *method,
    const char *url, struct err *err)
{
	char detail[CURL_ERROR_SIZE];
	size_t n;

	if (cc == CURLE_WRITE_ERROR && h->overflow)
		return err_set(err, L2S_EIO,
		    "%s %s: response body larger than %u bytes", method, url,
		    HTTP_BODY_MAX);
	if (cc == CURLE_OUT_OF_MEMORY ||
	    (cc == CURLE_WRITE_ERROR && buf_failed(&h->body)))
		return err_set(err, L2S_ENOMEM, "%s %s: out of memory",
		    method, url);
	snprintf(detail, sizeof(detail), "%s",
	    h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(cc));
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

int
http_request(struct http *h, const char *method, const char *path,
    const char *body, struct http_response *resp, struct err *err)
{
	struct buf url = BUF_INIT;
	curl_off_t usec = 0;
	CURLcode cc;
	long status = 0;
	int rc;

	*resp = (struct http_response)HTTP_RESPONSE_INIT;
	if (path == NULL || path[0] != '/')
		return err_set(err, L2S_EPARSE,
		    "%s '%s': request path must start with '/'", method,
		    path != NULL ? path : "");
	buf_puts(&url, h->base);
	buf_puts(&url, path);
	rc = err_set(err, L2S_ENOMEM, "out of memory");
	if (buf_failed(&url))
		goto done;
	reset_transfer(h);

	curl_easy_setopt(h->curl, CURLOPT_URL, buf_str(&url));
	/* Back to a plain GET, then the method of this request. */
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? strlen(body) : 0));
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(h->curl);
	h->nrequests++;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME_T, &usec);
	if (cc != CURLE_OK) {
		/* Failures before a byte of the request could have left. */
		resp->not_sent = cc == CURLE_COULDNT_CONNECT ||
		    cc == CURLE_COULDNT_RESOLVE_HOST ||
		    cc == CURLE_COULDNT_RESOLVE_PROXY ||
		    cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_PEER_FAILED_VERIFICATION;
		rc = transport_error(h, cc, method, buf_str(&url), err);
		log_debug("%s %s -> failed (%ld ms): %s", method, path,
		    (long)(usec / 1000), err != NULL ? err->msg : "");
		goto done;
	}
	log_debug("%s %s -> %ld (%zu bytes, %ld ms)", method, path, status,
	    h->body.len, (long)(usec / 1000));

	resp->status = status;
	resp->len = h->body.len;
	resp->body = buf_take(&h->body);
	if (resp->body == NULL)
		goto done;
	resp->location = h->location;
	resp->retry_after = h->retry_after;
	h->location = h->retry_after = NULL;
	rc = err_set(err, L2S_OK, "%s", "");
done:
	buf_free(&url);
	return rc;
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

	e = curl_easy_escape(h != NULL ? h->curl : NULL, s, 0);
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
