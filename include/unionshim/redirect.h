/* redirect.h: redirect records of renamed dirs (overlayfs redirect_dir=on,
 * without trusted.* xattrs).
 *
 * Renaming a dir that has a lower half moves (or copies up, dir only) its
 * upper dir to the new name and gives it the xattr user.unionshim.redirect:
 * the union path, relative to the mount's target ("/a/b"), where its lower
 * half lies in every lower. Only the upper's records count (the lowers are
 * read-only); a value is always absolute, so moving a redirected dir or its
 * parent again keeps it right. The "lower-side" path of a union path is
 * where the lowers hold it: the path with the deepest redirected upper
 * ancestor (or itself) replaced by its record. */
#ifndef UNIONSHIM_REDIRECT_H
#define UNIONSHIM_REDIRECT_H

#include <stddef.h>

#include "unionshim/config.h"
#include "unionshim/lookup.h"

#define US_REDIRECT_XATTR "user.unionshim.redirect"

/* The redirect record of the real upper object REAL into OUT (the value,
 * "/..." relative to the target): 1, 0 when it has none (or does not
 * exist), -1 with errno. */
int us_redirect_read(const char *real, char *out, size_t outlen);

/* The lower-side union path of union path UPATH of M into OUT (OUT may
 * be UPATH's own buffer). 0, or -1 with errno. */
int us_lower_upath(const struct us_mount *m, const char *upath, char *out,
		   size_t outlen);

/* The lower-side path of UPATH in lower layer LAYER of M: the upper's
 * records applied (us_lower_upath), then those of every lower above LAYER
 * whose root is marked as holding records (an upper that held renamed
 * dirs, stacked as a lower under a new upper: overlayfs follows a
 * redirect in any layer). 0, or -1 with errno. */
int us_layer_upath(const struct us_mount *m, int layer, const char *upath,
		   char *out, size_t outlen);

/* The lowers of M (bits) whose root is marked as holding records: read
 * at the first use (us_lower_redirects_read), kept in the mount. */
us_layermask us_lower_redirects_read(const struct us_mount *m);

static inline us_layermask us_lower_redirects(const struct us_mount *m)
{
	return __atomic_load_n(&m->lower_redirects_known, __ATOMIC_ACQUIRE)
		       ? m->lower_redirects
		       : us_lower_redirects_read(m);
}

/* Mark the layer dir LAYER_ROOT as holding records (best effort). */
#define US_REDIRECTS_MARK "user.unionshim.redirects"
void us_redirects_mark(const char *layer_root);

/* May M's upper hold redirect records? (one load: false for most mounts) */
int us_redirects_maybe(const struct us_mount *m);

/* Give the upper dir of union path UPATH of M the record VALUE ("/..."),
 * first telling every process of the mount that records exist. 0, or -1
 * with errno (EXDEV when the upper's filesystem takes no user xattr). */
int us_redirect_write(const struct us_mount *m, const char *upath,
		      const char *value);

#endif
