/* fdops.c: replaying a log of fd operations (see
 * include/unionshim/fdops.h). A fd's fate is read backwards through the
 * log: the last op that placed something at the fd decides what it is,
 * and the last op that set its close-on-exec flag decides that flag; a
 * dup carries the flag it made, never its source's. */
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>

#include "unionshim/fdops.h"

struct us_fdop us_fdop_dup3(int oldfd, int newfd, int flags)
{
	return (struct us_fdop){US_FDOP_DUP, newfd, oldfd,
				(flags & O_CLOEXEC) != 0};
}

struct us_fdop us_fdop_dupfd(int fd, int cmd, int newfd)
{
	return (struct us_fdop){US_FDOP_DUP, newfd, fd, cmd == F_DUPFD_CLOEXEC};
}

struct us_fdop us_fdop_open(int fd, int oflag)
{
	return (struct us_fdop){US_FDOP_OPEN, fd, fd, (oflag & O_CLOEXEC) != 0};
}

struct us_fdop us_fdop_close(int fd)
{
	return (struct us_fdop){US_FDOP_CLOSE, fd, fd, false};
}

struct us_fdop us_fdop_close_range(unsigned first, unsigned last,
				   unsigned flags)
{
	int lo = first > INT_MAX ? INT_MAX : (int)first;
	int hi = last > INT_MAX ? INT_MAX : (int)last;

	return (struct us_fdop){(flags & CLOSE_RANGE_CLOEXEC) ? US_FDOP_CLOEXEC
							   : US_FDOP_CLOSE,
				lo, hi, false};
}

struct us_fdfate us_fdops_fate(const struct us_fdop *ops, int nops, int fd)
{
	struct us_fdfate f = {fd, -1, -1};

	for (int i = nops - 1; i >= 0; i--) {
		const struct us_fdop *op = &ops[i];
		bool in_range = fd >= op->fd && fd <= op->src;
		switch (op->kind) {
		case US_FDOP_CLOSE:
			if (in_range) {
				f.from = US_FDFATE_CLOSED;
				return f;
			}
			break;
		case US_FDOP_CLOEXEC:
			if (in_range && f.cloexec < 0)
				f.cloexec = 1;
			break;
		case US_FDOP_OPEN:
			if (op->fd == fd) {
				if (f.cloexec < 0)
					f.cloexec = op->cloexec;
				f.from = US_FDFATE_OPENED;
				f.op = i;
				return f;
			}
			break;
		case US_FDOP_DUP:
			if (op->fd == fd) {
				if (f.cloexec < 0)
					f.cloexec = op->cloexec;
				fd = op->src; /* what it copied, as it was then */
			}
			break;
		}
	}
	f.from = fd;
	return f;
}

bool us_fdops_survives(struct us_fdfate f, bool old_cloexec)
{
	if (f.from == US_FDFATE_CLOSED)
		return false;
	return f.cloexec < 0 ? !old_cloexec : !f.cloexec;
}

int us_fdops_top(const struct us_fdop *ops, int nops, int top)
{
	for (int i = 0; i < nops; i++)
		if ((ops[i].kind == US_FDOP_DUP || ops[i].kind == US_FDOP_OPEN) &&
		    ops[i].fd > top)
			top = ops[i].fd;
	return top;
}
