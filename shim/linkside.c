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

#include "front.h"
#include "state.h"
#include "trace.h"
#include "unionshim/event.h"
#include "unionshim/lcache.h"
#include "unionshim/copyup.h"

#define NEWNAME (US_MAP_CREATE | US_MAP_NOFOLLOW)

struct link_job {
	struct us_target o, n;
	char src[US_PATH_MAX];   /* the union path or real path of the source */
	char canon[US_PATH_MAX]; /* the source's canonical real path */
};

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

static int run(struct link_job *j, int odfd, const char *old, int ndfd,
	       const char *new, int flags)
{
	unsigned of = (flags & AT_SYMLINK_FOLLOW) ? US_MAP_OBJECT : US_MAP_NOFOLLOW;
	bool empty = (flags & AT_EMPTY_PATH) && us_unchecked(old) && !*old;

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
	const char *n = o ? us_path_at(&ndfd, new, NEWNAME, &j->n) : NULL;
	if (!n)
		return -1;
	if (j->o.r.where == US_INSIDE) { /* the source is copied up */
		sdfd = odfd;
		if (!(o = us_path_at(&sdfd, old, of | US_MAP_WRITE, &j->o)))
			return -1;
	} else if (lower_source(j, sdfd, o, empty, of)) {
		return copy_in(j, of);
	}
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
	j->o.held = j->n.held = -1;
	int rc = run(j, olddirfd, old, newdirfd, new, flags);
	struct us_target *o = &j->o, *n = &j->n;
	us_target_end(&o); /* the dir fds of long real paths (front.h) */
	us_target_end(&n);
	return rc;
}
