/*
 * utf8.h - checking that directory values are text
 *
 * SCIM carries JSON strings, so every value sent must be valid UTF-8.  LDAP
 * values are byte strings: a value with an invalid sequence, an overlong or
 * surrogate form, or an embedded NUL is not text and is never sent.
 */
#ifndef L2S_UTF8_H
#define L2S_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int utf8_valid(const char *s, size_t len);

#endif
