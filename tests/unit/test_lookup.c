/* test_lookup.c: resolution in the union namespace (lookup.h): which layer
 * wins, whiteouts and opaque dirs in OCI and overlayfs form, reserved
 * ".wh." names, symlinks and ".." inside the union, the errors of a walk,
 * and the maps between union paths and real layer paths.
 *
 * Each test builds its layer tree in the fixture's scratch dir (layer 0 is
 * upper, 1 low1, 2 low2; the target dir itself stays empty, so anything
 * found below it was found by the union, not by the kernel). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unionshim/lcache.h"
#include "unionshim/lookup.h"
#include "unit.h"

static struct us_resolved r;

#define M0 (&ut.cfg.mounts[0])

/* UPATH resolves inside the union to union path WANT, an existing object of
 * TYPE (S_IFREG, ...) from LAYER. */
static void found_as(const char *upath, unsigned flags, const char *want,
		     int layer, mode_t type)
{
	errno = 0;
	ck_assert_msg(us_resolve(&ut.cfg, upath, flags, &r) == 0,
		      "resolve %s: %s", upath, strerror(errno));
	ck_assert_msg(r.where == US_INSIDE, "%s: not inside", upath);
	ck_assert_msg(r.err == 0, "%s: err %s", upath, strerror(r.err));
	ck_assert_msg(strcmp(r.path, want) == 0, "%s: path %s, want %s", upath,
		      r.path, want);
	ck_assert_msg(r.node.layer == layer, "%s: layer %d, want %d", upath,
		      r.node.layer, layer);
	ck_assert_msg((r.node.mode & S_IFMT) == type, "%s: mode %o", upath,
		      (unsigned)r.node.mode);
}

/* Union path REL (below the target) exists in LAYER with TYPE. */
static void found(const char *rel, int layer, mode_t type)
{
	found_as(ut_u(rel), 0, ut_u(rel), layer, type);
}

/* Union path REL's final component does not exist; its parent does. */
static void missing(const char *rel)
{
	errno = 0;
	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), 0, &r) == 0,
		      "resolve %s: %s", rel, strerror(errno));
	ck_assert_msg(r.err == ENOENT, "%s: found (layer %d), want ENOENT",
		      rel, r.node.layer);
	ck_assert_msg(r.parent_ok, "%s: parent not ok", rel);
	ck_assert_msg(r.where == US_INSIDE, "%s: not inside", rel);
}

/* Resolving UPATH fails before its final component with errno E. */
static void fails(const char *upath, unsigned flags, int e)
{
	errno = 0;
	ck_assert_msg(us_resolve(&ut.cfg, upath, flags, &r) == -1,
		      "resolve %s succeeded (err %d, path %s)", upath, r.err,
		      r.path);
	ck_assert_msg(errno == e, "%s: errno %s, want %s", upath,
		      strerror(errno), strerror(e));
}

/* UPATH stays in the real filesystem as WANT. */
static void outside(const char *upath, const char *want)
{
	ck_assert_msg(us_resolve(&ut.cfg, upath, 0, &r) == 0, "resolve %s: %s",
		      upath, strerror(errno));
	ck_assert_msg(r.where == US_OUTSIDE, "%s: inside", upath);
	ck_assert_msg(strcmp(r.path, want) == 0, "%s: path %s, want %s", upath,
		      r.path, want);
}

/* --------------------------------------------------------- precedence */

START_TEST(upper_wins)
{
	ut_file(ut.upper, "f", "u");
	ut_file(ut.low1, "f", "1");
	ut_file(ut.low2, "f", "2");
	ut_file(ut.low1, "g", "1");
	ut_file(ut.low2, "g", "2");
	ut_file(ut.low2, "h", "2");
	ut_load();
	found("f", 0, S_IFREG);
	ck_assert(r.parent_ok);
	ck_assert_uint_eq(r.parent.dirs, 7);
	found("g", 1, S_IFREG);
	found("h", 2, S_IFREG);
	found("", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 7);
}
END_TEST

START_TEST(nondir_hides_below)
{
	ut_file(ut.upper, "d", "file over dir");
	ut_file(ut.low1, "d/x", "");
	ut_file(ut.low1, "e", "");
	ut_file(ut.low2, "e/x", "");
	ut_mkdir(ut.upper, "g");
	ut_file(ut.low1, "g", "file between dirs");
	ut_file(ut.low2, "g/y", "");
	ut_link(ut.upper, "s", "nowhere");
	ut_file(ut.low1, "s/z", "");
	ut_load();
	found("d", 0, S_IFREG);
	ck_assert_uint_eq(r.node.dirs, 0);
	fails(ut_u("d/x"), 0, ENOTDIR);
	found("e", 1, S_IFREG);
	fails(ut_u("e/x"), 0, ENOTDIR);
	found("g", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 1); /* the file in low1 cuts low2 off */
	missing("g/y");
	found_as(ut_u("s"), US_LOOKUP_NOFOLLOW, ut_u("s"), 0, S_IFLNK);
	fails(ut_u("s/z"), 0, ENOENT); /* the dangling link hides low1's dir */
}
END_TEST

START_TEST(dirs_merge)
{
	ut_file(ut.upper, "d/a", "");
	ut_file(ut.low1, "d/b", "");
	ut_file(ut.low2, "d/c", "");
	ut_mkdir(ut.low1, "m");
	ut_mkdir(ut.low2, "m");
	ut_file(ut.low2, "n/p/q", "");
	ut_load();
	found("d", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 7);
	found("d/a", 0, S_IFREG);
	found("d/b", 1, S_IFREG);
	found("d/c", 2, S_IFREG);
	ck_assert_uint_eq(r.parent.dirs, 7);
	found("m", 1, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 6);
	found("n", 2, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 4);
	found("n/p/q", 2, S_IFREG);
}
END_TEST

/* ------------------------------------------------ whiteouts and opaque */

START_TEST(oci_whiteout_hides_lower)
{
	ut_file(ut.low1, ".wh.f", "");
	ut_file(ut.low2, "f", "");
	ut_file(ut.upper, ".wh.d", "");
	ut_file(ut.low1, "d/x", "");
	ut_mkdir(ut.upper, "k");
	ut_file(ut.low1, ".wh.k", "");
	ut_file(ut.low2, "k/z", "");
	ut_mkdir(ut.upper, "x");
	ut_file(ut.low1, "x/.wh.y", "");
	ut_file(ut.low2, "x/y", "");
	ut_file(ut.low2, "x/y2", "");
	ut_file(ut.low1, "w", "");
	ut_file(ut.low2, ".wh.w", ""); /* hides nothing above it */
	ut_load();
	missing("f");
	missing("d");
	fails(ut_u("d/x"), 0, ENOENT);
	found("k", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 1);
	missing("k/z");
	found("x", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 7);
	missing("x/y");
	found("x/y2", 2, S_IFREG);
	found("w", 1, S_IFREG);
}
END_TEST

START_TEST(chr_whiteout_hides_lower)
{
	int e = ut_chr_whiteout(ut.low1, "f");
	if (e == EPERM)
		ut_skip("mknod of a 0/0 char device: %s", strerror(e));
	ck_assert_int_eq(e, 0);
	ut_file(ut.low2, "f", "");
	ut_mkdir(ut.upper, "k");
	ck_assert_int_eq(ut_chr_whiteout(ut.low1, "k"), 0);
	ut_file(ut.low2, "k/z", "");
	ck_assert_int_eq(ut_chr_whiteout(ut.upper, "sub/g"), 0);
	ut_file(ut.low1, "sub/g", "");
	/* a real device is no whiteout */
	ck_assert_int_eq(mknod(ut_p(ut.low1, "null"), S_IFCHR | 0666,
			       makedev(1, 3)),
			 0);
	ut_file(ut.low2, "null", "");
	ut_load();
	missing("f");
	found("k", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 1);
	missing("k/z");
	missing("sub/g");
	found("null", 1, S_IFCHR);
}
END_TEST

START_TEST(opaque_by_wh_file)
{
	ut_file(ut.upper, "o/.wh..wh..opq", "");
	ut_file(ut.upper, "o/a", "");
	ut_file(ut.low1, "o/b", "");
	ut_file(ut.upper, "p/a", "");
	ut_file(ut.low1, "p/.wh..wh..opq", "");
	ut_file(ut.low1, "p/b", "");
	ut_file(ut.low2, "p/c", "");
	ut_load();
	found("o", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 1);
	found("o/a", 0, S_IFREG);
	missing("o/b");
	found("p", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 3);
	found("p/b", 1, S_IFREG);
	missing("p/c");
}
END_TEST

/* Dir o in upper made opaque by xattr NAME hides low1's o; "n" does not. */
static void opaque_by_xattr(const char *name)
{
	ut_file(ut.upper, "o/a", "");
	ut_file(ut.low1, "o/b", "");
	ut_file(ut.upper, "q/a", "");
	ut_file(ut.low1, "q/b", "");
	int e = ut_xattr(ut.upper, "o", name, "y");
	if (e == ENOTSUP || e == EPERM)
		ut_skip("%s: %s", name, strerror(e));
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(ut_xattr(ut.upper, "q", name, "n"), 0);
	ut_load();
	found("o", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 1);
	found("o/a", 0, S_IFREG);
	missing("o/b");
	found("q", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 3);
	found("q/b", 1, S_IFREG);
}

START_TEST(opaque_by_user_xattr)
{
	opaque_by_xattr("user.overlay.opaque");
}
END_TEST

START_TEST(opaque_by_trusted_xattr)
{
	opaque_by_xattr("trusted.overlay.opaque");
}
END_TEST

START_TEST(opaque_lower_root)
{
	ut_file(ut.low1, ".wh..wh..opq", "");
	ut_file(ut.low1, "a", "");
	ut_file(ut.low2, "b", "");
	ut_load();
	found("", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 3);
	found("a", 1, S_IFREG);
	missing("b");
}
END_TEST

START_TEST(reserved_names_never_found)
{
	ut_file(ut.upper, ".wh.f", "");
	ut_file(ut.low1, "f", "");
	ut_file(ut.low2, ".wh.plain", "");
	ut_file(ut.upper, "o/.wh..wh..opq", "");
	ut_mkdir(ut.low2, ".wh.dir/x");
	ut_load();
	missing(".wh.f");
	missing(".wh.plain");
	missing("o/.wh..wh..opq");
	missing(".wh.");
	fails(ut_u(".wh.dir/x"), 0, ENOENT);
	found("", 0, S_IFDIR);
	struct us_node root = r.node, child;
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, ".wh.f", &child),
			 ENOENT);
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, ".wh.dir",
					 &child),
			 ENOENT);
}
END_TEST

/* ------------------------------------------------- symlinks and ".." */

START_TEST(symlink_relative)
{
	ut_link(ut.upper, "l", "d/x");
	ut_file(ut.low2, "d/x", "");
	ut_link(ut.low1, "sub/rel", "../d/./x");
	ut_link(ut.low1, "ld", "d");
	ut_link(ut.upper, "chain", "l");
	ut_load();
	found_as(ut_u("l"), 0, ut_u("d/x"), 2, S_IFREG);
	found_as(ut_u("sub/rel"), 0, ut_u("d/x"), 2, S_IFREG);
	found_as(ut_u("ld/x"), 0, ut_u("d/x"), 2, S_IFREG);
	found_as(ut_u("chain"), 0, ut_u("d/x"), 2, S_IFREG);
	found_as(ut_u("ld"), 0, ut_u("d"), 2, S_IFDIR);
}
END_TEST

START_TEST(symlink_absolute)
{
	char to[PATH_MAX];

	/* T/only/low exists only in low2: the kernel could not follow this */
	snprintf(to, sizeof to, "%s", ut_u("only/low"));
	ut_link(ut.low1, "abs", to);
	ut_file(ut.low2, "only/low", "");
	snprintf(to, sizeof to, "%s", ut_u("only"));
	ut_link(ut.upper, "absdir", to);
	ut_link(ut.upper, "out", "/etc");
	ut_link(ut.upper, "root", "/");
	ut_load();
	found_as(ut_u("abs"), 0, ut_u("only/low"), 2, S_IFREG);
	found_as(ut_u("absdir/low"), 0, ut_u("only/low"), 2, S_IFREG);
	outside(ut_u("out"), "/etc");
	outside(ut_u("out/passwd"), "/etc/passwd");
	outside(ut_u("root"), "/");
	outside(ut_u("root/etc/passwd"), "/etc/passwd");
}
END_TEST

START_TEST(dotdot_at_target_root_leaves)
{
	ut_file(ut.low2, "f", "");
	ut_mkdir(ut.low1, "d");
	ut_link(ut.upper, "up", "../upper");
	ut_load();
	outside(ut_u(".."), ut.root);
	outside(ut_u("../upper"), ut.upper);
	outside(ut_u("d/../.."), ut.root);
	outside(ut_u("up"), ut.upper);
	found_as(ut_u("../target/f"), 0, ut_u("f"), 2, S_IFREG);
	found_as(ut_u("d/../f"), 0, ut_u("f"), 2, S_IFREG);
}
END_TEST

START_TEST(dotdot_after_symlink)
{
	ut_mkdir(ut.low1, "a/b");
	ut_file(ut.low2, "a/sib", "");
	ut_link(ut.upper, "l", "a/b");
	ut_file(ut.upper, "sib2", "");
	ut_file(ut.low1, "a/sib2", "");
	ut_load();
	found_as(ut_u("l/../sib"), 0, ut_u("a/sib"), 2, S_IFREG);
	found_as(ut_u("l/../sib2"), 0, ut_u("a/sib2"), 1, S_IFREG);
	found_as(ut_u("l/.."), 0, ut_u("a"), 1, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 6);
}
END_TEST

START_TEST(symlink_loop_eloop)
{
	ut_link(ut.upper, "a", "b");
	ut_link(ut.low1, "b", "a");
	ut_link(ut.low2, "self", "./self");
	ut_link(ut.upper, "d/up", "..");
	ut_load();
	fails(ut_u("a"), 0, ELOOP);
	fails(ut_u("a/x"), 0, ELOOP);
	fails(ut_u("self"), 0, ELOOP);
	found_as(ut_u("a"), US_LOOKUP_NOFOLLOW, ut_u("a"), 0, S_IFLNK);
	/* a long but finite walk is no loop */
	found_as(ut_u("d/up/d/up/d/up/d/up/d"), 0, ut_u("d"), 0, S_IFDIR);
}
END_TEST

START_TEST(through_a_file_enotdir)
{
	ut_file(ut.low2, "f", "");
	ut_link(ut.upper, "lf", "f");
	ut_load();
	fails(ut_u("f/x"), 0, ENOTDIR);
	fails(ut_u("f/x/y"), 0, ENOTDIR);
	fails(ut_u("f/."), 0, ENOTDIR);
	fails(ut_u("f/.."), 0, ENOTDIR);
	fails(ut_u("lf/x"), 0, ENOTDIR);
}
END_TEST

START_TEST(final_enoent)
{
	ut_mkdir(ut.low1, "d");
	ut_link(ut.upper, "dang", "nothere");
	ut_load();
	missing("d/missing");
	ck_assert_str_eq(r.path, ut_u("d/missing"));
	ck_assert_ptr_eq(r.m, M0);
	ck_assert_uint_eq(r.parent.dirs, 2);
	ck_assert_int_eq(r.parent.layer, 1);
	missing("d/missing/");
	ck_assert_str_eq(r.path, ut_u("d/missing"));
	fails(ut_u("missing/x"), 0, ENOENT);
	fails(ut_u("d/missing/x"), 0, ENOENT);
	/* a dangling link names what creating through it would make */
	missing("dang");
	ck_assert_str_eq(r.path, ut_u("nothere"));
	ck_assert_uint_eq(r.parent.dirs, 7);
}
END_TEST

START_TEST(nofollow_keeps_final_symlink)
{
	ut_link(ut.upper, "l", "d/x");
	ut_link(ut.low1, "ld", "d");
	ut_file(ut.low2, "d/x", "");
	ut_load();
	found_as(ut_u("l"), US_LOOKUP_NOFOLLOW, ut_u("l"), 0, S_IFLNK);
	ck_assert(r.parent_ok);
	/* only the final component is kept */
	found_as(ut_u("ld/x"), US_LOOKUP_NOFOLLOW, ut_u("d/x"), 2, S_IFREG);
	/* a trailing slash asks for the dir behind the link */
	found_as(ut_u("ld/"), US_LOOKUP_NOFOLLOW, ut_u("d"), 2, S_IFDIR);
	found_as(ut_u("ld"), US_LOOKUP_NOFOLLOW, ut_u("ld"), 1, S_IFLNK);
}
END_TEST

START_TEST(trailing_slash_on_file_enotdir)
{
	ut_file(ut.low2, "f", "");
	ut_link(ut.upper, "lf", "f");
	ut_mkdir(ut.low1, "d");
	ut_load();
	fails(ut_u("f/"), 0, ENOTDIR);
	fails(ut_u("f//"), 0, ENOTDIR);
	fails(ut_u("lf/"), 0, ENOTDIR);
	found_as(ut_u("d/"), 0, ut_u("d"), 1, S_IFDIR);
	found_as(ut_u("lf"), 0, ut_u("f"), 2, S_IFREG);
}
END_TEST

START_TEST(long_name_enametoolong)
{
	char name[NAME_MAX + 2];

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	ut_load();
	fails(ut_u(name), 0, ENAMETOOLONG);
}
END_TEST

START_TEST(deep_dotdot_beyond_stack)
{
	/* 70 levels in low1, 66 in low2 with a file at the bottom: walking
	 * back up past the resolver's stack of 64 nodes must find low2 again */
	char chain[PATH_MAX] = "", f66[PATH_MAX] = "", q[PATH_MAX];
	char want[PATH_MAX];

	for (int i = 0; i < 70; i++) {
		strcat(chain, i ? "/a" : "a");
		if (i == 65)
			snprintf(f66, sizeof f66, "%s/f", chain);
	}
	ut_mkdir(ut.low1, chain);
	ut_file(ut.low2, f66, "");
	ut_load();
	snprintf(q, sizeof q, "%s/../../../../f", chain);
	snprintf(want, sizeof want, "%s", ut_u(f66));
	found_as(ut_u(q), 0, want, 2, S_IFREG);
	ck_assert_uint_eq(r.parent.dirs, 6);
}
END_TEST

/* ------------------------------------------------ outside and mapping */

START_TEST(outside_paths_unchanged)
{
	const char *p = ut_cat(ut.target, "x/y"); /* a name sharing a prefix */

	ut_file(ut.upper, "f", "");
	ut_load();
	outside("/etc/passwd", "/etc/passwd");
	outside("/", "/");
	outside("/no/such/dir/x", "/no/such/dir/x");
	outside(ut_p(ut.upper, "f"), ut_p(ut.upper, "f"));
	outside(ut.root, ut.root);
	outside(p, p);
	ck_assert_int_eq(r.err, 0);
}
END_TEST

START_TEST(touches_union)
{
	ut_load();
	ck_assert(us_touches_union(&ut.cfg, ut.target));
	ck_assert(us_touches_union(&ut.cfg, ut_u("x/y")));
	ck_assert(us_touches_union(&ut.cfg, ut_u("../upper")));
	ck_assert(us_touches_union(&ut.cfg, ut_cat("/..", ut.target)));
	ck_assert(us_touches_union(&ut.cfg, ut_p(ut.upper, "../target/x")));
	ck_assert(!us_touches_union(&ut.cfg, ut.root));
	ck_assert(!us_touches_union(&ut.cfg, ut.upper));
	ck_assert(!us_touches_union(&ut.cfg, "/etc/passwd"));
	ck_assert(!us_touches_union(&ut.cfg, "/"));
	ck_assert(!us_touches_union(&ut.cfg, ut_cat(ut.target, "x")));
	ck_assert(!us_touches_union(&ut.cfg, ut_p(ut.root, "./target2")));
}
END_TEST

START_TEST(mount_of)
{
	ut_load();
	ck_assert_ptr_eq(us_mount_of(&ut.cfg, ut.target), M0);
	ck_assert_ptr_eq(us_mount_of(&ut.cfg, ut_u("a/b")), M0);
	ck_assert_ptr_null(us_mount_of(&ut.cfg, ut.root));
	ck_assert_ptr_null(us_mount_of(&ut.cfg, ut.low1));
	ck_assert_ptr_null(us_mount_of(&ut.cfg, ut_cat(ut.target, "x")));
}
END_TEST

/* An upper dir with a redirect record (redirect.h) merges with the
 * lowers' dir at the record's path, in every lower of the mount (even one
 * its parent has no dir in), never with the lowers' dir of its own name;
 * names below it and lower paths built from union paths follow it. */
START_TEST(redirect_followed)
{
	char out[PATH_MAX];

	ut_file(ut.low1, "old/sub/f", "f");
	ut_file(ut.low2, "old/g", "g");
	ut_file(ut.low1, "new/hidden", "");
	ut_file(ut.low2, "p", "a file where the parent is in low2");
	ut_mkdir(ut.upper, "p/new");
	ut_mkdir(ut.upper, "new");
	ut_mkdir(ut.upper, "p/new/sub");
	int e = ut_xattr(ut.upper, "p/new", "user.unionshim.redirect", "/old");
	if (e == ENOTSUP || e == EPERM)
		ut_skip("user xattrs: %s", strerror(e));
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(ut_xattr(ut.upper, "new", "user.unionshim.redirect",
				  "/old/sub"), 0);
	ut_load();
	found("p/new", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 7); /* upper, low1 and low2 at /old */
	found("p/new/g", 2, S_IFREG);
	found("p/new/sub", 0, S_IFDIR);
	ck_assert_uint_eq(r.node.dirs, 3);
	found("p/new/sub/f", 1, S_IFREG);
	ck_assert_int_eq(us_layer_path(M0, 1, ut_u("p/new/sub/f"), out, sizeof out), 0);
	ck_assert_str_eq(out, ut_p(ut.low1, "old/sub/f"));
	ck_assert_int_eq(us_layer_path(M0, 2, ut_u("p/new"), out, sizeof out), 0);
	ck_assert_str_eq(out, ut_p(ut.low2, "old"));
	ck_assert_int_eq(us_layer_path(M0, 0, ut_u("p/new"), out, sizeof out), 0);
	ck_assert_str_eq(out, ut_p(ut.upper, "p/new"));
	found("new", 0, S_IFDIR);
	found("new/f", 1, S_IFREG);
	missing("new/hidden"); /* its own name's lower dir is not merged */
	ck_assert_str_eq(ut_union_names("new"), "f");
	ck_assert_str_eq(ut_union_names("p/new"), "g sub");
	/* a malformed record is no record */
	ck_assert_int_eq(ut_xattr(ut.upper, "new", "user.unionshim.redirect",
				  "../old"), 0);
	us_lcache_forget(); /* changed from outside the union */
	ut_load();
	found("new/hidden", 1, S_IFREG);
	missing("new/f");
}
END_TEST

START_TEST(layer_path)
{
	char out[PATH_MAX];

	ut_load();
	ck_assert_int_eq(us_layer_path(M0, 2, ut_u("d/x"), out, sizeof out), 0);
	ck_assert_str_eq(out, ut_p(ut.low2, "d/x"));
	ck_assert_int_eq(us_layer_path(M0, 0, ut.target, out, sizeof out), 0);
	ck_assert_str_eq(out, ut.upper);
	errno = 0;
	ck_assert_int_eq(us_layer_path(M0, 1, ut_u("d/x"), out,
				       strlen(ut.low1) + 4),
			 -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(us_layer_path(M0, 1, ut_u("d/x"), out,
				       strlen(ut.low1) + 5),
			 0);
}
END_TEST

START_TEST(revmap)
{
	char out[PATH_MAX];
	const struct us_mount *m = NULL;

	ut_load();
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.upper, "d/x"), out,
				   sizeof out, &m),
			 1);
	ck_assert_str_eq(out, ut_u("d/x"));
	ck_assert_ptr_eq(m, M0);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut.low2, out, sizeof out, &m), 1);
	ck_assert_str_eq(out, ut.target);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.low1, "a/b"), out,
				   sizeof out, NULL),
			 1);
	ck_assert_str_eq(out, ut_u("a/b"));
	/* the work dir is private: it maps to nothing */
	ck_assert_int_eq(us_revmap(&ut.cfg, ut.work, out, sizeof out, &m), 0);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.work, "x"), out,
				   sizeof out, &m),
			 0);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut.root, out, sizeof out, &m), 0);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.root, "low1x"), out,
				   sizeof out, &m),
			 0);
	ck_assert_int_eq(us_revmap(&ut.cfg, "/etc", out, sizeof out, &m), 0);
	errno = 0;
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.low1, "a/b"), out,
				   strlen(ut.target) + 2, &m),
			 -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

START_TEST(revmap_refuses_work_inside_a_layer)
{
	/* validation keeps the work dir apart from every layer; revmap must
	 * not depend on that to keep it private */
	struct us_config c;
	char e[256], out[PATH_MAX];

	ck_assert_int_eq(us_config_parse("target=/t,lowerdir=/l,upperdir=/u,"
					 "workdir=/u/.work",
					 &c, e, sizeof e),
			 0);
	c.mounts[0].target_len = strlen(c.mounts[0].target);
	ck_assert_int_eq(us_revmap(&c, "/u/.work/x", out, sizeof out, NULL), 0);
	ck_assert_int_eq(us_revmap(&c, "/u/.work", out, sizeof out, NULL), 0);
	ck_assert_int_eq(us_revmap(&c, "/u/.workx", out, sizeof out, NULL), 1);
	ck_assert_str_eq(out, "/t/.workx");
	us_config_free(&c);
}
END_TEST

START_TEST(lookup_child)
{
	struct us_node root, child;

	ut_file(ut.low1, "f", "");
	ut_mkdir(ut.upper, "d");
	ut_mkdir(ut.low2, "d");
	ut_load();
	found("", 0, S_IFDIR);
	root = r.node;
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, "f", &child), 0);
	ck_assert_int_eq(child.layer, 1);
	ck_assert(S_ISREG(child.mode));
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, "d", &child), 0);
	ck_assert_int_eq(child.layer, 0);
	ck_assert_uint_eq(child.dirs, 5);
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, "nope", &child),
			 ENOENT);
	/* only the layers in the dir's mask are asked */
	root.dirs = 1;
	ck_assert_int_eq(us_lookup_child(M0, ut.target, &root, "f", &child),
			 ENOENT);
}
END_TEST

/* ------------------------------------------------------ other layouts */

START_TEST(in_place_mount)
{
	ut_file(ut.low1, "f", "");
	ut_file(ut.upper, "g", "");
	ut_file(ut.low2, "h", "");
	ut_file(ut.upper, ".wh.f", "");
	ut_file(ut.low1, "k", "");
	ut_load_spec("target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s",
		     ut.low1, ut.low1, ut.low2, ut.upper, ut.work);
	char out[PATH_MAX];
	found_as(ut_p(ut.low1, "g"), 0, ut_p(ut.low1, "g"), 0, S_IFREG);
	found_as(ut_p(ut.low1, "h"), 0, ut_p(ut.low1, "h"), 2, S_IFREG);
	found_as(ut_p(ut.low1, "k"), 0, ut_p(ut.low1, "k"), 1, S_IFREG);
	ck_assert_int_eq(us_resolve(&ut.cfg, ut_p(ut.low1, "f"), 0, &r), 0);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_int_eq(us_revmap(&ut.cfg, ut_p(ut.upper, "g"), out,
				   sizeof out, NULL),
			 1);
	ck_assert_str_eq(out, ut_p(ut.low1, "g"));
}
END_TEST

START_TEST(read_only_mount)
{
	ut_file(ut.low1, "f", "");
	ut_file(ut.low2, "g", "");
	ut_file(ut.upper, "h", "");
	ut_load_spec("target=%s,lowerdir=%s:%s", ut.target, ut.low1, ut.low2);
	ck_assert_int_eq(M0->has_upper, 0);
	found("f", 0, S_IFREG);
	found("g", 1, S_IFREG);
	missing("h");
}
END_TEST

START_TEST(two_mounts)
{
	char to[PATH_MAX], t2[PATH_MAX], lb[PATH_MAX];

	snprintf(t2, sizeof t2, "%s", ut_p(ut.root, "t2"));
	snprintf(lb, sizeof lb, "%s", ut_p(ut.root, "lb"));
	ut_mkdir(t2, "");
	ut_file(lb, "file", "");
	ut_file(ut.low2, "f", "");
	snprintf(to, sizeof to, "%s", ut_p(t2, "file"));
	ut_link(ut.low1, "tob", to);
	ut_load_spec("target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s;"
		     "target=%s,lowerdir=%s",
		     ut.target, ut.low1, ut.low2, ut.upper, ut.work, t2, lb);
	found_as(ut_u("tob"), 0, to, 0, S_IFREG);
	ck_assert_ptr_eq(r.m, &ut.cfg.mounts[1]);
	found_as(ut_p(t2, "../target/f"), 0, ut_u("f"), 2, S_IFREG);
	ck_assert_ptr_eq(r.m, M0);
	ck_assert_ptr_eq(us_mount_of(&ut.cfg, to), &ut.cfg.mounts[1]);
}
END_TEST

Suite *lookup_suite(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc = tcase_create("lookup");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, upper_wins);
	tcase_add_test(tc, nondir_hides_below);
	tcase_add_test(tc, dirs_merge);
	tcase_add_test(tc, oci_whiteout_hides_lower);
	tcase_add_test(tc, chr_whiteout_hides_lower);
	tcase_add_test(tc, opaque_by_wh_file);
	tcase_add_test(tc, opaque_by_user_xattr);
	tcase_add_test(tc, opaque_by_trusted_xattr);
	tcase_add_test(tc, opaque_lower_root);
	tcase_add_test(tc, redirect_followed);
	tcase_add_test(tc, reserved_names_never_found);
	tcase_add_test(tc, symlink_relative);
	tcase_add_test(tc, symlink_absolute);
	tcase_add_test(tc, dotdot_at_target_root_leaves);
	tcase_add_test(tc, dotdot_after_symlink);
	tcase_add_test(tc, symlink_loop_eloop);
	tcase_add_test(tc, through_a_file_enotdir);
	tcase_add_test(tc, final_enoent);
	tcase_add_test(tc, nofollow_keeps_final_symlink);
	tcase_add_test(tc, trailing_slash_on_file_enotdir);
	tcase_add_test(tc, long_name_enametoolong);
	tcase_add_test(tc, deep_dotdot_beyond_stack);
	tcase_add_test(tc, outside_paths_unchanged);
	tcase_add_test(tc, touches_union);
	tcase_add_test(tc, mount_of);
	tcase_add_test(tc, layer_path);
	tcase_add_test(tc, revmap);
	tcase_add_test(tc, revmap_refuses_work_inside_a_layer);
	tcase_add_test(tc, lookup_child);
	tcase_add_test(tc, in_place_mount);
	tcase_add_test(tc, read_only_mount);
	tcase_add_test(tc, two_mounts);
	suite_add_tcase(s, tc);
	return s;
}
