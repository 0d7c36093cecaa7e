/*
 * ldap_probe.c - drive agent/ldap.c from the command line, for
 * test/integration/ldap_conn_test.sh
 *
 *   ldap_probe [options] bind
 *   ldap_probe [options] search BASE FILTER [ATTR...]
 *   ldap_probe [options] rootdse ATTR
 *   ldap_probe dn-norm DN
 *
 * Options: -u URI (repeat for failover), -m simple|anonymous|external|gssapi,
 * -D DN, -y PASSWORD_FILE, -Z (StartTLS), -C CA_FILE, -N (no TLS
 * verification), -p PAGE_SIZE, -t TIMEOUT, -K KEYTAB, -P PRINCIPAL,
 * -k PID (SIGKILL it, or the signal -g SIG, after -n entries), -s N (stop the search from the
 * callback after N entries), -q (search: print only the count), -W N (idle
 * work for the waits, endless, that counts its pieces and raises SIGTERM
 * at piece N; 0: never), -w (idle work of 3 pieces, then done).
 *
 * Prints "bound URI", one "entry DN|attr#nvals=first|..." line per entry
 * and "entries N", or "error CODE NAME: MESSAGE" and exits 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "entry.h"
#include "err.h"
#include "ldap.h"
#include "platform.h"

static long idle_pieces, idle_term_at, idle_last;

/* ldapconn_set_idle(): endless, or done after idle_last pieces */
static int
idle_work(void *arg)
{
	(void)arg;
	idle_pieces++;
	if (idle_term_at > 0 && idle_pieces == idle_term_at)
		raise(SIGTERM);
	return idle_last == 0 || idle_pieces < idle_last;
}

struct probe {
	long count;
	long kill_after;
	pid_t kill_pid;
	int kill_sig;
	long stop_after;
	int quiet;
};

static int
on_entry(void *arg, const struct entry *e, struct err *err)
{
	struct probe *p = arg;
	size_t i, j;

	p->count++;
	if (!p->quiet) {
		printf("entry %s", e->dn);
		for (i = 0; i < e->nattrs; i++) {
			const struct entry_attr *a = &e->attrs[i];

			printf("|%s#%zu=", a->name, a->nvals);
			if (a->nvals > 0)
				for (j = 0; j < a->vals[0].len; j++) {
					unsigned char ch = (unsigned char)
					    a->vals[0].p[j];
					putchar(ch >= 0x20 && ch < 0x7f &&
					    ch != '|' ? ch : '?');
				}
		}
		putchar('\n');
	}
	if (p->kill_pid > 0 && p->count == p->kill_after) {
		kill(p->kill_pid, p->kill_sig);
		/* Let it die before we ask for the next page. */
		usleep(300000);
	}
	if (p->stop_after > 0 && p->count == p->stop_after)
		return err_set(err, 42, "stopped by the callback after %ld "
		    "entries", p->count);
	return 0;
}

static int
fail(const struct err *err)
{
	printf("error %d %s: %s\n", err->code, err_name(err->code), err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	struct config_ldap cfg;
	struct ldapconn *c = NULL;
	struct err err = ERR_INIT;
	struct probe p = { 0, 0, 0, SIGKILL, 0, 0 };
	const char *warning = NULL, *passfile = NULL, *cmd;
	char *uris[8], *password = NULL, *out = NULL;
	int opt, rc, status = 1, idle = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.tls_verify = 1;
	cfg.page_size = 500;
	cfg.timeout = 10;
	while ((opt = getopt(argc, argv, "u:m:D:y:ZC:Np:t:K:P:k:n:g:s:qW:w")) != -1) {
		switch (opt) {
		case 'u':
			if (cfg.nuris < 8)
				uris[cfg.nuris++] = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "anonymous") == 0)
				cfg.bind_method = BIND_ANONYMOUS;
			else if (strcmp(optarg, "external") == 0)
				cfg.bind_method = BIND_EXTERNAL;
			else if (strcmp(optarg, "gssapi") == 0)
				cfg.bind_method = BIND_GSSAPI;
			else
				cfg.bind_method = BIND_SIMPLE;
			break;
		case 'D': cfg.bind_dn = optarg; break;
		case 'y': passfile = optarg; break;
		case 'Z': cfg.starttls = 1; break;
		case 'C': cfg.tls_ca_file = optarg; break;
		case 'N': cfg.tls_verify = 0; break;
		case 'p': cfg.page_size = atoi(optarg); break;
		case 't': cfg.timeout = atoi(optarg); break;
		case 'K': cfg.keytab = optarg; break;
		case 'P': cfg.principal = optarg; break;
		case 'k': p.kill_pid = (pid_t)atol(optarg); break;
		case 'n': p.kill_after = atol(optarg); break;
		case 'g': p.kill_sig = atoi(optarg); break;
		case 's': p.stop_after = atol(optarg); break;
		case 'q': p.quiet = 1; break;
		case 'W': idle_term_at = atol(optarg); idle = 1; break;
		case 'w': idle_last = 3; idle = 1; break;
		default:
			fprintf(stderr, "usage: see ldap_probe.c\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ldap_probe: no command\n");
		return 2;
	}
	cmd = argv[optind++];
	if (platform_signals(&err) != L2S_OK)
		return fail(&err);

	if (strcmp(cmd, "dn-norm") == 0) {
		if (optind >= argc)
			return 2;
		rc = ldap_dn_norm(argv[optind], &out, &err);
		if (rc != L2S_OK)
			return fail(&err);
		printf("dn %s\n", out);
		free(out);
		return 0;
	}

	if (passfile != NULL) {
		rc = platform_read_secret(passfile, &password, &warning, &err);
		if (rc != L2S_OK)
			return fail(&err);
		if (warning != NULL)
			fprintf(stderr, "warning: password file %s\n", warning);
	}
	rc = ldapconn_open(&c, &cfg, password, &err);
	if (rc != L2S_OK) {
		fail(&err);
		goto done;
	}
	printf("bound %s\n", ldapconn_uri(c));
	if (idle)
		ldapconn_set_idle(c, idle_work, NULL);

	if (strcmp(cmd, "search") == 0 && argc - optind >= 2) {
		rc = ldapconn_search(c, argv[optind], argv[optind + 1],
		    (const char *const *)(argv + optind + 2), on_entry, &p,
		    &err);
		printf("entries %ld\n", p.count);
		if (idle)
			printf("idle pieces %ld\n", idle_pieces);
		if (rc != L2S_OK) {
			fail(&err);
			goto done;
		}
	} else if (strcmp(cmd, "rootdse") == 0 && optind < argc) {
		rc = ldapconn_rootdse(c, argv[optind], &out, &err);
		if (rc != L2S_OK) {
			fail(&err);
			goto done;
		}
		printf("value %s\n", out ? out : "(absent)");
	} else if (strcmp(cmd, "bind") != 0) {
		fprintf(stderr, "ldap_probe: bad command '%s'\n", cmd);
		status = 2;
		goto done;
	}
	status = 0;
done:
	free(out);
	ldapconn_close(c);
	platform_secret_free(password);
	return status;
}
