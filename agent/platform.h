/*
 * platform.h - everything that differs between POSIX and Windows
 *
 * The run lock, stop and reload requests, a sleep that a stop request
 * interrupts, reading secret files with a permission check, files replaced
 * whole, private files, directory listings, the terminal, default paths and
 * the system log.  platform_posix.c implements it for Linux and the BSDs,
 * platform_win32.c for Windows; #ifdef _WIN32 lives only in platform files.
 */
#ifndef L2S_PLATFORM_H
#define L2S_PLATFORM_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "log.h"

/* The configuration file read when -c is not given:
 * /etc/ldap2scim/ldap2scim.yaml, on Windows
 * %ProgramData%\ldap2scim\ldap2scim.yaml.  Static storage. */
const char *platform_default_config(void);

struct platform_lock;

/* Take an exclusive, non-blocking lock on path (created if missing).
 * L2S_ELOCKED when another process holds it.  The caller owns *out and
 * releases it with platform_unlock(). */
int platform_lock(struct platform_lock **out, const char *path,
    struct err *err);
void platform_unlock(struct platform_lock *l);

/* Install handlers: SIGTERM/SIGINT request a stop, SIGHUP a reload.
 * Windows: Ctrl-C, Ctrl-Break and console close request a stop; so does
 * the event named by the environment variable L2S_STOP_EVENT (the service
 * wrapper's), and the one named by L2S_RELOAD_EVENT a reload. */
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

/*
 * Put len bytes at dir/name so that a reader finds the old file or the
 * whole new one, never a part: a temporary file ".NAME.XXXXXX" (six
 * letters or digits) in dir, written, flushed to disk, renamed over NAME,
 * and the directory flushed where the system can.  The file is public
 * (mode 0644; on Windows the directory's inherited permissions).  what
 * names the file in messages ("photo": "cannot write photo 'PATH'").
 */
int platform_write_file(const char *dir, const char *name, const void *p,
    size_t len, const char *what, struct err *err);

/* Create path as an empty file only its owner may read and write (mode
 * 0600; on Windows an access list of the owner, SYSTEM and
 * Administrators), unless it exists: then it is left as it is.  what names
 * it in messages ("state file"). */
int platform_create_private(const char *path, const char *what,
    struct err *err);

/* Call fn(arg, name) for every regular file in dir (not links, not
 * directories), in no particular order, until fn returns non-zero (then
 * that is returned).  fn may remove the file it is given.  what names dir
 * in messages ("photo directory"). */
int platform_each_file(const char *dir, int (*fn)(void *arg, const char *name),
    void *arg, const char *what, struct err *err);

/* The command line in UTF-8: on Windows rebuilt from the wide command
 * line (main()'s argv is in the ANSI code page there), elsewhere left as it
 * is.  0, or -1 out of memory.  The strings live until exit. */
int platform_args(int *argc, char ***argv);

/* fopen(), stat() and remove() of a UTF-8 path (on Windows through the
 * wide API, so that any name works).  platform_stat() fills *st and returns
 * 0, or -1 with errno set (ENOENT when there is no such file). */
struct platform_stat {
	long long size;
	int is_reg, is_dir;
};

FILE *platform_fopen(const char *path, const char *mode);
int platform_stat(const char *path, struct platform_stat *st);
int platform_remove(const char *path);

/* Is stderr a terminal?  Its width in columns, or 0 when unknown. */
int platform_stderr_tty(void);
int platform_stderr_columns(void);

/*
 * The system log: syslog (facility daemon) on POSIX, the Application
 * Event Log on Windows (under the source the service wrapper registered,
 * named in L2S_EVENT_SOURCE, else ident).  platform_syslog_open() may be
 * called once; lines are sent whole, with their level;
 * platform_syslog_close() at exit.
 */
int platform_syslog_open(const char *ident, struct err *err);
void platform_syslog(enum log_level lvl, const char *line);
void platform_syslog_close(void);

#endif
