/* fdmap/vfork.c: a vfork child's changes to its fds. The child shares
 * the parent's memory but has its own fds: its opens, dups and closes
 * must not rewrite the parent's map (it keeps none), so they are logged
 * here instead, and its exec replays the log on the parent's map
 * (fdops.h, exec.c). A child of a fork without atfork handlers owns its
 * copy of the map and changes it as any process does. */
#include <sys/types.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../forks.h"

bool us_fdmap_in_vfork_child(void)
{
	return us_in_vfork_child();
}

/* The fd ops of the vfork child running now (it shares our memory; its
 * parent waits until it has exec'd or exited). */
static struct {
	pid_t pid;
	int n; /* -1: overflowed, the ops are lost */
	struct us_fdop ops[256];
} vlog;

bool us_fdmap_vfork_logging(void)
{
	return __atomic_load_n(&vlog.n, __ATOMIC_RELAXED) != 0;
}

void us_fdmap_vfork_forget(void)
{
	__atomic_store_n(&vlog.n, 0, __ATOMIC_RELAXED);
}

void us_fdmap_vfork_op(struct us_fdop op)
{
	pid_t self = us_pid();

	if (vlog.pid != self) {
		vlog.pid = self;
		vlog.n = 0;
	}
	if (vlog.n < 0)
		return;
	if (vlog.n == (int)(sizeof vlog.ops / sizeof vlog.ops[0])) {
		vlog.n = -1;
		return;
	}
	vlog.ops[vlog.n++] = op;
}

const struct us_fdop *us_fdmap_vfork_ops(int *n)
{
	if (!us_fdmap_vfork_logging() || !us_fdmap_in_vfork_child() ||
	    vlog.pid != us_pid() || vlog.n <= 0)
		return NULL;
	*n = vlog.n;
	return vlog.ops;
}
