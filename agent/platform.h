/*
 * platform.h - everything that differs between POSIX and Windows
 *
 * The run lock, stop and reload requests, a sleep that a stop request
 * interrupts, reading secret files with a permission check, and default
 * paths.  platform_posix.c implements it here; #ifdef _WIN32 lives only in
 * platform files.
 */
#ifndef L2S_PLATFORM_H
#define L2S_PLATFORM_H

#include "err.h"

#define PLATFORM_DEFAULT_CONFIG "/etc/ldap2scim/ldap2scim.yaml"

struct platform_lock;

/* Take an exclusive, non-blocking lock on path (created if missing).
 * L2S_ELOCKED when another process holds it.  The caller owns *out and
 * releases it with platform_unlock(). */
int platform_lock(struct platform_lock **out, const char *path,
    struct err *err);
void platform_unlock(struct platform_lock *l);

/* Install handlers: SIGTERM/SIGINT request a stop, SIGHUP a reload. */
int platform_signals(struct err *err);
int platform_stop_requested(void);
/* True once per SIGHUP received (the flag is cleared by reading it). */
int platform_take_reload(void);
/* Ask for a stop from inside the process (tests, fatal errors). */
void platform_request_stop(void);

/* Sleep up to seconds; returns early (1) on a stop or reload request. */
int platform_sleep(int seconds);
/* Sleep ms milliseconds (a retry's wait); returns early (1) on a stop
 * request only. */
int platform_sleep_ms(long ms);

/* Read a secret from a file (a single trailing newline stripped).
 * World-readable files are refused (L2S_EAUTH-free: L2S_EIO with a message);
 * group-readable ones set *warning (static text, or NULL).  The caller owns
 * *out and should wipe it before freeing (platform_secret_free()). */
int platform_read_secret(const char *path, char **out, const char **warning,
    struct err *err);
void platform_secret_free(char *s);

#endif
