/* test_resolve_at.c: the scoped walk of lookup.h (us_resolve_at), which
 * openat2's resolve flags use: BENEATH refuses escapes with EXDEV, IN_ROOT
 * clamps ".." and absolute paths and symlinks at the start dir,
 * NO_SYMLINKS refuses symlinks with ELOOP, NO_XDEV refuses crossing into
 * or out of the union with EXDEV, CACHED refuses a union symlink with
 * EAGAIN; outside the union the answer is the canonical real path.
 *
 * Layer 0 is upper, 1 low1, 2 low2 (unit.h); the target stays empty. */
#include <errno.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>

#include "unionshim/lookup.h"
#include "unit.h"

static struct us_resolved r;

/* PATH from BASE with RESOLVE: found inside at union path WANT. */
static void at_found(const char *base, const char *path, unsigned resolve,
		     const char *want)
{
	errno = 0;
	ck_assert_msg(us_resolve_at(&ut.cfg, base, path, 0, resolve, &r) == 0,
		      "%s from %s (%#x): %s", path, base, resolve,
		      strerror(errno));
	ck_assert_msg(r.where == US_INSIDE && r.err == 0,
		      "%s from %s (%#x): not found inside", path, base, resolve);
	ck_assert_msg(strcmp(r.path, want) == 0, "%s from %s: %s, want %s",
		      path, base, r.path, want);
}

/* PATH from BASE with RESOLVE: outside, at real path WANT. */
static void at_outside(const char *base, const char *path, unsigned resolve,
		       const char *want)
{
	errno = 0;
	ck_assert_msg(us_resolve_at(&ut.cfg, base, path, 0, resolve, &r) == 0,
		      "%s from %s (%#x): %s", path, base, resolve,
		      strerror(errno));
	ck_assert_msg(r.where == US_OUTSIDE, "%s from %s: inside (%s)", path,
		      base, r.path);
	ck_assert_msg(strcmp(r.path, want) == 0, "%s from %s: %s, want %s",
		      path, base, r.path, want);
}

static void at_fails(const char *base, const char *path, unsigned resolve,
		     int e)
{
	errno = 0;
	ck_assert_msg(us_resolve_at(&ut.cfg, base, path, 0, resolve, &r) < 0,
		      "%s from %s (%#x) succeeded: %s", path, base, resolve,
		      r.path);
	ck_assert_msg(errno == e, "%s from %s (%#x): %s, want %s", path, base,
		      resolve, strerror(errno), strerror(e));
}

static void tree(void)
{
	ut_file(ut.low1, "d/g", "");
	ut_file(ut.low2, "f", "");
	ut_link(ut.low1, "d/up", "../f");
	ut_link(ut.low1, "d/esc", "../../x");
	ut_link(ut.low1, "abs", "/d/g");
	ut_link(ut.low1, "rel", "d/g");
	ut_file(ut.root, "x", "");
	ut_link(ut.root, "tl", "target");
	ut_load();
}

START_TEST(no_flags_walks_as_us_resolve)
{
	tree();
	at_found(ut.target, "d/g", 0, ut_u("d/g"));
	at_found(ut_u("d"), "up", 0, ut_u("f"));
	at_outside(ut_u("d"), "esc", 0, ut_p(ut.root, "x"));
	at_found(ut.root, "tl/f", 0, ut_u("f")); /* every component looked at */
	at_found("/", ut_u("rel"), 0, ut_u("d/g"));
}
END_TEST

START_TEST(beneath)
{
	tree();
	at_found(ut.target, "d/../f", RESOLVE_BENEATH, ut_u("f"));
	at_found(ut_u("d"), "g", RESOLVE_BENEATH, ut_u("d/g"));
	at_fails(ut.target, "..", RESOLVE_BENEATH, EXDEV);
	at_fails(ut.target, ut_u("f"), RESOLVE_BENEATH, EXDEV);
	at_fails(ut_u("d"), "up", RESOLVE_BENEATH, EXDEV);
	at_fails(ut.target, "abs", RESOLVE_BENEATH, EXDEV);
	at_found(ut.root, "target/d/g", RESOLVE_BENEATH, ut_u("d/g"));
	at_outside(ut.root, "target/d/esc", RESOLVE_BENEATH, ut_p(ut.root, "x"));
}
END_TEST

START_TEST(in_root)
{
	tree();
	at_found(ut.target, "/f", RESOLVE_IN_ROOT, ut_u("f"));
	at_found(ut.target, "../../f", RESOLVE_IN_ROOT, ut_u("f"));
	at_found(ut.target, "abs", RESOLVE_IN_ROOT, ut_u("d/g"));
	at_found(ut_u("d"), "/g", RESOLVE_IN_ROOT, ut_u("d/g"));
	at_found(ut.root, "/target/f", RESOLVE_IN_ROOT, ut_u("f"));
	/* a missing final name keeps the clamped place: "up" is ../f, d/f */
	ck_assert_int_eq(us_resolve_at(&ut.cfg, ut_u("d"), "up", 0,
				       RESOLVE_IN_ROOT, &r),
			 0);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_str_eq(r.path, ut_u("d/f"));
	ck_assert_int_eq(us_resolve_at(&ut.cfg, ut_u("d"), "/../new", 0,
				       RESOLVE_IN_ROOT, &r),
			 0);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_str_eq(r.path, ut_u("d/new"));
}
END_TEST

START_TEST(no_symlinks_no_xdev_cached)
{
	tree();
	at_fails(ut.target, "rel", RESOLVE_NO_SYMLINKS, ELOOP);
	at_fails(ut.root, "tl/f", RESOLVE_NO_SYMLINKS, ELOOP);
	ck_assert_int_eq(us_resolve_at(&ut.cfg, ut.target, "rel",
				       US_LOOKUP_NOFOLLOW, RESOLVE_NO_SYMLINKS,
				       &r),
			 0); /* a final symlink not followed is no symlink */
	ck_assert(S_ISLNK(r.node.mode));
	at_fails(ut.root, "target/f", RESOLVE_NO_XDEV, EXDEV);
	at_fails(ut.target, "..", RESOLVE_NO_XDEV, EXDEV);
	at_fails(ut.target, "abs", RESOLVE_NO_XDEV, EXDEV);
	at_found(ut.target, "d/up", RESOLVE_NO_XDEV, ut_u("f"));
	at_fails(ut.target, "rel", RESOLVE_CACHED, EAGAIN);
	at_found(ut.target, "d/g", RESOLVE_CACHED, ut_u("d/g"));
}
END_TEST

Suite *resolve_at_suite(void)
{
	Suite *s = suite_create("resolve_at");
	TCase *tc = tcase_create("resolve_at");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, no_flags_walks_as_us_resolve);
	tcase_add_test(tc, beneath);
	tcase_add_test(tc, in_root);
	tcase_add_test(tc, no_symlinks_no_xdev_cached);
	suite_add_tcase(s, tc);
	return s;
}
