/* test_unionops.c: unlink, rmdir and rename in a union (unionops.h) with
 * overlayfs's rules: whiteouts for removed names that exist below, errno
 * choices of ovl_rename (ENOTEMPTY, EINVAL, EEXIST, EROFS), redirects
 * of renamed dirs that exist below (redirect_dir=on), opaque
 * dirs where a moved dir hides something below. Each test resolves its
 * paths with us_resolve as the shim does, then checks the union view
 * afterwards and that no lower layer changed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unionshim/lookup.h"
#include "unionshim/copyup.h"
#include "unionshim/unionops.h"
#include "unit.h"

static struct us_resolved ra, rb;

/* us_union_remove of REL; ERR 0 for success, or the errno wanted. */
static void removes(const char *rel, bool isdir, int err)
{
	ut_res(&ra, rel);
	ck_assert_msg(ra.err == 0, "%s missing", rel);
	errno = 0;
	int rc = us_union_remove(&ra, isdir);
	if (err == 0)
		ck_assert_msg(rc == 0, "remove %s: %s", rel, strerror(errno));
	else
		ck_assert_msg(rc == -1 && errno == err,
			      "remove %s: rc %d, %s; want %s", rel, rc,
			      strerror(errno), strerror(err));
}

/* us_union_rename FROM → TO with FLAGS; ERR as removes(). */
static void renames(const char *from, const char *to, unsigned flags, int err)
{
	ut_res(&ra, from);
	ck_assert_msg(ra.err == 0, "%s missing", from);
	ut_res(&rb, to);
	errno = 0;
	int rc = us_union_rename(&ra, &rb, flags);
	if (err == 0)
		ck_assert_msg(rc == 0, "rename %s %s: %s", from, to,
			      strerror(errno));
	else
		ck_assert_msg(rc == -1 && errno == err,
			      "rename %s %s: rc %d, %s; want %s", from, to, rc,
			      strerror(errno), strerror(err));
}

/* REL is gone from the union. */
static void gone(const char *rel)
{
	struct us_resolved r;

	ut_res(&r, rel);
	ck_assert_msg(r.err == ENOENT, "%s still there (layer %d)", rel,
		      r.node.layer);
}

/* REL is in the union, from LAYER, with TYPE. */
static void found(const char *rel, int layer, mode_t type)
{
	struct us_resolved r;

	ut_res(&r, rel);
	ck_assert_msg(r.err == 0, "%s: %s", rel, strerror(r.err));
	ck_assert_msg(r.node.layer == layer, "%s: layer %d, want %d", rel,
		      r.node.layer, layer);
	ck_assert_msg((r.node.mode & S_IFMT) == type, "%s: mode %o", rel,
		      (unsigned)r.node.mode);
}

static int exists(const char *base, const char *rel)
{
	struct stat st;

	return lstat(ut_p(base, rel), &st) == 0;
}

/* The data of union file REL, read from the layer that wins. */
static const char *reads(const char *rel)
{
	static char buf[256];
	struct us_resolved r;
	char real[PATH_MAX];

	ut_res(&r, rel);
	ck_assert_msg(r.err == 0, "%s: %s", rel, strerror(r.err));
	ck_assert(us_layer_path(r.m, r.node.layer, r.path, real, sizeof real) == 0);
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	ck_assert(fd >= 0);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	ck_assert(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* Load the standard mount and record the lower layers. */
static void load(void)
{
	ut_load();
	ut_lowers_snap();
}

/* After every operation: no lower layer changed, no temp left. */
static void after(void)
{
	ut_lowers_same();
	ut_work_clean();
}

/* ------------------------------------------------------------- remove */

START_TEST(unlink_upper_only_no_whiteout)
{
	ut_file(ut.upper, "d/f", "");
	ut_file(ut.low1, "d/other", "");
	load();
	removes("d/f", false, 0);
	ck_assert(!exists(ut.upper, "d/f"));
	ck_assert(!exists(ut.upper, "d/.wh.f"));
	gone("d/f");
	ck_assert_str_eq(ut_union_names("d"), "other");
	after();
}
END_TEST

START_TEST(unlink_lower_only_whiteout)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_file(ut.low2, "d/f", "lowest");
	ut_file(ut.low2, "d/g", "");
	load();
	removes("d/f", false, 0);
	ck_assert(exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/f"));
	gone("d/f");
	ck_assert_str_eq(ut_union_names("d"), "g");
	after();
}
END_TEST

START_TEST(unlink_in_both)
{
	ut_file(ut.upper, "d/f", "upper");
	ut_file(ut.low2, "d/f", "lower");
	ut_link(ut.upper, "d/l", "f");
	ut_link(ut.low1, "d/l", "f");
	load();
	removes("d/f", false, 0);
	ck_assert(!exists(ut.upper, "d/f"));
	ck_assert(exists(ut.upper, "d/.wh.f"));
	gone("d/f");
	removes("d/l", false, 0); /* the link itself, not its target */
	ck_assert(exists(ut.upper, "d/.wh.l"));
	gone("d/l");
	ck_assert_str_eq(ut_union_names("d"), "");
	after();
}
END_TEST

START_TEST(rmdir_merged_empty_in_union)
{
	ut_file(ut.upper, "d/e/.wh.x", "");
	ut_file(ut.upper, "d/e/.wh.y", "");
	ut_file(ut.low1, "d/e/x", "");
	ut_file(ut.low2, "d/e/y", "");
	ut_mkdir(ut.low2, "d/lowonly"); /* empty, only below */
	ut_file(ut.low1, "d/keep", "");
	load();
	ck_assert_str_eq(ut_union_names("d/e"), "");
	removes("d/e", true, 0);
	ck_assert(!exists(ut.upper, "d/e"));
	ck_assert(exists(ut.upper, "d/.wh.e"));
	gone("d/e");
	removes("d/lowonly", true, 0);
	ck_assert(exists(ut.upper, "d/.wh.lowonly"));
	gone("d/lowonly");
	ck_assert_str_eq(ut_union_names("d"), "keep");
	after();
}
END_TEST

START_TEST(rmdir_upper_only_dir)
{
	ut_mkdir(ut.upper, "d/e");
	ut_file(ut.upper, "d/e/.wh..wh..opq", ""); /* hidden entries go too */
	ut_file(ut.low1, "d/keep", "");
	load();
	removes("d/e", true, 0);
	ck_assert(!exists(ut.upper, "d/e"));
	ck_assert(!exists(ut.upper, "d/.wh.e"));
	gone("d/e");
	ck_assert_str_eq(ut_union_names("d"), "keep");
	after();
}
END_TEST

START_TEST(rmdir_nonempty_enotempty)
{
	ut_file(ut.upper, "d/e/.wh.y", "");
	ut_file(ut.low1, "d/e/y", "");
	ut_file(ut.low2, "d/e/x", ""); /* still shows */
	ut_file(ut.upper, "d/u/f", "");  /* upper only, with a file */
	load();
	removes("d/e", true, ENOTEMPTY);
	removes("d/u", true, ENOTEMPTY);
	found("d/e", 0, S_IFDIR);
	found("d/e/x", 2, S_IFREG);
	found("d/u/f", 0, S_IFREG);
	ck_assert(!exists(ut.upper, "d/.wh.e"));
	ck_assert(exists(ut.upper, "d/e/.wh.y"));
	ck_assert_str_eq(ut_union_names("d/e"), "x");
	after();
}
END_TEST

START_TEST(remove_wrong_type)
{
	ut_file(ut.low1, "d/f", "");
	ut_mkdir(ut.low1, "d/e");
	ut_mkdir(ut.upper, "d/ue");
	load();
	removes("d/e", false, EISDIR);
	removes("d/ue", false, EISDIR);
	removes("d/f", true, ENOTDIR);
	found("d/e", 1, S_IFDIR);
	found("d/ue", 0, S_IFDIR);
	found("d/f", 1, S_IFREG);
	ck_assert(!exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/.wh.e"));
	after();
}
END_TEST

START_TEST(read_only_union_erofs)
{
	ut_file(ut.low1, "d/f", "");
	ut_file(ut.low2, "d/g", "");
	ut_mkdir(ut.low1, "d/e");
	ut_load_spec("target=%s,lowerdir=%s:%s", ut.target, ut.low1, ut.low2);
	ut_lowers_snap();
	removes("d/f", false, EROFS);
	removes("d/e", true, EROFS);
	renames("d/f", "d/n", 0, EROFS);
	renames("d/f", "d/g", RENAME_EXCHANGE, EROFS);
	found("d/f", 0, S_IFREG); /* low1 is layer 0 here */
	ck_assert_str_eq(ut_union_names("d"), "e f g");
	ut_lowers_same();
}
END_TEST

/* ------------------------------------------------------------- rename */

START_TEST(rename_lower_file)
{
	ut_file(ut.low1, "d/f", "data");
	ut_file(ut.low2, "e/x", "");
	load();
	renames("d/f", "d/g", 0, 0);
	ck_assert(exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/f"));
	found("d/g", 0, S_IFREG);
	ck_assert_str_eq(reads("d/g"), "data");
	gone("d/f");
	ck_assert_str_eq(ut_union_names("d"), "g");
	/* into a dir that is only below: it comes up first */
	renames("d/g", "e/h", 0, 0);
	ck_assert(!exists(ut.upper, "d/g"));
	ck_assert(!exists(ut.upper, "d/.wh.g")); /* g was upper only */
	found("e/h", 0, S_IFREG);
	ck_assert_str_eq(reads("e/h"), "data");
	ck_assert_str_eq(ut_union_names("e"), "h x");
	ck_assert_str_eq(ut_union_names("d"), "");
	after();
}
END_TEST

START_TEST(rename_onto_lower_file)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.low2, "d/g", "G");
	load();
	renames("d/f", "d/g", 0, 0);
	found("d/g", 0, S_IFREG);
	ck_assert_str_eq(reads("d/g"), "F");
	gone("d/f");
	ck_assert(exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/.wh.g"));
	ck_assert_str_eq(ut_union_names("d"), "g");
	after();
}
END_TEST

START_TEST(rename_onto_whiteout)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.upper, "d/.wh.g", "");
	ut_file(ut.low2, "d/g", "G");
	load();
	gone("d/g");
	renames("d/f", "d/g", 0, 0);
	ck_assert_str_eq(reads("d/g"), "F");
	ck_assert(!exists(ut.upper, "d/.wh.g"));
	ck_assert(exists(ut.upper, "d/.wh.f"));
	ck_assert_str_eq(ut_union_names("d"), "g");
	after();
}
END_TEST

START_TEST(rename_noreplace_eexist)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.low2, "d/g", "G");
	ut_file(ut.upper, "d/u", "U");
	load();
	renames("d/f", "d/g", RENAME_NOREPLACE, EEXIST);
	renames("d/u", "d/f", RENAME_NOREPLACE, EEXIST);
	ck_assert_str_eq(reads("d/f"), "F");
	ck_assert_str_eq(reads("d/g"), "G");
	ck_assert_str_eq(reads("d/u"), "U");
	ck_assert(!exists(ut.upper, "d/f"));
	ck_assert(!exists(ut.upper, "d/.wh.f"));
	ck_assert_str_eq(ut_union_names("d"), "f g u");
	/* and onto a free name it works */
	renames("d/f", "d/n", RENAME_NOREPLACE, 0);
	ck_assert_str_eq(reads("d/n"), "F");
	ck_assert_str_eq(ut_union_names("d"), "g n u");
	after();
}
END_TEST

START_TEST(rename_exchange_lower_files)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.low2, "d/g", "G");
	load();
	renames("d/f", "d/g", RENAME_EXCHANGE, 0);
	found("d/f", 0, S_IFREG);
	found("d/g", 0, S_IFREG);
	ck_assert_str_eq(reads("d/f"), "G");
	ck_assert_str_eq(reads("d/g"), "F");
	ck_assert(!exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/.wh.g"));
	ck_assert_str_eq(ut_union_names("d"), "f g");
	renames("d/f", "d/missing", RENAME_EXCHANGE, ENOENT);
	after();
}
END_TEST

START_TEST(rename_exchange_dir_onto_name_over_lower_dir_opaque)
{
	ut_file(ut.upper, "s/f", "moved");
	ut_file(ut.upper, "t", "upper file over a lower dir");
	ut_file(ut.low1, "t/x", "hidden below");
	ut_file(ut.upper, "s2", "upper file over a lower dir");
	ut_file(ut.low2, "s2/y", "hidden below");
	ut_file(ut.upper, "t2/g", "moved");
	load();
	renames("s", "t", RENAME_EXCHANGE, 0);
	found("t", 0, S_IFDIR);
	found("s", 0, S_IFREG);
	ck_assert_str_eq(reads("s"), "upper file over a lower dir");
	ck_assert(exists(ut.upper, "t/.wh..wh..opq"));
	gone("t/x"); /* the dir now at t must not merge with low1's t */
	ck_assert_str_eq(ut_union_names("t"), "f");
	/* the same with the dir as the NEW side */
	renames("s2", "t2", RENAME_EXCHANGE, 0);
	found("s2", 0, S_IFDIR);
	ck_assert(exists(ut.upper, "s2/.wh..wh..opq"));
	gone("s2/y");
	ck_assert_str_eq(ut_union_names("s2"), "g");
	after();
}
END_TEST

/* A dir that exists below is renamed in place (overlayfs redirect_dir=on):
 * copied up alone, moved, given a redirect record to where its lower half
 * lies; the old name is whited out; nothing below it is copied. */
START_TEST(rename_dir_below_redirect)
{
	char v[PATH_MAX];

	ut_file(ut.low1, "d/sub/x", "x");
	ut_file(ut.low1, "d/sub/deep/y", "y");
	ut_mkdir(ut.upper, "d/merged");
	ut_file(ut.low2, "d/merged/y", "");
	ut_mkdir(ut.upper, "d/u");
	ut_mkdir(ut.low2, "d/t");
	ut_file(ut.low1, "d/new/hidden", "");
	load();
	if (ut_xattr(ut.upper, "d", "user.probe", "1") != 0)
		ut_skip("the upper takes no user xattrs");
	renames("d/sub", "d/q", 0, 0);
	found("d/q", 0, S_IFDIR);
	found("d/q/x", 1, S_IFREG);
	found("d/q/deep/y", 1, S_IFREG);
	gone("d/sub");
	ck_assert(!exists(ut.upper, "d/q/x") && !exists(ut.upper, "d/q/deep"));
	ssize_t n = lgetxattr(ut_p(ut.upper, "d/q"), "user.unionshim.redirect",
			      v, sizeof v - 1);
	ck_assert_int_eq(n, 6);
	v[n] = '\0';
	ck_assert_str_eq(v, "/d/sub");
	/* again, onto a name whited out over a dir below (no merge with
	 * it), and its parent */
	removes("d/new/hidden", false, 0);
	removes("d/new", true, 0);
	renames("d/q", "d/new", 0, 0);
	found("d/new/x", 1, S_IFREG);
	gone("d/new/hidden");
	renames("d/merged", "d/m2", 0, 0);
	found("d/m2/y", 2, S_IFREG);
	renames("d", "e", 0, 0);
	found("e/new/deep/y", 1, S_IFREG);
	found("e/m2/y", 2, S_IFREG);
	ck_assert_str_eq(ut_union_names("e"), "m2 new t u");
	renames("e/u", "e/t", RENAME_EXCHANGE, 0);
	found("e/u", 0, S_IFDIR); /* low2's t, copied up, at u */
	found("e/t", 0, S_IFDIR);
	ck_assert_str_eq(ut_union_names("e/t"), "");
	gone("d");
	after();
}
END_TEST

START_TEST(rename_dir_onto_empty_merged_dir_opaque)
{
	ut_file(ut.upper, "s/f", "moved");
	ut_file(ut.upper, "t/.wh.x", ""); /* t is empty in the union */
	ut_file(ut.low1, "t/x", "hidden below");
	load();
	ck_assert_str_eq(ut_union_names("t"), "");
	renames("s", "t", 0, 0);
	ck_assert(exists(ut.upper, "t/.wh..wh..opq"));
	ck_assert(!exists(ut.upper, "t/.wh.x"));
	ck_assert(!exists(ut.upper, ".wh.s")); /* s was upper only */
	gone("s");
	found("t", 0, S_IFDIR);
	found("t/f", 0, S_IFREG);
	gone("t/x");
	ck_assert_str_eq(ut_union_names("t"), "f");
	ck_assert_str_eq(ut_union_names(""), "t");
	after();
}
END_TEST

START_TEST(rename_dir_onto_whited_out_name_opaque)
{
	ut_file(ut.upper, "s/f", "moved");
	ut_file(ut.upper, ".wh.t", "");
	ut_file(ut.low2, "t/x", "hidden below");
	load();
	gone("t");
	renames("s", "t", 0, 0);
	ck_assert(!exists(ut.upper, ".wh.t"));
	ck_assert(exists(ut.upper, "t/.wh..wh..opq"));
	gone("t/x");
	ck_assert_str_eq(ut_union_names("t"), "f");
	after();
}
END_TEST

START_TEST(rename_onto_nonempty_dir_enotempty)
{
	ut_mkdir(ut.upper, "s");
	ut_mkdir(ut.upper, "t");
	ut_file(ut.low1, "t/x", "");
	ut_file(ut.upper, "v/y", "");
	load();
	renames("s", "t", 0, ENOTEMPTY);
	renames("s", "v", 0, ENOTEMPTY);
	found("s", 0, S_IFDIR);
	ck_assert_str_eq(ut_union_names("t"), "x");
	ck_assert_str_eq(ut_union_names("v"), "y");
	ck_assert(!exists(ut.upper, "s/.wh..wh..opq"));
	after();
}
END_TEST

START_TEST(rename_bad_flags_einval)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.low1, "d/g", "G");
	load();
	renames("d/f", "d/n", 1u << 2 /* RENAME_WHITEOUT */, EINVAL);
	renames("d/f", "d/n", 1u << 7, EINVAL);
	renames("d/f", "d/g", RENAME_NOREPLACE | RENAME_EXCHANGE, EINVAL);
	gone("d/n");
	found("d/f", 1, S_IFREG);
	ck_assert(!exists(ut.upper, "d"));
	after();
}
END_TEST

START_TEST(rename_to_wh_name_einval)
{
	ut_file(ut.low1, "d/f", "F");
	ut_file(ut.upper, "d/u", "U");
	load();
	renames("d/f", "d/.wh.g", 0, EINVAL);
	renames("d/u", "d/.wh.f", 0, EINVAL);
	renames("d/u", "d/.wh..wh..opq", 0, EINVAL);
	found("d/f", 1, S_IFREG);
	found("d/u", 0, S_IFREG);
	ck_assert(!exists(ut.upper, "d/.wh.g"));
	ck_assert(!exists(ut.upper, "d/.wh.f"));
	ck_assert(!exists(ut.upper, "d/.wh..wh..opq"));
	ck_assert_str_eq(ut_union_names("d"), "f u");
	after();
}
END_TEST

START_TEST(rename_dir_into_own_subdir_einval)
{
	ut_mkdir(ut.upper, "s/sub");
	load();
	renames("s", "s/sub/x", 0, EINVAL);
	renames("s", "s/x", 0, EINVAL);
	found("s/sub", 0, S_IFDIR);
	ck_assert_str_eq(ut_union_names("s"), "sub");
	ck_assert_str_eq(ut_union_names("s/sub"), "");
	after();
}
END_TEST

/* An overlayfs-form whiteout (char device 0/0) in the upper layer, as
 * kernel overlayfs writes it, frees its name for a new dir: mkdir and a
 * rename onto it work, and the dir does not merge with what lies below. */
START_TEST(mkdir_over_chr_whiteout)
{
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, "d/x"), 0);
	ut_file(ut.low1, "d/x/f", "");
	ut_load();
	struct us_resolved r;
	ck_assert(us_resolve(&ut.cfg, ut_u("d/x"), 0, &r) == 0);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_msg(us_mkdir_upper(&ut.cfg.mounts[0], ut_u("d/x"), 0755) == 0,
		      "mkdir over a chr whiteout: %s", strerror(errno));
	ck_assert_str_eq(ut_union_names("d/x"), "");
}
END_TEST

START_TEST(rename_dir_onto_chr_whiteout)
{
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, "t"), 0);
	ut_file(ut.low1, "t/x", "");
	ut_mkdir(ut.upper, "s");
	ut_load();
	struct us_resolved o, n;
	ck_assert(us_resolve(&ut.cfg, ut_u("s"), 0, &o) == 0 && o.err == 0);
	ck_assert(us_resolve(&ut.cfg, ut_u("t"), 0, &n) == 0 && n.err == ENOENT);
	ck_assert_msg(us_union_rename(&o, &n, 0) == 0,
		      "rename dir onto a chr whiteout: %s", strerror(errno));
	ck_assert_str_eq(ut_union_names("t"), "");
}
END_TEST

Suite *unionops_suite(void)
{
	Suite *s = suite_create("unionops");
	TCase *tc = tcase_create("unionops");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, unlink_upper_only_no_whiteout);
	tcase_add_test(tc, unlink_lower_only_whiteout);
	tcase_add_test(tc, unlink_in_both);
	tcase_add_test(tc, rmdir_merged_empty_in_union);
	tcase_add_test(tc, rmdir_upper_only_dir);
	tcase_add_test(tc, rmdir_nonempty_enotempty);
	tcase_add_test(tc, remove_wrong_type);
	tcase_add_test(tc, read_only_union_erofs);
	tcase_add_test(tc, rename_lower_file);
	tcase_add_test(tc, rename_onto_lower_file);
	tcase_add_test(tc, rename_onto_whiteout);
	tcase_add_test(tc, rename_noreplace_eexist);
	tcase_add_test(tc, rename_exchange_lower_files);
	tcase_add_test(tc, rename_exchange_dir_onto_name_over_lower_dir_opaque);
	tcase_add_test(tc, rename_dir_below_redirect);
	tcase_add_test(tc, rename_dir_onto_empty_merged_dir_opaque);
	tcase_add_test(tc, rename_dir_onto_whited_out_name_opaque);
	tcase_add_test(tc, rename_onto_nonempty_dir_enotempty);
	tcase_add_test(tc, rename_bad_flags_einval);
	tcase_add_test(tc, rename_to_wh_name_einval);
	tcase_add_test(tc, rename_dir_into_own_subdir_einval);
	tcase_add_test(tc, mkdir_over_chr_whiteout);
	tcase_add_test(tc, rename_dir_onto_chr_whiteout);
	suite_add_tcase(s, tc);
	return s;
}
