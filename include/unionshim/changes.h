/* changes.h: what an upper layer changes in a union (the model behind
 * unionctl diff and commit), computed offline from the layer dirs.
 *
 * Before is the union of the lower dirs alone; after is the union with
 * the upper on top, read the way the shim and kernel overlayfs read it:
 * whiteouts in both forms (.wh.NAME, char device 0/0), opaque dirs
 * (.wh..wh..opq, trusted.overlay.opaque, user.overlay.opaque), and a
 * lower name whose hard link was copied up, answered by the shim's
 * hard-link index in the work dir (#index/LAYER-INO). Every union path
 * that differs is one change: A (only after), D (only before: a whiteout,
 * what an opaque dir hides, the contents of a removed dir), M (in both,
 * differing as objcmp.h says; for dirs: mode, owner or xattrs). The union
 * root itself is never a change. Hard links are one change per name. */
#ifndef UNIONSHIM_CHANGES_H
#define UNIONSHIM_CHANGES_H

#include <stddef.h>
#include <sys/types.h>

#include "unionshim/config.h"
#include "unionshim/lookup.h"

/* The layers: an upper over lowers (canonical paths). */
struct us_layerset {
	struct us_mount m;     /* target "", upper at 0, lowers after; the
				* work dir (may be NULL) */
	struct us_mount below; /* the lowers alone (the view before) */
};

/* Fill LS (no copies: the strings must outlive it). N may be 0. */
void us_layerset_init(struct us_layerset *ls, const char *upper,
		      const char *work, const char *const *lowers, int n);

struct us_change {
	char kind;     /* 'A', 'M' or 'D' ('=': see US_CHANGES_LINKS) */
	unsigned what; /* M: what differs (US_DIFF_* of objcmp.h) */
	mode_t type;   /* S_IFMT of the object after (A, M), before (D) */
	char *path;    /* union path relative to the root ("a/b") */
	char *real;    /* A, M: where the object after lies (the upper, or
			* the index entry of a lower name); D: NULL */
	char *data;    /* M of a metacopy (metacopy.h): the real file
			* holding its data (below); else NULL */
};

struct us_changes {
	struct us_change *v; /* sorted by path (bytes) */
	size_t n, cap;
	size_t added, changed, deleted;
	char *errpath; /* on failure: the real path that failed (heap) */
	size_t redirected; /* upper dirs with a redirect record (renamed
			    * dirs, redirect.h): their trees are listed
			    * whole, name by name */
};

/* Flags of us_changes_collect. LINKS: also list, as kind '=', the names
 * that did not change but whose object is a hard link that may have
 * (an unchanged upper non-dir with other names in the upper or below,
 * a lower name the index answers): a commit must relink them. They are
 * not counted. */
#define US_CHANGES_LINKS 1u

/* Compute the changes of LS into OUT (zeroed first). 0, or -1 with errno
 * and OUT->errpath naming what failed (ENOTSUP: an overlayfs layer with
 * redirect_dir or metacopy entries, which are not read). */
int us_changes_collect(const struct us_layerset *ls, unsigned flags,
		       struct us_changes *out);

void us_changes_free(struct us_changes *c);

/* The hard-link index entry of the shim that answers the lower object
 * (layer LAYER of LS->m, inode INO), if any: its real path into OUT
 * (PATH_MAX), 1; 0 when none. */
int us_changes_index_entry(const struct us_layerset *ls, int layer,
			   uint64_t ino, char *out);

#endif
