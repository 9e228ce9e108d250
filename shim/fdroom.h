/* fdroom.h: room for the shim's own fds when the program has used all of
 * its own (fdroom.c). A copy-up, a rename or an rmdir in a union needs up
 * to 3 fds of the shim's where the kernel's overlayfs needs none; with the
 * program's table full (EMFILE) the shim raises RLIMIT_NOFILE's soft limit
 * by US_FDROOM for the time of its own work, when the hard limit allows,
 * and tries that work again. The program's own fds are never made there:
 * a call that natively makes one still meets the program's limit. */
#ifndef UNIONSHIM_FDROOM_H
#define UNIONSHIM_FDROOM_H

#include <errno.h>
#include <stdbool.h>

#include "guard.h"

#define US_FDROOM 4

/* After the shim's own work failed with EMFILE: make room (true), or say
 * there is none to make (false: soft limit at the hard one). */
US_HIDDEN bool us_fdroom_begin(void);
/* The limit as it was (unless the program changed it since); errno kept. */
US_HIDDEN void us_fdroom_end(void);

/* RC (< 0: failed) is what the shim's own work answered: should it be
 * tried again, with room made (then call us_fdroom_end after)? */
static inline bool us_fdroom_again(long rc)
{
	return rc < 0 && errno == EMFILE && us_fdroom_begin();
}

#endif
