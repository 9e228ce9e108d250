/* mount.c: the mount family (mount, umount, pivot_root, chroot, swapon,
 * swapoff, quotactl, the new mount API) and acct. A union exists only in
 * this process tree's view: a mount, chroot or swap file on a union path
 * would act on one real layer dir, and a bind of a lower would give it a
 * second, writable name. So any of these calls whose path or fd lies in a
 * union, or in a layer dir by its own path, fails with EPERM (traced);
 * elsewhere it passes unchanged. acct writes its file: it is routed like
 * an open for writing. Strings that hold paths for a filesystem (mount
 * data, fsconfig's string values) are not read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/swap.h>
#include <unistd.h>

#include "../front.h"
#include "../guard.h"
#include "../trace.h"
#include "door.h"
#include "unionshim/lookup.h"

#include "../state.h"

#define QUOTAON_CMD 0x800002 /* Q_QUOTAON, above the type byte of QCMD() */

/* Does (DIRFD, PATH) lie in a union or a layer dir? (A path that does not
 * resolve is left to the kernel.) A question: errno is left alone. */
static bool path_in_union_(int dirfd, const char *path);
static bool path_in_union(int dirfd, const char *path)
{
	int saved = errno;
	bool in = path_in_union_(dirfd, path);

	errno = saved;
	return in;
}

static bool path_in_union_(int dirfd, const char *path)
{
	char *real;
	US_SCRATCH_SCOPE;
	struct {
		char abs[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;

	if (!path || us_abs_path(dirfd, path, lp->abs, sizeof lp->abs) < 0)
		return false;
	if (us_touches_union(&us_cfg, lp->abs))
		return true;
	if (!(real = US_REAL(realpath)(lp->abs, NULL)))
		return false;
	bool in = us_revmap(&us_cfg, real, lp->abs, sizeof lp->abs, NULL) == 1;
	free(real);
	return in;
}

/* Does FD lie in a union or a layer dir? */
static bool fd_in_union(int fd)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	int saved = errno;
	bool in = us_fd_path(fd, lp->p, sizeof lp->p) == 1;

	errno = saved;
	return in;
}

static int refuse(const char *what, const char *path)
{
	errno = EPERM;
	us_trace_denied(what, path ? path : "an fd");
	return -1;
}

/* The object named by (DIRFD, PATH) or, with an empty PATH and EMPTY set,
 * DIRFD itself. */
static bool at_in_union(int dirfd, const char *path, bool empty)
{
	if (empty && (!path || (us_readable(path) && !*path)))
		return dirfd == AT_FDCWD ? path_in_union(AT_FDCWD, ".")
					 : fd_in_union(dirfd);
	return path_in_union(dirfd, path);
}

US_EXPORT int mount(const char *src, const char *tgt, const char *type,
		    unsigned long flags, const void *data)
{
	US_SHIM_OR(US_REAL(mount)(src, tgt, type, flags, data));
	if (path_in_union(AT_FDCWD, tgt))
		return refuse("mount on", tgt);
	if ((flags & (MS_BIND | MS_MOVE)) && path_in_union(AT_FDCWD, src))
		return refuse("bind or move mount of", src);
	return US_REAL(mount)(src, tgt, type, flags, data);
}

US_EXPORT int umount2(const char *tgt, int flags)
{
	US_SHIM_OR(US_REAL(umount2)(tgt, flags));
	return path_in_union(AT_FDCWD, tgt) ? refuse("umount of", tgt)
					    : US_REAL(umount2)(tgt, flags);
}

US_EXPORT int umount(const char *tgt)
{
	return US_SELF(umount2)(tgt, 0);
}

US_EXPORT int chroot(const char *path)
{
	US_SHIM_OR(US_REAL(chroot)(path));
	return path_in_union(AT_FDCWD, path) ? refuse("chroot to", path)
					     : US_REAL(chroot)(path);
}

US_EXPORT int swapon(const char *path, int flags)
{
	US_SHIM_OR(US_REAL(swapon)(path, flags));
	return path_in_union(AT_FDCWD, path) ? refuse("swapon of", path)
					     : US_REAL(swapon)(path, flags);
}

US_EXPORT int swapoff(const char *path)
{
	US_SHIM_OR(US_REAL(swapoff)(path));
	return path_in_union(AT_FDCWD, path) ? refuse("swapoff of", path)
					     : US_REAL(swapoff)(path);
}

/* quotactl: SPECIAL names a block device; Q_QUOTAON's ADDR the quota
 * file the kernel will write. */
US_EXPORT int quotactl(int cmd, const char *special, int id, caddr_t addr)
{
	US_SHIM_OR(US_REAL(quotactl)(cmd, special, id, addr));
	if (special && path_in_union(AT_FDCWD, special))
		return refuse("quotactl on", special);
	if (((unsigned)cmd >> 8) == QUOTAON_CMD && addr &&
	    path_in_union(AT_FDCWD, addr))
		return refuse("quotactl of", addr);
	return US_REAL(quotactl)(cmd, special, id, addr);
}

/* acct(PATH): the kernel appends to PATH, so it is a write (copy-up). */
US_EXPORT int acct(const char *path)
{
	US_SHIM_OR(US_REAL(acct)(path));
	US_TARGET(t);
	const char *p = path ? us_path(path, US_MAP_WRITE, t) : path;
	return p || !path ? US_REAL(acct)(p) : -1;
}

long door_pivot_root(const char *newroot, const char *putold)
{
	size_t mark = us_scratch_mark();
	if (!us_begin())
		return US_REAL(syscall)(SYS_pivot_root, newroot, putold);
	long rc = path_in_union(AT_FDCWD, newroot) ? refuse("pivot_root to", newroot)
		  : path_in_union(AT_FDCWD, putold) ? refuse("pivot_root to", putold)
		  : US_REAL(syscall)(SYS_pivot_root, newroot, putold);
	us_end_scope(&mark);
	return rc;
}

#define P(i) ((const char *)a[i])
#define I(i) ((int)a[i])

/* Is the new mount API call NR, with arguments A, aimed at a union? */
static bool api_in_union(long nr, const long a[6])
{
	unsigned fl = (unsigned)a[2];

	switch (nr) {
	case SYS_open_tree:
	case SYS_open_tree_attr:
	case SYS_fspick:
	case SYS_mount_setattr:
		return at_in_union(I(0), P(1), fl & AT_EMPTY_PATH);
	case SYS_move_mount:
		return at_in_union(I(0), P(1), a[4] & MOVE_MOUNT_F_EMPTY_PATH) ||
		       at_in_union(I(2), P(3), a[4] & MOVE_MOUNT_T_EMPTY_PATH);
	case SYS_fsconfig:
		if (a[1] == FSCONFIG_SET_PATH || a[1] == FSCONFIG_SET_PATH_EMPTY)
			return at_in_union(I(4), P(3), a[1] == FSCONFIG_SET_PATH_EMPTY);
		return a[1] == FSCONFIG_SET_FD && fd_in_union(I(4));
	default:
		return false;
	}
}

long door_mountfd(long nr, const long a[6])
{
	size_t mark = us_scratch_mark();
	if (!us_begin())
		return US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	long rc = api_in_union(nr, a) ? refuse("a mount API call on", NULL)
		  : US_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	us_end_scope(&mark);
	return rc;
}
