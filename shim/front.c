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
#include "state.h"
#include "trace.h"
#include "unionshim/path.h"

unsigned us_open_map_flags(int flags)
{
	unsigned f = 0;

	if (flags & O_NOFOLLOW)
		f |= US_MAP_NOFOLLOW;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND)) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		f |= US_MAP_WRITE;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		f |= US_MAP_CREATE | US_MAP_NOFOLLOW;
	else if (flags & O_CREAT)
		f |= US_MAP_OPENCREAT;
	return f;
}

int us_write_errno(const struct us_mount *m)
{
	(void)m; /* copy-up does not exist yet: every union is read-only */
	return EROFS;
}

int us_fd_path(int fd, char *out, size_t len)
{
	char proc[64], real[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	n = US_REAL(readlink)(proc, real, sizeof real - 1);
	if (n <= 0 || real[0] != '/')
		return -1;
	real[n] = '\0';
	int rc = us_revmap(&us_cfg, real, out, len, NULL);
	if (rc != 0)
		return rc;
	if ((size_t)n + 1 > len)
		return -1;
	memcpy(out, real, (size_t)n + 1);
	return 0;
}

int us_fd_write_check(int fd)
{
	char up[PATH_MAX];

	if (us_fd_path(fd, up, sizeof up) != 1)
		return 0;
	errno = us_write_errno(us_mount_of(&us_cfg, up));
	us_trace_denied("write through an fd", up);
	return -1;
}

int us_magic_fd(const char *path, const char **rest)
{
	const char *p;
	char own[32];

	if (strncmp(path, "/dev/fd/", 8) == 0) {
		p = path + 8;
	} else if (strncmp(path, "/proc/self/fd/", 14) == 0) {
		p = path + 14;
	} else {
		int n = snprintf(own, sizeof own, "/proc/%d/fd/", (int)getpid());
		if (strncmp(path, own, (size_t)n) != 0)
			return -1;
		p = path + n;
	}
	if (*p < '0' || *p > '9')
		return -1;
	char *end;
	long fd = strtol(p, &end, 10);
	if ((*end != '\0' && *end != '/') || fd > INT_MAX)
		return -1;
	*rest = end;
	return (int)fd;
}

int us_abs_path(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX];
	const char *rest;
	int fd;

	if (path[0] == '/') {
		fd = us_magic_fd(path, &rest);
		/* a bare /proc/self/fd/N reopens the fd's own file: keep it */
		if (fd < 0 || !*rest || us_fd_path(fd, base, sizeof base) != 1)
			goto copy;
		return us_path_join(out, len, base, rest + 1);
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

static int deny(const char *what, const struct us_resolved *r)
{
	errno = us_write_errno(r->m);
	us_trace_denied(what, r->path);
	return US_FAIL;
}

/* Decide for a union object found (or not) by the resolver. */
static int inside(unsigned flags, struct us_target *t)
{
	struct us_resolved *r = &t->r;

	if (r->err) {
		if (flags & (US_MAP_CREATE | US_MAP_OPENCREAT))
			return deny("create", r);
		return fail(r->err);
	}
	if (flags & US_MAP_CREATE)
		return fail(EEXIST);
	if (flags & US_MAP_WRITE)
		return deny("write", r);
	if (us_layer_path(r->m, r->node.layer, r->path, t->real,
			  sizeof t->real) < 0)
		return US_FAIL;
	return US_MAPPED;
}

int us_map(int dirfd, const char *path, unsigned flags, struct us_target *t)
{
	char abs[PATH_MAX];

	t->r.where = US_OUTSIDE;
	if (!path || !*path)
		return US_PASS; /* EFAULT, ENOENT or AT_EMPTY_PATH: the kernel's */
	if (us_abs_path(dirfd, path, abs, sizeof abs) < 0)
		return errno == EBADF ? US_PASS : US_FAIL;
	if (!us_touches_union(&us_cfg, abs))
		return US_PASS;
	unsigned rflags = (flags & US_MAP_NOFOLLOW) ? US_LOOKUP_NOFOLLOW : 0;
	if (us_resolve(&us_cfg, abs, rflags, &t->r) < 0)
		return US_FAIL;
	if (t->r.where == US_INSIDE)
		return inside(flags, t);
	if (strlen(t->r.path) + 1 > sizeof t->real)
		return fail(ENAMETOOLONG);
	strcpy(t->real, t->r.path);
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
