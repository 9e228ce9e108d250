/* ldsearch.h: what the audit library answers the dynamic loader (see
 * audit.c): a name ld.so is about to open, seen through the union. */
#ifndef UNIONSHIM_LDSEARCH_H
#define UNIONSHIM_LDSEARCH_H

#include <link.h>

#include "unionshim/config.h"

/* The mounts, read from UNIONSHIM_MOUNTS on first use; NULL when no union
 * is configured (or the configuration is bad: the preload library says
 * so and stops the process). */
const struct us_config *us_ld_config(void);

/* Note object MAP, just loaded (its DT_RPATH, if any, joins searches). */
void us_ld_object(struct link_map *map);

/* ld.so's candidate path NAME (absolute, relative, or a real path inside
 * a layer, as $ORIGIN gives): NAME itself when it is no union's, the real
 * file the union shows there, or NULL when the union has nothing there. */
char *us_ld_candidate(const struct us_config *cfg, const char *name);

/* NAME as DT_NEEDED or dlopen asked for it, LOADER the object whose
 * search paths apply: a name with '/' is a candidate; a bare name is
 * looked up in LOADER's DT_RPATH, LD_LIBRARY_PATH and DT_RUNPATH dirs in
 * ld.so's order, through the union, and the real file found first is
 * the answer (NAME itself when none is in a union). */
char *us_ld_orig(const struct us_config *cfg, const char *name,
		 struct link_map *loader);

#endif
