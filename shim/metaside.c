/* metaside.c: the metacopy halves of us_map (see metacopy.h): a metadata
 * change copies a lower file's metadata only; a read of an upper
 * metacopy's data goes to its lower data file. */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include "front.h"
#include "trace.h"
#include "unionshim/metacopy.h"
#include "unionshim/scratch.h"

int us_prepare_meta(struct us_target *t)
{
	struct us_resolved *r = &t->r;
	int err = us_write_errno(r->m);

	if (err) {
		errno = err;
		us_trace_denied("write", r->path);
		return -1;
	}
	if (us_copyup_meta(r->m, r->path, &r->node) < 0)
		return -1;
	if (r->node.layer != 0) { /* copied whole */
		r->node.layer = 0;
		r->node.dirs = S_ISDIR(r->node.mode) ? r->node.dirs | 1 : 0;
	}
	return us_layer_path(r->m, 0, r->path, t->real, sizeof t->real);
}

/* Would exec of the data file of metacopy T (its stat DATA) be refused,
 * or run otherwise than the union object would (mode, owner)? */
static bool exec_differs(const struct us_target *t, const struct stat *data)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat up;

	return !sb || us_layer_path(t->r.m, 0, t->r.path, sb->up, sizeof sb->up) < 0 ||
	       US_REAL(lstat)(sb->up, &up) < 0 ||
	       (up.st_mode & 07777) != (data->st_mode & 07777) ||
	       up.st_uid != data->st_uid || up.st_gid != data->st_gid;
}

int us_prepare_data(struct us_target *t, unsigned flags)
{
	struct us_resolved *r = &t->r;
	struct stat st;

	if (us_metacopy_data(r->m, r->path, &r->node, t->real, sizeof t->real,
			     &st) < 0)
		return -1;
	if ((flags & US_MAP_EXEC) && exec_differs(t, &st)) {
		/* the data comes up, and exec runs the upper file */
		if (us_prepare_write(t, true) < 0)
			return -1;
		return us_layer_path(r->m, 0, r->path, t->real, sizeof t->real);
	}
	t->metacopy = true;
	r->node.layer = us_node_data_layer(&r->node);
	r->node.dirs = 0;
	r->node.dev = st.st_dev;
	r->node.ino = st.st_ino;
	r->node.nlink = st.st_nlink;
	return 0;
}
