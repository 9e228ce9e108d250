/* mayact.c: the caller's permission on a lower object, asked before a
 * copy-up (mayact.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"
#include "unionshim/mayact.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"

/* glibc exports capget without declaring it */
extern int capget(cap_user_header_t hdrp, cap_user_data_t datap);

/* Is CAP in the caller's effective set? */
static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (capget(&h, d) != 0)
		return geteuid() == 0;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static bool in_groups(gid_t gid)
{
	if (gid == getegid())
		return true;
	int n = getgroups(0, NULL);
	US_SCRATCH_SCOPE;
	gid_t *list = n > 0 ? us_scratch_push((size_t)n * sizeof *list) : NULL;
	if (!list)
		return false;
	n = getgroups(n, list);
	for (int i = 0; i < n; i++)
		if (list[i] == gid)
			return true;
	return false;
}

/* The mode bits' answer for access WANT (W_OK, X_OK) to ST. */
static bool bits_allow(const struct stat *st, int want)
{
	if (has_cap(CAP_DAC_OVERRIDE))
		return !(want & X_OK) || S_ISDIR(st->st_mode) || (st->st_mode & 0111);
	int shift = st->st_uid == geteuid() ? 6 : in_groups(st->st_gid) ? 3 : 0;
	return ((st->st_mode >> shift) & (mode_t)want) == (mode_t)want;
}

/* REAL's stat, read once, when a rule needs it: false when it is gone
 * (the change itself then says so). */
struct lazy {
	bool read, ok;
	struct stat st;
};

static const struct stat *stat_of(const char *real, struct lazy *z)
{
	if (!z->read) {
		int saved = errno;
		z->read = true;
		z->ok = SYS(lstat)(real, &z->st) == 0;
		errno = saved;
	}
	return z->ok ? &z->st : NULL;
}

/* Write (and search, WANT) permission on REAL: the kernel's own answer
 * where it can give one about the object itself, else its mode bits. */
static bool may_access(const char *real, struct lazy *z, int want)
{
	if (strlen(real) < PATH_MAX) {
		int saved = errno;
		int rc = SYS_RAW(faccessat)(AT_FDCWD, real, want,
					    AT_EACCESS | AT_SYMLINK_NOFOLLOW);
		int err = errno;
		errno = saved;
		if (rc == 0 || err == ENOENT || err == ENOTDIR)
			return true; /* (gone: the change says so) */
		if (err == EACCES)
			return false;
		/* EROFS (a read-only lower), ETXTBSY, EINVAL (no
		 * AT_SYMLINK_NOFOLLOW here): the bits */
	}
	const struct stat *st = stat_of(real, z);
	return !st || bits_allow(st, want);
}

/* The owner, or CAP_FOWNER (asked first: no stat for root). */
static bool owner(const char *real, struct lazy *z)
{
	if (has_cap(CAP_FOWNER))
		return true;
	const struct stat *st = stat_of(real, z);
	return !st || st->st_uid == geteuid();
}

/* fs.protected_hardlinks, read once (unreadable: on, systemd's value). */
static bool protected_hardlinks(void)
{
	static int known; /* 0 not read, 1 off, 2 on */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);

	if (!k) {
		char c = '1';
		int fd = SYS(open)("/proc/sys/fs/protected_hardlinks",
				   O_RDONLY | O_CLOEXEC, 0);
		if (fd >= 0) {
			if (SYS_RAW(read)(fd, &c, 1) != 1)
				c = '1';
			SYS(close)(fd);
		}
		k = c == '0' ? 1 : 2;
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k == 2;
}

/* may_linkat's rule: a regular file that is neither setuid nor
 * setgid-executable and that the caller may read and write, or one it
 * owns. */
static bool may_link(const char *real, struct lazy *z)
{
	if (!protected_hardlinks() || owner(real, z))
		return true;
	const struct stat *st = stat_of(real, z);
	if (!st)
		return true;
	if (!S_ISREG(st->st_mode) || (st->st_mode & S_ISUID) ||
	    (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		return false;
	return may_access(real, z, R_OK | W_OK);
}

int us_may_lower(const char *real, enum us_may what)
{
	struct lazy z = {.read = false};
	bool ok;

	switch (what) {
	case US_MAY_WRITE:
		ok = may_access(real, &z, W_OK);
		break;
	case US_MAY_TOUCH:
		ok = may_access(real, &z, W_OK) || owner(real, &z);
		break;
	case US_MAY_OWN:
		ok = owner(real, &z);
		break;
	case US_MAY_LINK:
		ok = may_link(real, &z);
		break;
	case US_MAY_DIRENTS:
	default:
		ok = may_access(real, &z, W_OK | X_OK);
		break;
	}
	if (ok)
		return 0;
	errno = what == US_MAY_OWN || what == US_MAY_LINK ? EPERM : EACCES;
	return -1;
}

int us_may_unstick(const char *dirreal, const char *objreal)
{
	struct stat d, o;

	if (SYS(lstat)(dirreal, &d) < 0 || !(d.st_mode & S_ISVTX) ||
	    SYS(lstat)(objreal, &o) < 0)
		return 0;
	uid_t me = geteuid();
	if (o.st_uid == me || d.st_uid == me || has_cap(CAP_FOWNER))
		return 0;
	errno = EPERM;
	return -1;
}

int us_may_change_name(const struct us_mount *m, const char *upath,
		       const struct us_node *dir, const struct us_node *n)
{
	bool below = dir->layer != 0, sticky = n && (dir->mode & S_ISVTX);

	if (!below && !sticky)
		return 0;
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
		char dreal[US_PATH_MAX];
		char oreal[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t len = strlen(upath);
	memcpy(sb->parent, upath, len + 1);
	us_path_pop(sb->parent, &len);
	if (us_dir_layer_path(m, dir->layer, sb->parent, dir->flags, sb->dreal,
			      sizeof sb->dreal) < 0)
		return 0; /* the change itself finds what is wrong */
	if (below && us_may_lower(sb->dreal, US_MAY_DIRENTS) < 0)
		return -1;
	if (sticky && us_layer_path(m, n->layer, upath, sb->oreal, sizeof sb->oreal) == 0)
		return us_may_unstick(sb->dreal, sb->oreal);
	return 0;
}

int us_may_move_dir(const struct us_mount *m, const char *upath,
		    const struct us_node *n)
{
	if (n->layer == 0)
		return 0;
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);
	if (!real || us_dir_layer_path(m, n->layer, upath, n->flags, real, US_PATH_MAX) < 0)
		return 0;
	return us_may_lower(real, US_MAY_WRITE);
}
