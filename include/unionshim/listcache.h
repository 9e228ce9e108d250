/* listcache.h: the last few merged listings of union dirs, per process,
 * so a dir listed again (opendir, rewinddir) costs a copy, not a read
 * and merge of every layer's dir.
 *
 * A listing of dir UPATH of M (layers DIRS) is valid while the dir's
 * generation word (shared.h: bumped by every change of its names made
 * through the union, in any process), the mount's moves word (a dir
 * moved or removed: the same path may be another dir) and lcache.c's
 * epoch are what they were before the merge that made it (the same
 * words lcache.h trusts for each name of the dir). Changes made to the
 * layers from outside the union are not seen (as in lcache.h).
 *
 * Bounded: US_LISTCACHE_SLOTS listings of at most US_LISTCACHE_BYTES each
 * (larger ones are merged each time); the oldest goes. One busy word,
 * only tried (while another thread copies in or out, a listing is merged
 * again, never waited for); a forked child clears it
 * (us_listcache_after_fork). */
#ifndef UNIONSHIM_LISTCACHE_H
#define UNIONSHIM_LISTCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "unionshim/dirmerge.h"
#include "unionshim/lookup.h"

#define US_LISTCACHE_SLOTS 3
#define US_LISTCACHE_BYTES (48 * 1024)

/* The words read before a merge, for the store after it. */
struct us_lc_stamp {
	bool storable;
	const uint32_t *dir, *moves;
	uint32_t gdir, gmoves, epoch;
};

/* A copy of the cached listing into OUT (1), else 0 with STAMP read. */
int us_listcache_get(const struct us_mount *m, const char *upath,
		     us_layermask dirs, struct us_dirlist *out,
		     struct us_lc_stamp *stamp);

/* Keep a copy of L, merged after STAMP was read. */
void us_listcache_put(const struct us_mount *m, const char *upath,
		      us_layermask dirs, const struct us_dirlist *l,
		      const struct us_lc_stamp *stamp);

/* us_dir_merge with the cache in front; FLAGS: the dir node's. */
int us_dir_merge_cached(const struct us_mount *m, const char *upath,
			us_layermask dirs, unsigned flags,
			struct us_dirlist *out);

void us_listcache_after_fork(void);

/* Counters (tests, measurements). */
struct us_listcache_stats {
	uint64_t hits, misses, stores;
};
void us_listcache_stats(struct us_listcache_stats *s);

#endif
