/* front.c: map a caller's (dirfd, path) onto the union (see front.h).
 *
 * The fast path for a path that is no union's business is string work
 * only: the virtual cwd is copied, the path is walked lexically, and the
 * original arguments go to the real call untouched.
 *
 * Dependencies run one way: wrappers, fdwrite.c and the fd map's copy-up
 * follower (fdmap/fresh.c) call this file; it calls fdpath.c for what a
 * dirfd or a magic link names, and fdpath.c never calls back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirfdpath.h"
#include "fdroom.h"
#include "trace.h"
#include "unionshim/mayact.h"
#include "front.h"
#include "guard.h"
#include "core/longpath.h"
#include "state.h"
#include "unionshim/linkindex.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "userptr.h"

unsigned us_open_map_flags(int flags)
{
	unsigned f = US_MAP_FD;

	if (flags & O_PATH) /* the kernel keeps these alone (O_CREAT ignored) */
		flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;

	if (flags & O_NOFOLLOW)
		f |= US_MAP_NOFOLLOW;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND)) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		f |= US_MAP_WRITE;
	else
		f |= US_MAP_DATA;
	/* (O_TMPFILE names the dir to make the file in) */
	if (((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT))) &&
	    (flags & O_TMPFILE) != O_TMPFILE)
		f |= US_MAP_NOTDIR;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
		f |= US_MAP_NODATA; /* truncated at once: copy metadata only */
	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		f |= US_MAP_DIRCREAT;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		f |= US_MAP_CREATE | US_MAP_NOFOLLOW;
	else if (flags & O_CREAT)
		f |= US_MAP_OPENCREAT;
	return f;
}

/* us_abs_path; B (when not NULL) gets the dir a relative PATH was joined
 * to (its length 0: none), as us_resolve_base takes it. */
static int abs_path(int dirfd, const char *path, char *out, size_t len,
		    struct us_base *b, unsigned *cwdseq, uint32_t *moves,
		    bool *have_moves)
{
	US_SCRATCH_SCOPE;
	struct {
		char base[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	const char *rest;
	int fd;

	if (path[0] == '/') {
		if (!us_magic_self(path))
			goto copy;
		fd = us_magic_fd(path, &rest);
		/* a bare /proc/self/fd/N reopens the fd's own file: keep it */
		if (fd >= 0 && (!*rest || us_fd_path(fd, sb->base, sizeof sb->base) != 1))
			goto copy;
		/* /proc/self/cwd/x: the kernel's cwd is a layer dir */
		if (fd < 0 && !us_magic_dir(path, sb->base, sizeof sb->base, &rest))
			goto copy;
		if (us_path_join(out, len, sb->base, *rest ? rest + 1 : "") < 0)
			return -1;
		if (fd >= 0 || us_touches_union(&us_cfg, out))
			return 0;
		goto copy; /* no union's business: the kernel's own view */
	}
	if (dirfd == AT_FDCWD) {
		int got = us_cwd_get_base(sb->base, sizeof sb->base, b, cwdseq,
					  moves);
		if (got < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (have_moves)
			*have_moves = got > 0;
	} else if (us_fd_path(dirfd, sb->base, sizeof sb->base) < 0) {
		/* a union dir's lost path: never the layer's dir itself */
		errno = us_fd_path_lost(dirfd) ? EACCES : EBADF;
		return -1;
	}
	if (us_path_join(out, len, sb->base, path) < 0)
		return -1;
	if (b)
		b->len = strlen(sb->base);
	return 0;
copy:
	if (strlen(path) + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, path);
	return 0;
}

int us_abs_path(int dirfd, const char *path, char *out, size_t len)
{
	return abs_path(dirfd, path, out, len, NULL, NULL, NULL, NULL);
}

static int fail(int err)
{
	errno = err;
	return US_FAIL;
}

/* May the caller make the change of FLAGS to T's object, which lies in a
 * lower? As overlayfs asks of the lower's owner and mode before a
 * copy-up (mayact.h). */
static bool lower_refused(unsigned flags, struct us_target *t)
{
	enum us_may what = (flags & US_MAP_OWNER)     ? US_MAY_OWN
			   : (flags & US_MAP_TOUCH)   ? US_MAY_TOUCH
			   : (flags & US_MAP_LINKSRC) ? US_MAY_LINK
						      : US_MAY_WRITE;

	if (us_write_errno(t->r.m) || (flags & US_MAP_NOCHECK))
		return false; /* EROFS first, as the kernel: the prepare says it */
	if (us_resolved_real(&t->r, t->real, sizeof t->real) < 0 ||
	    us_may_lower(t->real, what) < 0) {
		us_trace_denied("change of another's object", t->r.path);
		return true;
	}
	return false;
}

/* Decide for a union object found (or not) by the resolver. */
static int inside(unsigned flags, struct us_target *t)
{
	struct us_resolved *r = &t->r;

	if ((flags & US_MAP_WRITES) && us_nested())
		return fail(EAGAIN); /* guard.h: no copy-up in a nested call */
	t->creates = flags & (US_MAP_CREATE | US_MAP_OPENCREAT);
	if (r->err) {
		if (flags & (US_MAP_CREATE | US_MAP_OPENCREAT))
			return us_prepare_create(t) < 0 ? US_FAIL : US_MAPPED;
		if (flags & US_MAP_MAYBE) {
			t->real[0] = '\0';
			return US_MAPPED;
		}
		return fail(r->err);
	}
	if (flags & US_MAP_CREATE)
		return fail(EEXIST);
	if ((flags & US_MAP_NOTDIR) && S_ISDIR(r->node.mode))
		return fail(EISDIR); /* before any copy-up, as the kernel */
	if ((flags & US_MAP_WRITE) && r->node.layer != 0 && lower_refused(flags, t))
		return US_FAIL;
	if ((flags & US_MAP_WRITE) &&
	    ((flags & US_MAP_META) ? us_prepare_meta(t)
				   : us_prepare_write(t, !(flags & US_MAP_NODATA))) < 0)
		return US_FAIL;
	if (!(flags & US_MAP_WRITES) && (flags & US_MAP_DATA) &&
	    us_node_metacopy(&r->node))
		return us_prepare_data(t, flags) < 0 ? US_FAIL : US_MAPPED;
	if (!(flags & US_MAP_WRITES) &&
	    us_index_find(r->m, &r->node, t->real, sizeof t->real) == 1) {
		t->indexed = true; /* a hard link copied up by another name */
		return US_MAPPED;
	}
	/* an identity no origin record changes needs no real path (a lower
	 * object's, an upper one's in a dir that holds none: identity.h), a
	 * walked stat no real call */
	if ((flags & US_MAP_STATX) && !(flags & US_MAP_WRITES) && r->stx_ok &&
	    !us_origin_maybe(r->m, r->node.layer, us_target_dir(t)) &&
	    !us_node_metacopy(&r->node)) {
		t->real[0] = '\0';
		t->from_lookup = true;
		return US_MAPPED;
	}
	if (us_resolved_real(r, t->real, sizeof t->real) < 0)
		return US_FAIL;
	return US_MAPPED;
}

/* Does a call with FLAGS act on what a magic link leads to (a write, a
 * link source), not on the link's own name (remove, create, NOFOLLOW)? */
static bool follows_to_object(unsigned flags)
{
	return (flags & (US_MAP_WRITE | US_MAP_OPENCREAT | US_MAP_OBJECT)) &&
	       !(flags & (US_MAP_NOFOLLOW | US_MAP_REMOVE | US_MAP_CREATE));
}

/* What a lookup of FLAGS (US_MAP_*) asks of the resolver. */
static unsigned lookup_flags(unsigned flags)
{
	return (flags & US_MAP_NOFOLLOW) ? US_LOOKUP_NOFOLLOW : 0;
}

/* T resolved for a call of FLAGS, as us_map_resolved decides; a read
 * through the caller's dir fd (a walker's), or relative to the cwd for a
 * call made at once, may let the kernel walk the names below that dir,
 * not the layer's whole path (rel_ok). */
static int decided(unsigned flags, struct us_target *t)
{
	int rc = us_map_resolved(flags, t);

	t->rel_ok = rc == US_MAPPED && !(flags & US_MAP_WRITES) &&
		    t->r.at_ulen &&
		    (t->r.at_fd != AT_FDCWD || (flags & US_MAP_RELATIVE));
	return rc;
}

/* A walker's NAME in the union dir its DIRFD is open on, from this
 * thread's walk memo (us_resolve_fd_name): true with *RC, false when the
 * whole mapping must answer. The moves word is read before the lookup,
 * as map() reads it. */
static bool fd_name(int dirfd, const char *name, unsigned flags,
		    struct us_target *t, int *rc)
{
	struct us_base b = {.len = 0};

	us_dirfd_base(dirfd, &b);
	if (b.layer < 0)
		return false;
	uint32_t moves0 = (flags & US_MAP_FD) ? us_dirfd_moves_all() : 0;
	int got = us_resolve_fd_name(&us_cfg, &b, name,
				     lookup_flags(flags) | US_LOOKUP_ONCE, &t->r);
	if (got == 0)
		return false;
	t->moves0 = moves0;
	*rc = got < 0 ? US_FAIL : decided(flags, t);
	return true;
}

/* Has the relative PATH a ".." component? */
static bool dotdot_in(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return true;
	return false;
}

/* Does the kernel refuse O_CREAT with O_DIRECTORY before it looks at the
 * path (Linux 6.4 and later: EINVAL)? Asked once, of "/": an older kernel
 * answers EISDIR there (it exists, and is a dir). */
static bool kernel_refuses_dircreat(void)
{
	static int known; /* 0 not asked, 1 refuses, 2 does not */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);

	if (!k) {
		int saved = errno;
		int fd = (int)US_REAL(syscall)(SYS_openat, AT_FDCWD, "/",
					       O_RDONLY | O_CREAT | O_DIRECTORY |
						       O_CLOEXEC,
					       0);
		k = fd < 0 && errno == EINVAL ? 1 : 2;
		if (fd >= 0)
			US_REAL(close)(fd);
		errno = saved;
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k == 1;
}

/* Does PATH end in a name followed by slashes ("name/", not "/", "./",
 * "../")? */
static bool slashed_name(const char *path)
{
	size_t n = strlen(path);

	if (n < 2 || path[n - 1] != '/')
		return false;
	while (n > 0 && path[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	size_t len = n - start;
	return len > 0 && !(len == 1 && path[start] == '.') &&
	       !(len == 2 && path[start] == '.' && path[start + 1] == '.');
}

/* A name made or removed with trailing slashes, found in a union without
 * them (R): what the kernel answers before acting, or 0 to go on. The
 * kernel looks such a name up in its dir and never follows it: an open
 * that may create says EISDIR, found or not; mknod, symlink and link's
 * new name EEXIST when it is there, else ENOENT ("a dir was asked for");
 * mkdir makes it as it is; unlink and rename decide themselves
 * (names.c). */
static int slash_verdict(unsigned flags, const struct us_resolved *r)
{
	if (r->err && r->err != ENOENT)
		return r->err;
	if ((flags & US_MAP_OPENCREAT) ||
	    ((flags & US_MAP_CREATE) && (flags & US_MAP_FD)))
		return EISDIR;
	if ((flags & US_MAP_CREATE) && !(flags & US_MAP_DIRNAME))
		return r->err ? ENOENT : EEXIST;
	return 0;
}

static int map(int dirfd, const char *path, unsigned flags,
	       struct us_target *t)
{
	US_SCRATCH_SCOPE;
	struct {
		char abs[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	const char *abs = sb->abs;
	struct us_base base = {.len = 0, .fd = dirfd, .layer = -1};
	unsigned cwdseq = 0;
	uint32_t cwdmoves = 0;
	bool have_moves = false;

	t->r.where = US_OUTSIDE;
	t->rel_ok = false;
	t->from_lookup = false;
	t->creates = false;
	t->whiteout = false;
	t->swap = false;
	t->indexed = false;
	t->metacopy = false;
	t->slashed = false;
	if ((flags & US_MAP_DIRCREAT) && kernel_refuses_dircreat())
		return fail(EINVAL); /* the flags, before the path */
	if (!path || !us_user_str_ok(path))
		return fail(EFAULT); /* what the kernel answers */
	if (!*path)
		return US_PASS; /* ENOENT or AT_EMPTY_PATH: the kernel's */
	if (!us_path_fits(path))
		return fail(ENAMETOOLONG); /* the kernel takes no more */
	/* a name made or removed is found without its slashes (the caller
	 * gets its own PATH back when it is no union's) */
	if ((flags & (US_MAP_CREATE | US_MAP_OPENCREAT | US_MAP_REMOVE |
		      US_MAP_NAME)) &&
	    slashed_name(path)) {
		size_t n = strlen(path);
		while (path[n - 1] == '/')
			n--;
		char *bare = us_scratch_push(n + 1); /* (popped with sb) */
		if (!bare)
			return fail(ENOMEM);
		memcpy(bare, path, n);
		bare[n] = '\0';
		path = bare;
		t->slashed = true;
	}
	int rc;
	if (dirfd >= 0 && path[0] != '/' && !t->slashed &&
	    fd_name(dirfd, path, flags, t, &rc))
		return rc;
	if (path[0] == '/' && !us_magic_self(path)) {
		abs = path; /* as us_abs_path would copy it */
	} else if (follows_to_object(flags) && path[0] == '/' &&
		   us_magic_lower_object(path, sb->abs, sizeof sb->abs)) {
		/* the fd's object, never a new name made in its place */
		flags = (flags | US_MAP_NOFOLLOW) & ~US_MAP_OPENCREAT;
	} else if (abs_path(dirfd, path, sb->abs, sizeof sb->abs, &base,
			    &cwdseq, &cwdmoves, &have_moves) < 0) {
		return errno == EBADF ? US_PASS : US_FAIL;
	}
	/* a name below a cwd in a union, with no "..", stays in it */
	if (!(have_moves && path[0] != '/' && !dotdot_in(path)) &&
	    !us_touches_union(&us_cfg, abs))
		return (flags & US_MAP_WRITES) && us_lower_guard(abs, flags) < 0
			       ? US_FAIL
			       : US_PASS;
	unsigned rflags = lookup_flags(flags);
	if (abs == sb->abs && path[0] != '/' && dirfd >= 0)
		rflags |= US_LOOKUP_ONCE; /* a walker's name: asked once */
	/* (read by the cwd's check already, before this lookup) */
	t->moves0 = have_moves			? cwdmoves
		    : (flags & US_MAP_FD) ? us_dirfd_moves_all()
					  : 0;
	if (base.len && dirfd >= 0)
		us_dirfd_base(dirfd, &base);
	else if (base.len && base.layer == -1)
		us_cwd_learn(cwdseq, &base); /* once per cwd: one stat */
	if ((base.len ? us_resolve_base(&us_cfg, abs, &base, rflags, &t->r)
		      : us_resolve(&us_cfg, abs, rflags, &t->r)) < 0)
		return US_FAIL;
	int err = t->slashed && t->r.where == US_INSIDE
			  ? slash_verdict(flags, &t->r)
			  : 0;
	return err ? fail(err) : decided(flags, t);
}

int us_map_resolved(unsigned flags, struct us_target *t)
{
	t->creates = false;
	t->whiteout = false;
	t->swap = false;
	t->indexed = false;
	t->metacopy = false;
	t->from_lookup = false;
	if (t->r.where == US_INSIDE)
		return inside(flags, t);
	if (strlen(t->r.path) + 1 > sizeof t->real)
		return fail(ENAMETOOLONG);
	strcpy(t->real, t->r.path);
	if ((flags & US_MAP_WRITES) && us_lower_guard(t->real, flags) < 0)
		return US_FAIL;
	return US_MAPPED;
}

const char *us_path_at(int *dirfd, const char *path, unsigned flags,
		       struct us_target *t)
{
	switch (us_map(*dirfd, path, flags, t)) {
	case US_PASS:
		return path;
	case US_MAPPED: {
		if (t->from_lookup)
			return t->real; /* (no real call is made) */
		int fd;
		const char *rel = t->rel_ok ? us_resolved_rel(&t->r, t->real, &fd)
					    : NULL;
		if (rel && us_path_fits(rel)) {
			*dirfd = fd;
			return rel;
		}
		*dirfd = AT_FDCWD;
		return us_path_fits(t->real) ? t->real
					     : us_target_long(t, dirfd, PATH_MAX);
	}
	default:
		return NULL;
	}
}

/* A call with no dirfd gets a long real path as "/proc/self/fd/N/rest"
 * (longtarget.c). */
const char *us_path(const char *path, unsigned flags, struct us_target *t)
{
	switch (us_map(AT_FDCWD, path, flags, t)) {
	case US_PASS:
		return path;
	case US_MAPPED: {
		if (t->from_lookup)
			return t->real; /* (no real call is made) */
		int fd;
		const char *rel = t->rel_ok ? us_resolved_rel(&t->r, t->real, &fd)
					    : NULL;
		if (rel && fd == AT_FDCWD && us_path_fits(rel))
			return rel;
		return us_path_fits(t->real) ? t->real : us_target_proc(t);
	}
	default:
		return NULL;
	}
}

/* The caller's errno goes to the real call: what the lookup, a copy-up
 * or the lower guard left in it on their way to success is theirs. */
int us_map(int dirfd, const char *path, unsigned flags, struct us_target *t)
{
	if (!t) /* US_TARGET found no scratch */
		return fail(ENOMEM);
	int rc = map(dirfd, path, flags, t);

	/* a copy-up's own fds, where overlayfs needs none (fdroom.h) */
	if ((flags & US_MAP_WRITES) && us_fdroom_again(rc)) {
		rc = map(dirfd, path, flags, t);
		us_fdroom_end();
	}

	if (rc != US_FAIL)
		us_errno_back();
	return rc;
}

/* Is PATH's last component "." or ".." (trailing slashes aside)? 1 for
 * ".", 2 for "..", else 0 (and for a NULL PATH, which the caller's
 * nonnull declaration would let the compiler assume away). */
int us_names_dot(const char *path)
{
	if (!path || !us_user_str_ok(path))
		return 0; /* the mapping answers EFAULT */
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (n - start == 1 && path[start] == '.')
		return 1;
	if (n - start == 2 && path[start] == '.' && path[start + 1] == '.')
		return 2;
	return 0;
}

/* unlinkat of "DIR/." or "DIR/..": the kernel refuses by the name's kind
 * once DIR is found (AT_REMOVEDIR: EINVAL for ".", ENOTEMPTY for "..";
 * else EISDIR), never by what the union path normalizes to. */
int us_remove_dot(int dirfd, const char *path, int flags)
{
	struct stat st;

	if (flags & ~AT_REMOVEDIR)
		return fail(EINVAL);
	if (US_SELF(fstatat)(dirfd, path, &st, 0) < 0)
		return -1;
	if (!(flags & AT_REMOVEDIR))
		return fail(EISDIR);
	return fail(us_names_dot(path) == 1 ? EINVAL : ENOTEMPTY);
}

/* Does the kernel's walk to PATH's parent dir succeed? A last name "."
 * or ".." has the dir before it as parent, which the walk of PATH itself
 * finds; else the name is cut off. */
static int parent_walk(int dirfd, const char *path)
{
	struct stat st;
	char buf[PATH_MAX];

	if (us_names_dot(path))
		return US_SELF(fstatat)(dirfd, path, &st, 0);
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n + 2 > sizeof buf)
		return fail(ENAMETOOLONG);
	memcpy(buf, path, n);
	strcpy(buf + n, ".");
	return US_SELF(fstatat)(dirfd, buf, &st, 0);
}

/* renameat2 with a last name "." or ".." on either side: both parents
 * are walked, then EBUSY (EEXIST for a new name with RENAME_NOREPLACE),
 * as the kernel orders its checks. */
int us_rename_dot(int olddirfd, const char *old, int newdirfd,
		  const char *new, unsigned flags)
{
	if ((flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) ||
	    ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT))))
		return fail(EINVAL);
	if (parent_walk(olddirfd, old) < 0 || parent_walk(newdirfd, new) < 0)
		return -1;
	if (us_names_dot(old))
		return fail(EBUSY);
	return fail((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
}
