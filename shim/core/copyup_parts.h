/* copyup_parts.h: the steps of a copy-up, for the core modules that copy
 * in other shapes (the hard-link index). */
#ifndef UNIONSHIM_COPYUP_PARTS_H
#define UNIONSHIM_COPYUP_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "unionshim/config.h"

/* Serialize copy-ups of the object named KEY across processes: the fd of
 * a lock file in M's work dir, held (flock) until us_unlock_key; -1 with
 * errno. */
int us_lock_key(const struct us_mount *m, const char *key);

/* Release a lock of us_lock_key, errno kept. The lock is dropped before
 * the fd is closed: a child forked meanwhile shares the lock's open file
 * description, and a close alone would leave the lock held as long as
 * the child keeps its copy (it deadlocks on its own next copy-up). */
void us_unlock_key(int fd);

/* Copy real object SRC of layer LAYER whole (its data only when DATA)
 * with metadata and origin record (none when LAYER < 0: a new object) to
 * a new temp in M's work dir, named in TMP; ST gets SRC's stat. 0, or -1
 * with errno (no temp left). */
int us_copy_temp(const struct us_mount *m, int layer, const char *src,
		 struct stat *st, char *tmp, size_t len, bool data);

/* Ways of copying file data (copyways.c): a way the filesystems of a
 * source on device DEV and M's upper refused once is not tried again by
 * this process. */
#define US_WAY_CLONE 1u /* ioctl FICLONE */
#define US_WAY_RANGE 2u /* copy_file_range */
bool us_way_refused(const struct us_mount *m, dev_t dev, unsigned way);
void us_way_refuse(const struct us_mount *m, dev_t dev, unsigned way);
/* The same with the mode, owner, times and xattrs of real object META
 * (when not NULL) in place of SRC's: a metacopy filled (metacopy.c). */
int us_copy_temp_meta(const struct us_mount *m, int layer, const char *src,
		      const char *meta, struct stat *st, char *tmp, size_t len,
		      bool data);

/* Rename temp TMP (a copy, with its origin record) to DST of M's upper
 * unless something is there (then TMP goes and that object wins), keeping
 * the times of DST's dir, which is marked as holding records first
 * (shared.h). 0, or -1 with errno. */
int us_place_temp(const struct us_mount *m, const char *tmp, const char *dst,
		  bool dir);

#endif
