/* linkindex.h: the hard-link index (like overlayfs index=on).
 *
 * Lower names that are hard links of one inode must stay one file when any
 * of them is copied up. The first copy-up of such a file puts the copy in
 * the work dir as #index/<layer>-<ino> (its origin) and links the name to
 * it; every later copy-up of another name of that inode is a link() to the
 * index entry, and a lookup of a name still only below is answered by the
 * index entry, so a write through one name is read through all of them.
 *
 * Link count: the union count of such an object is its upper names (the
 * index inode's count minus the index entry) plus the lower names not yet
 * shadowed, that is the lower count minus the names copied up or removed
 * since, kept beside the entry as a symlink #index/<layer>-<ino>.gone
 * holding the number. */
#ifndef UNIONSHIM_LINKINDEX_H
#define UNIONSHIM_LINKINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "unionshim/identity.h"
#include "unionshim/lookup.h"

/* Does NODE (found below) need the index: a non-directory with other
 * names? */
static inline bool us_index_wanted(const struct us_mount *m,
				   const struct us_node *node)
{
	return m->has_upper && node->layer != 0 && !S_ISDIR(node->mode) &&
	       node->nlink > 1;
}

/* The real path of NODE's index entry into OUT when there is one: 1; 0
 * when not (or NODE needs none). */
int us_index_find(const struct us_mount *m, const struct us_node *node,
		  char *out, size_t len);

/* Copy-up of the lower hard link NODE at union path UPATH: link its index
 * entry (made now when missing, with the data unless !DATA) to the upper
 * path DST. 0, or -1 with errno. */
int us_index_copyup(const struct us_mount *m, const char *upath,
		    const struct us_node *node, const char *dst, bool data);

/* The lower hard link NODE at union path UPATH is about to leave the
 * union while only below (unlink, rename over it): begin makes the index
 * entry (from UPATH's lower file) when missing and writes the new count
 * of names gone aside, holding the entry's lock; end puts the count in
 * force when DONE (the name went), else drops it, and unlocks; an entry
 * no name uses any more then (every lower name gone, no upper name linked
 * to it) goes with its count, as overlayfs drops its index entry. Between
 * them the caller removes the name. A NODE that needs no index makes both
 * no-ops. begin: 0, or -1 with errno (nothing to end then). */
struct us_index_drop {
	int lock;    /* the entry's lock, -1: nothing to end */
	char *entry; /* the entry's path (heap) */
	const struct us_mount *m;
};
int us_index_drop_begin(const struct us_mount *m, const char *upath,
			const struct us_node *node, struct us_index_drop *d);
void us_index_drop_end(struct us_index_drop *d, bool done);

/* The union link count of an upper object of M whose real stat is ST and
 * whose origin O had more than one name (it is indexed). */
uint64_t us_index_nlink(const struct us_mount *m, const struct us_origin *o,
			const struct stat *st);

/* The mount whose index holds real path REAL, or NULL. */
/* The index of M's work dir holds entries (each with an origin record):
 * tell the state that records exist (upperscan.h). False when that could
 * not be told. */
bool us_index_mark_origins(const struct us_mount *m);

const struct us_mount *us_index_owner(const struct us_config *cfg,
				      const char *real);

#endif
