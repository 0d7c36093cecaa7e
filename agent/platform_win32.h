/*
 * platform_win32.h - what the Windows build's other files share with
 * platform_win32.c: UTF-8 <-> UTF-16 for the W functions.  Included only
 * by Windows-only files (the Makefile builds them for Windows alone).
 */
#ifndef L2S_PLATFORM_WIN32_H
#define L2S_PLATFORM_WIN32_H

#include <wchar.h>

/* s (UTF-8) as a new UTF-16 string (free()), or NULL: s NULL, not UTF-8
 * (errno EINVAL: never a silent U+FFFD), or out of memory (ENOMEM). */
wchar_t *platform_wide(const char *s);
/* w (UTF-16) as a new UTF-8 string (free()), or NULL: w NULL or out of
 * memory. */
char *platform_narrow(const wchar_t *w);

#endif
