/* fdmap/table.c: the per-process fd map's table, dup and close bookkeeping,
 * and the shim's own fds (lock proxies) kept out of the program's way.
 *
 * Storage is a two-level table indexed by fd number (chunks of 1024 entries
 * allocated on first use and never freed, so a lock-free reader never sees
 * freed memory). Changes take the fd-map lock (forks.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../dirfdpath.h"
#include "../forks.h"
#include "../guard.h"
#include "../state.h"
#include "unionshim/identity.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"

/* LeakSanitizer's, present only in a sanitizer build (weak: NULL else). */
void __lsan_register_root_region(const void *p, size_t size)
	__attribute__((weak));

#define LOCKS_DIR "#locks" /* lock proxies, named by union inode number */
#define CHUNK 1024
#define NCHUNKS 1024 /* fds up to 1M are tracked */

static struct us_fdent *chunks[NCHUNKS];
int us_fdmap_top = -1;  /* highest fd with an entry, ever */
int us_fdmap_proxies;   /* shim fds open in this process */
bool us_fdmap_lock(void) { return us_lock_unless_mine(US_LOCK_FDMAP); }

void us_fdmap_unlock(void) { us_unlock(US_LOCK_FDMAP); }

static inline __attribute__((always_inline)) struct us_fdent *peek(int fd)
{
	if (fd < 0 || fd >= CHUNK * NCHUNKS)
		return NULL;
	struct us_fdent *c = __atomic_load_n(&chunks[fd / CHUNK], __ATOMIC_ACQUIRE);
	if (!c || __atomic_load_n(&c[fd % CHUNK].kind, __ATOMIC_ACQUIRE) ==
			  US_FD_NONE)
		return NULL;
	return &c[fd % CHUNK];
}

struct us_fdent *us_fdent_peek(int fd)
{
	return peek(fd);
}

/* (fresh.c's test, here where the table lookup inlines: it runs before
 * every read.) */
bool us_fd_stale(int fd)
{
	struct us_fdent *e = peek(fd);

	const uint32_t *w = e ? __atomic_load_n(&e->watch, __ATOMIC_RELAXED) : NULL;

	return __builtin_expect(w != NULL, 0) &&
	       __atomic_load_n(w, __ATOMIC_ACQUIRE) !=
		       __atomic_load_n(&e->gen, __ATOMIC_RELAXED) &&
	       !us_inside && us_state == US_ACTIVE;
}

struct us_fdent *us_fdmap_slot(int fd)
{
	if (fd < 0 || fd >= CHUNK * NCHUNKS)
		return NULL;
	struct us_fdent *c = chunks[fd / CHUNK];
	if (!c) { /* pages, not the heap: a nested call may be here */
		void *p = US_REAL(mmap)(NULL, CHUNK * sizeof *c,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		c = p;
		if (__lsan_register_root_region) /* a sanitizer build: its */
			__lsan_register_root_region(p, CHUNK * sizeof *c); /* leak
			checker scans the heap, not our pages, for pointers */
		__atomic_store_n(&chunks[fd / CHUNK], c, __ATOMIC_RELEASE);
	}
	if (fd > us_fdmap_top) /* (us_fd_highest reads it unlocked) */
		__atomic_store_n(&us_fdmap_top, fd, __ATOMIC_RELAXED);
	return &c[fd % CHUNK];
}

/* Forget FD's entry without the lock: a nested call (guard.h) that cannot
 * have it. Only an entry that no other one shares can go so. */
static void drop_unlocked(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	if (e && !e->ofd)
		__atomic_store_n(&e->kind, US_FD_NONE, __ATOMIC_RELEASE);
}

struct us_ofd *us_fdmap_ofd(struct us_fdent *e)
{
	if (!e->ofd && us_nested()) {
		errno = EAGAIN; /* no malloc in a nested call (guard.h) */
		return NULL;
	}
	if (!e->ofd && (e->ofd = malloc(sizeof *e->ofd))) {
		e->ofd->refs = 1;
		e->ofd->proxy = -1;
		e->ofd->handed = 0;
	}
	return e->ofd;
}

void us_fdmap_clear(struct us_fdent *e)
{
	US_FDENT_SET(e, watch, NULL);
	US_FDENT_SET(e, dir, false);
	e->ofd = NULL;
	e->stream = NULL;
	__atomic_store_n(&e->kind, US_FD_NONE, __ATOMIC_RELEASE);
}

uint64_t us_fdmap_ino(int fd, struct us_fdent *e)
{
	struct stat st;

	if (e->layer != 0 || !us_cfg.mounts[e->mount].has_upper)
		return us_ino_of(&us_cfg.mounts[e->mount], e->layer, e->rino);
	if (US_REAL(fstat)(fd, &st) < 0)
		return 0;
	us_ident_stat(&us_cfg.mounts[e->mount], 0, NULL, fd, &st);
	return st.st_ino;
}

void us_fdmap_fill(struct us_fdent *e, const struct us_mount *m, int layer,
		   int acc, dev_t rdev, uint64_t rino, bool dir)
{
	e->mount = (int)(m - us_cfg.mounts);
	US_FDENT_SET(e, layer, layer);
	e->acc = acc;
	US_FDENT_SET(e, rdev, rdev);
	US_FDENT_SET(e, rino, rino);
	e->opath = false;
	US_FDENT_SET(e, dir, dir);
	US_FDENT_SET(e, meta, false);
	US_FDENT_SET(e, watch, NULL);
	if (layer != 0 && m->has_upper && !dir) {
		const uint32_t *w = us_shared_slot(m, us_ino_of(m, layer, rino));
		if (w)
			US_FDENT_SET(e, gen, __atomic_load_n(w, __ATOMIC_ACQUIRE));
		US_FDENT_SET(e, watch, w);
	}
	__atomic_store_n(&e->kind, US_FD_UNION, __ATOMIC_RELEASE);
}

/* A reopen of an fd through its magic link: what it opened is not known
 * from the path (the map learns it when asked); the fd it reopened, or -1. */
static int reopened(const char *path)
{
	const char *rest;

	return path && path[0] == '/' && (path[1] == 'p' || path[1] == 'd')
		       ? us_magic_fd(path, &rest)
		       : -1;
}

/* Did this open (FLAGS, target T, in a union) make its file, in the
 * upper? Such an fd is a union fd like any other: its locks go to the
 * object's lock proxy, as those of every process that opens the file
 * after it (lock.c). Before, it was left out of the map and locked the
 * file itself: a lock file made by its first locker (flock -n, sqlite's
 * database) excluded no one. */
static bool made_here(const struct us_target *t, int flags)
{
	return t->r.err == ENOENT && (flags & O_CREAT) && !(flags & O_PATH) &&
	       (flags & O_TMPFILE) != O_TMPFILE && t->r.m->has_upper;
}

void us_fd_opened(int fd, int flags, const char *path,
		  const struct us_target *t)
{
	US_KEEP_ERRNO;
	int src = reopened(path);
	struct us_fdent *o = src >= 0 ? us_fdent_peek(src) : NULL;
	/* where == US_OUTSIDE; never written, but not const: a const one
	 * is 70 KB of zeros in the library's file, mapped with its
	 * neighbours (a walker's peak RSS), where .bss costs nothing */
	static struct us_target outside;

	if (src >= 0) /* a reopen of an fd opened outside stays outside */
		t = o && o->kind == US_FD_OUTSIDE ? &outside : NULL;
	if (us_fdmap_in_vfork_child()) {
		bool u = t && t->r.where == US_INSIDE &&
			 ((!t->r.err && S_ISREG(t->r.node.mode)) ||
			  made_here(t, flags));
		us_fdmap_vfork_op(u ? us_fdop_open(fd, flags) : us_fdop_close(fd));
		return;
	}
	if (!us_fdmap_lock()) {
		drop_unlocked(fd); /* the fd map learns it when asked */
		return;
	}
	struct us_fdent *e = us_fdmap_slot(fd);
	if (!e)
		goto out;
	us_fdmap_clear(e); /* a number reused after a close we missed */
	if (!t)
		goto out;
	if (t->r.where != US_INSIDE) {
		__atomic_store_n(&e->kind, US_FD_OUTSIDE, __ATOMIC_RELEASE);
		goto out;
	}
	if (made_here(t, flags)) { /* its identity is learnt when asked */
		us_fdmap_fill(e, t->r.m, 0, flags & O_ACCMODE, 0, 0, false);
		goto out;
	}
	if (t->r.err || (!S_ISREG(t->r.node.mode) && !S_ISDIR(t->r.node.mode)))
		goto out;
	us_fdmap_fill(e, t->r.m, us_target_layer(t), flags & O_ACCMODE,
		      t->r.node.dev, t->r.node.ino, S_ISDIR(t->r.node.mode));
	e->opath = flags & O_PATH;
	US_FDENT_SET(e, meta, t->metacopy);
out:
	us_fdmap_unlock();
	if (t && t->r.where == US_INSIDE && !t->r.err &&
	    (S_ISDIR(t->r.node.mode) || S_ISREG(t->r.node.mode)))
		us_dirfd_opened(fd, t->r.path, t->moves0);
}

/* Release this process's record locks on the identity of entry E (fd
 * FD), as closing any fd of a file does: on any proxy of that identity. */
static void drop_record_locks(int fd, struct us_fdent *e)
{
	struct flock all = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
	uint64_t ino = us_fdmap_ino(fd, e);

	for (int f = 0; f <= us_fdmap_top && us_fdmap_proxies; f++) {
		struct us_fdent *o = us_fdent_peek(f);
		if (o && o->kind == US_FD_UNION && o->ofd && o->ofd->proxy >= 0 &&
		    o->mount == e->mount && us_fdmap_ino(f, o) == ino) {
			US_REAL(fcntl)(o->ofd->proxy, F_SETLK, &all);
			return;
		}
	}
}

static void close_proxy(struct us_ofd *ofd)
{
	struct us_fdent *p = us_fdent_peek(ofd->proxy);

	if (p)
		us_fdmap_clear(p);
	US_REAL(close)(ofd->proxy);
	ofd->proxy = -1;
	us_fdmap_proxies--;
}

void us_fdmap_forget(int fd, struct us_fdent *e)
{
	if (e->kind != US_FD_UNION)
		return;
	struct us_ofd *ofd = e->ofd;
	if (ofd && --ofd->refs == 0) {
		if (ofd->proxy >= 0)
			close_proxy(ofd); /* its record locks go with it */
		if (!us_nested()) /* else it stays: no free in a nested call */
			free(ofd);
		e->ofd = NULL;
	} else if (us_fdmap_proxies) {
		drop_record_locks(fd, e);
	}
	us_fdmap_clear(e);
}

void us_fd_closing(int fd)
{
	US_KEEP_ERRNO;
	struct us_fdent *e = us_fdent_peek(fd);
	bool known = e && e->kind == US_FD_UNION;

	if (known || us_fdmap_vfork_logging()) {
		if (us_fdmap_in_vfork_child()) {
			us_fdmap_vfork_op(us_fdop_close(fd));
			return;
		}
		us_fdmap_vfork_forget(); /* a vfork child's, long exec'd */
	}
	if (!e)
		return;
	if (!known) { /* in a vfork child too: the parent only loses a hint */
		__atomic_store_n(&e->kind, US_FD_NONE, __ATOMIC_RELEASE);
		return;
	}
	if (!us_fdmap_lock()) {
		drop_unlocked(fd); /* or a stale entry, checked before use */
		return;
	}
	us_fdmap_forget(fd, e);
	us_fdmap_unlock();
}

/* E's fields from O, its kind last: a lock-free reader (us_fdent_peek)
 * sees the kind only with the rest in place. */
static void copy_entry(struct us_fdent *e, const struct us_fdent *o)
{
	e->mount = o->mount;
	US_FDENT_SET(e, layer, o->layer);
	e->acc = o->acc;
	e->opath = o->opath;
	US_FDENT_SET(e, dir, o->dir);
	US_FDENT_SET(e, meta, o->meta);
	US_FDENT_SET(e, rdev, o->rdev);
	US_FDENT_SET(e, rino, o->rino);
	US_FDENT_SET(e, watch, o->watch);
	US_FDENT_SET(e, gen, o->gen);
	e->ofd = o->ofd;
	e->stream = o->stream;
	__atomic_store_n(&e->kind, o->kind, __ATOMIC_RELEASE);
}

void us_fd_duped(struct us_fdop dup)
{
	US_KEEP_ERRNO;
	int oldfd = dup.src, newfd = dup.fd;

	if (oldfd == newfd)
		return;
	if (us_fdmap_in_vfork_child()) {
		us_fdmap_vfork_op(dup);
		return;
	}
	if (!us_fdmap_lock()) {
		drop_unlocked(newfd);
		return;
	}
	struct us_fdent *n = us_fdent_peek(newfd);
	if (n)
		us_fdmap_forget(newfd, n); /* dup2 closed what NEWFD was */
	struct us_fdent *o = us_fdent_peek(oldfd);
	if (o && o->kind == US_FD_OUTSIDE && (n = us_fdmap_slot(newfd)))
		__atomic_store_n(&n->kind, US_FD_OUTSIDE, __ATOMIC_RELEASE);
	if (o && o->kind == US_FD_UNION && us_fdmap_ofd(o) && (n = us_fdmap_slot(newfd))) {
		copy_entry(n, o);
		n->ofd->refs++;
	}
	us_fdmap_unlock();
	us_dirfd_duped(oldfd, newfd);
}

bool us_fd_is_shim(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e && e->kind == US_FD_SHIM;
}

enum us_fdkind us_fd_kind(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e ? (enum us_fdkind)e->kind : US_FD_NONE;
}

bool us_fd_union_dir(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e && __atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) == US_FD_UNION &&
	       __atomic_load_n(&e->dir, __ATOMIC_ACQUIRE);
}

int us_fd_access(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e && e->kind == US_FD_UNION ? e->acc : -1;
}

int us_fd_highest(void)
{
	return __atomic_load_n(&us_fdmap_top, __ATOMIC_RELAXED);
}

/* Where shim fds go: near the top of a table of at most 1024 slots, so
 * that the lowest-free rule keeps the program's fds below them and the
 * kernel's fd table stays small. */
int us_fdmap_shim_base(void)
{
	struct rlimit rl;
	rlim_t cap = 1024;

	if (US_REAL(getrlimit)(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < cap)
		cap = rl.rlim_cur;
	return cap > 128 ? (int)cap - 64 : (int)cap / 2;
}

int us_fdmap_move_shim(int fd, int base)
{
	struct us_fdent *e = us_fdent_peek(fd);
	int nfd = US_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, base);

	if (nfd < 0)
		nfd = US_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	struct us_fdent *n = us_fdmap_slot(nfd);
	if (!n) {
		US_REAL(close)(nfd);
		errno = EMFILE;
		return -1;
	}
	*n = *e;
	if (n->ofd)
		n->ofd->proxy = nfd;
	us_fdmap_clear(e);
	US_REAL(close)(fd);
	return nfd;
}

int us_fd_make_room(int fd)
{
	if (!us_fd_is_shim(fd) || us_fdmap_in_vfork_child())
		return 0;
	if (!us_fdmap_lock()) {
		errno = EDEADLK; /* a nested call: a proxy cannot move now */
		return -1;
	}
	int rc = us_fdmap_move_shim(fd, fd + 1 < us_fdmap_shim_base() ? us_fdmap_shim_base() : 3) < 0 ? -1 : 0;
	us_fdmap_unlock();
	return rc;
}

int us_fd_proxy(int fd)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct us_fdent *e = us_fdent_peek(fd);
	int rc = -1;

	if (!e || e->kind != US_FD_UNION || us_fdmap_in_vfork_child()) {
		errno = EBADF;
		return -1;
	}
	if (!us_fdmap_lock()) {
		errno = EDEADLK; /* a nested call: no proxy can be made now */
		return -1;
	}
	const struct us_mount *m = &us_cfg.mounts[e->mount];
	if (!us_fdmap_ofd(e))
		goto out;
	if (e->ofd->proxy >= 0) {
		rc = e->ofd->proxy;
		goto out;
	}
	uint64_t ino = us_fdmap_ino(fd, e);
	if (!m->work || !ino) {
		errno = EBADF; /* a read-only union: lock the file itself */
		goto out;
	}
	snprintf(sb->p, sizeof sb->p, "%s/" LOCKS_DIR "/%016llx", m->work,
		 (unsigned long long)ino);
	int pfd = US_REAL(open)(sb->p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (pfd < 0 && errno == ENOENT) { /* the first lock of this mount */
		snprintf(sb->p, sizeof sb->p, "%s/" LOCKS_DIR, m->work);
		US_REAL(mkdir)(sb->p, 0700);
		snprintf(sb->p, sizeof sb->p, "%s/" LOCKS_DIR "/%016llx", m->work,
			 (unsigned long long)ino);
		pfd = US_REAL(open)(sb->p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (pfd < 0)
		goto out;
	struct us_fdent *s = us_fdmap_slot(pfd);
	if (!s) {
		US_REAL(close)(pfd);
		goto out;
	}
	s->kind = US_FD_SHIM;
	s->ofd = e->ofd;
	e->ofd->proxy = pfd;
	us_fdmap_proxies++;
	int high = us_fdmap_move_shim(pfd, us_fdmap_shim_base());
	rc = high < 0 ? pfd : high;
out:
	us_fdmap_unlock();
	return rc;
}


void us_fd_stream(int fd, FILE *f)
{
	US_KEEP_ERRNO;
	struct us_fdent *e = us_fdent_peek(fd);

	if (e && e->kind == US_FD_UNION)
		e->stream = f;
}
