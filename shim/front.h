/* front.h: what a wrapper asks before it calls the real function.
 *
 * us_map() turns a caller's (dirfd, path) into what the real call should
 * get: the path unchanged (it is none of the union's business), the real
 * path of a union object, or a failure with the errno the call must
 * return. Wrappers stay thin: map, call, fix up. */
#ifndef UNIONSHIM_FRONT_H
#define UNIONSHIM_FRONT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "core/longpath.h"
#include "real.h"
#include "userptr.h"
#include "unionshim/identity.h"
#include "unionshim/lookup.h"
#include "unionshim/scratch.h"

/* What the call does to the final object. */
#define US_MAP_NOFOLLOW 0x01 /* act on a final symlink itself */
#define US_MAP_WRITE 0x02    /* changes an existing object */
#define US_MAP_CREATE 0x04   /* makes a new name: EEXIST if it exists */
#define US_MAP_OPENCREAT 0x08 /* O_CREAT without O_EXCL: may make it */
#define US_MAP_EMPTY_OK 0x10 /* "" names DIRFD itself (AT_EMPTY_PATH) */
#define US_MAP_NODATA 0x20   /* a copy-up may skip the data (O_TRUNC) */
#define US_MAP_REMOVE 0x40   /* unlinks or renames the name (no copy-up) */
#define US_MAP_MAYBE 0x80    /* the final name may be missing (rename) */
#define US_MAP_OBJECT 0x100  /* a bare /proc/self/fd/N of an fd on a lower
				file names its union object (link source) */
#define US_MAP_META 0x200    /* with WRITE: changes metadata only (chmod,
				chown, utimes, xattrs): a lower file's copy-up
				may leave its data below (metacopy.h) */
#define US_MAP_DATA 0x400    /* reads the data (an open, exec): an upper
				metacopy maps to its lower data file */
#define US_MAP_EXEC 0x800    /* with DATA: execs it (a metacopy whose
				mode or owner differ from its data file's
				gets its data first: the kernel checks the
				real file) */
#define US_MAP_RELATIVE 0x1000 /* the real call is made at once, here, with
				  the path given: it may be relative to the
				  kernel's cwd (us_path*), as it is to the
				  caller's dir fd for any call */
#define US_MAP_NOTDIR 0x2000 /* the kernel refuses a dir with EISDIR (an
				open for writing or truncating, truncate):
				one found is not copied up for it */
#define US_MAP_FD 0x4000     /* opens an fd the fd map keeps: T->moves0
				is read before the lookup (us_fd_opened) */
#define US_MAP_DIRCREAT 0x40000 /* an open with O_CREAT and O_DIRECTORY
				 (EINVAL where the kernel refuses both) */
#define US_MAP_NAME 0x20000 /* looks at the name itself, as a create or
				remove does: found without trailing slashes */
#define US_MAP_DIRNAME 0x10000 /* with CREATE: the name is made a dir
				(mkdir): trailing slashes are its own */
#define US_MAP_STATX 0x8000  /* the caller answers from the lookup's statx
				when it made one (walked: the stat family):
				no real path is made for an object no
				identity read needs (T->from_lookup) */
#define US_MAP_OWNER 0x80000 /* with WRITE: only the object's owner (or
				CAP_FOWNER) may (chmod, chown, times given,
				inode flags): a lower one is checked first */
#define US_MAP_TOUCH 0x100000 /* with WRITE: the owner or a writer may
				 (times set to now) */
#define US_MAP_LINKSRC 0x200000 /* with WRITE: a hard link's source (the
				   protected_hardlinks rule); else WRITE
				   asks write permission (mayact.h) */
#define US_MAP_NOCHECK 0x400000 /* with WRITE: the kernel asks nothing of
				   the caller (chown to -1, -1) */
#define US_MAP_WRITES                                                         \
	(US_MAP_WRITE | US_MAP_CREATE | US_MAP_OPENCREAT | US_MAP_REMOVE)

/* The US_MAP_* flags of an open(2) with FLAGS. */
US_HIDDEN unsigned us_open_map_flags(int flags);

enum us_map_result { US_FAIL = -1, US_PASS = 0, US_MAPPED = 1 };

struct us_target {
	struct us_resolved r; /* r.where == US_INSIDE: the union object */
	char real[US_PATH_MAX];  /* US_MAPPED: the path for the real call */
	bool whiteout;        /* a create replaces a whiteout (us_created) */
	bool swap;            /* real is a temp in the work dir, renamed over
				 the name's in-place whiteout (us_created) */
	bool indexed;         /* real is the hard-link index entry of the
				 lower file found (linkindex.h) */
	bool creates;         /* the call may make the name (us_created) */
	bool metacopy;        /* real is the lower data of an upper metacopy
				 (r.node: that data file, layer and all) */
	int held;             /* us_path*: the dir fd a real path longer
				 than PATH_MAX is reached through, or -1 */
	char proc[PATH_MAX];  /* us_path: "/proc/self/fd/HELD/rest" */
	uint32_t moves0;      /* us_dirfd_moves_all() before the lookup
				 (US_MAP_FD; else 0: a dir fd's path is then
				 remembered only while nothing ever moved) */
	bool rel_ok;          /* us_path_at may give real relative to the
				 caller's dir fd (us_resolved_rel) */
	bool from_lookup;     /* US_MAP_STATX: the lookup's statx is the
				 answer; REAL is empty, no real call */
	bool slashed;         /* a name made or removed was written with
				 trailing slashes, found without them */
};

/* A target for one call, in the thread's scratch (scratch.h) and popped
 * when the wrapper returns: US_PATH_MAX buffers stay off the caller's stack.
 * NULL when scratch is out; us_map and us_path* then fail with ENOMEM.
 * The fd a long real path was reached through is closed on the way out. */
#define US_TARGET(name)                                                       \
	struct us_target *name __attribute__((cleanup(us_target_end))) =      \
		us_target_new()

/* T (scratch, so holding whatever was there) made ready for a call:
 * nothing found, nothing for us_created or us_target_end to do. Every
 * target starts so, whichever way it is filled after. */
static inline void us_target_init(struct us_target *t)
{
	t->r.where = US_OUTSIDE;
	t->whiteout = t->swap = t->indexed = t->creates = t->metacopy = false;
	t->rel_ok = t->from_lookup = false;
	t->held = -1;
	t->moves0 = 0;
}

static inline struct us_target *us_target_new(void)
{
	struct us_target *t = us_scratch_push(sizeof(struct us_target));

	if (t)
		us_target_init(t);
	return t;
}

/* A mapped T->real longer than PATH_MAX (longtarget.c): its dir opened
 * in pieces into T->held, *DIRFD set to it, and the rest returned (shorter
 * than MAX); us_target_proc gives "/proc/self/fd/HELD/rest" in T->proc.
 * NULL with errno when a piece cannot be opened. */
US_HIDDEN const char *us_target_long(struct us_target *t, int *dirfd,
				     size_t max);
US_HIDDEN const char *us_target_proc(struct us_target *t);

/* Close what T holds, errno kept. */
US_HIDDEN void us_target_close(struct us_target *t);

static inline void us_target_end(struct us_target **t)
{
	if (*t && (*t)->held >= 0)
		us_target_close(*t);
}

/* The layer whose rules T's real object follows: the index entry of a
 * lower hard link is an upper object. */
static inline int us_target_layer(const struct us_target *t)
{
	return t->indexed ? 0 : t->r.node.layer;
}

/* The real dir that holds T's object, as its lookup found it: where its
 * origin record is looked for (identity.h). Not known for an index entry
 * or a name the lookup did not reach through its dir. */
static inline struct us_origin_dir us_target_dir(const struct us_target *t)
{
	if (t->indexed || !t->r.parent_ok || t->r.parent.layer != 0)
		return US_ORIGIN_DIR_UNKNOWN;
	return (struct us_origin_dir){t->r.parent.dev, t->r.parent.ino};
}

US_HIDDEN int us_map(int dirfd, const char *path, unsigned flags,
		     struct us_target *t);

/* The second half of us_map, for a caller that resolved T->r itself
 * (us_resolve_at): copy-up or create preparation, the lower guard. */
US_HIDDEN int us_map_resolved(unsigned flags, struct us_target *t);

/* us_map for the common shapes: the path (and *DIRFD) the real call should
 * get, or NULL with errno set. A real path past PATH_MAX is given as a dir
 * fd T holds and the rest (us_path: "/proc/self/fd/N/rest"). */
US_HIDDEN const char *us_path(const char *path, unsigned flags,
			      struct us_target *t);
US_HIDDEN const char *us_path_at(int *dirfd, const char *path,
				 unsigned flags, struct us_target *t);

/* What an fd refers to (fdpath.c). The union path of what FD refers to
 * (1), its real path when it is in no union (0), or -1 when FD names no
 * path (pipe, socket, bad fd). */
US_HIDDEN int us_fd_path(int fd, char *out, size_t len);

/* The union dir FD is open on, looked up now (no final symlink
 * followed): true with R filled when FD's union path names a dir of a
 * union (R->where US_INSIDE, no error); errno is kept either way. */
US_HIDDEN bool us_fd_union_dir_now(int fd, struct us_resolved *r);

/* After us_fd_path failed: FD is open on a union object all the same (a
 * dir deeper than a page whose way up cannot be read). */
US_HIDDEN bool us_fd_path_lost(int fd);

/* Magic paths (magic.c). PATH below this process's own proc dir
 * ("/proc/self/", "/proc/thread-self/", "/proc/<our pid>/"): what follows
 * that dir ("fd/3", "cwd/x"); "/dev/fd/N" gives "fd/N". NULL if none. */
US_HIDDEN const char *us_magic_self(const char *path);

/* ".../fd/N/rest" of this process: the fd number, and *REST pointing at
 * "/rest" or "". -1 if none. */
US_HIDDEN int us_magic_fd(const char *path, const char **rest);

/* ".../cwd/rest" or ".../root/rest" of this process: 1 with the dir it
 * stands for (the virtual cwd, or "/") in BASE and *REST at "/rest" or
 * "", else 0. */
US_HIDDEN int us_magic_dir(const char *path, char *base, size_t len,
			   const char **rest);

/* PATH is a bare ".../fd/N" whose fd is open on a union object read from
 * a lower layer: 1 with the object's union path in OUT (a write through
 * the link goes to the union object, as overlayfs copies it up), else 0. */
US_HIDDEN int us_magic_lower_object(const char *path, char *out, size_t len);

/* The real path of FD's object lies in a lower layer, and FD was opened
 * there through the union: 1 with its union path in OUT, else 0. */
US_HIDDEN int us_fd_lower_object(int fd, char *out, size_t len);

/* Real path REAL lies in a lower layer of a union: 1 with its union path
 * in OUT, else 0. */
US_HIDDEN int us_real_lower_object(const char *real, char *out, size_t len);

/* Is canonical real path P inside a lower dir, or inside a target dir
 * itself (hidden under its union)? The dir, or NULL. */
US_HIDDEN const char *us_hidden_dir(const char *p);

/* Writes through an fd (fdwrite.c). A write through FD itself
 * (ftruncate): 0 if allowed, else -1 with
 * EROFS when FD is open on a file of a lower layer. */
US_HIDDEN int us_fd_write_check(int fd);

/* A metadata change through FD (fchmod, fchown, futimens, fsetxattr):
 * 0 to apply it to FD itself, 1 to apply it to the real path put in PATH
 * (the upper copy of FD's lower file, copied up now), -1 with errno.
 * MAY: mayact.h's rule (US_MAP_OWNER, ...), and US_FD_NOPATH for a call
 * the kernel refuses on an O_PATH fd (EBADF: fchmod, fchown, futimens,
 * fsetxattr; not the AT_EMPTY_PATH forms, which take one): such an fd is
 * left to the real call, nothing copied up. */
#define US_FD_NOPATH 0x80000000u
US_HIDDEN int us_fd_write(int fd, unsigned may, char *path, size_t len);

/* The errno for a write into union M: 0 with an upper, else EROFS. */
US_HIDDEN int us_write_errno(const struct us_mount *m);

/* Write side of us_map (writeside.c): make ready a new name (parent
 * copied up, T->real its upper path) or a change to an existing object
 * (copied up, with or without its data). 0, or -1 with errno. */
US_HIDDEN int us_prepare_create(struct us_target *t);
US_HIDDEN int us_prepare_write(struct us_target *t, bool data);

/* Metacopy sides of us_map (metaside.c): a metadata change (US_MAP_META),
 * and a read of the data of an upper metacopy (T->real set to it). 0, or
 * -1 with errno. */
US_HIDDEN int us_prepare_meta(struct us_target *t);
US_HIDDEN int us_prepare_data(struct us_target *t, unsigned flags);

/* After a create through T succeeded: drop the whiteout it replaced, and
 * tell lookup caches of the new name (lcache.h). */
US_HIDDEN void us_created(const struct us_target *t);

/* us_hidden_of for an ABS longer than PATH_MAX (longguard.c). */
US_HIDDEN const char *us_hidden_long(const char *abs, unsigned flags);

/* A write to real path ABS outside every union: -1 with EROFS when it
 * would land inside a lower dir, or in the real dir under a target. */
US_HIDDEN int us_lower_guard(const char *abs, unsigned flags);

/* The lower (or hidden target) dir that the object at real path ABS lies
 * in, after the kernel's symlink resolution (of the final name too unless
 * FLAGS has US_MAP_NOFOLLOW), or NULL. CANON (US_PATH_MAX bytes) gets the
 * canonical path of the object (followed and existing) or of its dir. */
US_HIDDEN const char *us_hidden_of(const char *abs, unsigned flags,
				   char *canon);

/* link(2) in union terms (linkside.c); linkat's arguments. */
US_HIDDEN int us_link(int olddirfd, const char *old, int newdirfd,
		      const char *new, int flags);

/* Join BASE and the relative PATH into OUT; -1/ENAMETOOLONG. */
US_HIDDEN int us_abs_path(int dirfd, const char *path, char *out, size_t len);

/* A pointer glibc declares nonnull but the kernel accepts as NULL (or
 * answers with EFAULT): hide it from the compiler's nonnull reasoning. */
static inline const char *us_unchecked(const char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

/* May the shim read PATH (not NULL, in mapped memory: userptr.h)? A
 * wrapper that looks at a path before us_map asks this first; us_map
 * answers EFAULT for one it may not. */
static inline bool us_readable(const char *path)
{
	return us_unchecked(path) && us_user_str_ok(path);
}

/* unlinkat's answer for a last component "." or ".." (front.c). */
US_HIDDEN int us_names_dot(const char *path);
US_HIDDEN int us_remove_dot(int dirfd, const char *path, int flags);
US_HIDDEN int us_rename_dot(int olddirfd, const char *old, int newdirfd,
			    const char *new, unsigned flags);

#endif
