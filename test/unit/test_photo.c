/*
 * test_photo.c - photos written once by content into a directory, the URL
 * that names them, the refusals, and pruning that touches only our files
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "photo.h"
#include "sha256.h"
#include "tap.h"

#define DN "uid=alice,ou=people,dc=example,dc=com"
#define URL "https://intranet.example.com/photos"

/* The smallest JPEG and PNG starts we recognise, with a NUL and bytes
 * that are not UTF-8 inside. */
static const char jpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xfe\xff\xd9";
static const char png[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x80";

static char tmpdir[] = "/tmp/l2s-photo-XXXXXX";

/* The name photo_publish() should give p: its SHA-256 in hex + ext. */
static const char *
want_name(const char *p, size_t len, const char *ext)
{
	static char name[PHOTO_NAME_MAX];

	sha256_hex(p, len, SHA256_LEN, name);
	strcat(name, ext);
	return name;
}

static char *
path_in(const char *dir, const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* A fresh, empty directory under tmpdir. */
static const char *
fresh_dir(const char *name)
{
	static char dir[256];

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	if (mkdir(dir, 0755) != 0)
		fx_bail("cannot create '%s': %s", dir, strerror(errno));
	return dir;
}

/* Files in dir, dot files included (not . and ..). */
static int
count_files(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *d;
	int n = 0;

	if (dh == NULL)
		return -1;
	while ((d = readdir(dh)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dh);
	return n;
}

static void
touch(const char *dir, const char *name, const char *text)
{
	FILE *f = fopen(path_in(dir, name), "w");

	if (f == NULL)
		fx_bail("cannot create '%s' in '%s'", name, dir);
	fputs(text, f);
	fclose(f);
}

static int
exists(const char *dir, const char *name)
{
	struct stat st;

	return lstat(path_in(dir, name), &st) == 0;
}

/* Remove dir and everything below it (the test's own files only). */
static void
remove_tree(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *d;
	char path[512];
	struct stat st;

	if (dh == NULL)
		return;
	while ((d = readdir(dh)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(dh);
	rmdir(dir);
}

static void
users_init(struct config_users *u, char *dir, char *url)
{
	memset(u, 0, sizeof(*u));
	u->photo_attribute = "jpegPhoto";
	u->photo_dir = dir;
	u->photo_url = url;
}

static void
test_publish(void)
{
	char dir[256], url_base[] = URL;
	struct config_users u;
	struct fx_entry f;
	struct err err = ERR_INIT;
	struct stat st1, st2;
	char *url = NULL, want[256], name[PHOTO_NAME_MAX];
	FILE *fh;
	char back[64];
	size_t n = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%s", fresh_dir("publish"));
	users_init(&u, dir, url_base);
	fx_entry_init(&f, DN);
	fx_add(&f, "uid", "alice");
	fx_addn(&f, "jpegPhoto", jpeg, sizeof(jpeg) - 1);
	snprintf(name, sizeof(name), "%s", want_name(jpeg, sizeof(jpeg) - 1,
	    ".jpg"));

	rc = photo_publish(&u, &f.e, 0, &url, &err);
	is_int(rc, L2S_OK, "a dry run names a JPEG photo");
	snprintf(want, sizeof(want), URL "/%s", name);
	is_str(url, want, "the URL is the published URL, '/', the SHA-256 in "
	    "hex and .jpg");
	is_int(count_files(dir), 0, "a dry run writes nothing");
	free(url);

	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_OK, "a JPEG photo is published");
	is_str(url, want, "the dry run gave the same URL as the real one");
	free(url);
	is_int(count_files(dir), 1, "publishing writes one file and leaves no "
	    "temporary file behind");
	ok(stat(path_in(dir, name), &st1) == 0, "the file is named by its "
	    "content");
	is_int(st1.st_mode & 07777, 0644, "the file is readable by the web "
	    "server (mode 0644)");
	is_int(st1.st_size, sizeof(jpeg) - 1, "the file holds the whole image");
	fh = fopen(path_in(dir, name), "rb");
	if (fh != NULL) {
		n = fread(back, 1, sizeof(back), fh);
		fclose(fh);
	}
	ok(n == sizeof(jpeg) - 1 && memcmp(back, jpeg, n) == 0,
	    "the file holds the image's bytes, unchanged");

	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_OK, "publishing the same photo again succeeds");
	free(url);
	ok(stat(path_in(dir, name), &st2) == 0 && st2.st_ino == st1.st_ino &&
	    st2.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
	    st2.st_mtim.tv_nsec == st1.st_mtim.tv_nsec,
	    "a photo already published is not written again (same inode and "
	    "mtime)");

	/* A file of the wrong size under our name is replaced. */
	touch(dir, name, "short");
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_OK, "a truncated copy is published again");
	free(url);
	ok(stat(path_in(dir, name), &st2) == 0 &&
	    (size_t)st2.st_size == sizeof(jpeg) - 1,
	    "a truncated copy is replaced by the whole image");

	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", png, sizeof(png) - 1);
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_OK, "a PNG photo is published");
	snprintf(want, sizeof(want), URL "/%s",
	    want_name(png, sizeof(png) - 1, ".png"));
	is_str(url, want, "a PNG photo is named .png");
	free(url);
	ok(exists(dir, want_name(png, sizeof(png) - 1, ".png")),
	    "the PNG file is written under that name");

	/* A changed byte is a new name, the old file stays for prune. */
	{
		char other[sizeof(png)];

		memcpy(other, png, sizeof(png));
		other[sizeof(png) - 2] ^= 1;
		fx_entry_init(&f, DN);
		fx_addn(&f, "jpegPhoto", other, sizeof(other) - 1);
		rc = photo_publish(&u, &f.e, 1, &url, &err);
		ok(rc == L2S_OK && strstr(url, want_name(png, sizeof(png) - 1,
		    ".png")) == NULL, "one changed byte gives another URL");
		free(url);
		is_int(count_files(dir), 3, "the changed image is a new file "
		    "beside the old ones");
	}

	{
		char slash[] = URL "/";

		u.photo_url = slash;
		fx_entry_init(&f, DN);
		fx_addn(&f, "jpegPhoto", jpeg, sizeof(jpeg) - 1);
		rc = photo_publish(&u, &f.e, 0, &url, &err);
		snprintf(want, sizeof(want), URL "/%s", name);
		is_str(url, want, "a URL ending in '/' gets no second '/'");
		free(url);
		u.photo_url = url_base;
	}

	u.photo_attribute = "thumbnailPhoto";
	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", jpeg, sizeof(jpeg) - 1);
	fx_addn(&f, "thumbnailPhoto", png, sizeof(png) - 1);
	rc = photo_publish(&u, &f.e, 0, &url, &err);
	ok(rc == L2S_OK && strstr(url, ".png") != NULL,
	    "the configured attribute is the one published");
	free(url);
}

static void
test_refusals(void)
{
	char dir[256], url_base[] = URL, missing[300];
	struct config_users u;
	struct fx_entry f;
	struct err err = ERR_INIT;
	char *url = (char *)"x", *big;
	static const char gif[] = "GIF89a\x01\x00\x01\x00";
	int rc;

	snprintf(dir, sizeof(dir), "%s", fresh_dir("refusals"));
	users_init(&u, dir, url_base);

	fx_entry_init(&f, DN);
	fx_add(&f, "uid", "alice");
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_ENOTFOUND, "an entry without the attribute has no photo");
	ok(url == NULL, "no photo leaves the URL NULL");
	is_str(err.msg, "'" DN "' has no attribute 'jpegPhoto'",
	    "the message names the entry and the attribute");

	fx_addn(&f, "jpegPhoto", "", 0);
	url = (char *)"x";
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_ENOTFOUND, "an empty value is no photo");
	ok(url == NULL, "an empty value leaves the URL NULL");

	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", gif, sizeof(gif) - 1);
	url = (char *)"x";
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_EPARSE, "an image that is neither JPEG nor PNG is refused");
	is_str(err.msg, "attribute 'jpegPhoto' of '" DN "' is not a JPEG or "
	    "PNG image", "the refusal names the attribute and the entry");
	ok(url == NULL, "a refused image leaves the URL NULL");
	is_int(count_files(dir), 0, "a refused image writes nothing");

	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", jpeg, 2);
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_EPARSE, "two bytes of a JPEG signature are not enough");

	big = calloc(1, PHOTO_MAX + 1);
	if (big == NULL)
		fx_bail("out of memory");
	memcpy(big, jpeg, 4);
	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", big, PHOTO_MAX + 1);
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_EPARSE, "an image over 10 MB is refused");
	is_str(err.msg, "attribute 'jpegPhoto' of '" DN "' is an image of "
	    "10485761 bytes, more than the limit of 10485760",
	    "the refusal of a large image names the entry and the size");
	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", big, PHOTO_MAX);
	rc = photo_publish(&u, &f.e, 0, &url, &err);
	is_int(rc, L2S_OK, "an image of exactly 10 MB is accepted");
	free(url);
	free(big);

	snprintf(missing, sizeof(missing), "%s/nope", tmpdir);
	u.photo_dir = missing;
	fx_entry_init(&f, DN);
	fx_addn(&f, "jpegPhoto", jpeg, sizeof(jpeg) - 1);
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_EIO, "a missing directory is an I/O error");
	{
		char want[400];

		snprintf(want, sizeof(want), "cannot create a file in photo "
		    "directory '%s': No such file or directory", missing);
		is_str(err.msg, want, "the message names the directory and why");
	}
	ok(url == NULL, "a failed write leaves the URL NULL");
	rc = photo_publish(&u, &f.e, 0, &url, &err);
	is_int(rc, L2S_OK, "a dry run does not look at the directory");
	free(url);

	if (geteuid() == 0) {
		printf("ok %d # skip root writes into a read-only directory\n",
		    ++tap_n);
		printf("ok %d # skip root writes into a read-only directory\n",
		    ++tap_n);
	} else {
		char ro[256];

		snprintf(ro, sizeof(ro), "%s", fresh_dir("readonly"));
		chmod(ro, 0555);
		u.photo_dir = ro;
		rc = photo_publish(&u, &f.e, 1, &url, &err);
		is_int(rc, L2S_EIO, "a directory that is not writable is an I/O "
		    "error");
		like(err.msg, "Permission denied", "the message says why");
		chmod(ro, 0755);
	}

	u.photo_dir = NULL;
	rc = photo_publish(&u, &f.e, 1, &url, &err);
	is_int(rc, L2S_ENOTFOUND, "without users.photo there is no photo");
}

static void
test_prune(void)
{
	char dir[256];
	char keep_name[PHOTO_NAME_MAX], gone_jpg[PHOTO_NAME_MAX],
	    gone_png[PHOTO_NAME_MAX], upper[PHOTO_NAME_MAX], gif[80],
	    temp[100], subdir[PHOTO_NAME_MAX], missing[300];
	char *keep[2];
	struct err err = ERR_INIT;
	size_t removed = 99, i;
	int rc;

	snprintf(dir, sizeof(dir), "%s", fresh_dir("prune"));
	snprintf(keep_name, sizeof(keep_name), "%s",
	    want_name(jpeg, sizeof(jpeg) - 1, ".jpg"));
	snprintf(gone_jpg, sizeof(gone_jpg), "%s", want_name("a", 1, ".jpg"));
	snprintf(gone_png, sizeof(gone_png), "%s", want_name(png,
	    sizeof(png) - 1, ".png"));
	snprintf(upper, sizeof(upper), "%s", want_name("b", 1, ".jpg"));
	for (i = 0; i < 64; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	snprintf(gif, sizeof(gif), "%.64s.gif", gone_jpg);
	snprintf(temp, sizeof(temp), ".%s.AbC123", gone_jpg);
	snprintf(subdir, sizeof(subdir), "%s", want_name("c", 1, ".png"));

	touch(dir, keep_name, "keep");
	touch(dir, gone_jpg, "old");
	touch(dir, gone_png, "old");
	touch(dir, "index.html", "<html>");
	touch(dir, upper, "not ours: upper case");
	touch(dir, gif, "not ours: .gif");
	touch(dir, temp, "a crashed write");
	if (mkdir(path_in(dir, subdir), 0755) != 0)
		fx_bail("cannot create a subdirectory");
	if (symlink(keep_name, path_in(dir, want_name("d", 1, ".jpg"))) != 0)
		fx_bail("cannot create a symbolic link");

	keep[0] = keep_name;
	keep[1] = (char *)"not-a-photo-name.jpg";
	rc = photo_prune(dir, keep, 2, &removed, &err);
	is_int(rc, L2S_OK, "pruning succeeds");
	is_int(removed, 3, "pruning removes the two unused photos and a "
	    "temporary file");
	ok(exists(dir, keep_name), "a listed photo is kept");
	ok(!exists(dir, gone_jpg), "an unlisted JPEG photo is removed");
	ok(!exists(dir, gone_png), "an unlisted PNG photo is removed");
	ok(!exists(dir, temp), "a temporary file left by a crash is removed");
	ok(exists(dir, "index.html"), "a foreign file is kept");
	ok(exists(dir, upper), "a name in upper-case hex is not ours and is "
	    "kept");
	ok(exists(dir, gif), "a .gif named by a digest is not ours and is kept");
	ok(exists(dir, subdir), "a directory with a photo's name is kept");
	ok(exists(dir, want_name("d", 1, ".jpg")), "a symbolic link with a "
	    "photo's name is kept");

	rc = photo_prune(dir, NULL, 0, &removed, &err);
	is_int(rc, L2S_OK, "pruning with nothing to keep succeeds");
	is_int(removed, 1, "nothing to keep removes every photo file");
	is_int(count_files(dir), 5, "and only the photo files");

	snprintf(missing, sizeof(missing), "%s/nope", tmpdir);
	rc = photo_prune(missing, NULL, 0, &removed, &err);
	is_int(rc, L2S_EIO, "pruning a missing directory is an I/O error");
	{
		char want[400];

		snprintf(want, sizeof(want), "cannot read photo directory '%s': "
		    "No such file or directory", missing);
		is_str(err.msg, want, "the message names the directory and why");
	}
	is_int(removed, 0, "a failed prune removed nothing");
}

static void
test_name(void)
{
	char url[200];
	const char *name = want_name(jpeg, sizeof(jpeg) - 1, ".jpg");

	snprintf(url, sizeof(url), URL "/%s", name);
	is_str(photo_name(url), name, "photo_name gives the file name of a "
	    "photo URL");
	is_str(photo_name(name), name, "photo_name accepts a bare name");
	ok(photo_name(URL "/alice.jpg") == NULL, "photo_name refuses a URL "
	    "that is not ours");
	ok(photo_name("") == NULL, "photo_name refuses an empty string");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		fx_bail("cannot create a temporary directory");
	test_publish();
	test_refusals();
	test_prune();
	test_name();
	remove_tree(tmpdir);
	return tap_done();
}
