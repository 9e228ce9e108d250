/* dirpass.h: DIR streams over union dirs that one layer alone makes (see
 * dirpass.c): glibc reads the program's own fd, the shim only filters
 * and renumbers what it returns. */
#ifndef UNIONSHIM_DIRPASS_H
#define UNIONSHIM_DIRPASS_H

#include <dirent.h>
#include <stdbool.h>

#include "real.h"
#include "unionshim/lookup.h"

struct us_dirstream;

/* May the listing of union dir node N of M, whose DIR reads fd FD, be the
 * layer's own? */
US_HIDDEN bool us_dirpass_wanted(const struct us_mount *m,
				 const struct us_node *n, int fd);

/* Entry D, just read from FD by pass-through stream S: false when the
 * union does not show it (a whiteout, a reserved name); else true, with
 * D's d_ino made the union's. errno kept. */
US_HIDDEN bool us_dirpass_keep(const struct us_dirstream *s, int fd,
			       struct dirent64 *d);

#endif
