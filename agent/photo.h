/*
 * photo.h - profile photos published as files that a web server serves
 *
 * users.photo names an image attribute (jpegPhoto, or thumbnailPhoto on
 * AD), a directory and the URL at which a web server publishes it.  Each
 * image is written once under a name made of its SHA-256, so the URL sent
 * as the SCIM photo changes exactly when the image does, and the diff sends
 * an update only then.  Files are written atomically (temporary file in the
 * same directory, fsync, rename) and never rewritten.  photo_prune() removes
 * the images nobody refers to any more and touches nothing else.
 *
 * Not a pure module (it writes files), but it never logs: errors go to the
 * struct err and the caller decides.  Several threads may publish at once:
 * two writers of one image each rename a complete copy over the other.
 */
#ifndef L2S_PHOTO_H
#define L2S_PHOTO_H

#include <stddef.h>

#include "config.h"
#include "entry.h"
#include "err.h"

/* The SCIM attribute users.photo sets. */
#define PHOTO_PATH "photos[type eq \"photo\"].value"

#define PHOTO_MAX (10 * 1024 * 1024)	/* bytes: larger images are refused */
#define PHOTO_NAME_MAX (64 + 4 + 1)	/* 64 hex digits, ".jpg", NUL */

/*
 * The photo of e: the first value of u->photo_attribute, as the file
 * u->photo_dir/NAME published at u->photo_url/NAME, where NAME is the
 * lower-case hex SHA-256 of the image and ".jpg" or ".png" by its magic
 * bytes.  When write is set and the file is missing (or is not the size of
 * the image), it is written; with write 0 (a dry run) nothing on disk is
 * read or changed, and the URL is the same.
 *
 * L2S_OK: the caller owns *url (free()).  Otherwise *url is NULL and:
 * L2S_ENOTFOUND: no users.photo, or e has no such attribute or an empty
 * value; L2S_EPARSE: the value is not a JPEG or PNG image or is larger than
 * PHOTO_MAX (err names the entry and the attribute); L2S_EIO: the file
 * cannot be written (err names the path and says why); L2S_ENOMEM.
 * u and e are borrowed.
 */
int photo_publish(const struct config_users *u, const struct entry *e,
    int write, char **url, struct err *err);

/*
 * Remove from dir every file whose name photo_publish() could have made
 * (64 lower-case hex digits and ".jpg" or ".png") and that is not among the
 * keep names (bare file names, as the last path segment of the URLs; keep
 * is borrowed and may be unsorted), plus temporary files a crashed
 * photo_publish() left behind.  Any other file is never touched.  *removed
 * gets the number of files removed (also on failure).
 *
 * Call it only after a complete read, with the names of every photo still
 * in use, including those the SCIM service may still hold: an image pruned
 * in error is written again by the next photo_publish(), but until then
 * its URL is broken.  L2S_EIO when dir cannot be read or a file cannot be
 * removed (the others are still tried; err names the first failure).
 */
int photo_prune(const char *dir, char *const *keep, size_t nkeep,
    size_t *removed, struct err *err);

/* The file name in url (what follows its last '/'), when it is a name
 * photo_publish() makes; else NULL.  Borrowed from url. */
const char *photo_name(const char *url);

#endif
