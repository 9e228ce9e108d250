/* longtarget.c: a mapped real path longer than PATH_MAX, handed to the
 * wrapper's real call as a dir fd and a short rest (front.h).
 *
 * A union path near PATH_MAX, or one reached by relative steps below a
 * depth of PATH_MAX, has a real path the kernel will not take whole. The
 * target opens its dir in pieces (longpath.h) and keeps the fd until the
 * wrapper returns (US_TARGET's cleanup closes it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "core/longpath.h"
#include "front.h"

/* Room for "/proc/self/fd/N/" in front of the rest. */
#define PROC_ROOM 32

const char *us_target_long(struct us_target *t, int *dirfd, size_t max)
{
	const char *rest;
	int fd = us_long_split(AT_FDCWD, t->real, max, &rest);

	if (fd < 0)
		return NULL;
	us_target_end(&t); /* a second mapping of the same target */
	t->held = fd;
	*dirfd = fd;
	return rest;
}

const char *us_target_proc(struct us_target *t)
{
	int fd;
	const char *rest = us_target_long(t, &fd, PATH_MAX - PROC_ROOM);

	if (!rest)
		return NULL;
	snprintf(t->proc, sizeof t->proc, "/proc/self/fd/%d/%s", fd, rest);
	return t->proc;
}

void us_target_close(struct us_target *t)
{
	int saved = errno;

	US_REAL(close)(t->held);
	t->held = -1;
	errno = saved;
}
