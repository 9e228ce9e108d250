/* test_dirmerge.c: the merged listing of a union dir (dirmerge.h): upper
 * first, each name once, whiteouts of both forms and ".wh." names dropped,
 * "." and ".." once. Trees are built in the fixture's scratch dir. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "unionshim/dirmerge.h"
#include "unionshim/lookup.h"
#include "unit.h"

static struct us_dirlist list;

static void dm_teardown(void)
{
	us_dirlist_free(&list);
}

/* Merge union dir REL (found through lookup, so opaque dirs count). */
static void merge(const char *rel)
{
	static struct us_resolved r;

	us_dirlist_free(&list);
	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), 0, &r) == 0 && r.err == 0,
		      "resolve %s", rel);
	ck_assert(S_ISDIR(r.node.mode));
	ck_assert_msg(us_dir_merge(r.m, r.path, r.node.dirs, &list) == 0,
		      "merge %s: %s", rel, strerror(errno));
}

/* Position of NAME in the list, -1 when absent; fails on a duplicate. */
static int pos(const char *name)
{
	int at = -1;

	for (size_t i = 0; i < list.n; i++) {
		if (strcmp(us_dirlist_at(&list, i)->d_name, name) != 0)
			continue;
		ck_assert_msg(at < 0, "'%s' listed twice", name);
		at = (int)i;
	}
	return at;
}

static void listed(const char *name)
{
	ck_assert_msg(pos(name) >= 0, "'%s' not listed", name);
}

static void hidden(const char *name)
{
	ck_assert_msg(pos(name) < 0, "'%s' listed", name);
}

START_TEST(merge_upper_first_no_duplicates)
{
	ut_file(ut.upper, "d/a", "");
	ut_file(ut.upper, "d/b", "");
	ut_file(ut.low1, "d/b", "");
	ut_file(ut.low1, "d/c", "");
	ut_mkdir(ut.low1, "d/e");
	ut_file(ut.low2, "d/c", "");
	ut_file(ut.low2, "d/a", "");
	ut_file(ut.low2, "d/e", "");
	ut_mkdir(ut.low2, "d/g");
	ut_load();
	merge("d");
	ck_assert_uint_eq(list.n, 7); /* . .. a b c e g */
	listed(".");
	listed("..");
	/* overlayfs's order: the lowest layer's names first (low2: . .. a
	 * c e g, in its own order), then the upper's and middle layers'
	 * others (b) */
	ck_assert_int_lt(pos("a"), pos("b"));
	ck_assert_int_lt(pos("c"), pos("b"));
	ck_assert_int_lt(pos("e"), pos("b"));
	ck_assert_int_lt(pos("g"), pos("b"));
	ck_assert_int_lt(pos("."), pos("b"));
	ck_assert_int_lt(pos(".."), pos("b"));
	/* the entry comes from the layer that wins */
	ck_assert_int_eq(us_dirlist_at(&list, (size_t)pos("e"))->d_type, DT_DIR);
	ck_assert_int_eq(us_dirlist_at(&list, (size_t)pos("g"))->d_type, DT_DIR);
	ck_assert_int_eq(us_dirlist_at(&list, (size_t)pos("a"))->d_type, DT_REG);
}
END_TEST

START_TEST(merge_record_layout)
{
	ut_file(ut.upper, "d/a", "");
	ut_file(ut.low1, "d/bb", "");
	ut_load();
	merge("d");
	for (size_t i = 0; i < list.n; i++) {
		struct dirent64 *d = us_dirlist_at(&list, i);
		ck_assert_int_eq(d->d_off, (int64_t)i + 1);
		ck_assert_uint_eq(d->d_reclen % 8, 0);
		ck_assert_uint_ge(d->d_reclen, offsetof(struct dirent64, d_name) +
						       strlen(d->d_name) + 1);
		if (i + 1 < list.n)
			ck_assert_uint_eq(list.offs[i + 1],
					  list.offs[i] + d->d_reclen);
	}
}
END_TEST

START_TEST(merge_oci_whiteouts)
{
	ut_file(ut.upper, "d/.wh.x", "");
	ut_file(ut.low1, "d/x", "");
	ut_file(ut.low1, "d/.wh.y", "");
	ut_file(ut.low1, "d/y1", "");
	ut_file(ut.low2, "d/y", "");
	ut_file(ut.low2, "d/x", "");
	ut_file(ut.low2, "d/z", "");
	/* a layer's whiteout hides only the layers below it */
	ut_file(ut.low1, "d/w", "");
	ut_file(ut.low1, "d/.wh.w", "");
	ut_file(ut.low2, "d/.wh.up", "");
	ut_file(ut.upper, "d/up", "");
	ut_load();
	merge("d");
	hidden("x");
	hidden("y");
	listed("y1");
	listed("z");
	listed("w");
	listed("up");
	hidden(".wh.x");
	hidden(".wh.y");
	hidden(".wh.w");
	hidden(".wh.up");
	ck_assert_uint_eq(list.n, 6);
}
END_TEST

START_TEST(merge_chr_whiteouts)
{
	int e = ut_chr_whiteout(ut.upper, "d/x");
	if (e == EPERM)
		ut_skip("mknod of a 0/0 char device: %s", strerror(e));
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(ut_chr_whiteout(ut.low1, "d/y"), 0);
	ut_file(ut.low1, "d/x", "");
	ut_file(ut.low2, "d/x", "");
	ut_file(ut.low2, "d/y", "");
	ut_file(ut.low2, "d/z", "");
	ck_assert_int_eq(mknod(ut_p(ut.low1, "d/null"), S_IFCHR | 0666,
			       makedev(1, 3)),
			 0);
	ut_load();
	merge("d");
	hidden("x");
	hidden("y");
	listed("z");
	listed("null"); /* a real device is no whiteout */
	ck_assert_uint_eq(list.n, 4);
}
END_TEST

START_TEST(merge_drops_reserved_names)
{
	ut_file(ut.low1, "d/.wh..wh..opq", "");
	ut_file(ut.low1, "d/a", "");
	ut_file(ut.upper, "d/.wh..wh.x", "");
	ut_mkdir(ut.low2, "d/.wh.");
	ut_file(ut.low2, "d/b", "");
	ut_load();
	merge("d");
	for (size_t i = 0; i < list.n; i++)
		ck_assert_msg(strncmp(us_dirlist_at(&list, i)->d_name, ".wh.",
				      4) != 0,
			      "listed %s", us_dirlist_at(&list, i)->d_name);
	listed("a");
	hidden("b"); /* low1's d is opaque */
	ck_assert_uint_eq(list.n, 3);
}
END_TEST

START_TEST(merge_opaque_dir)
{
	ut_file(ut.upper, "o/.wh..wh..opq", "");
	ut_file(ut.upper, "o/a", "");
	ut_file(ut.low1, "o/b", "");
	ut_file(ut.low2, "o/c", "");
	ut_load();
	merge("o");
	listed("a");
	hidden("b");
	hidden("c");
	ck_assert_uint_eq(list.n, 3);
}
END_TEST

START_TEST(merge_root_and_dots_once)
{
	ut_file(ut.upper, "u", "");
	ut_file(ut.low1, "l1", "");
	ut_file(ut.low2, "l2", "");
	ut_load();
	merge("");
	ck_assert_uint_eq(list.n, 5);
	listed(".");
	listed("..");
	listed("u");
	listed("l1");
	listed("l2");
	/* the lowest layer's names first, then the upper's, then low1's */
	ck_assert_int_lt(pos("l2"), pos("u"));
	ck_assert_int_lt(pos("u"), pos("l1"));
	/* "." is the top layer's */
	struct stat st;
	ck_assert_int_eq(stat(ut.upper, &st), 0);
	ck_assert_uint_eq(us_dirlist_at(&list, (size_t)pos("."))->d_ino,
			  st.st_ino);
}
END_TEST

START_TEST(merge_many_entries)
{
	char name[32];

	/* upper f0..f1999, low1 f1000..f2999: 3000 names, read in several
	 * getdents64 calls and past the name set's first sizes */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "d/f%d", i);
		ut_file(ut.upper, name, "");
	}
	for (int i = 1000; i < 3000; i++) {
		snprintf(name, sizeof name, "d/f%d", i);
		ut_file(ut.low1, name, "");
	}
	ut_load();
	merge("d");
	ck_assert_uint_eq(list.n, 3002);
	for (int i = 0; i < 3000; i += 7) {
		snprintf(name, sizeof name, "f%d", i);
		listed(name);
	}
	/* low1 (the lowest with d) lists f1000..f2999 first, in its own
	 * order; then the upper's own f0..f999 */
	int last_low = -1, first_up = 1 << 30;
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "f%d", i);
		int p = pos(name);
		if (i >= 1000 && p > last_low)
			last_low = p;
		if (i < 1000 && p < first_up)
			first_up = p;
	}
	ck_assert_int_lt(last_low, first_up);
}
END_TEST

START_TEST(merge_missing_dir_fails)
{
	ut_load();
	errno = 0;
	ck_assert_int_eq(us_dir_merge(&ut.cfg.mounts[0], ut_u("nope"), 1, &list),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(list.n, 0);
}
END_TEST

Suite *dirmerge_suite(void)
{
	Suite *s = suite_create("dirmerge");
	TCase *tc = tcase_create("dirmerge");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_checked_fixture(tc, NULL, dm_teardown);
	tcase_add_test(tc, merge_upper_first_no_duplicates);
	tcase_add_test(tc, merge_record_layout);
	tcase_add_test(tc, merge_oci_whiteouts);
	tcase_add_test(tc, merge_chr_whiteouts);
	tcase_add_test(tc, merge_drops_reserved_names);
	tcase_add_test(tc, merge_opaque_dir);
	tcase_add_test(tc, merge_root_and_dots_once);
	tcase_add_test(tc, merge_many_entries);
	tcase_add_test(tc, merge_missing_dir_fails);
	suite_add_tcase(s, tc);
	return s;
}
