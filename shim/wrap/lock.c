/* lock.c: fcntl record and OFD locks, flock and lockf on a union file.
 *
 * A copy-up replaces the file a lock was taken on, so locks are never put
 * on layer files: each union object has a lock proxy in the work dir
 * (#locks/<union inode number>), opened once per open file description of
 * the program (fdmap.h). Record locks are per process and inode, so every
 * proxy fd of the object shares them, and closing any fd of the object
 * drops them; OFD and flock locks belong to the proxy's own open file
 * description, which lives as long as the program's. The kernel does the
 * rest: conflicts, waiting, deadlock detection, F_GETLK's holder pid.
 *
 * The proxy is an empty file, so ranges are turned into absolute ones
 * first: SEEK_CUR from the program fd's offset, SEEK_END from its size.
 * A lock the fd's access mode does not allow is EBADF, as on the file. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fdmap.h"
#include "../forks.h"
#include "../guard.h"
#include "lock.h"

/* FL made absolute for FD; 0, or -1 with errno. */
static int absolute(int fd, struct flock *fl)
{
	struct stat st;
	off_t base;

	switch (fl->l_whence) {
	case SEEK_SET:
		return 0;
	case SEEK_CUR:
		base = US_REAL(lseek)(fd, 0, SEEK_CUR);
		break;
	case SEEK_END:
		base = US_REAL(fstat)(fd, &st) < 0 ? -1 : st.st_size;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (base < 0)
		return -1;
	fl->l_start += base;
	fl->l_whence = SEEK_SET;
	return 0;
}

static bool allowed(int fd, short type)
{
	int acc = us_fd_access(fd);

	if (acc < 0)
		return true;
	if (type == F_RDLCK)
		return acc != O_WRONLY;
	if (type == F_WRLCK)
		return acc != O_RDONLY;
	return true;
}

int us_lock_fcntl(int fd, int cmd, void *arg)
{
	struct flock *fl = arg;
	int proxy = us_fd_proxy(fd);

	if (proxy < 0)
		return US_REAL(fcntl)(fd, cmd, arg);
	bool set = cmd != F_GETLK && cmd != F_OFD_GETLK;
	if (!fl) {
		errno = EFAULT;
		return -1;
	}
	if (set && !allowed(fd, fl->l_type)) {
		errno = EBADF;
		return -1;
	}
	struct flock abs = *fl;
	if (absolute(fd, &abs) < 0)
		return -1;
	int rc;
	us_errno_back();
	US_OUTSIDE_SHIM(rc = US_REAL(fcntl)(proxy, cmd, &abs));
	if (rc == 0 && !set)
		*fl = abs;
	return rc;
}

US_EXPORT int flock(int fd, int op)
{
	US_SHIM_OR(US_REAL(flock)(fd, op));
	if (us_fd_is_shim(fd)) {
		errno = EBADF;
		return -1;
	}
	int proxy = us_fd_proxy(fd);
	int rc;
	us_errno_back();
	US_OUTSIDE_SHIM(rc = US_REAL(flock)(proxy < 0 ? fd : proxy, op));
	return rc;
}

/* lockf is fcntl with the range [offset, offset + len) (glibc builds it
 * with an internal fcntl no wrapper sees, so it is rebuilt here). */
US_EXPORT int lockf(int fd, int cmd, off_t len)
{
	US_SHIM_OR(US_REAL(lockf)(fd, cmd, len));
	struct flock fl = {.l_whence = SEEK_CUR, .l_start = 0, .l_len = len};

	if (us_fd_kind(fd) == US_FD_NONE)
		return US_REAL(lockf)(fd, cmd, len);
	switch (cmd) {
	case F_TEST:
		fl.l_type = F_RDLCK;
		if (us_lock_fcntl(fd, F_GETLK, &fl) < 0)
			return -1;
		if (fl.l_type == F_UNLCK || fl.l_pid == us_pid())
			return 0;
		errno = EACCES;
		return -1;
	case F_ULOCK:
		fl.l_type = F_UNLCK;
		return us_lock_fcntl(fd, F_SETLK, &fl);
	case F_LOCK:
		fl.l_type = F_WRLCK;
		return us_lock_fcntl(fd, F_SETLKW, &fl);
	case F_TLOCK:
		fl.l_type = F_WRLCK;
		return us_lock_fcntl(fd, F_SETLK, &fl);
	default:
		errno = EINVAL;
		return -1;
	}
}

US_EXPORT int lockf64(int, int, off_t) __attribute__((alias("lockf")));
