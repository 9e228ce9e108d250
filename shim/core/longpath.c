/* longpath.c: real calls on paths longer than PATH_MAX (longpath.h).
 *
 * A long path is opened a piece at a time: each piece ends at a '/' and
 * is shorter than the limit, and is opened O_PATH|O_DIRECTORY from the
 * dir before it, which resolves it as the kernel's own walk of the whole
 * path would (symlinks in it followed, ".." physical, search permission
 * checked). The call then runs on the last dir with the rest. No malloc,
 * no lock, buffers in scratch: a forked child or a signal handler on a
 * small stack may get here. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sys.h"
#include "unionshim/scratch.h"

void us_long_done(int fd, int dirfd)
{
	if (fd >= 0 && fd != dirfd) {
		int saved = errno;
		SYS_RAW(close)(fd);
		errno = saved;
	}
}

/* The longest piece of P (a prefix ending before a '/') under MAX bytes:
 * its length, or 0 when P's first name alone is too long. */
static size_t piece(const char *p, size_t max)
{
	size_t cut = max - 1;

	while (cut > 0 && p[cut] != '/')
		cut--;
	return cut;
}

int us_long_split(int dirfd, const char *path, size_t max, const char **rest)
{
	US_SCRATCH_SCOPE;
	char *buf = us_scratch_push(PATH_MAX);
	int fd = dirfd;

	if (!buf)
		return -1;
	if (max > PATH_MAX)
		max = PATH_MAX;
	while (strnlen(path, max) >= max) {
		size_t n = piece(path, max);
		if (n == 0 && path[0] == '/')
			n = 1; /* the root, then names from it */
		if (n == 0) {
			us_long_done(fd, dirfd);
			errno = ENAMETOOLONG; /* one name longer than MAX */
			return -1;
		}
		memcpy(buf, path, n);
		buf[n] = '\0';
		int next = SYS_RAW(openat)(fd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
		us_long_done(fd, dirfd);
		if (next < 0)
			return -1;
		fd = next;
		path += n;
		while (*path == '/')
			path++;
	}
	*rest = *path ? path : ".";
	return fd;
}

/* Run EXPR with D and R, the dir and rest of path P. */
#define LONG_CALL(type, p, expr)                                              \
	do {                                                                   \
		const char *R;                                                 \
		int D = us_long_split(AT_FDCWD, (p), PATH_MAX, &R);            \
		if (D == -1)                                                   \
			return -1;                                             \
		type rc_ = (expr);                                             \
		us_long_done(D, AT_FDCWD);                                     \
		return rc_;                                                    \
	} while (0)

int us_long_lstat(const char *p, struct stat *st)
{
	if (us_path_fits(p))
		return SYS_RAW(lstat)(p, st);
	LONG_CALL(int, p, SYS_RAW(fstatat)(D, R, st, AT_SYMLINK_NOFOLLOW));
}

int us_long_stat(const char *p, struct stat *st)
{
	if (us_path_fits(p))
		return SYS_RAW(stat)(p, st);
	LONG_CALL(int, p, SYS_RAW(fstatat)(D, R, st, 0));
}

int us_long_open(const char *p, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (us_path_fits(p))
		return SYS_RAW(open)(p, flags, mode);
	LONG_CALL(int, p, SYS_RAW(openat)(D, R, flags, mode));
}

int us_long_unlink(const char *p)
{
	if (us_path_fits(p))
		return SYS_RAW(unlink)(p);
	LONG_CALL(int, p, SYS_RAW(unlinkat)(D, R, 0));
}

int us_long_rmdir(const char *p)
{
	if (us_path_fits(p))
		return SYS_RAW(rmdir)(p);
	LONG_CALL(int, p, SYS_RAW(unlinkat)(D, R, AT_REMOVEDIR));
}

int us_long_mkdir(const char *p, mode_t mode)
{
	if (us_path_fits(p))
		return SYS_RAW(mkdir)(p, mode);
	LONG_CALL(int, p, SYS_RAW(mkdirat)(D, R, mode));
}

int us_long_mknod(const char *p, mode_t mode, dev_t dev)
{
	if (us_path_fits(p))
		return SYS_RAW(mknod)(p, mode, dev);
	LONG_CALL(int, p, SYS_RAW(mknodat)(D, R, mode, dev));
}

ssize_t us_long_readlink(const char *p, char *buf, size_t len)
{
	if (us_path_fits(p))
		return SYS_RAW(readlink)(p, buf, len);
	LONG_CALL(ssize_t, p, SYS_RAW(readlinkat)(D, R, buf, len));
}

int us_long_symlink(const char *target, const char *p)
{
	if (us_path_fits(p))
		return SYS_RAW(symlink)(target, p);
	LONG_CALL(int, p, SYS_RAW(symlinkat)(target, D, R));
}

int us_long_chmod(const char *p, mode_t mode)
{
	if (us_path_fits(p))
		return SYS_RAW(chmod)(p, mode);
	LONG_CALL(int, p, SYS_RAW(fchmodat)(D, R, mode, 0));
}

int us_long_lchown(const char *p, uid_t uid, gid_t gid)
{
	if (us_path_fits(p))
		return SYS_RAW(lchown)(p, uid, gid);
	LONG_CALL(int, p, SYS_RAW(fchownat)(D, R, uid, gid, AT_SYMLINK_NOFOLLOW));
}

int us_long_utimensat(int dirfd, const char *p, const struct timespec *ts,
		      int flags)
{
	if (dirfd != AT_FDCWD || us_path_fits(p))
		return SYS_RAW(utimensat)(dirfd, p, ts, flags);
	LONG_CALL(int, p, SYS_RAW(utimensat)(D, R, ts, flags));
}

int us_long_statx(int dirfd, const char *p, int flags, unsigned mask,
		  struct statx *sx)
{
	if (dirfd != AT_FDCWD || us_path_fits(p))
		return SYS_RAW(statx)(dirfd, p, flags, mask, sx);
	LONG_CALL(int, p, SYS_RAW(statx)(D, R, flags, mask, sx));
}

/* Two paths: each split on its own. */
static int two(const char *a, const char *b, int da, int db,
	       int (*call)(int, const char *, int, const char *, unsigned),
	       unsigned flags)
{
	const char *ra, *rb;
	int fa = us_long_split(da, a, PATH_MAX, &ra);
	if (fa == -1)
		return -1;
	int fb = us_long_split(db, b, PATH_MAX, &rb);
	if (fb == -1) {
		us_long_done(fa, da);
		return -1;
	}
	int rc = call(fa, ra, fb, rb, flags);
	us_long_done(fb, db);
	us_long_done(fa, da);
	return rc;
}

static int rename_at(int da, const char *a, int db, const char *b,
		     unsigned flags)
{
	return SYS_RAW(renameat2)(da, a, db, b, flags);
}

static int link_at(int da, const char *a, int db, const char *b,
		   unsigned flags)
{
	return SYS_RAW(linkat)(da, a, db, b, (int)flags);
}

int us_long_rename(const char *a, const char *b)
{
	if (us_path_fits(a) && us_path_fits(b))
		return SYS_RAW(rename)(a, b);
	return two(a, b, AT_FDCWD, AT_FDCWD, rename_at, 0);
}

int us_long_renameat2(int da, const char *a, int db, const char *b,
		      unsigned flags)
{
	if (us_path_fits(a) && us_path_fits(b))
		return SYS_RAW(renameat2)(da, a, db, b, flags);
	return two(a, b, da, db, rename_at, flags);
}

int us_long_link(const char *a, const char *b)
{
	if (us_path_fits(a) && us_path_fits(b))
		return SYS_RAW(link)(a, b);
	return two(a, b, AT_FDCWD, AT_FDCWD, link_at, 0);
}

/* xattr calls have no *at form: "/proc/self/fd/N/REST" names the object,
 * the magic link to the dir followed and REST (short enough) from it. */
#define PROC_ROOM 32

#define XATTR_CALL(p, expr)                                                   \
	do {                                                                   \
		US_SCRATCH_SCOPE;                                              \
		char *P = us_scratch_push(PATH_MAX);                           \
		const char *r_;                                                \
		if (!P)                                                        \
			return -1;                                             \
		int d_ = us_long_split(AT_FDCWD, (p), PATH_MAX - PROC_ROOM, &r_); \
		if (d_ == -1)                                                  \
			return -1;                                             \
		snprintf(P, PATH_MAX, "/proc/self/fd/%d/%s", d_, r_);          \
		ssize_t rc_ = (expr);                                          \
		us_long_done(d_, AT_FDCWD);                                    \
		return rc_;                                                    \
	} while (0)

ssize_t us_long_lgetxattr(const char *p, const char *name, void *val,
			  size_t len)
{
	if (us_path_fits(p))
		return SYS_RAW(lgetxattr)(p, name, val, len);
	XATTR_CALL(p, SYS_RAW(lgetxattr)(P, name, val, len));
}

ssize_t us_long_llistxattr(const char *p, char *list, size_t len)
{
	if (us_path_fits(p))
		return SYS_RAW(llistxattr)(p, list, len);
	XATTR_CALL(p, SYS_RAW(llistxattr)(P, list, len));
}

int us_long_lsetxattr(const char *p, const char *name, const void *val,
		      size_t len, int flags)
{
	if (us_path_fits(p))
		return SYS_RAW(lsetxattr)(p, name, val, len, flags);
	XATTR_CALL(p, (int)SYS_RAW(lsetxattr)(P, name, val, len, flags));
}
