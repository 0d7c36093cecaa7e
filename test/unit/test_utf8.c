/*
 * test_utf8.c - utf8_valid() against the definition, byte by byte
 *
 * utf8_valid() takes eight ASCII bytes at a time; a simple reference
 * written from RFC 3629's table (and the rule against NUL) must agree
 * with it on fixed cases and on many made-up strings, with the odd byte
 * at every position and length around the eight-byte steps.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

/* RFC 3629, section 4, one sequence at a time; NUL refused. */
static int
ref_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n, k;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		/* The second byte's range narrows for these leads. */
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i <= n)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static unsigned
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

static void
fixed_cases_should_be_judged_right(void)
{
	static const struct {
		const char *s;
		size_t len;
		int want;
		const char *what;
	} c[] = {
		{ "", 0, 1, "the empty string" },
		{ "uid=user00001,ou=people", 23, 1, "ASCII longer than 8" },
		{ "abcdefg\0ijklmnop", 16, 0, "a NUL at byte 8" },
		{ "abcdefghijklmno\0", 16, 0, "a NUL at the end of two steps" },
		{ "\0bcdefgh", 8, 0, "a NUL at byte 1" },
		{ "Ren\xc3\xa9 Dupont-Durand", 19, 1, "a two-byte letter" },
		{ "abcdefg\xc3", 8, 0, "a lead byte cut off at the end" },
		{ "abcdefgh\x80", 9, 0, "a stray continuation byte" },
		{ "\xc0\x80" "abcdefgh", 10, 0, "an overlong NUL" },
		{ "abcdefgh\xed\xa0\x80", 11, 0, "a surrogate" },
		{ "abcdefgh\xf4\x90\x80\x80", 12, 0, "beyond U+10FFFF" },
		{ "abcdefgh\xf0\x9f\x98\x80zz", 14, 1, "a four-byte emoji" },
		{ "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", 8, 1, "eight DELs" },
		{ "\x01\x01\x01\x01\x01\x01\x01\x01", 8, 1, "eight 0x01" },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		is_int(utf8_valid(c[i].s, c[i].len), c[i].want, "%s",
		    c[i].what);
}

/* One odd byte (NUL, 0x80, 0xff, a lead) at every position of ASCII
 * strings from 1 to 40 bytes. */
static void
one_odd_byte_anywhere_should_be_found(void)
{
	static const unsigned char odd[] = { 0x00, 0x80, 0xff, 0xc3, 0xe2,
	    0xf0, 0x7f, 0x01 };
	unsigned char s[40];
	size_t len, pos, k, bad = 0, n = 0;

	for (len = 1; len <= sizeof(s); len++)
		for (pos = 0; pos < len; pos++)
			for (k = 0; k < sizeof(odd); k++) {
				memset(s, 'a', len);
				s[pos] = odd[k];
				n++;
				if (utf8_valid((const char *)s, len) !=
				    ref_valid(s, len))
					bad++;
			}
	is_int((int)bad, 0, "%zu strings with one odd byte: all judged as "
	    "the reference does", n);
}

/* Random strings, mostly ASCII with some UTF-8 and some junk. */
static void
random_strings_should_agree_with_the_reference(void)
{
	static const char *const pieces[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xee\x80\x80",
	    "\xc3", "\x80", "\xed\xa0\x80", "\xf4\x8f\xbf\xbf", "\x00" };
	unsigned char s[64];
	size_t i, len, bad = 0, valid = 0;

	for (i = 0; i < 200000; i++) {
		len = 0;
		while (len < sizeof(s) - 4) {
			unsigned r = next() % 100;

			if (r < 90) {
				s[len++] = (unsigned char)(0x20 + next() % 95);
			} else {
				const char *p = pieces[next() % 10];
				size_t l = p[0] == '\0' ? 1 : strlen(p);

				memcpy(s + len, p, l);
				len += l;
			}
			if (next() % 16 == 0)
				break;
		}
		valid += ref_valid(s, len);
		if (utf8_valid((const char *)s, len) != ref_valid(s, len))
			bad++;
	}
	is_int((int)bad, 0, "200,000 random strings judged as the reference "
	    "does");
	ok(valid > 20000 && valid < 180000, "and they were a mix of valid "
	    "(%zu) and invalid", valid);
}

int
main(void)
{
	fixed_cases_should_be_judged_right();
	one_odd_byte_anywhere_should_be_found();
	random_strings_should_agree_with_the_reference();
	return tap_done();
}
