/* attr.c: metadata changes (chmod, chown, utimes, truncate: all copy-up
 * triggers). An fd-based change on a lower file goes to its upper copy. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "../front.h"
#include "../guard.h"
#include "../userptr.h"
#include "unionshim/scratch.h"
#include "unionshim/lcache.h"

/* metadata changes: a lower file's copy-up may leave its data below */
#define W (US_MAP_WRITE | US_MAP_META)
#define WNF (US_MAP_WRITE | US_MAP_META | US_MAP_NOFOLLOW)

static unsigned at_write(int flags)
{
	return (flags & AT_SYMLINK_NOFOLLOW) ? WNF : W;
}

/* Who may set a lower object's times (mayact.h): times given, only its
 * owner; none (now), the owner or a writer. A pointer the kernel would
 * refuse is not read here. */
static unsigned times_may(const void *times)
{
	__asm__("" : "+r"(times)); /* declared nonnull by glibc at times */
	return times ? US_MAP_OWNER : US_MAP_TOUCH;
}

static unsigned ts_may(const struct timespec *ts)
{
	__asm__("" : "+r"(ts));
	if (!ts || !us_user_mem_ok(ts, 2 * sizeof ts[0]))
		return US_MAP_TOUCH;
	for (int i = 0; i < 2; i++)
		if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT)
			return US_MAP_OWNER;
	return US_MAP_TOUCH;
}

/* Who may chown a lower object to UID, GID: its owner (or CAP_CHOWN;
 * the kernel on the copy checks the rest); to -1, -1 anyone. */
static unsigned chown_may(uid_t uid, gid_t gid)
{
	return uid == (uid_t)-1 && gid == (gid_t)-1 ? US_MAP_NOCHECK : US_MAP_OWNER;
}

/* RC of a chmod or chown through T: a union dir's new permissions decide
 * what a lookup in it answers (EACCES), so lookup caches forget it. */
static int perms(int rc, const struct us_target *t)
{
	if (rc == 0 && t->r.where == US_INSIDE && S_ISDIR(t->r.node.mode))
		us_lcache_dir_changed(t->r.m, t->r.path);
	return rc;
}

US_EXPORT int chmod(const char *path, mode_t mode)
{
	US_SHIM_OR(US_REAL(chmod)(path, mode));
	US_TARGET(t);
	const char *p = us_path(path, W | US_MAP_OWNER, t);
	return p ? perms(US_REAL(chmod)(p, mode), t) : -1;
}

US_EXPORT int lchmod(const char *path, mode_t mode)
{
	US_SHIM_OR(US_REAL(lchmod)(path, mode));
	US_TARGET(t);
	const char *p = us_path(path, WNF | US_MAP_OWNER, t);
	return p ? perms(US_REAL(lchmod)(p, mode), t) : -1;
}

US_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	US_SHIM_OR(US_REAL(fchmodat)(dirfd, path, mode, flags));
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, at_write(flags) | US_MAP_OWNER, t);
	return p ? perms(US_REAL(fchmodat)(dirfd, p, mode, flags), t) : -1;
}

US_EXPORT int fchmod(int fd, mode_t mode)
{
	US_SHIM_OR(US_REAL(fchmod)(fd, mode));
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc = us_fd_write(fd, US_MAP_OWNER | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(chmod)(sb->up, mode) : US_REAL(fchmod)(fd, mode);
}

US_EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	US_SHIM_OR(US_REAL(chown)(path, uid, gid));
	US_TARGET(t);
	const char *p = us_path(path, W | chown_may(uid, gid), t);
	return p ? perms(US_REAL(chown)(p, uid, gid), t) : -1;
}

US_EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	US_SHIM_OR(US_REAL(lchown)(path, uid, gid));
	US_TARGET(t);
	const char *p = us_path(path, WNF | chown_may(uid, gid), t);
	return p ? perms(US_REAL(lchown)(p, uid, gid), t) : -1;
}

US_EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid,
		       int flags)
{
	US_SHIM_OR(US_REAL(fchownat)(dirfd, path, uid, gid, flags));
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		errno = EINVAL; /* before any path is looked at */
		return -1;
	}
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, at_write(flags) | chown_may(uid, gid) |
				   ((flags & AT_EMPTY_PATH) ? US_MAP_EMPTY_OK : 0), t);
	if (p && !*p && (flags & AT_EMPTY_PATH)) {
		US_SCRATCH_SCOPE;
		struct {
			char up[US_PATH_MAX];
		} *sb = us_scratch_push(sizeof *sb);
		if (!sb)
			return -1;
		int rc = us_fd_write(dirfd, chown_may(uid, gid), sb->up, sizeof sb->up);
		return rc < 0 ? -1 : rc ? US_REAL(lchown)(sb->up, uid, gid)
				    : US_REAL(fchownat)(dirfd, p, uid, gid, flags);
	}
	return p ? perms(US_REAL(fchownat)(dirfd, p, uid, gid, flags), t) : -1;
}

US_EXPORT int fchown(int fd, uid_t uid, gid_t gid)
{
	US_SHIM_OR(US_REAL(fchown)(fd, uid, gid));
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc = us_fd_write(fd, chown_may(uid, gid) | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(chown)(sb->up, uid, gid) : US_REAL(fchown)(fd, uid, gid);
}

US_EXPORT int truncate(const char *path, off_t len)
{
	US_SHIM_OR(US_REAL(truncate)(path, len));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_WRITE | US_MAP_NOTDIR, t);
	return p ? US_REAL(truncate)(p, len) : -1;
}

/* An fd on a lower file is refused (EROFS), unless it is not open for
 * writing at all: the kernel's own answer then (EINVAL for O_RDONLY,
 * EBADF for O_PATH), which writes nothing. */
US_EXPORT int ftruncate(int fd, off_t len)
{
	US_SHIM_OR(US_REAL(ftruncate)(fd, len));
	if (us_fd_write_check(fd) == 0)
		return US_REAL(ftruncate)(fd, len);
	int saved = errno, fl = US_REAL(fcntl)(fd, F_GETFL);
	if (fl >= 0 && ((fl & O_PATH) || (fl & O_ACCMODE) == O_RDONLY))
		return US_REAL(ftruncate)(fd, len);
	errno = saved;
	return -1;
}

US_EXPORT int truncate64(const char *, off_t) __attribute__((alias("truncate")));
US_EXPORT int ftruncate64(int, off_t) __attribute__((alias("ftruncate")));

US_EXPORT int utime(const char *path, const struct utimbuf *times)
{
	US_SHIM_OR(US_REAL(utime)(path, times));
	US_TARGET(t);
	const char *p = us_path(path, W | times_may(times), t);
	return p ? US_REAL(utime)(p, times) : -1;
}

US_EXPORT int utimes(const char *path, const struct timeval tv[2])
{
	US_SHIM_OR(US_REAL(utimes)(path, tv));
	US_TARGET(t);
	const char *p = us_path(path, W | times_may(tv), t);
	return p ? US_REAL(utimes)(p, tv) : -1;
}

US_EXPORT int lutimes(const char *path, const struct timeval tv[2])
{
	US_SHIM_OR(US_REAL(lutimes)(path, tv));
	US_TARGET(t);
	const char *p = us_path(path, WNF | times_may(tv), t);
	return p ? US_REAL(lutimes)(p, tv) : -1;
}

/* futimes(FD), the change going to the upper copy of a lower file. */
static int fd_utimes(int fd, const struct timeval tv[2])
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc = us_fd_write(fd, times_may(tv) | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(utimes)(sb->up, tv) : US_REAL(futimes)(fd, tv);
}

/* glibc declares the path nonnull, yet futimesat(fd, NULL, tv) is futimes. */
US_EXPORT int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	US_SHIM_OR(US_REAL(futimesat)(dirfd, path, tv));
	if (!us_unchecked(path))
		return fd_utimes(dirfd, tv);
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, W | times_may(tv), t);
	return p ? US_REAL(futimesat)(dirfd, p, tv) : -1;
}

/* glibc's utimensat refuses a NULL path (EINVAL: futimens is the fd's
 * call); the kernel's takes one as the fd's own (the syscall() door). */
US_EXPORT int utimensat(int dirfd, const char *path, const struct timespec ts[2],
			int flags)
{
	US_SHIM_OR(US_REAL(utimensat)(dirfd, path, ts, flags));
	if (!us_unchecked(path) || (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) {
		errno = EINVAL; /* before any path is looked at, nothing copied */
		return -1;
	}
	if (us_readable(path) && !*path && (flags & AT_EMPTY_PATH)) {
		US_SCRATCH_SCOPE;
		struct {
			char up[US_PATH_MAX];
		} *sb = us_scratch_push(sizeof *sb);
		if (!sb)
			return -1;
		/* (an O_PATH fd is taken here: not US_FD_NOPATH) */
		int rc = us_fd_write(dirfd, ts_may(ts), sb->up, sizeof sb->up);
		return rc < 0 ? -1 : rc ? US_REAL(utimensat)(AT_FDCWD, sb->up, ts, 0)
				    : US_REAL(utimensat)(dirfd, path, ts, flags);
	}
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, at_write(flags) | ts_may(ts), t);
	return p ? US_REAL(utimensat)(dirfd, p, ts, flags) : -1;
}

US_EXPORT int futimens(int fd, const struct timespec ts[2])
{
	US_SHIM_OR(US_REAL(futimens)(fd, ts));
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc = us_fd_write(fd, ts_may(ts) | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(utimensat)(AT_FDCWD, sb->up, ts, 0) : US_REAL(futimens)(fd, ts);
}

US_EXPORT int futimes(int fd, const struct timeval tv[2])
{
	US_SHIM_OR(US_REAL(futimes)(fd, tv));
	return fd_utimes(fd, tv);
}
