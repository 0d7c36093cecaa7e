/*
 * photo.c - profile photos written once, by content, into a published directory
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "photo.h"
#include "platform.h"
#include "sha256.h"

#define HEX_LEN (2 * SHA256_LEN)
#define TEMP_SUFFIX ".XXXXXX"		/* platform_write_file()'s temporary */

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

/* Is s a temporary file of platform_write_file(): "." NAME ".XXXXXX"? */
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

int
photo_publish(const struct config_users *u, const struct entry *e, int write,
    char **url, struct err *err)
{
	const struct value *v;
	const char *ext;
	char name[PHOTO_NAME_MAX];
	struct buf b = BUF_INIT;
	struct platform_stat st;
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
		missing = platform_stat(b.s, &st) != 0;
		if (missing && errno != ENOENT) {
			rc = err_set(err, L2S_EIO, "cannot check photo '%s': %s",
			    b.s, strerror(errno));
			goto done;
		}
		if (missing || !st.is_reg || (size_t)st.size != v->len) {
			rc = platform_write_file(u->photo_dir, name, v->p,
			    v->len, "photo", err);
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

struct prune {
	const char *dir;
	char **keep;		/* sorted */
	size_t nkeep, removed;
	int rc;			/* the first removal that failed */
	struct err *err;
	struct buf path;
};

static int
prune_one(void *arg, const char *name)
{
	struct prune *pr = arg;

	if (is_photo_name(name, strlen(name))) {
		if (pr->keep != NULL && bsearch(&name, pr->keep, pr->nkeep,
		    sizeof(*pr->keep), name_cmp) != NULL)
			return 0;
	} else if (!is_temp_name(name)) {
		return 0;	/* not ours: never touched */
	}
	buf_reset(&pr->path);
	buf_printf(&pr->path, "%s/%s", pr->dir, name);
	if (buf_failed(&pr->path))
		return err_set(pr->err, L2S_ENOMEM, "out of memory");
	if (platform_remove(pr->path.s) == 0)
		pr->removed++;
	else if (errno != ENOENT && pr->rc == L2S_OK)
		pr->rc = err_set(pr->err, L2S_EIO, "cannot remove photo '%s': "
		    "%s", pr->path.s, strerror(errno));
	return 0;	/* the others still go */
}

int
photo_prune(const char *dir, char *const *keep, size_t nkeep,
    size_t *removed, struct err *err)
{
	struct prune pr = { dir, NULL, nkeep, 0, L2S_OK, err, BUF_INIT };
	int rc;

	*removed = 0;
	if (nkeep > 0) {
		pr.keep = malloc(nkeep * sizeof(*pr.keep));
		if (pr.keep == NULL)
			return err_set(err, L2S_ENOMEM, "out of memory");
		memcpy(pr.keep, keep, nkeep * sizeof(*pr.keep));
		qsort(pr.keep, nkeep, sizeof(*pr.keep), name_cmp);
	}
	/* Only regular files: we never make links or directories. */
	rc = platform_each_file(dir, prune_one, &pr, "photo directory", err);
	if (rc == L2S_OK)
		rc = pr.rc;
	*removed = pr.removed;
	buf_free(&pr.path);
	free(pr.keep);
	return rc;
}
