/* front.h: what a wrapper asks before it calls the real function.
 *
 * us_map() turns a caller's (dirfd, path) into what the real call should
 * get: the path unchanged (it is none of the union's business), the real
 * path of a union object, or a failure with the errno the call must
 * return. Wrappers stay thin: map, call, fix up. */
#ifndef UNIONSHIM_FRONT_H
#define UNIONSHIM_FRONT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "real.h"
#include "unionshim/lookup.h"

/* What the call does to the final object. */
#define US_MAP_NOFOLLOW 0x01 /* act on a final symlink itself */
#define US_MAP_WRITE 0x02    /* changes an existing object */
#define US_MAP_CREATE 0x04   /* makes a new name: EEXIST if it exists */
#define US_MAP_OPENCREAT 0x08 /* O_CREAT without O_EXCL: may make it */
#define US_MAP_EMPTY_OK 0x10 /* "" names DIRFD itself (AT_EMPTY_PATH) */
#define US_MAP_NODATA 0x20   /* a copy-up may skip the data (O_TRUNC) */
#define US_MAP_REMOVE 0x40   /* unlinks or renames the name (no copy-up) */
#define US_MAP_MAYBE 0x80    /* the final name may be missing (rename) */
#define US_MAP_WRITES                                                         \
	(US_MAP_WRITE | US_MAP_CREATE | US_MAP_OPENCREAT | US_MAP_REMOVE)

/* The US_MAP_* flags of an open(2) with FLAGS. */
US_HIDDEN unsigned us_open_map_flags(int flags);

enum us_map_result { US_FAIL = -1, US_PASS = 0, US_MAPPED = 1 };

struct us_target {
	struct us_resolved r; /* r.where == US_INSIDE: the union object */
	char real[PATH_MAX];  /* US_MAPPED: the path for the real call */
	bool whiteout;        /* a create replaces a whiteout (us_created) */
	bool swap;            /* real is a temp in the work dir, renamed over
				 the name's in-place whiteout (us_created) */
	bool indexed;         /* real is the hard-link index entry of the
				 lower file found (linkindex.h) */
};

/* The layer whose rules T's real object follows: the index entry of a
 * lower hard link is an upper object. */
static inline int us_target_layer(const struct us_target *t)
{
	return t->indexed ? 0 : t->r.node.layer;
}

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

/* When FD is open on a union object, turn ST (its real fstat) into the
 * union's identity and return 1; else 0. */
US_HIDDEN int us_fd_ident(int fd, struct stat *st);

/* "/proc/self/fd/N/rest", "/proc/<our pid>/fd/N/rest" or "/dev/fd/N/rest":
 * the fd number, and *REST pointing at "/rest" or "". -1 if none. */
US_HIDDEN int us_magic_fd(const char *path, const char **rest);

/* A write through FD itself (ftruncate): 0 if allowed, else -1 with
 * EROFS when FD is open on a file of a lower layer. */
US_HIDDEN int us_fd_write_check(int fd);

/* A metadata change through FD (fchmod, fchown, futimens, fsetxattr):
 * 0 to apply it to FD itself, 1 to apply it to the real path put in PATH
 * (the upper copy of FD's lower file, copied up now), -1 with errno. */
US_HIDDEN int us_fd_write(int fd, char *path, size_t len);

/* The errno for a write into union M: 0 with an upper, else EROFS. */
US_HIDDEN int us_write_errno(const struct us_mount *m);

/* Write side of us_map (writeside.c): make ready a new name (parent
 * copied up, T->real its upper path) or a change to an existing object
 * (copied up, with or without its data). 0, or -1 with errno. */
US_HIDDEN int us_prepare_create(struct us_target *t);
US_HIDDEN int us_prepare_write(struct us_target *t, bool data);

/* After a create through T succeeded: drop the whiteout it replaced. */
US_HIDDEN void us_created(const struct us_target *t);

/* A write to real path ABS outside every union: -1 with EROFS when it
 * would land inside a lower dir. */
US_HIDDEN int us_lower_guard(const char *abs, unsigned flags);

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
