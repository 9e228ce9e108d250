/* hashmix.h: the word mixer of the per-process caches' key hashes
 * (lcache.c, pcache.c) and the finisher their sets are taken from.
 * Private to shim/core/.
 *
 * A set is a hash's bits masked by the table's size, which grows: every
 * bit of every word must reach every bit of the result. The mixer alone
 * does not do that (a product's low bits depend on its factors' low bits
 * only): before the finisher, names that differ in their last byte only
 * (low030.c ... low039.c) fell in one set of a small table and pushed
 * each other out. */
#ifndef UNIONSHIM_CORE_HASHMIX_H
#define UNIONSHIM_CORE_HASHMIX_H

#include <stdint.h>

/* H with word W mixed in (the lookup cache's path hashes, shared by the
 * processes of a mount through #state, depend on it as it is). */
static inline uint64_t us_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
	return h ^ (h >> 31);
}

/* H with each of its bits spread over all of them (SplitMix64's final
 * steps). */
static inline uint64_t us_mix_end(uint64_t h)
{
	h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 31);
}

#endif
