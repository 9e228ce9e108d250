/* uring.c: io_uring, refused while a union is active. A ring's reads and
 * writes are submitted through shared memory and reach the kernel without
 * libc: they would act on the real layers (and on a lower file's own
 * inode). ENOSYS is what io_uring programs fall back on (kernels without
 * io_uring, or with it disabled). The system call is refused in the
 * syscall() door (doorcalls.c); liburing, which since 2.2 issues it with
 * its own syscall instruction (Debian 12's 2.3 does), is refused at its
 * exported entry points, with liburing's convention of returning -errno.
 * Inert (no union), each passes to liburing, looked up at the call: a
 * program may dlopen liburing after the shim resolved its table. */
#include <errno.h>

#include "../guard.h"
#include "../trace.h"

/* liburing.h's prototypes, without its types (the shim never looks inside
 * a ring): struct io_uring * and struct io_uring_params * as void *. */
int io_uring_queue_init(unsigned entries, void *ring, unsigned flags);
int io_uring_queue_init_params(unsigned entries, void *ring, void *p);
int io_uring_queue_init_mem(unsigned entries, void *ring, void *p, void *buf,
			    size_t len);
int io_uring_setup(unsigned entries, void *p);

static int refused(const char *what)
{
	errno = ENOSYS;
	us_trace_denied(what, "a ring, whose I/O would bypass the union");
	return -ENOSYS;
}

static bool active(void)
{
	return us_state == US_ACTIVE && !us_inside;
}

US_EXPORT int io_uring_queue_init(unsigned entries, void *ring, unsigned flags)
{
	if (active())
		return refused("liburing io_uring_queue_init");
	return us_resolve_io_uring_queue_init()(entries, ring, flags);
}

US_EXPORT int io_uring_queue_init_params(unsigned entries, void *ring, void *p)
{
	if (active())
		return refused("liburing io_uring_queue_init_params");
	return us_resolve_io_uring_queue_init_params()(entries, ring, p);
}

US_EXPORT int io_uring_queue_init_mem(unsigned entries, void *ring, void *p,
				      void *buf, size_t len)
{
	if (active())
		return refused("liburing io_uring_queue_init_mem");
	return us_resolve_io_uring_queue_init_mem()(entries, ring, p, buf, len);
}

US_EXPORT int io_uring_setup(unsigned entries, void *p)
{
	if (active())
		return refused("liburing io_uring_setup");
	return us_resolve_io_uring_setup()(entries, p);
}
