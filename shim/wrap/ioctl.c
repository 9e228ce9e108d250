/* ioctl.c: ioctl, for the requests that write a file or its filesystem
 * (ioctlclass.h). A request that only reads, or is none of a filesystem's
 * (ttys, sockets, FIONREAD), goes straight to the kernel after a switch on
 * its number. A writer on an fd whose real file lies in a lower layer never
 * reaches it: a fileattr set (chattr) is applied to the upper copy, made
 * now, as overlayfs does; any other writer gets EROFS. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../front.h"
#include "../guard.h"
#include "unionshim/ioctlclass.h"
#include "unionshim/scratch.h"

/* REQ on the upper copy at real path UP: a fd of its own, for the call. */
static int on_copy(const char *up, unsigned long req, void *arg)
{
	int fd = US_REAL(open)(up, O_RDONLY | O_NONBLOCK | O_NOCTTY |
					   O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = US_REAL(ioctl)(fd, req, arg);
	int saved = errno;
	US_REAL(close)(fd);
	errno = saved;
	return rc;
}

/* FIDEDUPERANGE changes the extents of every dest (and shares the
 * source's): all of them must be writable union files. */
static int dedupe_check(int fd, const struct file_dedupe_range *r)
{
	if (us_fd_write_check(fd) < 0)
		return -1;
	for (unsigned i = 0; r && i < r->dest_count; i++)
		if (us_fd_write_check((int)r->info[i].dest_fd) < 0)
			return -1;
	return 0;
}

static int checked(int fd, unsigned long req, void *arg, enum us_ioc k)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int fl = US_REAL(fcntl)(fd, F_GETFL);

	if (fl < 0 || (fl & O_PATH)) /* the kernel's EBADF */
		return US_REAL(ioctl)(fd, req, arg);
	if (k == US_IOC_DEDUPE)
		return dedupe_check(fd, arg) < 0 ? -1 : US_REAL(ioctl)(fd, req, arg);
	if (k == US_IOC_WRITE)
		return us_fd_write_check(fd) < 0 ? -1 : US_REAL(ioctl)(fd, req, arg);
	int rc = us_fd_write(fd, US_MAP_OWNER, sb->up, sizeof sb->up);
	return rc < 0 ? -1 : rc ? on_copy(sb->up, req, arg) : US_REAL(ioctl)(fd, req, arg);
}

US_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	enum us_ioc k = us_ioctl_class(req);
	if (k == US_IOC_PASS)
		return US_REAL(ioctl)(fd, req, arg);
	US_SHIM_OR(US_REAL(ioctl)(fd, req, arg));
	return checked(fd, req, arg, k);
}
