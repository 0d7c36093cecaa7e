/*
 * glob.h - shell patterns, as groups.include and groups.exclude use them
 *
 * The patterns of POSIX fnmatch() without flags, byte by byte: '*' any run
 * of bytes (slashes and leading dots included), '?' any one byte, '[...]'
 * one byte of a set ('!' or '^' first negates; ranges a-z; classes such as
 * [:digit:]; ']' first is literal), '\' makes the next byte literal.  A
 * bracket that is never closed is a literal '['.  Written here, not taken
 * from the C library, so that every platform matches the same names.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef L2S_GLOB_H
#define L2S_GLOB_H

/* 1 when s matches pattern, 0 when not. */
int glob_match(const char *pattern, const char *s);

#endif
