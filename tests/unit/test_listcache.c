/* test_listcache.c: the merged-listing cache (listcache.h): a dir listed
 * again is a copy of the cached listing (a change from outside the union
 * is not seen: that is how a test tells a hit), a change of the dir's
 * names made through the union, a moved or removed dir (moves word) and
 * a forget are seen at once, the layer set is part of the key, and a
 * listing larger than the cap is merged each time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/dirmerge.h"
#include "unionshim/lcache.h"
#include "unionshim/listcache.h"
#include "unionshim/lookup.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

/* How many names (beyond "." and "..") the cached merge of REL lists. */
static size_t names(const char *rel)
{
	struct us_dirlist l;
	size_t n = 0;

	ck_assert(us_resolve(&ut.cfg, ut_u(rel), 0, &r) == 0 && r.err == 0);
	ck_assert_int_eq(us_dir_merge_cached(M0, r.path, r.node.dirs, r.node.flags, &l), 0);
	for (size_t i = 0; i < l.n; i++) {
		const char *nm = us_dirlist_at(&l, i)->d_name;
		n += strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0;
	}
	us_dirlist_free(&l);
	return n;
}

static uint64_t hits(void)
{
	struct us_listcache_stats s;

	us_listcache_stats(&s);
	return s.hits;
}

START_TEST(a_second_listing_is_a_copy)
{
	ut_file(ut.low1, "d/a", "a");
	ut_file(ut.upper, "d/b", "b");
	ut_load();
	ck_assert_uint_eq(names("d"), 2);
	uint64_t h0 = hits();
	ck_assert_uint_eq(names("d"), 2);
	ck_assert_uint_eq(hits() - h0, 1);
	ut_file(ut.low1, "d/c", "outside"); /* unseen: the copy answers */
	ck_assert_uint_eq(names("d"), 2);
	us_lcache_name_changed(M0, ut_u("d/c")); /* what a create bumps */
	ck_assert_uint_eq(names("d"), 3);
}
END_TEST

START_TEST(moves_and_forget_are_seen)
{
	ut_file(ut.low1, "d/a", "a");
	ut_load();
	ck_assert_uint_eq(names("d"), 1);
	ut_file(ut.low1, "d/b", "outside");
	ck_assert_uint_eq(names("d"), 1);
	us_lcache_moved(M0); /* d removed and made again, say */
	ck_assert_uint_eq(names("d"), 2);
	ut_file(ut.low1, "d/c", "outside");
	ck_assert_uint_eq(names("d"), 2);
	us_lcache_forget();
	ck_assert_uint_eq(names("d"), 3);
}
END_TEST

START_TEST(the_layer_set_is_part_of_the_key)
{
	struct us_dirlist l;

	ut_file(ut.low1, "d/a", "a");
	ut_file(ut.upper, "d/b", "b");
	ut_load();
	ck_assert_uint_eq(names("d"), 2);
	ck_assert_int_eq(us_dir_merge_cached(M0, r.path, r.node.dirs & 1, 0, &l), 0);
	ck_assert_uint_eq(l.n, 3); /* ".", "..", b: the upper alone */
	us_dirlist_free(&l);
}
END_TEST

START_TEST(a_big_listing_is_merged_each_time)
{
	char rel[64];

	for (int i = 0; i < 2000; i++) {
		snprintf(rel, sizeof rel, "big/a-rather-long-name-%05d", i);
		ut_file(ut.low1, rel, "");
	}
	ut_load();
	ck_assert_uint_eq(names("big"), 2000);
	uint64_t h0 = hits();
	ck_assert_uint_eq(names("big"), 2000);
	ck_assert_uint_eq(hits(), h0);
	ut_file(ut.low1, "big/new", "outside");
	ck_assert_uint_eq(names("big"), 2001); /* read again */
}
END_TEST

Suite *listcache_suite(void)
{
	Suite *s = suite_create("listcache");
	TCase *tc = tcase_create("listcache");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, a_second_listing_is_a_copy);
	tcase_add_test(tc, moves_and_forget_are_seen);
	tcase_add_test(tc, the_layer_set_is_part_of_the_key);
	tcase_add_test(tc, a_big_listing_is_merged_each_time);
	suite_add_tcase(s, tc);
	return s;
}
