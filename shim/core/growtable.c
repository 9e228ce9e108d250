/* growtable.c: a cache's tables, small first, then bigger (growtable.h). */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "growtable.h"
#include "sys.h"


void *us_gt_now(struct us_growtable *g, uint32_t *sets)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);

	if (lv < 0)
		return NULL;
	*sets = us_gt_sets(g, lv);
	return __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE);
}

/* Make level LV's table the one in use, when level LV - 1's still is. */
static void make(struct us_growtable *g, int lv)
{
	if (lv >= US_GT_LEVELS)
		return;
	if (!__atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE)) {
		size_t len = g->entry_size * US_GT_WAYS * us_gt_sets(g, lv);
		int saved = errno;
		void *p = SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				    -1, 0);
		errno = saved;
		if (p == MAP_FAILED)
			return;
		void *old = lv ? __atomic_load_n(&g->tables[lv - 1], __ATOMIC_ACQUIRE)
			       : NULL;
		if (old)
			g->move(old, (size_t)us_gt_sets(g, lv - 1) * US_GT_WAYS, p,
				us_gt_sets(g, lv));
		void *none = NULL;
		if (!__atomic_compare_exchange_n(&g->tables[lv], &none, p, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			munmap(p, len); /* another thread made it first */
			errno = saved;
		}
	}
	int was = lv - 1;
	__atomic_compare_exchange_n(&g->level, &was, lv, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

void *us_gt_get(struct us_growtable *g, uint32_t *sets)
{
	void *t = us_gt_now(g, sets);

	if (t)
		return t;
	make(g, 0);
	return us_gt_now(g, sets);
}

void us_gt_pushed_out(struct us_growtable *g, void *t, uint32_t sets)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);

	if (lv < 0 || lv + 1 >= US_GT_LEVELS ||
	    __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE) != t)
		return;
	if (__atomic_add_fetch(&g->pushed[lv], 1, __ATOMIC_RELAXED) >=
	    sets * US_GT_WAYS / 2)
		make(g, lv + 1);
}

void us_gt_room_for(struct us_growtable *g, void *t, uint32_t sets, size_t n)
{
	int lv = __atomic_load_n(&g->level, __ATOMIC_ACQUIRE);

	if (lv >= 0 && (size_t)sets * US_GT_WAYS < n &&
	    __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE) == t)
		make(g, lv + 1);
}

void *us_gt_table(struct us_growtable *g, int lv, size_t *n)
{
	*n = (size_t)us_gt_sets(g, lv) * US_GT_WAYS;
	return __atomic_load_n(&g->tables[lv], __ATOMIC_ACQUIRE);
}
