/*
 * secret.c - what the bytes of a secret file must be (see secret.h)
 */
#include <stdlib.h>
#include <string.h>

#include "secret.h"

int
secret_take(const char *path, const char *buf, size_t len, char **out,
    struct err *err)
{
	char *s;

	*out = NULL;
	if (len > SECRET_MAX)
		return err_set(err, L2S_EIO, "secret file '%s' is larger than "
		    "%d KiB", path, SECRET_MAX / 1024);
	/* Windows editors and PowerShell 5's "utf8" start with one. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len == 0)
		return err_set(err, L2S_EIO, "secret file '%s' is empty", path);
	if (memchr(buf, '\0', len) != NULL)
		return err_set(err, L2S_EIO, "secret file '%s' contains a NUL "
		    "byte", path);
	s = malloc(len + 1);
	if (s == NULL)
		return err_set(err, L2S_ENOMEM, "out of memory");
	memcpy(s, buf, len);
	s[len] = '\0';
	*out = s;
	return L2S_OK;
}
