/* journal.h: the journal of a commit in the work dir (WORK/#commit):
 * "plan" (a header naming the lower dir and a random tag, then the steps
 * of commitplan.h; it appears whole, by rename), "next" (the number of
 * the first step not known done) and "cleaning" (every step is done; the
 * upper and the work dir are being emptied). */
#ifndef UNIONCTL_JOURNAL_H
#define UNIONCTL_JOURNAL_H

#include <stddef.h>

#include "layerargs.h"
#include "unionshim/commitplan.h"

#define JOURNAL "#commit"

struct journal {
	char *dir, *plan, *next, *cleaning;
};

/* The journal's paths under WORK. 0, or -1 (out of memory). */
int journal_paths(struct journal *j, const char *work);
void journal_free(struct journal *j);

/* Make the plan of L's layers (us_changes_collect with LINKS, then
 * us_commit_plan) and put it in the journal, with "next" at 0. 0, or -1
 * with errno and what failed in *ERR (heap, or NULL). */
int plan_make(struct uc_layers *l, const struct journal *j, char **err);

/* Read the journal's plan, which must be one for lower dir LOWER: its tag
 * (TAG: 17 bytes) and steps. 0, or -1 with the message printed. */
int plan_load(const struct journal *j, const char *lower, char *tag,
	      struct us_plan *p, const char *cmd);

/* The first step not known done. */
size_t next_read(const struct journal *j);

/* Record that the steps before N are done, on "next" open as FD. */
int next_write(int fd, size_t n);

#endif
