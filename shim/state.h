/* state.h: what the preload library knows about its process: the mounts,
 * its own path (for children's LD_PRELOAD) and the virtual cwd. */
#ifndef UNIONSHIM_STATE_H
#define UNIONSHIM_STATE_H

#include <stddef.h>

#include "real.h"
#include "unionshim/config.h"
#include "unionshim/lookup.h"

#define US_AUDIT_LIB "libunionshim-audit.so"

extern US_HIDDEN struct us_config us_cfg;
/* absolute path of this library, and the audit library beside it or "":
 * set by the constructor (on the heap: no page of the library's own data
 * written for them), "" before */
extern US_HIDDEN const char *us_self_path;
extern US_HIDDEN const char *us_audit_path;
extern US_HIDDEN char *us_cfg_spec;     /* us_cfg in the spec grammar */
/* UNIONSHIM_RESOLVED for children given us_cfg_spec (handover.h), or NULL */
extern US_HIDDEN char *us_cfg_handover;
extern US_HIDDEN int us_allow_unfollowed;
extern US_HIDDEN int us_trace;
extern US_HIDDEN char us_sanrt_path[]; /* sanitizer runtime (sanrt.c), or "" */

/* Find the sanitizer runtime of a sanitizer build (sanrt.c). */
US_HIDDEN void us_sanrt_find(void);

/* Run the initialization once (constructor, or the first wrapper call). */
US_HIDDEN void us_init(void);

/* The virtual cwd: a union path when the cwd is inside a mount, else the
 * real cwd. Copy it out (lock-free read); set it after a real chdir. */
US_HIDDEN int us_cwd_get(char *buf, size_t len);
/* us_cwd_get, and (when not NULL) B's fd (AT_FDCWD) and the kernel cwd's
 * identity (layer -1: not learnt yet for this cwd), and the cwd's version
 * for us_cwd_learn in *SEQ. 1 when it read the mounts' moved-subtree
 * words (us_dirfd_moves_all) into *MOVES (a cwd in a union, for a
 * lookup), else 0; -1 with errno. */
US_HIDDEN int us_cwd_get_base(char *buf, size_t len, struct us_base *b,
			      unsigned *seq, uint32_t *moves);
/* Learn the kernel cwd's identity into B (and for the calls after) when
 * the cwd is still the one of version SEQ. */
US_HIDDEN void us_cwd_learn(unsigned seq, struct us_base *b);
US_HIDDEN void us_cwd_set(const char *path);
/* For getcwd: is the cwd BUF (LEN bytes), a union dir, still there? 1,
 * with BUF moved on where its dir was renamed to; 0 when it was removed
 * (the kernel says ENOENT then). */
US_HIDDEN int us_cwd_still(char *buf, size_t len);
US_HIDDEN void us_cwd_init(void);
/* In a child forked while another thread was writing the cwd (no atfork
 * handler ran): read it back from the kernel's. */
US_HIDDEN void us_cwd_forked(void);

#endif
