/* glibc_protos.h: prototypes of exported glibc names that no public header
 * declares in a normal build (fortify entry points, the old stat ABI). */
#ifndef UNIONSHIM_GLIBC_PROTOS_H
#define UNIONSHIM_GLIBC_PROTOS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flag);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st,
		 int flag);
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode,
	       dev_t *dev);
ssize_t __readlink_chk(const char *path, char *buf, size_t len,
		       size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
			 size_t buflen);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
void __chk_fail(void) __attribute__((noreturn));

/* _FORTIFY_SOURCE read checks */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);

#endif
