/* listcache.c: the last few merged dir listings (see listcache.h). A
 * small array of slots behind one busy word that is only ever tried
 * (compare-and-swap 0 -> 1, never waited for: no lock for the fork
 * handler to take; a child clears it); each slot owns a copy of a
 * listing (heap) and its dir's path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unionshim/lcache.h"
#include "unionshim/listcache.h"
#include "unionshim/shared.h"

struct slot {
	const struct us_mount *m;
	char *upath;
	us_layermask dirs;
	struct us_lc_stamp stamp;
	struct us_dirlist list;
	unsigned long age;
};

static struct slot slots[US_LISTCACHE_SLOTS];
static unsigned long clock_;
static int busy;

static bool try_take(void)
{
	int free_ = 0;

	return __atomic_compare_exchange_n(&busy, &free_, 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void give(void)
{
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}
static uint64_t n_hits, n_misses, n_stores;

static void stamp_now(const struct us_mount *m, const char *upath,
		      struct us_lc_stamp *s)
{
	s->epoch = us_lcache_epoch();
	s->dir = s->moves = NULL;
	s->gdir = s->gmoves = 0;
	s->storable = true;
	if (!m->work)
		return; /* nothing changes through the union */
	s->dir = us_lcache_dirgen(m, upath, strlen(upath), &s->moves);
	if (!s->dir) {
		s->storable = false;
		return;
	}
	s->gdir = __atomic_load_n(s->dir, __ATOMIC_ACQUIRE);
	s->gmoves = __atomic_load_n(s->moves, __ATOMIC_ACQUIRE);
	if ((s->gdir | s->gmoves) & US_DIRGEN_BUSY)
		s->storable = false; /* a change under way (shared.h) */
}

static bool same_stamp(const struct us_lc_stamp *a, const struct us_lc_stamp *b)
{
	return a->storable && b->storable && a->epoch == b->epoch &&
	       a->dir == b->dir && a->gdir == b->gdir && a->gmoves == b->gmoves;
}

static size_t list_bytes(const struct us_dirlist *l)
{
	return l->used + l->n * sizeof *l->offs;
}

/* A copy of L into OUT (its own heap blocks); -1 on ENOMEM. */
static int list_copy(struct us_dirlist *out, const struct us_dirlist *l)
{
	memset(out, 0, sizeof *out);
	out->buf = malloc(l->used ? l->used : 1);
	out->offs = malloc(l->n ? l->n * sizeof *l->offs : 1);
	if (!out->buf || !out->offs) {
		free(out->buf);
		free(out->offs);
		memset(out, 0, sizeof *out);
		return -1;
	}
	memcpy(out->buf, l->buf, l->used);
	memcpy(out->offs, l->offs, l->n * sizeof *l->offs);
	out->used = out->cap = l->used;
	out->n = out->ncap = l->n;
	return 0;
}

static struct slot *find(const struct us_mount *m, const char *upath,
			 us_layermask dirs)
{
	for (int i = 0; i < US_LISTCACHE_SLOTS; i++)
		if (slots[i].m == m && slots[i].dirs == dirs &&
		    strcmp(slots[i].upath, upath) == 0)
			return &slots[i];
	return NULL;
}

int us_listcache_get(const struct us_mount *m, const char *upath,
		     us_layermask dirs, struct us_dirlist *out,
		     struct us_lc_stamp *stamp)
{
	int saved = errno, hit = 0;

	stamp_now(m, upath, stamp);
	if (stamp->storable && try_take()) {
		struct slot *s = find(m, upath, dirs);
		if (s && same_stamp(&s->stamp, stamp) && list_copy(out, &s->list) == 0) {
			s->age = ++clock_;
			hit = 1;
		}
		give();
	}
	__atomic_add_fetch(hit ? &n_hits : &n_misses, 1, __ATOMIC_RELAXED);
	errno = saved;
	return hit;
}

void us_listcache_put(const struct us_mount *m, const char *upath,
		      us_layermask dirs, const struct us_dirlist *l,
		      const struct us_lc_stamp *stamp)
{
	int saved = errno;

	if (!stamp->storable || list_bytes(l) > US_LISTCACHE_BYTES ||
	    !try_take())
		return;
	struct slot *s = find(m, upath, dirs);
	if (!s) { /* a free slot (age 0), else the oldest */
		s = &slots[0];
		for (int i = 1; i < US_LISTCACHE_SLOTS; i++)
			if ((slots[i].m ? slots[i].age : 0) < (s->m ? s->age : 0))
				s = &slots[i];
	}
	struct us_dirlist copy;
	char *up = strdup(upath);
	if (s && up && list_copy(&copy, l) == 0) {
		us_dirlist_free(&s->list);
		free(s->upath);
		s->m = m;
		s->upath = up;
		s->dirs = dirs;
		s->stamp = *stamp;
		s->list = copy;
		s->age = ++clock_;
		up = NULL;
		__atomic_add_fetch(&n_stores, 1, __ATOMIC_RELAXED);
	}
	free(up);
	give();
	errno = saved;
}

int us_dir_merge_cached(const struct us_mount *m, const char *upath,
			us_layermask dirs, unsigned flags,
			struct us_dirlist *out)
{
	struct us_lc_stamp stamp;

	struct us_lc_seed seed;

	if (us_listcache_get(m, upath, dirs, out, &stamp))
		return 0;
	/* the listing's seeds carry the words read before it */
	us_lcache_seed_begin(&seed, m, upath, dirs, stamp.epoch, stamp.gdir,
			     stamp.gmoves);
	if (us_dir_merge_seed(m, upath, dirs, flags, out,
			      stamp.storable ? &seed : NULL) < 0)
		return -1;
	us_listcache_put(m, upath, dirs, out, &stamp);
	return 0;
}

void us_listcache_after_fork(void)
{
	give(); /* a thread of the parent had it: gone with it */
}

void us_listcache_stats(struct us_listcache_stats *s)
{
	s->hits = __atomic_load_n(&n_hits, __ATOMIC_RELAXED);
	s->misses = __atomic_load_n(&n_misses, __ATOMIC_RELAXED);
	s->stores = __atomic_load_n(&n_stores, __ATOMIC_RELAXED);
}
