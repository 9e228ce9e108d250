/* longpath.h: real calls on paths longer than PATH_MAX (see pathmax.h).
 *
 * The kernel takes at most PATH_MAX bytes of path in one call, but any
 * depth through a dirfd. A union path near PATH_MAX has a longer real path
 * (the layer dir in front), and a union tree may go deeper than PATH_MAX:
 * such a path is opened in pieces (O_PATH dirs, each piece shorter than
 * PATH_MAX) and the call gets the last dir and the short rest. A path
 * that fits costs one strnlen. Included by sys.h: SYS(fn) of core code is
 * US_SYS_fn below. */
#ifndef UNIONSHIM_LONGPATH_H
#define UNIONSHIM_LONGPATH_H

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifndef US_HIDDEN
#define US_HIDDEN __attribute__((visibility("hidden")))
#endif

/* Does PATH fit in one call? */
static inline bool us_path_fits(const char *path)
{
	return strnlen(path, PATH_MAX) < PATH_MAX;
}

/* The dir to call from for (DIRFD, PATH): DIRFD itself with *REST = PATH
 * when PATH is shorter than MAX, else a new O_PATH fd (the caller closes
 * it with us_long_done) on a dir of PATH with *REST the part after it,
 * shorter than MAX. -1 with errno when a piece cannot be opened. */
US_HIDDEN int us_long_split(int dirfd, const char *path, size_t max,
			    const char **rest);

/* Close FD if us_long_split opened it (it differs from DIRFD), keeping
 * errno. */
US_HIDDEN void us_long_done(int fd, int dirfd);

/* The long-path forms (longpath.c); each behaves as its libc name. */
US_HIDDEN int us_long_lstat(const char *p, struct stat *st);
US_HIDDEN int us_long_stat(const char *p, struct stat *st);
US_HIDDEN int us_long_open(const char *p, int flags, ...);
US_HIDDEN int us_long_unlink(const char *p);
US_HIDDEN int us_long_rmdir(const char *p);
US_HIDDEN int us_long_mkdir(const char *p, mode_t mode);
US_HIDDEN int us_long_mknod(const char *p, mode_t mode, dev_t dev);
US_HIDDEN ssize_t us_long_readlink(const char *p, char *buf, size_t len);
US_HIDDEN int us_long_symlink(const char *target, const char *p);
US_HIDDEN int us_long_link(const char *a, const char *b);
US_HIDDEN int us_long_rename(const char *a, const char *b);
US_HIDDEN int us_long_renameat2(int da, const char *a, int db, const char *b,
				unsigned flags);
US_HIDDEN int us_long_chmod(const char *p, mode_t mode);
US_HIDDEN int us_long_lchown(const char *p, uid_t uid, gid_t gid);
US_HIDDEN int us_long_utimensat(int dirfd, const char *p,
				const struct timespec *ts, int flags);
struct statx;
US_HIDDEN int us_long_statx(int dirfd, const char *p, int flags,
			    unsigned mask, struct statx *sx);
US_HIDDEN ssize_t us_long_lgetxattr(const char *p, const char *name,
				    void *val, size_t len);
US_HIDDEN ssize_t us_long_llistxattr(const char *p, char *list, size_t len);
US_HIDDEN int us_long_lsetxattr(const char *p, const char *name,
				const void *val, size_t len, int flags);

#define US_SYS_lstat us_long_lstat
#define US_SYS_stat us_long_stat
#define US_SYS_open us_long_open
#define US_SYS_unlink us_long_unlink
#define US_SYS_rmdir us_long_rmdir
#define US_SYS_mkdir us_long_mkdir
#define US_SYS_mknod us_long_mknod
#define US_SYS_readlink us_long_readlink
#define US_SYS_symlink us_long_symlink
#define US_SYS_link us_long_link
#define US_SYS_rename us_long_rename
#define US_SYS_renameat2 us_long_renameat2
#define US_SYS_chmod us_long_chmod
#define US_SYS_lchown us_long_lchown
#define US_SYS_utimensat us_long_utimensat
#define US_SYS_statx us_long_statx
#define US_SYS_lgetxattr us_long_lgetxattr
#define US_SYS_llistxattr us_long_llistxattr
#define US_SYS_lsetxattr us_long_lsetxattr
/* no path, or a path the kernel never gets whole (realpath walks it) */
#define US_SYS_close SYS_RAW(close)
#define US_SYS_copy_file_range SYS_RAW(copy_file_range)
#define US_SYS_fchmod SYS_RAW(fchmod)
#define US_SYS_fchown SYS_RAW(fchown)
#define US_SYS_fgetxattr SYS_RAW(fgetxattr)
#define US_SYS_flistxattr SYS_RAW(flistxattr)
#define US_SYS_fsetxattr SYS_RAW(fsetxattr)
#define US_SYS_flock SYS_RAW(flock)
#define US_SYS_fstat SYS_RAW(fstat)
#define US_SYS_ftruncate SYS_RAW(ftruncate)
#define US_SYS_futimens SYS_RAW(futimens)
#define US_SYS_ioctl SYS_RAW(ioctl)
#define US_SYS_lseek SYS_RAW(lseek)
#define US_SYS_mmap SYS_RAW(mmap)
#define US_SYS_pread SYS_RAW(pread)
#define US_SYS_read SYS_RAW(read)
#define US_SYS_realpath SYS_RAW(realpath)
#define US_SYS_syscall SYS_RAW(syscall)
/* a dir fd and one name of its listing (shorter than NAME_MAX) */
#define US_SYS_openat SYS_RAW(openat)
/* only ever a temp name in the work dir (metacopy.c), always short */
#define US_SYS_truncate SYS_RAW(truncate)
/* unionctl's index walk (changes.c): a path past PATH_MAX fails there */
#define US_SYS_name_to_handle_at SYS_RAW(name_to_handle_at)

#endif
