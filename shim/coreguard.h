/* coreguard.h: no core dump lands in a lower layer (coreguard.c).
 *
 * With a relative core_pattern the kernel writes a dumping process's core
 * into its real cwd. While that cwd is a lower layer's dir, the real soft
 * RLIMIT_CORE is held at 0 and the program's own value kept: the rlimit
 * calls on this process show and set that value, a child gets it in
 * UNIONSHIM_CORE_LIMIT, and the limit comes back when the cwd leaves every
 * lower. */
#ifndef UNIONSHIM_COREGUARD_H
#define UNIONSHIM_COREGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include "real.h"

#define US_ENV_CORE "UNIONSHIM_CORE_LIMIT"

/* Around every move of the kernel's cwd (chdir, fchdir): before it, the
 * limit is held whatever the new cwd; after it (moved or not), held or
 * given back by where the cwd is then. Call end only when begin said
 * true. */
US_HIDDEN bool us_core_move_begin(void);
US_HIDDEN void us_core_move_end(void);

/* The constructor: adopt a parent's held value (UNIONSHIM_CORE_LIMIT,
 * when the real soft limit is still 0), then settle by the cwd. */
US_HIDDEN void us_core_init(void);
/* In a new child: a move another thread was in the middle of is over. */
US_HIDDEN void us_core_forked(void);

/* RL as read from the kernel for this process: the program's own soft
 * value where the shim holds it at 0. */
US_HIDDEN void us_core_show(struct rlimit *rl);
/* prlimit(0, RLIMIT_CORE, NW, OLD) for the program: 0 or -1 and errno. */
US_HIDDEN int us_core_prlimit(const struct rlimit *nw, struct rlimit *old);

/* The value a child's UNIONSHIM_CORE_LIMIT carries into BUF (LEN bytes,
 * 24 enough): true when the limit is held, else BUF is "". */
US_HIDDEN bool us_core_env(char *buf, size_t len);

#endif
