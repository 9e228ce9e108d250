/* exportlist.h: what an exported layer holds, as a list of entries in
 * the order they are written. */
#ifndef EXPORTLIST_H
#define EXPORTLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "uclayers.h"

enum uc_xkind {
	UC_X_OBJECT, /* data and metadata from SRC */
	UC_X_MARKER, /* a whiteout or opaque marker: an empty file */
};

struct uc_xent {
	char *path; /* "a/b", relative to the layer root */
	char *src;  /* UC_X_OBJECT: the real object */
	char *data; /* a metacopy's (metacopy.h): the real file of its data,
		       read in place of SRC's; else NULL */
	enum uc_xkind kind;
	int prio;   /* of two entries of one path the lower number wins */
	struct stat st;
};

struct uc_xlist {
	struct uc_xent *v;
	size_t n, cap;
};

/* Collect the layer of L: every object of the upper (the shim's xattrs
 * and records left out), whiteouts in OCI form, opaque markers, and with
 * the work dir the lower names of hard links the link index answers. 0,
 * or -1 after a message naming CMD. */
int uc_xlist_build(const struct uc_layers *l, const char *cmd,
		   struct uc_xlist *x);

void uc_xlist_free(struct uc_xlist *x);

/* Append an entry (PATH and SRC copied). 0, or -1 (out of memory). */
int uc_xlist_add(struct uc_xlist *x, const char *path, const char *src,
		 enum uc_xkind kind, int prio, const struct stat *st);

/* Part of uc_xlist_build (exportindex.c): the lower names of hard links
 * copied up by another name, or changed through a name since removed,
 * which the work dir's link index answers in the union. */
int uc_xlist_from_index(const struct uc_layers *l, const char *cmd,
			struct uc_xlist *x);

/* Part of uc_xlist_build (exportmoves.c): the trees of dirs renamed with
 * a redirect record, written whole; and the opaque marker of upper dir
 * REL (real path REAL) when it is one (then 1). 0, or -1. */
int uc_xlist_from_moves(const struct uc_layers *l, const char *cmd,
			struct uc_xlist *x);
int uc_xlist_redirect_marker(struct uc_xlist *x, const char *rel,
			     const char *real);

/* Compare two layer paths component by component (a dir before what it
 * holds, its opaque marker first). */
int uc_path_cmp(const char *a, const char *b);

#endif
