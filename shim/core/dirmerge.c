/* dirmerge.c: build the merged entry list of a union directory.
 *
 * Layers are read top first. A name is listed from the first layer that
 * has it; a whiteout (.wh.NAME or a 0/0 char device) hides NAME in the
 * layers below it; ".wh." names themselves are never listed; "." and ".."
 * come from the top layer only. The list is then put in overlayfs's order
 * (struct order). Reading uses getdents64 on the real dirs.
 * An upper entry's inode number may need its origin record (an xattr read
 * per entry): origincache.h remembers them per dir between merges.
 * A merge may leave seeds in the lookup cache (lcache.h): each listed
 * name's first layer, from which the walker's stat of it starts. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kdirent.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/dirmerge.h"
#include "unionshim/identity.h"
#include "unionshim/lcache.h"
#include "unionshim/origincache.h"
#include "unionshim/path.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

/* A set of names, open addressing; the names live in ARENA. Each name
 * carries a value (the merged list's index of its entry + 1, or 0). */
struct nameset {
	uint32_t *slot; /* 0 = empty, else offset+1 into arena */
	uint32_t *val;  /* per slot */
	size_t cap, n;
	char *arena;
	size_t used, acap;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int nameset_grow(struct nameset *ns)
{
	size_t ncap = ns->cap ? ns->cap * 2 : 64;
	uint32_t *ns_slot = calloc(ncap, sizeof *ns_slot);
	uint32_t *ns_val = calloc(ncap, sizeof *ns_val);

	if (!ns_slot || !ns_val) {
		free(ns_slot);
		free(ns_val);
		return -1;
	}
	for (size_t i = 0; i < ns->cap; i++) {
		if (!ns->slot[i])
			continue;
		size_t j = hash_name(ns->arena + ns->slot[i] - 1) & (ncap - 1);
		while (ns_slot[j])
			j = (j + 1) & (ncap - 1);
		ns_slot[j] = ns->slot[i];
		ns_val[j] = ns->val[i];
	}
	free(ns->slot);
	free(ns->val);
	ns->slot = ns_slot;
	ns->val = ns_val;
	ns->cap = ncap;
	return 0;
}

/* Insert NAME with value VAL; 1 if it was new, 0 if present (its value in
 * *OLD when OLD is not NULL), -1 on ENOMEM. */
static int nameset_put(struct nameset *ns, const char *name, uint32_t val,
		       uint32_t *old)
{
	if ((ns->n + 1) * 2 > ns->cap && nameset_grow(ns) < 0)
		return -1;
	size_t j = hash_name(name) & (ns->cap - 1);
	for (; ns->slot[j]; j = (j + 1) & (ns->cap - 1))
		if (strcmp(ns->arena + ns->slot[j] - 1, name) == 0) {
			if (old)
				*old = ns->val[j];
			return 0;
		}
	size_t nl = strlen(name) + 1;
	if (ns->used + nl > ns->acap) {
		size_t nc = ns->acap ? ns->acap * 2 : 4096;
		while (nc < ns->used + nl)
			nc *= 2;
		char *a = realloc(ns->arena, nc);
		if (!a)
			return -1;
		ns->arena = a;
		ns->acap = nc;
	}
	memcpy(ns->arena + ns->used, name, nl);
	ns->slot[j] = (uint32_t)(ns->used + 1);
	ns->val[j] = val;
	ns->used += nl;
	ns->n++;
	return 1;
}

static int nameset_add(struct nameset *ns, const char *name)
{
	return nameset_put(ns, name, 0, NULL);
}

static void nameset_free(struct nameset *ns)
{
	free(ns->slot);
	free(ns->val);
	free(ns->arena);
}

/* Overlayfs's order of a merged dir: the lowest merging layer's entries
 * first, in that layer's own order (names the layers above also have
 * included: listed where the lowest layer lists them), then the entries
 * only the layers above have, upper first, each in its layer's order.
 * Programs depend on it (`cp -a d d` copies what the lowest layer lists
 * before it meets its own new d/d). RANK[i]: the place + 1 of the
 * merged list's entry i in the lowest layer's listing, or 0. */
struct order {
	uint32_t *rank;
	size_t cap;
	uint32_t next;
};

static int order_note(struct order *o, uint32_t index1)
{
	if (!index1)
		return 0; /* a name the layers above whited out */
	size_t i = index1 - 1;
	if (i >= o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 256;
		while (nc <= i)
			nc *= 2;
		uint32_t *r = realloc(o->rank, nc * sizeof *r);
		if (!r)
			return -1;
		memset(r + o->cap, 0, (nc - o->cap) * sizeof *r);
		o->rank = r;
		o->cap = nc;
	}
	if (!o->rank[i])
		o->rank[i] = ++o->next;
	return 0;
}

/* Reorder L's entries by O, rewritten in their new order (records stay
 * back to back, d_off the telldir position of the next entry). */
static int order_apply(const struct order *o, struct us_dirlist *l)
{
	size_t *byrank = calloc((size_t)o->next + 1, sizeof *byrank);
	char *buf = malloc(l->cap ? l->cap : 1);
	size_t k = 0, used = 0;

	if (!byrank || !buf) {
		free(byrank);
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < l->n && i < o->cap; i++)
		if (o->rank[i])
			byrank[o->rank[i] - 1] = i + 1;
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < (pass ? l->n : o->next); j++) {
			size_t i;
			if (!pass) {
				if (!byrank[j])
					continue;
				i = byrank[j] - 1;
			} else {
				if (j < o->cap && o->rank[j])
					continue;
				i = j;
			}
			struct dirent64 *d = us_dirlist_at(l, i);
			memcpy(buf + used, d, d->d_reclen);
			((struct dirent64 *)(void *)(buf + used))->d_off = (int64_t)(k + 1);
			used += d->d_reclen;
			k++;
		}
	for (size_t i = 0, off = 0; i < l->n; i++) {
		l->offs[i] = off;
		off += ((struct dirent64 *)(void *)(buf + off))->d_reclen;
	}
	free(byrank);
	free(l->buf);
	l->buf = buf;
	return 0;
}

static int list_push(struct us_dirlist *l, uint64_t ino, unsigned char type,
		     const char *name)
{
	size_t nl = strlen(name);
	size_t reclen = (offsetof(struct dirent64, d_name) + nl + 1 + 7) & ~7ul;

	if (l->used + reclen > l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8192;
		while (nc < l->used + reclen)
			nc *= 2;
		char *b = realloc(l->buf, nc);
		if (!b)
			return -1;
		l->buf = b;
		l->cap = nc;
	}
	if (l->n == l->ncap) {
		size_t nc = l->ncap ? l->ncap * 2 : 64;
		size_t *o = realloc(l->offs, nc * sizeof *o);
		if (!o)
			return -1;
		l->offs = o;
		l->ncap = nc;
	}
	struct dirent64 *d = (struct dirent64 *)(void *)(l->buf + l->used);
	memset(d, 0, reclen);
	d->d_ino = ino;
	d->d_off = (int64_t)(l->n + 1); /* telldir position of the next entry */
	d->d_reclen = (unsigned short)reclen;
	d->d_type = type;
	memcpy(d->d_name, name, nl + 1);
	l->offs[l->n++] = l->used;
	l->used += reclen;
	return 0;
}

/* Is entry NAME of real dir DIRREAL (type TYPE) an overlayfs whiteout? */
static bool entry_is_whiteout(const char *dirreal, const char *name,
			      unsigned char type)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	struct stat st;

	if (type != DT_CHR && type != DT_UNKNOWN)
		return false;
	return us_path_join(lp->p, sizeof lp->p, dirreal, name) == 0 &&
	       SYS(lstat)(lp->p, &st) == 0 && us_stat_is_whiteout(&st);
}

/* The union inode number of entry D of real dir DIRREAL in layer LAYER
 * (identity.h), open as DIRFD: a copy-up in the upper layer has its
 * origin's. ORIGINS: the upper may hold origin records; CACHED, when not NULL, knows which
 * entries do; else those found are noted in FOUND (when not NULL). */
static uint64_t entry_ino(const struct us_mount *m, int layer,
			  const char *dirreal, int dirfd,
			  const struct linux_dirent64 *d, bool origins,
			  const struct us_ocdir *cached, struct us_ocbuild *found)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return us_ino_of(m, layer, d->d_ino);
	struct us_origin o;

	if (!origins)
		return us_ino_of(m, layer, d->d_ino);
	if (cached)
		return us_origincache_get(cached, d->d_name, &o)
			       ? us_ino_of(m, o.layer, o.ino)
			       : us_ino_of(m, layer, d->d_ino);
	if (us_path_join(lp->p, sizeof lp->p, dirreal, d->d_name) < 0) {
		if (found)
			found->failed = true;
		return us_ino_of(m, layer, d->d_ino);
	}
	if (us_origin_read_entry(m, dirfd, d->d_name, d->d_type, d->d_ino,
				 lp->p, &o)) {
		if (found)
			us_ocbuild_add(found, d->d_name, &o);
		return us_ino_of(m, o.layer, o.ino);
	}
	return us_ino_of(m, layer, d->d_ino);
}

/* The origin records of the upper dir open as FD: from the cache when it
 * knows the dir (*CACHED), else noted while reading it (*TAKEN: the cache
 * is ours, to be given back by finish_origins). */
struct origin_scan {
	bool origins, taken;
	const struct us_ocdir *cached;
	struct us_ocbuild found;
	struct stat dir;
	struct timespec start;
};

static void start_origins(const struct us_mount *m, int layer, int fd,
			  struct origin_scan *os)
{
	memset(os, 0, sizeof *os);
	os->origins = layer == 0 && m->has_upper && us_shared_origins_maybe(m);
	if (!os->origins || SYS(fstat)(fd, &os->dir) < 0)
		return;
	/* a dir no record ever entered (shared.h) */
	os->origins = us_shared_origins_in(m, os->dir.st_dev, os->dir.st_ino);
	if (!os->origins || clock_gettime(CLOCK_REALTIME, &os->start) < 0)
		return;
	os->taken = us_origincache_take();
	if (os->taken)
		os->cached = us_origincache_find(&os->dir);
}

static void finish_origins(struct origin_scan *os, bool complete)
{
	if (os->taken && !os->cached && complete)
		us_origincache_store(&os->dir, &os->start, &os->found);
	us_ocbuild_free(&os->found);
	if (os->taken)
		us_origincache_give();
}

/* The upper dir open as FD (real path DIRREAL), read as one no copy had
 * entered (OS), was marked meanwhile: a copy renamed into it during the
 * read may be listed (entries FIRST on of OUT) with its own number.
 * Those entries read their records now (shared.h: the mark comes before
 * the copy). */
static void late_origins(const struct us_mount *m, int fd, const char *dirreal,
			 struct origin_scan *os, struct us_dirlist *out,
			 size_t first)
{
	if (!us_shared_origins_maybe(m) ||
	    (!os->dir.st_ino && SYS(fstat)(fd, &os->dir) < 0) ||
	    !us_shared_origins_in(m, os->dir.st_dev, os->dir.st_ino))
		return;
	US_SCRATCH_SCOPE;
	char *p = us_scratch_push(US_PATH_MAX);
	for (size_t i = first; p && i < out->n; i++) {
		struct dirent64 *e = (struct dirent64 *)(void *)(out->buf + out->offs[i]);
		struct us_origin o;
		if (us_path_join(p, US_PATH_MAX, dirreal, e->d_name) < 0)
			continue;
		/* (an upper entry's number is its own: identity.h) */
		if (us_origin_read_entry(m, fd, e->d_name, e->d_type, e->d_ino, p, &o))
			e->d_ino = us_ino_of(m, o.layer, o.ino);
	}
}

/* Read one layer's dir: list what is new, then hide its whiteouts' names
 * from the layers below (a layer's whiteouts never hide its own names).
 * ALONE: the union dir has no other layer (every name is new). */
static int merge_layer(const struct us_mount *m, int layer,
		       const char *dirreal, bool top, bool alone,
		       struct nameset *seen, struct us_dirlist *out,
		       struct order *ord, struct us_lc_seed *seed)
{
	US_SCRATCH_SCOPE;
	struct {
		char buf[32768];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct nameset wh = {0};
	struct origin_scan os;
	int rc = 0;
	int fd = SYS(open)(dirreal, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	start_origins(m, layer, fd, &os);
	struct us_ocbuild *found = os.taken && !os.cached ? &os.found : NULL;
	size_t first = out->n;
	for (;;) {
		long n = SYS(syscall)(SYS_getdents64, fd, sb->buf, sizeof sb->buf);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		for (long off = 0; off < n && rc == 0;) {
			struct linux_dirent64 *d =
				(struct linux_dirent64 *)(void *)(sb->buf + off);
			const char *name = d->d_name;
			off += d->d_reclen;
			bool dot = strcmp(name, ".") == 0 ||
				   strcmp(name, "..") == 0;
			uint32_t index1 = 0;
			if (dot && !top) {
				if (ord && (nameset_put(seen, name, 0, &index1) < 0 ||
					    order_note(ord, index1) < 0))
					rc = -1;
				continue;
			}
			if (us_is_reserved_name(name)) {
				if (strcmp(name, US_WH_OPAQUE) != 0 &&
				    nameset_add(&wh, name + US_WH_PREFIX_LEN) < 0)
					rc = -1;
				continue;
			}
			if (entry_is_whiteout(dirreal, name, d->d_type)) {
				if (nameset_add(&wh, name) < 0)
					rc = -1;
				continue;
			}
			/* a dir of one layer has no name twice: no set */
			int isnew = alone ? 1
					  : nameset_put(seen, name,
							(uint32_t)out->n + 1, &index1);
			if (isnew > 0) {
				index1 = (uint32_t)out->n + 1;
				if (seed)
					us_lcache_seed(seed, name, layer);
			}
			if (isnew < 0 ||
			    (isnew && list_push(out,
						entry_ino(m, layer, dirreal, fd,
							  d, os.origins,
							  os.cached, found),
						d->d_type, name) < 0) ||
			    (ord && order_note(ord, index1) < 0))
				rc = -1;
		}
		if (rc < 0)
			break;
	}
	for (size_t i = 0; rc == 0 && i < wh.used;) {
		if (nameset_add(seen, wh.arena + i) < 0)
			rc = -1;
		i += strlen(wh.arena + i) + 1;
	}
	int saved = errno;
	if (rc == 0 && !os.origins && layer == 0 && m->has_upper)
		late_origins(m, fd, dirreal, &os, out, first);
	finish_origins(&os, rc == 0);
	SYS(close)(fd);
	errno = saved;
	nameset_free(&wh);
	return rc;
}

int us_dir_merge_seed(const struct us_mount *m, const char *upath,
		      us_layermask dirs, unsigned flags,
		      struct us_dirlist *out, struct us_lc_seed *seed)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct nameset seen = {0};
	struct order ord = {0};
	bool top = true;
	int bottom = -1, rc = 0;

	memset(out, 0, sizeof *out);
	for (int i = 0; i < m->nlayers; i++)
		if (dirs & ((us_layermask)1 << i))
			bottom = i;
	for (int i = 0; i < m->nlayers && rc == 0; i++) {
		if (!(dirs & ((us_layermask)1 << i)))
			continue;
		/* one layer alone lists in its own order already */
		struct order *o = (i == bottom && !top) ? &ord : NULL;
		if (us_dir_layer_path(m, i, upath, flags, sb->real,
				      sizeof sb->real) < 0 ||
		    merge_layer(m, i, sb->real, top, top && i == bottom, &seen,
				out, o, seed) < 0 ||
		    (o && order_apply(o, out) < 0))
			rc = -1;
		top = false;
	}
	int saved = errno;
	nameset_free(&seen);
	free(ord.rank);
	if (rc < 0)
		us_dirlist_free(out);
	errno = saved;
	return rc;
}

int us_dir_merge(const struct us_mount *m, const char *upath,
		 us_layermask dirs, struct us_dirlist *out)
{
	return us_dir_merge_seed(m, upath, dirs, 0, out, NULL);
}

void us_dirlist_free(struct us_dirlist *l)
{
	free(l->buf);
	free(l->offs);
	memset(l, 0, sizeof *l);
}
