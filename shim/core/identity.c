/* identity.c: union st_dev and st_ino (the scheme is in identity.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

#define LAYER_SHIFT 56
#define ORIGINS_DIR "#origin" /* records of objects without xattrs */
#define INO_MASK ((UINT64_C(1) << LAYER_SHIFT) - 1)

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT64_C(1099511628211);
	return h;
}

/* fnv1a a word at a time (stat of every union object asks): 8 bytes of
 * the target per step, its last few bytewise. */
static uint64_t words_hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(1469598103934665603), w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(1099511628211);
		h ^= h >> 29;
	}
	return fnv1a(h, s, n);
}

/* Kept in M at its first use (every stat of a union object asks): the
 * same value from any thread, stored whole. */
dev_t us_mount_dev(const struct us_mount *m)
{
	uint64_t d = __atomic_load_n(&m->dev, __ATOMIC_RELAXED);

	if (d)
		return (dev_t)d;
	uint64_t h = words_hash(m->target, m->target_len);
	d = makedev(2048 + (unsigned)(h % 1024), (unsigned)((h >> 10) & 0xfffff));
	__atomic_store_n(&((struct us_mount *)m)->dev, d, __ATOMIC_RELAXED);
	return (dev_t)d;
}

/* Known once per mount (validation, a handover, a layer set); a mount
 * made some other way asks the filesystem each time. */
bool us_mount_samefs(const struct us_mount *m)
{
	return (m->samefs ? m->samefs : us_layers_samefs(m)) == 2;
}

uint64_t us_ino_of(const struct us_mount *m, int layer, uint64_t ino)
{
	return us_mount_samefs(m) ? ino : us_ino_make(layer, ino);
}

uint64_t us_ino_make(int layer, uint64_t ino)
{
	if ((ino & ~INO_MASK) == 0)
		return ((uint64_t)layer << LAYER_SHIFT) | ino;
	uint64_t key[2] = {(uint64_t)layer, ino};
	uint64_t h = fnv1a(UINT64_C(1469598103934665603), key, sizeof key);
	return (UINT64_C(1) << 63) | (h & ~(UINT64_C(1) << 63));
}

/* The record's text V (N bytes read, or N < 0) into O: 1, or 0. */
static int origin_parse(char *v, ssize_t n, struct us_origin *o)
{
	int layer;
	uint64_t ino, nlink;

	if (n <= 0)
		return 0;
	v[n] = '\0';
	if (sscanf(v, "%d:%" SCNu64 ":%" SCNu64, &layer, &ino, &nlink) != 3 ||
	    layer < 0 || layer >= US_MAX_LAYERS)
		return 0;
	o->layer = layer;
	o->ino = ino;
	o->nlink = nlink;
	return 1;
}

int us_origin_read(const char *real, int fd, struct us_origin *o)
{
	char v[96];
	ssize_t n = fd >= 0 ? SYS(fgetxattr)(fd, US_ORIGIN_XATTR, v, sizeof v - 1)
			    : -1;
	/* an O_PATH fd has no xattr calls: go by the path */
	if (real && (fd < 0 || (n < 0 && errno == EBADF)))
		n = SYS(lgetxattr)(real, US_ORIGIN_XATTR, v, sizeof v - 1);
	return origin_parse(v, n, o);
}

#ifndef SYS_getxattrat
#define SYS_getxattrat 464 /* Linux 6.13 */
#endif

/* getxattrat(2)'s argument block (linux/xattr.h, not in every libc's). */
struct xattr_at_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static int no_getxattrat; /* the kernel lacks it: ENOSYS once */

/* The record of entry NAME of the dir open as DIRFD (real path REAL) into
 * V (LEN bytes, the last kept for a NUL): its length, or -1 with errno. */
static ssize_t read_at(int dirfd, const char *name, const char *real, char *v,
		       size_t len)
{
	if (!__atomic_load_n(&no_getxattrat, __ATOMIC_RELAXED)) {
		struct xattr_at_args a = {(uint64_t)(uintptr_t)v, (uint32_t)len - 1, 0};
		ssize_t n = SYS(syscall)(SYS_getxattrat, dirfd, name,
					 AT_SYMLINK_NOFOLLOW, US_ORIGIN_XATTR, &a,
					 sizeof a);
		/* ENOSYS before Linux 6.13; EPERM from a seccomp filter
		 * (containers) that does not know the call */
		if (n >= 0 || (errno != ENOSYS && errno != EINVAL && errno != EPERM))
			return n;
		if (errno == ENOSYS || errno == EPERM)
			__atomic_store_n(&no_getxattrat, 1, __ATOMIC_RELAXED);
	}
	return SYS(lgetxattr)(real, US_ORIGIN_XATTR, v, len - 1);
}

int us_origin_read_at(int dirfd, const char *name, const char *real,
		      struct us_origin *o)
{
	char v[96];

	return origin_parse(v, read_at(dirfd, name, real, v, sizeof v), o);
}

int us_origin_read_entry(const struct us_mount *m, int dirfd, const char *name,
			 unsigned char type, uint64_t ino, const char *real,
			 struct us_origin *o)
{
	bool xattrs = type == DT_REG || type == DT_DIR || type == DT_UNKNOWN;

	return xattrs ? us_origin_read_at(dirfd, name, real, o)
		      : us_origin_read_aside(m, real, ino, o) == 1;
}

int us_origin_probe_at(int dirfd, const char *name, const char *real)
{
	char v[96];
	int saved = errno;

	if (read_at(dirfd, name, real, v, sizeof v) >= 0 || errno == ERANGE)
		return 1;
	int rc = errno == ENODATA || errno == ENOTSUP ? 0 : -1;
	errno = saved;
	return rc;
}

int us_origin_write(const char *real, const struct us_origin *o)
{
	char v[96];
	int n = snprintf(v, sizeof v, "%d:%" PRIu64 ":%" PRIu64, o->layer,
			 o->ino, o->nlink);

	return SYS(lsetxattr)(real, US_ORIGIN_XATTR, v, (size_t)n, 0);
}

int us_origin_fwrite(int fd, const struct us_origin *o)
{
	char v[96];
	int n = snprintf(v, sizeof v, "%d:%" PRIu64 ":%" PRIu64, o->layer,
			 o->ino, o->nlink);

	return SYS(fsetxattr)(fd, US_ORIGIN_XATTR, v, (size_t)n, 0);
}

/* The birth time of real object REAL ({0, 0} where not kept). */
static struct timespec birth_of(const char *real)
{
	struct statx sx;
	struct timespec t = {0, 0};

	if (SYS(statx)(AT_FDCWD, real, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME)) {
		t.tv_sec = sx.stx_btime.tv_sec;
		t.tv_nsec = sx.stx_btime.tv_nsec;
	}
	return t;
}

static int aside_path(const struct us_mount *m, uint64_t ino, char *out,
		      size_t len)
{
	int n = snprintf(out, len, "%s/" ORIGINS_DIR "/%" PRIu64, m->work, ino);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int us_origin_write_aside(const struct us_mount *m, const char *real,
			  const struct us_origin *o)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
		char v[128];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (!m->work || SYS(lstat)(real, &st) < 0 ||
	    aside_path(m, st.st_ino, sb->p, sizeof sb->p) < 0)
		return -1;
	struct timespec b = birth_of(real);
	snprintf(sb->v, sizeof sb->v, "%d:%" PRIu64 ":%" PRIu64 ":%lld.%ld", o->layer,
		 o->ino, o->nlink, (long long)b.tv_sec, (long)b.tv_nsec);
	SYS(unlink)(sb->p); /* a record of a removed object that had this number */
	if (SYS(symlink)(sb->v, sb->p) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	snprintf(sb->p, sizeof sb->p, "%s/" ORIGINS_DIR, m->work);
	if (SYS(mkdir)(sb->p, 0700) < 0 && errno != EEXIST)
		return -1;
	aside_path(m, st.st_ino, sb->p, sizeof sb->p);
	return SYS(symlink)(sb->v, sb->p);
}

int us_origin_read_aside(const struct us_mount *m, const char *real,
			 uint64_t ino, struct us_origin *o)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
		char v[128];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	long long sec;
	long nsec;
	int layer;
	uint64_t oino, nlink;

	if (!m->work || aside_path(m, ino, sb->p, sizeof sb->p) < 0)
		return 0;
	ssize_t n = SYS(readlink)(sb->p, sb->v, sizeof sb->v - 1);
	if (n <= 0)
		return 0;
	sb->v[n] = '\0';
	if (sscanf(sb->v, "%d:%" SCNu64 ":%" SCNu64 ":%lld.%ld", &layer, &oino,
		   &nlink, &sec, &nsec) != 5 ||
	    layer < 0 || layer >= US_MAX_LAYERS)
		return 0;
	struct timespec b = birth_of(real);
	if (b.tv_sec != sec || b.tv_nsec != nsec)
		return 0; /* another object got the number since */
	o->layer = layer;
	o->ino = oino;
	o->nlink = nlink;
	return 1;
}

bool us_origin_aside_maybe(const struct us_mount *m, uint64_t ino)
{
	US_SCRATCH_SCOPE;
	char *p = us_scratch_push(US_PATH_MAX);
	struct stat st;
	int saved = errno;

	if (!p || aside_path(m, ino, p, US_PATH_MAX) < 0)
		return true;
	bool maybe = SYS(lstat)(p, &st) == 0 || errno != ENOENT;
	errno = saved;
	return maybe;
}

bool us_origin_aside_any(const struct us_mount *m)
{
	US_SCRATCH_SCOPE;
	char *p = us_scratch_push(US_PATH_MAX);
	int saved = errno;

	if (!p || !m->work)
		return p == NULL;
	snprintf(p, US_PATH_MAX, "%s/" ORIGINS_DIR, m->work);
	int any = us_real_dir_any(p);
	bool maybe = any > 0 || (any < 0 && errno != ENOENT);
	errno = saved;
	return maybe;
}

void us_origin_forget_aside(const struct us_mount *m, const char *real)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return;
	struct stat st;
	int saved = errno;

	if (m->work && SYS(lstat)(real, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode) && st.st_nlink <= 1 && /* its last name */
	    aside_path(m, st.st_ino, sb->p, sizeof sb->p) == 0)
		SYS(unlink)(sb->p);
	errno = saved;
}

bool us_origin_maybe(const struct us_mount *m, int layer,
		     struct us_origin_dir dir)
{
	return m && layer == 0 && m->has_upper &&
	       us_shared_origins_in(m, dir.dev, dir.ino);
}

void us_origin_of(const struct us_mount *m, int layer, const char *real,
		  int fd, struct us_origin_dir dir, const struct stat *st,
		  struct us_origin *o)
{
	if (us_origin_maybe(m, layer, dir)) {
		bool xattrs = S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
		if (xattrs ? us_origin_read(real, fd, o)
			   : real && us_origin_read_aside(m, real, st->st_ino, o))
			return;
	}
	o->layer = layer;
	o->ino = st->st_ino;
	o->nlink = st->st_nlink;
}

/* Runs after a successful stat: whatever the origin reads leave in errno
 * (ENODATA from a file without an origin xattr) is not the caller's. */
void us_ident_stat(const struct us_mount *m, int layer, const char *real,
		   int fd, struct stat *st)
{
	us_ident_stat_in(m, layer, real, fd, US_ORIGIN_DIR_UNKNOWN, st);
}

void us_ident_stat_in(const struct us_mount *m, int layer, const char *real,
		      int fd, struct us_origin_dir dir, struct stat *st)
{
	struct us_origin o;
	int saved = errno;

	us_origin_of(m, layer, real, fd, dir, st, &o);
	st->st_dev = us_mount_dev(m);
	st->st_ino = us_ino_of(m, o.layer, o.ino);
	if (o.layer != layer && o.nlink > 1 && !S_ISDIR(st->st_mode))
		st->st_nlink = us_index_nlink(m, &o, st);
	errno = saved;
}

/* The real dir of real path P, stat'ed: false when it cannot be. */
static bool dir_of(const char *p, struct stat *st)
{
	US_SCRATCH_SCOPE;
	char *d = us_scratch_push(US_PATH_MAX);
	size_t l = strlen(p);

	if (!d || l >= US_PATH_MAX)
		return false;
	memcpy(d, p, l + 1);
	while (l > 1 && d[l - 1] != '/')
		l--;
	d[l > 1 ? l - 1 : l] = '\0';
	return SYS(stat)(d, st) == 0;
}

void us_origin_entering(const struct us_mount *m, const char *newreal)
{
	struct stat nd;
	int saved = errno;

	us_shared_origins_enter_real(m, NULL, dir_of(newreal, &nd) ? &nd : NULL);
	errno = saved;
}

void us_origin_follow(const struct us_mount *m, const char *oldreal,
		      const char *newreal, bool both)
{
	struct stat od, nd;
	int saved = errno;

	enum us_origins_mode mode = us_shared_origins_mode(m);

	if (mode == US_ORIGINS_NONE || mode == US_ORIGINS_ANYWHERE)
		goto out; /* none yet, or read in every dir for good */
	if (!dir_of(oldreal, &od) || !dir_of(newreal, &nd)) {
		us_shared_origins_set(m); /* unsure: read them everywhere */
		goto out;
	}
	/* while the upper is scanned a dir not marked yet may hold some */
	bool all = mode == US_ORIGINS_SCANNING;
	if (all || us_shared_origins_in(m, od.st_dev, od.st_ino))
		us_shared_origins_enter_real(m, NULL, &nd);
	if (both && (all || us_shared_origins_in(m, nd.st_dev, nd.st_ino)))
		us_shared_origins_enter_real(m, NULL, &od);
out:
	errno = saved;
}
