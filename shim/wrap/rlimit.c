/* rlimit.c: the resource-limit calls on this process, where the shim
 * holds the soft core limit at 0 (coreguard.h): the program reads and sets
 * its own value. Other resources, other processes' limits and a shim not
 * at work pass through. */
#include <sys/resource.h>

#include "../coreguard.h"
#include "../forks.h"
#include "../guard.h"

static bool ours(pid_t pid, __rlimit_resource_t res)
{
	return res == RLIMIT_CORE && (pid == 0 || pid == us_pid()) &&
	       __atomic_load_n(&us_state, __ATOMIC_ACQUIRE) == US_ACTIVE;
}

US_EXPORT int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	int rc = US_REAL(getrlimit)(res, rl);

	if (rc == 0 && ours(0, res))
		us_core_show(rl);
	return rc;
}
US_EXPORT int getrlimit64(__rlimit_resource_t, struct rlimit64 *)
	__attribute__((alias("getrlimit")));

US_EXPORT int prlimit(pid_t pid, __rlimit_resource_t res,
		      const struct rlimit *nw, struct rlimit *old)
{
	if (!ours(pid, res))
		return US_REAL(prlimit)(pid, res, nw, old);
	return us_core_prlimit(nw, old);
}
US_EXPORT int prlimit64(pid_t, __rlimit_resource_t, const struct rlimit64 *,
			struct rlimit64 *) __attribute__((alias("prlimit")));

US_EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	__asm__("" : "+r"(rl)); /* declared nonnull; NULL is the kernel's EFAULT */
	if (!rl || !ours(0, res))
		return US_REAL(setrlimit)(res, rl);
	return us_core_prlimit(rl, NULL);
}
US_EXPORT int setrlimit64(__rlimit_resource_t, const struct rlimit64 *)
	__attribute__((alias("setrlimit")));
