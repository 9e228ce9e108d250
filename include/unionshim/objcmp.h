/* objcmp.h: how two real objects differ, as a union user sees it (the
 * "M" of unionctl diff), and the xattrs that belong to the object rather
 * than to a union's bookkeeping. */
#ifndef UNIONSHIM_OBJCMP_H
#define UNIONSHIM_OBJCMP_H

#include <stdbool.h>
#include <sys/stat.h>

/* What differs (a mask; 0: nothing). */
#define US_DIFF_TYPE 0x01u   /* file type */
#define US_DIFF_DATA 0x02u   /* a regular file's bytes */
#define US_DIFF_MODE 0x04u   /* permission bits */
#define US_DIFF_OWNER 0x08u  /* uid or gid */
#define US_DIFF_MTIME 0x10u  /* mtime (not for dirs: their entries do it) */
#define US_DIFF_XATTR 0x20u  /* an object xattr (us_xattr_private excluded) */
#define US_DIFF_TARGET 0x40u /* a symlink's target */
#define US_DIFF_RDEV 0x80u   /* a device node's number */

/* The names of the bits of a mask, in order ("type", "data", "mode",
 * "owner", "mtime", "xattrs", "target", "rdev"); NULL past the last. */
const char *us_diff_name(int bit);

/* Is xattr NAME a union's own record, never part of an object: the
 * shim's user.unionshim.*, overlayfs's trusted.overlay.* and
 * user.overlay.*? */
bool us_xattr_private(const char *name);

/* Compare real objects A (stat SA) and B (stat SB). The mask, or -1 with
 * errno when one cannot be read. Times of dirs are not compared; nor is
 * the data when A is a metacopy (metacopy.h: B is its data). */
int us_obj_diff(const char *a, const struct stat *sa, const char *b,
		const struct stat *sb);

/* The object xattrs of real object P (private ones left out), as a sorted
 * list: *NAMES gets "name\0value-length(8 bytes)value..." records packed
 * in one heap buffer of *LEN bytes (NULL, 0 when none). 0, or -1 with
 * errno. */
int us_xattrs_read(const char *p, char **names, size_t *len);

#endif
