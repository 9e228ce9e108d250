/* lcache.h: the lookup cache. Each process remembers, per (mount, union
 * dir, layers that merge into it, name), what us_lookup_child found: the
 * winning entry (us_node) or that the name is in no layer. An entry is
 * valid while the generation word of its dir (shared.h, a hash of the
 * dir's union path) and the mount's word for moved subtrees are what they
 * were before the lookup was made: a hit costs no system call and takes
 * no lock. Every change of the namespace made through the union bumps the
 * word of the dir it changes before it returns (us_lcache_*changed), in
 * whichever process of the mount it is made. A mount without a work dir
 * never changes through the union: its entries stay valid.
 *
 * Changes made to the layers from outside the union are not seen until
 * something bumps the dir (us_lcache_forget drops every entry of this
 * process). The cached mode's permission bits may be stale (a chmod of an
 * upper object bumps the object's own dir only): callers use its type.
 *
 * At most US_LCACHE_ENTRIES of 128 bytes (a small table mapped on the
 * first store, bigger ones as pushed-out names come back: growtable.h; the
 * oldest way of a 4-way set goes), never malloc. Readers use a
 * per-entry sequence word: an entry being written is a miss, never a
 * wait, so a signal handler and a forked child can use the cache. */
#ifndef UNIONSHIM_LCACHE_H
#define UNIONSHIM_LCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "unionshim/lookup.h"

#define US_LCACHE_ENTRIES 1024 /* at most: 128 KiB (shim/core/growtable.h) */
#define US_LCACHE_NAME 40 /* longer names are looked up each time */

/* A lookup the cache did not answer: what us_lcache_put needs to store
 * its result (key, set, and the generations read before the lookup). */
struct us_lc_miss {
	bool storable;
	unsigned set;
	uint64_t phash, m, pdirs, lens;
	uint64_t name[US_LCACHE_NAME / 8];
	uint32_t gdir, gall;
	/* the way the store should take, as the miss's scan of the set saw
	 * it (its sequence word then, its rank); way -1: scan again */
	const void *table;
	int way, rank;
	uint32_t wseq;
};

/* Look NAME up in union dir UPATH (node DIR) of M in the cache: 1 with
 * *ERR (0 or ENOENT) and, for 0, *CHILD; 2 for a seed (below) with the
 * layer to start from in CHILD->layer; else 0. For 0 and 2, MISS is
 * filled for the store that follows the real lookup. PHASH: UPATH's
 * hash (us_lcache_path_hash), or NULL to hash it here. */
int us_lcache_get(const struct us_mount *m, const char *upath,
		  const uint64_t *phash, const struct us_node *dir,
		  const char *name, struct us_node *child, int *err,
		  struct us_lc_miss *miss);

/* Remember the real lookup's answer (ERR 0 with CHILD, or ENOENT; other
 * errors are not kept). */
void us_lcache_put(const struct us_lc_miss *miss, int err,
		   const struct us_node *child);

/* Seeds: a merged listing of a dir tells, for each name it lists, the
 * first layer that has it; the layers above it neither have the name nor
 * white it out. A seed remembers that layer, so the lookup that follows
 * (a walker's stat of each entry) starts there instead of proving the
 * layers above empty again. It carries the dir's generations read BEFORE
 * the listing was made (us_lcache_seed_begin with the words of that
 * moment): a change made meanwhile, in any process, leaves it unused. A
 * seed is never an answer: the winning layer is still asked. */
struct us_lc_seed {
	bool ok;
	uint64_t phash, m, pdirs;
	size_t pl;
	uint32_t gdir, gall;
	unsigned left; /* seeds this listing may still store */
};

/* Seeds for union dir UPATH (layers DIRS) of M, listed after the words
 * EPOCH (us_lcache_epoch), GDIR and GMOVES (of us_lcache_dirgen; 0 for a
 * mount without a work dir) were read. */
void us_lcache_seed_begin(struct us_lc_seed *s, const struct us_mount *m,
			  const char *upath, us_layermask dirs, uint32_t epoch,
			  uint32_t gdir, uint32_t gmoves);

/* NAME is listed from LAYER (and no layer above has it). */
void us_lcache_seed(struct us_lc_seed *s, const char *name, int layer);

/* The names of union dir DIR of M changed. */
void us_lcache_dir_changed(const struct us_mount *m, const char *dir);

/* The name UPATH (its dir's entry: kind, layer, identity) changed. */
void us_lcache_name_changed(const struct us_mount *m, const char *upath);

/* The same for a change other threads or processes may see before it is
 * announced, in two halves: _begin before the change (MOVES: a subtree
 * may move or go too), _end after it, with what _begin returned. While a
 * change is under way nothing of its dir (or, with MOVES, of the mount)
 * is answered from or stored in a cache: a thread whose own finished
 * change depends on it (a file made in a dir another thread is copying
 * up) never meets a view from before it. */
bool us_lcache_change_begin(const struct us_mount *m, const char *upath,
			    bool moves);
void us_lcache_change_end(const struct us_mount *m, const char *upath,
			  bool moves, bool begun);

/* A subtree of M moved or went (dir rename, rmdir, a dir made opaque):
 * every entry of the mount is stale. */
void us_lcache_moved(const struct us_mount *m);

/* Forget every entry of this process (the layers were changed from
 * outside the union). */
void us_lcache_forget(void);

/* For pcache.h: the count of us_lcache_forget calls, and the generation
 * word of union dir DIR (LEN bytes) of M with the mount's moves word in
 * *MOVES (NULL when M's state is not there). */
uint32_t us_lcache_epoch(void);
const uint32_t *us_lcache_dirgen(const struct us_mount *m, const char *dir,
				 size_t len, const uint32_t **moves);

/* us_lcache_dirgen for the prefixes of one PATH, in growing LEN order,
 * each of its words hashed once: P carries the hash between calls
 * (us_lcache_prefix_init first). */
struct us_lc_prefix {
	uint64_t h;
	size_t done;
};
void us_lcache_prefix_init(struct us_lc_prefix *p);
/* The hash us_lcache_get keys PATH (LEN bytes) by, its whole words taken
 * from P as far as P went (a walk down one path hashes each word once). */
uint64_t us_lcache_path_hash(struct us_lc_prefix *p, const char *path,
			     size_t len);
const uint32_t *us_lcache_dirgen_prefix(const struct us_mount *m,
					struct us_lc_prefix *p, const char *path,
					size_t len, const uint32_t **moves);

/* In a new child of fork, its only thread: entries a thread of the parent
 * was writing are made free again. No lock, no malloc. */
void us_lcache_after_fork(void);

/* Counters of this process (tests, measurements). */
struct us_lcache_stats {
	uint64_t hits, misses, stores;
	uint64_t seeds, seeded; /* seeds stored; lookups that used one */
	uint64_t entries;       /* of the table in use (0: none yet) */
};
void us_lcache_stats(struct us_lcache_stats *s);

/* The set of a table of SETS sets (a power of two) that the key of NAME
 * in union dir UPATH of M (dir layers DIRS) falls in (tests: every byte
 * of a name must count). */
unsigned us_lcache_set_of(const struct us_mount *m, const char *upath,
			  us_layermask dirs, const char *name, unsigned sets);

#endif
