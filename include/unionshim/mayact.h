/* mayact.h: may the caller change an object that lies in a lower layer?
 *
 * overlayfs checks the caller against the overlay inode, whose owner and
 * mode are the lower object's, before it copies anything up. The shim's
 * copy is made with the caller's own credentials, so the kernel's check
 * of the real call on it comes too late (the copy is the caller's); these
 * are asked first, only for an object whose winning entry lies in a lower
 * (an upper one the kernel checks itself). The kernel answers where it
 * can (faccessat with the effective ids: ACLs, capabilities); a lower on
 * a read-only filesystem, or a path past PATH_MAX, is checked by its
 * mode bits. */
#ifndef UNIONSHIM_MAYACT_H
#define UNIONSHIM_MAYACT_H

#include <sys/types.h>

#include "unionshim/lookup.h"

enum us_may {
	US_MAY_WRITE,   /* write it: open for writing or truncating,
			   truncate, a user xattr set or removed: EACCES */
	US_MAY_TOUCH,   /* its owner, CAP_FOWNER, or write permission:
			   times set to now: EACCES */
	US_MAY_OWN,     /* its owner or CAP_FOWNER: chmod, chown, times
			   given, inode flags, ACLs: EPERM */
	US_MAY_LINK,    /* a hard link's source, under
			   fs.protected_hardlinks: EPERM */
	US_MAY_DIRENTS, /* a dir: add or remove names (write and search):
			   EACCES */
};

/* May the caller do WHAT to the object at real path REAL (a symlink not
 * followed)? 0, or -1 with the kernel's errno. */
int us_may_lower(const char *real, enum us_may what);

/* A name removed or replaced in a sticky dir (DIRREAL, the union dir's
 * topmost real dir) may go only by the owner of it (OBJREAL) or of the
 * dir, or with CAP_FOWNER. 0, or -1 with EPERM. */
int us_may_unstick(const char *dirreal, const char *objreal);

/* The kernel's may_delete / may_create for the name UPATH of M, in its
 * dir (node DIR), the object there N (NULL: none, a new name): write and
 * search on a dir that lies in a lower only (an upper dir the real call
 * checks), and the sticky rule for N. 0, or -1 with errno. */
int us_may_change_name(const struct us_mount *m, const char *upath,
		       const struct us_node *dir, const struct us_node *n);

/* A dir UPATH (node N) moved into another dir: its ".." changes, so
 * write permission on it when it lies in a lower. 0, or -1/EACCES. */
int us_may_move_dir(const struct us_mount *m, const char *upath,
		    const struct us_node *n);

#endif
