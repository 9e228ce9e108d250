/* fdpath.c: what an fd refers to, in union terms. The kernel's own link
 * /proc/self/fd/N gives the real path; a real path inside a layer is read
 * back as the union path it belongs to, unless the fd was opened by that
 * real path from outside the union (then it stays the real path). Writes
 * through an fd on a lower file are redirected to its upper copy (or
 * refused in a read-only union); through an fd opened by a lower's own
 * path, refused; through an fd on a file with no path (a file handle's),
 * refused when it may lie in a lower. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirfdpath.h"
#include "fdmap.h"
#include "front.h"
#include "guard.h"
#include "state.h"
#include "trace.h"
#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/path.h"

/* The real path behind FD into OUT; -1 when FD names no path. */
static int fd_real(int fd, char *out, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	n = US_REAL(readlink)(proc, out, len - 1);
	if (n <= 0 || out[0] != '/')
		return -1;
	out[n] = '\0';
	return 0;
}

/* FD was opened by a real path outside every union (a lower's own path,
 * say): it stays that path, never the union object at the same place. */
static bool opened_outside(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	return e && e->kind == US_FD_OUTSIDE;
}

/* A union dir fd's path is remembered (dirfdpath.h): *at() calls on it
 * cost no readlink. */
int us_fd_path(int fd, char *out, size_t len)
{
	char real[PATH_MAX];
	uint32_t moves;

	if (us_dirfd_cached(fd, out, len, &moves))
		return 1;
	if (fd_real(fd, real, sizeof real) < 0)
		return -1;
	int rc = opened_outside(fd) ? 0 : us_revmap(&us_cfg, real, out, len, NULL);
	if (rc == 1)
		us_dirfd_remember(fd, out, moves);
	if (rc != 0)
		return rc;
	if (strlen(real) + 1 > len)
		return -1;
	strcpy(out, real);
	return 0;
}

int us_fd_ident(int fd, struct stat *st)
{
	char real[PATH_MAX], up[PATH_MAX];
	const struct us_mount *m;

	if (fd_real(fd, real, sizeof real) < 0)
		return 0;
	int layer = 0; /* an index entry (a lower hard link) is upper */
	if (!(m = us_index_owner(&us_cfg, real))) {
		if (us_revmap(&us_cfg, real, up, sizeof up, &m) != 1)
			return 0;
		layer = us_layer_of(m, real);
	}
	if (layer < 0)
		return 0;
	us_ident_stat(m, layer, real, fd, st);
	return 1;
}

/* Does real path REAL lie in the upper layer of M? */
static bool in_upper(const struct us_mount *m, const char *real)
{
	return m->has_upper &&
	       us_path_under(real, m->layers[0].path, m->layers[0].len);
}

/* FD was opened by a lower's own path (REAL): refuse a write through it. */
static int outside_write(int fd, const char *real)
{
	const char *low;

	if (!opened_outside(fd) || !(low = us_hidden_dir(real))) {
		us_errno_back();
		return 0;
	}
	errno = EROFS;
	us_trace_denied("write through an fd on a lower's own path", low);
	return -1;
}

int us_fd_lower_object(int fd, char *out, size_t len)
{
	char real[PATH_MAX];
	const struct us_mount *m;

	return fd_real(fd, real, sizeof real) == 0 && !opened_outside(fd) &&
	       us_revmap(&us_cfg, real, out, len, &m) == 1 && !in_upper(m, real);
}

int us_magic_lower_object(const char *path, char *out, size_t len)
{
	const char *rest;
	int fd = us_magic_fd(path, &rest);

	return fd >= 0 && !*rest && us_fd_lower_object(fd, out, len);
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
	char real[PATH_MAX];
	const struct us_mount *m;

	if (fd_real(fd, real, sizeof real) < 0) {
		us_errno_back();
		return 0;
	}
	if (opened_outside(fd))
		return outside_write(fd, real);
	if (unnamed_check(fd, real) < 0)
		return -1;
	if (us_revmap(&us_cfg, real, up, len, &m) != 1 || in_upper(m, real)) {
		us_errno_back(); /* not a union file, or already the upper copy */
		return 0;
	}
	return 1;
}

int us_fd_write(int fd, char *path, size_t len)
{
	char up[PATH_MAX];
	struct us_target t;
	int rc = fd_write_target(fd, up, sizeof up);

	if (rc != 1)
		return rc;
	if (us_map(AT_FDCWD, up, US_MAP_WRITE | US_MAP_NOFOLLOW, &t) != US_MAPPED)
		return -1;
	if (strlen(t.real) + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, t.real);
	return 1;
}

int us_fd_write_check(int fd)
{
	char up[PATH_MAX];
	int rc = fd_write_target(fd, up, sizeof up);

	if (rc != 1)
		return rc;
	errno = EROFS; /* an fd on a lower file never writes it */
	us_trace_denied("write through an fd", up);
	return -1;
}
