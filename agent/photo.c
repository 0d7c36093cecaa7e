/*
 * photo.c - profile photos written once, by content, into a published directory
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "photo.h"
#include "sha256.h"

#define HEX_LEN (2 * SHA256_LEN)
#define TEMP_SUFFIX ".XXXXXX"		/* mkstemp()'s template */

static const unsigned char jpeg_magic[] = { 0xff, 0xd8, 0xff };
static const unsigned char png_magic[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
};

/* ".jpg" or ".png" by the first bytes of the image, or NULL. */
static const char *
image_ext(const struct value *v)
{
	if (v->len >= sizeof(jpeg_magic) &&
	    memcmp(v->p, jpeg_magic, sizeof(jpeg_magic)) == 0)
		return ".jpg";
	if (v->len >= sizeof(png_magic) &&
	    memcmp(v->p, png_magic, sizeof(png_magic)) == 0)
		return ".png";
	return NULL;
}

/* Is [s, s + len) a name photo_publish() makes? */
static int
is_photo_name(const char *s, size_t len)
{
	size_t i;

	if (len != HEX_LEN + 4)
		return 0;
	for (i = 0; i < HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return memcmp(s + HEX_LEN, ".jpg", 4) == 0 ||
	    memcmp(s + HEX_LEN, ".png", 4) == 0;
}

/* Is s a temporary file of write_atomic(): "." NAME ".XXXXXX"? */
static int
is_temp_name(const char *s)
{
	size_t len = strlen(s), n = strlen(TEMP_SUFFIX), i;

	if (len != 1 + HEX_LEN + 4 + n || s[0] != '.' ||
	    !is_photo_name(s + 1, HEX_LEN + 4) || s[1 + HEX_LEN + 4] != '.')
		return 0;
	for (i = len - n + 1; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

const char *
photo_name(const char *url)
{
	const char *name = strrchr(url, '/');

	name = name != NULL ? name + 1 : url;
	return is_photo_name(name, strlen(name)) ? name : NULL;
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

/* Put [p, p + len) at dir/name: a temporary file in dir, flushed to disk,
 * then renamed, so that a reader sees the whole image or none. */
static int
write_atomic(const char *dir, const char *name, const char *p, size_t len,
    struct err *err)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	int fd = -1, dfd = -1, rc;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s%s", dir, name, TEMP_SUFFIX);
	if (buf_failed(&path) || buf_failed(&tmp)) {
		rc = err_set(err, L2S_ENOMEM, "out of memory");
		goto done;
	}
	fd = mkstemp(tmp.s);
	if (fd < 0) {
		rc = err_set(err, L2S_EIO, "cannot create a file in photo "
		    "directory '%s': %s", dir, strerror(errno));
		buf_free(&tmp);		/* nothing to remove below */
		goto done;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, p, len) != 0 ||
	    fsync(fd) != 0) {
		rc = err_set(err, L2S_EIO, "cannot write photo '%s': %s",
		    buf_str(&path), strerror(errno));
		goto done;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0 || rename(tmp.s, path.s) != 0) {
		rc = err_set(err, L2S_EIO, "cannot write photo '%s': %s",
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
photo_publish(const struct config_users *u, const struct entry *e, int write,
    char **url, struct err *err)
{
	const struct value *v;
	const char *ext;
	char name[PHOTO_NAME_MAX];
	struct buf b = BUF_INIT;
	struct stat st;
	size_t n;
	int missing, rc;

	*url = NULL;
	if (u->photo_dir == NULL || u->photo_url == NULL ||
	    u->photo_attribute == NULL)
		return err_set(err, L2S_ENOTFOUND, "users.photo is not set");
	v = entry_first(e, u->photo_attribute);
	if (v == NULL)
		return err_set(err, L2S_ENOTFOUND, "'%s' has no attribute '%s'",
		    e->dn, u->photo_attribute);
	if (v->len > PHOTO_MAX)
		return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' is an "
		    "image of %zu bytes, more than the limit of %d",
		    u->photo_attribute, e->dn, v->len, PHOTO_MAX);
	ext = image_ext(v);
	if (ext == NULL)
		return err_set(err, L2S_EPARSE, "attribute '%s' of '%s' is not a "
		    "JPEG or PNG image", u->photo_attribute, e->dn);
	sha256_hex(v->p, v->len, SHA256_LEN, name);
	memcpy(name + HEX_LEN, ext, 5);

	if (write) {
		buf_printf(&b, "%s/%s", u->photo_dir, name);
		if (buf_failed(&b)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		/* The name is the content: a file of the right size is ours
		 * and complete (it was renamed into place whole). */
		missing = stat(b.s, &st) != 0;
		if (missing && errno != ENOENT) {
			rc = err_set(err, L2S_EIO, "cannot check photo '%s': %s",
			    b.s, strerror(errno));
			goto done;
		}
		if (missing || !S_ISREG(st.st_mode) ||
		    (size_t)st.st_size != v->len) {
			rc = write_atomic(u->photo_dir, name, v->p, v->len, err);
			if (rc != L2S_OK)
				goto done;
		}
		buf_reset(&b);
	}
	n = strlen(u->photo_url);
	buf_puts(&b, u->photo_url);
	if (n == 0 || u->photo_url[n - 1] != '/')
		buf_putc(&b, '/');
	buf_puts(&b, name);
	*url = buf_take(&b);
	rc = *url != NULL ? L2S_OK : err_set(err, L2S_ENOMEM, "out of memory");
done:
	buf_free(&b);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
photo_prune(const char *dir, char *const *keep, size_t nkeep,
    size_t *removed, struct err *err)
{
	char **sorted = NULL;
	struct buf path = BUF_INIT;
	struct dirent *d;
	struct stat st;
	DIR *dh = NULL;
	int rc = L2S_OK;

	*removed = 0;
	if (nkeep > 0) {
		sorted = malloc(nkeep * sizeof(*sorted));
		if (sorted == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		memcpy(sorted, keep, nkeep * sizeof(*sorted));
		qsort(sorted, nkeep, sizeof(*sorted), name_cmp);
	}
	dh = opendir(dir);
	if (dh == NULL) {
		rc = err_set(err, L2S_EIO, "cannot read photo directory '%s': %s",
		    dir, strerror(errno));
		goto done;
	}
	for (;;) {
		const char *name;

		errno = 0;
		d = readdir(dh);
		if (d == NULL)
			break;
		name = d->d_name;
		if (is_photo_name(name, strlen(name))) {
			if (sorted != NULL && bsearch(&name, sorted, nkeep,
			    sizeof(*sorted), name_cmp) != NULL)
				continue;
		} else if (!is_temp_name(name)) {
			continue;	/* not ours: never touched */
		}
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, name);
		if (buf_failed(&path)) {
			rc = err_set(err, L2S_ENOMEM, "out of memory");
			goto done;
		}
		/* Only regular files: we never make links or directories. */
		if (lstat(path.s, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlink(path.s) == 0)
			(*removed)++;
		else if (errno != ENOENT && rc == L2S_OK)
			rc = err_set(err, L2S_EIO, "cannot remove photo '%s': %s",
			    path.s, strerror(errno));
	}
	if (errno != 0 && rc == L2S_OK)
		rc = err_set(err, L2S_EIO, "cannot read photo directory '%s': %s",
		    dir, strerror(errno));
done:
	if (dh != NULL)
		closedir(dh);
	buf_free(&path);
	free(sorted);
	return rc;
}
