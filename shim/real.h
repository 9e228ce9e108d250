/* real.h: pointers to the real libc functions behind the wrappers.
 *
 * US_REAL(name) is the real function, resolved on its first use (from
 * the symbol tables the constructor read, see real.c). A function libc lacks is
 * replaced by a stub that fails with ENOSYS. Generated from wrapfuncs.def. */
#ifndef UNIONSHIM_REAL_H
#define UNIONSHIM_REAL_H

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <utime.h>

#define US_HIDDEN __attribute__((visibility("hidden")))
#define US_EXPORT __attribute__((visibility("default")))

#define WRAP(ret, name, params)                                               \
	extern US_HIDDEN ret(*us_real_##name) params;                          \
	US_HIDDEN ret (*us_resolve_##name(void)) params;
#define REAL WRAP
#define OWN(name)
#include "wrapfuncs.def"
#undef WRAP
#undef REAL
#undef OWN

/* (An acquire load: another thread may be storing the pointer now; on
 * x86-64 it is a plain load.) */
#define US_REAL(name)                                                         \
	({                                                                     \
		__typeof__(us_real_##name) us_p_ =                             \
			__atomic_load_n(&us_real_##name, __ATOMIC_ACQUIRE);    \
		__builtin_expect(us_p_ != NULL, 1) ? us_p_                     \
						  : us_resolve_##name();       \
	})

/* Make the real functions resolvable without a lock (the constructor). */
US_HIDDEN void us_resolve_all(void);

#endif
