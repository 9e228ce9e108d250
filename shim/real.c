/* real.c: the real-function table, generated from wrapfuncs.def.
 *
 * dlsym(RTLD_NEXT) finds the next definition after ours, libc's default
 * version (us_resolve_all reads the same answers from the symbol tables). A missing symbol gets a stub with ENOSYS of the matching return
 * kind; calling it through the real prototype relies on the x86-64 SysV
 * convention that a callee may ignore its arguments. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "real.h"
#include "unionshim/symnext.h"

static int enosys_int(void)
{
	errno = ENOSYS;
	return -1;
}

static long enosys_long(void)
{
	errno = ENOSYS;
	return -1;
}

static void *enosys_ptr(void)
{
	errno = ENOSYS;
	return NULL;
}

static void enosys_void(void)
{
	errno = ENOSYS;
}

#define ENOSYS_STUB(ret)                                                      \
	_Generic((ret *)0, int *: (void *)enosys_int, long *                   \
		 : (void *)enosys_long, void *: (void *)enosys_void, default   \
		 : (void *)enosys_ptr)

static struct us_symnext next;
static int next_ready; /* next holds the symbol tables (us_resolve_all) */

/* NAME's next definition: read from the symbol tables (no lock, no
 * allocation: safe in a signal handler or a forked child); dlsym when
 * they do not have it (before the constructor; an IFUNC, which no wrapped
 * libc name is; a name libc lacks, which a library dlopen'd since may
 * define: liburing's, see uring.c); STUB when nothing defines it. */
static void *find_next(const char *name, void *stub)
{
	bool ask;
	void *p = NULL;

	if (__atomic_load_n(&next_ready, __ATOMIC_ACQUIRE))
		p = us_symnext_find(&next, name, &ask);
	if (!p)
		p = dlsym(RTLD_NEXT, name);
	return p ? p : stub;
}

#define WRAP(ret, name, params)                                               \
	ret (*us_real_##name) params;                                          \
	ret (*us_resolve_##name(void)) params                                  \
	{                                                                      \
		void *p = find_next(#name, ENOSYS_STUB(ret));                  \
		__atomic_store_n(&us_real_##name, (ret(*) params)p,            \
				 __ATOMIC_RELEASE);                            \
		return (ret(*) params)p;                                       \
	}
#define REAL WRAP
#define OWN(name)
#include "wrapfuncs.def"
#undef WRAP
#undef REAL

/* Read the symbol tables of the objects after ours (symnext.h, a fraction
 * of dlsym's cost); each name is then found on its first use, so a
 * process pays only for the functions it calls. When a table cannot be
 * read, every name is resolved now by dlsym, as before any lazy use. */
void us_resolve_all(void)
{
	if (us_symnext_init(&next, (void *)us_resolve_all) && !next.partial) {
		__atomic_store_n(&next_ready, 1, __ATOMIC_RELEASE);
		return;
	}
#define WRAP(ret, name, params) us_resolve_##name();
#define REAL WRAP
#include "wrapfuncs.def"
#undef WRAP
#undef REAL
}
