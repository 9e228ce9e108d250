/* test_changes.c: the change model (changes.h) and the object comparison
 * under it (objcmp.h): A/M/D over two lowers, both whiteout forms, both
 * opaque forms, lower whiteouts honoured, a dir turned file and back,
 * the shim's and overlayfs's xattrs ignored, a lower hard link answered
 * by the shim's index; the commit plan made from the changes and its
 * journal form. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "unionshim/changes.h"
#include "unionshim/commitplan.h"
#include "unionshim/identity.h"
#include "unionshim/objcmp.h"
#include "unit.h"

/* The changes of ut's layers (work dir when WORK) as "K path" lines,
 * joined by ','. Static, valid until the next call. */
static const char *changes(int work)
{
	static char out[8192];
	struct us_layerset ls;
	struct us_changes c;
	const char *lowers[] = {ut.low1, ut.low2};
	size_t n = 0;

	us_layerset_init(&ls, ut.upper, work ? ut.work : NULL, lowers, 2);
	ck_assert_msg(us_changes_collect(&ls, 0, &c) == 0, "collect: %s at %s",
		      strerror(errno), c.errpath ? c.errpath : "?");
	out[0] = '\0';
	for (size_t i = 0; i < c.n; i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%c %s",
				      i ? "," : "", c.v[i].kind, c.v[i].path);
	ck_assert_uint_eq(c.added + c.changed + c.deleted, c.n);
	us_changes_free(&c);
	return out;
}

/* Give REL in LAYER the mtime of REL in REF (a faithful copy). */
static void same_times(const char *layer, const char *ref, const char *rel)
{
	struct stat st;
	struct timespec ts[2];

	ck_assert_int_eq(lstat(ut_p(ref, rel), &st), 0);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, ut_p(layer, rel), ts, AT_SYMLINK_NOFOLLOW), 0);
}

START_TEST(changes_kinds)
{
	ut_file(ut.low1, "keep", "k");
	ut_file(ut.low1, "mod", "old");
	ut_file(ut.low1, "same", "s");
	ut_file(ut.low2, "gone2", "g");
	ut_file(ut.low1, "d/x", "x");
	ut_file(ut.low2, "d/y", "y");
	ut_file(ut.low1, "tree/a/b", "b");
	ut_file(ut.upper, "mod", "new");
	ut_file(ut.upper, "same", "s");
	same_times(ut.upper, ut.low1, "same");
	ck_assert_int_eq(chmod(ut_p(ut.upper, "same"), 0644), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "same"), 0644), 0);
	ut_file(ut.upper, ".wh.gone2", "");
	ut_file(ut.upper, "new/n", "n");
	ut_mkdir(ut.upper, "d");
	ut_file(ut.upper, "d/.wh..wh..opq", "");
	ut_file(ut.upper, "d/z", "z");
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, "tree"), 0);
	ut_file(ut.upper, ".wh.nothing", ""); /* hides nothing: no change */
	ck_assert_str_eq(changes(0), "D d/x,D d/y,A d/z,D gone2,M mod,A new,A new/n,"
				     "D tree,D tree/a,D tree/a/b");
}
END_TEST

START_TEST(changes_lower_whiteouts_and_types)
{
	/* low1 whites out low2's w and makes o opaque: neither is "before" */
	ut_file(ut.low2, "w", "w");
	ut_file(ut.low1, ".wh.w", "");
	ut_file(ut.low2, "o/hidden", "h");
	ut_file(ut.low1, "o/seen", "s");
	ck_assert_int_eq(ut_xattr(ut.low1, "o", "user.overlay.opaque", "y"), 0);
	ut_file(ut.upper, "w", "new");
	ut_mkdir(ut.upper, "o");
	ut_file(ut.upper, "o/.wh.hidden", "");
	ut_file(ut.upper, "o/.wh.seen", "");
	/* a dir turned into a file, a file into a dir */
	ut_file(ut.low1, "df/in", "i");
	ut_file(ut.upper, "df", "f");
	ut_file(ut.low1, "fd", "f");
	ut_file(ut.upper, "fd/in", "i");
	ck_assert_str_eq(changes(0), "M df,D df/in,M fd,A fd/in,D o/seen,A w");
}
END_TEST

START_TEST(changes_private_xattrs_ignored)
{
	ut_file(ut.low1, "f", "f");
	ut_file(ut.upper, "f", "f");
	same_times(ut.upper, ut.low1, "f");
	ut_mkdir(ut.low1, "d");
	ut_mkdir(ut.upper, "d");
	ck_assert_int_eq(chmod(ut_p(ut.upper, "d"), 0755), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "d"), 0755), 0);
	ck_assert_int_eq(ut_xattr(ut.upper, "f", US_ORIGIN_XATTR, "1:2:1"), 0);
	ck_assert_int_eq(ut_xattr(ut.upper, "d", "user.overlay.origin", "x"), 0);
	ck_assert_str_eq(changes(0), "");
	ck_assert_int_eq(ut_xattr(ut.upper, "f", "user.mine", "1"), 0);
	ck_assert_str_eq(changes(0), "M f");
}
END_TEST

START_TEST(changes_index_answers_lower_links)
{
	struct stat st;
	char entry[PATH_MAX];

	ut_file(ut.low1, "a", "a");
	ut_mkdir(ut.low1, "sub");
	ck_assert_int_eq(link(ut_p(ut.low1, "a"), ut_p(ut.low1, "sub/b")), 0);
	ck_assert_int_eq(lstat(ut_p(ut.low1, "a"), &st), 0);
	snprintf(entry, sizeof entry, "#index/1-%llu", (unsigned long long)st.st_ino);
	ut_file(ut.work, entry, "changed");
	ck_assert_int_eq(link(ut_p(ut.work, entry), ut_p(ut.upper, "a")), 0);
	ck_assert_str_eq(changes(1), "M a,M sub/b");
	ck_assert_str_eq(changes(0), "M a");
}
END_TEST

START_TEST(objcmp_what)
{
	struct stat sa, sb;

	ut_file(ut.low1, "a", "one");
	ut_file(ut.upper, "a", "two");
	same_times(ut.upper, ut.low1, "a");
	ck_assert_int_eq(chmod(ut_p(ut.upper, "a"), 0600), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "a"), 0644), 0);
	ck_assert_int_eq(lstat(ut_p(ut.upper, "a"), &sa), 0);
	ck_assert_int_eq(lstat(ut_p(ut.low1, "a"), &sb), 0);
	ck_assert_int_eq(us_obj_diff(ut_p(ut.upper, "a"), &sa, ut_p(ut.low1, "a"), &sb),
			 US_DIFF_DATA | US_DIFF_MODE);
	ut_link(ut.low1, "s", "x");
	ut_link(ut.upper, "s", "y");
	same_times(ut.upper, ut.low1, "s");
	ck_assert_int_eq(lstat(ut_p(ut.upper, "s"), &sa), 0);
	ck_assert_int_eq(lstat(ut_p(ut.low1, "s"), &sb), 0);
	ck_assert_int_eq(us_obj_diff(ut_p(ut.upper, "s"), &sa, ut_p(ut.low1, "s"), &sb),
			 US_DIFF_TARGET);
	ck_assert_int_eq(lstat(ut_p(ut.low1, "a"), &sb), 0);
	ck_assert_int_eq(us_obj_diff(ut_p(ut.upper, "s"), &sa, ut_p(ut.low1, "a"), &sb),
			 US_DIFF_TYPE);
	ck_assert_str_eq(us_diff_name(0), "type");
	ck_assert_ptr_null(us_diff_name(8));
	ck_assert(us_xattr_private("trusted.overlay.origin"));
	ck_assert(us_xattr_private(US_ORIGIN_XATTR));
	ck_assert(!us_xattr_private("user.mine"));
}
END_TEST


/* The plan of the changes of ut's layers (one lower: low1). */
static void plan_of(struct us_plan *p, unsigned flags)
{
	struct us_layerset ls;
	struct us_changes c;
	const char *lowers[] = {ut.low1};

	us_layerset_init(&ls, ut.upper, ut.work, lowers, 1);
	ck_assert_int_eq(us_changes_collect(&ls, flags, &c), 0);
	ck_assert_int_eq(us_commit_plan(&ls, &c, p), 0);
	us_changes_free(&c);
}

static const char *plan_text(const struct us_plan *p)
{
	static char out[4096];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%c %s%s%s",
				      i ? "," : "", p->v[i].kind, p->v[i].path,
				      p->v[i].kind == US_OP_LINK ? "=" : "",
				      p->v[i].kind == US_OP_LINK ? p->v[i].arg : "");
	return out;
}

START_TEST(plan_steps)
{
	struct us_plan p;
	struct stat st;
	char entry[64];

	/* low1: a and sub/b one file; the index entry answers both */
	ut_file(ut.low1, "a", "a");
	ut_mkdir(ut.low1, "sub");
	ck_assert_int_eq(link(ut_p(ut.low1, "a"), ut_p(ut.low1, "sub/b")), 0);
	ck_assert_int_eq(lstat(ut_p(ut.low1, "a"), &st), 0);
	snprintf(entry, sizeof entry, "#index/1-%llu", (unsigned long long)st.st_ino);
	ut_file(ut.work, entry, "a");
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	ck_assert_int_eq(utimensat(AT_FDCWD, ut_p(ut.work, entry), ts, 0), 0);
	ck_assert_int_eq(chmod(ut_p(ut.work, entry), st.st_mode & 07777), 0);
	ck_assert_int_eq(link(ut_p(ut.work, entry), ut_p(ut.upper, "a")), 0);
	ut_file(ut.low1, "gone/x", "x");
	ut_file(ut.upper, ".wh.gone", "");
	ut_file(ut.upper, "n/f", "f");
	ck_assert_int_eq(link(ut_p(ut.upper, "n/f"), ut_p(ut.upper, "n/g")), 0);
	/* without LINKS the unchanged group is not there at all */
	plan_of(&p, 0);
	ck_assert_str_eq(plan_text(&p), "r gone,d n,i n/f,l n/g=n/f,m n");
	us_plan_free(&p);
	plan_of(&p, US_CHANGES_LINKS);
	ck_assert_str_eq(plan_text(&p), "i a,r gone,d n,i n/f,l n/g=n/f,l sub/b=a,m n");
	ck_assert_str_eq(p.v[0].arg, ut_p(ut.upper, "a"));

	char *buf;
	size_t len;
	struct us_plan back;
	ck_assert_int_eq(us_plan_format(&p, &buf, &len), 0);
	ck_assert_int_eq(us_plan_parse(buf, len, &back), 0);
	ck_assert_str_eq(plan_text(&back), plan_text(&p));
	us_plan_free(&back);
	/* a torn journal is refused, whole */
	ck_assert_int_eq(us_plan_parse(buf, len - 1, &back), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(back.n, 0);
	buf[0] = 'z';
	ck_assert_int_eq(us_plan_parse(buf, len, &back), -1);
	free(buf);
	us_plan_free(&p);
}
END_TEST

Suite *changes_suite(void)
{
	Suite *s = suite_create("changes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, changes_kinds);
	tcase_add_test(tc, changes_lower_whiteouts_and_types);
	tcase_add_test(tc, changes_private_xattrs_ignored);
	tcase_add_test(tc, changes_index_answers_lower_links);
	tcase_add_test(tc, objcmp_what);
	tcase_add_test(tc, plan_steps);
	suite_add_tcase(s, tc);
	return s;
}
