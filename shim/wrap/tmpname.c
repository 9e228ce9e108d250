/* tmpname.c: the mkstemp/mkdtemp families, which glibc implements with
 * internal opens. A template in a union dir is a create there (refused
 * while unions are read-only); elsewhere glibc does the work, on the real
 * path when the template's path had to be mapped (the generated suffix is
 * copied back into the caller's template). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "unionshim/lcache.h"

/* Run MAKE on the real form of TEMPLATE; SUFFIXLEN trailing bytes follow
 * the XXXXXX. Returns MAKE's result (fd or 0), or -1 with errno. An fd
 * (FDFLAGS >= 0: the flags it was opened with) on a file made in a union
 * goes into the fd map as any created file's (its locks on the object's
 * lock proxy, as every other open's of it). */
static int with_real_template(char *template, int suffixlen,
			      int (*make)(char *real, void *arg), void *arg,
			      int fdflags)
{
	US_TARGET(t);
	size_t tl = strlen(template);

	switch (us_map(AT_FDCWD, template, US_MAP_OPENCREAT | US_MAP_WRITE, t)) {
	case US_PASS:
		return make(template, arg);
	case US_MAPPED: {
		size_t rl = strlen(t->real), tail = 6 + (size_t)suffixlen;
		if (tl < tail || rl < tail) {
			errno = EINVAL;
			return -1;
		}
		int rc = make(t->real, arg);
		if (rc >= 0)
			memcpy(template + tl - tail, t->real + rl - tail, 6);
		if (rc >= 0 && t->r.where == US_INSIDE) /* a new name there */
			us_lcache_name_changed(t->r.m, t->r.path);
		if (rc >= 0 && fdflags >= 0 && t->r.where == US_INSIDE) {
			t->r.err = ENOENT; /* a new file, whatever the template named */
			us_fd_opened(rc, O_RDWR | O_CREAT | O_EXCL | fdflags, NULL, t);
		}
		return rc;
	}
	default:
		return -1;
	}
}

struct stemp_args {
	int flags, suffixlen;
};

static int make_stemp(char *real, void *arg)
{
	const struct stemp_args *a = arg;

	return US_REAL(mkostemps)(real, a->suffixlen, a->flags);
}

US_EXPORT int mkostemps(char *template, int suffixlen, int flags)
{
	US_SHIM_OR(US_REAL(mkostemps)(template, suffixlen, flags));
	struct stemp_args a = {flags, suffixlen};
	return with_real_template(template, suffixlen, make_stemp, &a, flags);
}

US_EXPORT int mkstemp(char *template)
{
	return US_SELF(mkostemps)(template, 0, 0);
}

US_EXPORT int mkostemp(char *template, int flags)
{
	return US_SELF(mkostemps)(template, 0, flags);
}

US_EXPORT int mkstemps(char *template, int suffixlen)
{
	return US_SELF(mkostemps)(template, suffixlen, 0);
}

US_EXPORT int mkstemp64(char *) __attribute__((alias("mkstemp")));
US_EXPORT int mkostemp64(char *, int) __attribute__((alias("mkostemp")));
US_EXPORT int mkstemps64(char *, int) __attribute__((alias("mkstemps")));
US_EXPORT int mkostemps64(char *, int, int) __attribute__((alias("mkostemps")));

static int make_dtemp(char *real, void *arg)
{
	(void)arg;
	return US_REAL(mkdtemp)(real) ? 0 : -1;
}

US_EXPORT char *mkdtemp(char *template)
{
	US_SHIM_OR(US_REAL(mkdtemp)(template));
	return with_real_template(template, 0, make_dtemp, NULL, -1) == 0 ? template
								       : NULL;
}
