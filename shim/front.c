/* front.c: map a caller's (dirfd, path) onto the union (see front.h).
 *
 * The fast path for a path that is no union's business is string work
 * only: the virtual cwd is copied, the path is walked lexically, and the
 * original arguments go to the real call untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "guard.h"
#include "state.h"
#include "unionshim/linkindex.h"
#include "unionshim/path.h"

unsigned us_open_map_flags(int flags)
{
	unsigned f = 0;

	if (flags & O_NOFOLLOW)
		f |= US_MAP_NOFOLLOW;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND)) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		f |= US_MAP_WRITE;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
		f |= US_MAP_NODATA; /* truncated at once: copy metadata only */
	if ((flags & O_CREAT) && (flags & O_EXCL))
		f |= US_MAP_CREATE | US_MAP_NOFOLLOW;
	else if (flags & O_CREAT)
		f |= US_MAP_OPENCREAT;
	return f;
}

int us_abs_path(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX];
	const char *rest;
	int fd;

	if (path[0] == '/') {
		if (!us_magic_self(path))
			goto copy;
		fd = us_magic_fd(path, &rest);
		/* a bare /proc/self/fd/N reopens the fd's own file: keep it */
		if (fd >= 0 && (!*rest || us_fd_path(fd, base, sizeof base) != 1))
			goto copy;
		/* /proc/self/cwd/x: the kernel's cwd is a layer dir */
		if (fd < 0 && !us_magic_dir(path, base, sizeof base, &rest))
			goto copy;
		if (us_path_join(out, len, base, *rest ? rest + 1 : "") < 0)
			return -1;
		if (fd >= 0 || us_touches_union(&us_cfg, out))
			return 0;
		goto copy; /* no union's business: the kernel's own view */
	}
	if (dirfd == AT_FDCWD) {
		if (us_cwd_get(base, sizeof base) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
	} else if (us_fd_path(dirfd, base, sizeof base) < 0) {
		errno = EBADF;
		return -1;
	}
	return us_path_join(out, len, base, path);
copy:
	if (strlen(path) + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, path);
	return 0;
}

static int fail(int err)
{
	errno = err;
	return US_FAIL;
}

/* Decide for a union object found (or not) by the resolver. */
static int inside(unsigned flags, struct us_target *t)
{
	struct us_resolved *r = &t->r;

	if ((flags & US_MAP_WRITES) && us_nested())
		return fail(EAGAIN); /* guard.h: no copy-up in a nested call */
	t->creates = flags & (US_MAP_CREATE | US_MAP_OPENCREAT);
	if (r->err) {
		if (flags & (US_MAP_CREATE | US_MAP_OPENCREAT))
			return us_prepare_create(t) < 0 ? US_FAIL : US_MAPPED;
		if (flags & US_MAP_MAYBE) {
			t->real[0] = '\0';
			return US_MAPPED;
		}
		return fail(r->err);
	}
	if (flags & US_MAP_CREATE)
		return fail(EEXIST);
	if ((flags & US_MAP_WRITE) &&
	    us_prepare_write(t, !(flags & US_MAP_NODATA)) < 0)
		return US_FAIL;
	if (!(flags & US_MAP_WRITES) &&
	    us_index_find(r->m, &r->node, t->real, sizeof t->real) == 1) {
		t->indexed = true; /* a hard link copied up by another name */
		return US_MAPPED;
	}
	if (us_layer_path(r->m, r->node.layer, r->path, t->real,
			  sizeof t->real) < 0)
		return US_FAIL;
	return US_MAPPED;
}

/* Does a call with FLAGS act on what a magic link leads to (a write, a
 * link source), not on the link's own name (remove, create, NOFOLLOW)? */
static bool follows_to_object(unsigned flags)
{
	return (flags & (US_MAP_WRITE | US_MAP_OPENCREAT | US_MAP_OBJECT)) &&
	       !(flags & (US_MAP_NOFOLLOW | US_MAP_REMOVE | US_MAP_CREATE));
}

static int map(int dirfd, const char *path, unsigned flags,
	       struct us_target *t)
{
	char abs[PATH_MAX];

	t->r.where = US_OUTSIDE;
	t->creates = false;
	t->whiteout = false;
	t->swap = false;
	t->indexed = false;
	if (!path || !*path)
		return US_PASS; /* EFAULT, ENOENT or AT_EMPTY_PATH: the kernel's */
	if (follows_to_object(flags) && path[0] == '/' &&
	    us_magic_lower_object(path, abs, sizeof abs))
		/* the fd's object, never a new name made in its place */
		flags = (flags | US_MAP_NOFOLLOW) & ~US_MAP_OPENCREAT;
	else if (us_abs_path(dirfd, path, abs, sizeof abs) < 0)
		return errno == EBADF ? US_PASS : US_FAIL;
	if (!us_touches_union(&us_cfg, abs))
		return (flags & US_MAP_WRITES) && us_lower_guard(abs, flags) < 0
			       ? US_FAIL
			       : US_PASS;
	unsigned rflags = (flags & US_MAP_NOFOLLOW) ? US_LOOKUP_NOFOLLOW : 0;
	if (us_resolve(&us_cfg, abs, rflags, &t->r) < 0)
		return US_FAIL;
	return us_map_resolved(flags, t);
}

int us_map_resolved(unsigned flags, struct us_target *t)
{
	t->creates = false;
	t->whiteout = false;
	t->indexed = false;
	if (t->r.where == US_INSIDE)
		return inside(flags, t);
	if (strlen(t->r.path) + 1 > sizeof t->real)
		return fail(ENAMETOOLONG);
	strcpy(t->real, t->r.path);
	if ((flags & US_MAP_WRITES) && us_lower_guard(t->real, flags) < 0)
		return US_FAIL;
	return US_MAPPED;
}

const char *us_path_at(int *dirfd, const char *path, unsigned flags,
		       struct us_target *t)
{
	switch (us_map(*dirfd, path, flags, t)) {
	case US_PASS:
		return path;
	case US_MAPPED:
		*dirfd = AT_FDCWD;
		return t->real;
	default:
		return NULL;
	}
}

const char *us_path(const char *path, unsigned flags, struct us_target *t)
{
	int dirfd = AT_FDCWD;

	return us_path_at(&dirfd, path, flags, t);
}

/* The caller's errno goes to the real call: what the lookup, a copy-up
 * or the lower guard left in it on their way to success is theirs. */
int us_map(int dirfd, const char *path, unsigned flags, struct us_target *t)
{
	int rc = map(dirfd, path, flags, t);

	if (rc != US_FAIL)
		us_errno_back();
	return rc;
}
