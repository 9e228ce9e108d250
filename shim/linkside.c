/* linkside.c: link(2) in union terms.
 *
 * A new name for a union object is a link of its upper copy: the object is
 * copied up first, as overlayfs does, also when it is named by an fd
 * (AT_EMPTY_PATH, or /proc/self/fd/N with AT_SYMLINK_FOLLOW), so the
 * kernel never links a lower inode. A lower inode is never given a name:
 * a link of a lower's own path (outside the union) to a name in a union
 * makes a copy in the upper (a new object, through the work dir like a
 * copy-up); to any other name it fails with EROFS, since the link would
 * change the lower inode and the new name would write it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fdmap.h"
#include "front.h"
#include "state.h"
#include "trace.h"
#include "unionshim/event.h"
#include "unionshim/lcache.h"
#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/path.h"
#include "unionshim/shared.h"

#define NEWNAME (US_MAP_CREATE | US_MAP_NOFOLLOW)

struct link_job {
	struct us_target o, n;
	char src[US_PATH_MAX];   /* the union path or real path of the source */
	char canon[US_PATH_MAX]; /* the source's canonical real path; the new
				  name's path and dir (refused) */
};

/* The kernel refuses this link with ERR (EPERM: a dir; EXDEV: the names
 * are on two mounts) once it has found the new name NEW (from NDFD): the
 * new name's own errors come first (its dir missing, the name taken:
 * EEXIST). Nothing is copied up for it, neither the source nor the new
 * name's dir. */
static int refused(struct link_job *j, int ndfd, const char *new, int err)
{
	const char *n = us_path_at(&ndfd, new,
				   US_MAP_NOFOLLOW | US_MAP_MAYBE | US_MAP_NAME,
				   &j->n);
	struct stat st;

	if (!n)
		return -1;
	if (j->n.r.where == US_INSIDE) { /* "new/" free: a dir was asked for */
		errno = !j->n.r.err ? EEXIST : j->n.slashed ? ENOENT : err;
		return -1;
	}
	if (US_REAL(fstatat)(ndfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	/* the name is free: is its dir there? */
	size_t l = strlen(n);
	while (l > 1 && n[l - 1] == '/')
		l--;
	while (l > 0 && n[l - 1] != '/')
		l--;
	if (l + 2 > sizeof j->canon) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(j->canon, n, l);
	strcpy(j->canon + l, ".");
	if (US_REAL(fstatat)(ndfd, j->canon, &st, 0) == 0)
		errno = err;
	return -1;
}

/* The mount of the union object a source named by an fd is (OLD empty
 * with AT_EMPTY_PATH: ODFD; OLD a magic link /proc/self/fd/N: N), or NULL:
 * an O_TMPFILE file made in a union has no union path to be found by. */
static const struct us_mount *fd_source_mount(int odfd, const char *old,
					      bool empty)
{
	const char *rest;
	int fd = empty ? odfd : us_magic_fd(old, &rest);

	return fd >= 0 && (empty || !*rest) ? us_fd_mount(fd) : NULL;
}

/* The mount the new name NEW (from NDFD) would be made in, or NULL. */
static const struct us_mount *new_mount(struct link_job *j, int ndfd,
					const char *new)
{
	if (us_abs_path(ndfd, new, j->canon, sizeof j->canon) < 0)
		return NULL; /* (its mapping fails the same way) */
	return us_mount_of(&us_cfg, j->canon);
}

/* Is the (outside) source O, resolved from DIRFD, a lower's inode? Then
 * J->src gets the real path to copy it from. */
static bool lower_source(struct link_job *j, int dirfd, const char *o,
			 bool empty, unsigned of)
{
	if (empty) /* the fd itself: its real path */
		return us_fd_path(dirfd, j->src, sizeof j->src) == 0 &&
		       us_hidden_dir(j->src);
	if (us_abs_path(dirfd, o, j->src, sizeof j->src) < 0 ||
	    !us_hidden_of(j->src, of, j->canon))
		return false;
	if (!(of & US_MAP_NOFOLLOW)) /* the object the link leads to */
		memcpy(j->src, j->canon, strlen(j->canon) + 1);
	return true;
}

/* Give the new name J->n a copy of the lower file J->src. */
static int copy_in(struct link_job *j, unsigned of)
{
	struct stat st;
	int rc = (of & US_MAP_NOFOLLOW) ? US_REAL(lstat)(j->src, &st)
					: US_REAL(stat)(j->src, &st);

	if (rc < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EPERM; /* as link(2) of a dir */
		return -1;
	}
	if (j->n.r.where != US_INSIDE) {
		errno = EROFS;
		us_trace_denied("link of a lower's own file", j->src);
		return -1;
	}
	if (us_copy_new(j->n.r.m, j->src, j->n.real) < 0)
		return -1;
	us_created(&j->n);
	us_event("copy-up", j->n.r.path, S_ISREG(st.st_mode) ? (long long)st.st_size : -1);
	return 0;
}

/* The new name of union object J->o, now upper, is J->n (same mount): an
 * origin record goes with its object (identity.h). */
static void follow_origin(struct link_job *j)
{
	const struct us_mount *m = j->o.r.m;
	US_SCRATCH_SCOPE;
	struct {
		char o[US_PATH_MAX];
		char n[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);

	if (sb && us_layer_path(m, 0, j->o.r.path, sb->o, sizeof sb->o) == 0 &&
	    us_layer_path(m, 0, j->n.r.path, sb->n, sizeof sb->n) == 0)
		us_origin_follow(m, sb->o, sb->n, false);
	else if (us_shared_origins_mode(m) != US_ORIGINS_NONE)
		us_shared_origins_set(m); /* unsure: read them everywhere */
}

static int run(struct link_job *j, int odfd, const char *old, int ndfd,
	       const char *new, int flags)
{
	unsigned of = (flags & AT_SYMLINK_FOLLOW) ? US_MAP_OBJECT : US_MAP_NOFOLLOW;
	bool empty = (flags & AT_EMPTY_PATH) && us_unchecked(old) && !*old;

	if (!us_readable(new)) { /* the kernel copies both names in first */
		errno = EFAULT;
		return -1;
	}

	if (empty && us_fd_lower_object(odfd, j->src, sizeof j->src)) {
		old = j->src; /* the fd's union object, by its union path */
		odfd = AT_FDCWD;
		flags &= ~AT_EMPTY_PATH;
		of = US_MAP_NOFOLLOW;
		empty = false;
	}
	int sdfd = odfd;
	/* the kernel checks both names before the write: EEXIST wins */
	const char *o = us_path_at(&sdfd, old, of, &j->o);
	if (!o)
		return -1;
	/* a union is a mount: no link into or out of it, nor of a dir */
	bool in = j->o.r.where == US_INSIDE;
	bool lower = !in && lower_source(j, sdfd, o, empty, of);
	const struct us_mount *om = in ? j->o.r.m : fd_source_mount(odfd, old, empty);
	const struct us_mount *nm = new_mount(j, ndfd, new);
	if (om ? nm != om : nm && !lower)
		return refused(j, ndfd, new, EXDEV);
	if (in && !j->o.r.err && S_ISDIR(j->o.r.node.mode))
		return refused(j, ndfd, new, EPERM);
	const char *n = us_path_at(&ndfd, new, NEWNAME, &j->n);
	if (!n)
		return -1;
	if (in) { /* the source is copied up */
		sdfd = odfd;
		if (!(o = us_path_at(&sdfd, old, of | US_MAP_WRITE | US_MAP_LINKSRC, &j->o)))
			return -1;
	} else if (lower) {
		return copy_in(j, of);
	}
	if (in)
		follow_origin(j);
	if (US_REAL(linkat)(sdfd, o, ndfd, n, flags) < 0)
		return -1;
	if (j->o.r.where == US_INSIDE) /* its link count, in its dir's entry */
		us_lcache_name_changed(j->o.r.m, j->o.r.path);
	us_created(&j->n);
	return 0;
}

int us_link(int olddirfd, const char *old, int newdirfd, const char *new,
	    int flags)
{
	US_SCRATCH_SCOPE;
	struct link_job *j = us_scratch_push(sizeof *j);
	if (!j)
		return -1;
	us_target_init(&j->o);
	us_target_init(&j->n);
	int rc = run(j, olddirfd, old, newdirfd, new, flags);
	struct us_target *o = &j->o, *n = &j->n;
	us_target_end(&o); /* the dir fds of long real paths (front.h) */
	us_target_end(&n);
	return rc;
}
