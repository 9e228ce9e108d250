/* test_shared.c: the work dir's shared state (shared.h): generation slots
 * bumped by a copy-up, and the word that lets readers skip origin records
 * while no copy-up wrote one, and the one that lets lookups skip redirect
 * records while the upper holds none; and the hard-link index (linkindex.h): two
 * lower names of one inode copied up become one upper inode. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/lookup.h"
#include "unionshim/redirect.h"
#include "unionshim/shared.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

static void resolve(const char *rel)
{
	ck_assert(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) == 0);
	ck_assert(r.where == US_INSIDE && r.err == 0);
}

START_TEST(origins_unknown_until_a_copyup_records_one)
{
	ut_file(ut.low1, "f", "lower");
	ut_load();
	ck_assert(!us_shared_origins_maybe(M0)); /* empty upper, new state */
	resolve("f");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert(us_shared_origins_maybe(M0));
}
END_TEST

START_TEST(redirects_none_found_by_the_scan_of_an_upper_made_elsewhere)
{
	ut_file(ut.upper, "x/y/z/f", "made before the work dir");
	ut_load();
	ck_assert(!us_redirects_maybe(M0)); /* scanned: none */
}
END_TEST

/* the scan recurses a frame per level: past its depth it says "unsure"
 * (a small thread stack is never outrun) */
START_TEST(redirects_assumed_in_an_upper_deeper_than_the_scan)
{
	char rel[256] = "x";
	for (int i = 0; i < 60; i++)
		strcat(rel, "/y");
	ut_file(ut.upper, rel, "deep");
	ut_load();
	ck_assert(us_redirects_maybe(M0));
}
END_TEST

START_TEST(redirects_found_by_the_scan_of_an_upper_made_elsewhere)
{
	ut_mkdir(ut.upper, "x/y/z/renamed");
	ut_file(ut.upper, "x/f", "a file");
	ck_assert_int_eq(ut_xattr(ut.upper, "x/y/z/renamed", US_REDIRECT_XATTR,
				  "/a"), 0);
	ut_load();
	ck_assert(us_redirects_maybe(M0)); /* the deep record found */
}
END_TEST

START_TEST(redirects_none_in_an_empty_upper_until_a_record_is_written)
{
	ut_mkdir(ut.low1, "a");
	ut_load();
	ck_assert(!us_redirects_maybe(M0));
	ut_mkdir(ut.upper, "a");
	ck_assert_int_eq(us_redirect_write(M0, ut_u("a"), "/b"), 0);
	ck_assert(us_redirects_maybe(M0));
}
END_TEST

START_TEST(copyup_bumps_the_objects_slot)
{
	ut_file(ut.low1, "f", "lower");
	ut_load();
	resolve("f");
	uint64_t ino = us_ino_of(M0, r.node.layer, r.node.ino);
	const uint32_t *slot = us_shared_slot(M0, ino);
	ck_assert_ptr_nonnull(slot);
	uint32_t before = *slot;
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_uint_ne(*slot, before);
}
END_TEST

START_TEST(hard_links_copied_up_are_one_inode)
{
	struct stat a, b, low;
	char entry[PATH_MAX];

	ut_file(ut.low1, "a", "shared");
	ck_assert_int_eq(link(ut_p(ut.low1, "a"), ut_p(ut.low1, "b")), 0);
	ut_load();
	resolve("b");
	ck_assert(us_index_wanted(M0, &r.node));
	ck_assert_int_eq(us_index_find(M0, &r.node, entry, sizeof entry), 0);
	resolve("a");
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	resolve("b"); /* still below, now answered by the index entry */
	ck_assert_int_eq(r.node.layer, 1);
	ck_assert_int_eq(us_index_find(M0, &r.node, entry, sizeof entry), 1);
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "a"), &a), 0);
	ck_assert_int_eq(stat(ut_p(ut.upper, "b"), &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(a.st_nlink, 3); /* a, b and the index entry */
	/* union count: 2 upper names + 2 lower names - 2 shadowed */
	struct us_origin o;
	ck_assert_int_eq(us_origin_read(ut_p(ut.upper, "a"), -1, &o), 1);
	ck_assert_uint_eq(o.nlink, 2);
	ck_assert_uint_eq(us_index_nlink(M0, &o, &a), 2);
	ck_assert_int_eq(stat(ut_p(ut.low1, "a"), &low), 0);
	ck_assert_uint_eq(low.st_nlink, 2); /* the lower is untouched */
}
END_TEST

Suite *shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = tcase_create("shared");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, origins_unknown_until_a_copyup_records_one);
	tcase_add_test(tc, redirects_none_found_by_the_scan_of_an_upper_made_elsewhere);
	tcase_add_test(tc, redirects_found_by_the_scan_of_an_upper_made_elsewhere);
	tcase_add_test(tc, redirects_assumed_in_an_upper_deeper_than_the_scan);
	tcase_add_test(tc, redirects_none_in_an_empty_upper_until_a_record_is_written);
	tcase_add_test(tc, copyup_bumps_the_objects_slot);
	tcase_add_test(tc, hard_links_copied_up_are_one_inode);
	suite_add_tcase(s, tc);
	return s;
}
