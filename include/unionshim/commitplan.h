/* commitplan.h: the steps that apply an upper layer onto its lower dir
 * (unionctl commit), made from the change list (changes.h, with
 * US_CHANGES_LINKS), and their form on disk (the commit journal).
 *
 * Steps run in order, each redone whole when a commit killed during it
 * runs again: a step never depends on how far itself got, only on the
 * steps before it being done. Paths are relative to the union root. */
#ifndef UNIONSHIM_COMMITPLAN_H
#define UNIONSHIM_COMMITPLAN_H

#include <stddef.h>

#include "unionshim/changes.h"

enum {
	US_OP_REMOVE = 'r',  /* remove PATH (a dir with all in it) */
	US_OP_MKDIR = 'd',   /* make PATH a dir (what is there goes) */
	US_OP_INSTALL = 'i', /* put a copy of real object ARG at PATH, whole */
	US_OP_LINK = 'l',    /* make PATH a hard link of PATH ARG (done) */
	US_OP_META = 'm',    /* give PATH the mode, owner, xattrs and times
			      * of real object ARG: a dir (after its
			      * entries), or the data file of a metacopy */
	US_OP_WHITEOUT = 'w', /* make PATH a whiteout (what is there goes):
			       * a lower below the topmost still has it */
	US_OP_OPAQUE = 'o',  /* mark dir PATH opaque ("." the root): a lower
			      * below the topmost still has names in it */
};

struct us_op {
	char kind;
	char *path;
	char *arg; /* INSTALL, META: a real path; LINK: a union path; else "" */
};

struct us_plan {
	struct us_op *v;
	size_t n, cap;
};

/* The steps for the changes C (sorted, with '=' entries) of the layers
 * LS, applied onto the topmost lower: removals, dirs and objects in path
 * order (a dir before what is in it; the first name of each hard-link
 * group installed, the others linked to it), then the dirs' metadata,
 * deepest first. With lowers below the topmost, a removed name they still
 * hold becomes a whiteout, and a dir that hides what they hold (opaque in
 * the upper, or new in the topmost) is marked opaque. 0, or -1 with errno
 * (the stat of a change's object failed: its path in C->errpath). */
int us_commit_plan(const struct us_layerset *ls, struct us_changes *c,
		   struct us_plan *out);

/* The plan as bytes: "K" PATH NUL ARG NUL per step. us_plan_parse takes
 * them back (a torn or foreign text: EINVAL). 0, or -1 with errno. */
int us_plan_format(const struct us_plan *p, char **buf, size_t *len);
int us_plan_parse(const char *buf, size_t len, struct us_plan *out);

void us_plan_free(struct us_plan *p);

#endif
