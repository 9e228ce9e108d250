/* metacopy.c: metadata-only copy-up and its completion (see metacopy.h).
 *
 * A metacopy is built like any copy-up: a temp in the work dir gets the
 * lower's metadata and origin record, the lower's size (a hole) and the
 * record US_METACOPY_XATTR, then is renamed into place under the
 * object's copy-up lock. Filling it builds the whole file (the lower's
 * data, the metacopy's metadata) in another temp and renames that over
 * the metacopy: a SIGKILL at any instant leaves one or the other. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copyup_parts.h"
#include "sys.h"
#include "unionshim/copyup.h"
#include "unionshim/event.h"
#include "unionshim/identity.h"
#include "unionshim/lcache.h"
#include "unionshim/linkindex.h"
#include "unionshim/metacopy.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "unionshim/shared.h"

#define NO_DATA ((us_layermask)1 << 63)

bool us_metacopy_is(const char *real, const struct stat *st)
{
	int saved = errno;
	bool is = us_metacopy_maybe(st) &&
		  SYS(lgetxattr)(real, US_METACOPY_XATTR, NULL, 0) >= 0;

	errno = saved;
	return is;
}

us_layermask us_metacopy_below(const struct us_mount *m, const char *upath,
			       const struct us_node *dir, const char *name)
{
	US_SCRATCH_SCOPE;
	struct {
		char d[US_PATH_MAX];
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat st;

	for (int i = 1; sb && i < m->nlayers; i++) {
		if (!(dir->dirs & ((us_layermask)1 << i)))
			continue;
		if (us_layer_path(m, i, upath, sb->d, sizeof sb->d) < 0 ||
		    us_path_join(sb->p, sizeof sb->p, sb->d, name) < 0)
			break;
		if (SYS(lstat)(sb->p, &st) == 0)
			return S_ISREG(st.st_mode) ? (us_layermask)1 << i : NO_DATA;
	}
	return NO_DATA;
}

int us_metacopy_data(const struct us_mount *m, const char *upath,
		     const struct us_node *node, char *out, size_t len,
		     struct stat *st)
{
	int d = us_node_data_layer(node);
	struct stat own;

	if (d >= m->nlayers) {
		errno = EIO; /* overlayfs's answer for a metacopy without data */
		return -1;
	}
	if (us_layer_path(m, d, upath, out, len) < 0)
		return -1;
	if (SYS(lstat)(out, st ? st : &own) < 0 || !S_ISREG((st ? st : &own)->st_mode)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void us_metacopy_stat(const struct us_mount *m, const char *upath,
		      const struct us_node *node, struct stat *st)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat ds;
	int saved = errno;

	if (sb && us_metacopy_data(m, upath, node, sb->p, sizeof sb->p, &ds) == 0) {
		st->st_size = ds.st_size;
		st->st_blocks = ds.st_blocks;
	}
	errno = saved;
}

int us_metacopy_fstat(const struct us_mount *m, const char *upath,
		      struct stat *st)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat us;
	int saved = errno, rc = 0;

	if (sb && us_layer_path(m, 0, upath, sb->p, sizeof sb->p) == 0 &&
	    SYS(lstat)(sb->p, &us) == 0 && us_metacopy_is(sb->p, &us)) {
		st->st_mode = us.st_mode;
		st->st_uid = us.st_uid;
		st->st_gid = us.st_gid;
		st->st_atim = us.st_atim;
		st->st_mtim = us.st_mtim;
		st->st_ctim = us.st_ctim;
		rc = 1;
	}
	errno = saved;
	return rc;
}

/* Make temp TMP (an empty copy of SRC, stat ST) a metacopy: the size,
 * the record, the times the truncate moved. false when the upper cannot
 * hold it so that lookup will know it (no user xattrs, a filesystem
 * counting blocks for a hole): then a whole copy is made instead. */
static bool make_metacopy(const char *tmp, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	struct stat now;

	return SYS(truncate)(tmp, st->st_size) == 0 &&
	       SYS(lsetxattr)(tmp, US_METACOPY_XATTR, "", 0, 0) == 0 &&
	       SYS(utimensat)(AT_FDCWD, tmp, ts, AT_SYMLINK_NOFOLLOW) == 0 &&
	       SYS(lstat)(tmp, &now) == 0 && us_metacopy_is(tmp, &now);
}

static void drop(const char *tmp)
{
	int saved = errno;

	SYS(unlink)(tmp);
	errno = saved;
}

/* Under the object's lock: a metacopy of SRC (layer LAYER) at DST. 1 when
 * made or found made, 0 when the object is to be copied whole, -1 with
 * errno. */
static int place_metacopy(const struct us_mount *m, int layer,
			  const char *upath, const char *src, const char *dst)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (SYS(lstat)(dst, &st) == 0)
		return 1; /* copied up by someone else meanwhile */
	if (SYS(lstat)(src, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size < US_METACOPY_MIN || st.st_blocks == 0)
		return 0; /* a whole copy costs next to nothing */
	if (us_copy_temp(m, layer, src, &st, sb->tmp, sizeof sb->tmp, false) < 0)
		return -1;
	if (!make_metacopy(sb->tmp, &st)) {
		drop(sb->tmp);
		return 0;
	}
	int rc = us_place_temp(m, sb->tmp, dst, false);
	us_lcache_name_changed(m, upath);
	if (rc < 0)
		return -1;
	us_event("metacopy", upath, -1);
	/* fds open on the lower data learn of the new metadata */
	us_shared_bump(m, us_ino_of(m, layer, st.st_ino));
	return 1;
}

int us_copyup_meta(const struct us_mount *m, const char *upath,
		   const struct us_node *node)
{
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
		char src[US_PATH_MAX];
		char dst[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t plen = strlen(upath);

	if (node->layer == 0)
		return 0;
	if (!S_ISREG(node->mode) || us_index_wanted(m, node) || plen >= US_PATH_MAX)
		return us_copyup(m, upath, node, true);
	memcpy(sb->parent, upath, plen + 1);
	us_path_pop(sb->parent, &plen);
	if (us_copyup_dir(m, sb->parent) < 0 ||
	    us_layer_path(m, node->layer, upath, sb->src, sizeof sb->src) < 0 ||
	    us_layer_path(m, 0, upath, sb->dst, sizeof sb->dst) < 0)
		return -1;
	int lock = us_lock_key(m, upath);
	if (lock < 0)
		return -1;
	int rc = place_metacopy(m, node->layer, upath, sb->src, sb->dst);
	us_unlock_key(lock);
	return rc == 0 ? us_copyup(m, upath, node, true) : rc < 0 ? -1 : 0;
}

/* Rename temp TMP over DST of M's upper, keeping the times of DST's dir
 * (a copy-up is no change of it), marked as holding origin records. */
static int replace(const struct us_mount *m, const char *tmp, const char *dst)
{
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t plen = strlen(dst);
	struct stat pst;

	memcpy(sb->parent, dst, plen + 1);
	us_path_pop(sb->parent, &plen);
	bool keep = SYS(stat)(sb->parent, &pst) == 0;
	us_shared_origins_enter_real(m, sb->parent, keep ? &pst : NULL);
	if (SYS(rename)(tmp, dst) < 0) {
		drop(tmp);
		return -1;
	}
	if (keep) {
		struct timespec ts[2] = {pst.st_atim, pst.st_mtim};
		SYS(utimensat)(AT_FDCWD, sb->parent, ts, 0);
	}
	return 0;
}

int us_metacopy_fill(const struct us_mount *m, const char *upath,
		     const struct us_node *node, bool data)
{
	US_SCRATCH_SCOPE;
	struct {
		char src[US_PATH_MAX];
		char dst[US_PATH_MAX];
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (us_layer_path(m, 0, upath, sb->dst, sizeof sb->dst) < 0)
		return -1;
	int lock = us_lock_key(m, upath);
	if (lock < 0)
		return -1;
	int rc = 0;
	/* filled (or replaced) by someone else meanwhile: nothing to do */
	if (SYS(lstat)(sb->dst, &st) < 0 || !us_metacopy_is(sb->dst, &st))
		goto out;
	int layer = us_node_data_layer(node);
	rc = -1;
	if (us_metacopy_data(m, upath, node, sb->src, sizeof sb->src, NULL) < 0)
		goto out;
	if (us_copy_temp_meta(m, layer, sb->src, sb->dst, &st, sb->tmp,
			      sizeof sb->tmp, data) < 0 ||
	    replace(m, sb->tmp, sb->dst) < 0)
		goto out;
	rc = 0;
	us_lcache_name_changed(m, upath);
	us_event("copy-up", upath, data ? (long long)st.st_size : -1);
	us_shared_bump(m, us_ino_of(m, layer, st.st_ino)); /* fds move */
out:
	us_unlock_key(lock);
	return rc;
}
