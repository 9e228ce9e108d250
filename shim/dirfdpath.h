/* dirfdpath.h: remembered union paths of dir fds (dirfdpath.c). */
#ifndef UNIONSHIM_DIRFDPATH_H
#define UNIONSHIM_DIRFDPATH_H

#include <stddef.h>
#include <stdint.h>

#include "real.h"
#include "unionshim/config.h"
#include "unionshim/lookup.h"

/* 1 with FD's union path in OUT when it is remembered and still valid,
 * else 0; *MOVES gets what us_dirfd_remember needs (read before the
 * kernel is asked). */
US_HIDDEN int us_dirfd_cached(int fd, char *out, size_t len, uint32_t *moves);

/* The real dir FD is open on, for a walk that starts at FD's union dir
 * (us_resolve_base): B's fd, layer, dev, ino and mount (layer -1: FD is
 * no union dir fd). */
US_HIDDEN void us_dirfd_base(int fd, struct us_base *b);

/* FD (when the fd map has it open on a union dir) has union path UPATH,
 * found after us_dirfd_cached gave MOVES. */
US_HIDDEN void us_dirfd_remember(int fd, const char *upath, uint32_t moves);

/* Every mount's moved-subtrees word, summed: read before a lookup whose
 * answer an open then remembers (it changes when any subtree moves). */
US_HIDDEN uint32_t us_dirfd_moves_all(void);

/* FD was just opened by union path UPATH, which a lookup begun when
 * us_dirfd_moves_all() was BEFORE found: a dir is remembered unless a
 * subtree moved since (then the first *at() call asks the kernel); a
 * lower dir or file below a renamed dir, whose real path cannot lead
 * back to it, is kept to be rechecked at first use. */
US_HIDDEN void us_dirfd_opened(int fd, const char *upath, uint32_t before);

/* TO was made a dup of FROM: it has FROM's remembered path, as FROM has
 * it (checked again at use when it may be stale). */
US_HIDDEN void us_dirfd_duped(int from, int to);

/* After us_dirfd_cached said no: 1 with OUT when the path FD had still
 * leads to the dir FD is open on (then remembered again with MOVES). */
US_HIDDEN int us_dirfd_recheck(int fd, char *out, size_t len, uint32_t moves);

/* The union path of FD, open on real path REAL, into OUT and its mount
 * into *M: the remembered one while it still leads to FD's object, else
 * REAL read back (us_revmap). 1, 0 (REAL is no layer's), -1. */
US_HIDDEN int us_fd_union_path(int fd, const char *real, char *out,
			       size_t len, const struct us_mount **m);

#endif
