/* loaderdirs.h: whether a union meets the dirs the system's dynamic
 * loader searches on its own: the usual library dirs, /etc (ld.so.cache,
 * ld.so.preload) and every dir /etc/ld.so.conf lists (its includes of
 * "DIR" "/" "*.conf" followed). A loader that finds a library there finds
 * it by a real path a union may hold, so every process of such a union
 * needs the audit module (shim/loaderquiet.c). */
#ifndef UNIONSHIM_LOADERDIRS_H
#define UNIONSHIM_LOADERDIRS_H

#include <stdbool.h>

#include "unionshim/config.h"

/* Does a target or layer of CFG lie at, above or below such a dir? True
 * too when ld.so.conf holds a line this reader does not follow. */
bool us_loader_dirs_meet(const struct us_config *cfg);

/* Does a target or layer of CFG lie at, above or below the canonical dir
 * DIR (a program's own search path, say)? */
bool us_loader_dir_meets(const struct us_config *cfg, const char *dir);

#endif
