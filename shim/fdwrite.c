/* fdwrite.c: where a write through an fd lands. Writes through an fd on
 * a lower file are redirected to its upper copy (or refused in a
 * read-only union); through an fd opened by a lower's own path, refused;
 * through an fd on a file with no path (a file handle's), refused when it
 * may lie in a lower.
 *
 * Dependencies run one way: wrappers call this file; it calls front.c
 * (us_map, for the copy-up) and fdpath.c, which never call back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "fdmap.h"
#include "front.h"
#include "guard.h"
#include "state.h"
#include "trace.h"
#include "unionshim/scratch.h"

/* An fd opened by a lower's own path (REAL): refuse a write through it. */
static int outside_write(const char *real)
{
	const char *low;

	if (!(low = us_hidden_dir(real))) {
		us_errno_back();
		return 0;
	}
	errno = EROFS;
	us_trace_denied("write through an fd on a lower's own path", low);
	return -1;
}

/* An fd whose /proc link is a bare "/" but that is no directory is a file
 * the kernel found with no path to it (opened by a file handle after its
 * dentry was evicted): where it lies is unknown. On the filesystem of a
 * lower dir it might be in it, so a write is refused: -1 with EROFS. */
static __attribute__((noinline)) int unnamed_check(int fd, const char *real)
{
	struct stat st, l;

	if (strcmp(real, "/") != 0 || US_REAL(fstat)(fd, &st) < 0 ||
	    S_ISDIR(st.st_mode))
		return 0;
	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		for (int i = m->has_upper; i < m->nlayers; i++) {
			if (US_REAL(stat)(m->layers[i].path, &l) == 0 &&
			    l.st_dev == st.st_dev) {
				errno = EROFS;
				us_trace_denied("write through an fd of an unnamed file on the filesystem",
						m->layers[i].path);
				return -1;
			}
		}
	}
	return 0;
}

/* Where a write through FD lands: 0 on FD itself (no lower union file;
 * errno as the caller had it), 1 on the union file of a lower layer whose
 * union path is put in UP, -1 refused with errno. */
static int fd_write_target(int fd, char *up, size_t len)
{
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);

	if (!real)
		return -1;
	if (us_fd_real(fd, real, US_PATH_MAX) < 0) {
		us_errno_back();
		return 0;
	}
	if (us_fd_kind(fd) == US_FD_OUTSIDE)
		return outside_write(real);
	if (unnamed_check(fd, real) < 0)
		return -1;
	if (!us_real_lower_object(real, up, len)) {
		us_errno_back(); /* not a union file, or already the upper copy */
		return 0;
	}
	return 1;
}

int us_fd_write(int fd, unsigned may, char *path, size_t len)
{
	US_SCRATCH_SCOPE;
	char *up = us_scratch_push(US_PATH_MAX);
	if (!up)
		return -1;
	US_TARGET(t);
	int rc = fd_write_target(fd, up, US_PATH_MAX);

	if (rc != 1)
		return rc;
	if (may & US_FD_NOPATH) { /* asked only where a copy-up would follow */
		int fl = US_REAL(fcntl)(fd, F_GETFL);
		if (fl >= 0 && (fl & O_PATH))
			return 0; /* the kernel's EBADF */
		may &= ~US_FD_NOPATH;
	}
	if (us_map(AT_FDCWD, up, US_MAP_WRITE | US_MAP_META | US_MAP_NOFOLLOW | may, t) !=
	    US_MAPPED)
		return -1;
	if (strlen(t->real) + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, t->real);
	return 1;
}

int us_fd_write_check(int fd)
{
	US_SCRATCH_SCOPE;
	char *up = us_scratch_push(US_PATH_MAX);
	if (!up)
		return -1;
	int rc = fd_write_target(fd, up, US_PATH_MAX);

	if (rc != 1)
		return rc;
	errno = EROFS; /* an fd on a lower file never writes it */
	us_trace_denied("write through an fd", up);
	return -1;
}
