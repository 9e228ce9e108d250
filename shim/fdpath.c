/* fdpath.c: what an fd refers to, in union terms. The kernel's own link
 * /proc/self/fd/N gives the real path (us_fd_real, the fd map's); a real
 * path inside a layer is read back as the union path it belongs to,
 * unless the fd was opened by that real path from outside the union (then
 * it stays the real path).
 *
 * Dependencies run one way: front.c (a dirfd's union path, a magic link's
 * object) and fdwrite.c call this file; it calls only the fd map
 * (fdmap.h) and the core, never front.c. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "dirfdpath.h"
#include "fdmap.h"
#include "front.h"
#include "state.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"

/* FD was opened by a real path outside every union (a lower's own path,
 * say): it stays that path, never the union object at the same place. */
static bool opened_outside(int fd)
{
	return us_fd_kind(fd) == US_FD_OUTSIDE;
}

/* A union dir fd's path is remembered (dirfdpath.h): *at() calls on it
 * cost no readlink. */
int us_fd_path(int fd, char *out, size_t len)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return -1;
	uint32_t moves;

	if (us_dirfd_cached(fd, out, len, &moves) ||
	    us_dirfd_recheck(fd, out, len, moves))
		return 1;
	if (us_fd_real(fd, lp->real, sizeof lp->real) < 0)
		return -1;
	int rc = opened_outside(fd) ? 0 : us_revmap(&us_cfg, lp->real, out, len, NULL);
	if (rc == 1)
		us_dirfd_remember(fd, out, moves);
	if (rc != 0)
		return rc;
	if (strlen(lp->real) + 1 > len)
		return -1;
	strcpy(out, lp->real);
	return 0;
}

bool us_fd_union_dir_now(int fd, struct us_resolved *r)
{
	US_SCRATCH_SCOPE;
	char *upath = us_scratch_push(US_PATH_MAX);
	int saved = errno;
	bool dir = upath && us_fd_path(fd, upath, US_PATH_MAX) == 1 &&
		   us_resolve(&us_cfg, upath, US_LOOKUP_NOFOLLOW, r) == 0 &&
		   !r->err && r->where == US_INSIDE && S_ISDIR(r->node.mode);
	errno = saved;
	return dir;
}

bool us_fd_path_lost(int fd)
{
	return us_fd_kind(fd) == US_FD_UNION;
}

/* Does real path REAL lie in the upper layer of M? */
static bool in_upper(const struct us_mount *m, const char *real)
{
	return m->has_upper &&
	       us_path_under(real, m->layers[0].path, m->layers[0].len);
}

int us_real_lower_object(const char *real, char *out, size_t len)
{
	const struct us_mount *m;

	return us_revmap(&us_cfg, real, out, len, &m) == 1 && !in_upper(m, real);
}

int us_fd_lower_object(int fd, char *out, size_t len)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return 0;

	return us_fd_real(fd, lp->real, sizeof lp->real) == 0 && !opened_outside(fd) &&
	       us_real_lower_object(lp->real, out, len);
}

int us_magic_lower_object(const char *path, char *out, size_t len)
{
	const char *rest;
	int fd = us_magic_fd(path, &rest);

	return fd >= 0 && !*rest && us_fd_lower_object(fd, out, len);
}
