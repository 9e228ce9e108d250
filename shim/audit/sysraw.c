/* sysraw.c: the system calls, environment and errno of the audit library,
 * which links no libc (see audit.c): ld.so would map a second libc into
 * the audit namespace for it, in every process. Each function here is the
 * libc function of the same name, done with a raw system call; only what
 * the audit library and the core objects it links call. ld.so holds its
 * load lock around every audit callback, so nothing here is concurrent:
 * errno is one static int and the mutexes are no-ops. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "nolibc.h"

static int err_value;

int *__errno_location(void)
{
	return &err_value;
}

/* The kernel's answer: -4095..-1 is an error, set in errno. */
static long ret(long r)
{
	if (r < 0 && r > -4096) {
		err_value = (int)-r;
		return -1;
	}
	return r;
}

#if defined(__x86_64__)
static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}
#elif defined(__aarch64__)
static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "the audit library's raw system calls know x86_64 and aarch64"
#endif

#define SC(n, a, b, c, d, e, f)                                                \
	ret(raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e),   \
		 (long)(f)))

long syscall(long n, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return SC(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	unsigned mode = 0;

	va_start(ap, flags);
	if (flags & (O_CREAT | __O_TMPFILE))
		mode = va_arg(ap, unsigned);
	va_end(ap);
	return (int)SC(SYS_openat, AT_FDCWD, path, flags, mode, 0, 0);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	unsigned mode = 0;

	va_start(ap, flags);
	if (flags & (O_CREAT | __O_TMPFILE))
		mode = va_arg(ap, unsigned);
	va_end(ap);
	return (int)SC(SYS_openat, dirfd, path, flags, mode, 0, 0);
}

int fstatat(int dirfd, const char *restrict path, struct stat *restrict st,
	    int flags)
{
	return (int)SC(SYS_newfstatat, dirfd, path, st, flags, 0, 0);
}

int statx(int dirfd, const char *restrict path, int flags, unsigned mask,
	  struct statx *restrict sx)
{
	return (int)SC(SYS_statx, dirfd, path, flags, mask, sx, 0);
}

ssize_t readlinkat(int dirfd, const char *restrict path, char *restrict buf,
		   size_t len)
{
	return SC(SYS_readlinkat, dirfd, path, buf, len, 0, 0);
}

int close(int fd)
{
	return (int)SC(SYS_close, fd, 0, 0, 0, 0, 0);
}

int access(const char *path, int mode)
{
	return (int)SC(SYS_faccessat, AT_FDCWD, path, mode, 0, 0, 0);
}

int stat(const char *restrict path, struct stat *restrict st)
{
	return (int)SC(SYS_newfstatat, AT_FDCWD, path, st, 0, 0, 0);
}

int lstat(const char *restrict path, struct stat *restrict st)
{
	return (int)SC(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW, 0, 0);
}

int fstat(int fd, struct stat *st)
{
	return (int)SC(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH, 0, 0);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return SC(SYS_pread64, fd, buf, n, off, 0, 0);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return SC(SYS_pwrite64, fd, buf, n, off, 0, 0);
}

int ftruncate(int fd, off_t len)
{
	return (int)SC(SYS_ftruncate, fd, len, 0, 0, 0, 0);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	return (int)SC(SYS_fallocate, fd, mode, off, len, 0, 0);
}

int fchmod(int fd, mode_t mode)
{
	return (int)SC(SYS_fchmod, fd, mode, 0, 0, 0, 0);
}

ssize_t readlink(const char *restrict path, char *restrict buf, size_t len)
{
	return SC(SYS_readlinkat, AT_FDCWD, path, buf, len, 0, 0);
}

char *getcwd(char *buf, size_t len)
{
	return SC(SYS_getcwd, buf, len, 0, 0, 0, 0) < 0 ? NULL : buf;
}

ssize_t lgetxattr(const char *path, const char *name, void *val, size_t len)
{
	return SC(SYS_lgetxattr, path, name, val, len, 0, 0);
}

ssize_t fgetxattr(int fd, const char *name, void *val, size_t len)
{
	return SC(SYS_fgetxattr, fd, name, val, len, 0, 0);
}

ssize_t llistxattr(const char *path, char *list, size_t len)
{
	return SC(SYS_llistxattr, path, list, len, 0, 0, 0);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = raw6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);

	return (void *)ret(r) == (void *)-1L ? MAP_FAILED : (void *)r;
}

int munmap(void *addr, size_t len)
{
	return (int)SC(SYS_munmap, addr, len, 0, 0, 0, 0);
}

/* The canonical path: the kernel's name for the file opened O_PATH. */
char *realpath(const char *restrict path, char *restrict out)
{
	char link[32] = "/proc/self/fd/";
	int fd = (int)SC(SYS_openat, AT_FDCWD, path, O_PATH | O_CLOEXEC, 0, 0, 0);

	if (fd < 0 || !out)
		return fd < 0 ? NULL : (close(fd), err_value = EINVAL, NULL);
	us_nl_utoa(link + strlen(link), (unsigned)fd);
	ssize_t n = readlink(link, out, PATH_MAX - 1);
	int saved = err_value;
	close(fd);
	err_value = saved;
	if (n < 0 || n >= PATH_MAX - 1 || out[0] != '/') {
		err_value = n < 0 ? saved : ENAMETOOLONG;
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/* The environment ld.so started the program with: argc, argv and envp on
 * the initial stack (ld.so records where it starts). */
extern void *__libc_stack_end;

char *getenv(const char *name)
{
	char **argv = (char **)__libc_stack_end + 1;
	size_t n = strlen(name);

	while (*argv) /* argc may be stale when ld.so was run as a command */
		argv++;
	for (char **e = argv + 1; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

char *strerror(int e)
{
	static char text[24] = "error ";

	us_nl_utoa(text + 6, (unsigned)e);
	return text;
}

int pthread_mutex_lock(void *m)
{
	(void)m;
	return 0;
}

int pthread_mutex_unlock(void *m)
{
	(void)m;
	return 0;
}

int pthread_mutex_trylock(void *m)
{
	(void)m;
	return 0;
}
