/* fd.c: calls that make, copy or end fds, kept in step with the fd map
 * (fdmap.h): close, close_range, closefrom, dup, dup2, dup3, the F_DUPFD
 * forms of fcntl, fclose. The shim's own fds are invisible: closing one is
 * EBADF, a range close steps around them, and a dup2 onto one moves it
 * first. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "../dirfdpath.h"
#include "../fdmap.h"
#include "../guard.h"
#include "glibc_protos.h"
#include "lock.h"

US_EXPORT int close(int fd)
{
	US_SHIM_OR(US_REAL(close)(fd));
	if (us_fd_is_shim(fd)) {
		errno = EBADF;
		return -1;
	}
	us_fd_closing(fd);
	return US_REAL(close)(fd);
}

/* Close (or mark close-on-exec) the program's fds in [FIRST, LAST],
 * around the shim's. */
static int range_around_shim(unsigned first, unsigned last, int flags)
{
	bool cloexec = flags & CLOSE_RANGE_CLOEXEC;
	unsigned top = (unsigned)us_fd_highest();
	unsigned from = first;

	if (us_fdmap_in_vfork_child())
		us_fdmap_vfork_op(us_fdop_close_range(first, last, (unsigned)flags));

	for (unsigned f = first; f <= last && f <= top; f++) {
		if (us_fd_is_shim((int)f)) {
			if (f > from &&
			    US_REAL(close_range)(from, f - 1, flags) < 0)
				return -1;
			from = f + 1;
			continue;
		}
		if (!cloexec)
			us_fd_closing((int)f);
	}
	if (from > last)
		return 0;
	return US_REAL(close_range)(from, last, flags);
}

US_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	US_SHIM_OR(US_REAL(close_range)(first, last, flags));
	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	return range_around_shim(first, last, flags);
}

US_EXPORT void closefrom(int lowfd)
{
	US_SHIM_OR(US_REAL(closefrom)(lowfd));
	range_around_shim(lowfd < 0 ? 0 : (unsigned)lowfd, ~0U, 0);
}

US_EXPORT int dup(int fd)
{
	US_SHIM_OR(US_REAL(dup)(fd));
	if (us_fd_is_shim(fd)) {
		errno = EBADF;
		return -1;
	}
	int nfd = US_REAL(dup)(fd);
	if (nfd >= 0) {
		us_fd_duped(us_fdop_dup3(fd, nfd, 0));
		us_dirfd_duped(fd, nfd);
	}
	return nfd;
}

static int dup_onto(int oldfd, int newfd, int flags, bool three)
{
	if (us_fd_is_shim(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd && us_fd_make_room(newfd) < 0)
		return -1;
	us_errno_back(); /* a proxy moved out of the way is our business */
	int rc = three ? US_REAL(dup3)(oldfd, newfd, flags)
		       : US_REAL(dup2)(oldfd, newfd);
	if (rc >= 0) {
		us_fd_duped(us_fdop_dup3(oldfd, newfd, three ? flags : 0));
		us_dirfd_duped(oldfd, newfd);
	}
	return rc;
}

US_EXPORT int dup2(int oldfd, int newfd)
{
	US_SHIM_OR(US_REAL(dup2)(oldfd, newfd));
	return dup_onto(oldfd, newfd, 0, false);
}

US_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	US_SHIM_OR(US_REAL(dup3)(oldfd, newfd, flags));
	return dup_onto(oldfd, newfd, flags, true);
}

US_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	US_SHIM_OR(US_REAL(fcntl)(fd, cmd, arg));
	if (us_fd_is_shim(fd)) {
		errno = EBADF;
		return -1;
	}
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		int nfd = US_REAL(fcntl)(fd, cmd, arg);
		if (nfd >= 0) {
			us_fd_duped(us_fdop_dupfd(fd, cmd, nfd));
			us_dirfd_duped(fd, nfd);
		}
		return nfd;
	}
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return us_lock_fcntl(fd, cmd, arg);
	default:
		return US_REAL(fcntl)(fd, cmd, arg);
	}
}

US_EXPORT int fcntl64(int, int, ...) __attribute__((alias("fcntl")));

US_EXPORT int fclose(FILE *f)
{
	US_SHIM_OR(US_REAL(fclose)(f));
	int fd = f ? fileno(f) : -1;
	if (fd >= 0)
		us_fd_closing(fd);
	return US_REAL(fclose)(f);
}
