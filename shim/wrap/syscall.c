/* syscall.c: the syscall() door. Every x86-64 system call that takes a
 * path, or an fd whose file the union must see to (metadata and xattr
 * changes, ioctl, the fd map's calls, handles, watches), made through
 * glibc's syscall() goes through the same wrapper as its libc name, called
 * as US_SELF(name) (names.h): the shim's own, never a program's function
 * of that name, which may be built on syscall() itself (gnulib's
 * renameat2) and would bring the call back here forever; or a door
 * function of its own (door.h) where glibc has none; the mount
 * family on a union is refused, as is io_uring_setup (a ring's I/O
 * bypasses libc). Everything else (writes through an fd, which only a
 * guarded open can make, and calls that take no path) reaches the kernel
 * unchanged. (Raw syscall instructions, as Go emits, are out of reach: see
 * the README's known limits.) */
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
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "openat2.h"
#include "door.h"

static long door_getcwd(char *buf, unsigned long size)
{
	if (!US_SELF(getcwd)(buf, size))
		return -1;
	return (long)strlen(buf) + 1;
}

#define P(i) ((const char *)a[i])
#define I(i) ((int)a[i])

/* The kernel's utimensat: a NULL path is the fd's own (futimens; no flag
 * then, and never AT_FDCWD: EFAULT), where glibc's refuses it. */
static long door_utimensat(const long a[6])
{
	const struct timespec *ts = (const struct timespec *)a[2];

	if (P(1))
		return US_SELF(utimensat)(I(0), P(1), ts, I(3));
	if (I(0) == AT_FDCWD) {
		errno = EFAULT;
		return -1;
	}
	if (I(3)) {
		errno = EINVAL;
		return -1;
	}
	return US_SELF(futimens)(I(0), ts);
}

static int route_more(long nr, const long a[6], long *rc);

/* Routed numbers; 1 and *RC set when NR is one of them. */
static int route(long nr, const long a[6], long *rc)
{
	switch (nr) {
	case SYS_open: *rc = US_SELF(open)(P(0), I(1), (mode_t)a[2]); break;
	case SYS_openat: *rc = US_SELF(openat)(I(0), P(1), I(2), (mode_t)a[3]); break;
	case SYS_creat: *rc = US_SELF(creat)(P(0), (mode_t)a[1]); break;
	case SYS_openat2: *rc = us_door_openat2(a[0], P(1), (struct open_how *)a[2], a[3]); break;
	case SYS_stat: *rc = US_SELF(stat)(P(0), (struct stat *)a[1]); break;
	case SYS_lstat: *rc = US_SELF(lstat)(P(0), (struct stat *)a[1]); break;
	case SYS_newfstatat: *rc = US_SELF(fstatat)(I(0), P(1), (struct stat *)a[2], I(3)); break;
	case SYS_statx: *rc = US_SELF(statx)(I(0), P(1), I(2), (unsigned)a[3], (struct statx *)a[4]); break;
	case SYS_statfs: *rc = US_SELF(statfs)(P(0), (struct statfs *)a[1]); break;
	case SYS_access: *rc = US_SELF(access)(P(0), I(1)); break;
	case SYS_faccessat: *rc = US_SELF(faccessat)(I(0), P(1), I(2), 0); break;
	case SYS_faccessat2: *rc = US_SELF(faccessat)(I(0), P(1), I(2), I(3)); break;
	case SYS_readlink: *rc = US_SELF(readlink)(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_readlinkat: *rc = US_SELF(readlinkat)(I(0), P(1), (char *)a[2], (size_t)a[3]); break;
	case SYS_getdents64: *rc = US_SELF(getdents64)(I(0), (void *)a[1], (size_t)a[2]); break;
	case SYS_getcwd: *rc = door_getcwd((char *)a[0], (unsigned long)a[1]); break;
	case SYS_chdir: *rc = US_SELF(chdir)(P(0)); break;
	case SYS_fchdir: *rc = US_SELF(fchdir)(I(0)); break;
	case SYS_getrlimit: *rc = US_SELF(getrlimit)(I(0), (struct rlimit *)a[1]); break;
	case SYS_setrlimit: *rc = US_SELF(setrlimit)(I(0), (const struct rlimit *)a[1]); break;
	case SYS_prlimit64: *rc = US_SELF(prlimit)((pid_t)a[0], I(1), (const struct rlimit *)a[2], (struct rlimit *)a[3]); break;
	case SYS_execve: *rc = US_SELF(execve)(P(0), (char *const *)a[1], (char *const *)a[2]); break;
	case SYS_execveat: *rc = US_SELF(execveat)(I(0), P(1), (char *const *)a[2], (char *const *)a[3], I(4)); break;
	case SYS_mkdir: *rc = US_SELF(mkdir)(P(0), (mode_t)a[1]); break;
	case SYS_mkdirat: *rc = US_SELF(mkdirat)(I(0), P(1), (mode_t)a[2]); break;
	case SYS_rmdir: *rc = US_SELF(rmdir)(P(0)); break;
	case SYS_unlink: *rc = US_SELF(unlink)(P(0)); break;
	case SYS_unlinkat: *rc = US_SELF(unlinkat)(I(0), P(1), I(2)); break;
	case SYS_rename: *rc = US_SELF(rename)(P(0), P(1)); break;
	case SYS_renameat: *rc = US_SELF(renameat)(I(0), P(1), I(2), P(3)); break;
	case SYS_renameat2: *rc = US_SELF(renameat2)(I(0), P(1), I(2), P(3), (unsigned)a[4]); break;
	case SYS_link: *rc = US_SELF(link)(P(0), P(1)); break;
	case SYS_linkat: *rc = US_SELF(linkat)(I(0), P(1), I(2), P(3), I(4)); break;
	case SYS_symlink: *rc = US_SELF(symlink)(P(0), P(1)); break;
	case SYS_symlinkat: *rc = US_SELF(symlinkat)(P(0), I(1), P(2)); break;
	case SYS_chmod: *rc = US_SELF(chmod)(P(0), (mode_t)a[1]); break;
	case SYS_fchmodat: *rc = US_SELF(fchmodat)(I(0), P(1), (mode_t)a[2], 0); break;
	case SYS_chown: *rc = US_SELF(chown)(P(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_lchown: *rc = US_SELF(lchown)(P(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_fchownat: *rc = US_SELF(fchownat)(I(0), P(1), (uid_t)a[2], (gid_t)a[3], I(4)); break;
	case SYS_truncate: *rc = US_SELF(truncate)(P(0), (off_t)a[1]); break;
	case SYS_utimensat: *rc = door_utimensat(a); break;
	case SYS_mknod: *rc = US_SELF(mknod)(P(0), (mode_t)a[1], (dev_t)a[2]); break;
	case SYS_mknodat: *rc = US_SELF(mknodat)(I(0), P(1), (mode_t)a[2], (dev_t)a[3]); break;
	case SYS_getxattr: *rc = US_SELF(getxattr)(P(0), P(1), (void *)a[2], (size_t)a[3]); break;
	case SYS_lgetxattr: *rc = US_SELF(lgetxattr)(P(0), P(1), (void *)a[2], (size_t)a[3]); break;
	case SYS_listxattr: *rc = US_SELF(listxattr)(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_llistxattr: *rc = US_SELF(llistxattr)(P(0), (char *)a[1], (size_t)a[2]); break;
	case SYS_setxattr: *rc = US_SELF(setxattr)(P(0), P(1), (const void *)a[2], (size_t)a[3], I(4)); break;
	case SYS_lsetxattr: *rc = US_SELF(lsetxattr)(P(0), P(1), (const void *)a[2], (size_t)a[3], I(4)); break;
	case SYS_removexattr: *rc = US_SELF(removexattr)(P(0), P(1)); break;
	case SYS_lremovexattr: *rc = US_SELF(lremovexattr)(P(0), P(1)); break;
	case SYS_fstat: *rc = US_SELF(fstat)(I(0), (struct stat *)a[1]); break;
	case SYS_close: *rc = US_SELF(close)(I(0)); break;
	case SYS_close_range: *rc = US_SELF(close_range)((unsigned)a[0], (unsigned)a[1], I(2)); break;
	case SYS_dup: *rc = US_SELF(dup)(I(0)); break;
	case SYS_dup2: *rc = US_SELF(dup2)(I(0), I(1)); break;
	case SYS_dup3: *rc = US_SELF(dup3)(I(0), I(1), I(2)); break;
	case SYS_fcntl: *rc = US_SELF(fcntl)(I(0), I(1), (void *)a[2]); break;
	case SYS_flock: *rc = US_SELF(flock)(I(0), I(1)); break;
	case SYS_read: *rc = US_SELF(read)(I(0), (void *)a[1], (size_t)a[2]); break;
	case SYS_pread64: *rc = US_SELF(pread)(I(0), (void *)a[1], (size_t)a[2], (off_t)a[3]); break;
	case SYS_lseek: *rc = US_SELF(lseek)(I(0), (off_t)a[1], I(2)); break;
	default: return route_more(nr, a, rc);
	}
	return 1;
}

#define U(i) ((unsigned)a[i])
#define Z(i) ((size_t)a[i])
#define TV(i) ((const struct timeval *)a[i])

/* The rest: fd calls on a file's metadata and data, handles, watches,
 * the calls without a glibc function, the mount family. */
static int route_more(long nr, const long a[6], long *rc)
{
	switch (nr) {
	case SYS_fchmod: *rc = US_SELF(fchmod)(I(0), (mode_t)a[1]); break;
	case SYS_fchown: *rc = US_SELF(fchown)(I(0), (uid_t)a[1], (gid_t)a[2]); break;
	case SYS_ftruncate: *rc = US_SELF(ftruncate)(I(0), (off_t)a[1]); break;
	case SYS_utime: *rc = US_SELF(utime)(P(0), (const struct utimbuf *)a[1]); break;
	case SYS_utimes: *rc = US_SELF(utimes)(P(0), TV(1)); break;
	case SYS_futimesat: *rc = US_SELF(futimesat)(I(0), us_unchecked(P(1)), TV(2)); break;
	case SYS_fchmodat2: *rc = door_fchmodat2(a); break;
	case SYS_fgetxattr: *rc = US_SELF(fgetxattr)(I(0), P(1), (void *)a[2], Z(3)); break;
	case SYS_flistxattr: *rc = US_SELF(flistxattr)(I(0), (char *)a[1], Z(2)); break;
	case SYS_fsetxattr: *rc = US_SELF(fsetxattr)(I(0), P(1), (const void *)a[2], Z(3), I(4)); break;
	case SYS_fremovexattr: *rc = US_SELF(fremovexattr)(I(0), P(1)); break;
	case SYS_setxattrat: case SYS_getxattrat: case SYS_listxattrat:
	case SYS_removexattrat: *rc = door_xattrat(nr, a); break;
	case SYS_file_getattr: case SYS_file_setattr: *rc = door_fileattr(nr, a); break;
	case SYS_ioctl: *rc = US_SELF(ioctl)(I(0), (unsigned long)a[1], (void *)a[2]); break;
	case SYS_getdents: *rc = door_getdents(a[0], (void *)a[1], a[2]); break;
	case SYS_readv: *rc = US_SELF(readv)(I(0), (const struct iovec *)a[1], I(2)); break;
	case SYS_preadv: *rc = US_SELF(preadv)(I(0), (const struct iovec *)a[1], I(2), (off_t)a[3]); break;
	case SYS_preadv2: *rc = US_SELF(preadv2)(I(0), (const struct iovec *)a[1], I(2), (off_t)a[3], I(5)); break;
	case SYS_mmap: *rc = (long)US_SELF(mmap)((void *)a[0], Z(1), I(2), I(3), I(4), (off_t)a[5]); break;
	case SYS_sendfile: *rc = US_SELF(sendfile)(I(0), I(1), (off_t *)a[2], Z(3)); break;
	case SYS_copy_file_range: *rc = US_SELF(copy_file_range)(I(0), (off_t *)a[1], I(2), (off_t *)a[3], Z(4), U(5)); break;
	case SYS_splice: *rc = US_SELF(splice)(I(0), (off_t *)a[1], I(2), (off_t *)a[3], Z(4), U(5)); break;
	case SYS_bind: *rc = US_SELF(bind)(I(0), (const struct sockaddr *)a[1], (socklen_t)a[2]); break;
	case SYS_connect: *rc = US_SELF(connect)(I(0), (const struct sockaddr *)a[1], (socklen_t)a[2]); break;
	case SYS_sendto: *rc = US_SELF(sendto)(I(0), (const void *)a[1], Z(2), I(3), (const struct sockaddr *)a[4], (socklen_t)a[5]); break;
	case SYS_sendmsg: *rc = US_SELF(sendmsg)(I(0), (const struct msghdr *)a[1], I(2)); break;
	case SYS_name_to_handle_at: *rc = US_SELF(name_to_handle_at)(I(0), P(1), (struct file_handle *)a[2], (int *)a[3], I(4)); break;
	case SYS_open_by_handle_at: *rc = US_SELF(open_by_handle_at)(I(0), (struct file_handle *)a[1], I(2)); break;
	case SYS_inotify_add_watch: *rc = US_SELF(inotify_add_watch)(I(0), P(1), (uint32_t)a[2]); break;
	case SYS_fanotify_mark: *rc = US_SELF(fanotify_mark)(I(0), U(1), (uint64_t)a[2], I(3), us_unchecked(P(4))); break;
	case SYS_mount: *rc = US_SELF(mount)(P(0), P(1), P(2), (unsigned long)a[3], (const void *)a[4]); break;
	case SYS_umount2: *rc = US_SELF(umount2)(P(0), I(1)); break;
	case SYS_chroot: *rc = US_SELF(chroot)(P(0)); break;
	case SYS_swapon: *rc = US_SELF(swapon)(P(0), I(1)); break;
	case SYS_swapoff: *rc = US_SELF(swapoff)(P(0)); break;
	case SYS_quotactl: *rc = US_SELF(quotactl)(I(0), P(1), I(2), (caddr_t)a[3]); break;
	case SYS_acct: *rc = US_SELF(acct)(P(0)); break;
	case SYS_pivot_root: *rc = door_pivot_root(P(0), P(1)); break;
	case SYS_open_tree: case SYS_open_tree_attr: case SYS_move_mount:
	case SYS_fspick: case SYS_fsconfig: case SYS_mount_setattr:
		*rc = door_mountfd(nr, a); break;
	case SYS_uselib: *rc = door_refuse("uselib through syscall()", P(0), ENOSYS); break;
	case SYS_io_uring_setup: *rc = door_io_uring_setup(); break;
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
