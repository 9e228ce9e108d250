/* lookup.c: path resolution in the union namespace (see lookup.h).
 *
 * The walk keeps CUR, the resolved prefix, always canonical (no symlinks,
 * no "." or ".."), so ".." is a lexical pop of CUR. Inside a mount it also
 * keeps the node of CUR and a stack of its ancestors' nodes, so a ".."
 * costs no system call. Outside every mount a component is lstat'ed only
 * while the rest of the path could still lead into a union. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/lookup.h"
#include "unionshim/path.h"

#define US_MAXLINKS 40
#define US_DIRSTACK 64

static inline us_layermask layers_below(us_layermask mask, int i)
{
	return i + 1 >= 64 ? 0 : mask >> (i + 1);
}

static inline int top_layer(us_layermask mask)
{
	return mask ? __builtin_ctzll(mask) : 0;
}

int us_layer_path(const struct us_mount *m, int layer, const char *upath,
		  char *out, size_t outlen)
{
	const struct us_layer *l = &m->layers[layer];
	const char *rel = upath + m->target_len; /* "" or "/..." */
	size_t rl = strlen(rel);

	if (l->len + rl + 1 > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, l->path, l->len);
	memcpy(out + l->len, rel, rl + 1);
	return 0;
}

int us_lookup_child(const struct us_mount *m, const char *upath,
		    const struct us_node *dir, const char *name,
		    struct us_node *child)
{
	char dirreal[PATH_MAX], p[PATH_MAX], above[PATH_MAX];
	struct stat st;
	bool found = false, pending = false;

	if (us_is_reserved_name(name))
		return ENOENT;
	/* Whether a dir found in one layer is opaque matters only when a layer
	 * below has a dir of that name too: the test (a stat and an xattr
	 * list) waits for one. An upper-only dir costs no opacity test. */
	for (int i = 0; i < m->nlayers; i++) {
		if (!(dir->dirs & ((us_layermask)1 << i)))
			continue;
		bool more = layers_below(dir->dirs, i) != 0;
		if (us_layer_path(m, i, upath, dirreal, sizeof dirreal) < 0 ||
		    us_path_join(p, sizeof p, dirreal, name) < 0)
			return ENAMETOOLONG;
		if (SYS(lstat)(p, &st) == 0) {
			if (us_stat_is_whiteout(&st))
				break;
			if (!found) {
				found = true;
				child->layer = i;
				child->mode = st.st_mode;
				child->dirs = 0;
				child->dev = st.st_dev;
				child->ino = st.st_ino;
				child->nlink = st.st_nlink;
				if (!S_ISDIR(st.st_mode))
					return 0;
			} else if (!S_ISDIR(st.st_mode) ||
				   (pending && us_layer_is_opaque(above))) {
				break;
			}
			child->dirs |= (us_layermask)1 << i;
			pending = more;
			if (more)
				memcpy(above, p, strlen(p) + 1);
		} else if (errno == ENOENT || errno == ENOTDIR) {
			if (more && us_layer_has_whiteout(dirreal, name))
				break;
		} else {
			return errno;
		}
	}
	return found ? 0 : ENOENT;
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

int us_touches_union(const struct us_config *cfg, const char *abspath)
{
	char cur[PATH_MAX];
	size_t len = 0;

	cur[0] = '\0';
	for (const char *p = abspath; *p;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t cl = (size_t)(e - p);
		if (cl == 0)
			break;
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			us_path_pop(cur, &len);
		} else if (!(cl == 1 && p[0] == '.')) {
			if (len + 1 + cl + 1 > sizeof cur)
				return 1; /* let the resolver report it */
			cur[len++] = '/';
			memcpy(cur + len, p, cl);
			len += cl;
			cur[len] = '\0';
			if (us_mount_of(cfg, cur))
				return 1;
		}
		p = e;
	}
	return 0;
}

struct walk {
	const struct us_config *cfg;
	char cur[PATH_MAX];
	size_t len;
	const struct us_mount *m; /* the mount CUR is in, or NULL */
	struct us_node dir;       /* CUR's node, when inside */
	struct us_node stack[US_DIRSTACK];
	int depth; /* components of CUR below the target */
	int links;
};

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

void us_root_node(const struct us_mount *m, struct us_node *n)
{
	n->dirs = m->root_dirs;
	n->layer = top_layer(m->root_dirs);
	n->mode = S_IFDIR | 0755;
	n->dev = 0;
	n->ino = 0;
	n->nlink = 0;
}

static void enter(struct walk *w, const struct us_mount *m)
{
	w->m = m;
	w->depth = 0;
	us_root_node(m, &w->dir);
}

static void push(struct walk *w, const struct us_node *child)
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
	char path[PATH_MAX], name[NAME_MAX + 1];
	const char *rest = upath + m->target_len;
	size_t len = m->target_len;
	struct us_node dir;

	us_root_node(m, &dir);
	memcpy(path, upath, len);
	path[len] = '\0';
	while (*rest == '/') {
		const char *e = strchrnul(rest + 1, '/');
		size_t nl = (size_t)(e - rest - 1);
		struct us_node child;
		memcpy(name, rest + 1, nl);
		name[nl] = '\0';
		int err = us_lookup_child(m, path, &dir, name, &child);
		if (!err && !S_ISDIR(child.mode))
			err = ENOTDIR;
		if (err) {
			errno = err;
			return -1;
		}
		memcpy(path + len, rest, nl + 1);
		len += nl + 1;
		path[len] = '\0';
		if (visit && visit(path, &child, arg) < 0)
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

static int walk_up(struct walk *w)
{
	if (!w->m) {
		us_path_pop(w->cur, &w->len);
		return 0;
	}
	if (w->len == w->m->target_len) { /* ".." at the target root */
		w->m = NULL;
		us_path_pop(w->cur, &w->len);
		return 0;
	}
	us_path_pop(w->cur, &w->len);
	w->depth--;
	if (w->depth < US_DIRSTACK) {
		w->dir = w->stack[w->depth];
		return 0;
	}
	return relookup(w);
}

/* Replace the component just read by the symlink's text LINK: the rest of
 * the walk becomes LINK AFTER. */
static int splice_link(struct walk *w, const char *link, char *rest,
		  const char **p)
{
	char tmp[PATH_MAX];
	size_t ll = strlen(link), al = strlen(*p);

	if (++w->links > US_MAXLINKS) {
		errno = ELOOP;
		return -1;
	}
	if (ll + al + 1 > sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* AFTER is "" or starts with '/': no separator of our own, or a
	 * link as last component would gain a trailing slash (ENOTDIR) */
	memcpy(tmp, link, ll);
	memcpy(tmp + ll, *p, al + 1);
	memcpy(rest, tmp, ll + al + 1);
	*p = rest;
	if (link[0] == '/') {
		w->m = NULL;
		w->len = 0;
		w->cur[0] = '\0';
	}
	return 0;
}

static int read_link(const char *real, char *buf, size_t len)
{
	ssize_t n = SYS(readlink)(real, buf, len - 1);

	if (n < 0)
		return -1;
	if ((size_t)n >= len - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
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

/* One component while outside every mount. Returns 0 to go on, 1 when the
 * rest is the kernel's business (R filled), -1 on error. */
static int step_outside(struct walk *w, const char *name, bool follow,
			char *rest, const char **p, struct us_resolved *r)
{
	const struct us_mount *mm;
	struct stat st;
	char link[PATH_MAX];

	if (append(w, name) < 0)
		return -1;
	mm = mount_exact(w->cfg, w->cur, w->len);
	if (mm) {
		enter(w, mm);
		return 0;
	}
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
	if (read_link(w->cur, link, sizeof link) < 0)
		return -1;
	us_path_pop(w->cur, &w->len);
	return splice_link(w, link, rest, p);
}

int us_resolve(const struct us_config *cfg, const char *abspath,
	       unsigned flags, struct us_resolved *r)
{
	struct walk w;
	char rest[PATH_MAX], link[PATH_MAX], real[PATH_MAX];
	const char *p = rest;
	bool final_child = false;
	size_t al = strlen(abspath);

	if (al >= sizeof rest) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, abspath, al + 1);
	w.cfg = cfg;
	w.len = 0;
	w.cur[0] = '\0';
	w.m = NULL;
	w.links = 0;
	w.depth = 0;
	r->err = 0;
	r->parent_ok = 0;

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

		if (cl > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, cl);
		name[cl] = '\0';
		p = e;
		final_child = false;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (walk_up(&w) < 0)
				return -1;
			continue;
		}
		if (!w.m) {
			int rc = step_outside(&w, name, follow, rest, &p, r);
			if (rc < 0)
				return -1;
			if (rc > 0)
				return 0;
			continue;
		}

		struct us_node child;
		int err = us_lookup_child(w.m, w.cur, &w.dir, name, &child);
		if (err == ENOENT && last) {
			r->parent = w.dir;
			r->parent_ok = 1;
			if (append(&w, name) < 0)
				return -1;
			r->err = ENOENT;
			r->where = US_INSIDE;
			r->m = w.m;
			memcpy(r->path, w.cur, w.len + 1);
			return 0;
		}
		if (err) {
			errno = err;
			return -1;
		}
		if (S_ISLNK(child.mode) && follow) {
			if (append(&w, name) < 0 ||
			    us_layer_path(w.m, child.layer, w.cur, real,
					  sizeof real) < 0 ||
			    read_link(real, link, sizeof link) < 0)
				return -1;
			us_path_pop(w.cur, &w.len);
			if (splice_link(&w, link, rest, &p) < 0)
				return -1;
			continue;
		}
		if (!S_ISDIR(child.mode) && (!last || trail)) {
			errno = ENOTDIR;
			return -1;
		}
		r->parent = w.dir;
		if (append(&w, name) < 0)
			return -1;
		if (last) {
			r->node = child;
			r->parent_ok = 1;
			final_child = true;
		} else {
			push(&w, &child);
		}
	}

	if (!w.m)
		return finish_outside(&w, "", r);
	r->where = US_INSIDE;
	r->m = w.m;
	memcpy(r->path, w.cur, w.len + 1);
	if (!final_child) {
		r->node = w.dir;
		r->parent_ok = 0;
	}
	return 0;
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
