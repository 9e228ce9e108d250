/* dirmerge.h: the merged entry list of a union directory. */
#ifndef UNIONSHIM_DIRMERGE_H
#define UNIONSHIM_DIRMERGE_H

#include <dirent.h>
#include <stddef.h>

#include "unionshim/lookup.h"

/* Entries are struct dirent64 records packed in one buffer, in the order
 * upper first, then each lower; duplicates, whiteouts, ".wh." names and
 * entries hidden by whiteouts are dropped. */
struct us_dirlist {
	char *buf;
	size_t used, cap;
	size_t *offs; /* offset of entry i in buf */
	size_t n, ncap;
};

/* Build the list of union dir UPATH of M whose merging layers are DIRS.
 * 0, or -1 with errno. */
int us_dir_merge(const struct us_mount *m, const char *upath,
		 us_layermask dirs, struct us_dirlist *out);

static inline struct dirent64 *us_dirlist_at(const struct us_dirlist *l,
					     size_t i)
{
	return (struct dirent64 *)(void *)(l->buf + l->offs[i]);
}

/* us_dir_merge of a dir whose node has FLAGS (us_node.flags), leaving
 * seeds SEED (lcache.h; NULL: none) for the names it lists. */
struct us_lc_seed;
int us_dir_merge_seed(const struct us_mount *m, const char *upath,
		      us_layermask dirs, unsigned flags,
		      struct us_dirlist *out, struct us_lc_seed *seed);

void us_dirlist_free(struct us_dirlist *l);

#endif
