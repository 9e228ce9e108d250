/* sanrt.c: what a sanitizer build of this library (`make SANITIZE=1`:
 * ASan+UBSan, `make TSAN=1`: TSan) needs from the shim. A normal build
 * compiles none of it but an empty us_sanrt_path.
 *
 * The runtime comes first. A sanitized libunionshim.so needs its runtime
 * loaded before it (ASan refuses to start otherwise); the process was
 * started so (LD_PRELOAD="RUNTIME libunionshim.so"), and childenv.c puts
 * us_sanrt_path back first in a child whose program dropped it.
 *
 * The runtime calls some of our names. The sanitizer runtimes call a few
 * libc names through the PLT (mkdir for log_path=, open, fstat...), which
 * bind to our exports; ASan does so while it starts, before its shadow
 * memory exists, and instrumented code run then crashes at its first
 * stack or memory check. So in a sanitizer build each such export is the
 * uninstrumented entry below: until our constructor has run (the runtime
 * is up by then: this library depends on it) it passes the call to libc,
 * then it calls the wrapper, renamed us_sanrt_body_NAME at build time
 * (the Makefile reads the SANRT_NAME list here). `make check-sanitize`
 * checks that every wrapped name a runtime imports is in the list. */
#include <dlfcn.h>
#include <limits.h>

#include "state.h"

char us_sanrt_path[PATH_MAX];

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
extern void __asan_init(void);
#define SANRT_SYMBOL ((void *)__asan_init)
#else
extern void __tsan_init(void);
#define SANRT_SYMBOL ((void *)__tsan_init)
#endif

#define ENTRY_ATTRS                                                           \
	US_EXPORT __attribute__((no_sanitize("address", "thread", "undefined")))

static int ready;

__attribute__((constructor(101))) static void sanrt_ready(void)
{
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

/* libc's NAME, looked up on each early call (they are few). */
#define EARLY(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
#define IS_EARLY() (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))

#define SANRT_NAME(name) name
#define SANRT_ENTRY(ret, name, params, args)                                  \
	ret us_sanrt_body_##name params;                                       \
	ret SANRT_NAME(name) params;                                           \
	ENTRY_ATTRS ret SANRT_NAME(name) params                               \
	{                                                                      \
		if (IS_EARLY())                                                \
			return EARLY(name) args;                               \
		return us_sanrt_body_##name args;                              \
	}

SANRT_ENTRY(int, mkdir, (const char *p, mode_t m), (p, m))
SANRT_ENTRY(int, close, (int fd), (fd))
SANRT_ENTRY(int, fstat, (int fd, struct stat *st), (fd, st))
SANRT_ENTRY(int, lstat, (const char *p, struct stat *st), (p, st))
SANRT_ENTRY(ssize_t, readlink, (const char *p, char *b, size_t n), (p, b, n))
SANRT_ENTRY(void *, mmap, (void *a, size_t n, int pr, int fl, int fd, off_t o),
	    (a, n, pr, fl, fd, o))
SANRT_ENTRY(int, getrlimit, (__rlimit_resource_t r, struct rlimit *rl), (r, rl))
SANRT_ENTRY(int, setrlimit, (__rlimit_resource_t r, const struct rlimit *rl), (r, rl))

int us_sanrt_body_open(const char *p, int flags, ...);
int SANRT_NAME(open)(const char *p, int flags, ...);
ENTRY_ATTRS int SANRT_NAME(open)(const char *p, int flags, ...)
{
	mode_t mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (IS_EARLY())
		return EARLY(open)(p, flags, mode);
	return us_sanrt_body_open(p, flags, mode);
}

int us_sanrt_body_fcntl(int fd, int cmd, ...);
int SANRT_NAME(fcntl)(int fd, int cmd, ...);
ENTRY_ATTRS int SANRT_NAME(fcntl)(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *); /* as the wrapper: one word, any kind */
	va_end(ap);
	if (IS_EARLY())
		return EARLY(fcntl)(fd, cmd, arg);
	return us_sanrt_body_fcntl(fd, cmd, arg);
}
#endif

void us_sanrt_find(void)
{
#ifdef SANRT_SYMBOL
	Dl_info info;

	if (dladdr(SANRT_SYMBOL, &info) && info.dli_fname &&
	    !US_REAL(realpath)(info.dli_fname, us_sanrt_path))
		us_sanrt_path[0] = '\0';
#endif
}
