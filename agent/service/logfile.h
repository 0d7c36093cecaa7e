/*
 * logfile.h - the agent's output and the wrapper's own lines, in one file
 *
 * Whole lines only, UTF-8, rotated by size: before a line that would make
 * X.log larger than max_bytes, X.log becomes X.log.1, X.log.1 becomes
 * X.log.2 and so on up to X.log.<keep> (the oldest is dropped).  A line
 * longer than max_bytes is cut to fit, so no file ever exceeds it and no
 * line is split across two files.  Safe to call from several threads (the
 * output relay and the supervisor write at the same time).
 */
#ifndef L2S_SVC_LOGFILE_H
#define L2S_SVC_LOGFILE_H

#include "svc.h"

struct logfile;

/* Open (append to) path, creating its directory when missing.  echo: copy
 * every line to standard output too (run --console).  On success the caller
 * owns *out and frees it with logfile_close(). */
int logfile_open(struct logfile **out, const wchar_t *path, DWORD max_bytes,
    DWORD keep, int echo, struct svc_err *e);
void logfile_close(struct logfile *lf);

/* Write one line of len bytes of UTF-8 (no newline in it; a trailing \r is
 * dropped) as the agent wrote it.  Write errors are dropped: there is no
 * better place to report them. */
void logfile_line(struct logfile *lf, const char *line, size_t len);

/* Write the wrapper's own line: "<UTC time> ldap2scim-service: <text>". */
void logfile_say(struct logfile *lf, const wchar_t *fmt, ...);

#endif
