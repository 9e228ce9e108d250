/* dirmerge.c: build the merged entry list of a union directory.
 *
 * Layers are read top first. A name is listed from the first layer that
 * has it; a whiteout (.wh.NAME or a 0/0 char device) hides NAME in the
 * layers below it; ".wh." names themselves are never listed; "." and ".."
 * come from the top layer only. Reading uses getdents64 on the real dirs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kdirent.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/dirmerge.h"
#include "unionshim/identity.h"
#include "unionshim/path.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

/* A set of names, open addressing; the names live in ARENA. */
struct nameset {
	uint32_t *slot; /* 0 = empty, else offset+1 into arena */
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

	if (!ns_slot)
		return -1;
	for (size_t i = 0; i < ns->cap; i++) {
		if (!ns->slot[i])
			continue;
		size_t j = hash_name(ns->arena + ns->slot[i] - 1) & (ncap - 1);
		while (ns_slot[j])
			j = (j + 1) & (ncap - 1);
		ns_slot[j] = ns->slot[i];
	}
	free(ns->slot);
	ns->slot = ns_slot;
	ns->cap = ncap;
	return 0;
}

/* Insert NAME; 1 if it was new, 0 if present, -1 on ENOMEM. */
static int nameset_add(struct nameset *ns, const char *name)
{
	if ((ns->n + 1) * 2 > ns->cap && nameset_grow(ns) < 0)
		return -1;
	size_t j = hash_name(name) & (ns->cap - 1);
	for (; ns->slot[j]; j = (j + 1) & (ns->cap - 1))
		if (strcmp(ns->arena + ns->slot[j] - 1, name) == 0)
			return 0;
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
	ns->used += nl;
	ns->n++;
	return 1;
}

static void nameset_free(struct nameset *ns)
{
	free(ns->slot);
	free(ns->arena);
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
	char p[PATH_MAX];
	struct stat st;

	if (type != DT_CHR && type != DT_UNKNOWN)
		return false;
	return us_path_join(p, sizeof p, dirreal, name) == 0 &&
	       SYS(lstat)(p, &st) == 0 && us_stat_is_whiteout(&st);
}

/* The union inode number of entry D of real dir DIRREAL in layer LAYER
 * (identity.h): a copy-up in the upper layer has its origin's. */
static uint64_t entry_ino(const struct us_mount *m, int layer,
			  const char *dirreal, const struct linux_dirent64 *d)
{
	char p[PATH_MAX];
	struct us_origin o;

	if (layer != 0 || !m->has_upper || !us_shared_origins_maybe(m) ||
	    us_path_join(p, sizeof p, dirreal, d->d_name) < 0)
		return us_ino_make(layer, d->d_ino);
	bool xattrs = d->d_type == DT_REG || d->d_type == DT_DIR ||
		      d->d_type == DT_UNKNOWN;
	if (xattrs ? us_origin_read(p, -1, &o)
		   : us_origin_read_aside(m, p, d->d_ino, &o))
		return us_ino_make(o.layer, o.ino);
	return us_ino_make(layer, d->d_ino);
}

/* Read one layer's dir: list what is new, then hide its whiteouts' names
 * from the layers below (a layer's whiteouts never hide its own names). */
static int merge_layer(const struct us_mount *m, int layer,
		       const char *dirreal, bool top, struct nameset *seen,
		       struct us_dirlist *out)
{
	US_SCRATCH_SCOPE;
	struct {
		char buf[32768];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct nameset wh = {0};
	int rc = 0;
	int fd = SYS(open)(dirreal, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
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
			if (dot && !top)
				continue;
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
			int isnew = nameset_add(seen, name);
			if (isnew < 0 ||
			    (isnew && list_push(out,
						entry_ino(m, layer, dirreal, d),
						d->d_type, name) < 0))
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
	SYS(close)(fd);
	errno = saved;
	nameset_free(&wh);
	return rc;
}

int us_dir_merge(const struct us_mount *m, const char *upath,
		 us_layermask dirs, struct us_dirlist *out)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct nameset seen = {0};
	bool top = true;

	memset(out, 0, sizeof *out);
	for (int i = 0; i < m->nlayers; i++) {
		if (!(dirs & ((us_layermask)1 << i)))
			continue;
		if (us_layer_path(m, i, upath, sb->real, sizeof sb->real) < 0 ||
		    merge_layer(m, i, sb->real, top, &seen, out) < 0) {
			int saved = errno;
			nameset_free(&seen);
			us_dirlist_free(out);
			errno = saved;
			return -1;
		}
		top = false;
	}
	nameset_free(&seen);
	return 0;
}

void us_dirlist_free(struct us_dirlist *l)
{
	free(l->buf);
	free(l->offs);
	memset(l, 0, sizeof *l);
}
