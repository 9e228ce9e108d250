/* openat2.c: openat2(2), which programs reach through syscall().
 *
 * The kernel checks the open_how first (size, unknown bits, RESOLVE_CACHED
 * with a create): asking it with an empty path has no other effect, so
 * those errors stay the kernel's. Without resolve flags the path maps as
 * openat's. With BENEATH, IN_ROOT, NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV or
 * CACHED, a call that can reach a union is resolved by
 * us_resolve_at from the dirfd's path with the rules the kernel applies
 * on a mount of that union, and the kernel opens the real object found,
 * with no resolve flags left. A call that stays outside every union (the
 * same walk tells, a symlink into a union included) goes to the kernel
 * unchanged, with its flags, once the walk has checked that a write does
 * not land in a lower dir. A magic link (/proc/self/fd/N/...) is one
 * every such flag refuses: the kernel answers it itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../dirfdpath.h"
#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "openat2.h"
#include "unionshim/path.h"

#define SCOPE_FLAGS                                                           \
	(RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |             \
	 RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_CACHED)

struct call {
	struct us_target t;
	char base[US_PATH_MAX]; /* the dirfd's path: where the walk starts */
	char abs[US_PATH_MAX];
};

static long real_openat2(int dirfd, const char *path,
			 const struct open_how *how, size_t size)
{
	return US_REAL(syscall)(SYS_openat2, (long)dirfd, path, how, size);
}

/* Does the kernel take HOW and SIZE? 0, or -1 with its errno. */
static int how_ok(const struct open_how *how, size_t size)
{
	long fd = real_openat2(AT_FDCWD, "", how, size);

	if (fd >= 0) /* cannot happen: "" names nothing */
		US_REAL(close)((int)fd);
	return fd >= 0 || errno == ENOENT ? 0 : -1;
}

/* Could a walk of PATH from BASE reach a union? Lexically, or, when
 * ".." is clamped or refused at BASE, by any target at or below BASE. */
static bool reaches_union(struct call *c, const char *path, unsigned res)
{
	if (path[0] == '/' && !(res & RESOLVE_IN_ROOT))
		return us_touches_union(&us_cfg, path);
	if (us_path_join(c->abs, sizeof c->abs, c->base, path) < 0 ||
	    us_touches_union(&us_cfg, c->abs))
		return true;
	if (!(res & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)))
		return false;
	size_t bl = strlen(c->base);
	for (int k = 0; k < us_cfg.nmounts; k++)
		if (us_path_under(us_cfg.mounts[k].target, c->base,
				  bl == 1 ? 0 : bl))
			return true;
	return false;
}

/* The path the real call gets (and *DIRFD), as us_path_at; PATH itself
 * when the call is the kernel's alone. NULL with errno. */
static const char *scoped_path(struct call *c, int *dirfd, const char *path,
			       unsigned mf, unsigned res)
{
	const char *rest;
	bool rooted = res & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);

	c->t.r.where = US_OUTSIDE;
	if (path[0] == '/' && !(res & RESOLVE_IN_ROOT) &&
	    us_magic_fd(path, &rest) >= 0)
		return path;
	if (path[0] != '/' || rooted) {
		int rc = *dirfd == AT_FDCWD
				 ? us_cwd_get(c->base, sizeof c->base)
				 : us_fd_path(*dirfd, c->base, sizeof c->base);
		if (rc < 0)
			return path; /* no dir: EBADF, ENOTDIR are the kernel's */
	}
	bool reaches = reaches_union(c, path, res);
	c->t.moves0 = us_dirfd_moves_all(); /* before the lookup (front.h) */
	unsigned rflags = (mf & US_MAP_NOFOLLOW) ? US_LOOKUP_NOFOLLOW : 0;
	if (us_resolve_at(&us_cfg, c->base, path, rflags, res & SCOPE_FLAGS,
			  &c->t.r) < 0) {
		if (reaches || c->t.r.where == US_INSIDE)
			return NULL;
		return path; /* never in a union: the kernel's own answer */
	}
	if (us_map_resolved(mf, &c->t) != US_MAPPED)
		return NULL; /* a refusal: EROFS for a lower's own path */
	if (c->t.r.where != US_INSIDE && !reaches)
		return path; /* the kernel's, with its flags, atomically */
	*dirfd = AT_FDCWD;
	return c->t.real;
}

static long openat2_union(struct call *c, int dirfd, const char *path,
			  const struct open_how *how, size_t size)
{
	if (how_ok(how, size) < 0)
		return -1;
	unsigned mf = us_open_map_flags((int)how->flags);
	const char *p = how->resolve & SCOPE_FLAGS
				? scoped_path(c, &dirfd, path, mf, (unsigned)how->resolve)
				: us_path_at(&dirfd, path, mf, &c->t);
	if (!p)
		return -1;
	/* the real object is found: no resolve flag applies to its path */
	struct open_how h = {.flags = how->flags, .mode = how->mode};
	long fd = p == path ? real_openat2(dirfd, p, how, size)
			    : real_openat2(dirfd, p, &h, sizeof h);
	if (fd >= 0) {
		us_created(&c->t);
		us_fd_opened((int)fd, (int)how->flags, path, &c->t);
	}
	return fd;
}

long us_door_openat2(long dirfd, const char *path, const struct open_how *how,
		     long size)
{
	size_t mark = us_scratch_mark();
	if (!us_readable(path) || !*path || !us_begin())
		return real_openat2((int)dirfd, path, how, (size_t)size);
	int saved = errno; /* a success leaves it as it was */
	struct call *c = us_scratch_push(sizeof *c); /* popped by the scope */
	struct us_target *t = c ? &c->t : NULL;
	if (t)
		us_target_init(t);
	long fd = c ? openat2_union(c, (int)dirfd, path, how, (size_t)size) : -1;
	us_target_end(&t); /* the dir fd of a long real path (front.h) */
	if (fd >= 0)
		errno = saved;
	us_end_scope(&mark);
	return fd;
}
