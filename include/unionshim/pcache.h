/* pcache.h: the whole-path cache, in front of us_resolve's walk. Each
 * process remembers, per absolute union path already in normal form (no
 * "." or ".." component, no doubled or trailing slash) and resolver
 * flags, the answer of a walk that followed no symlink: the mount, the
 * object's and its dir's nodes, or that the last name is in no layer.
 *
 * The answer is exactly what lcache.h would give for each component: an
 * entry is valid while the generation word of EVERY dir on its path
 * (mount root to parent, shared.h), the mount's moves word and
 * lcache.c's epoch are what they were before the walk. The entry keeps
 * the addresses of those words, so a hit is a hash of the path, one set
 * of 4 entries, and one load per dir: no system call, no lock.
 *
 * Not cached (the walk runs, lcache.h still answers its components): a
 * path not in normal form, one whose walk crossed a symlink (its target's
 * dirs would be dependencies too), one longer than US_PCACHE_KEY bytes or
 * with more than US_PCACHE_DEPS dirs below the mount's target, an answer
 * outside every mount, a failed walk (an error before the last name).
 *
 * At most US_PCACHE_ENTRIES of 512 bytes (a small table mapped on the
 * first store, bigger ones as pushed-out paths come back: growtable.h),
 * never malloc; a per-entry sequence word as in lcache.c: an entry being
 * written is a miss, so a signal handler and a forked child can use it. */
#ifndef UNIONSHIM_PCACHE_H
#define UNIONSHIM_PCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "unionshim/lookup.h"

#define US_PCACHE_ENTRIES 128 /* at most: 64 KiB (shim/core/growtable.h) */
#define US_PCACHE_KEY 192 /* bytes of path, the NUL not counted */
#define US_PCACHE_DEPS 16 /* dirs of the path below (and with) the target */

/* A resolve the cache did not answer: what us_pcache_put needs (key, set,
 * and the words read before the walk). */
struct us_pc_miss {
	bool storable;
	unsigned set, flags, ndeps;
	uint64_t hash;
	size_t len;
	const struct us_mount *m;
	const uint32_t *moves; /* the mount's moves word, or NULL */
	uint32_t epoch, gmoves;
	const uint32_t *dep[US_PCACHE_DEPS];
	uint32_t val[US_PCACHE_DEPS];
};

/* Which entry a hit came from, and its sequence word then. */
struct us_pc_ref {
	const void *entry;
	uint32_t seq;
};

/* Resolve ABSPATH with FLAGS from the cache: 1 with R filled as
 * us_resolve fills it (and REF, when not NULL, naming the entry), else 0
 * with MISS ready for the store after the walk. */
int us_pcache_get(const struct us_config *cfg, const char *abspath,
		  unsigned flags, struct us_resolved *r, struct us_pc_miss *miss,
		  struct us_pc_ref *ref);

/* Would the hit REF names give the same answer now (its entry not
 * written since, every word it depends on unchanged)? A few loads: a
 * caller that kept the answer may use it again. */
bool us_pcache_still(const struct us_pc_ref *ref);

/* Keep the walk's answer R for ABSPATH (LINKS: symlinks it followed);
 * what is not cacheable is left out. */
void us_pcache_put(const struct us_pc_miss *miss, const char *abspath,
		   int links, const struct us_resolved *r);

/* In a new child of fork, its only thread (as us_lcache_after_fork). */
void us_pcache_after_fork(void);

/* Tests: answer nothing, store nothing (to see the walk's own caches). */
void us_pcache_enable(bool on);

/* Tests: turn the entry of (ABSPATH, FLAGS) into one being written
 * (ON), as a writer stopped half-way would leave it, or back. 1 when
 * the entry is there. */
int us_pcache_hold(const char *abspath, unsigned flags, bool on);

/* Counters of this process (tests, measurements). */
struct us_pcache_stats {
	uint64_t hits, misses, stores;
	uint64_t entries; /* the table's size now (it grows) */
};
void us_pcache_stats(struct us_pcache_stats *s);

/* The set of a table of SETS sets (a power of two) that ABSPATH asked
 * with FLAGS falls in (tests: every byte of a path must count). */
unsigned us_pcache_set_of(const char *abspath, unsigned flags, unsigned sets);

#endif
