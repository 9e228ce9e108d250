/* uclayers.h: what export and check add to the layer options of
 * layerargs.h: the union path of a layer path, their one-line messages,
 * and the work dir's in-use test. */
#ifndef UCLAYERS_H
#define UCLAYERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "layerargs.h"

/* The mount the core's lookups answer for (target "": union paths are
 * "" for the root, "/a/b" below it). */
static inline const struct us_mount *uc_mount(const struct uc_layers *l)
{
	return &l->set.m;
}

/* The union path of RELPATH ("" for the root, else "a/b"), on the heap. */
char *uc_union_path(const char *relpath);

/* One line "unionctl CMD: WHAT VALUE REST" on stderr (VALUE and REST may
 * be NULL), escaped as uc_err escapes. */
void uc_say(const char *cmd, const char *what, const char *value,
	    const char *rest);

/* Is a layer of L in use: a union process maps the work dir's #state
 * (every process of the union does, from its start), or a kernel
 * overlayfs mount has the upper? True after a line naming CMD. */
bool uc_layers_busy(const struct uc_layers *l, const char *cmd);

#endif
