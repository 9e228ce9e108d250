/* cwd.c: the current directory and canonical names, in union terms.
 *
 * chdir into a union dir moves the kernel's cwd to the topmost layer's
 * real dir and records the union path as the virtual cwd; getcwd and
 * realpath answer with union paths. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../coreguard.h"
#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "glibc_protos.h"
#include "unionshim/scratch.h"

/* After a successful real chdir: the union path if we went into a union,
 * else the kernel's canonical cwd. */
static void record_cwd(const struct us_target *t)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return;

	if (t->r.where == US_INSIDE)
		us_cwd_set(t->r.path);
	else if (US_REAL(getcwd)(sb->real, sizeof sb->real))
		us_cwd_set(sb->real);
}

/* The real chdir or fchdir, with the core limit held across it
 * (coreguard.h). */
static int move_real_cwd(const char *path, int fd)
{
	bool guard = us_core_move_begin();
	int rc = path ? US_REAL(chdir)(path) : US_REAL(fchdir)(fd);

	if (guard)
		us_core_move_end();
	return rc;
}

US_EXPORT int chdir(const char *path)
{
	US_SHIM_OR(US_REAL(chdir)(path));
	US_TARGET(t);
	const char *p = us_path(path, 0, t);
	if (!p || move_real_cwd(p, -1) < 0)
		return -1;
	record_cwd(t);
	return 0;
}

US_EXPORT int fchdir(int fd)
{
	US_SHIM_OR(US_REAL(fchdir)(fd));
	US_SCRATCH_SCOPE;
	struct {
		char path[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	if (move_real_cwd(NULL, fd) < 0)
		return -1;
	if (us_fd_path(fd, sb->path, sizeof sb->path) >= 0 ||
	    US_REAL(getcwd)(sb->path, sizeof sb->path))
		us_cwd_set(sb->path);
	return 0;
}

/* glibc: a NULL buffer is allocated, SIZE bytes or as needed when 0. */
US_EXPORT char *getcwd(char *buf, size_t size)
{
	US_SHIM_OR(US_REAL(getcwd)(buf, size));
	US_SCRATCH_SCOPE;
	struct {
		char cwd[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return NULL;
	if (us_cwd_get(sb->cwd, sizeof sb->cwd) < 0)
		return NULL;
	/* a cwd removed from the union: ENOENT, as the kernel says of one
	 * removed (overlayfs too) */
	if (us_mount_of(&us_cfg, sb->cwd) && !us_cwd_still(sb->cwd, sizeof sb->cwd)) {
		errno = ENOENT;
		return NULL;
	}
	size_t need = strlen(sb->cwd) + 1;
	if (buf && size == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((buf || size) && size < need) {
		errno = ERANGE;
		return NULL;
	}
	if (!buf && !(buf = malloc(size ? size : need)))
		return NULL;
	memcpy(buf, sb->cwd, need);
	return buf;
}

US_EXPORT char *__getcwd_chk(char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		__chk_fail();
	return US_SELF(getcwd)(buf, size);
}

US_EXPORT char *getwd(char *buf)
{
	if (US_SELF(getcwd)(buf, PATH_MAX))
		return buf;
	strncpy(buf, strerror(errno), PATH_MAX - 1);
	buf[PATH_MAX - 1] = '\0';
	return NULL;
}

/* $PWD when it names the cwd (it may keep the user's symlinks), else the
 * canonical cwd: glibc's rule, checked through the union. */
US_EXPORT char *get_current_dir_name(void)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;

	if (pwd && pwd[0] == '/' && US_SELF(stat)(pwd, &a) == 0 && US_SELF(stat)(".", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return strdup(pwd);
	return US_SELF(getcwd)(NULL, 0);
}

US_EXPORT char *realpath(const char *path, char *resolved)
{
	US_SHIM_OR(US_REAL(realpath)(path, resolved));
	US_SCRATCH_SCOPE;
	struct {
		char abs[US_PATH_MAX];
		struct us_resolved r;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return NULL;
	if (!us_unchecked(path)) {
		errno = EINVAL;
		return NULL;
	}
	if (!*path) {
		errno = ENOENT;
		return NULL;
	}
	const char *rest;
	int fd = us_magic_fd(path, &rest);
	if (fd >= 0 && !*rest && us_fd_path(fd, sb->abs, sizeof sb->abs) == 1)
		path = sb->abs; /* the union object the fd was opened on */
	else if (us_abs_path(AT_FDCWD, path, sb->abs, sizeof sb->abs) < 0)
		return NULL;
	if (!us_touches_union(&us_cfg, sb->abs))
		return us_errno_back(), US_REAL(realpath)(path, resolved);
	if (us_resolve(&us_cfg, sb->abs, 0, &sb->r) < 0)
		return NULL;
	if (sb->r.where == US_OUTSIDE)
		return us_errno_back(), US_REAL(realpath)(sb->r.path, resolved);
	if (sb->r.err) {
		errno = sb->r.err;
		return NULL;
	}
	if (!us_path_fits(sb->r.path)) {
		errno = ENAMETOOLONG; /* libc's realpath gives no more */
		return NULL;
	}
	if (!resolved)
		return us_ok_ptr(strdup(sb->r.path));
	memcpy(resolved, sb->r.path, strlen(sb->r.path) + 1);
	return us_ok_ptr(resolved);
}

US_EXPORT char *__realpath_chk(const char *path, char *resolved,
			       size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		__chk_fail();
	return US_SELF(realpath)(path, resolved);
}

US_EXPORT char *canonicalize_file_name(const char *path)
{
	return US_SELF(realpath)(path, NULL);
}
