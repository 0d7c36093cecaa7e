/*
 * platform_posix.c - the run lock, signals, sleep and secret files on POSIX
 *
 * The lock is flock(LOCK_EX|LOCK_NB) on a file beside the state (created
 * mode 600); the holder writes its pid into it so that a refused run can
 * say who holds it.  flock locks belong to the open file description, so
 * the lock is exclusive even between two opens in one process, and it dies
 * with its holder: a killed run never leaves a stale lock.
 *
 * Files replaced whole are a mkstemp() file beside the target, fsync()ed
 * and renamed over it, then the directory fsync()ed.
 *
 * Signal handlers only set flags (volatile sig_atomic_t): SIGTERM and
 * SIGINT ask for a stop, SIGHUP for a reload.  SA_RESTART is off so that a
 * blocking call returns early.  SIGPIPE is ignored: a server closing the
 * connection must be an error code, not the death of the process.
 */
#ifndef _WIN32

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "platform.h"
#include "secret.h"

struct platform_lock {
	int fd;
};

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

/* The pid written in a lock file, or 0 when there is none. */
static long
lock_holder(int fd)
{
	char s[32];
	ssize_t n;
	long pid;
	char *end;

	n = pread(fd, s, sizeof(s) - 1, 0);
	if (n <= 0)
		return 0;
	s[n] = '\0';
	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno != 0 || end == s || pid <= 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return pid;
}

int
platform_lock(struct platform_lock **out, const char *path, struct err *err)
{
	struct platform_lock *l = NULL;
	char pid[32];
	int fd = -1, n, rc = L2S_OK;
	long holder;

	*out = NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = err_set(err, L2S_EIO, "cannot open lock file '%s': %s",
		    path, strerror(errno));
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK || errno == EAGAIN) {
			holder = lock_holder(fd);
			if (holder > 0)
				rc = err_set(err, L2S_ELOCKED, "another "
				    "ldap2scim run holds the lock '%s' "
				    "(pid %ld)", path, holder);
			else
				rc = err_set(err, L2S_ELOCKED, "another "
				    "ldap2scim run holds the lock '%s'", path);
		} else {
			rc = err_set(err, L2S_EIO, "cannot lock '%s': %s",
			    path, strerror(errno));
		}
		goto done;
	}
	/* Ours now: record who holds it (best effort, for messages only). */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n) {
		/* A lock without a pid in it still locks. */
	}
	l = malloc(sizeof(*l));
	if (l == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	l->fd = fd;
	fd = -1;
	*out = l;
done:
	if (fd != -1)
		close(fd);
	return rc;
}

void
platform_unlock(struct platform_lock *l)
{
	if (l == NULL)
		return;
	/* Leave the file in place: removing it would race with a new run
	 * that opened it already.  Empty it so no stale pid is shown. */
	if (ftruncate(l->fd, 0) != 0) {
		/* nothing to do: closing releases the lock anyway */
	}
	close(l->fd);
	free(l);
}

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
on_reload(int sig)
{
	(void)sig;
	reload_flag = 1;
}

int
platform_signals(struct err *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: interrupt waits */
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		goto fail;
	sa.sa_handler = on_reload;
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		goto fail;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		goto fail;
	return L2S_OK;
fail:
	return err_set(err, L2S_EIO, "cannot install signal handlers: %s",
	    strerror(errno));
}

int
platform_stop_requested(void)
{
	return stop_flag != 0;
}

int
platform_take_reload(void)
{
	if (!reload_flag)
		return 0;
	reload_flag = 0;
	return 1;
}

void
platform_request_stop(void)
{
	stop_flag = 1;
}

/* Sleep ms milliseconds in short slices; 1 when a stop (or, with
 * on_reload, a reload) request cut it short. */
static int
sleep_for(long long ms, int on_reload)
{
	struct timespec now, end, slice;
	long long left_ns;

	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1)
		return 0;
	if (ms < 0)
		ms = 0;
	end.tv_sec += (time_t)(ms / 1000);
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (stop_flag || (on_reload && reload_flag))
			return 1;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			return 0;
		left_ns = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL +
		    (end.tv_nsec - now.tv_nsec);
		if (left_ns <= 0)
			return 0;
		/* Short slices: a flag set between the check above and the
		 * sleep below delays us 100 ms at most. */
		if (left_ns > 100000000LL)
			left_ns = 100000000LL;
		slice.tv_sec = 0;
		slice.tv_nsec = (long)left_ns;
		nanosleep(&slice, NULL);
	}
}

int
platform_sleep(int seconds)
{
	return sleep_for(seconds > 0 ? (long long)seconds * 1000 : 0, 1);
}

int
platform_sleep_ms(long ms)
{
	return sleep_for(ms, 0);
}

int
platform_read_secret(const char *path, char **out, const char **warning,
    struct err *err)
{
	struct stat st;
	char *big = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc = L2S_OK;

	*out = NULL;
	if (warning != NULL)
		*warning = NULL;
	/* Symlinks are followed on purpose: secrets mounted by service
	 * managers and orchestrators usually are links. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		rc = err_set(err, L2S_EIO, "cannot open secret file '%s': %s",
		    path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		rc = err_set(err, L2S_EIO, "cannot stat secret file '%s': %s",
		    path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, L2S_EIO, "secret file '%s' is not a regular "
		    "file", path);
		goto done;
	}
	if (st.st_mode & S_IROTH) {
		rc = err_set(err, L2S_EIO, "secret file '%s' is readable by "
		    "everyone: chmod o-r it", path);
		goto done;
	}
	if ((st.st_mode & S_IRGRP) && warning != NULL)
		*warning = "is readable by its group";

	big = malloc(SECRET_MAX + 1);
	if (big == NULL) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	while (len < SECRET_MAX + 1) {
		n = read(fd, big + len, SECRET_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = err_set(err, L2S_EIO, "cannot read secret file "
			    "'%s': %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = secret_take(path, big, len, out, err);
done:
	if (rc != L2S_OK && warning != NULL)
		*warning = NULL;
	if (big != NULL) {
		explicit_bzero(big, SECRET_MAX + 1);
		free(big);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

void
platform_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

const char *
platform_default_config(void)
{
	return "/etc/ldap2scim/ldap2scim.yaml";
}

/* Write all of [p, p + len) to fd. */
static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
platform_write_file(const char *dir, const char *name, const void *p,
    size_t len, const char *what, struct err *err)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	int fd = -1, dfd = -1, rc;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s.XXXXXX", dir, name);
	if (buf_failed(&path) || buf_failed(&tmp)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	fd = mkstemp(tmp.s);
	if (fd < 0) {
		rc = err_set(err, L2S_EIO, "cannot create a file in %s "
		    "directory '%s': %s", what, dir, strerror(errno));
		buf_free(&tmp);		/* nothing to remove below */
		goto done;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, p, len) != 0 ||
	    fsync(fd) != 0) {
		rc = err_set(err, L2S_EIO, "cannot write %s '%s': %s", what,
		    buf_str(&path), strerror(errno));
		goto done;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0 || rename(tmp.s, path.s) != 0) {
		rc = err_set(err, L2S_EIO, "cannot write %s '%s': %s", what,
		    buf_str(&path), strerror(errno));
		goto done;
	}
	buf_free(&tmp);			/* renamed: nothing to remove */
	/* Make the rename itself durable; a file system that cannot sync a
	 * directory still has a complete file under one of the two names. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0)
		(void)fsync(dfd);
	rc = L2S_OK;
done:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp.s != NULL)
		unlink(tmp.s);
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

int
platform_create_private(const char *path, const char *what, struct err *err)
{
	int fd, rc = L2S_OK;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return L2S_OK;
		return err_set(err, L2S_EIO, "cannot create %s '%s': %s", what,
		    path, strerror(errno));
	}
	/* 0600 whatever the umask */
	if (fchmod(fd, 0600) != 0)
		rc = err_set(err, L2S_EIO, "cannot set mode of %s '%s': %s",
		    what, path, strerror(errno));
	close(fd);
	return rc;
}

int
platform_each_file(const char *dir, int (*fn)(void *arg, const char *name),
    void *arg, const char *what, struct err *err)
{
	struct buf path = BUF_INIT;
	struct dirent *d;
	struct stat st;
	DIR *dh;
	int rc = 0;

	dh = opendir(dir);
	if (dh == NULL)
		return err_set(err, L2S_EIO, "cannot read %s '%s': %s", what,
		    dir, strerror(errno));
	for (;;) {
		errno = 0;
		d = readdir(dh);
		if (d == NULL)
			break;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, d->d_name);
		if (buf_failed(&path)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			break;
		}
		if (lstat(path.s, &st) != 0 || !S_ISREG(st.st_mode))
			continue;	/* gone meanwhile, or not a file */
		rc = fn(arg, d->d_name);
		if (rc != 0)
			break;
	}
	if (d == NULL && errno != 0 && rc == 0)
		rc = err_set(err, L2S_EIO, "cannot read %s '%s': %s", what, dir,
		    strerror(errno));
	closedir(dh);
	buf_free(&path);
	return rc;
}

int
platform_args(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

FILE *
platform_fopen(const char *path, const char *mode)
{
	return fopen(path, mode);
}

int
platform_stat(const char *path, struct platform_stat *st)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return -1;
	st->size = (long long)sb.st_size;
	st->is_reg = S_ISREG(sb.st_mode) != 0;
	st->is_dir = S_ISDIR(sb.st_mode) != 0;
	return 0;
}

int
platform_remove(const char *path)
{
	return unlink(path);
}

int
platform_stderr_tty(void)
{
	return isatty(STDERR_FILENO);
}

int
platform_stderr_columns(void)
{
#ifdef TIOCGWINSZ
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
#endif
	return 0;
}

int
platform_syslog_open(const char *ident, struct err *err)
{
	(void)err;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return L2S_OK;
}

void
platform_syslog(enum log_level lvl, const char *line)
{
	static const int prio[] = {
		[LOG_LVL_ERROR] = LOG_ERR, [LOG_LVL_WARN] = LOG_WARNING,
		[LOG_LVL_INFO] = LOG_INFO, [LOG_LVL_DEBUG] = LOG_DEBUG,
	};

	syslog(prio[lvl], "%s", line);
}

void
platform_syslog_close(void)
{
	closelog();
}

#endif /* !_WIN32 */
