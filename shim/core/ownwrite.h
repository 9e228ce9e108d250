/* ownwrite.h: a read-only upper dir of the caller's own, opened for one
 * change the shim makes in it (ownwrite.c).
 *
 * A caller other than root makes its copies as itself: a copy of a
 * read-only dir (`chmod a-w`) keeps that mode, and the kernel then asks
 * the caller's write permission on it for what overlayfs does with its
 * own credentials: placing a copy in it, moving it out of sight,
 * emptying it, a record on it. The caller's permission for the change
 * itself was asked against the union dir before (mayact.h). */
#ifndef UNIONSHIM_OWNWRITE_H
#define UNIONSHIM_OWNWRITE_H

#include <stdbool.h>
#include <sys/stat.h>

struct us_ownwrite {
	bool opened;
	mode_t mode; /* the dir's own, put back by us_ownwrite_close */
};

/* Give the real dir PATH (its lstat ST, or NULL: read here) its owner's
 * write permission when it lacks it and is the caller's. Keeps errno. */
void us_ownwrite_open(const char *path, const struct stat *st,
		      struct us_ownwrite *w);

/* Put PATH's mode back if it was opened. Keeps errno. */
void us_ownwrite_close(const char *path, const struct us_ownwrite *w);

#endif
