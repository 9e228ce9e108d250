/* failmalloc.c: a test helper preloaded before libunionshim.so that makes
 * one allocation fail, to see how the union meets ENOMEM. It owns malloc,
 * calloc, realloc, posix_memalign and aligned_alloc of the process (the
 * work is done by glibc's __libc_* functions).
 *
 * Nothing fails until the program arms it: failmalloc_arm() (looked up
 * with dlsym, so the probe also runs without this library) starts the
 * count; the Nth allocation after that (N from FAILMALLOC_NTH, 1-based)
 * returns NULL with errno ENOMEM, once; every other one works. When it
 * fires, the file named by FAILMALLOC_MARK is created (a raw syscall, past
 * the shim), so the test knows the Nth allocation came. Arming is per
 * process: a child forked before the arm or an exec'd image starts unarmed. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);

static atomic_long left = -1; /* allocations before the one that fails; -1: off */
static const char *mark;

__attribute__((visibility("default"))) void failmalloc_arm(void);
void failmalloc_arm(void)
{
	const char *n = getenv("FAILMALLOC_NTH");

	mark = getenv("FAILMALLOC_MARK");
	if (n && atol(n) > 0)
		atomic_store(&left, atol(n) - 1);
}

/* True for the one allocation that must fail. */
static int fail_now(void)
{
	long v = atomic_load(&left);

	while (v >= 0) {
		if (atomic_compare_exchange_weak(&left, &v, v - 1)) {
			if (v != 0)
				return 0;
			if (mark) {
				long fd = syscall(SYS_openat, AT_FDCWD, mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
				if (fd >= 0)
					syscall(SYS_close, fd);
			}
			errno = ENOMEM;
			return 1;
		}
	}
	return 0;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	void *p;

	if (fail_now())
		return ENOMEM;
	p = __libc_memalign(a, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t a, size_t n)
{
	return fail_now() ? NULL : __libc_memalign(a, n);
}

__attribute__((visibility("default"))) void failmalloc_disarm(void);
void failmalloc_disarm(void)
{
	atomic_store(&left, -1);
}
