/* test_copyup.c: copying union objects into the upper layer (copyup.h):
 * a faithful copy (data with its holes, mode, owner, times, user.* xattrs,
 * never security.capability) of files, symlinks and fifos, metadata-only
 * copies, whole ancestor chains of dirs, copy-ups that find the upper
 * object already there, and the work dir's cleaning after crashes. The
 * tests run as root where they set owners and security.* xattrs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/event.h"
#include "unionshim/identity.h"
#include "unionshim/lookup.h"
#include "unionshim/unionops.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

/* Resolve union path REL (an existing object; a final symlink not
 * followed) into r. */
static void resolve(const char *rel)
{
	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) == 0,
		      "resolve %s: %s", rel, strerror(errno));
	ck_assert_msg(r.where == US_INSIDE && r.err == 0, "%s: err %s", rel,
		      strerror(r.err));
}

/* Resolve REL and copy it up (DATA as us_copyup's). */
static void copyup(const char *rel, bool data)
{
	resolve(rel);
	ck_assert_msg(us_copyup(M0, r.path, &r.node, data) == 0,
		      "copy-up %s: %s", rel, strerror(errno));
}

static struct stat lst(const char *base, const char *rel)
{
	struct stat st;

	ck_assert_msg(lstat(ut_p(base, rel), &st) == 0, "lstat %s/%s: %s",
		      base, rel, strerror(errno));
	return st;
}

static int exists(const char *base, const char *rel)
{
	struct stat st;

	return lstat(ut_p(base, rel), &st) == 0;
}

/* Set owner and times (atime, mtime: seconds + nanoseconds) of BASE/REL
 * without following a symlink. */
static void set_meta(const char *base, const char *rel, uid_t uid, gid_t gid,
		     time_t at, long atn, time_t mt, long mtn)
{
	const char *p = ut_p(base, rel);
	struct timespec ts[2] = {{at, atn}, {mt, mtn}};

	ck_assert_msg(lchown(p, uid, gid) == 0, "lchown %s: %s", p,
		      strerror(errno));
	ck_assert(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == 0);
}

static void same_times(const struct stat *a, const struct stat *b)
{
	ck_assert_int_eq(a->st_atim.tv_sec, b->st_atim.tv_sec);
	ck_assert_int_eq(a->st_atim.tv_nsec, b->st_atim.tv_nsec);
	ck_assert_int_eq(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	ck_assert_int_eq(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
}

static void same_mtime(const struct stat *a, const struct stat *b)
{
	ck_assert_int_eq(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	ck_assert_int_eq(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
}

static const char *content(const char *base, const char *rel)
{
	static char buf[256];
	int fd = open(ut_p(base, rel), O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s/%s: %s", base, rel, strerror(errno));
	ssize_t n = read(fd, buf, sizeof buf - 1);
	ck_assert(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* A file capability (v2: cap_net_raw permitted and effective). */
static int set_capability(const char *path)
{
	struct vfs_cap_data cap;

	memset(&cap, 0, sizeof cap);
	cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
	cap.data[0].permitted = 1u << CAP_NET_RAW;
	return setxattr(path, "security.capability", &cap, XATTR_CAPS_SZ_2, 0) == 0
		       ? 0
		       : errno;
}

/* ------------------------------------------------------------ objects */

START_TEST(copyup_regular_file_faithful)
{
	ut_mkdir(ut.upper, "d");
	ut_file(ut.low1, "d/f", "hello, lower");
	ut_file(ut.low2, "d/f", "hidden");
	ck_assert_int_eq(ut_xattr(ut.low1, "d/f", "user.k", "v1"), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "d/f"), 0640), 0);
	set_meta(ut.low1, "d/f", 1234, 5678, 1000000000, 123456789, 1100000000,
		 987654321);
	int e = set_capability(ut_p(ut.low1, "d/f")); /* after chown, which drops it */
	if (e)
		ut_skip("setxattr security.capability: %s", strerror(e));
	char v[64];
	ck_assert_int_gt(getxattr(ut_p(ut.low1, "d/f"), "security.capability", v,
				  sizeof v),
			 0);
	set_meta(ut.upper, "d", 0, 0, 900000000, 1, 900000000, 2);
	struct stat parent0 = lst(ut.upper, "d"), low0 = lst(ut.low1, "d/f");
	ut_load();
	ut_lowers_snap();

	copyup("d/f", true);

	struct stat up = lst(ut.upper, "d/f");
	ck_assert(S_ISREG(up.st_mode));
	ck_assert_str_eq(content(ut.upper, "d/f"), "hello, lower");
	ck_assert_uint_eq(up.st_mode & 07777, 0640);
	ck_assert_uint_eq(up.st_uid, 1234);
	ck_assert_uint_eq(up.st_gid, 5678);
	same_times(&up, &low0);
	ck_assert_int_eq(up.st_atim.tv_sec, 1000000000);
	ck_assert_int_eq(up.st_mtim.tv_nsec, 987654321);
	ssize_t n = getxattr(ut_p(ut.upper, "d/f"), "user.k", v, sizeof v);
	ck_assert_int_eq(n, 2);
	ck_assert_mem_eq(v, "v1", 2);
	errno = 0;
	ck_assert_int_eq(getxattr(ut_p(ut.upper, "d/f"), "security.capability",
				  v, sizeof v),
			 -1);
	ck_assert_int_eq(errno, ENODATA);
	/* a copy-up is no change of the parent */
	struct stat parent1 = lst(ut.upper, "d");
	same_times(&parent1, &parent0);
	/* the union now finds the upper copy */
	resolve("d/f");
	ck_assert_int_eq(r.node.layer, 0);
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

START_TEST(copyup_sparse_keeps_holes)
{
	const off_t size = 64 << 20;
	ut_file(ut.low1, "sp", "");
	int fd = open(ut_p(ut.low1, "sp"), O_WRONLY | O_CLOEXEC);
	ck_assert(fd >= 0);
	char block[4096];
	memset(block, 'x', sizeof block);
	ck_assert(pwrite(fd, block, sizeof block, 0) == (ssize_t)sizeof block);
	ck_assert(pwrite(fd, block, sizeof block, size / 2) ==
		  (ssize_t)sizeof block);
	ck_assert(ftruncate(fd, size) == 0);
	close(fd);
	struct stat low = lst(ut.low1, "sp");
	if (low.st_blocks * 512 >= size / 2)
		ut_skip("the lower filesystem makes no holes");
	ut_load();

	copyup("sp", true);

	struct stat up = lst(ut.upper, "sp");
	ck_assert_int_eq(up.st_size, size);
	ck_assert_int_le(up.st_blocks, low.st_blocks);
	fd = open(ut_p(ut.upper, "sp"), O_RDONLY | O_CLOEXEC);
	ck_assert(fd >= 0);
	char got[4096];
	ck_assert(pread(fd, got, sizeof got, size / 2) == (ssize_t)sizeof got);
	ck_assert_mem_eq(got, block, sizeof got);
	ck_assert(pread(fd, got, 16, size / 4) == 16);
	ck_assert_mem_eq(got, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	close(fd);
	ut_work_clean();
}
END_TEST

START_TEST(copyup_symlink)
{
	ut_link(ut.low2, "d/l", "some/where");
	set_meta(ut.low2, "d/l", 1234, 5678, 1000000000, 5, 1100000000, 7);
	ut_mkdir(ut.low1, "d");
	struct stat low = lst(ut.low2, "d/l");
	ut_load();
	ut_lowers_snap();

	copyup("d/l", true);

	struct stat up = lst(ut.upper, "d/l");
	ck_assert(S_ISLNK(up.st_mode));
	char t[64];
	ssize_t n = readlink(ut_p(ut.upper, "d/l"), t, sizeof t);
	ck_assert_int_eq(n, 10);
	ck_assert_mem_eq(t, "some/where", 10);
	ck_assert_uint_eq(up.st_uid, 1234);
	ck_assert_uint_eq(up.st_gid, 5678);
	same_mtime(&up, &low);
	resolve("d/l");
	ck_assert_int_eq(r.node.layer, 0);
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

START_TEST(copyup_fifo)
{
	ut_mkdir(ut.low1, "d");
	ck_assert_int_eq(mkfifo(ut_p(ut.low1, "d/p"), 0600), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "d/p"), 0620), 0);
	set_meta(ut.low1, "d/p", 1234, 5678, 1000000000, 5, 1100000000, 7);
	struct stat low = lst(ut.low1, "d/p");
	ut_load();
	ut_lowers_snap();

	copyup("d/p", true);

	struct stat up = lst(ut.upper, "d/p");
	ck_assert(S_ISFIFO(up.st_mode));
	ck_assert_uint_eq(up.st_mode & 07777, 0620);
	ck_assert_uint_eq(up.st_uid, 1234);
	same_times(&up, &low);
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

START_TEST(copyup_without_data)
{
	ut_file(ut.low1, "t", "old contents");
	ck_assert_int_eq(chmod(ut_p(ut.low1, "t"), 0604), 0);
	ck_assert_int_eq(ut_xattr(ut.low1, "t", "user.k", "v"), 0);
	set_meta(ut.low1, "t", 1234, 5678, 1000000000, 5, 1100000000, 7);
	struct stat low = lst(ut.low1, "t");
	ut_load();
	ut_lowers_snap();

	copyup("t", false);

	struct stat up = lst(ut.upper, "t");
	ck_assert(S_ISREG(up.st_mode));
	ck_assert_int_eq(up.st_size, 0);
	ck_assert_uint_eq(up.st_mode & 07777, 0604);
	ck_assert_uint_eq(up.st_uid, 1234);
	ck_assert_uint_eq(up.st_gid, 5678);
	same_mtime(&up, &low);
	char v[8];
	ck_assert_int_eq(getxattr(ut_p(ut.upper, "t"), "user.k", v, sizeof v), 1);
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

/* ----------------------------------------------------------------- dirs */

START_TEST(copyup_dir_chain)
{
	/* a: low1's copy wins over low2's; b and c only in low2 */
	ut_mkdir(ut.low1, "a");
	ut_file(ut.low2, "a/b/c/inner", "not copied");
	ut_file(ut.low1, "a/sibling", "");
	ck_assert_int_eq(chmod(ut_p(ut.low1, "a"), 0751), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low2, "a"), 0700), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low2, "a/b"), 0705), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low2, "a/b/c"), 0710), 0);
	ck_assert_int_eq(ut_xattr(ut.low2, "a/b", "user.dir", "b"), 0);
	set_meta(ut.low2, "a/b/c", 301, 302, 1000000003, 3, 1100000003, 3);
	set_meta(ut.low2, "a/b", 201, 202, 1000000002, 2, 1100000002, 2);
	set_meta(ut.low2, "a", 9, 9, 1000000009, 9, 1100000009, 9);
	set_meta(ut.low1, "a", 101, 102, 1000000001, 1, 1100000001, 1);
	struct stat la = lst(ut.low1, "a"), lb = lst(ut.low2, "a/b"),
		    lc = lst(ut.low2, "a/b/c");
	ut_load();
	ut_lowers_snap();

	ck_assert_int_eq(us_copyup_dir(M0, ut_u("a/b/c")), 0);

	struct stat ua = lst(ut.upper, "a"), ub = lst(ut.upper, "a/b"),
		    uc = lst(ut.upper, "a/b/c");
	ck_assert(S_ISDIR(ua.st_mode) && S_ISDIR(ub.st_mode) &&
		  S_ISDIR(uc.st_mode));
	ck_assert_uint_eq(ua.st_mode & 07777, 0751);
	ck_assert_uint_eq(ub.st_mode & 07777, 0705);
	ck_assert_uint_eq(uc.st_mode & 07777, 0710);
	ck_assert_uint_eq(ua.st_uid, 101);
	ck_assert_uint_eq(ua.st_gid, 102);
	ck_assert_uint_eq(ub.st_uid, 201);
	ck_assert_uint_eq(uc.st_uid, 301);
	same_mtime(&ua, &la);
	same_mtime(&ub, &lb);
	same_mtime(&uc, &lc);
	char v[8];
	ck_assert_int_eq(getxattr(ut_p(ut.upper, "a/b"), "user.dir", v, sizeof v),
			 1);
	/* the dirs only: no contents come along */
	ck_assert(!exists(ut.upper, "a/b/c/inner"));
	ck_assert(!exists(ut.upper, "a/sibling"));
	ck_assert_str_eq(ut_union_names("a/b/c"), "inner");
	ck_assert_str_eq(ut_union_names("a"), "b sibling");
	resolve("a/b/c");
	ck_assert_int_eq(r.node.layer, 0);
	ck_assert_uint_eq(r.node.dirs, 1 | 4);
	/* again: nothing changes */
	struct stat ub1 = lst(ut.upper, "a/b");
	ck_assert_int_eq(us_copyup_dir(M0, ut_u("a/b/c")), 0);
	struct stat ub2 = lst(ut.upper, "a/b");
	same_times(&ub2, &ub1);
	ck_assert_int_eq(ub2.st_ctim.tv_sec, ub1.st_ctim.tv_sec);
	ck_assert_int_eq(ub2.st_ctim.tv_nsec, ub1.st_ctim.tv_nsec);
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

START_TEST(copyup_dir_of_a_file_enotdir)
{
	ut_file(ut.low1, "a/f", "");
	ut_load();
	errno = 0;
	ck_assert_int_eq(us_copyup_dir(M0, ut_u("a/f")), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	errno = 0;
	ck_assert_int_eq(us_copyup_dir(M0, ut_u("a/none/x")), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(!exists(ut.upper, "a/f"));
}
END_TEST

/* ------------------------------------------------------ already there */

START_TEST(copyup_twice_is_noop)
{
	ut_file(ut.low1, "f", "lower");
	ut_load();
	copyup("f", true);
	struct stat first = lst(ut.upper, "f");
	ut_file(ut.upper, "f", "written after the copy-up");
	copyup("f", true); /* resolves to the upper file now */
	ck_assert_int_eq(r.node.layer, 0);
	struct stat second = lst(ut.upper, "f");
	ck_assert_uint_eq(second.st_ino, first.st_ino);
	ck_assert_str_eq(content(ut.upper, "f"), "written after the copy-up");
	ut_work_clean();
}
END_TEST

START_TEST(copyup_concurrent_copier_won)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_mkdir(ut.upper, "d");
	ut_load();
	resolve("d/f");
	struct us_node stale = r.node; /* found below, then ... */
	ck_assert_int_eq(stale.layer, 1);
	ut_file(ut.upper, "d/f", "the other copier's"); /* ... copied by another */
	struct stat before = lst(ut.upper, "d/f");
	ck_assert_int_eq(us_copyup(M0, ut_u("d/f"), &stale, true), 0);
	struct stat after = lst(ut.upper, "d/f");
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_str_eq(content(ut.upper, "d/f"), "the other copier's");
	ck_assert_str_eq(content(ut.low1, "d/f"), "lower");
	ut_work_clean();
}
END_TEST

/* The lookup's node says a regular file (the copy then makes no lstat of
 * its own), but the lower object became another kind since (changed from
 * outside the union): it is copied as what it is, and a FIFO's open does
 * not wait for a writer. */
START_TEST(copyup_kind_changed_since_lookup)
{
	ut_file(ut.low1, "d/p", "was a file");
	ut_file(ut.low1, "d/l", "was a file too");
	ut_mkdir(ut.upper, "d");
	ut_load();
	resolve("d/p");
	struct us_node p = r.node;
	resolve("d/l");
	struct us_node l = r.node;
	ck_assert(S_ISREG(p.mode) && S_ISREG(l.mode));
	ck_assert_int_eq(unlink(ut_p(ut.low1, "d/p")), 0);
	ck_assert_int_eq(mkfifo(ut_p(ut.low1, "d/p"), 0600), 0);
	ck_assert_int_eq(unlink(ut_p(ut.low1, "d/l")), 0);
	ck_assert_int_eq(symlink("target", ut_p(ut.low1, "d/l")), 0);

	ck_assert_int_eq(us_copyup(M0, ut_u("d/p"), &p, true), 0);
	ck_assert_int_eq(us_copyup(M0, ut_u("d/l"), &l, true), 0);
	ck_assert(S_ISFIFO(lst(ut.upper, "d/p").st_mode));
	ck_assert(S_ISLNK(lst(ut.upper, "d/l").st_mode));
	ut_work_clean();
}
END_TEST

/* ------------------------------------------------------------ work dir */

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	ck_assert(waitpid(pid, NULL, 0) == pid);
	return pid;
}

START_TEST(workdir_clean_dead_leftovers)
{
	char dead[64], live[64];
	pid_t d = dead_pid();

	snprintf(dead, sizeof dead, "#us.%d.", (int)d);
	snprintf(live, sizeof live, "#us.%d.", (int)getpid());
	ut_file(ut.work, ut_cat(dead, "1"), "half a copy");
	ut_file(ut.work, ut_cat(dead, "d2/.wh..wh..opq"), "");
	ut_file(ut.work, ut_cat(dead, "d2/sub/deeper/file"), "x");
	ut_file(ut.root, "keep/file", "not the work dir's");
	ut_link(ut.work, ut_cat(dead, "d2/link"), ut_p(ut.root, "keep"));
	ut_mkdir(ut.work, ut_cat(dead, "r3"));
	ut_file(ut.work, ut_cat(live, "4"), "in progress");
	ut_file(ut.work, ut_cat(live, "d5/x"), "in progress");
	ut_file(ut.work, "#lock.07", "");
	ut_file(ut.work, "other", "");
	ut_load();

	us_workdir_clean(M0);

	ck_assert(!exists(ut.work, ut_cat(dead, "1")));
	ck_assert(!exists(ut.work, ut_cat(dead, "d2")));
	ck_assert(!exists(ut.work, ut_cat(dead, "r3")));
	ck_assert(exists(ut.work, ut_cat(live, "4")));
	ck_assert(exists(ut.work, ut_cat(live, "d5/x")));
	ck_assert(exists(ut.work, "#lock.07"));
	ck_assert(exists(ut.work, "other"));
	ck_assert(exists(ut.root, "keep/file")); /* the link was not followed */
}
END_TEST

/* A link of a lower's own path into the union: a new upper object with the
 * source's data and metadata, no origin (an identity of its own), placed
 * whole; a name already taken is EEXIST with no temp left. */
START_TEST(copy_new_is_a_new_object)
{
	ut_file(ut.low1, "src", "own data");
	ck_assert_int_eq(ut_xattr(ut.low1, "src", "user.k", "v1"), 0);
	ck_assert_int_eq(chmod(ut_p(ut.low1, "src"), 0640), 0);
	ut_file(ut.upper, "taken", "mine");
	ut_load();
	ut_lowers_snap();

	ck_assert_int_eq(us_copy_new(M0, ut_p(ut.low1, "src"),
				     ut_p(ut.upper, "dst")), 0);
	struct stat up = lst(ut.upper, "dst"), low = lst(ut.low1, "src");
	ck_assert_str_eq(content(ut.upper, "dst"), "own data");
	ck_assert_uint_eq(up.st_mode & 07777, 0640);
	ck_assert_uint_eq(up.st_nlink, 1);
	ck_assert_uint_eq(low.st_nlink, 1);
	ck_assert_uint_ne(up.st_ino, low.st_ino);
	char v[64];
	ck_assert_int_eq(getxattr(ut_p(ut.upper, "dst"), "user.k", v, sizeof v), 2);
	errno = 0;
	ck_assert_int_eq(getxattr(ut_p(ut.upper, "dst"), US_ORIGIN_XATTR, v,
				  sizeof v),
			 -1);
	ck_assert_int_eq(errno, ENODATA);

	errno = 0;
	ck_assert_int_eq(us_copy_new(M0, ut_p(ut.low1, "src"),
				     ut_p(ut.upper, "taken")),
			 -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(content(ut.upper, "taken"), "mine");
	ut_work_clean();
	ut_lowers_same();
}
END_TEST

/* The trace's events (event.h): what the core reported, one line each. */
static char events[1024];

static void record(const char *op, const char *path, long long size)
{
	size_t n = strlen(events);

	snprintf(events + n, sizeof events - n, "%s %s %lld\n", op,
		 path + strlen(ut.target), size);
}

START_TEST(copyup_and_removal_report_events)
{
	ut_mkdir(ut.low1, "d");
	ut_file(ut.low1, "d/f", "12345");
	ut_file(ut.low1, "g", "x");
	ut_load();
	events[0] = '\0';
	us_event_hook = record;
	copyup("d/f", true);
	copyup("d/f", true); /* already up: no event */
	resolve("g");
	ck_assert_int_eq(us_union_remove(&r, false), 0);
	us_event_hook = NULL;
	ck_assert_str_eq(events, "copy-up /d -1\ncopy-up /d/f 5\nwhiteout /g -1\n");
}
END_TEST

Suite *copyup_suite(void)
{
	Suite *s = suite_create("copyup");
	TCase *tc = tcase_create("copyup");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, copyup_regular_file_faithful);
	tcase_add_test(tc, copyup_and_removal_report_events);
	tcase_add_test(tc, copyup_sparse_keeps_holes);
	tcase_add_test(tc, copyup_symlink);
	tcase_add_test(tc, copyup_fifo);
	tcase_add_test(tc, copyup_without_data);
	tcase_add_test(tc, copyup_dir_chain);
	tcase_add_test(tc, copyup_dir_of_a_file_enotdir);
	tcase_add_test(tc, copyup_twice_is_noop);
	tcase_add_test(tc, copyup_concurrent_copier_won);
	tcase_add_test(tc, copyup_kind_changed_since_lookup);
	tcase_add_test(tc, workdir_clean_dead_leftovers);
	tcase_add_test(tc, copy_new_is_a_new_object);
	suite_add_tcase(s, tc);
	return s;
}
