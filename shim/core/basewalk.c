/* basewalk.c: walks of a path relative to a dir fd that start at that
 * dir (us_resolve_base, us_resolved_rel in lookup.h).
 *
 * A tree walker (fts: find, du, ls -R, tar, grep -r, rm -r) asks for each
 * name through its parent's dir fd: fstatat(dirfd, name), openat(dirfd,
 * name); programs ask for paths relative to their cwd (make, git, a
 * compiler). The base dir's node is kept in the whole-path cache under a
 * key flag of its own (US_LOOKUP_BASEDIR), valid while no dir above it
 * changes (pcache.h), so "base/name" costs one cache hit for the base and
 * one lookup of the name (lcache.h), not one lookup per component of the
 * whole path. The whole path is neither asked of that cache nor kept in
 * it: a path met this way is mostly met once (fts, git status), and a
 * second time costs the base's hit and a per-name hit or two. The next
 * name of the dir a thread walked in last skips even the base's hit: its
 * memo (walkmemo.c) holds while those cache entries do; a name in the
 * dir fd's own dir (fts) is answered from that memo before any path is
 * made (us_resolve_fd_name).
 *
 * When the caller's real dir fd is open on the real dir of the base's top
 * layer (the node's st_dev and st_ino; for a lower layer, no redirect
 * record on the base's path, so the real dir is the layer's path plus the
 * union path), a name found in that layer is stat'ed relative to the fd,
 * and the real call may be made so too: the kernel walks one name, not
 * the layer's whole path. The fd is the caller's own, for this one call. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "sys.h"
#include "unionshim/pcache.h"
#include "unionshim/scratch.h"
#include "walk.h"

/* A mount root's node carries no st_dev and st_ino (us_root_node): those
 * of its top layer's dir, stat'ed once per process and mount. A slot is
 * claimed (1) by compare-and-swap, filled, then ready (2); a reader uses
 * only a ready one. */
static struct {
	const struct us_mount *m;
	int state, layer;
	uint64_t dev, ino;
} roots[US_MAX_MOUNTS];

static bool root_ident(const struct us_mount *m, int layer, uint64_t *dev,
		       uint64_t *ino)
{
	for (int i = 0; i < US_MAX_MOUNTS; i++) {
		int s = __atomic_load_n(&roots[i].state, __ATOMIC_ACQUIRE);
		if (s == 2 && roots[i].m == m && roots[i].layer == layer) {
			*dev = roots[i].dev;
			*ino = roots[i].ino;
			return true;
		}
		if (s != 0)
			continue;
		struct stat st;
		int saved = errno;
		bool ok = SYS(stat)(m->layers[layer].path, &st) == 0;
		errno = saved;
		if (!ok)
			return false;
		if (__atomic_compare_exchange_n(&roots[i].state, &s, 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			roots[i].m = m;
			roots[i].layer = layer;
			roots[i].dev = (uint64_t)st.st_dev;
			roots[i].ino = (uint64_t)st.st_ino;
			__atomic_store_n(&roots[i].state, 2, __ATOMIC_RELEASE);
		}
		*dev = (uint64_t)st.st_dev;
		*ino = (uint64_t)st.st_ino;
		return true;
	}
	return false;
}

/* Is B's real dir the real dir of base node N's top layer? */
static bool at_top(const struct us_mount *m, const struct us_base *b,
		   const struct us_node *n)
{
	uint64_t dev = (uint64_t)n->dev, ino = n->ino;

	if (!(b->layer == n->layer || b->layer == US_BASE_ANY_LAYER) ||
	    n->layer < 0 || n->layer >= m->nlayers || !S_ISDIR(n->mode) ||
	    !(n->layer == 0 || (n->flags & US_NODE_STRAIGHT)))
		return false;
	if (!dev && !ino && !root_ident(m, n->layer, &dev, &ino))
		return false; /* (a root's node) */
	return dev == (uint64_t)b->dev && ino == b->ino;
}

/* W positioned at the base dir BASE (BL bytes), whose cached answer RB
 * the whole-path cache gave; REST is left to walk. */
static int start_cached(struct walk *w, const struct us_config *cfg,
			const char *base, size_t bl, const char *rest,
			const struct us_resolved *rb)
{
	if (us_walk_init(w, cfg, rest, "") < 0)
		return -1;
	memcpy(w->cur, base, bl + 1);
	w->len = bl;
	w->m = rb->m;
	w->entered = true;
	w->dir = rb->node;
	for (size_t i = rb->m->target_len; i < bl; i++)
		w->depth += w->cur[i] == '/';
	w->known = w->depth; /* the ancestors' nodes were not seen */
	return 0;
}

/* W positioned at BASE by a walk of it (its answer kept for next time). */
static int start_walked(struct walk *w, const struct us_config *cfg,
			const char *base, const char *rest,
			struct us_pc_miss *miss, struct us_resolved *r)
{
	/* "/." ends the walk inside BASE, with BASE's node as W's dir */
	if (us_walk_init(w, cfg, base, "/.") < 0 || us_walk_run(w, 0, r) < 0 ||
	    r->where != US_INSIDE || r->err)
		return -1;
	us_pcache_put(miss, base, w->links, r);
	size_t rl = strlen(rest);
	if (rl >= sizeof w->rest) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(w->rest, rest, rl + 1);
	return 0;
}

/* W may stat through B's fd, open on the real dir of the base BASE whose
 * node is BN (TOP: at_top said so): a layer path below that dir is then
 * the same object as its rest relative to the fd. */
static bool make_at(const struct us_mount *m, const struct us_base *b,
		    const struct us_node *bn, bool top, const char *base,
		    struct us_walk_at *at)
{
	if (!m || bn->layer < 0 || !top ||
	    us_dir_layer_path(m, bn->layer, base, bn->flags, at->real,
			      sizeof at->real) < 0)
		return false;
	at->fd = b->fd;
	at->layer = bn->layer;
	at->len = strlen(at->real);
	return true;
}

/* R, when its path is below BASE (B->len bytes), may be reached from B's
 * fd when the base node BN is B's real dir (TOP: at_top said so). */
static void tell_at(struct us_resolved *r, const struct us_base *b,
		    const struct us_node *bn, bool top, const char *base)
{
	if (r->where == US_INSIDE && top &&
	    strncmp(r->path, base, b->len) == 0 && r->path[b->len] == '/') {
		r->at_ulen = b->len;
		r->at_fd = b->fd;
		r->at_layer = bn->layer;
	}
}

/* PATH's entry of a dir in the whole-path cache (1 with RB and REF),
 * else 0 with MISS. */
static int dir_cached(const struct us_config *cfg, const char *path,
		      struct us_resolved *rb, struct us_pc_miss *miss,
		      struct us_pc_ref *ref)
{
	return us_pcache_get(cfg, path, US_LOOKUP_BASEDIR, rb, miss, ref) &&
	       rb->where == US_INSIDE && !rb->err && S_ISDIR(rb->node.mode);
}

/* DIR's (DL bytes) key hash in the per-name cache. */
static uint64_t dir_hash(const char *dir, size_t dl)
{
	struct us_lc_prefix hp;

	us_lcache_prefix_init(&hp);
	return us_lcache_path_hash(&hp, dir, dl);
}

/* The plain name NAME in the dir DIR (DL bytes, node DN, key hash PHASH)
 * of M: its lookup alone, the walk's last step without a walk (lookup.c
 * us_walk_run does the same). 1 with R filled, 0 when a walk must do it
 * (a symlink to follow, a path too long), -1 with errno. */
static int one_name(const struct us_mount *m, const char *dir, size_t dl,
		    const struct us_node *dn, uint64_t phash, const char *name,
		    unsigned flags, const struct us_walk_at *at,
		    struct us_resolved *r)
{
	size_t nl = strlen(name);
	struct us_node child;
	int fresh;

	if (nl > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (dl + 1 + nl + 1 > sizeof r->path)
		return 0;
	int err = us_walk_child(m, dir, dn, name, &child, &r->stx, &fresh, at,
				&phash);
	if (err && err != ENOENT) {
		errno = err;
		return -1;
	}
	if (!err && S_ISLNK(child.mode) && !(flags & US_LOOKUP_NOFOLLOW))
		return 0;
	r->where = US_INSIDE;
	r->m = m;
	r->err = err;
	r->parent = *dn;
	r->parent_ok = 1;
	r->stx_ok = err ? 0 : fresh;
	if (!err)
		r->node = child;
	else /* what the lookup learnt of the upper (lookup.h) */
		r->node = (struct us_node){
			.flags = child.flags & (US_NODE_UPPER_FREE |
						US_NODE_UPPER_CLEAN)};
	memcpy(r->path, dir, dl);
	r->path[dl] = '/';
	memcpy(r->path + dl + 1, name, nl + 1);
	return 1;
}

/* Is NAME one name, not "." or ".."? */
static bool plain_name(const char *name)
{
	return *name && !strchr(name, '/') &&
	       !(name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])));
}

/* Does REST hold a "/./" or a "//"? (One pass: this runs per call.) */
static bool needs_tidy(const char *rest)
{
	for (const char *p = strchr(rest, '/'); p; p = strchr(p + 1, '/'))
		if (p[1] == '/' || (p[1] == '.' && p[2] == '/'))
			return true;
	return false;
}

/* ABSPATH with the empty and "." components of its rest (after BL bytes)
 * left out, into OUT (LEN bytes): "./sub/name" (ls -R, a compiler's
 * "./x.h") walks as "sub/name". A last "." (it asks for the dir itself)
 * and a trailing slash stay. ABSPATH itself when there is nothing to
 * leave out or no room. */
static const char *tidy(const char *abspath, size_t bl, char *out, size_t len)
{
	const char *rest = abspath + bl;
	size_t n = bl;

	if (!needs_tidy(rest))
		return abspath;
	if (bl + strlen(rest) + 1 > len)
		return abspath;
	memcpy(out, abspath, bl);
	for (const char *p = rest; *p;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t cl = (size_t)(e - p);
		bool last = !*e || !e[strspn(e, "/")];
		if (cl == 0) { /* trailing slashes */
			out[n++] = '/';
			break;
		}
		if (!(cl == 1 && *p == '.' && !last)) {
			out[n++] = '/';
			memcpy(out + n, p, cl);
			n += cl;
		}
		if (last && *e) { /* "name/": the slash says a dir */
			out[n++] = '/';
			break;
		}
		p = e;
	}
	out[n] = '\0';
	return out;
}

/* Do the first BL bytes of PATH name a dir at or below a mount's target? */
static bool base_in_union(const struct us_config *cfg, const char *path,
			  size_t bl)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (bl >= m->target_len &&
		    memcmp(path, m->target, m->target_len) == 0 &&
		    (bl == m->target_len || path[m->target_len] == '/'))
			return true;
	}
	return false;
}

/* Where a walk of "BASE/REST" starts: the dir of REST's last name when
 * the way there is plain names (no ".", "..", doubled slash), else BASE:
 * the length of that dir's path in ABSPATH. */
static size_t start_len(const char *abspath, size_t bl)
{
	const char *rest = abspath + bl, *last = strrchr(rest, '/');

	if (last == rest || !last[1])
		return bl;
	for (const char *p = rest; p < last;) {
		const char *e = p + 1;
		while (*e != '/')
			e++;
		size_t cl = (size_t)(e - p - 1);
		if (cl == 0 || (p[1] == '.' && (cl == 1 || (cl == 2 && p[2] == '.'))))
			return bl;
		p = e;
	}
	return (size_t)(last - abspath);
}

/* W walks on from its dir to DIR (DL bytes of ABSPATH, whose start it is
 * at), keeps DIR's answer (MISS), and has ABSPATH's rest left. */
static int walk_down(struct walk *w, const char *abspath, size_t from,
		     const char *dir, size_t dl, struct us_pc_miss *miss,
		     struct us_resolved *r)
{
	size_t rl = strlen(abspath + dl);

	if (dl - from + 3 > sizeof w->rest || rl >= sizeof w->rest) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(w->rest, abspath + from, dl - from);
	memcpy(w->rest + dl - from, "/.", 3);
	if (us_walk_run(w, 0, r) < 0 || r->where != US_INSIDE || r->err)
		return -1;
	us_pcache_put(miss, dir, w->links, r);
	memcpy(w->rest, abspath + dl, rl + 1);
	return 0;
}

/* The last name of ABSPATH (a plain name after its dir's DL bytes, which
 * DIR gets) from this thread's memo of that dir (walkmemo.c): 1 with R
 * filled, 0 when the memo does not hold or a walk must do it, -1 with
 * errno. */
static int from_memo(const struct us_config *cfg, const char *abspath,
		     size_t dl, const struct us_base *b, unsigned flags,
		     char *dir, struct us_walk_at *at, struct us_resolved *r)
{
	struct us_walk_memo mo;

	if (!us_walk_memo_get(cfg, abspath, dl, b, &mo, at))
		return 0;
	memcpy(dir, abspath, dl);
	dir[dl] = '\0';
	int got = one_name(mo.m, dir, dl, &mo.dir, mo.phash, abspath + dl + 1,
			   flags, mo.at_ok ? at : NULL, r);
	if (got > 0)
		tell_at(r, b, &mo.base, mo.top, abspath);
	return got;
}

int us_resolve_base(const struct us_config *cfg, const char *abspath,
		    const struct us_base *b, unsigned flags,
		    struct us_resolved *r)
{
	const char *rest = abspath + b->len;

	/* a name (or more) below a base in a union; else the plain walk */
	if (b->len == 0 || rest[0] != '/' || rest[1] == '/' || !rest[1] ||
	    !base_in_union(cfg, abspath, b->len))
		return us_resolve(cfg, abspath, flags, r);
	US_SCRATCH_SCOPE;
	struct {
		struct walk w;
		struct us_resolved rb, rd;
		struct us_walk_at at;
		char tidy[US_PATH_MAX];
		char base[US_PATH_MAX];
		char dir[US_PATH_MAX];
		struct us_pc_miss bmiss, dmiss;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb || b->len >= sizeof sb->base)
		return us_resolve(cfg, abspath, flags, r);
	struct walk *w = &sb->w;
	abspath = tidy(abspath, b->len, sb->tidy, sizeof sb->tidy);
	rest = abspath + b->len;
	size_t dl = start_len(abspath, b->len);
	struct us_node bn = {.layer = -1};
	int started = -1;
	bool plain = plain_name(abspath + dl + 1);

	r->stx_ok = 0;
	r->at_ulen = 0;
	if (plain) { /* the next name of a dir this thread walked in last */
		int got = from_memo(cfg, abspath, dl, b, flags, sb->dir,
				    &sb->at, r);
		if (got != 0)
			return got < 0 ? -1 : 0;
		r->at_ulen = 0;
	}
	memcpy(sb->base, abspath, b->len);
	sb->base[b->len] = '\0';
	memcpy(sb->dir, abspath, dl);
	sb->dir[dl] = '\0';
	/* the last name's dir, as another call below the base left it, and
	 * the base (for the real dir the caller's fd is open on) */
	struct us_walk_memo mo = {.dref.entry = NULL, .bref.entry = NULL};
	bool have_dir = dl > b->len &&
			dir_cached(cfg, sb->dir, &sb->rd, &sb->dmiss, &mo.dref);
	bool have_base = (!have_dir || b->layer != -1) &&
			 dir_cached(cfg, sb->base, &sb->rb, &sb->bmiss, &mo.bref);
	const struct us_resolved *rd = dl > b->len ? &sb->rd : &sb->rb;
	if (have_base)
		bn = sb->rb.node;
	if ((have_dir || (dl == b->len && have_base)) && plain) {
		mo.m = rd->m;
		mo.dir = rd->node;
		mo.base = bn;
		mo.phash = dir_hash(sb->dir, dl);
		mo.top = have_base && at_top(rd->m, b, &bn);
		mo.at_ok = make_at(rd->m, b, &bn, mo.top, sb->base, &sb->at);
		if (dl == b->len)
			mo.dref = mo.bref;
		int got = one_name(rd->m, sb->dir, dl, &rd->node, mo.phash,
				   abspath + dl + 1, flags,
				   mo.at_ok ? &sb->at : NULL, r);
		if (got < 0)
			return -1;
		if (got > 0) {
			tell_at(r, b, &bn, mo.top, sb->base);
			if (have_base || b->layer == -1) /* all it could know */
				us_walk_memo_put(cfg, sb->dir, dl, b, &mo, &sb->at);
			return 0;
		}
	}
	if (have_dir) {
		started = start_cached(w, cfg, sb->dir, dl, abspath + dl, &sb->rd);
	} else { /* the base (cached or walked), then down to the dir */
		if (have_base)
			started = start_cached(w, cfg, sb->base, b->len, rest, &sb->rb);
		else
			started = start_walked(w, cfg, sb->base, rest, &sb->bmiss, r);
		if (started == 0 && w->m)
			bn = w->dir;
		if (started == 0 && w->m && dl > b->len)
			started = walk_down(w, abspath, b->len, sb->dir, dl,
					    &sb->dmiss, r);
	}
	if (started < 0 || !w->m) /* the plain walk, with its own errors */
		return us_resolve(cfg, abspath, flags, r);
	bool top = bn.layer >= 0 && at_top(w->m, b, &bn);
	w->at_ok = make_at(w->m, b, &bn, top, sb->base, &w->at);
	if (us_walk_run(w, flags, r) < 0)
		return -1;
	r->at_ulen = 0;
	if (!w->links && bn.layer >= 0)
		tell_at(r, b, &bn, top, sb->base);
	return 0;
}

int us_resolve_fd_name(const struct us_config *cfg, const struct us_base *b,
		       const char *name, unsigned flags, struct us_resolved *r)
{
	if (b->layer < 0 || !plain_name(name))
		return 0;
	US_SCRATCH_SCOPE;
	struct {
		struct us_walk_at at;
		char dir[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct us_walk_memo mo;
	struct us_base base = *b;

	if (!sb || !us_walk_memo_of_base(cfg, b, sb->dir, &base.len, &mo, &sb->at))
		return 0;
	r->stx_ok = 0;
	r->at_ulen = 0;
	int got = one_name(mo.m, sb->dir, base.len, &mo.dir, mo.phash, name,
			   flags, mo.at_ok ? &sb->at : NULL, r);
	if (got > 0)
		tell_at(r, &base, &mo.base, mo.top, sb->dir);
	return got;
}

const char *us_resolved_rel(const struct us_resolved *r, const char *real,
			    int *fd)
{
	if (!r->at_ulen || r->where != US_INSIDE)
		return NULL;
	const struct us_layer *l = &r->m->layers[r->at_layer];
	size_t tl = r->m->target_len, ul = r->at_ulen - tl;

	if (strncmp(real, l->path, l->len) != 0 ||
	    strncmp(real + l->len, r->path + tl, ul) != 0 ||
	    real[l->len + ul] != '/')
		return NULL;
	*fd = r->at_fd;
	return real + l->len + ul + 1;
}
