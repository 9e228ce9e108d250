/* growtable.c: a cache's tables, small first, then bigger (growtable.h).
 *
 * The address space of every size is mapped at once, on the first store
 * (one mapping, no memory committed but the pages touched), so a move to
 * a bigger table never maps anew: a program that freed a range of its
 * own finds it still free (a wild pointer into it still faults, as it
 * would natively). A size is committed whole when it is taken
 * (MADV_POPULATE_WRITE, Linux 5.14: one call, no fault per page; without
 * it, page by page as touched), and the size before given back
 * (MADV_DONTNEED: an entry read there then is all zeros, a miss; a
 * writer still there loses its store): the cache's memory is one size's.
 * One thread makes a size: the others go on with the one in use
 * meanwhile. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "growtable.h"
#include "sys.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static size_t bytes_at(const struct us_growtable *g, int lv)
{
	return g->entry_size * US_GT_WAYS * us_gt_sets(g, lv);
}

/* The ghosts: a 16-bit tag (never 0) of a key pushed out, one slot per
 * entry of the full table, after every level's table in the region. */
static size_t ghosts_at(const struct us_growtable *g)
{
	size_t off = 0;

	for (int lv = 0; lv < US_GT_LEVELS; lv++)
		off += bytes_at(g, lv);
	return off;
}

static uint16_t *ghost_of(const struct us_growtable *g, uint64_t fp,
			  uint16_t *tag)
{
	char *r = __atomic_load_n(&g->region, __ATOMIC_ACQUIRE);
	uint16_t *ghosts = (uint16_t *)(void *)(r + ghosts_at(g));

	*tag = (uint16_t)(fp >> 48) | 1;
	return &ghosts[fp & (g->full_sets * US_GT_WAYS - 1)];
}

void *us_gt_now(struct us_growtable *g, uint32_t *sets)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);

	if (lv < 0)
		return NULL;
	*sets = us_gt_sets(g, lv);
	return __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE);
}

/* The mapping of every size (level 0 first), made once. */
static char *region(struct us_growtable *g)
{
	char *r = __atomic_load_n(&g->region, __ATOMIC_ACQUIRE);

	if (r)
		return r;
	size_t len = ghosts_at(g) + (size_t)g->full_sets * US_GT_WAYS * 2;
	int saved = errno;
	void *p = SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	char *none = NULL;
	if (!__atomic_compare_exchange_n(&g->region, &none, (char *)p, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(p, len); /* another thread made it first */
		errno = saved;
		return none;
	}
	return p;
}

/* Make level LV's table the one in use, when level LV - 1's still is and
 * no other thread is making it. */
static void make(struct us_growtable *g, int lv)
{
	char *r = lv < US_GT_LEVELS ? region(g) : NULL;
	int idle = 0;

	if (!r || !__atomic_compare_exchange_n(&g->making[lv], &idle, 1, false,
					       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	size_t off = 0;
	for (int i = 0; i < lv; i++)
		off += bytes_at(g, i);
	char *t = r + off;
	int saved = errno;
	SYS(syscall)(SYS_madvise, t, bytes_at(g, lv), MADV_POPULATE_WRITE);
	errno = saved;
	void *old = lv ? __atomic_load_n(&g->tables[lv - 1], __ATOMIC_ACQUIRE) : NULL;
	if (old)
		g->move(old, (size_t)us_gt_sets(g, lv - 1) * US_GT_WAYS, t,
			us_gt_sets(g, lv));
	__atomic_store_n(&g->tables[lv], (void *)t, __ATOMIC_RELEASE);
	__atomic_store_n(&g->level, lv, __ATOMIC_RELEASE);
	/* the old table's memory goes back: a reader still in it finds
	 * zeroed entries (misses), a writer's store is lost */
	if (old) {
		SYS(syscall)(SYS_madvise, old, bytes_at(g, lv - 1), MADV_DONTNEED);
		errno = saved;
	}
	/* the ghosts were the old table's: the new one starts with none */
	uint16_t *ghosts = (uint16_t *)(void *)(r + ghosts_at(g));
	for (size_t i = 0; i < (size_t)g->full_sets * US_GT_WAYS; i++)
		__atomic_store_n(&ghosts[i], 0, __ATOMIC_RELAXED);
}

void *us_gt_get(struct us_growtable *g, uint32_t *sets)
{
	void *t = us_gt_now(g, sets);

	if (t)
		return t;
	make(g, 0);
	return us_gt_now(g, sets);
}

/* Is T, of level LV, the table in use? */
static bool in_use(struct us_growtable *g, int lv, void *t)
{
	return lv >= 0 && __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE) == t;
}

void *us_gt_place(const struct us_growtable *g, void *t, uint32_t sets,
		  uint64_t hash, uint32_t stamp)
{
	char *set = us_gt_set(g, t, sets, hash), *oldest = NULL;
	uint32_t oldest_stamp = 0;

	for (int w = 0; w < US_GT_WAYS; w++) {
		char *e = set + (size_t)w * g->entry_size;
		uint32_t st;
		memcpy(&st, e + sizeof(uint32_t), sizeof st);
		if (!st)
			return e;
		if (!oldest || (int32_t)(st - oldest_stamp) < 0) {
			oldest = e;
			oldest_stamp = st;
		}
	}
	return (int32_t)(stamp - oldest_stamp) > 0 ? oldest : NULL;
}

void us_gt_pushed_out(struct us_growtable *g, void *t, uint64_t fp)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);
	uint16_t tag;

	if (lv + 1 >= US_GT_LEVELS || !in_use(g, lv, t))
		return;
	uint16_t *ghost = ghost_of(g, fp, &tag);
	__atomic_store_n(ghost, tag, __ATOMIC_RELAXED);
}

void us_gt_stored_anew(struct us_growtable *g, void *t, uint32_t sets,
		       uint64_t fp)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);
	uint16_t tag, *ghost;

	if (lv + 1 >= US_GT_LEVELS || !in_use(g, lv, t))
		return;
	ghost = ghost_of(g, fp, &tag);
	if (__atomic_load_n(ghost, __ATOMIC_RELAXED) != tag)
		return;
	__atomic_store_n(ghost, 0, __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&g->missed[lv], 1, __ATOMIC_RELAXED) >=
	    sets * US_GT_WAYS / 8)
		make(g, lv + 1);
}

void us_gt_room_for(struct us_growtable *g, void *t, uint32_t sets, size_t n)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);

	if (lv + 1 < US_GT_LEVELS && (size_t)sets * US_GT_WAYS < n &&
	    in_use(g, lv, t))
		make(g, lv + 1);
}

void us_gt_each(struct us_growtable *g, void (*fn)(void *entry))
{
	for (int lv = 0; lv < US_GT_LEVELS; lv++) {
		char *t = __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE);
		size_t n = (size_t)us_gt_sets(g, lv) * US_GT_WAYS;
		for (size_t i = 0; t && i < n; i++)
			fn(t + i * g->entry_size);
	}
}
