/* sys.h: how core code reaches the kernel.
 *
 * The core (config, lookup, dir merge) is compiled twice: into the preload
 * library, where SYS(fn) is the real libc function behind our wrapper, and
 * into the tools and unit tests, where it is plain libc. The core never
 * names a wrapped libc function directly. */
#ifndef UNIONSHIM_SYS_H
#define UNIONSHIM_SYS_H

#ifdef UNIONSHIM_PRELOAD
#include "../real.h"
#define SYS_RAW(fn) US_REAL(fn)
/* A call nested in another (a signal handler's, see guard.h): it must not
 * use malloc, which the interrupted code may be inside. */
extern US_HIDDEN __thread int us_inside
	__attribute__((tls_model("initial-exec")));
#define US_CORE_NESTED() (us_inside > 1)
/* While a core lock is held (us_shared_lock, taken when a mount's #state
 * is first mapped) a nested call is not served: it would wait for the
 * code it interrupted (guard.h; a bit past forks.h's lock ids). */
extern US_HIDDEN __thread unsigned us_held
	__attribute__((tls_model("initial-exec")));
#define US_CORE_HELD (1u << 31)
#define US_CORE_HOLD()                                                        \
	do {                                                                  \
		us_held |= US_CORE_HELD;                                      \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                      \
	} while (0)
#define US_CORE_RELEASE()                                                     \
	do {                                                                  \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                      \
		us_held &= ~US_CORE_HELD;                                     \
	} while (0)
#else
#define SYS_RAW(fn) fn
#define US_CORE_NESTED() 0
#define US_CORE_HOLD() ((void)0)
#define US_CORE_RELEASE() ((void)0)
#endif

/* SYS(fn): a call that takes a path goes through longpath.h, which hands
 * the kernel a path longer than PATH_MAX as a dirfd and a short rest;
 * every other name is SYS_RAW(fn). A name missing here does not compile. */
#define SYS(fn) US_SYS_##fn
#include "longpath.h"

#endif
