/* metacopy.h: metadata-only copy-up (overlayfs metacopy=on).
 *
 * chmod, chown, utimes, setxattr/removexattr and fileattr sets on a lower
 * regular file put an upper file with the new metadata and no data in
 * its place: a sparse file of the lower's size with the record
 * US_METACOPY_XATTR (hidden like every user.unionshim. name). Its data
 * is the object of the same name in the first lower layer below it (the
 * lookup finds it, us_node_data_layer); its origin record keeps its
 * inode number. Opens that only read (and exec) open that lower data;
 * stat shows the upper's metadata with the lower's st_blocks. The first
 * open for writing, truncate, rename or link builds the whole file in
 * the work dir (lower data, upper metadata) and renames it over the
 * metacopy: the name holds one or the other, never a half copy. */
#ifndef UNIONSHIM_METACOPY_H
#define UNIONSHIM_METACOPY_H

#include <stdbool.h>
#include <sys/stat.h>

#include "unionshim/lookup.h"

#define US_METACOPY_XATTR "user.unionshim.metacopy"

/* Lower files smaller than this are copied whole (cheap anyway), which
 * keeps the lookup's test sound: a metacopy has far fewer blocks than
 * its size, whatever blocks its xattrs take. */
#define US_METACOPY_MIN ((off_t)64 << 10)

/* Could the real regular file ST (an upper one) be a metacopy? No system
 * call: the record is asked only of a file with fewer blocks than its
 * size. */
static inline bool us_metacopy_maybe(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_size >= US_METACOPY_MIN &&
	       (off_t)st->st_blocks * 512 < st->st_size;
}

/* Does the upper file at real path REAL (stat ST) carry the record? */
bool us_metacopy_is(const char *real, const struct stat *st);

/* For lookup: the layer bit of the data of metacopy NAME in union dir
 * UPATH (node DIR): the first regular file of that name below the upper;
 * bit 63 when there is none. */
us_layermask us_metacopy_below(const struct us_mount *m, const char *upath,
			       const struct us_node *dir, const char *name);

/* A metadata change of the union object NODE at UPATH: a lower regular
 * file worth it becomes an upper metacopy, anything else is copied up
 * whole (us_copyup). 0, or -1 with errno. */
int us_copyup_meta(const struct us_mount *m, const char *upath,
		   const struct us_node *node);

/* The metacopy NODE at UPATH gets its data (DATA false: the caller
 * truncates it, so none): the whole file replaces the metacopy in one
 * rename. 0, or -1 with errno. */
int us_metacopy_fill(const struct us_mount *m, const char *upath,
		     const struct us_node *node, bool data);

/* The real path of the data of metacopy NODE at UPATH into OUT, its real
 * stat into ST (may be NULL). 0, or -1 with errno (EIO: the data is
 * gone). */
int us_metacopy_data(const struct us_mount *m, const char *upath,
		     const struct us_node *node, char *out, size_t len,
		     struct stat *st);

/* ST is the real stat of the upper metacopy NODE at UPATH: give it the
 * data's st_blocks. */
void us_metacopy_stat(const struct us_mount *m, const char *upath,
		      const struct us_node *node, struct stat *st);

/* ST is the real stat of a lower data file whose object UPATH now has
 * an upper metacopy: give it the metacopy's mode, owner and times. 1
 * when it did, 0 when UPATH is (no longer) a metacopy. */
int us_metacopy_fstat(const struct us_mount *m, const char *upath,
		      struct stat *st);

#endif
