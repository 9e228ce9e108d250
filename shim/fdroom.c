/* fdroom.c: RLIMIT_NOFILE's soft limit raised for the shim's own fds (see
 * fdroom.h). Threads share one raise: the first in raises the limit, the
 * last out puts it back, and only when it is still the raised value (a
 * program's own setrlimit in between wins). No lock: a counter. */
#include <errno.h>
#include <sys/resource.h>

#include "fdroom.h"

static int users;   /* threads inside a raise */
static rlim_t base; /* the soft limit before it */

bool us_fdroom_begin(void)
{
	struct rlimit rl;

	if (__atomic_fetch_add(&users, 1, __ATOMIC_ACQ_REL) > 0)
		return true; /* raised already by another thread */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max - rl.rlim_cur >= US_FDROOM)) {
		base = rl.rlim_cur;
		rl.rlim_cur += US_FDROOM;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return true;
	}
	__atomic_fetch_sub(&users, 1, __ATOMIC_ACQ_REL);
	errno = EMFILE;
	return false;
}

void us_fdroom_end(void)
{
	int saved = errno;
	struct rlimit rl;

	if (__atomic_sub_fetch(&users, 1, __ATOMIC_ACQ_REL) == 0 &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == base + US_FDROOM) {
		rl.rlim_cur = base;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	errno = saved;
}
