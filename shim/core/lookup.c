/* lookup.c: path resolution in the union namespace (see lookup.h).
 *
 * The walk keeps CUR, the resolved prefix, always canonical (no symlinks,
 * no "." or ".."), so ".." is a lexical pop of CUR. Inside a mount it also
 * keeps the node of CUR and a stack of its ancestors' nodes, so a ".."
 * costs no system call. Outside every mount a component is lstat'ed only
 * while the rest of the path could still lead into a union.
 *
 * A scoped walk (us_resolve_at, for openat2's resolve flags) starts at a
 * dir, looks at every component also outside the mounts (lstat: symlinks,
 * mount crossings by st_dev) and applies the RESOLVE_* rules where the
 * kernel does: at "..", at a symlink, at an absolute jump, at a mount.
 * RESOLVE_CACHED refuses (EAGAIN) what overlayfs cannot do without
 * blocking: following a symlink of the union. */
#include <errno.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/lcache.h"
#include "unionshim/lookup.h"
#include "unionshim/metacopy.h"
#include "unionshim/path.h"
#include "unionshim/redirect.h"
#include "unionshim/pcache.h"
#include "unionshim/scratch.h"
#include "unionshim/statxconv.h"
#include "walk.h"

#define US_MAXLINKS 40

static inline us_layermask layers_below(us_layermask mask, int i)
{
	return i + 1 >= 64 ? 0 : mask >> (i + 1);
}

static inline int top_layer(us_layermask mask)
{
	return mask ? __builtin_ctzll(mask) : 0;
}

/* Bits 0 .. N-1. */
static inline us_layermask low_bits(int n)
{
	return n >= 64 ? ~(us_layermask)0 : ((us_layermask)1 << n) - 1;
}

/* LAYER's dir + REL: no redirect followed. */
static int layer_join(const struct us_layer *l, const char *rel, char *out,
		      size_t outlen)
{
	size_t rl = strlen(rel);

	if (l->len + rl + 1 > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, l->path, l->len);
	memcpy(out + l->len, rel, rl + 1);
	return 0;
}

/* A lower layer holds UPATH at its lower-side path (redirect.h), which
 * is UPATH itself when STRAIGHT (no record on the way: US_NODE_STRAIGHT). */
static int node_path(const struct us_mount *m, int layer, const char *upath,
		     bool straight, char *out, size_t outlen)
{
	bool own = layer > (m->has_upper ? 1 : 0) &&
		   (us_lower_redirects(m) & low_bits(layer));

	if (layer == 0 || ((straight || !us_redirects_maybe(m)) && !own))
		return layer_join(&m->layers[layer], upath + m->target_len, out,
				  outlen);
	US_SCRATCH_SCOPE;
	char *low = us_scratch_push(US_PATH_MAX);
	if (!low || us_layer_upath(m, layer, upath, low, US_PATH_MAX) < 0)
		return -1;
	return layer_join(&m->layers[layer], low + m->target_len, out, outlen);
}

int us_layer_path(const struct us_mount *m, int layer, const char *upath,
		  char *out, size_t outlen)
{
	return node_path(m, layer, upath, false, out, outlen);
}

int us_dir_layer_path(const struct us_mount *m, int layer, const char *upath,
		      unsigned flags, char *out, size_t outlen)
{
	return node_path(m, layer, upath, flags & US_NODE_STRAIGHT, out, outlen);
}

int us_resolved_real(const struct us_resolved *r, char *out, size_t outlen)
{
	const struct us_node *n = &r->node;
	bool straight = S_ISDIR(n->mode) ? n->flags & US_NODE_STRAIGHT
					 : r->parent_ok &&
						   (r->parent.flags & US_NODE_STRAIGHT);

	return node_path(r->m, n->layer, r->path, straight, out, outlen);
}

/* The redirect record of the upper dir UP (redirect.h) as a lower-side
 * union path of M into OUT: 1, 0 when it has none, -1 with errno. */
static int redirect_of(const struct us_mount *m, const char *up, char *out)
{
	if (!us_redirects_maybe(m))
		return 0;
	int got = us_redirect_read(up, out + m->target_len,
				   US_PATH_MAX - m->target_len);
	if (got == 1) {
		memcpy(out, m->target, m->target_len);
		if (strcmp(out + m->target_len, "/") == 0)
			out[m->target_len] = '\0';
	}
	return got;
}

/* The lower-side path of UPATH/NAME (no redirect of its own) into OUT;
 * UPATH's own when its node DIR is straight. */
static int lower_child(const struct us_mount *m, const char *upath,
		       const struct us_node *dir, const char *name, char *out)
{
	size_t ol = strlen(upath), nl = strlen(name);

	if (!(dir->flags & US_NODE_STRAIGHT)) {
		if (us_lower_upath(m, upath, out, US_PATH_MAX) < 0)
			return -1;
		ol = strlen(out);
	} else if (ol + 1 > US_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	} else {
		memcpy(out, upath, ol + 1);
	}
	if (ol + 1 + nl + 1 > US_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[ol] = '/';
	memcpy(out + ol + 1, name, nl + 1);
	return 0;
}

/* The real path of lower-side union path LOW in layer I of M into P, its
 * dir into DIR; the name's place in P is returned (NULL: too long). */
static const char *lower_real(const struct us_mount *m, int i,
			      const char *low, char *p, char *dir)
{
	if (layer_join(&m->layers[i], low + m->target_len, p, US_PATH_MAX) < 0)
		return NULL;
	size_t pl = strlen(p);
	memcpy(dir, p, pl + 1);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	return p + (slash - dir) + 1;
}

/* Does a lower above layer I (not the upper) hold records (redirect.h:
 * a stacked former upper)? Then layer I's path is its own. */
static bool marked_above(const struct us_mount *m, int i)
{
	return i > (m->has_upper ? 1 : 0) && (us_lower_redirects(m) & low_bits(i));
}

/* Has the dir REAL, found in lower I, a record that sends the layers of
 * MASK below it elsewhere? 1, 0, or -1 with errno. */
static int lower_redirected(const struct us_mount *m, int i, us_layermask mask,
			    const char *real)
{
	if (!(us_lower_redirects(m) >> i & 1) ||
	    !((mask | m->root_dirs) & ~low_bits(i + 1)))
		return 0;
	US_SCRATCH_SCOPE;
	char *val = us_scratch_push(US_PATH_MAX);
	if (!val)
		return -1;
	int saved = errno;
	int got = us_redirect_read(real, val, US_PATH_MAX);
	if (got < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		errno = saved;
		return 0;
	}
	return got;
}

/* An upper dir with a redirect record (redirect.h) merges with what the
 * lowers hold at the record's path, in every lower of the mount (an
 * absolute redirect: overlayfs searches from the root's layers too). */
/* lstat of a layer entry, made by statx: for the final name of a walk it
 * also answers the caller's own stat or statx (us_resolved.stx). */
static int layer_lstat(const struct us_walk_at *at, int layer, const char *p,
		       struct stat *st, struct statx *x)
{
	int fd = AT_FDCWD;

	/* the kernel walks one name from the dir fd, not the whole path */
	if (at && layer == at->layer && strncmp(p, at->real, at->len) == 0 &&
	    p[at->len] == '/') {
		fd = at->fd;
		p += at->len + 1;
	}
	if (SYS(statx)(fd, p, AT_SYMLINK_NOFOLLOW, US_LOOKUP_STATX_MASK, x) < 0)
		return -1;
	us_statx_stat(x, st);
	return 0;
}

/* WIN (if not NULL) gets the winning entry's statx. The layers above
 * FROM are known not to have NAME nor to white it out (a seed). AT (if
 * not NULL): a real dir fd to stat through. */
static int lookup_child(const struct us_mount *m, const char *upath,
			const struct us_node *dir, const char *name,
			struct us_node *child, struct statx *win, int from,
			const struct us_walk_at *at)
{
	US_SCRATCH_SCOPE;
	struct {
		char dirreal[US_PATH_MAX];
		char p[US_PATH_MAX];
		char above[US_PATH_MAX];
		char low[US_PATH_MAX]; /* UPATH/NAME as the lowers hold it */
	} *sb = us_scratch_push(sizeof *sb);
	char *lowi = NULL; /* the same in one lower below another lower's
			      records (us_layer_upath), when there are some */
	if (!sb)
		return ENOMEM;
	struct stat st;
	struct statx x;
	bool found = false, pending = false;
	const char *base = name;
	us_layermask mask = dir->dirs;
	unsigned upper = 0; /* US_NODE_UPPER_*, for a name not found */

	sb->low[0] = '\0';
	/* Whether a dir found in one layer is opaque matters only when a layer
	 * below has a dir of that name too: the test (a stat and an xattr
	 * list) waits for one. An upper-only dir costs no opacity test. */
	for (int i = from; i < m->nlayers; i++) {
		if (!(mask & ((us_layermask)1 << i)))
			continue;
		if (i == 0) {
			if (us_layer_path(m, 0, upath, sb->dirreal, sizeof sb->dirreal) < 0 ||
			    us_path_join(sb->p, sizeof sb->p, sb->dirreal, name) < 0)
				return ENAMETOOLONG;
		} else if (marked_above(m, i)) { /* this layer's own path */
			if (!lowi && !(lowi = us_scratch_push(US_PATH_MAX)))
				return ENOMEM;
			if (us_path_join(lowi, US_PATH_MAX, upath, name) < 0 ||
			    us_layer_upath(m, i, lowi, lowi, US_PATH_MAX) < 0)
				return errno;
			base = lower_real(m, i, lowi, sb->p, sb->dirreal);
			if (!base)
				return ENAMETOOLONG;
		} else {
			if (!sb->low[0] && lower_child(m, upath, dir, name, sb->low) < 0)
				return errno;
			base = lower_real(m, i, sb->low, sb->p, sb->dirreal);
			if (!base)
				return ENAMETOOLONG;
		}
		if (layer_lstat(at, i, sb->p, &st, &x) == 0) {
			if (us_stat_is_whiteout(&st))
				break;
			if (!found) {
				found = true;
				if (win)
					*win = x;
				child->layer = i;
				child->mode = st.st_mode;
				child->dirs = 0;
				child->dev = st.st_dev;
				child->ino = st.st_ino;
				child->nlink = st.st_nlink;
				child->flags = 0;
				if (i == 0 && us_metacopy_maybe(&st) &&
				    us_metacopy_is(sb->p, &st))
					child->dirs = us_metacopy_below(m, upath, dir, name);
				if (!S_ISDIR(st.st_mode))
					return 0;
				int rd = i == 0 && m->has_upper
						 ? redirect_of(m, sb->p, sb->low)
						 : lower_redirected(m, i, mask, sb->p);
				if (rd < 0)
					return errno;
				if (rd > 0) /* below: where the record says */
					mask = (mask & low_bits(i + 1)) |
					       (m->root_dirs & ~low_bits(i + 1));
				else if (dir->flags & US_NODE_STRAIGHT)
					child->flags = US_NODE_STRAIGHT;
			} else if (!S_ISDIR(st.st_mode) ||
				   (pending && us_layer_is_opaque(sb->above))) {
				break;
			}
			bool more = layers_below(mask, i) != 0;
			child->dirs |= (us_layermask)1 << i;
			pending = more;
			if (more)
				memcpy(sb->above, sb->p, strlen(sb->p) + 1);
		} else if (errno == ENOENT || errno == ENOTDIR) {
			bool below = layers_below(mask, i) != 0;
			if (i == 0 && errno == ENOENT)
				upper = US_NODE_UPPER_FREE;
			if (below && us_layer_has_whiteout(sb->dirreal, base))
				break;
			if (upper && below)
				upper |= US_NODE_UPPER_CLEAN;
		} else {
			return errno;
		}
	}
	if (found)
		return 0;
	child->flags = upper;
	return ENOENT;
}

/* The cache first (lcache.h); what the layers say is kept for next time.
 * *FRESH: the layers were asked, and WIN has the winner's statx. */
static int lookup_child_fresh(const struct us_mount *m, const char *upath,
			      const struct us_node *dir, const char *name,
			      struct us_node *child, struct statx *win,
			      int *fresh, const struct us_walk_at *at,
			      const uint64_t *phash)
{
	struct us_lc_miss miss;
	int err;

	*fresh = 0;
	child->flags = 0;
	if (us_is_reserved_name(name))
		return ENOENT;
	int got = us_lcache_get(m, upath, phash, dir, name, child, &err, &miss);
	if (got == 1)
		return err;
	err = lookup_child(m, upath, dir, name, child, win,
			   got == 2 ? child->layer : 0, at);
	us_lcache_put(&miss, err, child);
	*fresh = !err;
	return err;
}

int us_walk_child(const struct us_mount *m, const char *upath,
		  const struct us_node *dir, const char *name,
		  struct us_node *child, struct statx *win, int *fresh,
		  const struct us_walk_at *at, const uint64_t *phash)
{
	return lookup_child_fresh(m, upath, dir, name, child, win, fresh, at,
				  phash);
}

int us_lookup_child(const struct us_mount *m, const char *upath,
		    const struct us_node *dir, const char *name,
		    struct us_node *child)
{
	int fresh;

	return lookup_child_fresh(m, upath, dir, name, child, NULL, &fresh, NULL,
				  NULL);
}

const struct us_mount *us_mount_of(const struct us_config *cfg,
				   const char *path)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (us_path_under(path, m->target, m->target_len))
			return m;
	}
	return NULL;
}

static const struct us_mount *mount_exact(const struct us_config *cfg,
					  const char *path, size_t len)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (m->target_len == len && memcmp(m->target, path, len) == 0)
			return m;
	}
	return NULL;
}

/* Some target lies strictly below the canonical dir PATH ("" is "/"). */
static bool target_below(const struct us_config *cfg, const char *path,
			 size_t len)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (m->target_len > len &&
		    us_path_under(m->target, path, len))
			return true;
	}
	return false;
}

static bool has_dotdot(const char *s)
{
	for (const char *p = s; *p; p++)
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]) &&
		    (p == s || p[-1] == '/'))
			return true;
	return false;
}

/* No "." or ".." component and no "//" in absolute PATH: its lexical
 * walk's prefixes are its own. */
static bool plain_path(const char *path)
{
	if (strstr(path, "//"))
		return false;
	for (const char *p = path; (p = strstr(p, "/.")) != NULL; p += 2)
		if (p[2] == '/' || !p[2] ||
		    (p[2] == '.' && (p[3] == '/' || !p[3])))
			return false;
	return true;
}

int us_touches_union(const struct us_config *cfg, const char *abspath)
{
	/* below a target (its components come first, as they are): yes;
	 * else a plain path never stands in one */
	if (abspath[0] == '/' && us_mount_of(cfg, abspath))
		return 1;
	if (abspath[0] == '/' && plain_path(abspath))
		return 0;
	US_SCRATCH_SCOPE;
	struct {
		char cur[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return 1;
	size_t len = 0;

	sb->cur[0] = '\0';
	for (const char *p = abspath; *p;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t cl = (size_t)(e - p);
		if (cl == 0)
			break;
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			us_path_pop(sb->cur, &len);
		} else if (!(cl == 1 && p[0] == '.')) {
			if (len + 1 + cl + 1 > sizeof sb->cur)
				return 1; /* let the resolver report it */
			sb->cur[len++] = '/';
			memcpy(sb->cur + len, p, cl);
			len += cl;
			sb->cur[len] = '\0';
			if (us_mount_of(cfg, sb->cur))
				return 1;
		}
		p = e;
	}
	return 0;
}


static int append(struct walk *w, const char *name)
{
	size_t nl = strlen(name);

	if (w->len + 1 + nl + 1 > sizeof w->cur) {
		errno = ENAMETOOLONG;
		return -1;
	}
	w->cur[w->len++] = '/';
	memcpy(w->cur + w->len, name, nl + 1);
	w->len += nl;
	return 0;
}

/* CUR is cut back (".." or a symlink's name): the hash of its prefix
 * (lcache.h, us_lc_prefix) covers at most what is left. */
static void cur_cut(struct walk *w)
{
	if (w->hp.done > w->len)
		us_lcache_prefix_init(&w->hp);
}

static void cur_pop(struct walk *w)
{
	us_path_pop(w->cur, &w->len);
	cur_cut(w);
}

void us_root_node(const struct us_mount *m, struct us_node *n)
{
	n->dirs = m->root_dirs;
	n->layer = top_layer(m->root_dirs);
	n->mode = S_IFDIR | 0755;
	n->dev = 0;
	n->ino = 0;
	n->nlink = 0;
	n->flags = US_NODE_STRAIGHT; /* records are read below the root */
}

static void enter(struct walk *w, const struct us_mount *m)
{
	w->entered = true;
	w->m = m;
	w->depth = 0;
	us_root_node(m, &w->dir);
}

void us_walk_push(struct walk *w, const struct us_node *child)
{
	if (w->depth < US_DIRSTACK)
		w->stack[w->depth] = w->dir;
	w->depth++;
	w->dir = *child;
}

int us_walk_dirs(const struct us_mount *m, const char *upath,
		 int (*visit)(const char *path, struct us_node *dir, void *arg),
		 void *arg, struct us_node *last)
{
	US_SCRATCH_SCOPE;
	struct {
		char path[US_PATH_MAX];
		char name[NAME_MAX + 1];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	const char *rest = upath + m->target_len;
	size_t len = m->target_len;
	struct us_node dir;

	us_root_node(m, &dir);
	memcpy(sb->path, upath, len);
	sb->path[len] = '\0';
	while (*rest == '/') {
		const char *e = strchrnul(rest + 1, '/');
		size_t nl = (size_t)(e - rest - 1);
		struct us_node child;
		memcpy(sb->name, rest + 1, nl);
		sb->name[nl] = '\0';
		int err = us_lookup_child(m, sb->path, &dir, sb->name, &child);
		if (!err && !S_ISDIR(child.mode))
			err = ENOTDIR;
		if (err) {
			errno = err;
			return -1;
		}
		memcpy(sb->path + len, rest, nl + 1);
		len += nl + 1;
		sb->path[len] = '\0';
		if (visit && visit(sb->path, &child, arg) < 0)
			return -1;
		dir = child;
		rest = e;
	}
	*last = dir;
	return 0;
}

/* Find the node of the canonical union dir CUR again, from the root (when
 * the ancestor stack was too shallow to remember it). */
static int count_depth(const char *path, struct us_node *dir, void *arg)
{
	(void)path;
	(void)dir;
	(*(int *)arg)++;
	return 0;
}

static int relookup(struct walk *w)
{
	int depth = 0;

	if (us_walk_dirs(w->m, w->cur, count_depth, &depth, &w->dir) < 0)
		return -1;
	w->depth = depth;
	return 0;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static bool scoped(const struct walk *w)
{
	return w->res & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
}

/* NO_XDEV outside every mount: CUR is on the mount of the dir walked
 * from (same st_dev), or the walk crossed a mount: EXDEV. */
static int same_dev(struct walk *w)
{
	struct stat st;

	if (!(w->res & RESOLVE_NO_XDEV) || w->m)
		return 0;
	if (SYS(lstat)(w->len ? w->cur : "/", &st) < 0)
		return -1;
	if (st.st_dev != w->dev)
		return fail(EXDEV);
	return 0;
}

static int walk_up(struct walk *w)
{
	if (scoped(w) && w->len == w->root_len) /* ".." at the root */
		return w->res & RESOLVE_BENEATH ? fail(EXDEV) : 0;
	if (!w->m) {
		cur_pop(w);
		return same_dev(w);
	}
	if (w->len == w->m->target_len) { /* ".." at the target root */
		if (w->res & RESOLVE_NO_XDEV)
			return fail(EXDEV);
		w->m = NULL;
		cur_pop(w);
		return 0;
	}
	cur_pop(w);
	w->depth--;
	if (w->depth < US_DIRSTACK && w->depth >= w->known) {
		w->dir = w->stack[w->depth];
		return 0;
	}
	return relookup(w);
}

/* An absolute symlink: back to "/", or to the root under IN_ROOT (whose
 * ancestors' nodes are still on the stack: the walk never left it). */
static int jump_root(struct walk *w)
{
	if (w->res & RESOLVE_BENEATH)
		return fail(EXDEV);
	bool in_root = w->res & RESOLVE_IN_ROOT;
	if (w->res & RESOLVE_NO_XDEV) {
		const struct us_mount *to = in_root ? w->root_m : NULL;
		if (w->m != to || (!w->m && w->dev != w->root_dev))
			return fail(EXDEV);
	}
	if (in_root) {
		w->len = w->root_len;
		w->m = w->root_m;
		w->dir = w->root_dir;
		w->depth = w->root_depth;
	} else {
		w->len = 0;
		w->m = NULL;
	}
	w->cur[w->len] = '\0';
	cur_cut(w);
	return 0;
}

/* Replace the component just read (popped from CUR) by the symlink's
 * text in W->link: the rest of the walk becomes LINK AFTER. */
static int splice_link(struct walk *w, const char **p)
{
	size_t ll = strlen(w->link), al = strlen(*p);

	if (++w->links > US_MAXLINKS)
		return fail(ELOOP);
	if (ll + al + 1 > sizeof w->rest)
		return fail(ENAMETOOLONG);
	/* AFTER is "" or starts with '/': no separator of our own, or a
	 * link as last component would gain a trailing slash (ENOTDIR) */
	memmove(w->rest + ll, *p, al + 1);
	memcpy(w->rest, w->link, ll);
	*p = w->rest;
	return w->link[0] == '/' ? jump_root(w) : 0;
}

static int read_link(const char *real, char *buf, size_t len)
{
	ssize_t n = SYS(readlink)(real, buf, len - 1);

	if (n < 0)
		return -1;
	if ((size_t)n >= len - 1)
		return fail(ENAMETOOLONG);
	buf[n] = '\0';
	if (n == 0)
		return fail(ENOENT);
	return 0;
}

static int finish_outside(struct walk *w, const char *rest,
			  struct us_resolved *r)
{
	r->where = US_OUTSIDE;
	r->m = NULL;
	if (*rest) /* REST starts with '/': keep the caller's text as it is */
		return us_path_join(r->path, sizeof r->path,
				    w->len ? w->cur : "/", rest + 1);
	if (w->len == 0)
		strcpy(r->path, "/");
	else
		memcpy(r->path, w->cur, w->len + 1);
	return 0;
}

/* A symlink of procfs below /proc/PID (fd/N, cwd, exe, root, ns/...):
 * it names an object, not a path. */
static bool magic_link(const struct walk *w)
{
	int depth = 0;

	if (strncmp(w->cur, "/proc/", 6) != 0)
		return false;
	for (const char *c = w->cur; *c; c++)
		depth += *c == '/';
	return depth >= 3;
}

/* The component just appended outside every mount, in a full walk: look
 * at it (symlinks followed by the resolve rules, mounts crossed noticed).
 * 0 to go on, -1 on error. */
static int step_full(struct walk *w, bool follow, bool last, bool trail,
		     const char **p)
{
	struct stat st;

	if (SYS(lstat)(w->cur, &st) < 0) {
		if (errno != ENOENT || !last)
			return -1;
		/* a name to create: the kernel's, trailing slash and all */
		return trail ? append(w, "") : 0;
	}
	if (S_ISLNK(st.st_mode) && follow) {
		if (w->res & RESOLVE_NO_SYMLINKS)
			return fail(ELOOP);
		if (magic_link(w)) /* not followed unlocked, nor scoped */
			return fail(w->res & RESOLVE_CACHED	   ? EAGAIN
				    : w->res & RESOLVE_NO_MAGICLINKS ? ELOOP
								     : EXDEV);
		if (read_link(w->cur, w->link, sizeof w->link) < 0)
			return -1;
		cur_pop(w);
		return splice_link(w, p);
	}
	if (!S_ISDIR(st.st_mode) && (!last || trail))
		return fail(ENOTDIR);
	if ((w->res & RESOLVE_NO_XDEV) && S_ISDIR(st.st_mode)) {
		if (st.st_dev != w->dev)
			return fail(EXDEV);
	}
	return 0;
}

/* One component while outside every mount. Returns 0 to go on, 1 when the
 * rest is the kernel's business (R filled), -1 on error. */
static int step_outside(struct walk *w, const char *name, bool follow,
			bool last, bool trail, const char **p,
			struct us_resolved *r)
{
	const struct us_mount *mm;
	struct stat st;

	if (append(w, name) < 0)
		return -1;
	mm = mount_exact(w->cfg, w->cur, w->len);
	if (mm) {
		w->entered = true;
		if (w->res & RESOLVE_NO_XDEV)
			return fail(EXDEV); /* into the union's mount */
		enter(w, mm);
		return 0;
	}
	if (w->full)
		return step_full(w, follow, last, trail, p);
	/* An ancestor of a (canonical) target is a real dir, no symlink. */
	if (target_below(w->cfg, w->cur, w->len))
		return 0;
	if (!has_dotdot(*p)) {
		if (finish_outside(w, *p, r) < 0)
			return -1;
		return 1;
	}
	if (!follow || SYS(lstat)(w->cur, &st) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	if (read_link(w->cur, w->link, sizeof w->link) < 0)
		return -1;
	cur_pop(w);
	return splice_link(w, p);
}

/* A symlink CHILD named NAME in the union dir CUR: follow it. */
static int step_link(struct walk *w, const char *name,
		     const struct us_node *child, const char **p)
{
	if (w->res & RESOLVE_NO_SYMLINKS)
		return fail(ELOOP);
	if (w->res & RESOLVE_CACHED) /* overlayfs reads links unlocked: no */
		return fail(EAGAIN);
	if (append(w, name) < 0 ||
	    node_path(w->m, child->layer, w->cur,
		      w->dir.flags & US_NODE_STRAIGHT, w->real,
		      sizeof w->real) < 0 ||
	    read_link(w->real, w->link, sizeof w->link) < 0)
		return -1;
	cur_pop(w);
	return splice_link(w, p);
}

int us_walk_init(struct walk *w, const struct us_config *cfg,
		 const char *path, const char *tail)
{
	size_t pl = strlen(path), tl = strlen(tail);

	if (pl + tl >= sizeof w->rest)
		return fail(ENAMETOOLONG);
	memcpy(w->rest, path, pl);
	memcpy(w->rest + pl, tail, tl + 1);
	w->cfg = cfg;
	w->len = 0;
	w->cur[0] = '\0';
	us_lcache_prefix_init(&w->hp);
	w->m = NULL;
	w->links = 0;
	w->depth = 0;
	w->known = 0;
	w->full = false;
	w->entered = false;
	w->at_ok = false;
	w->res = 0;
	w->root_len = 0;
	w->root_m = NULL;
	w->root_depth = 0;
	w->dev = w->root_dev = 0;
	return 0;
}

int us_walk_run(struct walk *w, unsigned flags, struct us_resolved *r)
{
	const char *p = w->rest;
	bool final_child = false;

	r->err = 0;
	r->parent_ok = 0;
	r->stx_ok = 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		const char *after = e;
		while (*after == '/')
			after++;
		bool last = *after == '\0', trail = last && *e == '/';
		bool follow = !last || trail || !(flags & US_LOOKUP_NOFOLLOW);
		size_t cl = (size_t)(e - p);
		char name[NAME_MAX + 1];

		if (cl > NAME_MAX)
			return fail(ENAMETOOLONG);
		memcpy(name, p, cl);
		name[cl] = '\0';
		p = e;
		final_child = false;
		r->stx_ok = 0;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (walk_up(w) < 0)
				return -1;
			continue;
		}
		if (!w->m) {
			int rc = step_outside(w, name, follow, last, trail, &p, r);
			if (rc < 0)
				return -1;
			if (rc > 0)
				return 0;
			continue;
		}

		struct us_node child;
		int fresh;
		uint64_t phash = us_lcache_path_hash(&w->hp, w->cur, w->len);
		int err = lookup_child_fresh(w->m, w->cur, &w->dir, name, &child,
					     &r->stx, &fresh,
					     w->at_ok ? &w->at : NULL, &phash);
		if (err == ENOENT && last) {
			r->parent = w->dir;
			r->parent_ok = 1;
			r->node = (struct us_node){
				.flags = child.flags & (US_NODE_UPPER_FREE |
							US_NODE_UPPER_CLEAN)};
			if (append(w, name) < 0)
				return -1;
			r->err = ENOENT;
			r->where = US_INSIDE;
			r->m = w->m;
			memcpy(r->path, w->cur, w->len + 1);
			return 0;
		}
		if (err)
			return fail(err);
		if (S_ISLNK(child.mode) && follow) {
			if (step_link(w, name, &child, &p) < 0)
				return -1;
			continue;
		}
		if (!S_ISDIR(child.mode) && (!last || trail))
			return fail(ENOTDIR);
		r->parent = w->dir;
		if (append(w, name) < 0)
			return -1;
		if (last) {
			r->node = child;
			r->parent_ok = 1;
			r->stx_ok = fresh;
			final_child = true;
		} else {
			us_walk_push(w, &child);
		}
	}

	if (!w->m)
		return finish_outside(w, "", r);
	r->where = US_INSIDE;
	r->m = w->m;
	memcpy(r->path, w->cur, w->len + 1);
	if (!final_child) {
		r->node = w->dir;
		r->parent_ok = 0;
	}
	return 0;
}

/* The whole-path cache first (pcache.h), then the walk. */
int us_resolve(const struct us_config *cfg, const char *abspath,
	       unsigned flags, struct us_resolved *r)
{
	struct us_pc_miss miss;

	r->stx_ok = 0; /* a cached answer stat'ed nothing in this call */
	r->at_ulen = 0;
	if (us_pcache_get(cfg, abspath, flags, r, &miss, NULL))
		return 0;
	US_SCRATCH_SCOPE;
	struct walk *w = us_scratch_push(sizeof *w);

	if (!w || us_walk_init(w, cfg, abspath, "") < 0 ||
	    us_walk_run(w, flags, r) < 0)
		return -1;
	us_pcache_put(&miss, abspath, w->links, r);
	return 0;
}

/* The st_dev of PATH (for NO_XDEV), into *DEV. */
static int dev_of(const char *path, dev_t *dev)
{
	struct stat st;

	if (SYS(lstat)(path, &st) < 0)
		return -1;
	*dev = st.st_dev;
	return 0;
}

static int resolve_at(struct walk *w, const struct us_config *cfg,
		      const char *base, const char *path, unsigned flags,
		      unsigned resolve, struct us_resolved *r)
{
	bool in_root = resolve & RESOLVE_IN_ROOT;

	if (path[0] == '/' && (resolve & RESOLVE_BENEATH))
		return fail(EXDEV);
	/* where the walk starts: BASE's dir, or "/" for an absolute path */
	const char *start = path[0] == '/' && !in_root ? "/" : base;
	if (us_walk_init(w, cfg, start, "/.") < 0)
		return -1;
	w->full = true;
	if (us_walk_run(w, 0, r) < 0)
		return -1;
	w->root_len = w->len;
	w->root_m = w->m;
	w->root_dir = w->dir;
	w->root_depth = w->depth;
	w->res = resolve;
	if (resolve & RESOLVE_NO_XDEV) {
		if (!w->m && dev_of(w->len ? w->cur : "/", &w->dev) < 0)
			return -1;
		/* an absolute symlink jumps to the root (IN_ROOT) or to "/" */
		w->root_dev = w->dev;
		if (!in_root && dev_of("/", &w->root_dev) < 0)
			return -1;
	}
	size_t pl = strlen(path);
	if (pl >= sizeof w->rest)
		return fail(ENAMETOOLONG);
	memcpy(w->rest, path, pl + 1);
	return us_walk_run(w, flags, r);
}

int us_resolve_at(const struct us_config *cfg, const char *base,
		  const char *path, unsigned flags, unsigned resolve,
		  struct us_resolved *r)
{
	US_SCRATCH_SCOPE;
	struct walk *w = us_scratch_push(sizeof *w);

	r->at_ulen = 0;
	if (!w)
		return -1;
	int rc = resolve_at(w, cfg, base, path, flags, resolve, r);
	if (rc < 0)
		r->where = w->entered ? US_INSIDE : US_OUTSIDE;
	return rc;
}

int us_revmap(const struct us_config *cfg, const char *real, char *out,
	      size_t outlen, const struct us_mount **mp)
{
	const struct us_mount *best = NULL;
	size_t best_len = 0;

	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (m->work && us_path_under(real, m->work, strlen(m->work)))
			return 0;
		for (int i = 0; i < m->nlayers; i++) {
			const struct us_layer *l = &m->layers[i];
			if (l->len >= best_len &&
			    us_path_under(real, l->path, l->len)) {
				best = m;
				best_len = l->len;
			}
		}
	}
	if (!best)
		return 0;
	const char *rel = real + best_len;
	size_t rl = strlen(rel);
	if (best->target_len + rl + 1 > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, best->target, best->target_len);
	memcpy(out + best->target_len, rel, rl + 1);
	if (mp)
		*mp = best;
	return 1;
}

int us_layer_of(const struct us_mount *m, const char *real)
{
	int best = -1;
	size_t best_len = 0;

	for (int i = 0; i < m->nlayers; i++) {
		const struct us_layer *l = &m->layers[i];
		if (l->len >= best_len && us_path_under(real, l->path, l->len)) {
			best = i;
			best_len = l->len;
		}
	}
	return best;
}
