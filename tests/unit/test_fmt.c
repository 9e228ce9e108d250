/* test_fmt.c: the library's own snprintf (fmt.h) writes what glibc's
 * writes for every format the library uses, cuts as snprintf does and
 * returns the whole length. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "unionshim/fmt.h"
#include "unit.h"

/* the cuts are the point here */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* FMT with the same arguments through glibc and ours: the same text and
 * length, in a roomy buffer and in one that cuts. */
#define SAME(fmt, ...)                                                        \
	do {                                                                  \
		char a[256], b[256], c[5], d[5];                              \
		int na = snprintf(a, sizeof a, fmt, __VA_ARGS__);             \
		int nb = us_snprintf(b, sizeof b, fmt, __VA_ARGS__);          \
		ck_assert_str_eq(b, a);                                       \
		ck_assert_int_eq(nb, na);                                     \
		snprintf(c, sizeof c, fmt, __VA_ARGS__);                      \
		us_snprintf(d, sizeof d, fmt, __VA_ARGS__);                   \
		ck_assert_str_eq(d, c);                                       \
	} while (0)

START_TEST(formats_the_library_uses)
{
	SAME("%s/#state", "/tmp/work");
	SAME("%s/#us.%d.%c%lu", "/w", 12345, 'r', 678UL);
	SAME("%d %d %i", -1, 0, 2147483647);
	SAME("%u %02u %03o", 7u, 3u, 0755u);
	SAME("%016llx %lx %jx", 0xabcULL, 0xdeadbeefUL, (uintmax_t)42);
	SAME("%lld %ld", -9223372036854775807LL, -5L);
	SAME("%.*s|%-6s|%6s", 3, "abcdef", "l", "r");
	SAME("%" PRIu64 ":%" PRIx64, (uint64_t)18446744073709551615ULL, (uint64_t)255);
	SAME("%02x%%", 0xfu);
	SAME("%zu %p %p", (size_t)99, (void *)0x1000, (void *)0);
}
END_TEST

START_TEST(no_room_at_all)
{
	char one[1] = {'x'};

	ck_assert_int_eq(us_snprintf(one, 1, "%s", "abc"), 3);
	ck_assert_int_eq(one[0], '\0');
	ck_assert_int_eq(us_snprintf(NULL, 0, "%d", 12345), 5);
}
END_TEST

Suite *fmt_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("fmt");

	tcase_add_test(tc, formats_the_library_uses);
	tcase_add_test(tc, no_room_at_all);
	suite_add_tcase(s, tc);
	return s;
}
