/* stat.c: the stat family, old __xstat ABI included, statx, access,
 * statfs/statvfs and pathconf. Read-only: nothing here copies up. A union
 * object reports the union's identity (identity.h): the mount's st_dev,
 * its origin's st_ino, its union link count. */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../fdmap.h"
#include "../front.h"
#include "../state.h"
#include "unionshim/metacopy.h"
#include "../guard.h"
#include "glibc_protos.h"
#include "unionshim/identity.h"
#include "unionshim/scratch.h"
#include "unionshim/statxconv.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "x86-64: stat64 is stat");

/* (Every call here is made at once with the path mapped: US_MAP_RELATIVE.) */
static unsigned at_flags(int flags)
{
	return US_MAP_RELATIVE |
	       ((flags & AT_SYMLINK_NOFOLLOW) ? US_MAP_NOFOLLOW : 0);
}

/* A stat that takes the lookup's statx when it made one (real_stat). */
static unsigned stat_flags(int flags)
{
	return at_flags(flags) | US_MAP_STATX;
}

/* The lookup of this very call stat'ed T's real object (lookup.h): its
 * answer is as fresh as a second call would be, and costs none. */
static bool walked(const struct us_target *t)
{
	return t->r.where == US_INSIDE && !t->r.err && t->r.stx_ok &&
	       !t->indexed;
}

/* The real fstatat of T's object at (DIRFD, P). */
static int real_stat(int dirfd, const char *p, struct stat *st, int flags,
		     const struct us_target *t)
{
	if (!walked(t))
		return US_REAL(fstatat)(dirfd, p, st, flags);
	us_statx_stat(&t->r.stx, st);
	return 0;
}

/* RC of a real stat through T: the union's identity into ST. */
static int fixed(int rc, const struct us_target *t, struct stat *st)
{
	if (rc == 0 && t->r.where == US_INSIDE) {
		us_ident_stat_in(t->r.m, us_target_layer(t), t->real, -1,
				 us_target_dir(t), st);
		if (us_node_merged(&t->r.node) && S_ISDIR(st->st_mode))
			st->st_nlink = 1;
		if (us_node_metacopy(&t->r.node)) /* blocks of its data */
			us_metacopy_stat(t->r.m, t->r.path, &t->r.node, st);
	}
	return rc;
}

static int magic_fixed(int rc, const char *path, int flags, struct stat *st);

US_EXPORT int stat(const char *path, struct stat *st)
{
	US_SHIM_OR(US_REAL(stat)(path, st));
	US_TARGET(t);
	const char *p = us_path(path, stat_flags(0), t);
	if (!p)
		return -1;
	int rc = fixed(real_stat(AT_FDCWD, p, st, 0, t), t, st);
	return t->r.where == US_INSIDE ? rc : magic_fixed(rc, path, 0, st);
}

US_EXPORT int lstat(const char *path, struct stat *st)
{
	US_SHIM_OR(US_REAL(lstat)(path, st));
	US_TARGET(t);
	const char *p = us_path(path, stat_flags(AT_SYMLINK_NOFOLLOW), t);
	return p ? fixed(real_stat(AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW, t), t, st)
		 : -1;
}

/* ST, FD's real fstat, in the union's terms (us_fd_stat); 1 for a union
 * object. A dir more layers merge into now says st_nlink 1, as a stat of
 * its path does (lookup.h us_node_merged): a lower dir copied up since
 * the fd was opened is one. */
static int fd_stat(int fd, struct stat *st)
{
	if (!us_fd_stat(fd, st))
		return 0;
	if (!S_ISDIR(st->st_mode))
		return 1;
	US_SCRATCH_SCOPE;
	struct us_resolved *r = us_scratch_push(sizeof *r);
	if (r && us_fd_union_dir_now(fd, r) && us_node_merged(&r->node))
		st->st_nlink = 1;
	return 1;
}

/* The fd a followed stat of PATH (FLAGS) reads when PATH is a bare
 * /proc/self/fd/N or /dev/fd/N: the kernel follows it to the real object
 * the fd is open on (a layer file, an index entry), which the union shows
 * as fstat(N) does. -1 for any other path. */
static int magic_fd_of(const char *path, int flags)
{
	const char *rest;
	int fd;

	if ((flags & AT_SYMLINK_NOFOLLOW) || path[0] != '/' ||
	    (fd = us_magic_fd(path, &rest)) < 0 || *rest)
		return -1;
	return fd;
}

/* RC of the real stat of PATH (FLAGS) that found no union object: a bare
 * /proc/self/fd/N takes fd N's identity. */
static int magic_fixed(int rc, const char *path, int flags, struct stat *st)
{
	int fd;

	if (rc == 0 && (fd = magic_fd_of(path, flags)) >= 0)
		fd_stat(fd, st);
	return rc;
}

US_EXPORT int fstat(int fd, struct stat *st)
{
	us_fd_fresh(fd);
	US_SHIM_OR(US_REAL(fstat)(fd, st));
	if (US_REAL(fstat)(fd, st) < 0)
		return -1;
	fd_stat(fd, st);
	return 0;
}

US_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	US_SHIM_OR(US_REAL(fstatat)(dirfd, path, st, flags));
	if ((flags & AT_EMPTY_PATH) && us_readable(path) && !*path &&
	    dirfd != AT_FDCWD) {
		if (US_REAL(fstatat)(dirfd, path, st, flags) < 0)
			return -1;
		fd_stat(dirfd, st);
		return 0;
	}
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, stat_flags(flags), t);
	if (!p)
		return -1;
	int rc = fixed(real_stat(dirfd, p, st, flags, t), t, st);
	return t->r.where == US_INSIDE ? rc : magic_fixed(rc, path, flags, st);
}

US_EXPORT int stat64(const char *, struct stat64 *) __attribute__((alias("stat")));
US_EXPORT int lstat64(const char *, struct stat64 *)
	__attribute__((alias("lstat")));
US_EXPORT int fstat64(int, struct stat64 *) __attribute__((alias("fstat")));
US_EXPORT int fstatat64(int, const char *, struct stat64 *, int)
	__attribute__((alias("fstatat")));

/* The pre-2.33 ABI: on x86-64 every version number means struct stat. */
US_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return US_SELF(stat)(path, st);
}

US_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return US_SELF(lstat)(path, st);
}

US_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return US_SELF(fstat)(fd, st);
}

US_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
			 int flags)
{
	(void)ver;
	return US_SELF(fstatat)(dirfd, path, st, flags);
}

US_EXPORT int __xstat64(int, const char *, struct stat *)
	__attribute__((alias("__xstat")));
US_EXPORT int __lxstat64(int, const char *, struct stat *)
	__attribute__((alias("__lxstat")));
US_EXPORT int __fxstat64(int, int, struct stat *) __attribute__((alias("__fxstat")));
US_EXPORT int __fxstatat64(int, int, const char *, struct stat *, int)
	__attribute__((alias("__fxstatat")));

/* The union's identity into a statx result. */
static void statx_fix(struct statx *stx, const struct stat *st)
{
	stx->stx_ino = st->st_ino;
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
	stx->stx_nlink = (__u32)st->st_nlink;
	/* what a metacopy takes from its data, or lends an fd on that data */
	stx->stx_mode = (__u16)st->st_mode;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_size = (__u64)st->st_size;
	stx->stx_blocks = (__u64)st->st_blocks;
	stx->stx_atime.tv_sec = st->st_atim.tv_sec;
	stx->stx_atime.tv_nsec = (__u32)st->st_atim.tv_nsec;
	stx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	stx->stx_mtime.tv_nsec = (__u32)st->st_mtim.tv_nsec;
	stx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	stx->stx_ctime.tv_nsec = (__u32)st->st_ctim.tv_nsec;
}

/* Fill ST with STX's fields that identity looks at. */
static void statx_base(const struct statx *stx, struct stat *st)
{
	st->st_ino = stx->stx_ino;
	st->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	st->st_nlink = stx->stx_nlink;
	st->st_mode = stx->stx_mode;
	st->st_uid = stx->stx_uid;
	st->st_gid = stx->stx_gid;
	st->st_size = (off_t)stx->stx_size;
	st->st_blocks = (blkcnt_t)stx->stx_blocks;
	st->st_atim.tv_sec = stx->stx_atime.tv_sec;
	st->st_atim.tv_nsec = stx->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = stx->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = stx->stx_ctime.tv_nsec;
}

/* The real statx of T's object: the lookup's own when it answers MASK
 * as a second call would (it asked for as much, and no sync was asked). */
static bool lookup_answers(int flags, unsigned mask)
{
	return !(mask & ~(unsigned)(US_LOOKUP_STATX_MASK | STATX_MNT_ID)) &&
	       (flags & AT_STATX_SYNC_TYPE) != AT_STATX_FORCE_SYNC;
}

static int real_statx(int dirfd, const char *p, int flags, unsigned mask,
		      struct statx *stx, const struct us_target *t)
{
	if (!walked(t) || !lookup_answers(flags, mask))
		return US_REAL(statx)(dirfd, p, flags, mask, stx);
	*stx = t->r.stx;
	return 0;
}

US_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
		    struct statx *stx)
{
	US_SHIM_OR(US_REAL(statx)(dirfd, path, flags, mask, stx));
	struct stat st;
	if ((flags & AT_EMPTY_PATH) && us_readable(path) && !*path &&
	    dirfd != AT_FDCWD) {
		if (US_REAL(statx)(dirfd, path, flags, mask, stx) < 0)
			return -1;
		statx_base(stx, &st);
		if (fd_stat(dirfd, &st))
			statx_fix(stx, &st);
		return 0;
	}
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path,
				   lookup_answers(flags, mask) ? stat_flags(flags)
							       : at_flags(flags),
				   t);
	if (!p || real_statx(dirfd, p, flags, mask, stx, t) < 0)
		return -1;
	if (t->r.where == US_INSIDE) {
		statx_base(stx, &st);
		fixed(0, t, &st);
		statx_fix(stx, &st);
	} else if (magic_fd_of(path, flags) >= 0) {
		statx_base(stx, &st);
		if (fd_stat(magic_fd_of(path, flags), &st))
			statx_fix(stx, &st);
	}
	return 0;
}

/* W_OK answers for the object as it would be after a copy-up: a lower
 * file is writable when its mode lets us write, whatever the lower's own
 * filesystem says (it may be read-only); in a union without an upper, a
 * file, dir or symlink is EROFS, as on a read-only mount. */
static int lower_write_ok(const struct us_target *t, int flags)
{
	struct stat st;
	bool eff = flags & AT_EACCESS;
	uid_t uid = eff ? geteuid() : getuid();
	gid_t gid = eff ? getegid() : getgid();

	if (us_long_lstat(t->real, &st) < 0)
		return -1;
	if (uid == 0)
		return 0;
	mode_t bit = st.st_uid == uid ? S_IWUSR
		     : (st.st_gid == gid || group_member(st.st_gid)) ? S_IWGRP
								     : S_IWOTH;
	if (st.st_mode & bit)
		return 0;
	errno = EACCES;
	return -1;
}

static int access_at(int dirfd, const char *path, int mode, int flags,
		     int (*real)(int, const char *, int, int))
{
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, at_flags(flags), t);
	bool inside = p && t->r.where == US_INSIDE;
	bool below = inside && t->r.node.layer != 0 && !us_write_errno(t->r.m);

	if (!p)
		return -1;
	if (real(dirfd, p, below ? mode & ~W_OK : mode, flags) < 0)
		return -1;
	if (!(mode & W_OK) || !inside)
		return 0;
	if (below)
		return lower_write_ok(t, flags);
	if ((S_ISREG(t->r.node.mode) || S_ISDIR(t->r.node.mode) ||
	     S_ISLNK(t->r.node.mode)) &&
	    us_write_errno(t->r.m)) {
		errno = us_write_errno(t->r.m);
		return -1;
	}
	return 0;
}

static int real_faccessat(int dirfd, const char *path, int mode, int flags)
{
	return US_REAL(faccessat)(dirfd, path, mode, flags);
}

static int real_euidaccess(int dirfd, const char *path, int mode, int flags)
{
	(void)dirfd;
	(void)flags;
	return US_REAL(euidaccess)(path, mode);
}

US_EXPORT int access(const char *path, int mode)
{
	US_SHIM_OR(US_REAL(access)(path, mode));
	return access_at(AT_FDCWD, path, mode, 0, real_faccessat);
}

US_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	US_SHIM_OR(US_REAL(faccessat)(dirfd, path, mode, flags));
	return access_at(dirfd, path, mode, flags, real_faccessat);
}

US_EXPORT int euidaccess(const char *path, int mode)
{
	US_SHIM_OR(US_REAL(euidaccess)(path, mode));
	return access_at(AT_FDCWD, path, mode, 0, real_euidaccess);
}

US_EXPORT int eaccess(const char *, int) __attribute__((alias("euidaccess")));

/* statfs of a union object: the figures of the union's upper dir (of
 * its top lower for a read-only union), wherever the object lies, as
 * overlayfs reports. */
static const char *statfs_path(const char *path, struct us_target *t)
{
	const char *p = us_path(path, 0, t);

	return p && t->r.where == US_INSIDE ? t->r.m->layers[0].path : p;
}

US_EXPORT int statfs(const char *path, struct statfs *buf)
{
	US_SHIM_OR(US_REAL(statfs)(path, buf));
	US_TARGET(t);
	const char *p = statfs_path(path, t);
	return p ? US_REAL(statfs)(p, buf) : -1;
}

static void vfs_flags(const struct us_mount *m, struct statvfs *buf)
{
	if (m && us_write_errno(m))
		buf->f_flag |= ST_RDONLY;
}

US_EXPORT int statvfs(const char *path, struct statvfs *buf)
{
	US_SHIM_OR(US_REAL(statvfs)(path, buf));
	US_TARGET(t);
	const char *p = statfs_path(path, t);
	int rc = p ? US_REAL(statvfs)(p, buf) : -1;
	if (rc == 0 && t->r.where == US_INSIDE)
		vfs_flags(t->r.m, buf);
	return rc;
}

US_EXPORT int fstatfs(int fd, struct statfs *buf)
{
	US_SHIM_OR(US_REAL(fstatfs)(fd, buf));
	const struct us_mount *m = us_fd_mount(fd);
	if (!m)
		return US_REAL(fstatfs)(fd, buf);
	us_errno_back();
	return US_REAL(statfs)(m->layers[0].path, buf);
}

US_EXPORT int fstatvfs(int fd, struct statvfs *buf)
{
	US_SHIM_OR(US_REAL(fstatvfs)(fd, buf));
	const struct us_mount *m = us_fd_mount(fd);
	if (!m)
		return US_REAL(fstatvfs)(fd, buf);
	us_errno_back();
	int rc = US_REAL(statvfs)(m->layers[0].path, buf);
	if (rc == 0)
		vfs_flags(m, buf);
	return rc;
}

US_EXPORT int statfs64(const char *, struct statfs64 *)
	__attribute__((alias("statfs")));
US_EXPORT int statvfs64(const char *, struct statvfs64 *)
	__attribute__((alias("statvfs")));
US_EXPORT int fstatfs64(int, struct statfs64 *)
	__attribute__((alias("fstatfs")));
US_EXPORT int fstatvfs64(int, struct statvfs64 *)
	__attribute__((alias("fstatvfs")));

US_EXPORT long pathconf(const char *path, int name)
{
	US_SHIM_OR(US_REAL(pathconf)(path, name));
	US_TARGET(t);
	const char *p = us_path(path, 0, t);
	return p ? US_REAL(pathconf)(p, name) : -1;
}
