/* unionops.h: removing and renaming names in a union, with overlayfs's
 * rules (ovl_rename's errno choices) and whiteouts for what lies below. */
#ifndef UNIONSHIM_UNIONOPS_H
#define UNIONSHIM_UNIONOPS_H

#include <stdbool.h>

#include "unionshim/lookup.h"

/* Remove the existing union object R (R->where == US_INSIDE, R->err == 0):
 * unlink, or rmdir when ISDIR. 0, or -1 with errno. */
int us_union_remove(const struct us_resolved *r, bool isdir);

/* Rename union object OLD to NEW (same mount; NEW may be missing) with
 * renameat2 FLAGS, and these of the caller's: the name was written with
 * trailing slashes (found without them). 0, or -1 with errno. */
#define US_RENAME_OLD_SLASHED (1u << 30)
#define US_RENAME_NEW_SLASHED (1u << 29)
int us_union_rename(const struct us_resolved *old,
		    const struct us_resolved *new, unsigned flags);

#endif
