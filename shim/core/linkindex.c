/* linkindex.c: the hard-link index in the work dir (see linkindex.h).
 * Every change happens under the object's lock (keyed by its index name),
 * so two processes copying up two names of one file make one copy. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copyup_parts.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/event.h"
#include "unionshim/identity.h"
#include "unionshim/lcache.h"
#include "unionshim/linkindex.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

#define INDEX_DIR "#index"

static void remove_keep_errno(const char *p)
{
	int saved = errno;

	SYS(unlink)(p);
	errno = saved;
}

static void free_keep_errno(void *p)
{
	int saved = errno;

	free(p);
	errno = saved;
}

static int entry_path(const struct us_mount *m, const struct us_node *node,
		      char *out, size_t len)
{
	int n = snprintf(out, len, "%s/" INDEX_DIR "/%d-%" PRIu64, m->work,
			 node->layer, node->ino);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int us_index_find(const struct us_mount *m, const struct us_node *node,
		  char *out, size_t len)
{
	struct stat st;

	return us_index_wanted(m, node) && entry_path(m, node, out, len) == 0 &&
	       SYS(lstat)(out, &st) == 0;
}

/* The count of lower names gone of the entry at ENTRY: a symlink beside
 * it, ENTRY ".gone", holding the number (no xattrs: symlinks and device
 * nodes are indexed too). */
static uint64_t gone_at(const char *entry)
{
	US_SCRATCH_SCOPE;
	char *p = us_scratch_push(PATH_MAX), v[32];

	if (!p || snprintf(p, PATH_MAX, "%s.gone", entry) >= PATH_MAX)
		return 0;
	ssize_t n = SYS(readlink)(p, v, sizeof v - 1);
	if (n <= 0)
		return 0;
	v[n] = '\0';
	return strtoull(v, NULL, 10);
}

/* The path of the count beside ENTRY into OUT, or of this process's new
 * count in the making when MINE. 0, or -1 with ENAMETOOLONG. */
static int gone_path(const char *entry, bool mine, char *out, size_t len)
{
	int n = mine ? snprintf(out, len, "%s.gone.%d", entry, (int)getpid())
		     : snprintf(out, len, "%s.gone", entry);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* One more lower name of the indexed object at ENTRY is to be shadowed
 * (locked): write the new count aside first, the one step that needs
 * room, so a full disk fails the change before anything else is done.
 * 0, or -1 with errno. */
static int gone_prepare(const char *entry)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
		char v[32];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	snprintf(sb->v, sizeof sb->v, "%" PRIu64, gone_at(entry) + 1);
	if (gone_path(entry, true, sb->tmp, sizeof sb->tmp) < 0)
		return -1;
	SYS(unlink)(sb->tmp);
	return SYS(symlink)(sb->v, sb->tmp);
}

/* Put the count prepared into force (DONE: a rename over the old one) or
 * drop it. 0, or -1 with errno. */
static int gone_finish(const char *entry, bool done)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int saved = errno;

	if (gone_path(entry, true, sb->tmp, sizeof sb->tmp) < 0)
		return -1;
	/* the count's own path is the temp's without its ".PID" */
	char *dot = strrchr(sb->tmp, '.');
	*dot = '\0';
	char *p = strdup(sb->tmp);
	*dot = '.';
	if (done && p && SYS(rename)(sb->tmp, p) == 0) {
		free(p);
		return 0;
	}
	int err = done ? errno : saved;
	free(p);
	SYS(unlink)(sb->tmp);
	errno = err;
	return done ? -1 : 0;
}

/* Make the index entry of NODE when missing (locked). 0, or -1. */
static int ensure_entry(const struct us_mount *m, const struct us_node *node,
			const char *src, const char *entry, bool data,
			const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
		char dir[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (SYS(lstat)(entry, &st) == 0)
		return 0;
	snprintf(sb->dir, sizeof sb->dir, "%s/" INDEX_DIR, m->work);
	if (SYS(mkdir)(sb->dir, 0700) < 0 && errno != EEXIST)
		return -1;
	/* an entry carries an origin record, read wherever the lower file's
	 * names are: its dir is marked (records exist from now on) */
	us_shared_origins_enter_real(m, sb->dir, NULL);
	if (us_copy_temp(m, node->layer, src, &st, sb->tmp, sizeof sb->tmp, data) < 0)
		return -1;
	/* the entry appears whole: a crash leaves a temp, cleaned later */
	int rc = SYS(rename)(sb->tmp, entry);
	if (rc < 0) {
		int saved = errno;
		SYS(unlink)(sb->tmp);
		errno = saved;
	} else
		us_event("copy-up", upath, S_ISREG(st.st_mode) && data ? (long long)st.st_size : -1);
	return rc;
}

/* The index entry and the lower file of NODE at UPATH into ENTRY and SRC
 * (US_PATH_MAX each), with the entry's lock taken: its fd, or -1. */
static int lock_entry(const struct us_mount *m, const char *upath,
		      const struct us_node *node, char *entry, char *src)
{
	if (entry_path(m, node, entry, US_PATH_MAX) < 0 ||
	    us_layer_path(m, node->layer, upath, src, US_PATH_MAX) < 0)
		return -1;
	return us_lock_key(m, entry + strlen(m->work));
}

static void unlock_entry(int lock)
{
	us_unlock_key(lock);
}

int us_index_copyup(const struct us_mount *m, const char *upath,
		    const struct us_node *node, const char *dst, bool data)
{
	US_SCRATCH_SCOPE;
	struct {
		char entry[US_PATH_MAX];
		char src[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;
	int lock = lock_entry(m, upath, node, sb->entry, sb->src);

	if (lock < 0)
		return -1;
	int rc = 0;
	if (SYS(lstat)(dst, &st) < 0) { /* not linked by someone else */
		rc = ensure_entry(m, node, sb->src, sb->entry, data, upath);
		if (rc == 0)
			rc = gone_prepare(sb->entry);
		if (rc == 0) {
			us_origin_entering(m, dst);
			rc = SYS(link)(sb->entry, dst);
			if (gone_finish(sb->entry, rc == 0) < 0) {
				rc = -1;
				remove_keep_errno(dst);
			}
			if (rc < 0 && errno == EEXIST)
				rc = 0;
		}
	}
	unlock_entry(lock);
	us_lcache_name_changed(m, upath); /* before fds move: they look it up */
	if (rc == 0) /* fds on any name of it move to the copy */
		us_shared_bump(m, us_ino_of(m, node->layer, node->ino));
	return rc;
}

int us_index_drop_begin(const struct us_mount *m, const char *upath,
			const struct us_node *node, struct us_index_drop *d)
{
	US_SCRATCH_SCOPE;
	struct {
		char src[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	d->lock = -1;
	d->entry = NULL;
	d->m = m;
	if (!us_index_wanted(m, node))
		return 0;
	if (!(d->entry = malloc(US_PATH_MAX)))
		return -1;
	d->lock = lock_entry(m, upath, node, d->entry, sb->src);
	/* the names left below are answered by the entry from now on */
	if (d->lock < 0 || ensure_entry(m, node, sb->src, d->entry, true, upath) < 0 ||
	    gone_prepare(d->entry) < 0) {
		if (d->lock >= 0)
			unlock_entry(d->lock);
		d->lock = -1;
		free_keep_errno(d->entry);
		d->entry = NULL;
		return -1;
	}
	return 0;
}

/* The entry at ENTRY of M (locked), when no name uses it any more: its
 * count goes first (an entry left alone by a crash in between is one
 * unused copy, harmless), then the entry and a record kept aside for it. */
static void drop_unused(const struct us_mount *m, const char *entry)
{
	US_SCRATCH_SCOPE;
	char *gone = us_scratch_push(US_PATH_MAX);
	struct stat st;
	struct us_origin o;

	if (!gone || SYS(lstat)(entry, &st) < 0 || st.st_nlink > 1)
		return;
	bool xattrs = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
	if (!(xattrs ? us_origin_read(entry, -1, &o)
		     : us_origin_read_aside(m, entry, (uint64_t)st.st_ino, &o)) ||
	    gone_at(entry) < o.nlink ||
	    gone_path(entry, false, gone, US_PATH_MAX) < 0)
		return;
	if (SYS(unlink)(gone) < 0 && errno != ENOENT)
		return;
	if (!xattrs)
		us_origin_forget_aside(m, entry);
	SYS(unlink)(entry);
}

void us_index_drop_end(struct us_index_drop *d, bool done)
{
	int saved = errno;

	if (d->lock >= 0) {
		gone_finish(d->entry, done);
		if (done)
			drop_unused(d->m, d->entry);
		unlock_entry(d->lock);
	}
	free(d->entry);
	d->lock = -1;
	d->entry = NULL;
	errno = saved;
}

uint64_t us_index_nlink(const struct us_mount *m, const struct us_origin *o,
			const struct stat *st)
{
	US_SCRATCH_SCOPE;
	char *entry = us_scratch_push(PATH_MAX);
	struct us_node node = {.layer = o->layer, .ino = o->ino};
	uint64_t upper = st->st_nlink > 0 ? st->st_nlink - 1 : 0;
	uint64_t gone = entry && entry_path(m, &node, entry, PATH_MAX) == 0
				? gone_at(entry)
				: 0;
	uint64_t below = o->nlink > gone ? o->nlink - gone : 0;

	return upper + below;
}

const struct us_mount *us_index_owner(const struct us_config *cfg,
				      const char *real)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		size_t wl = m->work ? strlen(m->work) : 0;
		if (wl && strncmp(real, m->work, wl) == 0 &&
		    strncmp(real + wl, "/" INDEX_DIR "/", sizeof INDEX_DIR + 1) == 0)
			return m;
	}
	return NULL;
}

bool us_index_mark_origins(const struct us_mount *m)
{
	US_SCRATCH_SCOPE;
	char *dir = us_scratch_push(US_PATH_MAX);
	int saved = errno;

	if (!dir || !m->work)
		return dir != NULL;
	snprintf(dir, US_PATH_MAX, "%s/" INDEX_DIR, m->work);
	int any = us_real_dir_any(dir);
	bool done = any == 0 || (any < 0 && errno == ENOENT);
	if (any > 0) {
		struct stat st;
		done = SYS(stat)(dir, &st) == 0 &&
		       us_shared_origins_enter(m, st.st_dev, st.st_ino);
	}
	errno = saved;
	return done;
}
