/* xattr.c: extended attributes. Reads map the path; set/remove are
 * copy-up triggers. The union's own names are invisible: get says
 * ENODATA, list leaves them out, set and remove say ENOTSUP, as overlayfs
 * treats its own xattrs: the shim's bookkeeping (user.unionshim.*, the
 * origin of a copy-up) and overlayfs's (trusted.overlay.*,
 * user.overlay.*), which the layers are read by (an opaque dir): a
 * program setting one would change the union's shape, not store data. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/xattr.h>

#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "unionshim/identity.h"
#include "unionshim/scratch.h"

/* metadata changes: a lower file's copy-up may leave its data below */
#define W (US_MAP_WRITE | US_MAP_META)
#define WNF (US_MAP_WRITE | US_MAP_META | US_MAP_NOFOLLOW)

/* Who may set or remove NAME on a lower object (mayact.h): an ACL only
 * its owner, any other name a writer (the kernel's xattr_permission). */
static unsigned set_may(const char *name)
{
	return name && us_readable(name) &&
			       strncmp(name, "system.posix_acl_", 17) == 0
		       ? US_MAP_OWNER
		       : 0;
}

/* Is NAME one of the union's own (see above)? */
static bool union_xattr(const char *name)
{
	return us_is_own_xattr(name) || strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.overlay.", 13) == 0;
}

/* A get of one of our names: -1/ENODATA, else 0 to go on. */
static int own_get(const char *name)
{
	if (!name || !union_xattr(us_unchecked(name)))
		return 0;
	errno = ENODATA;
	return -1;
}

static int own_set(const char *name)
{
	if (!name || !union_xattr(us_unchecked(name)))
		return 0;
	errno = ENOTSUP;
	return -1;
}

/* A set or remove of one of our names at PATH (NOFOLLOW: a final symlink
 * itself): the path's own errors first, as the kernel looks it up before
 * the name, then ENOTSUP; nothing copied up. 0 for any other name. */
static int own_set_at(const char *path, const char *name, unsigned nofollow)
{
	if (!name || !union_xattr(us_unchecked(name)))
		return 0;
	US_TARGET(t);
	if (us_path(path, US_MAP_RELATIVE | nofollow, t))
		errno = ENOTSUP;
	return -1;
}

/* Drop our names from a list of N bytes the kernel returned. With SIZE 0
 * the kernel only told the length: that can only over-estimate. */
static ssize_t filter_list(char *list, size_t size, ssize_t n)
{
	if (n <= 0 || size == 0 || !list)
		return n;
	size_t out = 0;
	for (size_t i = 0; i < (size_t)n;) {
		size_t l = strlen(list + i) + 1;
		if (!union_xattr(list + i)) {
			memmove(list + out, list + i, l);
			out += l;
		}
		i += l;
	}
	return (ssize_t)out;
}

US_EXPORT ssize_t getxattr(const char *path, const char *name, void *v,
			   size_t size)
{
	US_SHIM_OR(US_REAL(getxattr)(path, name, v, size));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_RELATIVE, t);
	if (!p || own_get(name) < 0) /* the path's errors first */
		return -1;
	return US_REAL(getxattr)(p, name, v, size);
}

US_EXPORT ssize_t lgetxattr(const char *path, const char *name, void *v,
			    size_t size)
{
	US_SHIM_OR(US_REAL(lgetxattr)(path, name, v, size));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_NOFOLLOW | US_MAP_RELATIVE, t);
	if (!p || own_get(name) < 0) /* the path's errors first */
		return -1;
	return US_REAL(lgetxattr)(p, name, v, size);
}

US_EXPORT ssize_t fgetxattr(int fd, const char *name, void *v, size_t size)
{
	US_SHIM_OR(US_REAL(fgetxattr)(fd, name, v, size));
	if (own_get(name) < 0)
		return -1;
	us_fd_fresh(fd);
	US_SCRATCH_SCOPE;
	char *up = us_scratch_path();
	if (up && us_fd_metacopy(fd, up, PATH_MAX)) /* the object's own xattrs */
		return US_REAL(lgetxattr)(up, name, v, size);
	return US_REAL(fgetxattr)(fd, name, v, size);
}

US_EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	US_SHIM_OR(US_REAL(listxattr)(path, list, size));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_RELATIVE, t);
	return p ? filter_list(list, size, US_REAL(listxattr)(p, list, size))
		 : -1;
}

US_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	US_SHIM_OR(US_REAL(llistxattr)(path, list, size));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_NOFOLLOW | US_MAP_RELATIVE, t);
	return p ? filter_list(list, size, US_REAL(llistxattr)(p, list, size))
		 : -1;
}

US_EXPORT ssize_t flistxattr(int fd, char *list, size_t size)
{
	US_SHIM_OR(US_REAL(flistxattr)(fd, list, size));
	us_fd_fresh(fd);
	US_SCRATCH_SCOPE;
	char *up = us_scratch_path();
	if (up && us_fd_metacopy(fd, up, PATH_MAX))
		return filter_list(list, size, US_REAL(llistxattr)(up, list, size));
	return filter_list(list, size, US_REAL(flistxattr)(fd, list, size));
}

US_EXPORT int setxattr(const char *path, const char *name, const void *v,
		       size_t size, int flags)
{
	US_SHIM_OR(US_REAL(setxattr)(path, name, v, size, flags));
	US_TARGET(t);
	if (own_set_at(path, name, 0) < 0)
		return -1;
	const char *p = us_path(path, W | set_may(name), t);
	return p ? US_REAL(setxattr)(p, name, v, size, flags) : -1;
}

US_EXPORT int lsetxattr(const char *path, const char *name, const void *v,
			size_t size, int flags)
{
	US_SHIM_OR(US_REAL(lsetxattr)(path, name, v, size, flags));
	US_TARGET(t);
	if (own_set_at(path, name, US_MAP_NOFOLLOW) < 0)
		return -1;
	const char *p = us_path(path, WNF | set_may(name), t);
	return p ? US_REAL(lsetxattr)(p, name, v, size, flags) : -1;
}

US_EXPORT int fsetxattr(int fd, const char *name, const void *v, size_t size,
			int flags)
{
	US_SHIM_OR(US_REAL(fsetxattr)(fd, name, v, size, flags));
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	if (own_set(name) < 0)
		return -1;
	int rc = us_fd_write(fd, set_may(name) | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(setxattr)(sb->up, name, v, size, flags)
			    : US_REAL(fsetxattr)(fd, name, v, size, flags);
}

US_EXPORT int removexattr(const char *path, const char *name)
{
	US_SHIM_OR(US_REAL(removexattr)(path, name));
	US_TARGET(t);
	if (own_set_at(path, name, 0) < 0)
		return -1;
	const char *p = us_path(path, W | set_may(name), t);
	return p ? US_REAL(removexattr)(p, name) : -1;
}

US_EXPORT int lremovexattr(const char *path, const char *name)
{
	US_SHIM_OR(US_REAL(lremovexattr)(path, name));
	US_TARGET(t);
	if (own_set_at(path, name, US_MAP_NOFOLLOW) < 0)
		return -1;
	const char *p = us_path(path, WNF | set_may(name), t);
	return p ? US_REAL(lremovexattr)(p, name) : -1;
}

US_EXPORT int fremovexattr(int fd, const char *name)
{
	US_SHIM_OR(US_REAL(fremovexattr)(fd, name));
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	if (own_set(name) < 0)
		return -1;
	int rc = us_fd_write(fd, set_may(name) | US_FD_NOPATH, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? US_REAL(removexattr)(sb->up, name)
			    : US_REAL(fremovexattr)(fd, name);
}
