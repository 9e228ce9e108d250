/* exportmoves.c: the trees of renamed dirs in an exported layer (see
 * exportlist.h).
 *
 * A dir the shim renamed in place keeps its lower half at its old path
 * and a redirect record (redirect.h) in the upper; an OCI layer has no
 * renames, so the new dir is written whole: every object the union shows
 * below it that lies in a lower (the change model lists them, reading
 * through the record), and an opaque marker on the dir so it does not
 * merge with what the base has at the new path. The old name's whiteout
 * is the upper's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exportlist.h"
#include "upperwalk.h"
#include "unionshim/changes.h"
#include "unionshim/path.h"
#include "unionshim/redirect.h"

int uc_xlist_redirect_marker(struct uc_xlist *x, const char *rel,
			     const char *real)
{
	char v[PATH_MAX];
	int rd = us_redirect_read(real, v, sizeof v);

	if (rd <= 0)
		return rd < 0 && errno != ENOENT ? -1 : 0;
	/* 1: a renamed dir */
	char *m = malloc(strlen(rel) + sizeof "/" UC_OPQ);
	if (!m)
		return -1;
	sprintf(m, "%s/" UC_OPQ, rel);
	int rc = uc_xlist_add(x, m, NULL, UC_X_MARKER, 0, NULL);
	free(m);
	return rc < 0 ? -1 : 1;
}

int uc_xlist_from_moves(const struct uc_layers *l, const char *cmd,
			struct uc_xlist *x)
{
	struct us_changes ch;
	size_t ul = strlen(l->cupper);
	int rc = 0;

	if (us_changes_collect(&l->set, 0, &ch) < 0) {
		uc_say(cmd, "cannot read ", ch.errpath ? ch.errpath : l->cupper,
		       errno == ENOTSUP ? " (overlayfs redirect_dir/metacopy)" : NULL);
		us_changes_free(&ch);
		return -1;
	}
	for (size_t i = 0; rc == 0 && ch.redirected && i < ch.n; i++) {
		const struct us_change *c = &ch.v[i];
		struct stat st;
		if (c->kind == 'D' || !c->real || us_path_under(c->real, l->cupper, ul))
			continue; /* the upper walk has it */
		if (lstat(c->real, &st) < 0) {
			uc_say(cmd, "cannot read ", c->real, NULL);
			rc = -1;
			break;
		}
		rc = uc_xlist_add(x, c->path, c->real, UC_X_OBJECT, 1, &st);
		if (rc < 0)
			uc_say(cmd, "out of memory", NULL, NULL);
	}
	us_changes_free(&ch);
	return rc;
}
