/* walk.h: the resolver's walk state, shared by lookup.c (the walk) and
 * basewalk.c (walks that start at a relative path's base dir). Private
 * to shim/core/. */
#ifndef UNIONSHIM_CORE_WALK_H
#define UNIONSHIM_CORE_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "unionshim/lcache.h"
#include "unionshim/lookup.h"
#include "unionshim/pcache.h"

#define US_DIRSTACK 64

/* The whole-path cache's key flag for a base dir's entry (basewalk.c):
 * its node, kept for walks that start there. */
#define US_LOOKUP_BASEDIR 0x80u

/* A real dir fd the walk may look through: FD (AT_FDCWD: the kernel's
 * cwd) is open on the real dir REAL (LEN bytes) of layer LAYER, so a
 * layer path "REAL/rest" is the same object as "rest" relative to FD. */
struct us_walk_at {
	int fd;
	int layer;
	size_t len;
	char real[US_PATH_MAX];
};

struct walk {
	const struct us_config *cfg;
	char cur[US_PATH_MAX];
	size_t len;
	const struct us_mount *m; /* the mount CUR is in, or NULL */
	struct us_node dir;       /* CUR's node, when inside */
	struct us_node stack[US_DIRSTACK];
	int depth; /* components of CUR below the target */
	int known; /* stack[i] holds an ancestor's node for i >= known only
		      (a walk that started at a base dir) */
	int links;
	struct us_lc_prefix hp; /* CUR's hash so far (lcache.h) */
	/* scoped walks (us_resolve_at): every component is looked at */
	bool full;
	unsigned res;   /* RESOLVE_* flags in force */
	size_t root_len; /* CUR at the root BENEATH/IN_ROOT keep to */
	const struct us_mount *root_m;
	struct us_node root_dir;
	int root_depth;
	dev_t dev;      /* CUR's st_dev outside a mount, for NO_XDEV */
	dev_t root_dev; /* that of where an absolute symlink jumps to */
	bool entered;   /* the walk has been in a mount */
	bool at_ok;     /* AT holds a real dir to look through */
	struct us_walk_at at;
	char rest[US_PATH_MAX]; /* what is left to walk (symlinks rewrite it) */
	char link[US_PATH_MAX];
	char real[US_PATH_MAX];
};

/* What a walk that starts at a dir (below a base) knows of it before its
 * last name (walkmemo.c): the dir's and the base's nodes (base.layer -1:
 * the base's node is not known) of mount M, the dir's key hash in the
 * per-name cache, the whole-path cache entries the nodes came from
 * (bref.entry NULL: none), whether the base's fd is open on the real dir
 * of the base's top layer (TOP) and whether the walk looks through it
 * (AT_OK, with the us_walk_at beside). */
struct us_walk_memo {
	const struct us_mount *m;
	struct us_node dir, base;
	uint64_t phash;
	struct us_pc_ref dref, bref;
	bool top, at_ok;
};

/* This thread's memo of the dir PATH's first DL bytes name, below the
 * base B: true with OUT (and AT, when OUT->at_ok) filled when it is kept
 * and still holds. */
bool us_walk_memo_get(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      struct us_walk_memo *out, struct us_walk_at *at);

/* This thread's memo when its dir is the base B itself, of B->m, open
 * on B's real dir (a walker's names in its dir fd's own dir): true with
 * DIR (the dir's path, *DL bytes; room for MEMO_PATH), OUT and AT
 * filled when it is kept and still holds. */
bool us_walk_memo_of_base(const struct us_config *cfg, const struct us_base *b,
			  char *dir, size_t *dl, struct us_walk_memo *out,
			  struct us_walk_at *at);

/* Keep IN (AT: its real dir) as this thread's memo of that dir. */
void us_walk_memo_put(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      const struct us_walk_memo *in, const struct us_walk_at *at);

/* Start W at "/" with PATH followed by TAIL to walk. 0, or -1 (too long). */
int us_walk_init(struct walk *w, const struct us_config *cfg,
		 const char *path, const char *tail);

/* Walk W->rest from W's position to its end; R gets the answer. */
int us_walk_run(struct walk *w, unsigned flags, struct us_resolved *r);

/* NAME in the union dir UPATH (node DIR) of M: the lookup cache, else the
 * layers (stat'ed through AT when it is not NULL; WIN gets the winner's
 * statx and *FRESH says so); PHASH: UPATH's key hash (lcache.h) or NULL.
 * 0, or an errno value. */
int us_walk_child(const struct us_mount *m, const char *upath,
		  const struct us_node *dir, const char *name,
		  struct us_node *child, struct statx *win, int *fresh,
		  const struct us_walk_at *at, const uint64_t *phash);

/* W enters the dir CHILD, just appended to W->cur. */
void us_walk_push(struct walk *w, const struct us_node *child);

#endif
