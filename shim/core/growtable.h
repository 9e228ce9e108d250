/* growtable.h: the memory of a per-process cache of 4-way sets (the
 * lookup cache lcache.c, the whole-path cache pcache.c) that starts small
 * and grows. Private to shim/core/.
 *
 * A short-lived program (a shell, sed, a compiler) makes a few hundred
 * lookups; a cache whose sets are spread over a big table costs it a page
 * fault and a zeroed page per lookup (~2.5 us on a virtual machine), more
 * than the lookups. So a process starts with a table of 1/4 of the full
 * size (the lookup cache's 256 entries: a short program's names and dirs
 * fit without pushing each other out, as a test counts) and moves to one
 * twice as big, then to the full size, when the table proved too small:
 * an eighth of its size in stores of keys it had pushed out before (it
 * remembers a fingerprint of the keys it pushed out: its ghosts). A tree
 * walker that asks each name once pushes out many entries but misses none
 * of them again: it keeps the small table (its peak RSS is the budget's).
 * An entry asked for again is kept young (us_gt_keep), so a hot dir is
 * not pushed out by the names under it. The cache's MOVE copies
 * the entries of the old table into the new one before it is used (a
 * tree walker keeps its seeds); a store made meanwhile into the old one
 * is lost (a miss later). The old tables stay mapped, since a reader may
 * still be in one, but their memory is given back. Every size's address
 * space is mapped on the first store, a size's memory committed whole
 * when it is taken (one system call, no fault per page: a process that
 * has filled the size before touches most of the next one).
 *
 * No lock, no malloc: a table is made with mmap and published by
 * compare-and-swap; readers load the level and its table. */
#ifndef UNIONSHIM_CORE_GROWTABLE_H
#define UNIONSHIM_CORE_GROWTABLE_H

#include <stddef.h>
#include <stdint.h>

#define US_GT_LEVELS 3
#define US_GT_WAYS 4

/* The entries of level LV's table, of a cache of FULL entries: a
 * quarter, a half, all. The full sizes are kept small enough that both
 * caches at their full size stay within the RSS budget (1 MiB with the
 * preload and audit libraries' own pages): a program whose names keep
 * coming back fills them. */
static inline uint32_t us_gt_entries_at(uint32_t full, int lv)
{
	return full >> (lv == 0 ? 2 : lv == 1 ? 1 : 0);
}

struct us_growtable {
	size_t entry_size;
	uint32_t full_sets; /* sets of the full table: a power of two */
	/* copy the N entries of table FROM into table TO (SETS sets), not
	 * yet seen by any other thread */
	void (*move)(const void *from, size_t n, void *to, uint32_t sets);
	char *region;                  /* every level's table, mapped once */
	void *tables[US_GT_LEVELS];
	int making[US_GT_LEVELS];      /* a thread makes the level (once) */
	uint32_t missed[US_GT_LEVELS]; /* stores of keys pushed out before */
	int level;                     /* the table in use; -1: none yet */
};

#define US_GROWTABLE(type, entries, mover)                                    \
	{.entry_size = sizeof(type),                                          \
	 .full_sets = (entries) / US_GT_WAYS,                                 \
	 .move = (mover),                                                     \
	 .level = -1}

/* The sets of level LV's table. */
static inline uint32_t us_gt_sets(const struct us_growtable *g, int lv)
{
	return us_gt_entries_at(g->full_sets, lv);
}

/* The table in use and in *SETS its number of sets, or NULL (none yet). */
void *us_gt_now(struct us_growtable *g, uint32_t *sets);

/* The same, the first table made when there is none (NULL: no memory). */
void *us_gt_get(struct us_growtable *g, uint32_t *sets);

/* The first entry of set HASH (any bits: masked to the table's sets) of
 * table T with SETS sets. */
static inline void *us_gt_set(const struct us_growtable *g, void *t,
			      uint32_t sets, uint64_t hash)
{
	return (char *)t + (size_t)(hash & (sets - 1)) * US_GT_WAYS * g->entry_size;
}

/* Where table T (SETS sets; no other thread sees it yet) takes an entry
 * moved from a smaller one, of set HASH, stored at STAMP: a free way, else
 * the set's oldest when it is older; NULL when the set keeps its four.
 * Every entry starts with a 32-bit sequence word and a 32-bit stamp (0:
 * the way is free; stores count from 1). */
void *us_gt_place(const struct us_growtable *g, void *t, uint32_t sets,
		  uint64_t hash, uint32_t stamp);

/* A store into table T pushed out an entry of another key, whose
 * fingerprint (the cache's own 64 bits, the same for the same key) is
 * FP. */
void us_gt_pushed_out(struct us_growtable *g, void *t, uint64_t fp);

/* A store into table T (SETS sets) of a key it did not hold (fingerprint
 * FP): the table grows when too many of these were pushed out before. */
void us_gt_stored_anew(struct us_growtable *g, void *t, uint32_t sets,
		       uint64_t fp);

/* A hit on an entry whose stamp is *STAMP, the cache's clock being NOW:
 * made young again when it is old enough to go soon (a store at most once
 * a quarter of the table's stores: the read path rarely writes). */
static inline void us_gt_keep(uint32_t *stamp, uint32_t now, uint32_t sets)
{
	uint32_t was = __atomic_load_n(stamp, __ATOMIC_RELAXED);

	if (was && now - was > sets * US_GT_WAYS / 4)
		__atomic_store_n(stamp, now, __ATOMIC_RELAXED);
}

/* Move on to the next size now, when T (SETS sets) has fewer than N
 * entries (a batch of N stores is coming: a listing's seeds). */
void us_gt_room_for(struct us_growtable *g, void *t, uint32_t sets, size_t n);

/* FN on every entry of every table made (after a fork: the entries a
 * thread that stayed in the parent was writing). */
void us_gt_each(struct us_growtable *g, void (*fn)(void *entry));

#endif
