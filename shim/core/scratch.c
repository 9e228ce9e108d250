/* scratch.c: mapping and unmapping the per-thread scratch region (see
 * scratch.h); the push and pop themselves are inline there.
 *
 * The region is mapped on a thread's first push that needs it. A pthread
 * key's destructor unmaps it when the thread exits, so threads that come
 * and go leave no mapping behind. The audit module (its own link
 * namespace and libc, called under ld.so's lock) has one region and no
 * key: a key there would live in the other libc's thread data. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "sys.h"
#include "unionshim/scratch.h"

_Static_assert(sizeof(struct us_scratch) % US_SCRATCH_ALIGN == 0,
	       "the first push starts aligned");

#if defined(UNIONSHIM_AUDIT)
struct us_scratch *us_scratch_area;

static void adopt(struct us_scratch *s)
{
	us_scratch_area = s;
}
#else
__thread struct us_scratch *us_scratch_area
	__attribute__((tls_model("initial-exec")));

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

/* At thread exit (run by libc with the key's value, before the thread's
 * TLS goes). */
static void unmap(void *p)
{
	struct us_scratch *s = p;

	if (us_scratch_area == s)
		us_scratch_area = NULL;
	munmap(s, US_SCRATCH_SIZE);
}

static void make_key(void)
{
	key_ok = pthread_key_create(&key, unmap) == 0;
}

/* A signal handler that interrupted the slow path may have mapped one
 * first: then ours goes. */
static void adopt(struct us_scratch *s)
{
	struct us_scratch *none = NULL;

	if (!__atomic_compare_exchange_n(&us_scratch_area, &none, s, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		munmap(s, US_SCRATCH_SIZE);
		return;
	}
	if (key_ok)
		pthread_setspecific(key, s);
}
#endif

static struct us_scratch *map_region(void)
{
	void *p = SYS(mmap)(NULL, US_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	struct us_scratch *s = p;
	s->top = sizeof *s;
	s->size = US_SCRATCH_SIZE - US_SCRATCH_TAIL;
	return s;
}

void *us_scratch_push_slow(size_t n)
{
	if (!us_scratch_area) {
#if !defined(UNIONSHIM_AUDIT)
		pthread_once(&key_once, make_key);
#endif
		struct us_scratch *s = map_region();
		if (!s) {
			errno = ENOMEM;
			return NULL;
		}
		adopt(s);
		return us_scratch_push(n);
	}
	errno = ENOMEM; /* full: a runaway, never a crash */
	return NULL;
}
