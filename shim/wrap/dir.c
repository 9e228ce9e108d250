/* dir.c: directory streams over union dirs, and mkdir/rmdir.
 *
 * opendir/fdopendir of a union dir open glibc's DIR on the topmost layer
 * and attach the merged listing; readdir and friends serve from it. A
 * telldir position is the index into the listing. A dir one layer alone
 * makes passes glibc's own listing through, filtered (dirpass.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dirpass.h"
#include "../dirstream.h"
#include "../fdmap.h"
#include "../fdroom.h"
#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "unionshim/copyup.h"
#include "unionshim/unionops.h"
#include "unionshim/scratch.h"

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64) &&
		       offsetof(struct dirent, d_name) ==
			       offsetof(struct dirent64, d_name),
	       "x86-64: dirent64 is dirent");

/* Attach a listing to DIR when the union dir RESOLVED names one. */
static DIR *attach(DIR *dir, const struct us_resolved *r)
{
	if (!dir || r->where != US_INSIDE || r->err)
		return dir;
	int rc = us_dirstream_attach(dir, r->m, r->path, &r->node);
	if (us_fdroom_again(rc)) { /* the layers' dirs: fds of the shim's */
		rc = us_dirstream_attach(dir, r->m, r->path, &r->node);
		us_fdroom_end();
	}
	if (rc < 0) {
		int saved = errno;
		US_REAL(closedir)(dir);
		errno = saved;
		return NULL;
	}
	return dir;
}

US_EXPORT DIR *opendir(const char *path)
{
	US_SHIM_OR(US_REAL(opendir)(path));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_FD, t);
	DIR *dir = p ? US_REAL(opendir)(p) : NULL;
	if (dir) /* its fd is a dirfd for *at() calls: remember its origin */
		us_fd_opened(dirfd(dir), O_RDONLY | O_DIRECTORY, path, t);
	return us_ok_ptr(attach(dir, &t->r));
}

US_EXPORT DIR *fdopendir(int fd)
{
	US_SHIM_OR(US_REAL(fdopendir)(fd));
	US_SCRATCH_SCOPE;
	struct {
		char upath[US_PATH_MAX];
		struct us_resolved r;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return NULL;
	DIR *dir = US_REAL(fdopendir)(fd);
	if (dir && us_fd_path(fd, sb->upath, sizeof sb->upath) == 1 &&
	    us_resolve(&us_cfg, sb->upath, US_LOOKUP_NOFOLLOW, &sb->r) == 0)
		dir = attach(dir, &sb->r);
	return us_ok_ptr(dir);
}

US_EXPORT int closedir(DIR *dir)
{
	US_SHIM_OR(US_REAL(closedir)(dir));
	us_dirstream_detach(dir);
	if (us_unchecked((const char *)(void *)dir)) /* NULL: glibc's EINVAL */
		us_fd_closing(dirfd(dir)); /* glibc closes it internally */
	return US_REAL(closedir)(dir);
}

/* The next entry of pass-through stream S (dirpass.h) the union shows. */
static struct dirent *pass_readdir(const struct us_dirstream *s, DIR *dir)
{
	struct dirent *d;

	while ((d = US_REAL(readdir)(dir)) &&
	       !us_dirpass_keep(s, dirfd(dir), (struct dirent64 *)(void *)d))
		;
	return d;
}

US_EXPORT struct dirent *readdir(DIR *dir)
{
	US_SHIM_OR(US_REAL(readdir)(dir));
	struct us_dirstream *s = us_dirstream_find(dir);
	if (!s)
		return US_REAL(readdir)(dir);
	if (s->pass)
		return pass_readdir(s, dir);
	if (s->pos >= s->list.n)
		return NULL; /* end of stream: errno untouched */
	return (struct dirent *)(void *)us_dirlist_at(&s->list, s->pos++);
}

US_EXPORT int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	US_SHIM_OR(US_REAL(readdir_r)(dir, entry, result));
	struct us_dirstream *s = us_dirstream_find(dir);
	if (!s)
		return US_REAL(readdir_r)(dir, entry, result);
	if (s->pass) {
		int rc;
		while ((rc = US_REAL(readdir_r)(dir, entry, result)) == 0 && *result &&
		       !us_dirpass_keep(s, dirfd(dir), (struct dirent64 *)(void *)entry))
			;
		return rc;
	}
	if (s->pos >= s->list.n) {
		*result = NULL;
		return 0;
	}
	struct dirent64 *d = us_dirlist_at(&s->list, s->pos++);
	memcpy(entry, d, offsetof(struct dirent, d_name));
	entry->d_reclen = sizeof *entry;
	size_t n = strnlen(d->d_name, sizeof entry->d_name - 1);
	memcpy(entry->d_name, d->d_name, n);
	entry->d_name[n] = '\0';
	*result = entry;
	return 0;
}

US_EXPORT void rewinddir(DIR *dir)
{
	size_t mark = us_scratch_mark();
	if (!us_begin()) {
		US_REAL(rewinddir)(dir);
		return;
	}
	struct us_dirstream *s = us_dirstream_find(dir);
	US_REAL(rewinddir)(dir);
	if (s)
		us_dirstream_reload(s);
	us_errno_back(); /* rewinddir has no way to fail */
	us_end_scope(&mark);
}

US_EXPORT void seekdir(DIR *dir, long pos)
{
	size_t mark = us_scratch_mark();
	if (!us_begin()) {
		US_REAL(seekdir)(dir, pos);
		return;
	}
	struct us_dirstream *s = us_dirstream_find(dir);
	if (!s || s->pass)
		US_REAL(seekdir)(dir, pos);
	else if (pos >= 0)
		s->pos = (size_t)pos;
	us_end_scope(&mark);
}

US_EXPORT long telldir(DIR *dir)
{
	US_SHIM_OR(US_REAL(telldir)(dir));
	struct us_dirstream *s = us_dirstream_find(dir);
	return s && !s->pass ? (long)s->pos : US_REAL(telldir)(dir);
}

US_EXPORT struct dirent64 *readdir64(DIR *) __attribute__((alias("readdir")));
US_EXPORT int readdir64_r(DIR *, struct dirent64 *, struct dirent64 **)
	__attribute__((alias("readdir_r")));

US_EXPORT int mkdir(const char *path, mode_t mode)
{
	US_SHIM_OR(US_REAL(mkdir)(path, mode));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_CREATE | US_MAP_NOFOLLOW | US_MAP_DIRNAME, t);
	if (p && t->r.where == US_INSIDE)
		return us_ok(us_mkdir_upper(t->r.m, t->r.path, mode));
	return p ? US_REAL(mkdir)(p, mode) : -1;
}

US_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	US_SHIM_OR(US_REAL(mkdirat)(dirfd, path, mode));
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, US_MAP_CREATE | US_MAP_NOFOLLOW | US_MAP_DIRNAME, t);
	if (p && t->r.where == US_INSIDE)
		return us_ok(us_mkdir_upper(t->r.m, t->r.path, mode));
	return p ? US_REAL(mkdirat)(dirfd, p, mode) : -1;
}

static int rmdir_union(const char *path)
{
	US_SCRATCH_SCOPE;
	if (us_names_dot(path))
		return us_remove_dot(AT_FDCWD, path, AT_REMOVEDIR);
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_REMOVE | US_MAP_NOFOLLOW, t);
	if (p && t->r.where == US_INSIDE)
		return us_ok(us_union_remove(&t->r, true));
	return p ? US_REAL(rmdir)(p) : -1;
}

/* A merged dir is read to see it empty: with no fd free, again with room
 * for the shim's (fdroom.h), as overlayfs needs none. */
US_EXPORT int rmdir(const char *path)
{
	US_SHIM_OR(US_REAL(rmdir)(path));
	int rc = rmdir_union(path);
	if (us_fdroom_again(rc)) {
		rc = rmdir_union(path);
		us_fdroom_end();
	}
	return rc;
}
