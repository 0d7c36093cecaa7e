/*
 * utf8.c - UTF-8 validation
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c;
		size_t n, k;
		unsigned long cp;
		uint64_t x;

		/* Eight bytes at once while they are ASCII without a NUL (most
		 * directory text): no byte has its high bit, and none turns
		 * its high bit on when 1 is taken from it (only a 0 does). */
		if (len - i >= 8) {
			memcpy(&x, p + i, 8);
			if (((x | (x - ONES)) & HIGHS) == 0) {
				i += 8;
				continue;
			}
		}
		c = p[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

