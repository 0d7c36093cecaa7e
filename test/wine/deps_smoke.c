/*
 * deps_smoke.c - the Windows build's static libraries, each used once
 *
 * Built by `make windows-deps-smoke` against build/win64/deps only (libcurl
 * with Schannel, cJSON, libyaml, SQLite) and run under wine by
 * test/wine/deps_test.sh.  Prints TAP.
 *
 *   deps_smoke DIR URL BODY [HTTPS_URL CA_FILE OTHER_CA_FILE]
 *
 * DIR is an empty directory (a Windows path) for the SQLite database; URL an
 * http:// address whose body must be BODY; HTTPS_URL, when given, the same
 * body over TLS from a server whose certificate CA_FILE (PEM) signed, and
 * which a client trusting only OTHER_CA_FILE must refuse.
 */
#include <winsock2.h>		/* before windows.h, as curl.h needs it */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <yaml.h>

#include "tap.h"

/* UTF-8: "Zoë Ångström, 日本語 🙂" */
#define VALUE "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82"

/* A UTF-8 path as UTF-16 for the W functions; NULL when it does not convert.
 * The caller frees the result. */
static wchar_t *
wide(const char *utf8)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0)
		return NULL;
	w = malloc((size_t)n * sizeof(*w));
	if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n) != n) {
		free(w);
		w = NULL;
	}
	return w;
}

static int
path_exists(const char *utf8)
{
	wchar_t *w = wide(utf8);
	int yes = w != NULL && GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;

	free(w);
	return yes;
}

static void
test_sqlite(const char *dir)
{
	char sub[MAX_PATH], path[MAX_PATH], wal[MAX_PATH];
	wchar_t *wsub = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	/* a directory named "état": the path reaches SQLite as UTF-8 */
	snprintf(sub, sizeof(sub), "%s\\\xc3\xa9tat", dir);
	snprintf(path, sizeof(path), "%s\\state.db", sub);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	wsub = wide(sub);
	ok(wsub != NULL && CreateDirectoryW(wsub, NULL), "a directory with a non-ASCII name is created");

	is_int(sqlite3_threadsafe(), 1, "sqlite is built thread-safe (serialized)");
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (!ok(rc == SQLITE_OK, "sqlite creates a database under that directory"))
		printf("#   %s\n", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (rc != SQLITE_OK)
		goto done;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		is_str((const char *)sqlite3_column_text(st, 0), "wal", "the database switches to WAL");
	else
		ok(0, "the database switches to WAL: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	st = NULL;

	rc = sqlite3_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO t (k, v) VALUES (1, ?)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, VALUE, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (!ok(rc == SQLITE_OK, "a UTF-8 value is inserted"))
		printf("#   %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	st = NULL;
	ok(path_exists(wal), "while the database is open its -wal file exists");

	rc = sqlite3_prepare_v2(db, "SELECT v FROM t WHERE k = 1", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		is_str((const char *)sqlite3_column_text(st, 0), VALUE, "the value reads back byte for byte");
	else
		ok(0, "the value reads back byte for byte: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	st = NULL;

done:
	is_int(sqlite3_close(db), SQLITE_OK, "the database closes");
	free(wsub);
}

static void
test_cjson(void)
{
	const char *doc = "{ \"name\": \"Zo\xc3\xab\", \"city\": \"\\u00c5re\",\n"
	    "  \"tags\": [\"\xe6\x97\xa5\xe6\x9c\xac\", 1.5, true, null] }";
	const char *want = "{\"name\":\"Zo\xc3\xab\",\"city\":\"\xc3\x85re\","
	    "\"tags\":[\"\xe6\x97\xa5\xe6\x9c\xac\",1.5,true,null]}";
	cJSON *root = cJSON_Parse(doc);
	char *printed = NULL;

	if (!ok(root != NULL, "cJSON parses a document with non-ASCII text")) {
		printf("#   near '%.20s'\n", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
		return;
	}
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "name")), "Zo\xc3\xab",
	    "a UTF-8 string comes out unchanged");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "city")), "\xc3\x85re",
	    "a \\u escape comes out as UTF-8");
	is_str(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "tags"), 0)),
	    "\xe6\x97\xa5\xe6\x9c\xac", "a CJK string in an array comes out unchanged");
	printed = cJSON_PrintUnformatted(root);
	is_str(printed, want, "cJSON prints the document back as UTF-8, 1.5 as 1.5");
	cJSON_free(printed);
	cJSON_Delete(root);
}

static void
test_yaml(void)
{
	const char *doc =
	    "source:\n"
	    "  url: ldaps://dc1.example.com:636\n"
	    "  base_dn: \"OU=\xc3\x9csers,DC=example,DC=com\"\n"
	    "  page_size: 500\n"
	    "scim:\n"
	    "  token_file: 'C:\\ProgramData\\ldap2scim\\token'\n";
	const char *want = "source|url|ldaps://dc1.example.com:636|base_dn|OU=\xc3\x9csers,DC=example,DC=com|"
	    "page_size|500|scim|token_file|C:\\ProgramData\\ldap2scim\\token|";
	char got[512] = "";
	yaml_parser_t parser;
	yaml_event_t ev;
	int end = 0, failed = 0;
	size_t line = 0;

	ok(strcmp(yaml_get_version_string(), "") != 0, "libyaml names its version (%s)", yaml_get_version_string());
	if (!yaml_parser_initialize(&parser)) {
		ok(0, "libyaml parser initializes");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)doc, strlen(doc));
	while (!end) {
		if (!yaml_parser_parse(&parser, &ev)) {
			failed = 1;
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && strlen(got) + ev.data.scalar.length + 2 < sizeof(got)) {
			strncat(got, (const char *)ev.data.scalar.value, ev.data.scalar.length);
			strcat(got, "|");
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	ok(!failed, "libyaml parses a small document");
	is_str(got, want, "the scalars come out in order, quoted ones unquoted");

	/* an unclosed flow sequence: the error names its line */
	doc = "a: 1\nb: [1, 2\n";
	failed = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)doc, strlen(doc));
	for (end = 0; !end;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			failed = 1;
			line = parser.problem_mark.line + 1;
			break;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	ok(failed && parser.problem != NULL, "libyaml refuses a broken document (%s, line %u)",
	    parser.problem ? parser.problem : "no problem", (unsigned)line);
	yaml_parser_delete(&parser);
}

struct body {
	char data[4096];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	if (n != 0 && size > (sizeof(b->data) - 1 - b->len) / n)
		return 0;	/* too long: curl fails the transfer */
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

static int
has_protocol(const curl_version_info_data *vi, const char *name)
{
	const char *const *p;

	for (p = vi->protocols; *p != NULL; p++)
		if (strcmp(*p, name) == 0)
			return 1;
	return 0;
}

/* GET url with ca as the only trusted CA (NULL: plain HTTP).  Unless
 * refuse, the transfer must succeed with status 200 and body want; if
 * refuse, it must fail on the server's certificate. */
static void
fetch(const char *what, const char *url, const char *want, const char *ca, int refuse)
{
	static struct body b;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	CURLcode rc;
	long code = 0;

	memset(&b, 0, sizeof(b));
	if (!ok(h != NULL, "curl_easy_init works (%s)", what))
		return;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");	/* never a proxy from the environment */
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (ca != NULL) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
		/* a test CA publishes no revocation list */
		curl_easy_setopt(h, CURLOPT_SSL_OPTIONS, (long)CURLSSLOPT_NO_REVOKE);
	}
	rc = curl_easy_perform(h);
	if (refuse) {
		if (!ok(rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT,
		    "curl refuses %s when it trusts another CA only", what))
			printf("#   %s: %s\n", curl_easy_strerror(rc), errbuf);
		like(errbuf, "schannel", "and the error comes from Schannel");
	} else {
		if (!ok(rc == CURLE_OK, "curl GETs %s over %s", url, what))
			printf("#   %s: %s\n", curl_easy_strerror(rc), errbuf);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		is_int(code, 200, "the status is 200 (%s)", what);
		is_str(b.data, want, "the body is the one the server sent (%s)", what);
	}
	curl_easy_cleanup(h);
}

static void
test_curl(int argc, char **argv)
{
	const curl_version_info_data *vi;

	is_int(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK, "curl_global_init succeeds");
	vi = curl_version_info(CURLVERSION_NOW);
	printf("# %s\n", curl_version());
	like(vi->ssl_version, "Schannel", "curl's TLS backend is Schannel");
	ok(has_protocol(vi, "https") && has_protocol(vi, "http"), "curl speaks HTTP and HTTPS");
	ok(!has_protocol(vi, "ftp") && !has_protocol(vi, "ldap") && !has_protocol(vi, "file"),
	    "and no FTP, LDAP or FILE");
	ok((vi->features & CURL_VERSION_SSL) && (vi->features & CURL_VERSION_ASYNCHDNS),
	    "curl has TLS and the threaded (asynchronous) resolver");
	ok(vi->libz_version == NULL && !(vi->features & CURL_VERSION_LIBZ), "curl has no zlib");

	fetch("HTTP", argv[2], argv[3], NULL, 0);
	if (argc == 7) {
		fetch("HTTPS (Schannel)", argv[4], argv[3], argv[5], 0);
		fetch("HTTPS (Schannel)", argv[4], NULL, argv[6], 1);
	}
	curl_global_cleanup();
}

int
main(int argc, char **argv)
{
	if (argc != 4 && argc != 7) {
		fprintf(stderr, "usage: deps_smoke DIR URL BODY [HTTPS_URL CA_FILE OTHER_CA_FILE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	test_sqlite(argv[1]);
	test_cjson();
	test_yaml();
	test_curl(argc, argv);
	return tap_done();
}
