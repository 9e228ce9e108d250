/* copyways.c: which ways of copying file data a pair of filesystems
 * refused, remembered per process (see copyup_parts.h).
 *
 * A copy-up tries FICLONE, then copy_file_range, then read/write. On a
 * filesystem that cannot clone (ext4) or a pair that cannot share a range
 * (lower and upper on different filesystems), the first tries fail the
 * same way on every file: one failure is enough to know. The answer is a
 * property of the filesystems, so it is kept by source device and mount.
 *
 * Each slot is one 64-bit word (key bits and refusal bits), read and
 * written whole with atomics: no lock, no allocation, safe in a forked
 * child. Two keys hashing to one slot overwrite each other; a lost or
 * stale slot only makes a copy try a way again (a wrong "refused" is
 * impossible: the key must match). */
#include <stdint.h>

#include "copyup_parts.h"

#define WAY_SLOTS 16
#define WAY_MASK ((uint64_t)(US_WAY_CLONE | US_WAY_RANGE))

static uint64_t ways[WAY_SLOTS];

static uint64_t way_key(const struct us_mount *m, dev_t dev)
{
	uint64_t h = ((uint64_t)(uintptr_t)m ^ (uint64_t)dev * 0x9e3779b97f4a7c15ull) *
		     0xbf58476d1ce4e5b9ull;

	return (h ^ (h >> 31)) & ~WAY_MASK;
}

static uint64_t *way_slot(uint64_t key)
{
	return &ways[(key >> 32) % WAY_SLOTS];
}

bool us_way_refused(const struct us_mount *m, dev_t dev, unsigned way)
{
	uint64_t key = way_key(m, dev);
	uint64_t w = __atomic_load_n(way_slot(key), __ATOMIC_RELAXED);

	return (w & ~WAY_MASK) == key && (w & way);
}

void us_way_refuse(const struct us_mount *m, dev_t dev, unsigned way)
{
	uint64_t key = way_key(m, dev);
	uint64_t *slot = way_slot(key);
	uint64_t w = __atomic_load_n(slot, __ATOMIC_RELAXED);
	uint64_t want = key | ((w & ~WAY_MASK) == key ? w & WAY_MASK : 0) | way;

	__atomic_store_n(slot, want, __ATOMIC_RELAXED);
}
