/* origincache.h: per process, which entries of an upper dir carry an
 * origin record (identity.h), as found by the last full merge of that dir,
 * so that listing it again costs one fstat instead of one xattr read per
 * entry.
 *
 * A record is keyed by the upper dir's device, inode and ctime. Every
 * entry that comes to carry an origin enters the dir by a rename or a
 * link into it (copy-up renames its temp into place), which sets the
 * dir's ctime to the current time; so a record is kept only when the
 * dir's ctime was at least US_OC_SETTLE_NS older than the start of the
 * scan that made it: any later change gives the dir a ctime the record
 * does not have, whatever the clock's granularity.
 *
 * The table is guarded by us_origincache_lock, which a merge takes with
 * trylock only: a thread that finds it busy (another thread, a signal
 * handler nested in a merge) merges without the cache. The fork handler
 * (shim/forks.c) takes it like the library's other locks. */
#ifndef UNIONSHIM_ORIGINCACHE_H
#define UNIONSHIM_ORIGINCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "unionshim/identity.h"

#define US_OC_SETTLE_NS 1000000000LL /* 1 s */
#define US_OC_DIRS 32                /* dirs remembered */
#define US_OC_MAX_NAMES 4096         /* a dir with more is not remembered */

struct us_ocdir;

extern pthread_mutex_t us_origincache_lock;

/* The origins found while scanning a dir, for us_origincache_store. */
struct us_ocbuild {
	struct us_ocrec *recs;
	size_t n, cap;
	char *names;
	size_t used, ncap;
	bool failed; /* out of memory, or too many: store nothing */
};

/* Take the table (trylock): false when it is busy. */
bool us_origincache_take(void);
void us_origincache_give(void);

/* With the table taken: the record of dir DIR (its fstat), or NULL. */
const struct us_ocdir *us_origincache_find(const struct stat *dir);

/* NAME's origin in record D: true with *O, false when it has none. */
bool us_origincache_get(const struct us_ocdir *d, const char *name,
			struct us_origin *o);

/* Note that entry NAME carries origin O. */
void us_ocbuild_add(struct us_ocbuild *b, const char *name,
		    const struct us_origin *o);

/* With the table taken: remember B (emptied) for DIR, scanned from
 * START (CLOCK_REALTIME), when DIR's ctime is settled; else drop it. */
void us_origincache_store(const struct stat *dir,
			  const struct timespec *start, struct us_ocbuild *b);

void us_ocbuild_free(struct us_ocbuild *b);

#endif
