/* writeside.c: what a write through the union does before the real call.
 *
 * A change to an object found below copies it up first (parents first);
 * a new name gets its parent dir copied up and lands in the upper layer;
 * a union without an upper refuses both with EROFS. A write that would
 * reach a real path inside a lower dir by another route (the lower's own
 * path, a symlink, "..") is refused with EROFS: lower dirs are never
 * written. So is one whose real path lies in the real dir under a target
 * (reached by a symlink from outside the union): that dir is hidden, and
 * in place it is the lower itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/longpath.h"
#include "front.h"
#include "guard.h"
#include "state.h"
#include "trace.h"
#include "unionshim/copyup.h"
#include "unionshim/lcache.h"
#include "unionshim/mayact.h"
#include "unionshim/path.h"
#include "core/layer.h"
#include "unionshim/scratch.h"

int us_write_errno(const struct us_mount *m)
{
	return m && m->has_upper ? 0 : EROFS;
}

static int deny(const char *what, const struct us_resolved *r, int err)
{
	errno = err;
	us_trace_denied(what, r->path);
	return -1;
}

/* May the caller add a name to R's parent dir PARENT, which lies in a
 * lower only? overlayfs checks the lower dir's owner and mode before it
 * copies the dir up (mayact.h). */
static bool lower_dir_refused(const struct us_resolved *r, const char *parent)
{
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);

	if (!real || us_dir_layer_path(r->m, r->parent.layer, parent, r->parent.flags,
				       real, US_PATH_MAX) < 0)
		return false; /* the copy-up finds what is wrong */
	if (us_may_lower(real, US_MAY_DIRENTS) == 0)
		return false;
	us_trace_denied("create in another's dir", r->path);
	return true;
}

int us_prepare_create(struct us_target *t)
{
	struct us_resolved *r = &t->r;
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t len = strlen(r->path);
	int err = us_write_errno(r->m);

	if (err)
		return deny("create", r, err);
	if (us_is_reserved_name(strrchr(r->path, '/') + 1))
		return deny("create of a reserved name", r, EINVAL);
	memcpy(sb->parent, r->path, len + 1);
	us_path_pop(sb->parent, &len);
	/* what the lookup just learnt is not asked again: the parent's
	 * upper dir, and whether the upper holds the name or its whiteout
	 * (US_NODE_UPPER_*; valid while the dir's generation is) */
	bool parent_up = r->parent_ok && (r->parent.dirs & 1);
	unsigned known = parent_up ? r->node.flags : 0;
	if (!parent_up && r->parent_ok && lower_dir_refused(r, sb->parent))
		return -1;
	if (!parent_up && us_copyup_dir(r->m, sb->parent) < 0)
		return -1;
	if (us_layer_path(r->m, 0, r->path, t->real, sizeof t->real) < 0)
		return -1;
	if (known & US_NODE_UPPER_CLEAN)
		return 0; /* no whiteout of the name in the upper: in place */
	if (!(known & US_NODE_UPPER_FREE) && us_whiteout_normalize(r->m, r->path) < 0)
		return -1;
	t->whiteout = us_whiteout_present(r->m, r->path);
	if (known & US_NODE_UPPER_FREE)
		return 0; /* no in-place whiteout either */
	/* a long name's whiteout holds the name: the object is made in the
	 * work dir, then renamed over it (us_created) */
	if (us_whiteout_inplace(r->m, r->path)) {
		t->swap = true;
		return us_whiteout_temp(r->m, t->real, sizeof t->real);
	}
	return 0;
}

int us_prepare_write(struct us_target *t, bool data)
{
	struct us_resolved *r = &t->r;
	int err = us_write_errno(r->m);

	if (err)
		return deny("write", r, err);
	if (us_copyup_in(r->m, r->path, &r->node, r->parent_ok ? &r->parent : NULL,
			 data) < 0)
		return -1;
	r->node.layer = 0;
	/* a file's data is in it now (not a metacopy any more) */
	r->node.dirs = S_ISDIR(r->node.mode) ? r->node.dirs | 1 : 0;
	return 0;
}

void us_created(const struct us_target *t)
{
	US_KEEP_ERRNO;

	if (t->whiteout)
		us_whiteout_clear(t->r.m, t->r.path);
	if (t->swap && us_whiteout_replace(t->r.m, t->r.path, t->real, false) < 0) {
		/* not in place: gone (a rename within one filesystem over a
		 * char device fails only on I/O errors). Known limit: two
		 * creators of one such name race; the last rename wins */
		int saved = errno;
		us_long_unlink(t->real);
		errno = saved;
	}
	if (t->r.where == US_INSIDE && t->creates)
		us_lcache_name_changed(t->r.m, t->r.path);
}

const char *us_hidden_dir(const char *p)
{
	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		for (int i = m->has_upper; i < m->nlayers; i++)
			if (us_path_under(p, m->layers[i].path, m->layers[i].len))
				return m->layers[i].path;
		if (us_path_under(p, m->target, m->target_len))
			return m->target;
	}
	return NULL;
}

const char *us_hidden_of(const char *abs, unsigned flags, char *canon)
{
	char parent[PATH_MAX];
	size_t len = strlen(abs);

	if (!us_path_fits(abs))
		return us_hidden_long(abs, flags);
	/* the object itself when it is followed and exists, else its dir */
	if ((flags & US_MAP_NOFOLLOW) || !US_REAL(realpath)(abs, canon)) {
		if (len + 1 > sizeof parent)
			return NULL;
		memcpy(parent, abs, len + 1);
		us_path_pop(parent, &len);
		if (!US_REAL(realpath)(len ? parent : "/", canon))
			/* missing or unsearchable: the real call will report
			 * it; longer than PATH_MAX once symlinks are followed
			 * (the kernel takes it): followed by fds */
			return errno == ENOENT || errno == ENOTDIR ||
					       errno == EACCES || errno == ELOOP
				       ? NULL
				       : us_hidden_long(abs, flags);
	}
	return us_hidden_dir(canon);
}

int us_lower_guard(const char *abs, unsigned flags)
{
	US_SCRATCH_SCOPE;
	struct {
		char canon[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	const char *low = us_hidden_of(abs, flags, sb->canon);

	if (!low)
		return 0;
	errno = EROFS;
	us_trace_denied("write into a lower or hidden target dir", low);
	return -1;
}
