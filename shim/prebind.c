/* prebind.c: the libc functions the wrappers' paths call, bound at start.
 *
 * The library is bound lazily (Makefile, -z lazy: bound at load, its libc
 * imports would cost every process a symbol lookup each). The first call
 * of an import is looked up by ld.so then, on the calling thread's stack,
 * with the CPU's vector registers saved there as well
 * (_dl_runtime_resolve_xsavec: some 2.7 KiB where AVX-512 is in use,
 * under 1 KiB with AVX2 alone). A program's first call into a union from
 * a thread with a small stack (PTHREAD_STACK_MIN, 16 KiB) would pay that
 * on top of the library's own frames, and overflow where the same program
 * runs natively. So the start of a process with a union calls the
 * imports every path's lookup reaches (the string and memory functions)
 * and the spawn and signal-set helpers, once, on the main thread's stack,
 * with arguments that do nothing: each is bound once, as a union's first
 * calls would bind it anyway. Only functions that make no system call and
 * allocate nothing are called so (a program's own malloc may not be ready:
 * ownalloc.h; a traced program sees no call it did not make): the malloc
 * family and the system-call wrappers the library imports are still
 * bound at their first use (README, known limits). */
#include <errno.h>
#include <search.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prebind.h"

/* Read at run time: no call below is folded away by the compiler. */
static volatile size_t none;
/* Written: no call's result is dropped as unused. */
static volatile uintptr_t sink;

static int order(const void *a, const void *b)
{
	return (int)(*(const char *)a - *(const char *)b);
}

static void strings(void)
{
	size_t n = none;
	char a[8] = "ab", b[8] = "ab";
	char *s = n ? b : a; /* not known to be "ab" */

	sink ^= (uintptr_t)memchr(s, 'z', n) ^ (uintptr_t)memcmp(s, b, n) ^
		(uintptr_t)memmove(b, s, n) ^ (uintptr_t)memcpy(b, s, n) ^
		(uintptr_t)memset(b, 0, n) ^ (uintptr_t)strlen(s) ^
		(uintptr_t)strnlen(s, n) ^ (uintptr_t)strchr(s, 'z') ^
		(uintptr_t)strrchr(s, 'z') ^ (uintptr_t)strchrnul(s, 'z') ^
		(uintptr_t)strcmp(s, b) ^ (uintptr_t)strncmp(s, b, n) ^
		(uintptr_t)strspn(s, b) ^ (uintptr_t)strcspn(s, b) ^
		(uintptr_t)strstr(s, b) ^ (uintptr_t)strcpy(b, s) ^
		(uintptr_t)strncpy(b, s, n) ^ (uintptr_t)strtol(s, NULL, 10) ^
		(uintptr_t)strtoull(s, NULL, 10);
	qsort(a, n, 1, order);
	void *root = NULL;
	sink ^= (uintptr_t)tfind(s, &root, order);
}

static void signals_and_spawn(void)
{
	sigset_t set;
	struct timespec ts;
	posix_spawnattr_t attr;

	sigemptyset(&set);
	sigfillset(&set);
	sigaddset(&set, SIGCHLD);
	sink ^= (uintptr_t)sigaction(-1, NULL, NULL); /* EINVAL, in libc */
	clock_gettime(CLOCK_MONOTONIC, &ts); /* (the vDSO's) */
	if (posix_spawnattr_init(&attr) == 0) {
		posix_spawnattr_setflags(&attr, 0);
		posix_spawnattr_setsigmask(&attr, &set);
		posix_spawnattr_setsigdefault(&attr, &set);
		posix_spawnattr_destroy(&attr);
	}
	sink ^= (uintptr_t)fileno(stderr) ^ (uintptr_t)fileno_unlocked(stderr);
}

void us_prebind(void)
{
	int saved = errno;

	strings();
	signals_and_spawn();
	errno = saved;
}
