/* apply.c: the steps of a commit on the lower dir (apply.h). Plain libc:
 * this is a tool, never preloaded. Only object xattrs are written (the
 * shim's and overlayfs's records are no part of an object, objcmp.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "apply.h"
#include "unionshim/objcmp.h"

#define CHUNK (1 << 20)

static int failed(char **where, const char *path)
{
	int saved = errno;

	if (!*where)
		*where = strdup(path);
	errno = saved;
	return -1;
}

static const char *nftw_failed;

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	int rc = flag == FTW_DP ? rmdir(p) : unlink(p);
	if (rc < 0 && errno != ENOENT) {
		nftw_failed = p;
		return -1;
	}
	return 0;
}

/* A dir without write or search permission for its owner (a tree
 * copied read-only) could not be emptied by a user who is not root. */
static int open_up(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(p, (st->st_mode & 07777) | 0700);
	return 0;
}

int uc_remove_tree(const char *path, char **where)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : failed(where, path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? failed(where, path) : 0;
	if ((st.st_mode & 0700) != 0700)
		chmod(path, (st.st_mode & 07777) | 0700);
	nftw(path, open_up, 16, FTW_PHYS);
	nftw_failed = NULL;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return failed(where, nftw_failed ? nftw_failed : path);
	return 0;
}

/* Xattrs a lower may refuse without the object losing anything a union
 * user set (user.* must go across). */
static bool optional_xattr(const char *name)
{
	return strncmp(name, "user.", 5) != 0;
}

/* Give DST exactly the object xattrs of SRC. */
static int copy_xattrs(const char *src, const char *dst, char **where)
{
	char *have, *want;
	size_t hl, wl;

	if (us_xattrs_read(src, &want, &wl) < 0)
		return failed(where, src);
	if (us_xattrs_read(dst, &have, &hl) < 0) {
		free(want);
		return failed(where, dst);
	}
	int rc = 0;
	/* records: name NUL, 8-byte length, value (objcmp.h) */
	for (size_t at = 0; rc == 0 && at < hl;) {
		const char *name = have + at;
		uint64_t vl;
		size_t nl = strlen(name) + 1;
		memcpy(&vl, have + at + nl, sizeof vl);
		at += nl + sizeof vl + vl;
		bool kept = false;
		for (size_t w = 0; w < wl && !kept;) {
			uint64_t l2;
			size_t n2 = strlen(want + w) + 1;
			memcpy(&l2, want + w + n2, sizeof l2);
			kept = strcmp(want + w, name) == 0;
			w += n2 + sizeof l2 + l2;
		}
		if (!kept && lremovexattr(dst, name) < 0 && errno != ENODATA &&
		    !optional_xattr(name))
			rc = failed(where, dst);
	}
	for (size_t at = 0; rc == 0 && at < wl;) {
		const char *name = want + at;
		uint64_t vl;
		size_t nl = strlen(name) + 1;
		memcpy(&vl, want + at + nl, sizeof vl);
		if (lsetxattr(dst, name, want + at + nl + sizeof vl, vl, 0) < 0 &&
		    !optional_xattr(name))
			rc = failed(where, dst);
		at += nl + sizeof vl + vl;
	}
	free(have);
	free(want);
	return rc;
}

/* Owner (when permitted), xattrs, mode, times of SRC (stat ST) onto DST. */
static int copy_meta(const char *src, const struct stat *st, const char *dst,
		     char **where)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (lchown(dst, st->st_uid, st->st_gid) < 0 && errno != EPERM)
		return failed(where, dst);
	if (copy_xattrs(src, dst, where) < 0)
		return -1;
	if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
		return failed(where, dst);
	if (utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return failed(where, dst);
	return 0;
}

static int copy_data(int in, int out)
{
	static char *buf;

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != EINVAL)
			return -1;
		break;
	}
	if (!buf && !(buf = malloc(CHUNK)))
		return -1;
	for (;;) {
		ssize_t n = read(in, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				return -1;
			off += w > 0 ? w : 0;
		}
	}
}

/* A new object at TMP like SRC (stat ST), data and all. */
static int make_object(const char *src, const struct stat *st, const char *tmp,
		       char **where)
{
	char target[PATH_MAX];

	switch (st->st_mode & S_IFMT) {
	case S_IFREG: {
		int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (in < 0)
			return failed(where, src);
		int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0) {
			close(in);
			return failed(where, tmp);
		}
		int rc = copy_data(in, out);
		int saved = errno;
		close(in);
		if (close(out) < 0 && rc == 0) {
			rc = -1;
			saved = errno;
		}
		errno = saved;
		return rc < 0 ? failed(where, tmp) : 0;
	}
	case S_IFLNK: {
		ssize_t n = readlink(src, target, sizeof target - 1);
		if (n < 0)
			return failed(where, src);
		target[n] = '\0';
		return symlink(target, tmp) < 0 ? failed(where, tmp) : 0;
	}
	default:
		return mknod(tmp, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0
			       ? failed(where, tmp)
			       : 0;
	}
}

/* DST's temp for step N: beside it, in its dir. */
static char *temp_for(const char *dst, size_t n, const char *tag)
{
	const char *slash = strrchr(dst, '/');
	char *t = NULL;

	if (asprintf(&t, "%.*s/.#unionctl.%s.%zu", (int)(slash - dst), dst, tag, n) < 0)
		return NULL;
	return t;
}

/* Put the whole object at TMP in DST's place (a dir there goes first). */
static int put_in_place(const char *tmp, const char *dst, char **where)
{
	struct stat st;

	if (lstat(dst, &st) == 0 && S_ISDIR(st.st_mode) && uc_remove_tree(dst, where) < 0)
		return -1;
	if (rename(tmp, dst) < 0)
		return failed(where, dst);
	/* a rename between two names of one inode does nothing */
	if (lstat(tmp, &st) == 0)
		unlink(tmp);
	return 0;
}

static int install(const char *src, const char *dst, const char *tmp, char **where)
{
	struct stat st;

	if (lstat(src, &st) < 0)
		return failed(where, src);
	if (make_object(src, &st, tmp, where) < 0 ||
	    copy_meta(src, &st, tmp, where) < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return put_in_place(tmp, dst, where);
}

static int make_dir(const char *dst, char **where)
{
	struct stat st;

	if (lstat(dst, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (uc_remove_tree(dst, where) < 0)
		return -1;
	return mkdir(dst, 0700) < 0 ? failed(where, dst) : 0;
}

/* Make dir DST like the upper's dir SRC, whole: built at temp TMP (a
 * dir a killed run left there goes first), then renamed in place. */
static int dir_like(const char *dst, const char *src, const char *tmp, char **where)
{
	struct stat st;

	if (uc_remove_tree(tmp, where) < 0)
		return -1;
	if (mkdir(tmp, 0700) < 0)
		return failed(where, tmp);
	if (lstat(src, &st) == 0 && copy_meta(src, &st, tmp, where) < 0)
		return -1;
	return rename(tmp, dst) < 0 ? failed(where, dst) : 0;
}

/* The dirs above PATH that the topmost lower lacks (they came from a
 * lower below it): made like the upper's (step N, TAG: the temps). */
static int make_parents(const char *lower, const char *upper, const char *path,
			size_t n, const char *tag, char **where)
{
	int rc = 0;

	for (const char *s = strchr(path, '/'); rc == 0 && s; s = strchr(s + 1, '/')) {
		char *dst = NULL, *src = NULL, *tmp = NULL;
		struct stat st;
		int len = (int)(s - path);
		if (asprintf(&dst, "%s/%.*s", lower, len, path) < 0 ||
		    asprintf(&src, "%s/%.*s", upper, len, path) < 0 ||
		    !(tmp = temp_for(dst, n, tag)))
			rc = -1;
		else if (lstat(dst, &st) < 0 && errno == ENOENT)
			rc = dir_like(dst, src, tmp, where);
		free(dst);
		free(src);
		free(tmp);
	}
	return rc;
}

/* The OCI whiteout of DST's name (.wh.NAME beside it), as a path. */
static char *oci_whiteout(const char *dst)
{
	const char *slash = strrchr(dst, '/');
	char *w = NULL;

	if (asprintf(&w, "%.*s/.wh.%s", (int)(slash - dst), dst, slash + 1) < 0)
		return NULL;
	return w;
}

/* A name now shown: an OCI whiteout of it must stop hiding it. */
static int unhide(const char *dst, char **where)
{
	char *w = oci_whiteout(dst);
	/* a name of 252-255 bytes has no OCI form */
	int rc = !w || (unlink(w) < 0 && errno != ENOENT && errno != ENAMETOOLONG)
			 ? -1 : 0;

	if (rc < 0 && w)
		failed(where, w);
	free(w);
	return rc;
}

/* DST becomes a whiteout: overlayfs's char device 0/0, whole by rename;
 * where mknod is refused, the OCI form (.wh.NAME, an empty file). */
static int whiteout(const char *dst, const char *tmp, char **where)
{
	if (mknod(tmp, S_IFCHR, makedev(0, 0)) == 0)
		return put_in_place(tmp, dst, where);
	if (errno != EPERM)
		return failed(where, tmp);
	char *w = oci_whiteout(dst);
	int rc = w ? uc_remove_tree(dst, where) : -1;
	int fd = rc == 0 ? open(w, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	if (rc == 0 && fd < 0)
		rc = failed(where, w);
	if (fd >= 0)
		close(fd);
	free(w);
	return rc;
}

/* Mark dir DST opaque (made first, like the upper's dir SRC, if the
 * topmost lacks it): trusted.overlay.opaque when root, else
 * user.overlay.opaque, else a .wh..wh..opq file in it. */
static int opaque(const char *dst, const char *src, const char *tmp, char **where)
{
	struct stat st;

	if (lstat(dst, &st) < 0 &&
	    (errno != ENOENT ? failed(where, dst) : dir_like(dst, src, tmp, where)) < 0)
		return -1;
	if (geteuid() == 0 && lsetxattr(dst, "trusted.overlay.opaque", "y", 1, 0) == 0)
		return 0;
	if (lsetxattr(dst, "user.overlay.opaque", "y", 1, 0) == 0)
		return 0;
	char *m = NULL;
	if (asprintf(&m, "%s/.wh..wh..opq", dst) < 0)
		return -1;
	int fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? failed(where, m) : close(fd);
	free(m);
	return rc;
}

int uc_apply(const char *lower, const char *upper, const struct us_op *op,
	     size_t n, const char *tag, char **where)
{
	char *dst = NULL, *tmp = NULL, *first = NULL;
	struct stat st;
	int rc = -1;

	if (asprintf(&dst, "%s/%s", lower, op->path) < 0)
		return -1;
	if ((op->kind == US_OP_INSTALL || op->kind == US_OP_LINK ||
	     op->kind == US_OP_WHITEOUT || op->kind == US_OP_OPAQUE) &&
	    !(tmp = temp_for(dst, n, tag)))
		goto out;
	if (op->kind != US_OP_REMOVE && op->kind != US_OP_META &&
	    make_parents(lower, upper, op->path, n, tag, where) < 0)
		goto out;
	if (tmp && uc_remove_tree(tmp, where) < 0)
		goto out;
	switch (op->kind) {
	case US_OP_REMOVE:
		rc = uc_remove_tree(dst, where);
		break;
	case US_OP_MKDIR:
		rc = make_dir(dst, where);
		break;
	case US_OP_INSTALL:
		rc = install(op->arg, dst, tmp, where);
		break;
	case US_OP_LINK:
		if (asprintf(&first, "%s/%s", lower, op->arg) < 0)
			break;
		if (link(first, tmp) < 0)
			rc = failed(where, first);
		else
			rc = put_in_place(tmp, dst, where);
		break;
	case US_OP_META:
		if (lstat(op->arg, &st) < 0)
			rc = failed(where, op->arg);
		else
			rc = copy_meta(op->arg, &st, dst, where);
		break;
	case US_OP_WHITEOUT:
		rc = whiteout(dst, tmp, where);
		break;
	case US_OP_OPAQUE:
		if (asprintf(&first, "%s/%s", upper, op->path) >= 0)
			rc = opaque(dst, first, tmp, where);
		break;
	default:
		errno = EINVAL;
		rc = failed(where, op->path);
	}
	if (rc == 0 && (op->kind == US_OP_INSTALL || op->kind == US_OP_LINK ||
			op->kind == US_OP_MKDIR))
		rc = unhide(dst, where);
out:;
	int saved = errno;
	free(dst);
	free(tmp);
	free(first);
	errno = saved;
	return rc;
}
