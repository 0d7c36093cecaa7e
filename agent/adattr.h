/*
 * adattr.h - Active Directory's binary attribute formats, as text
 *
 * objectGUID is 16 bytes whose first three fields are little-endian; its
 * registry form ("{...}" without the braces, lower case) is what AD's own
 * tools show and what ldap2scim sends as externalId.  objectSid is a
 * revision byte, a count of sub-authorities, a 48-bit big-endian
 * authority and that many 32-bit little-endian sub-authorities, written
 * "S-1-5-21-...".  accountExpires and friends count 100 ns intervals
 * since 1601-01-01 UTC (a FILETIME); 0 and 2^63-1 mean "never".
 *
 * Pure: no I/O, no allocation.
 */
#ifndef L2S_ADATTR_H
#define L2S_ADATTR_H

#include <stddef.h>
#include <time.h>

#define ADATTR_GUID_LEN 36	/* characters, without the NUL */
#define ADATTR_SID_MAX 192	/* a buffer that holds any SID's text */

/* 0 with out (ADATTR_GUID_LEN + 1 bytes) filled; -1 when len is not 16. */
int adattr_guid_text(const void *p, size_t len, char *out);

/* 0 with out filled; -1 when p is not a well-formed SID of exactly len
 * bytes or out (n bytes) is too small. */
int adattr_sid_text(const void *p, size_t len, char *out, size_t n);

/* The FILETIME of t (seconds since 1970 UTC). */
long long adattr_filetime(time_t t);

/* Is name the attribute these formats are for?  (ASCII case-insensitive) */
int adattr_is_guid(const char *name);
int adattr_is_sid(const char *name);

#endif
