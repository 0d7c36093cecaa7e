/*
 * adattr.c - Active Directory's binary attribute formats, as text
 */
#include <stdint.h>
#include <stdio.h>
#include <strings.h>

#include "adattr.h"

int
adattr_guid_text(const void *p, size_t len, char *out)
{
	const unsigned char *b = p;

	if (len != 16)
		return -1;
	snprintf(out, ADATTR_GUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
	    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int
adattr_sid_text(const void *p, size_t len, char *out, size_t n)
{
	const unsigned char *b = p;
	uint64_t auth = 0;
	size_t i, count, used;
	int w;

	/* revision 1, at most 15 sub-authorities (MS-DTYP 2.4.2.2) */
	if (len < 8 || b[0] != 1 || b[1] > 15 || len != 8 + 4 * (size_t)b[1])
		return -1;
	count = b[1];
	for (i = 2; i < 8; i++)
		auth = auth << 8 | b[i];
	w = snprintf(out, n, "S-1-%llu", (unsigned long long)auth);
	if (w < 0 || (size_t)w >= n)
		return -1;
	used = (size_t)w;
	for (i = 0; i < count; i++) {
		const unsigned char *s = b + 8 + 4 * i;
		uint32_t sub = (uint32_t)s[0] | (uint32_t)s[1] << 8 |
		    (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;

		w = snprintf(out + used, n - used, "-%lu", (unsigned long)sub);
		if (w < 0 || (size_t)w >= n - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

long long
adattr_filetime(time_t t)
{
	/* 11644473600 s from 1601-01-01 to 1970-01-01 */
	return ((long long)t + 11644473600LL) * 10000000LL;
}

/* Asked for every value of every attribute mapped: most names are ruled
 * out by their first letter, without a call. */
int
adattr_is_guid(const char *name)
{
	return (name[0] | 0x20) == 'o' && strcasecmp(name, "objectGUID") == 0;
}

int
adattr_is_sid(const char *name)
{
	return (name[0] | 0x20) == 'o' && strcasecmp(name, "objectSid") == 0;
}
