/* special.c: special files and other path-taking calls: mknod, mkfifo
 * (glibc's mkfifo goes through an internal mknod), the old __xmknod ABI,
 * AF_UNIX bind/connect, name_to_handle_at. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../front.h"
#include "../guard.h"
#include "glibc_protos.h"

#define NEWNAME (US_MAP_CREATE | US_MAP_NOFOLLOW)

US_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	US_SHIM_OR(US_REAL(mknodat)(dirfd, path, mode, dev));
	struct us_target t;
	const char *p = us_path_at(&dirfd, path, NEWNAME, &t);
	if (!p || US_REAL(mknodat)(dirfd, p, mode, dev) < 0)
		return -1;
	us_created(&t);
	return 0;
}

US_EXPORT int mknod(const char *path, mode_t mode, dev_t dev)
{
	return mknodat(AT_FDCWD, path, mode, dev);
}

US_EXPORT int __xmknodat(int ver, int dirfd, const char *path, mode_t mode,
			 dev_t *dev)
{
	(void)ver;
	return mknodat(dirfd, path, mode, *dev);
}

US_EXPORT int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	(void)ver;
	return mknodat(AT_FDCWD, path, mode, *dev);
}

US_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	return mknodat(dirfd, path, (mode & 07777) | S_IFIFO, 0);
}

US_EXPORT int mkfifo(const char *path, mode_t mode)
{
	return mknodat(AT_FDCWD, path, (mode & 07777) | S_IFIFO, 0);
}

US_EXPORT int name_to_handle_at(int dirfd, const char *path,
				struct file_handle *h, int *mount_id, int flags)
{
	US_SHIM_OR(US_REAL(name_to_handle_at)(dirfd, path, h, mount_id, flags));
	struct us_target t;
	unsigned mf = (flags & AT_SYMLINK_FOLLOW) ? 0 : US_MAP_NOFOLLOW;
	const char *p = us_path_at(&dirfd, path, mf, &t);
	return p ? US_REAL(name_to_handle_at)(dirfd, p, h, mount_id, flags) : -1;
}

/* The real address for an AF_UNIX path in the union; *ADDR is left alone
 * for abstract and unnamed sockets. Returns 0, or -1 with errno. */
static int map_sun(const struct sockaddr **addr, socklen_t *len,
		   struct sockaddr_un *out, unsigned flags, struct us_target *t)
{
	const struct sockaddr_un *in = (const struct sockaddr_un *)(const void *)*addr;
	char path[sizeof in->sun_path + 1];
	size_t off = offsetof(struct sockaddr_un, sun_path);

	t->whiteout = false;
	t->swap = false;
	if (!in || *len <= off || in->sun_family != AF_UNIX || !in->sun_path[0])
		return 0;
	size_t pl = *len - off > sizeof in->sun_path ? sizeof in->sun_path : *len - off;
	memcpy(path, in->sun_path, pl);
	path[pl] = '\0';
	const char *p = us_path(path, flags, t);
	if (!p)
		return -1;
	if (p == path)
		return 0;
	if (strlen(p) >= sizeof out->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->sun_family = AF_UNIX;
	strcpy(out->sun_path, p);
	*addr = (const struct sockaddr *)(const void *)out;
	*len = (socklen_t)(off + strlen(p) + 1);
	return 0;
}

US_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	US_SHIM_OR(US_REAL(bind)(fd, addr, len));
	struct sockaddr_un sun;
	struct us_target t;
	if (map_sun(&addr, &len, &sun, NEWNAME, &t) < 0 ||
	    US_REAL(bind)(fd, addr, len) < 0)
		return -1;
	us_created(&t);
	return 0;
}

US_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	US_SHIM_OR(US_REAL(connect)(fd, addr, len));
	struct sockaddr_un sun;
	struct us_target t;
	if (map_sun(&addr, &len, &sun, 0, &t) < 0)
		return -1;
	return US_REAL(connect)(fd, addr, len);
}
