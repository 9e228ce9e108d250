/* mounttab.h: the unions in the system's mount tables (mounttab.c). */
#ifndef UNIONSHIM_MOUNTTAB_H
#define UNIONSHIM_MOUNTTAB_H

#include "real.h"

enum { TABLE_NONE = 0, TABLE_MOUNTINFO, TABLE_MOUNTS };

/* Is an open of PATH with FLAGS a read of this process's mount table
 * (TABLE_MOUNTINFO, TABLE_MOUNTS), which us_mounttab_open answers? */
US_HIDDEN int us_mounttab_kind(const char *path, int flags);

/* A read-only fd on a copy of the table at PATH with the unions' lines
 * added (O_CLOEXEC of FLAGS kept), or -1 with errno. */
US_HIDDEN int us_mounttab_open(const char *path, int kind, int flags);

#endif
