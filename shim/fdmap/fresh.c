/* fdmap/fresh.c: fresh reads across copy-up. An fd open on a lower file
 * watches its object's generation slot (shared.h); when the slot moved,
 * the next read-family call finds the upper copy and puts it under the fd
 * and its dups, keeping offset, status flags and close-on-exec. In the
 * process that copied up, the hook moves them at once, but for fds under
 * a stdio stream: those move at their next read, in the thread reading.
 * A stream is flushed (its read buffer dropped, the fd's offset put back
 * to where the program is) before the fd-map lock is taken, never under
 * it: fflush takes the stream's lock, which a thread holding it may be
 * waiting on the fd map with. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../dirfdpath.h"
#include "../state.h"
#include "unionshim/identity.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

/* Every entry on E's real object learns whether an upper metacopy holds
 * its metadata (map locked). */
static void set_meta(const struct us_fdent *e, bool meta)
{
	for (int f = 0; f <= us_fdmap_top; f++) {
		struct us_fdent *o = us_fdent_peek(f);
		if (o && o->kind == US_FD_UNION && o->mount == e->mount &&
		    o->layer == e->layer && o->rino == e->rino && o->rdev == e->rdev)
			US_FDENT_SET(o, meta, meta);
	}
}

/* FD (entry E, on a lower file) may have a copy in the upper layer now:
 * open it, and put it under FD and every fd sharing FD's open file
 * description, with the same offset, status flags and close-on-exec flag
 * (map locked). */
void us_fdmap_move_to_copy(int fd, struct us_fdent *e)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char proc[40];
		char upath[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return;
	const struct us_mount *m;
	US_TARGET(t);
	struct stat st;

	snprintf(sb->proc, sizeof sb->proc, "/proc/self/fd/%d", fd);
	ssize_t n = US_REAL(readlink)(sb->proc, sb->real, sizeof sb->real - 1);
	if (n <= 0)
		return;
	sb->real[n] = '\0';
	/* DATA: an upper metacopy names its data, the file FD is open on */
	if (us_fd_union_path(fd, sb->real, sb->upath, sizeof sb->upath, &m) != 1 ||
	    us_map(AT_FDCWD, sb->upath, US_MAP_NOFOLLOW | US_MAP_DATA, t) != US_MAPPED ||
	    t->r.where != US_INSIDE || !S_ISREG(t->r.node.mode))
		return;
	if (!t->indexed && t->r.node.layer == e->layer && t->r.node.ino == e->rino) {
		set_meta(e, t->metacopy); /* a metacopy came or went over it */
		return;
	}
	if (us_long_lstat(t->real, &st) < 0)
		return;
	dev_t ndev = st.st_dev;
	uint64_t nino = st.st_ino;
	us_ident_stat_in(m, us_target_layer(t), t->real, -1, us_target_dir(t),
			 &st);
	if (st.st_ino != us_ino_of(m, e->layer, e->rino))
		return; /* another object took the name: not ours */
	int fl = US_REAL(fcntl)(fd, F_GETFL);
	off_t off = US_REAL(lseek)(fd, 0, SEEK_CUR);
	int nfd = fl < 0 ? -1
			 : us_long_open(t->real,
					 (fl & ~(O_CREAT | O_EXCL | O_TRUNC)) |
						 O_CLOEXEC);
	if (nfd < 0)
		return;
	if (off > 0)
		US_REAL(lseek)(nfd, off, SEEK_SET);
	for (int f = 0; f <= us_fdmap_top; f++) {
		struct us_fdent *o = us_fdent_peek(f);
		if (!o || o->kind != US_FD_UNION ||
		    (f != fd && (!e->ofd || o->ofd != e->ofd)))
			continue;
		int cl = US_REAL(fcntl)(f, F_GETFD);
		if (cl < 0 || US_REAL(dup3)(nfd, f, (cl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
			continue;
		us_fdent_moving(true);
		US_FDENT_SET(o, meta, t->metacopy);
		US_FDENT_SET(o, layer, us_target_layer(t));
		US_FDENT_SET(o, rdev, ndev);
		US_FDENT_SET(o, rino, nino);
		us_fdent_moving(false);
		US_FDENT_SET(o, watch, NULL);
	}
	US_REAL(close)(nfd);
}

/* Look at FD's entry (map locked, inside the shim). */
static void refresh_locked(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);
	struct stat st;

	if (!e || !e->watch)
		return;
	uint32_t now = __atomic_load_n(e->watch, __ATOMIC_ACQUIRE);
	if (now == e->gen)
		return;
	US_FDENT_SET(e, gen, now);
	if (US_REAL(fstat)(fd, &st) < 0 || st.st_dev != e->rdev ||
	    (uint64_t)st.st_ino != e->rino) {
		US_FDENT_SET(e, watch, NULL); /* closed behind our back, number reused */
		return;
	}
	us_fdmap_move_to_copy(fd, e);
}

void us_fd_refresh(int fd)
{
	int saved = errno;

	if (us_fdmap_in_vfork_child())
		return;
	us_inside = 1;
	us_errno0 = saved; /* for us_map, as a wrapper's guard would */
	struct us_fdent *e = us_fdent_peek(fd);
	FILE *stream = e ? e->stream : NULL;
	if (stream) /* its buffer holds old data; its offset is ahead */
		fflush(stream);
	if (us_fdmap_lock()) { /* never nested: us_fd_stale */
		refresh_locked(fd);
		us_fdmap_unlock();
	}
	us_inside = 0;
	errno = saved;
}

/* A copy-up in this process: its fds on that object move now. */
static void copied_here(const struct us_mount *m, uint64_t ino)
{
	int mount = (int)(m - us_cfg.mounts);

	if (!us_fdmap_lock())
		return; /* never nested: no copy-up there */
	for (int f = 0; f <= us_fdmap_top; f++) {
		struct us_fdent *e = us_fdent_peek(f);
		if (e && e->watch && !e->stream && e->mount == mount &&
		    us_ino_of(m, e->layer, e->rino) == ino)
			refresh_locked(f);
	}
	us_fdmap_unlock();
}

__attribute__((constructor(200))) static void fdmap_hook(void)
{
	us_copied_hook = copied_here;
}
