/* copyup.c: copy a union object into the upper layer (see copyup.h).
 *
 * The object is built in the work dir under a temp name (#us.PID.N) with
 * its data, mode, owner (where permitted), times and xattrs, then renamed
 * into the upper layer: the name appears whole or not at all, even if the
 * copier is killed. Concurrent copy-ups of one object each build a temp;
 * the rename never replaces (RENAME_NOREPLACE): the first copy placed
 * wins and the others are dropped, so there is one copy and no write to
 * it is lost. (No lock: a lock file cost four system calls on every
 * copy-up to save a duplicate copy in a rare race.)
 * Data: FICLONE where the filesystem can, else copy_file_range, else a
 * read/write loop through the thread's scratch; a way the filesystems
 * refused once is not tried again (copyways.c); holes stay holes
 * (SEEK_DATA/SEEK_HOLE). A lower file written during its copy (from
 * outside the union) is copied again: the copy is one version of it,
 * never a mix. No fsync: a copy-up promises atomic visibility (whole or
 * absent, even after SIGKILL), not durability across a power cut, which
 * the program's own writes to the copy do not get either without one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copyup_parts.h"
#include "layer.h"
#include "ownwrite.h"
#include "sys.h"
#include "unionshim/event.h"
#include "unionshim/lcache.h"
#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/metacopy.h"
#include "unionshim/shared.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "unionshim/startdata.h"

#define TEMP_PREFIX "#us."
#define LOCK_SLOTS 64
#define COPY_CHUNK (256 << 10) /* of the thread's scratch (1 MiB) */
#define COPY_TRIES 3 /* copies of a lower file written during its copy-up */

static unsigned long temp_counter;

US_START_DATA pid_t (*us_pid_hook)(void);

pid_t us_temp_pid(void)
{
	pid_t (*hook)(void) = __atomic_load_n(&us_pid_hook, __ATOMIC_RELAXED);

	return hook ? hook() : getpid();
}

static int upper_path(const struct us_mount *m, const char *upath, char *out,
		      size_t len)
{
	return us_layer_path(m, 0, upath, out, len);
}

static int temp_path(const struct us_mount *m, char *out, size_t len)
{
	unsigned long n = __atomic_add_fetch(&temp_counter, 1, __ATOMIC_RELAXED);
	us_workdir_clean(m); /* once: see copyup.h */
	int w = snprintf(out, len, "%s/" TEMP_PREFIX "%d.%lu", m->work,
			 (int)us_temp_pid(), n);

	if (w < 0 || (size_t)w >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	SYS(close)(fd);
	errno = saved;
}

int us_lock_key(const struct us_mount *m, const char *key)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	uint64_t h = 1469598103934665603ull;

	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	snprintf(sb->p, sizeof sb->p, "%s/#lock.%02u", m->work,
		 (unsigned)(h % LOCK_SLOTS));
	int fd = SYS(open)(sb->p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (SYS(flock)(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close_keep_errno(fd);
			return -1;
		}
	}
	return fd;
}

void us_unlock_key(int fd)
{
	int saved = errno;

	SYS(flock)(fd, LOCK_UN);
	SYS(close)(fd);
	errno = saved;
}

/* Errors of a write that mean "the copy cannot be whole": the disk or
 * quota is full, memory is out, the device fails. Others (EPERM, ENOTSUP
 * on an xattr the upper cannot hold) lose only what overlayfs loses too. */
static bool fatal_errno(int err)
{
	return err == ENOSPC || err == EDQUOT || err == ENOMEM || err == EIO;
}

static bool skipped_xattr(const char *name)
{
	return strcmp(name, "security.capability") == 0 ||
	       strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.overlay.", 13) == 0 || us_is_own_xattr(name);
}

/* The xattr names of SRC in a heap block followed by XATTR_SIZE_MAX bytes
 * for a value: the list is sized by a first call, and sized again when it
 * grew before the second (ERANGE), so a long list is never cut or lost.
 * *LEN gets the list's length (0: none, or no xattrs on this filesystem).
 * NULL with *LEN 0 for none; NULL with errno on failure. */
static ssize_t list_of(const char *src, int in, char *names, size_t size)
{
	return in >= 0 ? SYS(flistxattr)(in, names, size)
		       : SYS(llistxattr)(src, names, size);
}

static char *list_xattrs(const char *src, int in, ssize_t *len)
{
	for (int tries = 0; tries < 8; tries++) {
		ssize_t want = list_of(src, in, NULL, 0);
		if (want <= 0) {
			*len = 0;
			return NULL; /* none, or a filesystem without xattrs */
		}
		char *names = malloc((size_t)want + XATTR_SIZE_MAX);
		if (!names)
			break;
		*len = list_of(src, in, names, (size_t)want);
		if (*len >= 0)
			return names;
		int err = errno;
		free(names);
		errno = err;
		if (err != ERANGE)
			break;
	}
	*len = -1;
	return NULL;
}

/* Copy the xattrs a copy-up keeps: everything the upper fs takes, except
 * security.capability (a copy must not gain privileges) and overlayfs's
 * own bookkeeping. Names and values live on the heap (a value may be
 * 64 KiB). By the fds IN and OUT when >= 0 (a regular file), else by
 * path. 0, or -1 with errno when the copy cannot be whole. */
static int copy_xattrs(const char *src, const char *dst, int in, int out)
{
	ssize_t n;
	char *names = list_xattrs(src, in, &n);

	if (!names)
		return n == 0 ? 0 : -1;
	char *value = names + n;
	int rc = 0;
	for (ssize_t i = 0; rc == 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *name = names + i;
		ssize_t vl = skipped_xattr(name) ? -1 :
			in >= 0 ? SYS(fgetxattr)(in, name, value, XATTR_SIZE_MAX) :
			SYS(lgetxattr)(src, name, value, XATTR_SIZE_MAX);
		if (vl >= 0 &&
		    (out >= 0 ? SYS(fsetxattr)(out, name, value, (size_t)vl, 0) :
		     SYS(lsetxattr)(dst, name, value, (size_t)vl, 0)) < 0 &&
		    fatal_errno(errno))
			rc = -1;
	}
	int saved = errno;
	free(names);
	errno = saved;
	return rc;
}

/* Owner (where permitted), xattrs, mode and times of ST onto DST: by
 * the fds IN (of SRC) and OUT (of DST) when >= 0, which saves a regular
 * file's copy five path walks; by path otherwise. */
static int copy_meta(const char *src, const char *dst, int in, int out,
		     const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if ((out >= 0 ? SYS(fchown)(out, st->st_uid, st->st_gid)
		      : SYS(lchown)(dst, st->st_uid, st->st_gid)) < 0 &&
	    errno != EPERM)
		return -1;
	if (copy_xattrs(src, dst, in, out) < 0)
		return -1;
	if (out >= 0)
		return SYS(fchmod)(out, st->st_mode & 07777) < 0 ? -1 :
			SYS(futimens)(out, ts);
	if (!S_ISLNK(st->st_mode) && SYS(chmod)(dst, st->st_mode & 07777) < 0)
		return -1;
	return SYS(utimensat)(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
}

/* N bytes of BUF to FD at OFF. A disk that fills mid-way makes the kernel
 * write part and then fail: the errno is that failure's (ENOSPC), never
 * one left over from an earlier call. */
static int write_all(int fd, const char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, buf, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* The read/write loop, for filesystems copy_file_range cannot serve. The
 * buffer is the thread's scratch: nothing kept, nothing left at thread
 * exit. */
static ssize_t copy_chunk(int in, int out, off_t off, size_t want)
{
	US_SCRATCH_SCOPE;
	char *buf = us_scratch_push(COPY_CHUNK);

	if (!buf)
		return -1;
	if (want > COPY_CHUNK)
		want = COPY_CHUNK;
	ssize_t n;
	do
		n = SYS(pread)(in, buf, want, off);
	while (n < 0 && errno == EINTR);
	if (n > 0 && write_all(out, buf, (size_t)n, off) < 0)
		return -1;
	return n;
}

static int copy_range(const struct us_mount *m, dev_t dev, int in, int out,
		      off_t off, off_t end)
{
	bool fallback = us_way_refused(m, dev, US_WAY_RANGE);

	while (off < end) {
		/* the kernel copies a big range in one call; the fallback
		 * loop goes by 1 MiB */
		size_t want = (size_t)(end - off) > (1u << 30) ? (1u << 30)
							     : (size_t)(end - off);
		loff_t ioff = off, ooff = off;
		ssize_t n = -1;
		if (!fallback) {
			n = SYS(copy_file_range)(in, &ioff, out, &ooff, want, 0);
			fallback = n < 0 && (errno == EXDEV || errno == ENOSYS ||
					     errno == EOPNOTSUPP || errno == EINVAL);
			if (fallback && errno != EINVAL) /* EINVAL: this file's */
				us_way_refuse(m, dev, US_WAY_RANGE);
		}
		if (fallback)
			n = copy_chunk(in, out, off, want);
		if (n < 0)
			return -1;
		if (n == 0)
			break; /* the source shrank under us */
		off += n;
	}
	return 0;
}

/* Share the data of IN (of a source on device DEV) with OUT: true when
 * done. Refused for want of support, it is not tried again. */
static bool clone_data(const struct us_mount *m, dev_t dev, int in, int out)
{
	if (us_way_refused(m, dev, US_WAY_CLONE))
		return false;
	if (SYS(ioctl)(out, FICLONE, in) == 0)
		return true;
	if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EXDEV || errno == ENOSYS)
		us_way_refuse(m, dev, US_WAY_CLONE);
	return false;
}

/* Copy the data of regular file IN (stat ST) to OUT, keeping holes. The
 * first look is SEEK_HOLE from 0: a file without holes (most) costs that
 * one lseek, and no ftruncate when its data reaches the end. */
static int copy_data(const struct us_mount *m, int in, int out,
		     const struct stat *st)
{
	off_t size = st->st_size, data = 0, end = 0;

	if (size == 0 || clone_data(m, st->st_dev, in, out))
		return 0;
	off_t hole = SYS(lseek)(in, 0, SEEK_HOLE);
	if (hole < 0) /* no SEEK_HOLE here: copy everything */
		return copy_range(m, st->st_dev, in, out, 0, size);
	for (;;) {
		if (hole > data) {
			if (copy_range(m, st->st_dev, in, out, data, hole) < 0)
				return -1;
			end = hole;
		}
		if (hole >= size)
			break;
		data = SYS(lseek)(in, hole, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole remains */
		if (data < 0)
			return -1;
		hole = SYS(lseek)(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
	}
	return end >= size ? 0 : SYS(ftruncate)(out, size);
}

/* Was the source written between two looks (by a writer outside the
 * union)? Its size, mtime and ctime tell. */
static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The data of one version of the source, with st set to that version (its
 * size, times and mode are the ones the copy gets): a copy the source
 * changed under is started again, so the temp never holds a mix of two
 * versions; EBUSY when it never holds still. */
static int copy_version(const struct us_mount *m, int in, int out,
			struct stat *st)
{
	struct stat after;

	for (int i = 0; i < COPY_TRIES; i++) {
		if (SYS(fstat)(in, st) < 0)
			return -1;
		if (!S_ISREG(st->st_mode)) { /* no more what the lookup saw */
			errno = ESTALE;
			return -1;
		}
		if (copy_data(m, in, out, st) < 0 || SYS(fstat)(in, &after) < 0)
			return -1;
		if (same_version(st, &after))
			return 0;
		if (SYS(ftruncate)(out, 0) < 0)
			return -1;
	}
	errno = EBUSY;
	return -1;
}

static int keep_origin(const struct us_mount *m, int layer, const char *src,
		       const char *tmp, int out, const struct stat *st);

/* A regular file: data (when DATA), metadata and origin record (LAYER >=
 * 0) all by fd, before the copy's fd closes. */
/* META (when not NULL, with its stat MST) lends the copy its mode, owner,
 * times and xattrs in place of SRC's: a metacopy being filled. */
/* NONBLOCK: SRC was not lstat'ed (the lookup said a regular file); it
 * may be a FIFO by now, whose open must not wait. */
static int make_file(const struct us_mount *m, int layer, const char *src,
		     const char *meta, const struct stat *mst,
		     const char *tmp, struct stat *st, bool data, bool nonblock)
{
	int in = SYS(open)(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
				       (nonblock ? O_NONBLOCK : 0));
	if (in < 0)
		return -1;
	int out = SYS(open)(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close_keep_errno(in);
		return -1;
	}
	int rc = data ? copy_version(m, in, out, st) : 0;
	/* the origin first: a user xattr needs write permission, which a
	 * caller other than root loses once a read-only mode is set */
	if (rc == 0 && layer >= 0)
		rc = keep_origin(m, layer, src, tmp, out, st);
	if (rc == 0)
		rc = meta ? copy_meta(meta, tmp, -1, out, mst)
			  : copy_meta(src, tmp, in, out, st);
	close_keep_errno(in);
	close_keep_errno(out);
	return rc;
}

static int make_object(const struct us_mount *m, int layer, const char *src,
		       const char *meta, const struct stat *mst,
		       const char *tmp, struct stat *st, bool data)
{
	US_SCRATCH_SCOPE;
	struct {
		char link[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	ssize_t n;

	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return make_file(m, layer, src, meta, mst, tmp, st, data, false);
	case S_IFDIR:
		return SYS(mkdir)(tmp, 0700);
	case S_IFLNK:
		n = SYS(readlink)(src, sb->link, sizeof sb->link - 1);
		if (n < 0)
			return -1;
		sb->link[n] = '\0';
		return SYS(symlink)(sb->link, tmp);
	default:
		return SYS(mknod)(tmp, st->st_mode, st->st_rdev);
	}
}

static void remove_temp(const char *tmp, bool dir)
{
	int saved = errno;

	if (dir)
		SYS(rmdir)(tmp);
	else
		SYS(unlink)(tmp);
	errno = saved;
}

/* Record where the copy TMP came from, so its inode number stays: in an
 * xattr for files and dirs, aside in the work dir for other kinds (user
 * xattrs exist on files and dirs only). An upper filesystem without user
 * xattrs loses the record (README: Known limits); a full one fails the
 * copy-up rather than give the object a new number. 0, or -1 with errno. */
static int keep_origin(const struct us_mount *m, int layer, const char *src,
		       const char *tmp, int out, const struct stat *st)
{
	struct us_origin o;
	int rc;

	/* (the dir it is placed in is marked then: us_place_temp) */
	us_origin_of(NULL, layer, src, -1, US_ORIGIN_DIR_UNKNOWN, st, &o);
	if (out >= 0)
		rc = us_origin_fwrite(out, &o);
	else if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
		rc = us_origin_write(tmp, &o);
	else
		rc = us_origin_write_aside(m, tmp, &o);
	return rc < 0 && fatal_errno(errno) ? -1 : 0;
}

int us_copy_temp(const struct us_mount *m, int layer, const char *src,
		 struct stat *st, char *tmp, size_t len, bool data)
{
	return us_copy_temp_meta(m, layer, src, NULL, st, tmp, len, data);
}

/* us_copy_temp of a source the lookup found a regular file (KIND): its
 * fstat, made for the data's version check, is its only stat. Found to
 * be something else by now, it is copied as what it is. */
static int copy_temp_kind(const struct us_mount *m, int layer, const char *src,
			  mode_t kind, struct stat *st, char *tmp, size_t len,
			  bool data)
{
	if (!S_ISREG(kind) || !data || temp_path(m, tmp, len) < 0)
		return us_copy_temp(m, layer, src, st, tmp, len, data);
	if (make_file(m, layer, src, NULL, NULL, tmp, st, true, true) == 0)
		return 0;
	remove_temp(tmp, false);
	if (errno != ESTALE && errno != ELOOP)
		return -1;
	return us_copy_temp(m, layer, src, st, tmp, len, data);
}

int us_copy_temp_meta(const struct us_mount *m, int layer, const char *src,
		      const char *meta, struct stat *st, char *tmp, size_t len,
		      bool data)
{
	struct stat mst;

	if (SYS(lstat)(src, st) < 0 || temp_path(m, tmp, len) < 0)
		return -1;
	if (meta && SYS(lstat)(meta, &mst) < 0)
		return -1;
	if (make_object(m, layer, src, meta, &mst, tmp, st, data) < 0) {
		remove_temp(tmp, false);
		return -1;
	}
	if (S_ISREG(st->st_mode)) /* make_file did the rest by fd */
		return 0;
	/* the origin before the mode, as make_file; a dir keeps its owner's
	 * write permission until it is placed (copy_object): a dir moved to
	 * another dir needs it (its ".." changes), and so do its children
	 * placed in it, for a caller other than root */
	struct stat want = meta ? mst : *st;
	if (S_ISDIR(want.st_mode))
		want.st_mode |= S_IWUSR;
	if ((layer >= 0 && keep_origin(m, layer, src, tmp, -1, st) < 0) ||
	    copy_meta(meta ? meta : src, tmp, -1, -1, &want) < 0) {
		remove_temp(tmp, S_ISDIR(st->st_mode));
		return -1;
	}
	return 0;
}

int us_copy_new(const struct us_mount *m, const char *src, const char *dst)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (us_copy_temp(m, -1, src, &st, sb->tmp, sizeof sb->tmp, true) < 0)
		return -1;
	if (SYS(renameat2)(AT_FDCWD, sb->tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		remove_temp(sb->tmp, false);
		return -1;
	}
	return 0;
}

/* TMP renamed to DST. The upper dir PARENT (its stat PST, when known) is
 * a copy made by this caller; one made read-only (a lower dir's mode)
 * takes a copy placed in it for the rename alone, where overlayfs's own
 * credentials need no write permission: the caller's write permission
 * was checked against the union dir before (mayact.h). */
static int place(const char *tmp, const char *dst, const struct stat *pst,
		 const char *parent)
{
	if (SYS(renameat2)(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EACCES || !pst)
		return -1;
	struct us_ownwrite w;
	us_ownwrite_open(parent, pst, &w);
	if (!w.opened)
		return -1;
	int rc = SYS(renameat2)(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE);
	us_ownwrite_close(parent, &w);
	return rc;
}

int us_place_temp(const struct us_mount *m, const char *tmp, const char *dst,
		  bool dir)
{
	/* a copy-up is no change of the parent: keep its times, as overlayfs */
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t plen = strlen(dst);
	struct stat pst, st;
	memcpy(sb->parent, dst, plen + 1);
	us_path_pop(sb->parent, &plen);
	bool keep = SYS(stat)(sb->parent, &pst) == 0;
	/* the copy carries an origin record: its dir is marked first */
	us_shared_origins_enter_real(m, sb->parent, keep ? &pst : NULL);
	if (place(tmp, dst, keep ? &pst : NULL, sb->parent) == 0) {
		if (keep) {
			struct timespec ts[2] = {pst.st_atim, pst.st_mtim};
			SYS(utimensat)(AT_FDCWD, sb->parent, ts, 0);
		}
		return 0;
	}
	int err = errno;
	remove_temp(tmp, dir);
	if (err == EEXIST || err == ENOTEMPTY) {
		if (SYS(lstat)(dst, &st) == 0)
			return 0;
		/* another process put an object there and it was removed
		 * since: the name is gone, as if the removal came first */
		err = ENOENT;
	}
	errno = err;
	return -1;
}

/* Copy real object SRC of layer LAYER to upper path DST (of union path
 * UPATH) through a temp in the work dir. An object that appeared at DST
 * meanwhile (a concurrent copy-up) wins. Lookup caches learn of the copy
 * while it is placed (us_lcache_change_begin), before fds move to it
 * (their move looks the name up again). */
static int copy_object(const struct us_mount *m, int layer, const char *upath,
		       const char *src, mode_t kind, const char *dst, bool data)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (copy_temp_kind(m, layer, src, kind, &st, sb->tmp, sizeof sb->tmp, data) < 0)
		return -1;
	/* a dir placed changes the layers of every name below it: no cache
	 * may answer for them until it is announced */
	bool begun = us_lcache_change_begin(m, upath, false);
	int rc = us_place_temp(m, sb->tmp, dst, S_ISDIR(st.st_mode));
	/* a read-only dir gets its mode once placed (us_copy_temp_meta) */
	if (rc == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & S_IWUSR))
		SYS(chmod)(dst, st.st_mode & 07777);
	us_lcache_change_end(m, upath, false, begun);
	if (rc < 0)
		return -1;
	us_event("copy-up", upath, S_ISREG(st.st_mode) && data ? (long long)st.st_size : -1);
	if (S_ISREG(st.st_mode)) /* fds open on the old copy move */
		us_shared_bump(m, us_ino_of(m, layer, st.st_ino));
	return 0;
}

/* us_walk_dirs visitor: bring the dir at union path PATH up. */
static int copy_dir_up(const char *path, struct us_node *dir, void *arg)
{
	const struct us_mount *m = arg;
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
		char src[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (dir->layer == 0)
		return 0;
	if (upper_path(m, path, sb->up, sizeof sb->up) < 0 ||
	    us_layer_path(m, dir->layer, path, sb->src, sizeof sb->src) < 0 ||
	    copy_object(m, dir->layer, path, sb->src, 0, sb->up, false) < 0)
		return -1;
	dir->layer = 0;
	dir->dirs |= 1;
	return 0;
}

int us_copyup_dir(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct us_node last;
	struct stat st;

	/* an upper dir at UPATH implies its ancestors and wins the lookup */
	if (upper_path(m, upath, sb->up, sizeof sb->up) == 0 && SYS(lstat)(sb->up, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	return us_walk_dirs(m, upath, copy_dir_up, (void *)m, &last);
}

static int parent_of(const char *upath, char *out, size_t len)
{
	size_t l = strlen(upath);

	if (l + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, upath, l + 1);
	us_path_pop(out, &l);
	return 0;
}

static int copyup_nondir(const struct us_mount *m, const char *upath,
			 const struct us_node *node, bool parent_up, bool data);

/* Lookup caches learn that UPATH is now an upper object (lcache.h). */
int us_copyup(const struct us_mount *m, const char *upath,
	      const struct us_node *node, bool data)
{
	return us_copyup_in(m, upath, node, NULL, data);
}

int us_copyup_in(const struct us_mount *m, const char *upath,
		 const struct us_node *node, const struct us_node *parent,
		 bool data)
{
	if (node->layer == 0)
		return us_node_metacopy(node)
			       ? us_metacopy_fill(m, upath, node, data) : 0;
	if (S_ISDIR(node->mode))
		return us_copyup_dir(m, upath);
	/* the copy (copy_object, us_index_copyup) told the caches */
	return copyup_nondir(m, upath, node, parent && (parent->dirs & 1), data);
}

/* PARENT_UP: the lookup found UPATH's dir in the upper (not asked again). */
static int copyup_nondir(const struct us_mount *m, const char *upath,
			 const struct us_node *node, bool parent_up, bool data)
{
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
		char src[US_PATH_MAX];
		char dst[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (parent_of(upath, sb->parent, sizeof sb->parent) < 0 ||
	    (!parent_up && us_copyup_dir(m, sb->parent) < 0) ||
	    us_layer_path(m, node->layer, upath, sb->src, sizeof sb->src) < 0 ||
	    upper_path(m, upath, sb->dst, sizeof sb->dst) < 0)
		return -1;
	if (us_index_wanted(m, node))
		return us_index_copyup(m, upath, node, sb->dst, data);
	/* a concurrent copy placed first wins (us_place_temp) */
	return copy_object(m, node->layer, upath, sb->src, node->mode, sb->dst, data);
}
