/*
 * test_buf.c - the growable buffer: appends at and around the edge of its
 * room, always NUL-terminated, against a plain array written alongside
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void
appends_at_the_edge_should_fit(void)
{
	struct buf b = BUF_INIT;
	char piece[200];
	size_t room;

	memset(piece, 'x', sizeof(piece));
	buf_add(&b, "a", 1);
	ok(b.cap > 1 && b.len == 1 && strcmp(b.s, "a") == 0, "a first byte "
	    "makes room");
	room = b.cap - b.len - 1;	/* what fits with its NUL */
	buf_add(&b, piece, room);
	ok(b.len == b.cap - 1 && b.s[b.len] == '\0' && b.s[b.len - 1] == 'x',
	    "exactly the room left fits, NUL in the last byte");
	buf_add(&b, "y", 1);
	ok(b.len < b.cap && b.s[b.len] == '\0' && b.s[b.len - 1] == 'y',
	    "one more byte grows it");
	buf_add(&b, piece, 0);
	ok(b.s[b.len] == '\0' && b.s[b.len - 1] == 'y', "an empty append "
	    "changes nothing");
	buf_free(&b);
}

static void
random_appends_should_match_an_array(void)
{
	struct buf b = BUF_INIT;
	static char want[1 << 20];
	char piece[300];
	size_t len = 0, i, n, bad = 0;
	uint64_t x = 0x853c49e6748fea9bULL;

	for (i = 0; i < sizeof(piece); i++)
		piece[i] = (char)('a' + i % 26);
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (size_t)(x % 300);
		if (len + n >= sizeof(want))
			break;
		buf_add(&b, piece + (x >> 40) % (300 - n + 1), n);
		memcpy(want + len, piece + (x >> 40) % (300 - n + 1), n);
		len += n;
		if (b.len != len || b.s == NULL || b.s[len] != '\0')
			bad++;
	}
	ok(!buf_failed(&b) && b.len == len && memcmp(b.s, want, len) == 0,
	    "%zu bytes appended in pieces of 0 to 299 read back", len);
	is_int((int)bad, 0, "length and NUL right after every append");
	buf_free(&b);
}

int
main(void)
{
	appends_at_the_edge_should_fit();
	random_appends_should_match_an_array();
	return tap_done();
}
