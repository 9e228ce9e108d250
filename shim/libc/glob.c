/* glob.c: glob (and glob64) over union dirs.
 *
 * glibc's glob reads directories through internal calls unless the caller
 * passes GLOB_ALTDIRFUNC; then it uses the gl_* hooks. So when the shim
 * is active and the caller brought no hooks of its own, we hand glibc our
 * own opendir/readdir/closedir/stat/lstat (US_SELF, hidden: a program's
 * functions of those names are never taken) and let it do the matching,
 * sorting and escaping it already does right. The guard is released
 * around the real glob: the hooks must reach our wrappers, and a caller's
 * own hooks and errfunc are program code. globfree needs nothing. */
#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>

#include "../guard.h"

typedef int (*glob_errfunc)(const char *, int);

/* glibc calls the hooks with DIR as an opaque pointer. */
static void *hook_opendir(const char *path)
{
	return US_SELF(opendir)(path);
}

static struct dirent *hook_readdir(void *dir)
{
	return US_SELF(readdir)(dir);
}

static void hook_closedir(void *dir)
{
	US_SELF(closedir)(dir);
}

static int real_glob(const char *pattern, int flags, glob_errfunc errfunc,
		     glob_t *pglob)
{
	int rc;

	US_OUTSIDE_SHIM(rc = US_REAL(glob)(pattern, flags, errfunc, pglob));
	return rc;
}

US_EXPORT int glob(const char *pattern, int flags, glob_errfunc errfunc,
		   glob_t *pglob)
{
	US_SHIM_OR(US_REAL(glob)(pattern, flags, errfunc, pglob));
	if (flags & GLOB_ALTDIRFUNC)
		return real_glob(pattern, flags, errfunc, pglob);
	pglob->gl_opendir = hook_opendir;
	pglob->gl_readdir = hook_readdir;
	pglob->gl_closedir = hook_closedir;
	pglob->gl_stat = US_SELF(stat);
	pglob->gl_lstat = US_SELF(lstat);
	int rc = real_glob(pattern, flags | GLOB_ALTDIRFUNC, errfunc, pglob);
	/* the caller asked for no hooks: do not report them as its flags */
	pglob->gl_flags &= ~GLOB_ALTDIRFUNC;
	if (rc == 0 || rc == GLOB_NOMATCH)
		us_errno_back(); /* glibc's own glob leaves the ENOENT of its
				    probes; a glob that worked keeps errno */
	return rc;
}

US_EXPORT int glob64(const char *, int, glob_errfunc, glob64_t *)
	__attribute__((alias("glob")));
