/* syscall.c: the syscall() door. Path-taking system calls, and the fd
 * calls the fd map follows, made through glibc's syscall() go through the
 * same wrappers as their libc names;
 * everything else reaches the kernel unchanged. (Raw syscall instructions,
 * as Go emits, are out of reach: see the README's known limits.) */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "openat2.h"

static long door_getcwd(char *buf, unsigned long size)
{
	if (!getcwd(buf, size))
		return -1;
	return (long)strlen(buf) + 1;
}

#define P(i) ((const char *)a[i])
#define I(i) ((int)a[i])

/* Routed numbers; 1 and *RC set when NR is one of them. */
static int route(long nr, const long a[6], long *rc)
{
	switch (nr) {
	case SYS_open: *rc = open(P(0), I(1), (mode_t)a[2]); break;
	case SYS_openat: *rc = openat(I(0), P(1), I(2), (mode_t)a[3]); break;
	case SYS_creat: *rc = creat(P(0), (mode_t)a[1]); break;
	case SYS_openat2: *rc = us_door_openat2(a[0], P(1), (struct open_how *)a[2], a[3]); break;
	case SYS_stat: *rc = stat(P(0), (struct stat *)a[1]); break;
	case SYS_lstat: *rc = lstat(P(0), (struct stat *)a[1]); break;
	case SYS_newfstatat: *rc = fstatat(I(0), P(1), (struct stat *)a[2], I(3)); break;
	case SYS_statx: *rc = statx(I(0), P(1), I(2), (unsigned)a[3], (struct statx *)a[4]); break;
	case SYS_statfs: *rc = statfs(P(0), (struct statfs *)a[1]); break;
	case SYS_access: *rc = access(P(0), I(1)); break;
	case SYS_faccessat: *rc = faccessat(I(0), P(1), I(2), 0); break;
	case SYS_faccessat2: *rc = faccessat(I(0), P(1), I(2), I(3)); break;
	case SYS_readlink: *rc = readlink(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_readlinkat: *rc = readlinkat(I(0), P(1), (char *)a[2], (size_t)a[3]); break;
	case SYS_getdents64: *rc = getdents64(I(0), (void *)a[1], (size_t)a[2]); break;
	case SYS_getcwd: *rc = door_getcwd((char *)a[0], (unsigned long)a[1]); break;
	case SYS_chdir: *rc = chdir(P(0)); break;
	case SYS_fchdir: *rc = fchdir(I(0)); break;
	case SYS_execve: *rc = execve(P(0), (char *const *)a[1], (char *const *)a[2]); break;
	case SYS_execveat: *rc = execveat(I(0), P(1), (char *const *)a[2], (char *const *)a[3], I(4)); break;
	case SYS_mkdir: *rc = mkdir(P(0), (mode_t)a[1]); break;
	case SYS_mkdirat: *rc = mkdirat(I(0), P(1), (mode_t)a[2]); break;
	case SYS_rmdir: *rc = rmdir(P(0)); break;
	case SYS_unlink: *rc = unlink(P(0)); break;
	case SYS_unlinkat: *rc = unlinkat(I(0), P(1), I(2)); break;
	case SYS_rename: *rc = rename(P(0), P(1)); break;
	case SYS_renameat: *rc = renameat(I(0), P(1), I(2), P(3)); break;
	case SYS_renameat2: *rc = renameat2(I(0), P(1), I(2), P(3), (unsigned)a[4]); break;
	case SYS_link: *rc = link(P(0), P(1)); break;
	case SYS_linkat: *rc = linkat(I(0), P(1), I(2), P(3), I(4)); break;
	case SYS_symlink: *rc = symlink(P(0), P(1)); break;
	case SYS_symlinkat: *rc = symlinkat(P(0), I(1), P(2)); break;
	case SYS_chmod: *rc = chmod(P(0), (mode_t)a[1]); break;
	case SYS_fchmodat: *rc = fchmodat(I(0), P(1), (mode_t)a[2], 0); break;
	case SYS_chown: *rc = chown(P(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_lchown: *rc = lchown(P(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_fchownat: *rc = fchownat(I(0), P(1), (uid_t)a[2], (gid_t)a[3], I(4)); break;
	case SYS_truncate: *rc = truncate(P(0), (off_t)a[1]); break;
	case SYS_utimensat: *rc = utimensat(I(0), P(1), (const struct timespec *)a[2], I(3)); break;
	case SYS_mknod: *rc = mknod(P(0), (mode_t)a[1], (dev_t)a[2]); break;
	case SYS_mknodat: *rc = mknodat(I(0), P(1), (mode_t)a[2], (dev_t)a[3]); break;
	case SYS_getxattr: *rc = getxattr(P(0), P(1), (void *)a[2], (size_t)a[3]); break;
	case SYS_lgetxattr: *rc = lgetxattr(P(0), P(1), (void *)a[2], (size_t)a[3]); break;
	case SYS_listxattr: *rc = listxattr(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_llistxattr: *rc = llistxattr(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_setxattr: *rc = setxattr(P(0), P(1), (const void *)a[2], (size_t)a[3], I(4)); break;
	case SYS_lsetxattr: *rc = lsetxattr(P(0), P(1), (const void *)a[2], (size_t)a[3], I(4)); break;
	case SYS_removexattr: *rc = removexattr(P(0), P(1)); break;
	case SYS_lremovexattr: *rc = lremovexattr(P(0), P(1)); break;
	case SYS_fstat: *rc = fstat(I(0), (struct stat *)a[1]); break;
	case SYS_close: *rc = close(I(0)); break;
	case SYS_close_range: *rc = close_range((unsigned)a[0], (unsigned)a[1], I(2)); break;
	case SYS_dup: *rc = dup(I(0)); break;
	case SYS_dup2: *rc = dup2(I(0), I(1)); break;
	case SYS_dup3: *rc = dup3(I(0), I(1), I(2)); break;
	case SYS_fcntl: *rc = fcntl(I(0), I(1), (void *)a[2]); break;
	case SYS_flock: *rc = flock(I(0), I(1)); break;
	case SYS_read: *rc = read(I(0), (void *)a[1], (size_t)a[2]); break;
	case SYS_pread64: *rc = pread(I(0), (void *)a[1], (size_t)a[2], (off_t)a[3]); break;
	case SYS_lseek: *rc = lseek(I(0), (off_t)a[1], I(2)); break;
	default: return 0;
	}
	return 1;
}

/* Like glibc's, this reads six argument words whatever NR takes. */
US_EXPORT long syscall(long nr, ...)
{
	long a[6], rc;
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (us_inside || us_state != US_ACTIVE || !route(nr, a, &rc))
		return US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return rc;
}
