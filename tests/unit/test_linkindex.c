/* test_linkindex.c: the hard-link index (linkindex.h): which lower objects
 * need it, the entry a first copy-up makes and later copy-ups link, a copy
 * without data, the count of names gone (put in force only when the name
 * really went), the union link count, and which mount owns an entry. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/lookup.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

static void resolve(const char *rel)
{
	ck_assert(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) == 0);
	ck_assert(r.where == US_INSIDE && r.err == 0);
}

/* Three lower names of one file: a, b, c. */
static void three_names(void)
{
	ut_file(ut.low1, "a", "shared data");
	ck_assert_int_eq(link(ut_p(ut.low1, "a"), ut_p(ut.low1, "b")), 0);
	ck_assert_int_eq(link(ut_p(ut.low1, "a"), ut_p(ut.low1, "c")), 0);
	ut_load();
}

/* The union link count of upper name REL. */
static uint64_t union_nlink(const char *rel)
{
	struct stat st;
	struct us_origin o;

	ck_assert_int_eq(stat(ut_p(ut.upper, rel), &st), 0);
	ck_assert_int_eq(us_origin_read(ut_p(ut.upper, rel), -1, &o), 1);
	return us_index_nlink(M0, &o, &st);
}

START_TEST(only_lower_non_dirs_with_other_names_need_the_index)
{
	ut_file(ut.low1, "single", "one name");
	ut_mkdir(ut.low1, "d");
	ut_file(ut.upper, "up", "upper");
	ck_assert_int_eq(link(ut_p(ut.upper, "up"), ut_p(ut.upper, "up2")), 0);
	three_names();
	resolve("single");
	ck_assert(!us_index_wanted(M0, &r.node));
	resolve("d"); /* a dir has several links but is never indexed */
	ck_assert(!us_index_wanted(M0, &r.node));
	resolve("up"); /* upper hard links are the upper's own business */
	ck_assert(!us_index_wanted(M0, &r.node));
	resolve("a");
	ck_assert(us_index_wanted(M0, &r.node));

	/* a read-only union copies nothing up: no index either */
	ut_load_spec("target=%s,lowerdir=%s:%s", ut.target, ut.low1, ut.low2);
	resolve("a");
	ck_assert(!us_index_wanted(M0, &r.node));
}
END_TEST

START_TEST(first_copyup_makes_the_entry_later_ones_link_it)
{
	char entry[PATH_MAX];
	struct stat e, a, c;

	three_names();
	ut_lowers_snap();
	resolve("b");
	ck_assert_int_eq(us_index_find(M0, &r.node, entry, sizeof entry), 0);
	resolve("a");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	resolve("c"); /* only below: the lookup is answered by the entry */
	ck_assert_int_eq(us_index_find(M0, &r.node, entry, sizeof entry), 1);
	ck_assert_ptr_nonnull(strstr(entry, "/#index/"));
	ck_assert_ptr_eq(us_index_owner(&ut.cfg, entry), M0);
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_int_eq(stat(entry, &e), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "a"), &a), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "c"), &c), 0);
	ck_assert_uint_eq(e.st_ino, a.st_ino);
	ck_assert_uint_eq(e.st_ino, c.st_ino);
	ck_assert_uint_eq(e.st_nlink, 3); /* a, c and the entry */
	ck_assert_uint_eq(union_nlink("a"), 3); /* a, c upper; b still below */
	ut_lowers_same();
	ut_work_clean();
}
END_TEST

START_TEST(a_copy_without_data_is_empty_and_still_one_inode)
{
	struct stat a, b;

	three_names();
	resolve("a");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, false), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "a"), &a), 0);
	ck_assert_int_eq(a.st_size, 0); /* O_TRUNC open: metadata only */
	resolve("b");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "b"), &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino); /* the entry's, not new data */
	ck_assert_int_eq(b.st_size, 0);
}
END_TEST

START_TEST(names_gone_count_only_when_the_name_went)
{
	struct us_index_drop d;

	three_names();
	resolve("a");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_uint_eq(union_nlink("a"), 3);

	resolve("b"); /* a removal that fails: the count stays */
	ck_assert_int_eq(us_index_drop_begin(M0, r.path, &r.node, &d), 0);
	us_index_drop_end(&d, false);
	ck_assert_uint_eq(union_nlink("a"), 3);

	resolve("b"); /* a removal that happens: one name less */
	ck_assert_int_eq(us_index_drop_begin(M0, r.path, &r.node, &d), 0);
	us_index_drop_end(&d, true);
	ck_assert_uint_eq(union_nlink("a"), 2);
	ut_work_clean();
}
END_TEST

START_TEST(a_drop_before_any_copyup_makes_the_entry)
{
	struct us_index_drop d;
	char entry[PATH_MAX];

	three_names();
	ut_lowers_snap();
	resolve("b");
	ck_assert_int_eq(us_index_drop_begin(M0, r.path, &r.node, &d), 0);
	us_index_drop_end(&d, true);
	resolve("a"); /* its lookup now finds the entry: the count lives there */
	ck_assert_int_eq(us_index_find(M0, &r.node, entry, sizeof entry), 1);
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_uint_eq(union_nlink("a"), 2); /* a upper, c below, b gone */
	ut_lowers_same();
}
END_TEST

START_TEST(paths_outside_the_index_have_no_owner)
{
	ut_load();
	ck_assert_ptr_null(us_index_owner(&ut.cfg, ut_p(ut.upper, "x")));
	ck_assert_ptr_null(us_index_owner(&ut.cfg, ut_p(ut.work, "#indexx")));
	ck_assert_ptr_null(us_index_owner(&ut.cfg, "/"));
}
END_TEST

Suite *linkindex_suite(void)
{
	Suite *s = suite_create("linkindex");
	TCase *tc = tcase_create("linkindex");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, only_lower_non_dirs_with_other_names_need_the_index);
	tcase_add_test(tc, first_copyup_makes_the_entry_later_ones_link_it);
	tcase_add_test(tc, a_copy_without_data_is_empty_and_still_one_inode);
	tcase_add_test(tc, names_gone_count_only_when_the_name_went);
	tcase_add_test(tc, a_drop_before_any_copyup_makes_the_entry);
	tcase_add_test(tc, paths_outside_the_index_have_no_owner);
	suite_add_tcase(s, tc);
	return s;
}
