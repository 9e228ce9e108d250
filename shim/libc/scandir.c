/* scandir.c: scandir and scandirat (and their 64 names), rebuilt on the
 * shim's own opendir/fdopendir/readdir/closedir (US_SELF, names.h: never a
 * program's functions of those names).
 *
 * glibc's own scandir opens and reads through internal calls that no
 * preload library sees, so it would list the bare target dir. These run
 * as ordinary program code (no shim guard held): every call below goes
 * through our wrappers, and the filter and compar callbacks are the
 * program's. errno follows glibc: kept on success, the failing call's on
 * failure, with everything freed and the stream closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../guard.h"
#include "../real.h"

typedef int (*scan_filter)(const struct dirent *);
typedef int (*scan_compar)(const struct dirent **, const struct dirent **);

static int compar_thunk(const void *a, const void *b, void *arg)
{
	scan_compar cmp = (scan_compar)arg;

	return cmp((const struct dirent **)a, (const struct dirent **)b);
}

static void free_list(struct dirent **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* A private copy of D, as large as its record (callers may read
 * d_reclen bytes) and never shorter than its name. */
static struct dirent *copy_entry(const struct dirent *d)
{
	size_t need = offsetof(struct dirent, d_name) + strlen(d->d_name) + 1;
	size_t size = d->d_reclen > need ? d->d_reclen : need;
	struct dirent *c = malloc(size);

	if (c)
		memcpy(c, d, need);
	return c;
}

/* Read, filter and sort DIR's entries; closes DIR. */
static int scan_stream(DIR *dir, struct dirent ***namelist, scan_filter filter,
		       scan_compar compar)
{
	int saved = errno;
	struct dirent **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	int err = 0;

	errno = 0;
	while ((d = US_SELF(readdir)(dir)) != NULL) {
		/* a filter may set errno and still be fine: only readdir's
		 * own errno at the end of the stream counts */
		int keep = !filter || filter(d);
		errno = 0;
		if (!keep)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct dirent **nv = NULL;
			if (ncap <= INT_MAX)
				nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				err = ncap <= INT_MAX ? ENOMEM : EOVERFLOW;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if (!(v[n] = copy_entry(d))) {
			err = ENOMEM;
			break;
		}
		n++;
	}
	if (!err)
		err = errno; /* readdir's failure, or 0 at the end */
	US_SELF(closedir)(dir);
	if (err) {
		free_list(v, n);
		errno = err;
		return -1;
	}
	if (compar && n > 1)
		qsort_r(v, n, sizeof *v, compar_thunk, (void *)compar);
	*namelist = v;
	errno = saved;
	return (int)n;
}

US_EXPORT int scandirat(int dirfd, const char *path, struct dirent ***namelist,
			scan_filter filter, scan_compar compar)
{
	DIR *dir;
	int caller = errno;

	if (dirfd == AT_FDCWD || path[0] == '/') {
		dir = US_SELF(opendir)(path);
	} else {
		int fd = US_SELF(openat)(dirfd, path,
				O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -1;
		dir = US_SELF(fdopendir)(fd);
		if (!dir) {
			int e = errno;
			US_SELF(close)(fd);
			errno = e;
		}
	}
	if (!dir)
		return -1;
	return us_kept(scan_stream(dir, namelist, filter, compar), caller);
}

US_EXPORT int scandir(const char *path, struct dirent ***namelist,
		      scan_filter filter, scan_compar compar)
{
	return US_SELF(scandirat)(AT_FDCWD, path, namelist, filter, compar);
}

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64) &&
		       offsetof(struct dirent, d_name) ==
			       offsetof(struct dirent64, d_name),
	       "x86-64: dirent64 is dirent");

US_EXPORT int scandir64(const char *, struct dirent64 ***,
			int (*)(const struct dirent64 *),
			int (*)(const struct dirent64 **,
				const struct dirent64 **))
	__attribute__((alias("scandir")));
US_EXPORT int scandirat64(int, const char *, struct dirent64 ***,
			  int (*)(const struct dirent64 *),
			  int (*)(const struct dirent64 **,
				  const struct dirent64 **))
	__attribute__((alias("scandirat")));
