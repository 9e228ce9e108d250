/* test_path.c: the lexical path helpers of path.h: join, normalize, pop,
 * under. Nothing here touches the filesystem. */
#include <errno.h>
#include <string.h>

#include "unionshim/path.h"
#include "unit.h"

START_TEST(join_adds_one_slash)
{
	char out[64];

	ck_assert_int_eq(us_path_join(out, sizeof out, "/a", "b"), 0);
	ck_assert_str_eq(out, "/a/b");
	ck_assert_int_eq(us_path_join(out, sizeof out, "/a/", "b"), 0);
	ck_assert_str_eq(out, "/a/b");
	ck_assert_int_eq(us_path_join(out, sizeof out, "/", "b/c"), 0);
	ck_assert_str_eq(out, "/b/c");
}
END_TEST

START_TEST(join_in_place)
{
	char buf[64] = "/x/y";

	ck_assert_int_eq(us_path_join(buf, sizeof buf, buf, "z"), 0);
	ck_assert_str_eq(buf, "/x/y/z");
}
END_TEST

START_TEST(join_enametoolong)
{
	char out[8];

	/* "/ab/cd" + NUL is 7 bytes: fits in 7, not in 6 */
	ck_assert_int_eq(us_path_join(out, 7, "/ab", "cd"), 0);
	ck_assert_str_eq(out, "/ab/cd");
	errno = 0;
	ck_assert_int_eq(us_path_join(out, 6, "/ab", "cd"), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	errno = 0;
	ck_assert_int_eq(us_path_join(out, sizeof out, "/abcdefgh", "x"), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

/* normalize IN and compare with WANT and the dotdot flag */
static void norm(const char *in, const char *want, bool want_dd)
{
	char out[PATH_MAX];
	bool dd = !want_dd;

	ck_assert_msg(us_path_normalize(in, out, sizeof out, &dd) == 0,
		      "normalize %s failed", in);
	ck_assert_msg(strcmp(out, want) == 0, "normalize %s: got %s, want %s",
		      in, out, want);
	ck_assert_msg(dd == want_dd, "normalize %s: dotdot %d", in, dd);
}

START_TEST(normalize_slashes_and_dots)
{
	norm("/a/b", "/a/b", false);
	norm("//a///b", "/a/b", false);
	norm("/a/./b/.", "/a/b", false);
	norm("/./a", "/a", false);
	norm("/a/b/", "/a/b", false);
	norm("/a/b//", "/a/b", false);
	norm("/a/..b/c...", "/a/..b/c...", false);
}
END_TEST

START_TEST(normalize_root)
{
	norm("/", "/", false);
	norm("///", "/", false);
	norm("/.", "/", false);
	norm("/./", "/", false);
}
END_TEST

START_TEST(normalize_dotdot)
{
	norm("/a/b/../c", "/a/c", true);
	norm("/a/..", "/", true);
	norm("/..", "/", true);
	norm("/../a", "/a", true);
	norm("/a/b/../../..", "/", true);
	norm("/a/b/c/../../d/", "/a/d", true);
}
END_TEST

START_TEST(normalize_enametoolong)
{
	char out[8];
	bool dd;

	ck_assert_int_eq(us_path_normalize("/abc/", out, 5, &dd), 0);
	ck_assert_str_eq(out, "/abc");
	errno = 0;
	ck_assert_int_eq(us_path_normalize("/abcd", out, 5, &dd), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	errno = 0;
	ck_assert_int_eq(us_path_normalize("/", out, 1, &dd), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

/* Found by tests/fuzz/fuzz_path.c: with no room at all, normalize wrote
 * its empty answer into the byte past the buffer. */
START_TEST(normalize_no_room_writes_nothing)
{
	char guard[2] = {'x', 'x'};
	bool dd;

	errno = 0;
	ck_assert_int_eq(us_path_normalize("/a", guard, 0, &dd), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(us_path_normalize("", guard, 0, &dd), -1);
	ck_assert_int_eq(guard[0], 'x');
}
END_TEST

START_TEST(pop_removes_last)
{
	char p[32] = "/a/bc";
	size_t len = strlen(p);

	us_path_pop(p, &len);
	ck_assert_str_eq(p, "/a");
	ck_assert_uint_eq(len, 2);
	us_path_pop(p, &len);
	ck_assert_str_eq(p, ""); /* "" stands for "/" */
	ck_assert_uint_eq(len, 0);
	us_path_pop(p, &len);
	ck_assert_str_eq(p, "");
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(under_is_by_component)
{
	ck_assert(us_path_under("/a/b", "/a", 2));
	ck_assert(us_path_under("/a", "/a", 2));
	ck_assert(us_path_under("/a/", "/a", 2));
	ck_assert(!us_path_under("/ab", "/a", 2));
	ck_assert(!us_path_under("/b/a", "/a", 2));
	ck_assert(!us_path_under("/", "/a", 2));
	ck_assert(!us_path_under(ut_p("/a", ""), "/a/b", 4)); /* shorter */
	ck_assert(us_path_under("/x", "", 0)); /* "" is the root */
}
END_TEST

Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("path");

	tcase_add_test(tc, join_adds_one_slash);
	tcase_add_test(tc, join_in_place);
	tcase_add_test(tc, join_enametoolong);
	tcase_add_test(tc, normalize_slashes_and_dots);
	tcase_add_test(tc, normalize_root);
	tcase_add_test(tc, normalize_dotdot);
	tcase_add_test(tc, normalize_enametoolong);
	tcase_add_test(tc, normalize_no_room_writes_nothing);
	tcase_add_test(tc, pop_removes_last);
	tcase_add_test(tc, under_is_by_component);
	suite_add_tcase(s, tc);
	return s;
}
