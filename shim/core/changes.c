/* changes.c: the change model of an upper layer (see changes.h).
 *
 * One walk of the upper layer, each dir side by side with the merged
 * lowers at its path (us_dir_merge and us_lookup_child on a mount made of
 * the lowers alone, so the lowers are read exactly as the shim reads
 * them). Where the shim's hard-link index has entries, lower-only dirs
 * are walked too: a lower name whose inode has an entry shows the entry.
 * Frames stay small (the core is linked into the preload library): paths
 * live in three PATH_MAX heap buffers of the walk. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kdirent.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/changes.h"
#include "unionshim/dirmerge.h"
#include "unionshim/identity.h"
#include "unionshim/metacopy.h"
#include "unionshim/objcmp.h"
#include "unionshim/path.h"
#include "unionshim/redirect.h"

#define INDEX_DIR "#index"
#define OVL_INDEX_DIR "index"
/* overlayfs names an index entry by its origin's file handle in hex:
 * version, magic, length, flags, type (a byte each), the filesystem's
 * uuid (16), then the handle's bytes */
#define OVL_TYPE_AT 8
#define OVL_FID_AT 42

void us_layerset_init(struct us_layerset *ls, const char *upper,
		      const char *work, const char *const *lowers, int n)
{
	memset(ls, 0, sizeof *ls);
	ls->m.target = ls->below.target = (char *)"";
	ls->m.has_upper = 1;
	ls->m.work = (char *)work;
	ls->m.layers[0].path = (char *)upper;
	ls->m.layers[0].len = strlen(upper);
	ls->m.nlayers = n + 1;
	ls->below.nlayers = n;
	for (int i = 0; i < n; i++) {
		ls->m.layers[i + 1].path = ls->below.layers[i].path = (char *)lowers[i];
		ls->m.layers[i + 1].len = ls->below.layers[i].len = strlen(lowers[i]);
	}
	for (int i = 0; i < n; i++) {
		ls->below.root_dirs |= (us_layermask)1 << i;
		if (us_layer_is_opaque(lowers[i]))
			break;
	}
	ls->m.root_dirs = ls->below.root_dirs << 1 | 1;
	ls->m.samefs = us_layers_samefs(&ls->m);
	ls->below.samefs = us_layers_samefs(&ls->below);
}

struct idx {
	int layer;
	uint64_t ino;
};

struct walk {
	const struct us_layerset *ls;
	struct us_changes *out;
	char *rel; /* the union path of the dir walked: "" or "/a/b" */
	size_t len;
	char *p1, *p2; /* scratch real paths */
	struct idx *idx; /* the shim's index entries, sorted */
	size_t nidx;
	char **ovl; /* overlayfs's: "KEY\0NAME", sorted by KEY */
	size_t novl;
	unsigned flags;
};

static int fail_at(struct walk *w, const char *real)
{
	int saved = errno;

	if (!w->out->errpath)
		w->out->errpath = strdup(real);
	errno = saved;
	return -1;
}

/* Append "/NAME" to the walk's path; the old length, or -1. */
static long enter(struct walk *w, const char *name)
{
	size_t nl = strlen(name), old = w->len;

	if (old + 1 + nl >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	w->rel[old] = '/';
	memcpy(w->rel + old + 1, name, nl + 1);
	w->len = old + 1 + nl;
	return (long)old;
}

static void leave(struct walk *w, long old)
{
	w->len = (size_t)old;
	w->rel[old] = '\0';
}

/* The real path of the walk's path in layer LAYER of M into OUT. */
static int real_of(struct walk *w, const struct us_mount *m, int layer, char *out)
{
	if (us_layer_path(m, layer, w->rel, out, PATH_MAX) < 0)
		return fail_at(w, w->rel);
	return 0;
}

/* Record a change of the walk's current path. */
static int add(struct walk *w, char kind, unsigned what, mode_t type,
	       const char *real)
{
	struct us_changes *o = w->out;

	if (o->n == o->cap) {
		size_t nc = o->cap ? 2 * o->cap : 64;
		struct us_change *v = realloc(o->v, nc * sizeof *v);
		if (!v)
			return -1;
		o->v = v;
		o->cap = nc;
	}
	struct us_change *c = &o->v[o->n];
	c->kind = kind;
	c->what = what;
	c->type = type & S_IFMT;
	c->path = strdup(w->rel + 1);
	c->real = real ? strdup(real) : NULL;
	c->data = NULL;
	if (!c->path || (real && !c->real)) {
		free(c->path);
		free(c->real);
		return -1;
	}
	o->n++;
	if (kind == 'A')
		o->added++;
	else if (kind == 'M')
		o->changed++;
	else if (kind == 'D')
		o->deleted++;
	return 0;
}

/* The entries of a real dir: names packed in one buffer with their
 * d_type in front ("T" "name" NUL ...). */
struct ents {
	char *buf;
	size_t used, cap, n;
};

static int ents_read(const char *dir, struct ents *e)
{
	char *kbuf = malloc(32768);
	int fd = kbuf ? SYS(open)(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = 0;

	memset(e, 0, sizeof *e);
	if (fd < 0) {
		int saved = errno;
		free(kbuf);
		errno = saved;
		return -1;
	}
	for (;;) {
		long n = SYS(syscall)(SYS_getdents64, fd, kbuf, 32768);
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		for (long off = 0; off < n && rc == 0;) {
			struct linux_dirent64 *d = (void *)(kbuf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			size_t nl = strlen(d->d_name);
			if (e->used + nl + 2 > e->cap) {
				size_t nc = e->cap ? 2 * e->cap : 4096;
				while (nc < e->used + nl + 2)
					nc *= 2;
				char *b = realloc(e->buf, nc);
				if (!b) {
					rc = -1;
					break;
				}
				e->buf = b;
				e->cap = nc;
			}
			e->buf[e->used] = (char)d->d_type;
			memcpy(e->buf + e->used + 1, d->d_name, nl + 1);
			e->used += nl + 2;
			e->n++;
		}
		if (rc)
			break;
	}
	int saved = errno;
	SYS(close)(fd);
	free(kbuf);
	errno = saved;
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of E sorted, for lookups: every entry as is (so an OCI
 * whiteout .wh.X is found as ".wh.X"). NULL with errno when out of
 * memory (E empty: NULL too, and nothing to find). */
static const char **ents_sorted(const struct ents *e)
{
	const char **v = e->n ? malloc(e->n * sizeof *v) : NULL;
	size_t i = 0;

	for (size_t off = 0; v && off < e->used; i++) {
		v[i] = e->buf + off + 1;
		off += strlen(v[i]) + 2;
	}
	if (v)
		qsort(v, e->n, sizeof *v, name_cmp);
	return v;
}

/* Is NAME among the sorted entries V (N of them)? With WH: is there a
 * whiteout .wh.NAME? */
static bool ents_has(const char **v, size_t n, const char *name, bool wh,
		     char *scratch)
{
	if (wh) {
		if (strlen(name) + US_WH_PREFIX_LEN >= PATH_MAX)
			return false;
		memcpy(scratch, US_WH_PREFIX, US_WH_PREFIX_LEN);
		strcpy(scratch + US_WH_PREFIX_LEN, name);
		name = scratch;
	}
	return n && bsearch(&name, v, n, sizeof *v, name_cmp);
}

static int idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The shim's index entries named LAYER-INO (counts ".gone" left out). */
static int idx_load(struct walk *w)
{
	const char *work = w->ls->m.work;
	struct ents e;

	if (!work)
		return 0;
	if (snprintf(w->p1, PATH_MAX, "%s/" INDEX_DIR, work) >= PATH_MAX)
		return 0;
	if (ents_read(w->p1, &e) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fail_at(w, w->p1);
	w->idx = e.n ? malloc(e.n * sizeof *w->idx) : NULL;
	for (size_t off = 0; w->idx && off < e.used;) {
		const char *n = e.buf + off + 1;
		struct idx x;
		int used = 0;
		off += strlen(n) + 2;
		if (sscanf(n, "%d-%" SCNu64 "%n", &x.layer, &x.ino, &used) == 2 &&
		    n[used] == '\0')
			w->idx[w->nidx++] = x;
	}
	free(e.buf);
	if (e.n && !w->idx)
		return -1;
	qsort(w->idx, w->nidx, sizeof *w->idx, idx_cmp);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* overlayfs's index entries (index=on): each as "KEY\0NAME", KEY the
 * handle type and bytes in hex; whiteouts (entries of removed links)
 * left out. */
static int ovl_load(struct walk *w)
{
	struct ents e;
	struct stat st;

	if (snprintf(w->p1, PATH_MAX, "%s/" OVL_INDEX_DIR, w->ls->m.work) >= PATH_MAX)
		return 0;
	if (ents_read(w->p1, &e) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fail_at(w, w->p1);
	w->ovl = e.n ? calloc(e.n, sizeof *w->ovl) : NULL;
	for (size_t off = 0; w->ovl && off < e.used;) {
		const char *n = e.buf + off + 1;
		size_t nl = strlen(n);
		off += nl + 2;
		if (nl <= OVL_FID_AT ||
		    snprintf(w->p2, PATH_MAX, "%s/%s", w->p1, n) >= PATH_MAX ||
		    SYS(lstat)(w->p2, &st) < 0 || us_stat_is_whiteout(&st) ||
		    S_ISDIR(st.st_mode))
			continue;
		char *k = malloc(2 + (nl - OVL_FID_AT) + 1 + nl + 1);
		if (!k)
			break;
		memcpy(k, n + OVL_TYPE_AT, 2);
		memcpy(k + 2, n + OVL_FID_AT, nl - OVL_FID_AT + 1);
		memcpy(k + 2 + nl - OVL_FID_AT + 1, n, nl + 1);
		w->ovl[w->novl++] = k;
	}
	free(e.buf);
	if (e.n && !w->ovl)
		return -1;
	qsort(w->ovl, w->novl, sizeof *w->ovl, key_cmp);
	return 0;
}

/* The overlayfs index entry answering lower object REAL into OUT: 1, or
 * 0 when none. */
static int ovl_entry(struct walk *w, const char *real, char *out)
{
	struct {
		struct file_handle h;
		unsigned char bytes[MAX_HANDLE_SZ];
	} fh;
	char key[2 + 2 * MAX_HANDLE_SZ + 1];
	int mnt;

	fh.h.handle_bytes = MAX_HANDLE_SZ;
	if (!w->novl || SYS(name_to_handle_at)(AT_FDCWD, real, &fh.h, &mnt, 0) < 0 ||
	    fh.h.handle_type < 0 || fh.h.handle_type > 0xff)
		return 0;
	snprintf(key, 3, "%02x", (unsigned)fh.h.handle_type);
	for (unsigned i = 0; i < fh.h.handle_bytes; i++)
		snprintf(key + 2 + 2 * i, 3, "%02x", fh.bytes[i]);
	const char *kp = key;
	char **hit = bsearch(&kp, w->ovl, w->novl, sizeof *w->ovl, key_cmp);
	if (!hit)
		return 0;
	const char *name = *hit + strlen(*hit) + 1;
	return snprintf(out, PATH_MAX, "%s/" OVL_INDEX_DIR "/%s", w->ls->m.work,
			name) < PATH_MAX;
}

int us_changes_index_entry(const struct us_layerset *ls, int layer,
			   uint64_t ino, char *out)
{
	struct stat st;

	if (!ls->m.work ||
	    snprintf(out, PATH_MAX, "%s/" INDEX_DIR "/%d-%" PRIu64, ls->m.work,
		     layer, ino) >= PATH_MAX)
		return 0;
	return SYS(lstat)(out, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The child NAME of the walk's dir in the view before (BDIRS), into C:
 * 1 found, 0 not, -1 error. */
static int below_child(struct walk *w, us_layermask bdirs, const char *name,
		       struct us_node *c)
{
	struct us_node dir = {.dirs = bdirs};

	if (!bdirs)
		return 0;
	int err = us_lookup_child(&w->ls->below, w->rel, &dir, name, c);
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	if (err) {
		errno = err;
		return fail_at(w, w->rel);
	}
	return 1;
}

/* Overlayfs entries that redirect lookups (redirect_dir, metacopy) are
 * not understood here: refuse them rather than report wrongly. */
static int check_plain(struct walk *w, const char *real)
{
	char names[4096];
	ssize_t n = SYS(llistxattr)(real, names, sizeof names);

	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		if (!strcmp(names + i, "trusted.overlay.redirect") ||
		    !strcmp(names + i, "trusted.overlay.metacopy") ||
		    !strcmp(names + i, "user.overlay.redirect") ||
		    !strcmp(names + i, "user.overlay.metacopy")) {
			errno = ENOTSUP;
			return fail_at(w, real);
		}
	return 0;
}

static int upper_dir(struct walk *w, us_layermask bdirs, bool opaque);
static int deleted_one(struct walk *w, const struct us_node *c);

/* Call EACH for every name (node C, the walk entered into it) of the
 * walk's dir in the view before (BDIRS). */
static int each_below(struct walk *w, us_layermask bdirs,
		      int (*each)(struct walk *w, const struct us_node *c))
{
	struct us_dirlist l;
	int rc = 0;

	if (us_dir_merge(&w->ls->below, w->rel, bdirs, &l) < 0)
		return fail_at(w, w->rel);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *name = us_dirlist_at(&l, i)->d_name;
		struct us_node c;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		int f = below_child(w, bdirs, name, &c);
		long old = f > 0 ? enter(w, name) : -1;
		if (f <= 0 || old < 0) {
			rc = f < 0 || old < 0 ? -1 : 0;
			continue;
		}
		rc = each(w, &c);
		leave(w, old);
	}
	us_dirlist_free(&l);
	return rc;
}

static int deleted_dir(struct walk *w, us_layermask bdirs);

static int deleted_one(struct walk *w, const struct us_node *c)
{
	int rc = add(w, 'D', 0, c->mode, NULL);

	return rc == 0 && S_ISDIR(c->mode) ? deleted_dir(w, c->dirs) : rc;
}

/* Every name below the walk's path in the view before (BDIRS) is gone. */
static int deleted_dir(struct walk *w, us_layermask bdirs)
{
	return each_below(w, bdirs, deleted_one);
}

/* A lower name (node C) at the walk's path that the upper does not
 * shadow: a hard link whose inode the index answers shows the entry. */
static int lower_only(struct walk *w, const struct us_node *c);

static int lower_only_dir(struct walk *w, us_layermask bdirs)
{
	return each_below(w, bdirs, lower_only);
}

static int lower_only(struct walk *w, const struct us_node *c)
{
	struct idx key = {c->layer + 1, c->ino};
	struct stat se, sl;

	if (S_ISDIR(c->mode))
		return lower_only_dir(w, c->dirs);
	if (c->nlink < 2)
		return 0;
	if (real_of(w, &w->ls->below, c->layer, w->p2) < 0)
		return -1;
	if (!(bsearch(&key, w->idx, w->nidx, sizeof *w->idx, idx_cmp) &&
	      us_changes_index_entry(w->ls, key.layer, key.ino, w->p1)) &&
	    !ovl_entry(w, w->p2, w->p1))
		return 0;
	if (SYS(lstat)(w->p1, &se) < 0)
		return fail_at(w, w->p1);
	if (SYS(lstat)(w->p2, &sl) < 0)
		return fail_at(w, w->p2);
	int what = us_obj_diff(w->p1, &se, w->p2, &sl);
	if (what < 0)
		return fail_at(w, w->p1);
	if (what || (w->flags & US_CHANGES_LINKS))
		return add(w, what ? 'M' : '=', (unsigned)what, se.st_mode, w->p1);
	return 0;
}

/* A renamed dir (redirect.h) and everything below it: its view after is
 * read through the union (lookups follow the record) and compared name by
 * name with the view before at its path, as if that were another tree:
 * names only after are A (an object below the record's path has its
 * lower copy as real), names only before D. (The shim's hard-link index
 * is not consulted below a renamed dir.) */
static int moved_dir(struct walk *w, const struct us_node *after,
		     us_layermask bdirs);

static int sorted_has(char **v, size_t n, const char *name)
{
	return n && bsearch(&name, v, n, sizeof *v, key_cmp);
}

/* The name just entered: after (node A, real path in w->p1) against
 * before (C when FOUND). */
static int moved_entry(struct walk *w, const struct us_node *a, bool found,
		       const struct us_node *c)
{
	struct stat sa, sb;
	int what = 0;

	if (us_layer_path(&w->ls->m, a->layer, w->rel, w->p1, PATH_MAX) < 0 ||
	    SYS(lstat)(w->p1, &sa) < 0)
		return fail_at(w, w->p1);
	if (found && ((sa.st_mode ^ c->mode) & S_IFMT) == 0) {
		if (real_of(w, &w->ls->below, c->layer, w->p2) < 0)
			return -1;
		if (SYS(lstat)(w->p2, &sb) < 0)
			return fail_at(w, w->p2);
		if ((what = us_obj_diff(w->p1, &sa, w->p2, &sb)) < 0)
			return fail_at(w, w->p1);
	} else if (found) {
		what = US_DIFF_TYPE;
	}
	if ((!found || what) &&
	    add(w, !found ? 'A' : 'M', (unsigned)what, sa.st_mode, w->p1) < 0)
		return -1;
	us_layermask bdirs = found && S_ISDIR(c->mode) ? c->dirs : 0;
	if (S_ISDIR(sa.st_mode))
		return moved_dir(w, a, bdirs);
	return bdirs ? deleted_dir(w, bdirs) : 0;
}

static int moved_dir(struct walk *w, const struct us_node *after,
		     us_layermask bdirs)
{
	struct us_dirlist la = {0}, lb = {0};
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (us_dir_merge(&w->ls->m, w->rel, after->dirs, &la) < 0)
		return fail_at(w, w->rel);
	names = la.n ? malloc(la.n * sizeof *names) : NULL;
	if (la.n && !names)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < la.n; i++) {
		char *name = us_dirlist_at(&la, i)->d_name;
		struct us_node a, c;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		names[n++] = name;
		int err = us_lookup_child(&w->ls->m, w->rel, after, name, &a);
		if (err) {
			errno = err;
			rc = fail_at(w, w->rel);
			break;
		}
		int f = below_child(w, bdirs, name, &c);
		long old = f >= 0 ? enter(w, name) : -1;
		if (f < 0 || old < 0) {
			rc = -1;
			break;
		}
		rc = moved_entry(w, &a, f > 0, &c);
		leave(w, old);
	}
	if (names)
		qsort(names, n, sizeof *names, key_cmp);
	if (rc == 0 && bdirs && us_dir_merge(&w->ls->below, w->rel, bdirs, &lb) < 0)
		rc = fail_at(w, w->rel);
	for (size_t i = 0; rc == 0 && i < lb.n; i++) {
		const char *name = us_dirlist_at(&lb, i)->d_name;
		struct us_node c;
		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    sorted_has(names, n, name))
			continue;
		int f = below_child(w, bdirs, name, &c);
		long old = f > 0 ? enter(w, name) : -1;
		if (f <= 0 || old < 0) {
			rc = f < 0 || old < 0 ? -1 : 0;
			continue;
		}
		rc = deleted_one(w, &c);
		leave(w, old);
	}
	free(names);
	us_dirlist_free(&la);
	us_dirlist_free(&lb);
	return rc;
}

/* The walk's path is an upper dir with a redirect record, over the view
 * before BDIRS. */
static int renamed_dir(struct walk *w, us_layermask bdirs)
{
	struct us_node after;

	w->out->redirected++;
	if (us_walk_dirs(&w->ls->m, w->rel, NULL, NULL, &after) < 0)
		return fail_at(w, w->rel);
	return moved_dir(w, &after, bdirs);
}

/* The upper object at the walk's path (real path in w->p1, stat SU),
 * hiding C when FOUND; IN_OPAQUE: its dir is opaque (or below one), so a
 * dir of it is the upper's alone too: nothing below shows through it. */
static int upper_entry(struct walk *w, const struct stat *su, bool found,
		       const struct us_node *c, bool in_opaque)
{
	int what = 0;
	bool linked = false;

	if (check_plain(w, w->p1) < 0)
		return -1;
	if (found && ((su->st_mode ^ c->mode) & S_IFMT) == 0) {
		struct stat sl;
		if (real_of(w, &w->ls->below, c->layer, w->p2) < 0)
			return -1;
		if (SYS(lstat)(w->p2, &sl) < 0)
			return fail_at(w, w->p2);
		if ((what = us_obj_diff(w->p1, su, w->p2, &sl)) < 0)
			return fail_at(w, w->p1);
		linked = !S_ISDIR(su->st_mode) && (su->st_nlink > 1 || sl.st_nlink > 1) &&
			 (w->flags & US_CHANGES_LINKS);
	} else if (found) {
		what = US_DIFF_TYPE;
	}
	bool meta = S_ISREG(su->st_mode) && us_metacopy_is(w->p1, su);
	if (meta && (!found || !S_ISREG(c->mode))) {
		errno = EIO; /* a metacopy whose data is gone */
		return fail_at(w, w->p1);
	}
	if ((!found || what || linked) &&
	    add(w, !found ? 'A' : what ? 'M' : '=', (unsigned)what, su->st_mode,
		w->p1) < 0)
		return -1;
	if (meta && (what || linked) &&
	    !(w->out->v[w->out->n - 1].data = strdup(w->p2)))
		return -1;
	if (S_ISDIR(su->st_mode)) {
		us_layermask bdirs = found && S_ISDIR(c->mode) ? c->dirs : 0;
		int rd = us_redirect_read(w->p1, w->p2, PATH_MAX);
		if (rd < 0)
			return fail_at(w, w->p1);
		/* a record of the dir's own path (renamed away and back):
		 * its lowers are where they would be read without it */
		if (rd > 0 && strcmp(w->p2, w->rel) != 0)
			return renamed_dir(w, bdirs);
		bool opaque = in_opaque || us_layer_is_opaque(w->p1);
		return upper_dir(w, bdirs, opaque);
	}
	return found && S_ISDIR(c->mode) ? deleted_dir(w, c->dirs) : 0;
}

/* One name of an upper dir listing (type T; the dir OPAQUE or below
 * one): an object or a whiteout. */
static int upper_name(struct walk *w, us_layermask bdirs, const char *name,
		      unsigned char t, bool opaque)
{
	struct us_node c;
	struct stat su;
	const char *wh = NULL;

	if (!strcmp(name, US_WH_OPAQUE))
		return 0;
	if (us_is_reserved_name(name))
		wh = name + US_WH_PREFIX_LEN;
	if (real_of(w, &w->ls->m, 0, w->p1) < 0 ||
	    us_path_join(w->p1, PATH_MAX, w->p1, name) < 0)
		return fail_at(w, w->rel);
	if (!wh && SYS(lstat)(w->p1, &su) < 0)
		return errno == ENOENT ? 0 : fail_at(w, w->p1);
	if (!wh && (t == DT_CHR || t == DT_UNKNOWN) && us_stat_is_whiteout(&su))
		wh = name;
	int f = below_child(w, bdirs, wh ? wh : name, &c);
	if (f < 0)
		return -1;
	long old = enter(w, wh ? wh : name);
	if (old < 0)
		return fail_at(w, w->p1);
	int rc = 0;
	if (!wh)
		rc = upper_entry(w, &su, f > 0, &c, opaque);
	else if (f > 0) { /* a whiteout that hides something */
		rc = add(w, 'D', 0, c.mode, NULL);
		if (rc == 0 && S_ISDIR(c.mode))
			rc = deleted_dir(w, c.dirs);
	}
	leave(w, old);
	return rc;
}

/* The walk's path is a dir in the upper (OPAQUE: marked so, or below a
 * dir that is) over the view before BDIRS (0: nothing there before, or
 * not a dir). */
static int upper_dir(struct walk *w, us_layermask bdirs, bool opaque)
{
	struct ents e;
	struct us_dirlist l = {0};
	int rc = 0;

	if (real_of(w, &w->ls->m, 0, w->p1) < 0)
		return -1;
	if (ents_read(w->p1, &e) < 0)
		return fail_at(w, w->p1);
	const char **sorted = ents_sorted(&e);
	if (e.n && !sorted) {
		free(e.buf);
		return -1;
	}
	for (size_t off = 0; rc == 0 && off < e.used;) {
		unsigned char t = (unsigned char)e.buf[off];
		const char *name = e.buf + off + 1;
		off += strlen(name) + 2;
		/* an object and a whiteout of one name: the object wins */
		if (us_is_reserved_name(name) &&
		    ents_has(sorted, e.n, name + US_WH_PREFIX_LEN, false, w->p2))
			continue;
		rc = upper_name(w, bdirs, name, t, opaque);
	}
	if (rc == 0 && bdirs && (opaque || w->nidx || w->novl) &&
	    us_dir_merge(&w->ls->below, w->rel, bdirs, &l) < 0)
		rc = fail_at(w, w->rel);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *name = us_dirlist_at(&l, i)->d_name;
		struct us_node c;
		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    ents_has(sorted, e.n, name, false, w->p2) ||
		    ents_has(sorted, e.n, name, true, w->p2))
			continue;
		/* an overlayfs whiteout is an entry of the name itself */
		int f = below_child(w, bdirs, name, &c);
		long old = f > 0 ? enter(w, name) : -1;
		if (f <= 0 || old < 0) {
			rc = f < 0 || old < 0 ? -1 : 0;
			continue;
		}
		if (!opaque)
			rc = lower_only(w, &c);
		else if ((rc = add(w, 'D', 0, c.mode, NULL)) == 0 && S_ISDIR(c.mode))
			rc = deleted_dir(w, c.dirs);
		leave(w, old);
	}
	us_dirlist_free(&l);
	free(sorted);
	free(e.buf);
	return rc;
}

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const struct us_change *)a)->path,
		      ((const struct us_change *)b)->path);
}

int us_changes_collect(const struct us_layerset *ls, unsigned flags,
		       struct us_changes *out)
{
	struct walk w = {.ls = ls, .out = out, .flags = flags};
	int rc = -1;

	memset(out, 0, sizeof *out);
	w.rel = malloc(3 * PATH_MAX);
	if (!w.rel)
		return -1;
	w.p1 = w.rel + PATH_MAX;
	w.p2 = w.p1 + PATH_MAX;
	w.rel[0] = '\0';
	if (idx_load(&w) == 0 && (!ls->m.work || ovl_load(&w) == 0))
		rc = upper_dir(&w, ls->below.root_dirs,
			       us_layer_is_opaque(ls->m.layers[0].path));
	int saved = errno;
	free(w.rel);
	free(w.idx);
	for (size_t i = 0; i < w.novl; i++)
		free(w.ovl[i]);
	free(w.ovl);
	if (rc == 0 && out->n)
		qsort(out->v, out->n, sizeof *out->v, change_cmp);
	errno = saved;
	return rc;
}

void us_changes_free(struct us_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].real);
		free(c->v[i].data);
	}
	free(c->v);
	free(c->errpath);
	memset(c, 0, sizeof *c);
}
