/* uring_probe: sets up an io_uring ring the ways a program does, as
 * `uring_probe`: through liburing (dlopen'd with RTLD_GLOBAL and looked up
 * in the global scope, as a program linked with it resolves its calls, so
 * that a preloaded definition comes first) and through syscall(). Prints
 * one line per route: "NAME ok", "NAME ERRNAME", or "liburing absent". */
#include <dlfcn.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "probe_io.h"

int main(void)
{
	/* struct io_uring and struct io_uring_params are smaller than these */
	static uint64_t ring[128], params[32];

	long fd = syscall(SYS_io_uring_setup, 4, params);
	say("syscall %s", fd >= 0 ? "ok" : ename(errno));
	if (!dlopen("liburing.so.2", RTLD_NOW | RTLD_GLOBAL)) {
		say("liburing absent");
		return 0;
	}
	int (*init)(unsigned, void *, unsigned) =
		(int (*)(unsigned, void *, unsigned))dlsym(RTLD_DEFAULT, "io_uring_queue_init");
	int (*init_params)(unsigned, void *, void *) =
		(int (*)(unsigned, void *, void *))dlsym(RTLD_DEFAULT, "io_uring_queue_init_params");
	int rc = init(4, ring, 0);
	say("io_uring_queue_init %s", rc == 0 ? "ok" : ename(-rc));
	rc = init_params(4, ring + 64, params);
	say("io_uring_queue_init_params %s", rc == 0 ? "ok" : ename(-rc));
	return 0;
}
