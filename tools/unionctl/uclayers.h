/* uclayers.h: what export and check add to the layer options of
 * layerargs.h: the union path of a layer path, their one-line messages,
 * and the work dir's in-use test. */
#ifndef UCLAYERS_H
#define UCLAYERS_H

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

/* A process other than this one that maps the work dir's #state (every
 * process of the union does, from its start): its pid, 0 when none. */
pid_t uc_work_user(const char *work);

/* The mount point (heap) of a kernel overlayfs mount whose upperdir is
 * UPPER (canonical), or NULL: its layers change under a reader. */
char *uc_overlay_mount(const char *upper);

#endif
