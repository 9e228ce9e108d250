/* guard.h: when a wrapper acts and when it passes straight through.
 *
 * A wrapper acts only when the shim is configured and the calling thread is
 * not already inside the shim. The per-thread flag makes the shim's own
 * libc calls, and calls from a signal handler that interrupted the shim,
 * reach libc unchanged. The test is two loads and no lock. */
#ifndef UNIONSHIM_GUARD_H
#define UNIONSHIM_GUARD_H

#include <stdbool.h>

#include "real.h"

enum us_state { US_UNINIT = 0, US_INERT = 1, US_ACTIVE = 2 };

extern US_HIDDEN int us_state;
extern US_HIDDEN __thread int us_inside
	__attribute__((tls_model("initial-exec")));

US_HIDDEN bool us_begin_slow(void);

static inline bool us_begin(void)
{
	if (__builtin_expect(us_state == US_ACTIVE && !us_inside, 1)) {
		us_inside = 1;
		return true;
	}
	return us_begin_slow();
}

static inline void us_end_scope(int *unused)
{
	(void)unused;
	us_inside = 0;
}

/* First statement of a wrapper: pass through with PASSTHROUGH when the
 * shim does not act, else stay inside the shim until the scope ends. */
#define US_SHIM_OR(passthrough)                                               \
	if (!us_begin())                                                       \
		return passthrough;                                            \
	int us_scope_ __attribute__((cleanup(us_end_scope), unused)) = 1

/* Leave the shim for a stretch that must see the wrappers (callbacks into
 * the program, reimplemented libc functions). */
#define US_OUTSIDE_SHIM(stmt)                                                 \
	do {                                                                   \
		us_inside = 0;                                                 \
		stmt;                                                          \
		us_inside = 1;                                                 \
	} while (0)

#endif
