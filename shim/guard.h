/* guard.h: when a wrapper acts and when it passes straight through.
 *
 * A wrapper acts only when the shim is configured. The per-thread depth
 * us_inside (0: outside the shim) is checked first: the fast test is two
 * loads and no lock. A call that arrives while the thread is inside the
 * shim comes from a signal handler that interrupted it (the shim never
 * calls its own wrapped names): it is served, one level deeper, when the
 * interrupted code holds no lock of the shim (us_held) but those a nested
 * call knows to step around (forks.h, US_NEST_OK_HELD), so it never waits
 * for the code below it; such a nested call allocates no memory (the
 * interrupted code may be inside malloc) and refuses writes into a union
 * with EAGAIN (a copy-up takes locks and memory). Else, and through the
 * syscall() door, it reaches libc unchanged.
 *
 * errno is part of the interface: a call that succeeds leaves it as the
 * caller had it, whatever the shim's own work (a lookup probing layers,
 * xattr reads) left in it. The guard keeps the caller's value, per thread,
 * in us_errno0 when it enters the shim; us_errno_back() puts it back just
 * before the real call (us_map and the fd helpers do that), so that only
 * the real call's own failure reaches the caller; work after a successful
 * real call (identity, fd map, whiteouts) keeps errno itself. */
#ifndef UNIONSHIM_GUARD_H
#define UNIONSHIM_GUARD_H

#include <errno.h>
#include <stdbool.h>

#include "real.h"
#include "unionshim/scratch.h"

enum us_state { US_UNINIT = 0, US_INERT = 1, US_ACTIVE = 2 };

#define US_MAX_NEST 4 /* signal handlers inside signal handlers */

extern US_HIDDEN int us_state;
extern US_HIDDEN __thread int us_inside
	__attribute__((tls_model("initial-exec")));
extern US_HIDDEN __thread int us_errno0
	__attribute__((tls_model("initial-exec")));
/* the outer levels' us_errno0, while a nested call runs */
extern US_HIDDEN __thread int us_errno_outer[US_MAX_NEST]
	__attribute__((tls_model("initial-exec")));
/* the shim's locks this thread holds (bit per enum us_lock_id) */
extern US_HIDDEN __thread unsigned us_held
	__attribute__((tls_model("initial-exec")));

/* Is this call nested in another shim call (a signal handler's)? */
static inline bool us_nested(void)
{
	return __builtin_expect(us_inside > 1, 0);
}

US_HIDDEN bool us_begin_slow(void);

static inline bool us_begin(void)
{
	if (__builtin_expect(us_state == US_ACTIVE && !us_inside, 1)) {
		us_inside = 1;
		us_errno0 = errno;
		return true;
	}
	return us_begin_slow();
}

/* The caller's errno back, before the call whose result the caller gets. */
static inline void us_errno_back(void)
{
	errno = us_errno0;
}

/* First statement of bookkeeping that runs after a successful real call
 * (fd map, whiteouts) and has no failure to report: errno stays as the
 * real call left it. */
static inline void us_errno_put(const int *saved)
{
	errno = *saved;
}

#define US_KEEP_ERRNO                                                         \
	int us_kept_errno_ __attribute__((cleanup(us_errno_put))) = errno

/* For the functions written on the shim's own wrappers (shim/libc), which run
 * outside the shim: RC >= 0 (a success) gives the caller back SAVED, its
 * errno at entry, whatever failed probes on the way left. */
static inline long us_kept(long rc, int saved)
{
	if (rc >= 0)
		errno = saved;
	return rc;
}

static inline void *us_kept_ptr(void *p, int saved)
{
	if (p)
		errno = saved;
	return p;
}

/* The result of an operation the shim carries out itself (a core union
 * operation, several real calls): a success gives the caller its errno
 * back, a failure keeps the errno of what failed. */
static inline long us_ok(long rc)
{
	if (rc >= 0)
		us_errno_back();
	return rc;
}

static inline void *us_ok_ptr(void *p)
{
	if (p)
		us_errno_back();
	return p;
}

static inline void us_end_scope(size_t *mark)
{
	us_scratch_pop(*mark);
	if (us_nested()) {
		us_inside--;
		us_errno0 = us_errno_outer[us_inside];
	} else {
		us_inside = 0;
	}
}

/* First statement of a wrapper: pass through with PASSTHROUGH when the
 * shim does not act, else stay inside the shim until the scope ends. The
 * per-thread scratch (scratch.h) the call pushes is popped then. */
#define US_SHIM_OR(passthrough)                                               \
	if (!us_begin())                                                       \
		return passthrough;                                            \
	size_t us_scope_ __attribute__((cleanup(us_end_scope), unused)) =      \
		us_scratch_mark()

/* Leave the shim for a stretch that must see the wrappers (callbacks into
 * the program, reimplemented libc functions); the wrappers called there
 * keep their own caller's errno, so ours is put back after. */
#define US_OUTSIDE_SHIM(stmt)                                                 \
	do {                                                                   \
		int us_errno0_outer_ = us_errno0, us_depth_ = us_inside;       \
		us_inside = 0;                                                 \
		stmt;                                                          \
		us_inside = us_depth_;                                         \
		us_errno0 = us_errno0_outer_;                                  \
	} while (0)

#endif
