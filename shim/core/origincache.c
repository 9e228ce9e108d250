/* origincache.c: the origin records of upper dirs' entries, remembered
 * per process between merges (see origincache.h). A small table of dirs,
 * each with its origin-carrying names sorted for a binary search; the
 * oldest entry goes when a new one needs room. Its lock is one of the
 * library's: forks.c takes it across fork (see origincache.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "unionshim/origincache.h"

struct us_ocrec {
	size_t name; /* offset into the names block */
	struct us_origin o;
};

struct us_ocdir {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	size_t n;
	struct us_ocrec *recs;
	char *names;
};

static struct us_ocdir table[US_OC_DIRS];
static unsigned next_slot; /* round robin */
pthread_mutex_t us_origincache_lock = PTHREAD_MUTEX_INITIALIZER;

bool us_origincache_take(void)
{
	return pthread_mutex_trylock(&us_origincache_lock) == 0;
}

void us_origincache_give(void)
{
	pthread_mutex_unlock(&us_origincache_lock);
}

const struct us_ocdir *us_origincache_find(const struct stat *dir)
{
	for (int i = 0; i < US_OC_DIRS; i++) {
		const struct us_ocdir *d = &table[i];
		if (__atomic_load_n(&d->ino, __ATOMIC_ACQUIRE) == dir->st_ino &&
		    d->dev == dir->st_dev &&
		    d->ctime.tv_sec == dir->st_ctim.tv_sec &&
		    d->ctime.tv_nsec == dir->st_ctim.tv_nsec && d->ino)
			return d;
	}
	return NULL;
}

bool us_origincache_get(const struct us_ocdir *d, const char *name,
			struct us_origin *o)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, d->names + d->recs[mid].name);
		if (c == 0) {
			*o = d->recs[mid].o;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

void us_ocbuild_add(struct us_ocbuild *b, const char *name,
		    const struct us_origin *o)
{
	size_t nl = strlen(name) + 1;

	if (b->failed)
		return;
	if (b->n == US_OC_MAX_NAMES) {
		b->failed = true;
		return;
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 16;
		struct us_ocrec *r = realloc(b->recs, nc * sizeof *r);
		if (!r) {
			b->failed = true;
			return;
		}
		b->recs = r;
		b->cap = nc;
	}
	if (b->used + nl > b->ncap) {
		size_t nc = b->ncap ? b->ncap * 2 : 512;
		while (nc < b->used + nl)
			nc *= 2;
		char *s = realloc(b->names, nc);
		if (!s) {
			b->failed = true;
			return;
		}
		b->names = s;
		b->ncap = nc;
	}
	memcpy(b->names + b->used, name, nl);
	b->recs[b->n].name = b->used;
	b->recs[b->n].o = *o;
	b->n++;
	b->used += nl;
}

void us_ocbuild_free(struct us_ocbuild *b)
{
	free(b->recs);
	free(b->names);
	memset(b, 0, sizeof *b);
}

static const char *sort_names; /* qsort has no argument: the lock is held */

static int by_name(const void *a, const void *b)
{
	const struct us_ocrec *x = a, *y = b;

	return strcmp(sort_names + x->name, sort_names + y->name);
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

void us_origincache_store(const struct stat *dir,
			  const struct timespec *start, struct us_ocbuild *b)
{
	if (b->failed || dir->st_ino == 0 ||
	    ns_of(start) - ns_of(&dir->st_ctim) < US_OC_SETTLE_NS) {
		us_ocbuild_free(b);
		return;
	}
	struct us_ocdir *d = NULL;
	for (int i = 0; i < US_OC_DIRS && !d; i++)
		if (table[i].ino == dir->st_ino && table[i].dev == dir->st_dev)
			d = &table[i]; /* an older record of the same dir */
	if (!d)
		d = &table[next_slot++ % US_OC_DIRS];
	/* unpublished while it changes: a child forked now without our
	 * handler (its lock made anew) finds no half-written record */
	__atomic_store_n(&d->ino, 0, __ATOMIC_RELEASE);
	free(d->recs);
	free(d->names);
	sort_names = b->names;
	if (b->n > 1)
		qsort(b->recs, b->n, sizeof *b->recs, by_name);
	d->dev = dir->st_dev;
	d->ctime = dir->st_ctim;
	d->n = b->n;
	d->recs = b->recs;
	d->names = b->names;
	__atomic_store_n(&d->ino, dir->st_ino, __ATOMIC_RELEASE);
	memset(b, 0, sizeof *b);
}
