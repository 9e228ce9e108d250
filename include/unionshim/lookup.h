/* lookup.h: resolving a path in the union's namespace.
 *
 * The resolver walks an absolute path one component at a time. Inside a
 * mount each component is found in upper, then each lower in order,
 * honouring whiteouts and opaque dirs in OCI and overlayfs form; symlinks
 * found inside a union are followed inside the union namespace; ".." at a
 * target root leaves the union. Outside every mount the kernel's view is
 * kept. */
#ifndef UNIONSHIM_LOOKUP_H
#define UNIONSHIM_LOOKUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "unionshim/config.h"
#include "unionshim/pathmax.h"

typedef uint64_t us_layermask;

/* One object of a union, as found by lookup. */
struct us_node {
	int layer;         /* index into mount->layers of the winning entry */
	mode_t mode;       /* its st_mode (type and permission bits) */
	us_layermask dirs; /* for a dir: the layers that merge into it; for
			      an upper metacopy file (metacopy.h): the
			      bit of the layer holding its data */
	dev_t dev;         /* the winning entry's real st_dev, st_ino and */
	uint64_t ino;      /* st_nlink (0 for a mount's root) */
	uint64_t nlink;
	unsigned flags;    /* US_NODE_*: what the walk learned on the way */
};

/* A dir whose lowers hold it at its own union path: neither it nor an
 * ancestor has a redirect record (redirect.h), so its children's lower
 * side needs no record read. Unset: not known (the records are read). */
#define US_NODE_STRAIGHT 1u

/* For a name in no layer (us_resolved.err ENOENT: us_resolved.node holds
 * these flags alone): what the lookup learnt of the upper layer's dir on
 * the way, so a create asks no more. FREE: the upper dir exists and has
 * no entry of the name (no in-place whiteout either); CLEAN: nor a
 * whiteout of it in the OCI form (.wh.NAME). Unset: not known. */
#define US_NODE_UPPER_FREE 2u
#define US_NODE_UPPER_CLEAN 4u

/* Is N a dir that more than one layer merges into? Its st_nlink is then
 * 1, as overlayfs reports it ("no count of subdirs kept": fts and find
 * take 1 so, and look at every entry), not one layer's count, which
 * misses the other layers' subdirs. */
static inline int us_node_merged(const struct us_node *n)
{
	return S_ISDIR(n->mode) && (n->dirs & (n->dirs - 1)) != 0;
}

/* Is N an upper regular file whose data is still below (a metadata-only
 * copy-up, metacopy.h)? */
static inline int us_node_metacopy(const struct us_node *n)
{
	return S_ISREG(n->mode) && n->layer == 0 && (n->dirs & ~(us_layermask)1);
}

/* The layer holding the data of metacopy N (>= the mount's layer count:
 * the data is gone). */
static inline int us_node_data_layer(const struct us_node *n)
{
	return __builtin_ctzll(n->dirs & ~(us_layermask)1);
}

enum us_where {
	US_OUTSIDE = 0, /* path names the real filesystem: use it as is */
	US_INSIDE = 1,  /* path is a union path inside mount m */
};

/* Resolver flags. */
#define US_LOOKUP_NOFOLLOW 1u /* do not follow a final symlink */
/* a name met through a dir fd (fts: find, du, ls -R, rm -r, chmod -R):
 * tree walkers ask once per path, so the whole-path cache (pcache.h) is
 * neither asked nor filled; the per-name cache still answers */
#define US_LOOKUP_ONCE 0x100u

struct us_resolved {
	enum us_where where;
	const struct us_mount *m;
	char path[US_PATH_MAX];   /* union path (inside) or real path (outside) */
	int err;               /* 0, or the errno of a failed final lookup */
	int parent_ok;         /* inside, err == ENOENT: parent dir exists */
	struct us_node node;   /* inside, err == 0: the object; err ==
				  ENOENT: US_NODE_UPPER_* flags alone */
	struct us_node parent; /* inside, parent_ok or err == 0: its dir */
	/* inside, err == 0 and stx_ok: the winning real object's own statx
	 * (statxconv.h), made by this very walk (not a cached answer), so a
	 * stat wrapper may hand it back instead of asking again */
	int stx_ok;
	struct statx stx;
	/* inside, us_resolve_base only: the first AT_ULEN bytes of PATH are
	 * the union dir that the caller's real dir fd AT_FD is open on, in
	 * layer AT_LAYER (us_resolved_rel); 0 when not known */
	size_t at_ulen;
	int at_fd, at_layer;
};

/* Resolve ABSPATH (absolute, not necessarily normal). Returns 0 with R
 * filled (R->err tells whether the final object exists), or -1 with errno
 * for errors met before the final component (ENOENT, ENOTDIR, ELOOP,
 * ENAMETOOLONG, EACCES, ...). */
int us_resolve(const struct us_config *cfg, const char *abspath,
	       unsigned flags, struct us_resolved *r);

/* Where a relative path starts: the union dir whose path is the first
 * bytes of the absolute path, and the real dir the caller's fd FD (or
 * AT_FDCWD: the kernel's cwd) is open on, layer LAYER's (DEV, INO). */
struct us_base {
	size_t len; /* bytes of the absolute path that are the base dir */
	int fd;
	int layer; /* -1: the real dir is not known */
	dev_t dev;
	uint64_t ino;
	const struct us_mount *m; /* FD's mount, when the fd map knows it */
};
/* us_base.layer: the real dir is known by DEV and INO alone */
#define US_BASE_ANY_LAYER (-2)

/* us_resolve of ABSPATH, which starts with base dir B: the walk starts at
 * B's node when the whole-path cache knows it (walkers: fts's fstatat and
 * openat on a dir fd), and stats through B's fd when it is open on the
 * real dir that holds the names. R also tells (at_ulen) when the real
 * object may be reached from B's fd: us_resolved_rel. */
int us_resolve_base(const struct us_config *cfg, const char *abspath,
		    const struct us_base *b, unsigned flags,
		    struct us_resolved *r);

/* NAME (one name, no slash) in the union dir the caller's dir fd B->fd
 * (B->m's, found by us_dirfd_base) is open on, answered from this
 * thread's memo of that very dir when it holds (walkmemo.c): the next
 * name of a walker's dir without its path made or looked at. 1 with R
 * filled as us_resolve_base would, 0 when a walk must answer, -1 with
 * errno. */
int us_resolve_fd_name(const struct us_config *cfg, const struct us_base *b,
		       const char *name, unsigned flags, struct us_resolved *r);

/* REAL (R's object's real path, or one made from it) relative to the
 * caller's real dir fd, into *FD and the returned pointer (inside REAL);
 * NULL when REAL is not below that dir. */
const char *us_resolved_rel(const struct us_resolved *r, const char *real,
			    int *fd);

/* Resolve PATH from the canonical absolute dir BASE (a dirfd's path)
 * honouring openat2's RESOLVE_* flags in RESOLVE (BENEATH, IN_ROOT,
 * NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV, CACHED) the way the kernel does on
 * a mount of the union: the union's target is a mount of its own. Every component
 * is looked at, outside the mounts too, so an R outside is the canonical
 * real path (a missing last name kept as given). As us_resolve, plus
 * EXDEV, ELOOP and EAGAIN for what the flags refuse; on an error
 * R->where tells whether the walk had been in a union (US_INSIDE) or
 * only ever outside (then the kernel's own answer may be the better). */
int us_resolve_at(const struct us_config *cfg, const char *base,
		  const char *path, unsigned flags, unsigned resolve,
		  struct us_resolved *r);

/* Does a lexical walk of ABSPATH ever stand inside a mount target? When it
 * does not, the path is the kernel's business and is passed on unchanged. */
int us_touches_union(const struct us_config *cfg, const char *abspath);

/* The mount whose target is PATH or an ancestor of PATH, or NULL. */
const struct us_mount *us_mount_of(const struct us_config *cfg,
				   const char *path);

/* The real path of union path UPATH in layer LAYER of M. */
int us_layer_path(const struct us_mount *m, int layer, const char *upath,
		  char *out, size_t outlen);

/* us_layer_path of union dir UPATH whose node has FLAGS (no record read
 * when it is US_NODE_STRAIGHT). */
int us_dir_layer_path(const struct us_mount *m, int layer, const char *upath,
		      unsigned flags, char *out, size_t outlen);

/* The real path of R's object (inside, err == 0) in its layer: as
 * us_layer_path, with no redirect record read when its dir is straight. */
int us_resolved_real(const struct us_resolved *r, char *out, size_t outlen);

/* The node of M's target root (the layers whose roots merge). */
void us_root_node(const struct us_mount *m, struct us_node *n);

/* Walk the canonical union dir path UPATH of M down from its root; VISIT
 * (if any) sees each dir below the root, in order, and may change the node
 * it is given (a copy-up). *LAST gets UPATH's node. 0, or -1 with errno
 * (ENOENT, ENOTDIR, or VISIT's). */
int us_walk_dirs(const struct us_mount *m, const char *upath,
		 int (*visit)(const char *path, struct us_node *dir, void *arg),
		 void *arg, struct us_node *last);

/* Look NAME up in the union dir UPATH (node DIR). 0, or an errno value. */
int us_lookup_child(const struct us_mount *m, const char *upath,
		    const struct us_node *dir, const char *name,
		    struct us_node *child);

/* Real path (in the real filesystem) → union path, when it lies in a layer
 * of some mount. Returns 1 and fills OUT/M, 0 when it is no layer's. */
int us_revmap(const struct us_config *cfg, const char *real, char *out,
	      size_t outlen, const struct us_mount **m);

/* The layer of M whose dir holds real path REAL, or -1. */
int us_layer_of(const struct us_mount *m, const char *real);

#endif
