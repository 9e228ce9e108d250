/* special.c: special files and other path-taking calls: mknod, mkfifo
 * (glibc's mkfifo goes through an internal mknod), the old __xmknod ABI,
 * AF_UNIX bind/connect/sendto/sendmsg, file handles, inotify and fanotify marks (on the
 * real object: a watch sees the layer it was put on). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../core/longpath.h"
#include "../front.h"
#include "../guard.h"
#include "glibc_protos.h"
#include "unionshim/scratch.h"

#define NEWNAME (US_MAP_CREATE | US_MAP_NOFOLLOW)

/* A whiteout (a 0/0 character device) a program asks for in a union:
 * overlayfs refuses it (EPERM) after the create's own checks (the name
 * taken, its dir missing, a read-only union), with nothing copied up;
 * made in the upper it would hide the name instead. 1 with errno set
 * when refused; 0 for a name outside every union (the kernel's call). */
static int whiteout_refused(int dirfd, const char *path)
{
	US_SCRATCH_SCOPE;
	US_TARGET(t);
	/* "name/": the kernel looks the name up without the slash, and
	 * refuses it as taken (EEXIST) or as a dir it was not asked to make
	 * (ENOENT) */
	size_t n = us_readable(path) ? strlen(path) : 0;
	bool slashed = n > 1 && path[n - 1] == '/';
	char *bare = slashed ? us_scratch_push(n + 1) : NULL;
	if (slashed && bare) {
		memcpy(bare, path, n + 1);
		while (n > 1 && bare[n - 1] == '/')
			bare[--n] = '\0';
		path = bare;
	}
	if (!us_path_at(&dirfd, path, US_MAP_MAYBE | US_MAP_NOFOLLOW, t))
		return 1;
	if (t->r.where != US_INSIDE)
		return 0;
	int err = us_write_errno(t->r.m);
	if (!t->r.err)
		errno = EEXIST;
	else if (t->r.err != ENOENT || !t->r.parent_ok)
		errno = t->r.err;
	else
		errno = slashed ? ENOENT : err ? err : EPERM;
	return 1;
}

US_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	US_SHIM_OR(US_REAL(mknodat)(dirfd, path, mode, dev));
	if (S_ISCHR(mode) && dev == 0 && whiteout_refused(dirfd, path))
		return -1;
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path, NEWNAME, t);
	if (!p || US_REAL(mknodat)(dirfd, p, mode, dev) < 0)
		return -1;
	us_created(t);
	return 0;
}

US_EXPORT int mknod(const char *path, mode_t mode, dev_t dev)
{
	return US_SELF(mknodat)(AT_FDCWD, path, mode, dev);
}

US_EXPORT int __xmknodat(int ver, int dirfd, const char *path, mode_t mode,
			 dev_t *dev)
{
	(void)ver;
	return US_SELF(mknodat)(dirfd, path, mode, *dev);
}

US_EXPORT int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	(void)ver;
	return US_SELF(mknodat)(AT_FDCWD, path, mode, *dev);
}

US_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	return US_SELF(mknodat)(dirfd, path, (mode & 07777) | S_IFIFO, 0);
}

US_EXPORT int mkfifo(const char *path, mode_t mode)
{
	return US_SELF(mknodat)(AT_FDCWD, path, (mode & 07777) | S_IFIFO, 0);
}

US_EXPORT int name_to_handle_at(int dirfd, const char *path,
				struct file_handle *h, int *mount_id, int flags)
{
	US_SHIM_OR(US_REAL(name_to_handle_at)(dirfd, path, h, mount_id, flags));
	US_TARGET(t);
	unsigned mf = (flags & AT_SYMLINK_FOLLOW) ? 0 : US_MAP_NOFOLLOW;
	const char *p = us_path_at(&dirfd, path, mf, t);
	return p ? US_REAL(name_to_handle_at)(dirfd, p, h, mount_id, flags) : -1;
}

/* A handle names an inode, not a path: a write open (or O_TRUNC) first
 * opens it O_PATH to see where it lies, and one in a lower gets EROFS
 * without being opened for writing. The handle names the same inode both
 * times, so nothing can be swapped in between. */
US_EXPORT int open_by_handle_at(int mount_fd, struct file_handle *h, int flags)
{
	US_SHIM_OR(US_REAL(open_by_handle_at)(mount_fd, h, flags));
	if ((flags & O_PATH) || !(us_open_map_flags(flags) & US_MAP_WRITE))
		return US_REAL(open_by_handle_at)(mount_fd, h, flags);
	int pfd = US_REAL(open_by_handle_at)(mount_fd, h, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	int low = us_fd_write_check(pfd);
	int saved = errno;
	US_REAL(close)(pfd);
	errno = saved;
	return low < 0 ? -1 : US_REAL(open_by_handle_at)(mount_fd, h, flags);
}

US_EXPORT int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	US_SHIM_OR(US_REAL(inotify_add_watch)(fd, path, mask));
	US_TARGET(t);
	const char *p = us_path(path, (mask & IN_DONT_FOLLOW) ? US_MAP_NOFOLLOW : 0, t);
	return p ? US_REAL(inotify_add_watch)(fd, p, mask) : -1;
}

/* A NULL path marks DIRFD's own object, already a real one. */
US_EXPORT int fanotify_mark(int fd, unsigned int flags, uint64_t mask,
			    int dirfd, const char *path)
{
	US_SHIM_OR(US_REAL(fanotify_mark)(fd, flags, mask, dirfd, path));
	US_TARGET(t);
	const char *p = us_unchecked(path);
	if (p && !(p = us_path_at(&dirfd, p, (flags & FAN_MARK_DONT_FOLLOW) ?
					     US_MAP_NOFOLLOW : 0, t)))
		return -1;
	return US_REAL(fanotify_mark)(fd, flags, mask, dirfd, p);
}

/* A real path P too long for sun_path, reached through its parent dir:
 * "/proc/self/fd/N/NAME" with N an O_PATH fd on the dir (*HELD: the
 * caller closes it after the call), so any name the program could bind
 * natively binds in the union. 0, or -1 with errno. */
static int sun_via_dir(const char *p, struct sockaddr_un *out, int *held)
{
	const char *slash = strrchr(p, '/');
	US_SCRATCH_SCOPE;
	char *dir = us_scratch_push(US_PATH_MAX);

	if (!dir)
		return -1;
	if (!slash || slash == p || (size_t)(slash - p) >= US_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = '\0';
	int dfd = us_long_open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int n = snprintf(out->sun_path, sizeof out->sun_path, "/proc/self/fd/%d/%s",
			 dfd, slash + 1);
	if (n < 0 || (size_t)n >= sizeof out->sun_path) {
		US_REAL(close)(dfd);
		errno = ENAMETOOLONG;
		return -1;
	}
	*held = dfd;
	return 0;
}

/* The real address for an AF_UNIX path in the union; *ADDR is left alone
 * for abstract and unnamed sockets. *HELD is an fd the caller closes after
 * its call (or -1). Returns 0, or -1 with errno. */
static int map_sun(const struct sockaddr **addr, socklen_t *len,
		   struct sockaddr_un *out, unsigned flags, struct us_target *t,
		   int *held)
{
	const struct sockaddr_un *in = (const struct sockaddr_un *)(const void *)*addr;
	char path[sizeof in->sun_path + 1];
	size_t off = offsetof(struct sockaddr_un, sun_path);

	*held = -1;
	if (!t) { /* US_TARGET found no scratch */
		errno = ENOMEM;
		return -1;
	}
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
	memset(out, 0, sizeof *out);
	out->sun_family = AF_UNIX;
	if (strlen(p) < sizeof out->sun_path)
		strcpy(out->sun_path, p);
	else if (sun_via_dir(p, out, held) < 0)
		return -1;
	*addr = (const struct sockaddr *)(const void *)out;
	*len = (socklen_t)(off + strlen(out->sun_path) + 1);
	return 0;
}

/* Close what map_sun held, keeping errno. */
static void sun_done(int held)
{
	if (held >= 0) {
		int saved = errno;
		US_REAL(close)(held);
		errno = saved;
	}
}

US_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	US_SHIM_OR(US_REAL(bind)(fd, addr, len));
	struct sockaddr_un sun;
	US_TARGET(t);
	int held;
	if (map_sun(&addr, &len, &sun, NEWNAME, t, &held) < 0) {
		if (errno == EEXIST)
			errno = EADDRINUSE; /* the kernel's word for a bind */
		return -1;
	}
	int rc = US_REAL(bind)(fd, addr, len);
	sun_done(held);
	if (rc < 0)
		return -1;
	us_created(t);
	return 0;
}

US_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	US_SHIM_OR(US_REAL(connect)(fd, addr, len));
	struct sockaddr_un sun;
	US_TARGET(t);
	int held;
	if (map_sun(&addr, &len, &sun, 0, t, &held) < 0)
		return -1;
	int rc = US_REAL(connect)(fd, addr, len);
	sun_done(held);
	return rc;
}

/* A datagram to an AF_UNIX path in the union goes to its real socket. */
US_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *addr, socklen_t len)
{
	US_SHIM_OR(US_REAL(sendto)(fd, buf, n, flags, addr, len));
	struct sockaddr_un sun;
	US_TARGET(t);
	int held;
	if (map_sun(&addr, &len, &sun, 0, t, &held) < 0)
		return -1;
	ssize_t rc = US_REAL(sendto)(fd, buf, n, flags, addr, len);
	sun_done(held);
	return rc;
}

US_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	US_SHIM_OR(US_REAL(sendmsg)(fd, msg, flags));
	struct sockaddr_un sun;
	US_TARGET(t);
	const struct sockaddr *addr = msg ? msg->msg_name : NULL;
	socklen_t len = msg ? msg->msg_namelen : 0;
	int held;
	if (map_sun(&addr, &len, &sun, 0, t, &held) < 0)
		return -1;
	if (!msg || addr == msg->msg_name)
		return US_REAL(sendmsg)(fd, msg, flags);
	struct msghdr m = *msg;
	m.msg_name = (void *)(uintptr_t)addr;
	m.msg_namelen = len;
	ssize_t rc = US_REAL(sendmsg)(fd, &m, flags);
	sun_done(held);
	return rc;
}
