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

#define WRAP(ret, name, params)                                               \
	ret (*us_real_##name) params;                                          \
	ret (*us_resolve_##name(void)) params                                  \
	{                                                                      \
		void *p = dlsym(RTLD_NEXT, #name);                             \
		if (!p)                                                        \
			p = ENOSYS_STUB(ret);                                  \
		__atomic_store_n(&us_real_##name, (ret(*) params)p,            \
				 __ATOMIC_RELEASE);                            \
		return us_real_##name;                                         \
	}
#define REAL WRAP
#define OWN(name)
#include "wrapfuncs.def"
#undef WRAP
#undef REAL

/* Every name at once: read from the symbol tables of the objects after
 * ours (symnext.h, a fraction of dlsym's cost), dlsym where that cannot
 * answer for sure. */
void us_resolve_all(void)
{
	static struct us_symnext next;
	bool ask;
	void *p;

	us_symnext_init(&next, (void *)us_resolve_all);
#define WRAP(ret, name, params)                                               \
	p = us_symnext_find(&next, #name, &ask);                               \
	if (p)                                                                 \
		__atomic_store_n(&us_real_##name, (ret(*) params)p,            \
				 __ATOMIC_RELEASE);                            \
	else                                                                   \
		us_resolve_##name();
#define REAL WRAP
#include "wrapfuncs.def"
#undef WRAP
#undef REAL
}
