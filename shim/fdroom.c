/* fdroom.c: RLIMIT_NOFILE's soft limit raised for the shim's own fds (see
 * fdroom.h). Threads share one raise: the first in raises the limit, the
 * last out puts it back, and only when it is still the raised value (a
 * program's own setrlimit in between wins). The lock covers the count
 * and the two limit calls only. */
#include <errno.h>
#include <sys/resource.h>

#include "fdroom.h"
#include "forks.h"

static int users;    /* threads inside a raise */
static bool raised;  /* the limit is base + US_FDROOM, by us */
static rlim_t base;  /* the soft limit before it */

bool us_fdroom_begin(void)
{
	struct rlimit rl;
	bool ok = false;

	if (!us_lock_unless_mine(US_LOCK_FDROOM))
		return false; /* a nested call: errno stays EMFILE */
	if (raised) {
		ok = true;
	} else if (US_REAL(getrlimit)(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		   (rl.rlim_max == RLIM_INFINITY || rl.rlim_max - rl.rlim_cur >= US_FDROOM)) {
		base = rl.rlim_cur;
		rl.rlim_cur += US_FDROOM;
		ok = raised = US_REAL(setrlimit)(RLIMIT_NOFILE, &rl) == 0;
	}
	users += ok;
	us_unlock(US_LOCK_FDROOM);
	errno = EMFILE;
	return ok;
}

void us_fdroom_end(void)
{
	int saved = errno;
	struct rlimit rl;

	us_lock(US_LOCK_FDROOM);
	if (--users == 0 && raised) {
		raised = false;
		if (US_REAL(getrlimit)(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == base + US_FDROOM) {
			rl.rlim_cur = base;
			US_REAL(setrlimit)(RLIMIT_NOFILE, &rl);
		}
	}
	us_unlock(US_LOCK_FDROOM);
	errno = saved;
}
