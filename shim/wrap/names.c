/* names.c: making, removing and renaming names (link, symlink, rename,
 * unlink, remove) and reading symlinks. readlink of this process's magic
 * links (/proc/self/fd/N, /proc/self/cwd, /proc/self/exe, /dev/fd/N)
 * answers with the union path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "../fdroom.h"
#include "glibc_protos.h"
#include "unionshim/unionops.h"
#include "unionshim/scratch.h"

#define NEWNAME (US_MAP_CREATE | US_MAP_NOFOLLOW)
#define RM (US_MAP_REMOVE | US_MAP_NOFOLLOW)

/* What the kernel refuses before it looks at a path: flags it does not
 * know (EINVAL), then an empty name (ENOENT; AT_EMPTY_PATH's own aside).
 * True with errno set. */
static bool flags_refused(unsigned flags, unsigned known)
{
	if (!(flags & ~known))
		return false;
	errno = EINVAL;
	return true;
}

static bool empty_refused(const char *path)
{
	if (!us_readable(path) || *path)
		return false;
	errno = ENOENT;
	return true;
}

US_EXPORT int linkat(int olddirfd, const char *old, int newdirfd,
		     const char *new, int flags)
{
	US_SHIM_OR(US_REAL(linkat)(olddirfd, old, newdirfd, new, flags));
	if (flags_refused((unsigned)flags, AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) ||
	    (!(flags & AT_EMPTY_PATH) && empty_refused(old)) || empty_refused(new))
		return -1;
	return us_link(olddirfd, old, newdirfd, new, flags);
}

US_EXPORT int link(const char *old, const char *new)
{
	return US_SELF(linkat)(AT_FDCWD, old, AT_FDCWD, new, 0);
}

/* The link's text is not a path to map: it is stored as written. */
US_EXPORT int symlinkat(const char *text, int dirfd, const char *path)
{
	US_SHIM_OR(US_REAL(symlinkat)(text, dirfd, path));
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, NEWNAME, t);
	if (!p || US_REAL(symlinkat)(text, dirfd, p) < 0)
		return -1;
	us_created(t);
	return 0;
}

US_EXPORT int symlink(const char *text, const char *path)
{
	return US_SELF(symlinkat)(text, AT_FDCWD, path);
}

static int rename_union(int olddirfd, const char *old, int newdirfd,
			const char *new, unsigned int flags)
{
	US_SCRATCH_SCOPE;
	if (us_names_dot(old) || us_names_dot(new))
		return us_rename_dot(olddirfd, old, newdirfd, new, flags);
	US_TARGET(to);
	US_TARGET(tn);
	const char *o = us_path_at(&olddirfd, old, RM, to);
	const char *n = o ? us_path_at(&newdirfd, new, RM | US_MAP_MAYBE, tn) : NULL;
	if (!n)
		return -1;
	if (to->r.where == US_INSIDE || tn->r.where == US_INSIDE) {
		if (to->r.where != tn->r.where || to->r.m != tn->r.m) {
			errno = EXDEV; /* across mounts, as the kernel says */
			return -1;
		}
		return us_ok(us_union_rename(
			&to->r, &tn->r,
			flags | (to->slashed ? US_RENAME_OLD_SLASHED : 0) |
				(tn->slashed ? US_RENAME_NEW_SLASHED : 0)));
	}
	return US_REAL(renameat2)(olddirfd, o, newdirfd, n, flags);
}

/* A rename or remove in a union takes fds of the shim's where overlayfs
 * takes none: with none free, again with room (fdroom.h). */
US_EXPORT int renameat2(int olddirfd, const char *old, int newdirfd,
			const char *new, unsigned int flags)
{
	US_SHIM_OR(US_REAL(renameat2)(olddirfd, old, newdirfd, new, flags));
	if (flags_refused(flags, RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) ||
	    ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))) {
		errno = EINVAL;
		return -1;
	}
	if (empty_refused(old) || empty_refused(new))
		return -1;
	int rc = rename_union(olddirfd, old, newdirfd, new, flags);
	if (us_fdroom_again(rc)) {
		rc = rename_union(olddirfd, old, newdirfd, new, flags);
		us_fdroom_end();
	}
	return rc;
}

US_EXPORT int renameat(int olddirfd, const char *old, int newdirfd,
		       const char *new)
{
	return US_SELF(renameat2)(olddirfd, old, newdirfd, new, 0);
}

US_EXPORT int rename(const char *old, const char *new)
{
	return US_SELF(renameat2)(AT_FDCWD, old, AT_FDCWD, new, 0);
}

/* unlink of "name/" (R: the name, found): the kernel looks it up, never
 * follows it, and refuses it by its kind (a read-only mount first). */
static int unlink_slashed(const struct us_resolved *r)
{
	errno = !r->m->has_upper	 ? EROFS
		: S_ISDIR(r->node.mode) ? EISDIR
					 : ENOTDIR;
	return -1;
}

static int unlink_union(int dirfd, const char *path, int flags)
{
	US_SCRATCH_SCOPE;
	if (us_names_dot(path))
		return us_remove_dot(dirfd, path, flags);
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, RM, t);
	if (!p)
		return -1;
	if (t->r.where == US_INSIDE && t->slashed && !(flags & AT_REMOVEDIR))
		return unlink_slashed(&t->r);
	if (t->r.where == US_INSIDE)
		return us_ok(us_union_remove(&t->r, flags & AT_REMOVEDIR));
	return US_REAL(unlinkat)(dirfd, p, flags);
}

US_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	US_SHIM_OR(US_REAL(unlinkat)(dirfd, path, flags));
	if (flags_refused((unsigned)flags, AT_REMOVEDIR) || empty_refused(path))
		return -1;
	int rc = unlink_union(dirfd, path, flags);
	if (us_fdroom_again(rc)) {
		rc = unlink_union(dirfd, path, flags);
		us_fdroom_end();
	}
	return rc;
}

US_EXPORT int unlink(const char *path)
{
	return US_SELF(unlinkat)(AT_FDCWD, path, 0);
}

/* glibc's remove() calls its internal unlink and rmdir. A dir removed
 * leaves errno as it was (glibc leaves the EISDIR of its first try). */
US_EXPORT int remove(const char *path)
{
	int saved = errno;

	if (US_SELF(unlinkat)(AT_FDCWD, path, 0) == 0)
		return 0;
	if (errno != EISDIR || US_SELF(unlinkat)(AT_FDCWD, path, AT_REMOVEDIR) < 0)
		return -1;
	errno = saved;
	return 0;
}

/* A magic link's target as the kernel gives it: a path past a page
 * (PATH_MAX) is ENAMETOOLONG, never cut. */
static ssize_t copy_out(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (!us_path_fits(s)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (n > size)
		n = size;
	memcpy(buf, s, n);
	return (ssize_t)n;
}

/* 1 with *RESULT set when PATH is a magic link we answer, else 0. */
static int magic_readlink(const char *path, char *buf, size_t size,
			  ssize_t *result)
{
	const char *what = us_magic_self(path);
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return (*result = -1, 1);

	if (!what)
		return 0;
	if (strcmp(what, "cwd") == 0) {
		if (us_cwd_get(sb->up, sizeof sb->up) < 0)
			return 0;
		*result = copy_out(sb->up, buf, size);
		return 1;
	}
	if (strncmp(what, "fd/", 3) == 0 && !strchr(what + 3, '/')) {
		const char *rest;
		int fd = us_magic_fd(path, &rest);
		/* an fd opened by a layer's own path answers that path */
		if (fd < 0 || us_fd_path(fd, sb->up, sizeof sb->up) != 1)
			return 0;
		*result = copy_out(sb->up, buf, size);
		return 1;
	}
	if (strcmp(what, "exe") != 0)
		return 0;
	ssize_t n = US_REAL(readlink)(path, sb->real, sizeof sb->real - 1);
	if (n < 0) {
		*result = -1;
		return 1;
	}
	sb->real[n] = '\0';
	if (us_revmap(&us_cfg, sb->real, sb->up, sizeof sb->up, NULL) != 1)
		return 0;
	*result = copy_out(sb->up, buf, size);
	return 1;
}

US_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf,
			     size_t size)
{
	US_SHIM_OR(US_REAL(readlinkat)(dirfd, path, buf, size));
	US_TARGET(t);
	ssize_t n;
	if (us_readable(path) && path[0] == '/' &&
	    magic_readlink(path, buf, size, &n))
		return n;
	const char *p = us_path_at(&dirfd, path, US_MAP_NOFOLLOW | US_MAP_RELATIVE, t);
	return p ? US_REAL(readlinkat)(dirfd, p, buf, size) : -1;
}

US_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	return US_SELF(readlinkat)(AT_FDCWD, path, buf, size);
}

US_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len,
				 size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return US_SELF(readlinkat)(AT_FDCWD, path, buf, len);
}

US_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
				   size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return US_SELF(readlinkat)(dirfd, path, buf, len);
}
