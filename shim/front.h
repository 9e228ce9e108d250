/* front.h: what a wrapper asks before it calls the real function.
 *
 * us_map() turns a caller's (dirfd, path) into what the real call should
 * get: the path unchanged (it is none of the union's business), the real
 * path of a union object, or a failure with the errno the call must
 * return. Wrappers stay thin: map, call, fix up. */
#ifndef UNIONSHIM_FRONT_H
#define UNIONSHIM_FRONT_H

#include <limits.h>

#include "real.h"
#include "unionshim/lookup.h"

/* What the call does to the final object. */
#define US_MAP_NOFOLLOW 0x01 /* act on a final symlink itself */
#define US_MAP_WRITE 0x02    /* changes an existing object */
#define US_MAP_CREATE 0x04   /* makes a new name: EEXIST if it exists */
#define US_MAP_OPENCREAT 0x08 /* O_CREAT without O_EXCL: may make it */
#define US_MAP_EMPTY_OK 0x10 /* "" names DIRFD itself (AT_EMPTY_PATH) */

/* The US_MAP_* flags of an open(2) with FLAGS. */
US_HIDDEN unsigned us_open_map_flags(int flags);

enum us_map_result { US_FAIL = -1, US_PASS = 0, US_MAPPED = 1 };

struct us_target {
	struct us_resolved r; /* r.where == US_INSIDE: the union object */
	char real[PATH_MAX];  /* US_MAPPED: the path for the real call */
};

US_HIDDEN int us_map(int dirfd, const char *path, unsigned flags,
		     struct us_target *t);

/* us_map for the common shapes: the path (and *DIRFD) the real call should
 * get, or NULL with errno set. */
US_HIDDEN const char *us_path(const char *path, unsigned flags,
			      struct us_target *t);
US_HIDDEN const char *us_path_at(int *dirfd, const char *path,
				 unsigned flags, struct us_target *t);

/* The union path of what FD refers to (1), its real path when it is in
 * no union (0), or -1 when FD names no path (pipe, socket, bad fd). */
US_HIDDEN int us_fd_path(int fd, char *out, size_t len);

/* "/proc/self/fd/N/rest", "/proc/<our pid>/fd/N/rest" or "/dev/fd/N/rest":
 * the fd number, and *REST pointing at "/rest" or "". -1 if none. */
US_HIDDEN int us_magic_fd(const char *path, const char **rest);

/* A call that would change the object behind FD: 0 if allowed, else -1
 * with EROFS when FD lies in a union. */
US_HIDDEN int us_fd_write_check(int fd);

/* The errno for a write into a union (no copy-up yet: EROFS). */
US_HIDDEN int us_write_errno(const struct us_mount *m);

/* Join BASE and the relative PATH into OUT; -1/ENAMETOOLONG. */
US_HIDDEN int us_abs_path(int dirfd, const char *path, char *out, size_t len);

/* A pointer glibc declares nonnull but the kernel accepts as NULL (or
 * answers with EFAULT): hide it from the compiler's nonnull reasoning. */
static inline const char *us_unchecked(const char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

#endif
