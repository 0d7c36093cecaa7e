/*
 * secret.h - what the bytes of a secret file must be, on every platform
 *
 * platform_read_secret() (platform.h) opens the file, checks who may read
 * it and reads at most SECRET_MAX + 1 bytes; secret_take() makes the secret
 * of them.  Pure: no I/O.
 */
#ifndef L2S_SECRET_H
#define L2S_SECRET_H

#include <stddef.h>

#include "err.h"

/* The largest secret file accepted. */
#define SECRET_MAX (64 * 1024)

/*
 * The secret in [buf, buf + len), read from path: a UTF-8 byte order mark
 * at the start and one line end (LF or CR LF) at the end are dropped; more
 * than SECRET_MAX bytes, nothing, or a NUL byte is refused (L2S_EIO, the
 * message naming path, never the contents).  L2S_OK with *out a copy the
 * caller wipes and frees (platform_secret_free()).  buf is left for the
 * caller to wipe.
 */
int secret_take(const char *path, const char *buf, size_t len, char **out,
    struct err *err);

#endif
