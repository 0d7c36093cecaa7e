/*
 * test_glob.c - shell patterns: the cases admins write, the corners, and
 * agreement with the C library's fnmatch() on many generated pairs (the
 * oracle: glob.c exists so that Windows matches the same names)
 */
#include <fnmatch.h>
#include <stdint.h>

#include "glob.h"
#include "tap.h"

static void
cases(void)
{
	ok(glob_match("app-*", "app-jira"), "a prefix pattern matches");
	ok(!glob_match("app-*", "xapp-jira"), "a prefix pattern is anchored");
	ok(glob_match("*-admins", "jira-admins"), "a suffix pattern matches");
	ok(glob_match("*", ""), "a star matches the empty name");
	ok(glob_match("", ""), "an empty pattern matches only the empty name");
	ok(!glob_match("", "a"), "an empty pattern does not match a name");
	ok(glob_match("a*b*c", "axxbyyc"), "two stars match");
	ok(glob_match("a*b*c", "abcbc"), "stars backtrack");
	ok(!glob_match("a*b*c", "abcbd"), "stars fail when the end differs");
	ok(glob_match("team-?", "team-a"), "a question mark is one byte");
	ok(!glob_match("team-?", "team-"), "a question mark needs a byte");
	ok(glob_match("ou/*", "ou/sub/x"), "a star crosses a slash");
	ok(glob_match("*x", ".x"), "a star matches a leading dot");
	ok(glob_match("[abc]1", "b1"), "a set matches");
	ok(!glob_match("[abc]1", "d1"), "a set rejects");
	ok(glob_match("[!abc]1", "d1"), "a negated set matches");
	ok(glob_match("[^abc]1", "d1"), "a caret also negates");
	ok(glob_match("[a-c]", "b"), "a range matches");
	ok(!glob_match("[a-c]", "d"), "a range rejects");
	ok(glob_match("[]]", "]"), "a bracket first in a set is literal");
	ok(glob_match("[a-]", "-"), "a dash last in a set is literal");
	ok(glob_match("[[:digit:]]x", "7x"), "a class matches");
	ok(!glob_match("[[:digit:]]x", "ax"), "a class rejects");
	ok(glob_match("\\*", "*"), "a backslash makes a star literal");
	ok(!glob_match("\\*", "a"), "an escaped star is not a wildcard");
	ok(glob_match("[ab", "[ab"), "an unclosed bracket is literal");
	ok(glob_match("a\\", "a\\"), "a final backslash is literal");
	ok(glob_match("*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
	    "many stars still match");
	ok(!glob_match("*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "many stars fail without blowing up");
	ok(glob_match("caf\xc3\xa9-*", "caf\xc3\xa9-team"),
	    "UTF-8 bytes match as bytes");
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Random patterns and names over a small alphabet, so that they meet. */
static void
oracle(void)
{
	static const char *const atoms[] = {
		"a", "b", "-", "*", "?", "[ab]", "[!a]", "[a-b]", "\\*", "\\a",
		"[[:alpha:]]", "[]a]", "[", "*a", ".",
	};
	static const char name_bytes[] = "ab-*.[]";
	char pat[64], name[16];
	int i, bad = 0, matched = 0;

	for (i = 0; i < 200000; i++) {
		unsigned k, n = next(6), len = next(10);
		int want, got;

		pat[0] = '\0';
		for (k = 0; k < n; k++)
			strcat(pat, atoms[next(sizeof(atoms) / sizeof(atoms[0]))]);
		for (k = 0; k < len; k++)
			name[k] = name_bytes[next(sizeof(name_bytes) - 1)];
		name[len] = '\0';
		want = fnmatch(pat, name, 0) == 0;
		got = glob_match(pat, name);
		matched += want;
		if (want != got && bad++ < 5)
			printf("# '%s' against '%s': fnmatch says %d\n", pat,
			    name, want);
	}
	is_int(bad, 0, "glob_match agrees with fnmatch on 200000 pairs");
	ok(matched > 5000, "the generated pairs include matches (%d)", matched);
}

int
main(void)
{
	cases();
	oracle();
	return tap_done();
}
