/* doorcalls.c: system calls that reach the shim only through syscall()
 * (glibc 2.36 has no function for them): the old getdents, fchmodat2, the
 * *xattrat calls, file_getattr/file_setattr; and io_uring_setup, refused.
 * Where an existing wrapper does the job, the call becomes that wrapper's
 * call (a dirfd-relative path as /proc/self/fd/N/PATH, which the shim
 * reads as the dirfd's union object). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../front.h"
#include "../guard.h"
#include "../trace.h"
#include "door.h"
#include "unionshim/scratch.h"

#define P(i) ((const char *)a[i])
#define I(i) ((int)a[i])

long door_refuse(const char *what, const char *path, int err)
{
	errno = err;
	us_trace_denied(what, path);
	return -1;
}

/* The old getdents: the records getdents64 gives, rewritten in place
 * (struct linux_dirent has the same size per name: d_type moves from
 * before the name to the record's last byte). */
long door_getdents(long fd, void *buf, long n)
{
	ssize_t got = US_SELF(getdents64)((int)fd, buf, (size_t)n);
	char *p = buf;

	for (ssize_t off = 0; got > 0 && off < got;) {
		char *rec = p + off;
		unsigned short reclen;
		memcpy(&reclen, rec + 16, sizeof reclen);
		unsigned char type = (unsigned char)rec[18];
		memmove(rec + 18, rec + 19, strlen(rec + 19) + 1);
		rec[reclen - 1] = (char)type;
		off += reclen;
	}
	return got;
}

/* A dirfd-relative PATH as a path of its own into OUT (heap), or PATH
 * itself when it needs no dirfd. NULL with errno ENOMEM. */
static const char *at_path(int dirfd, const char *path, char **out)
{
	*out = NULL;
	if (dirfd == AT_FDCWD || !us_readable(path) || path[0] == '/')
		return path; /* (a wild one: the kernel answers EFAULT) */
	if (asprintf(out, "/proc/self/fd/%d/%s", dirfd, path) < 0) {
		*out = NULL;
		errno = ENOMEM;
		return NULL;
	}
	return *out;
}

static bool fd_form(int dirfd, const char *path, unsigned flags)
{
	return (flags & AT_EMPTY_PATH) && (!path || (us_readable(path) && !*path)) &&
	       dirfd != AT_FDCWD;
}

/* A change through DFD itself (AT_EMPTY_PATH): to the upper copy of a
 * lower file, by the real path the copy-up put in UP, or to DFD. */
static long fd_change(long nr, const long a[6], long flags_at, long flags,
		      unsigned may)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int w = us_fd_write((int)a[0], may, sb->up, sizeof sb->up);
	if (w <= 0)
		return w < 0 ? -1 : US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4]);
	long b[5] = { AT_FDCWD, (long)sb->up, a[2], a[3], a[4] };
	b[flags_at] = flags;
	return US_REAL(syscall)(nr, b[0], b[1], b[2], b[3], b[4]);
}

/* The same call with (dirfd, path) mapped with MF. */
static long path_change(long nr, const long a[6], unsigned mf)
{
	US_SCRATCH_SCOPE;
	US_TARGET(t);
	int dfd = I(0);
	const char *p = us_path_at(&dfd, P(1), mf, t);
	return p ? US_REAL(syscall)(nr, (long)dfd, p, a[2], a[3], a[4]) : -1;
}

/* fchmodat2(dirfd, path, mode, flags): chmod of a path, of a symlink
 * itself, or of the dirfd (AT_EMPTY_PATH). */
long door_fchmodat2(const long a[6])
{
	unsigned fl = (unsigned)a[3];

	size_t mark = us_scratch_mark();
	if (!us_begin())
		return US_REAL(syscall)(SYS_fchmodat2, a[0], a[1], a[2], a[3]);
	long rc = fd_form(I(0), us_unchecked(P(1)), fl)
		? fd_change(SYS_fchmodat2, a, 3, fl & ~(unsigned)AT_EMPTY_PATH, US_MAP_OWNER)
		: path_change(SYS_fchmodat2, a, US_MAP_WRITE | US_MAP_META | US_MAP_OWNER |
			      ((fl & AT_SYMLINK_NOFOLLOW) ? US_MAP_NOFOLLOW : 0));
	us_end_scope(&mark);
	return rc;
}

/* struct xattr_args of the *xattrat calls (linux/xattr.h, 6.13). */
struct door_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

/* setxattrat, getxattrat, listxattrat, removexattrat as the xattr
 * wrappers' calls: the fd form, the path form, the symlink form. */
long door_xattrat(long nr, const long a[6])
{
	int dfd = I(0);
	unsigned fl = (unsigned)a[2];
	const char *path = us_unchecked(P(1));
	bool args = nr == SYS_setxattrat || nr == SYS_getxattrat;
	const struct door_xattr_args *x = args ? (const void *)a[4] : NULL;
	bool nofollow = fl & AT_SYMLINK_NOFOLLOW;

	/* what the kernel refuses (EINVAL, EFAULT) it refuses untouched */
	if ((fl & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) ||
	    (args && (!x || (size_t)a[5] < sizeof *x ||
		      (nr == SYS_getxattrat && x->flags))))
		return US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if ((fl & AT_EMPTY_PATH) && us_readable(path) && !*path && dfd == AT_FDCWD)
		path = ".";
	void *v = x ? (void *)(uintptr_t)x->value : NULL;
	size_t vs = x ? x->size : 0;
	if (fd_form(dfd, path, fl)) {
		switch (nr) {
		case SYS_setxattrat: return US_SELF(fsetxattr)(dfd, P(3), v, vs, (int)x->flags);
		case SYS_getxattrat: return US_SELF(fgetxattr)(dfd, P(3), v, vs);
		case SYS_listxattrat: return US_SELF(flistxattr)(dfd, (char *)a[3], (size_t)a[4]);
		default: return US_SELF(fremovexattr)(dfd, P(3));
		}
	}
	char *own;
	const char *p = path ? at_path(dfd, path, &own) : NULL;
	long rc;
	if (!p)
		return path ? -1 : US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	switch (nr) {
	case SYS_setxattrat:
		rc = nofollow ? US_SELF(lsetxattr)(p, P(3), v, vs, (int)x->flags)
			      : US_SELF(setxattr)(p, P(3), v, vs, (int)x->flags);
		break;
	case SYS_getxattrat:
		rc = nofollow ? US_SELF(lgetxattr)(p, P(3), v, vs) : US_SELF(getxattr)(p, P(3), v, vs);
		break;
	case SYS_listxattrat:
		rc = nofollow ? US_SELF(llistxattr)(p, (char *)a[3], (size_t)a[4])
			      : US_SELF(listxattr)(p, (char *)a[3], (size_t)a[4]);
		break;
	default:
		rc = nofollow ? US_SELF(lremovexattr)(p, P(3)) : US_SELF(removexattr)(p, P(3));
	}
	int saved = errno;
	free(own);
	errno = saved;
	return rc;
}

/* file_getattr / file_setattr(dirfd, path, attr, size, at_flags): a set
 * is a copy-up trigger (overlayfs copies up for a fileattr change). */
long door_fileattr(long nr, const long a[6])
{
	unsigned fl = (unsigned)a[4];
	bool set = nr == SYS_file_setattr;

	size_t mark = us_scratch_mark();
	if (!us_begin())
		return US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4]);
	long rc;
	if (fd_form(I(0), us_unchecked(P(1)), fl))
		rc = set ? fd_change(nr, a, 4, fl & ~(unsigned)AT_EMPTY_PATH, US_MAP_OWNER)
			 : US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4]);
	else
		rc = path_change(nr, a, ((fl & AT_SYMLINK_NOFOLLOW) ? US_MAP_NOFOLLOW : 0) |
				 (set ? US_MAP_WRITE | US_MAP_META | US_MAP_OWNER : 0));
	us_end_scope(&mark);
	return rc;
}

/* io_uring's submissions reach the kernel without libc: a ring would read
 * and write the real layers. ENOSYS is what programs fall back on. */
long door_io_uring_setup(void)
{
	return door_refuse("io_uring_setup through syscall()",
			   "a ring, whose I/O would bypass the union", ENOSYS);
}
