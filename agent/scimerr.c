/*
 * scimerr.c - outcome and one-line message for a SCIM response
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "log.h"
#include "scimerr.h"

int
scimerr_outcome(long status)
{
	if (status >= 200 && status <= 299)
		return L2S_OK;
	if (status == 401 || status == 403)
		return L2S_EAUTH;
	if (status == 404)
		return L2S_ENOTFOUND;
	if (status == 409)
		return L2S_ECONFLICT;
	if (status == 429 || (status >= 500 && status <= 599))
		return L2S_ETEMP;
	/* 1xx as final, 3xx (redirects are not followed), other 4xx. */
	return L2S_ESCIM;
}

const char *
scimerr_reason(long status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "";
}

int
scimerr_json_depth_ok(const char *body, size_t len, int max)
{
	int depth = 0, in_string = 0, escaped = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = body[i];

		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return 0;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 1;
}

int
scimerr_json_parse(struct cJSON **out, const char *body, size_t len,
    const char **why)
{
	const char *end = NULL, *nojson = "the body is not JSON";
	cJSON *j;

	*out = NULL;
	if (why != NULL)
		*why = nojson;
	if (body == NULL || len == 0)
		return L2S_EPARSE;
	if (!scimerr_json_depth_ok(body, len, SCIMERR_JSON_DEPTH)) {
		if (why != NULL)
			*why = "the body is nested deeper than 64 levels";
		return L2S_EPARSE;
	}
	j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (j == NULL)
		return L2S_EPARSE;
	/* Trailing garbage after the value makes the body not JSON. */
	for (; end != NULL && end < body + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' &&
		    *end != '\n' && *end != '\0') {
			cJSON_Delete(j);
			return L2S_EPARSE;
		}
	}
	*out = j;
	if (why != NULL)
		*why = NULL;
	return L2S_OK;
}

/*
 * Append s (n bytes) to b as printable text: control characters become
 * spaces, runs of spaces collapse, at most max characters (UTF-8 sequences
 * are never cut), "..." when something was left out.
 */
static void
put_printable(struct buf *b, const char *s, size_t n, size_t max)
{
	size_t i = 0, out = 0, start = b->len;
	int space = 1;	/* drop leading blanks */

	for (; i < n && out < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space) {
				buf_putc(b, ' ');
				out++;
			}
			space = 1;
			continue;
		}
		space = 0;
		if (c >= 0x80) {
			size_t k = 1;

			/* A whole UTF-8 sequence or nothing. */
			if ((c & 0xe0) == 0xc0)
				k = 2;
			else if ((c & 0xf0) == 0xe0)
				k = 3;
			else if ((c & 0xf8) == 0xf0)
				k = 4;
			if (k == 1 || i + k > n) {
				buf_putc(b, '?');
			} else {
				buf_add(b, s + i, k);
				i += k - 1;
			}
			out++;
			continue;
		}
		buf_putc(b, (char)c);
		out++;
	}
	/* Trailing blanks of what was kept. */
	while (b->len > start && b->s[b->len - 1] == ' ')
		b->s[--b->len] = '\0';
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c <= 0x20 || c == 0x7f)) {
			buf_puts(b, "...");
			break;
		}
	}
}

static int
token_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/' || c == '=';
}

/* Copy s into d with the credential after any "Bearer " replaced by "***". */
static void
mask_bearer(struct buf *d, const char *s)
{
	while (*s != '\0') {
		if (strncasecmp(s, "bearer", 6) == 0 &&
		    (s[6] == ' ' || s[6] == '\t')) {
			const char *p = s + 6;

			while (*p == ' ' || *p == '\t')
				p++;
			if (token_char(*p)) {
				buf_add(d, s, (size_t)(p - s));
				buf_puts(d, "***");
				while (token_char(*p))
					p++;
				s = p;
				continue;
			}
		}
		buf_putc(d, *s++);
	}
}

int
scimerr_set(struct err *err, const char *method, const char *path,
    long status, const char *body, size_t len)
{
	struct buf b = BUF_INIT, m = BUF_INIT;
	const char *reason = scimerr_reason(status);
	const cJSON *type, *detail;
	cJSON *j = NULL;
	int code = scimerr_outcome(status);

	buf_printf(&b, "%s %s: %ld", method, path, status);
	if (reason[0] != '\0')
		buf_printf(&b, " %s", reason);
	if (body != NULL && len > 0)
		(void)scimerr_json_parse(&j, body, len, NULL);
	type = cJSON_GetObjectItemCaseSensitive(j, "scimType");
	detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
	if (!cJSON_IsString(type) || type->valuestring[0] == '\0')
		type = NULL;
	if (!cJSON_IsString(detail) || detail->valuestring[0] == '\0')
		detail = NULL;
	if (type != NULL || detail != NULL) {
		if (type != NULL) {
			buf_puts(&b, ": ");
			put_printable(&b, type->valuestring,
			    strlen(type->valuestring), SCIMERR_SNIPPET_MAX);
		}
		if (detail != NULL) {
			buf_puts(&b, ": ");
			put_printable(&b, detail->valuestring,
			    strlen(detail->valuestring), 2 * SCIMERR_SNIPPET_MAX);
		}
	} else if (body != NULL && len > 0) {
		size_t before = b.len;

		buf_puts(&b, ": ");
		put_printable(&b, body, len, SCIMERR_SNIPPET_MAX);
		if (b.len == before + 2) {	/* only blanks */
			b.len = before;
			if (b.s != NULL)
				b.s[b.len] = '\0';
		}
	}
	mask_bearer(&m, buf_str(&b));
	if (buf_failed(&b) || buf_failed(&m))
		err_set(err, code, "%s %s: %ld %s", method, path, status, reason);
	else
		err_set(err, code, "%s", buf_str(&m));
	if (err != NULL)
		log_mask(err->msg, sizeof(err->msg));
	cJSON_Delete(j);
	buf_free(&b);
	buf_free(&m);
	return code;
}
