/* test_fdmaptext.c: the UNIONSHIM_FDMAP text (fdmaptext.h): what the
 * writer puts the reader reads back; a malformed or out-of-range entry ends
 * the list instead of naming another fd; a full buffer stays a string. */
#include <limits.h>
#include <string.h>

#include "unionshim/fdmaptext.h"
#include "unit.h"

static const struct us_fdmap_rec samples[] = {
	{3, 3, 7, 12}, {4, 3, -1, 0}, {5, -1, -1, 0},
	{INT_MAX, INT_MIN, 0, UINT_MAX},
};
#define NSAMPLES (int)(sizeof samples / sizeof samples[0])

static void same(const struct us_fdmap_rec *a, const struct us_fdmap_rec *b)
{
	ck_assert_int_eq(a->fd, b->fd);
	ck_assert_int_eq(a->group, b->group);
	ck_assert_int_eq(a->proxy, b->proxy);
	ck_assert_uint_eq(a->gen, b->gen);
}

START_TEST(write_then_read)
{
	char buf[256];
	size_t used = 0;
	struct us_fdmap_rec r;

	buf[0] = '\0';
	for (int i = 0; i < NSAMPLES; i++)
		ck_assert(us_fdmaptext_put(buf, sizeof buf, &used, &samples[i]));
	ck_assert_str_eq(buf, "3:3:7:12;4:3:-1:0;5:-1:-1:0;"
			      "2147483647:-2147483648:0:4294967295;");
	ck_assert_uint_eq(used, strlen(buf));
	const char *s = buf;
	for (int i = 0; i < NSAMPLES; i++) {
		ck_assert_int_eq(us_fdmaptext_next(&s, &r), 1);
		same(&r, &samples[i]);
	}
	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 0);
	ck_assert_ptr_eq(s, buf + used);
}
END_TEST

START_TEST(full_buffer_keeps_what_fits)
{
	char buf[16];
	size_t used = 0;

	buf[0] = '\0';
	ck_assert(us_fdmaptext_put(buf, sizeof buf, &used, &samples[0]));
	ck_assert(!us_fdmaptext_put(buf, sizeof buf, &used, &samples[1]));
	ck_assert_str_eq(buf, "3:3:7:12;");
	ck_assert_uint_eq(used, 9);
	/* exactly full: "3:3:7:12;" and "4:3:-1:0;" need 18 + NUL */
	char b19[19];
	used = 0;
	ck_assert(us_fdmaptext_put(b19, sizeof b19, &used, &samples[0]));
	ck_assert(us_fdmaptext_put(b19, sizeof b19, &used, &samples[1]));
	ck_assert_str_eq(b19, "3:3:7:12;4:3:-1:0;");
}
END_TEST

START_TEST(last_entry_without_separator)
{
	const char *s = "1:2:3:4";
	struct us_fdmap_rec r;

	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 1);
	same(&r, &(struct us_fdmap_rec){1, 2, 3, 4});
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 0);
}
END_TEST

/* Reads TEXT: the number of entries before the reader stops. */
static int count(const char *text)
{
	struct us_fdmap_rec r;
	int n = 0;

	while (us_fdmaptext_next(&text, &r) == 1)
		n++;
	return n;
}

START_TEST(malformed_entry_ends_the_list)
{
	ck_assert_int_eq(count(""), 0);
	ck_assert_int_eq(count(";1:2:3:4;"), 0);
	ck_assert_int_eq(count("1:2:3:4;x;5:6:7:8;"), 1);
	ck_assert_int_eq(count("1:2:3;5:6:7:8;"), 0);
	ck_assert_int_eq(count("1:2:3:4:5;"), 0);
	ck_assert_int_eq(count("1:2:3:-4;"), 0); /* gen has no sign */
	ck_assert_int_eq(count("1:2::4;"), 0);
	ck_assert_int_eq(count("1:2:3:4;5:6:7:8"), 2);
}
END_TEST

/* sscanf("%d:%d:%d:%u"), the reader before, took these as other numbers
 * (4294967297 as fd 1): they name no fd and end the list. */
START_TEST(out_of_range_ends_the_list)
{
	ck_assert_int_eq(count("4294967297:1:-1:0;"), 0);
	ck_assert_int_eq(count("2147483648:1:-1:0;"), 0);
	ck_assert_int_eq(count("1:-2147483649:-1:0;"), 0);
	ck_assert_int_eq(count("1:1:99999999999999999999:0;"), 0);
	ck_assert_int_eq(count("1:1:-1:4294967296;"), 0);
	ck_assert_int_eq(count("2147483647:-2147483648:-1:4294967295;"), 1);
}
END_TEST

/* An fd opened by a layer's own path from outside the union crosses an
 * exec as group US_FDMAP_OUTSIDE, and is read back as that, not as a
 * union fd of some group. */
START_TEST(outside_kind_round_trip)
{
	char buf[64];
	size_t used = 0;
	struct us_fdmap_rec r;
	const struct us_fdmap_rec in[] = {{9, US_FDMAP_OUTSIDE, -1, 0},
					  {10, 10, -1, 0}};

	buf[0] = '\0';
	ck_assert(us_fdmaptext_put(buf, sizeof buf, &used, &in[0]));
	ck_assert(us_fdmaptext_put(buf, sizeof buf, &used, &in[1]));
	ck_assert_str_eq(buf, "9:-1:-1:0;10:10:-1:0;");
	const char *s = buf;
	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 1);
	same(&r, &in[0]);
	ck_assert_int_eq(r.group, US_FDMAP_OUTSIDE);
	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 1);
	same(&r, &in[1]);
	ck_assert_int_ne(r.group, US_FDMAP_OUTSIDE);
	ck_assert_int_eq(us_fdmaptext_next(&s, &r), 0);
}
END_TEST

Suite *fdmaptext_suite(void)
{
	Suite *s = suite_create("fdmaptext");
	TCase *tc = tcase_create("fdmaptext");

	tcase_add_test(tc, write_then_read);
	tcase_add_test(tc, full_buffer_keeps_what_fits);
	tcase_add_test(tc, last_entry_without_separator);
	tcase_add_test(tc, malformed_entry_ends_the_list);
	tcase_add_test(tc, out_of_range_ends_the_list);
	tcase_add_test(tc, outside_kind_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
