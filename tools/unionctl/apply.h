/* apply.h: one step of a commit (commitplan.h), done on the lower dir.
 * Every object appears whole: it is built under a temp name beside its
 * place (.#unionctl.TAG.N, N the step's number) and renamed there. A
 * step may be run again after it was interrupted (or completed): it
 * removes its own temp first. */
#ifndef UNIONCTL_APPLY_H
#define UNIONCTL_APPLY_H

#include <stddef.h>

#include "unionshim/commitplan.h"

/* Do step OP (number N of the plan tagged TAG) in lower dir LOWER (the
 * topmost), the upper dir being UPPER (dirs the topmost lacks are made
 * like the upper's). 0, or -1 with errno and the real path that failed
 * in *WHERE (heap). */
int uc_apply(const char *lower, const char *upper, const struct us_op *op,
	     size_t n, const char *tag, char **where);

/* Remove PATH, with all below it when a dir; gone already is fine.
 * 0, or -1 with errno and the failing path in *WHERE. */
int uc_remove_tree(const char *path, char **where);

#endif
