/* fdmap/ident.c: what object an fd is open on: the kernel's link
 * /proc/self/fd/N (us_fd_real) and the union identity fstat shows
 * (us_fd_stat), read from the map's entry without a lock when it can. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../state.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/metacopy.h"
#include "unionshim/scratch.h"

int us_fd_real(int fd, char *out, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	n = US_REAL(readlink)(proc, out, len - 1);
	if (n < 0 && errno == ENAMETOOLONG && len > PATH_MAX)
		return us_fd_real_walk(fd, out, len); /* deeper than a page */
	if (n <= 0 || out[0] != '/')
		return -1;
	out[n] = '\0';
	return 0;
}

/* When FD is open on a union object, turn ST (its real fstat) into the
 * union's identity and return 1; else 0. */
static int fd_ident(int fd, struct stat *st)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	const struct us_mount *m;

	if (!sb || us_fd_real(fd, sb->real, sizeof sb->real) < 0)
		return 0;
	int layer = 0; /* an index entry (a lower hard link) is upper */
	if (!(m = us_index_owner(&us_cfg, sb->real))) {
		if (us_revmap(&us_cfg, sb->real, sb->up, sizeof sb->up, &m) != 1)
			return 0;
		layer = us_layer_of(m, sb->real);
	}
	if (layer < 0)
		return 0;
	us_ident_stat(m, layer, sb->real, fd, st);
	struct us_fdent *e = us_fdent_peek(fd);
	if (layer > 0 && e && __atomic_load_n(&e->meta, __ATOMIC_ACQUIRE) &&
	    us_revmap(&us_cfg, sb->real, sb->up, sizeof sb->up, &m) == 1)
		us_metacopy_fstat(m, sb->up, st);
	return 1;
}

/* Odd while an entry's real object (layer, rdev, rino) moves to a copy
 * (map locked): us_fd_stat's lock-free read of the three is then retried
 * the slow way, never mixed from before and after. */
static unsigned ident_seq;

void us_fdent_moving(bool start)
{
	__atomic_add_fetch(&ident_seq, 1, start ? __ATOMIC_ACQ_REL : __ATOMIC_RELEASE);
}

/* E's real object, read without the lock; false if it was moving. */
static bool ident_of(const struct us_fdent *e, int *layer, dev_t *rdev,
		     uint64_t *rino)
{
	unsigned s = __atomic_load_n(&ident_seq, __ATOMIC_ACQUIRE);

	*layer = __atomic_load_n(&e->layer, __ATOMIC_ACQUIRE);
	*rdev = __atomic_load_n(&e->rdev, __ATOMIC_ACQUIRE);
	*rino = __atomic_load_n(&e->rino, __ATOMIC_ACQUIRE);
	return !(s & 1) && __atomic_load_n(&ident_seq, __ATOMIC_ACQUIRE) == s;
}

bool us_fd_on_real_dir(int fd, int layer, dev_t dev, uint64_t ino)
{
	struct us_fdent *e = us_fdent_peek(fd);
	int l;
	dev_t d;
	uint64_t i;

	return e && __atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) == US_FD_UNION &&
	       __atomic_load_n(&e->dir, __ATOMIC_ACQUIRE) && !e->opath &&
	       ident_of(e, &l, &d, &i) && l == layer && d == dev && i == ino;
}

int us_fd_stat(int fd, struct stat *st)
{
	struct us_fdent *e = us_fdent_peek(fd);
	int layer;
	dev_t edev;
	uint64_t eino;

	if (e && e->kind == US_FD_OUTSIDE)
		return 0;
	if (e && e->kind == US_FD_UNION && !e->opath &&
	    !__atomic_load_n(&e->meta, __ATOMIC_ACQUIRE) &&
	    ident_of(e, &layer, &edev, &eino) && st->st_dev == edev &&
	    (uint64_t)st->st_ino == eino) {
		us_ident_stat(&us_cfg.mounts[e->mount], layer, NULL, fd, st);
		return 1;
	}
	dev_t rdev = st->st_dev;
	uint64_t rino = st->st_ino;
	int rc = fd_ident(fd, st);
	if (rc && e && e->kind == US_FD_UNION && !e->opath) {
		if (!us_fdmap_lock())
			return rc;
		us_fdent_moving(true); /* the real object now known: fast next time */
		US_FDENT_SET(e, rdev, rdev);
		US_FDENT_SET(e, rino, rino);
		us_fdent_moving(false);
		us_fdmap_unlock();
	} else if (!rc && !e && !us_fdmap_in_vfork_child()) {
		/* an fd the shim did not open (stdin, a pipe) on no union
		 * file: its next fstat asks the kernel nothing more */
		if (!us_fdmap_lock())
			return rc;
		struct us_fdent *n = us_fdmap_slot(fd);
		if (n && n->kind == US_FD_NONE)
			__atomic_store_n(&n->kind, US_FD_OUTSIDE, __ATOMIC_RELEASE);
		us_fdmap_unlock();
	}
	return rc;
}

int us_fd_metacopy(int fd, char *out, size_t len)
{
	struct us_fdent *e = us_fdent_peek(fd);

	if (!e || e->kind != US_FD_UNION || !__atomic_load_n(&e->meta, __ATOMIC_ACQUIRE))
		return 0;
	US_SCRATCH_SCOPE;
	struct {
		char real[PATH_MAX];
		char up[PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	const struct us_mount *m;
	struct stat st;
	int saved = errno, rc = 0;

	if (sb && us_fd_real(fd, sb->real, sizeof sb->real) == 0 &&
	    us_revmap(&us_cfg, sb->real, sb->up, sizeof sb->up, &m) == 1 &&
	    us_layer_path(m, 0, sb->up, out, len) == 0 &&
	    US_REAL(lstat)(out, &st) == 0 && us_metacopy_is(out, &st))
		rc = 1;
	errno = saved;
	return rc;
}

const struct us_mount *us_fd_mount(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e && e->kind == US_FD_UNION ? &us_cfg.mounts[e->mount] : NULL;
}
