/* test_whiteout.c: the upper layer's bookkeeping (copyup.h, whiteout.c):
 * writing, testing and clearing whiteouts, whether a name exists below the
 * upper layer (whiteouts and opaque dirs in lower layers honoured), new
 * dirs that must be opaque because a whiteout stood for them, and emptying
 * an upper dir of its hidden entries. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/lookup.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

/* Resolve union path REL (not following a final symlink). */
static void resolve(const char *rel)
{
	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) == 0,
		      "resolve %s: %s", rel, strerror(errno));
	ck_assert(r.where == US_INSIDE);
}

static int exists(const char *base, const char *rel)
{
	struct stat st;

	return lstat(ut_p(base, rel), &st) == 0;
}

START_TEST(whiteout_create_present_clear)
{
	ut_mkdir(ut.upper, "d");
	ut_file(ut.low1, "d/x", "lower");
	ut_load();
	ck_assert(!us_whiteout_present(M0, ut_u("d/x")));
	resolve("d/x");
	ck_assert_int_eq(r.err, 0);

	ck_assert_int_eq(us_whiteout_create(M0, ut_u("d/x")), 0);
	ck_assert(exists(ut.upper, "d/.wh.x")); /* OCI form */
	ck_assert(us_whiteout_present(M0, ut_u("d/x")));
	ck_assert(!us_whiteout_present(M0, ut_u("d/y")));
	resolve("d/x");
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_str_eq(ut_union_names("d"), "");
	/* a second create of the same whiteout is fine */
	ck_assert_int_eq(us_whiteout_create(M0, ut_u("d/x")), 0);

	errno = EBADF;
	us_whiteout_clear(M0, ut_u("d/x"));
	ck_assert_int_eq(errno, EBADF); /* errno kept */
	ck_assert(!exists(ut.upper, "d/.wh.x"));
	ck_assert(!us_whiteout_present(M0, ut_u("d/x")));
	resolve("d/x");
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.node.layer, 1);
	/* clearing what is not there: a no-op, errno kept */
	errno = EBADF;
	us_whiteout_clear(M0, ut_u("d/x"));
	ck_assert_int_eq(errno, EBADF);
	ck_assert(exists(ut.low1, "d/x"));
}
END_TEST

START_TEST(whiteout_create_needs_parent)
{
	ut_file(ut.low1, "d/x", "");
	ut_load();
	errno = 0;
	ck_assert_int_eq(us_whiteout_create(M0, ut_u("d/x")), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(!exists(ut.low1, "d/.wh.x"));
}
END_TEST

START_TEST(exists_below_plain)
{
	ut_file(ut.upper, "d/u", "");   /* upper only */
	ut_file(ut.upper, "d/.wh.a", ""); /* upper's whiteout: not "below" */
	ut_file(ut.low1, "d/a", "");
	ut_file(ut.low2, "d/b", "");
	ut_mkdir(ut.low2, "d/sub");
	ut_file(ut.upper, "d/both", "");
	ut_file(ut.low2, "d/both", "");
	ut_load();
	resolve("d");
	ck_assert_uint_eq(r.node.dirs, 7);
	struct us_node dir = r.node;
	const char *d = ut_u("d");
	ck_assert(!us_exists_below(M0, d, &dir, "u"));
	ck_assert(us_exists_below(M0, d, &dir, "a"));
	ck_assert(us_exists_below(M0, d, &dir, "b"));
	ck_assert(us_exists_below(M0, d, &dir, "sub"));
	ck_assert(us_exists_below(M0, d, &dir, "both"));
	ck_assert(!us_exists_below(M0, d, &dir, "nothing"));
	ck_assert(!us_exists_below(M0, d, &dir, ".wh.a"));
}
END_TEST

START_TEST(exists_below_lower_whiteouts)
{
	ut_mkdir(ut.upper, "d");
	ut_file(ut.low1, "d/.wh.c", ""); /* low1 hides low2's c */
	ut_file(ut.low2, "d/c", "");
	ck_assert_int_eq(ut_chr_whiteout(ut.low1, "d/e"), 0); /* and e */
	ut_file(ut.low2, "d/e", "");
	ut_file(ut.low2, "d/.wh.f", ""); /* low2 hides nothing below it */
	ut_file(ut.low1, "d/f", "");
	ut_load();
	resolve("d");
	struct us_node dir = r.node;
	const char *d = ut_u("d");
	ck_assert(!us_exists_below(M0, d, &dir, "c"));
	ck_assert(!us_exists_below(M0, d, &dir, "e"));
	ck_assert(us_exists_below(M0, d, &dir, "f"));
}
END_TEST

START_TEST(exists_below_opaque)
{
	ut_mkdir(ut.upper, "o");
	ut_file(ut.low1, "o/.wh..wh..opq", "");
	ut_file(ut.low1, "o/y", "");
	ut_file(ut.low2, "o/z", "");
	ut_file(ut.upper, "p/.wh..wh..opq", ""); /* opaque upper dir */
	ut_file(ut.low1, "p/q", "");
	ut_mkdir(ut.low1, "x");
	ut_file(ut.low1, "x/.wh..wh..opq", "");
	ut_file(ut.low2, "x/w", "");
	ut_load();
	resolve("o");
	struct us_node o = r.node;
	ck_assert(us_exists_below(M0, ut_u("o"), &o, "y"));
	ck_assert(!us_exists_below(M0, ut_u("o"), &o, "z"));
	resolve("p");
	ck_assert_uint_eq(r.node.dirs, 1);
	struct us_node p = r.node;
	ck_assert(!us_exists_below(M0, ut_u("p"), &p, "q"));
	resolve("x"); /* only below, and opaque there */
	struct us_node x = r.node;
	ck_assert(!us_exists_below(M0, ut_u("x"), &x, "w"));
}
END_TEST

START_TEST(mkdir_upper_over_whiteout_is_opaque)
{
	ut_file(ut.upper, "d/.wh.x", "");
	ut_file(ut.low1, "d/x/f", "");
	ut_file(ut.low2, "d/x/g", "");
	ut_load();
	resolve("d/x");
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u("d/x"), 0750), 0);
	struct stat st;
	ck_assert_int_eq(lstat(ut_p(ut.upper, "d/x"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert(exists(ut.upper, "d/x/.wh..wh..opq"));
	ck_assert(!exists(ut.upper, "d/.wh.x"));
	ck_assert(!us_whiteout_present(M0, ut_u("d/x")));
	resolve("d/x");
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.node.layer, 0);
	ck_assert_uint_eq(r.node.dirs, 1);
	ck_assert_str_eq(ut_union_names("d/x"), "");
	ck_assert_str_eq(ut_union_names("d"), "x");
	ck_assert(exists(ut.low1, "d/x/f"));
	ut_work_clean();
}
END_TEST

START_TEST(mkdir_upper_plain)
{
	ut_mkdir(ut.upper, "d");
	ut_file(ut.low1, "d/other/f", "");
	ut_load();
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u("d/n"), 0705), 0);
	struct stat st;
	ck_assert_int_eq(lstat(ut_p(ut.upper, "d/n"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0705);
	ck_assert(!exists(ut.upper, "d/n/.wh..wh..opq"));
	resolve("d/n");
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.node.layer, 0);
	ck_assert_str_eq(ut_union_names("d"), "n other");
	/* an existing name: mkdir's EEXIST */
	errno = 0;
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u("d/n"), 0755), -1);
	ck_assert_int_eq(errno, EEXIST);
	ut_work_clean();
}
END_TEST

START_TEST(upper_dir_clear_hidden_only)
{
	ut_file(ut.upper, "d/.wh.a", "");
	ut_file(ut.upper, "d/.wh.b", "");
	ut_file(ut.upper, "d/.wh..wh..opq", "");
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, "d/c"), 0);
	ut_file(ut.low1, "d/a", "");
	ut_load();
	ck_assert_int_eq(us_upper_dir_clear(M0, ut_u("d")), 0);
	ck_assert_int_eq(rmdir(ut_p(ut.upper, "d")), 0); /* it was emptied */
	ck_assert(exists(ut.low1, "d/a"));
}
END_TEST

START_TEST(upper_dir_clear_real_entry_enotempty)
{
	ut_file(ut.upper, "d/.wh.a", "");
	ut_file(ut.upper, "d/real", "");
	ut_file(ut.upper, "e/.wh.a", "");
	ut_mkdir(ut.upper, "e/sub");
	ut_load();
	errno = 0;
	ck_assert_int_eq(us_upper_dir_clear(M0, ut_u("d")), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
	ck_assert(exists(ut.upper, "d/real"));
	errno = 0;
	ck_assert_int_eq(us_upper_dir_clear(M0, ut_u("e")), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
	ck_assert(exists(ut.upper, "e/sub"));
	/* the real-dir form says the same */
	errno = 0;
	ck_assert_int_eq(us_real_dir_clear(ut_p(ut.upper, "e")), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
}
END_TEST

/* A name of N bytes made of C (static buffer, one at a time). */
static const char *longname(char c, size_t n)
{
	static char name[256];

	memset(name, c, n);
	name[n] = '\0';
	return name;
}

static bool is_chr_whiteout(const char *base, const char *rel)
{
	struct stat st;

	return lstat(ut_p(base, rel), &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == 0;
}

START_TEST(whiteout_long_name_inplace)
{
	char rel[300], other[300];

	snprintf(rel, sizeof rel, "d/%s", longname('a', 252));
	snprintf(other, sizeof other, "d/%s", longname('b', 251));
	ut_file(ut.low1, rel, "lower");
	ut_file(ut.low1, other, "lower");
	ut_load();
	/* 251 bytes: .wh.NAME is 255, the OCI form; 252: in place */
	ck_assert(us_whiteout_oci(M0, ut_u(other)));
	ck_assert(!us_whiteout_oci(M0, ut_u(rel)));
	ut_mkdir(ut.upper, "d");
	ck_assert_int_eq(us_whiteout_create(M0, ut_u(rel)), 0);
	ck_assert(is_chr_whiteout(ut.upper, rel));
	ck_assert(us_whiteout_inplace(M0, ut_u(rel)));
	resolve(rel);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_str_eq(ut_union_names("d"), longname('b', 251));
	/* normalize leaves it (no OCI form to turn it into) */
	ck_assert_int_eq(us_whiteout_normalize(M0, ut_u(rel)), 0);
	ck_assert(is_chr_whiteout(ut.upper, rel));
}
END_TEST

START_TEST(whiteout_long_name_replace_and_remove)
{
	char rel[300], tmp[4096];

	snprintf(rel, sizeof rel, "d/%s", longname('c', 255));
	ut_file(ut.low1, rel, "lower");
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, rel), 0);
	ut_load();
	/* a file built aside takes the whiteout's place in one rename */
	ck_assert_int_eq(us_whiteout_temp(M0, tmp, sizeof tmp), 0);
	ut_file(tmp, "", "new");
	ck_assert_int_eq(us_whiteout_replace(M0, ut_u(rel), tmp, false), 0);
	ck_assert(!exists(tmp, ""));
	resolve(rel);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.node.layer, 0);
	/* the upper file goes, leaving a whiteout in its place */
	errno = 0;
	ck_assert_int_eq(us_upper_remove_whiteout(M0, ut_u(rel), false), 0);
	ck_assert(is_chr_whiteout(ut.upper, rel));
	resolve(rel);
	ck_assert_int_eq(r.err, ENOENT);
	/* a dir swaps with the whiteout, which then goes */
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u(rel), 0755), 0);
	resolve(rel);
	ck_assert_int_eq(r.err, 0);
	ck_assert(S_ISDIR(r.node.mode));
	ck_assert(exists(ut.upper, ut_cat(rel, "/.wh..wh..opq"))); /* opaque */
	ck_assert_str_eq(ut_union_names(""), "d");
	/* a dir holding something real is put back */
	ut_file(ut.upper, ut_cat(rel, "/real"), "");
	errno = 0;
	ck_assert_int_eq(us_upper_remove_whiteout(M0, ut_u(rel), true), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
	ck_assert(exists(ut.upper, ut_cat(rel, "/real")));
	ut_work_clean();
}
END_TEST

Suite *whiteout_suite(void)
{
	Suite *s = suite_create("whiteout");
	TCase *tc = tcase_create("whiteout");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, whiteout_create_present_clear);
	tcase_add_test(tc, whiteout_create_needs_parent);
	tcase_add_test(tc, exists_below_plain);
	tcase_add_test(tc, exists_below_lower_whiteouts);
	tcase_add_test(tc, exists_below_opaque);
	tcase_add_test(tc, mkdir_upper_over_whiteout_is_opaque);
	tcase_add_test(tc, mkdir_upper_plain);
	tcase_add_test(tc, upper_dir_clear_hidden_only);
	tcase_add_test(tc, upper_dir_clear_real_entry_enotempty);
	tcase_add_test(tc, whiteout_long_name_inplace);
	tcase_add_test(tc, whiteout_long_name_replace_and_remove);
	suite_add_tcase(s, tc);
	return s;
}
