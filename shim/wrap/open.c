/* open.c: the open family and stdio's fopen/freopen (which glibc opens
 * through internal calls no preload library sees). x86-64: the "64" names
 * are aliases. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>

#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "../mounttab.h"
#include "glibc_protos.h"
#include "unionshim/scratch.h"

static int open_at(int dirfd, const char *path, int flags, mode_t mode)
{
	int table = us_mounttab_kind(path, flags);
	if (table)
		return us_mounttab_open(path, table, flags);
	US_SCRATCH_SCOPE;
	US_TARGET(t);
	const char *p = us_path_at(&dirfd, path,
				   us_open_map_flags(flags) | US_MAP_RELATIVE, t);
	int fd = p ? US_REAL(openat)(dirfd, p, flags, mode) : -1;

	if (fd >= 0) {
		us_created(t);
		us_fd_opened(fd, flags, path, t);
	}
	return fd;
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, last)                                                 \
	mode_t mode = 0;                                                       \
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {           \
		va_list ap;                                                    \
		va_start(ap, last);                                            \
		mode = (mode_t)va_arg(ap, int);                                \
		va_end(ap);                                                    \
	}

US_EXPORT int open(const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	US_SHIM_OR(US_REAL(open)(path, flags, mode));
	return open_at(AT_FDCWD, path, flags, mode);
}

US_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	US_SHIM_OR(US_REAL(openat)(dirfd, path, flags, mode));
	return open_at(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE forms: no mode argument (O_CREAT is refused by glibc's
 * compile-time check). */
US_EXPORT int __open_2(const char *path, int flags)
{
	return US_SELF(open)(path, flags, 0);
}

US_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return US_SELF(openat)(dirfd, path, flags, 0);
}

US_EXPORT int creat(const char *path, mode_t mode)
{
	return US_SELF(open)(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

US_EXPORT int open64(const char *, int, ...) __attribute__((alias("open")));
US_EXPORT int openat64(int, const char *, int, ...)
	__attribute__((alias("openat")));
US_EXPORT int __open64_2(const char *, int) __attribute__((alias("__open_2")));
US_EXPORT int __openat64_2(int, const char *, int)
	__attribute__((alias("__openat_2")));
US_EXPORT int creat64(const char *, mode_t) __attribute__((alias("creat")));

static unsigned fopen_map_flags(const char *mode)
{
	if (mode[0] == 'r')
		return US_MAP_FD | (strchr(mode, '+') ? US_MAP_WRITE | US_MAP_NOTDIR
						      : US_MAP_DATA);
	return US_MAP_FD | US_MAP_WRITE | US_MAP_NOTDIR |
	       (strchr(mode, 'x') ? US_MAP_CREATE | US_MAP_NOFOLLOW
				  : US_MAP_OPENCREAT);
}

/* The access mode an fopen MODE opens with. */
static int fopen_access(const char *mode)
{
	if (strchr(mode, '+'))
		return O_RDWR;
	return mode[0] == 'r' ? O_RDONLY : O_WRONLY;
}

/* The open flags a stream of MODE was opened with, as the fd map takes
 * them: "w" and "a" create (a file made so is a union file too). */
static int fopen_flags(const char *mode)
{
	return fopen_access(mode) | (mode[0] == 'w' || mode[0] == 'a' ? O_CREAT : 0);
}

static FILE *opened_stream(FILE *f, const char *path, const char *mode,
			   const struct us_target *t)
{
	if (f) {
		us_created(t);
		us_fd_opened(fileno(f), fopen_flags(mode), path, t);
		us_fd_stream(fileno(f), f);
	}
	return f;
}

/* A stream on this process's mount table with the unions in it, or NULL
 * with *DONE false when PATH is no mount table. */
static FILE *table_stream(const char *path, const char *mode, bool *done)
{
	int flags = fopen_access(mode) | (strchr(mode, 'e') ? O_CLOEXEC : 0);
	int table = us_mounttab_kind(path, flags);

	*done = table != 0;
	if (!table)
		return NULL;
	int fd = us_mounttab_open(path, table, flags);
	FILE *f = fd < 0 ? NULL : fdopen(fd, mode);
	if (fd >= 0 && !f) {
		int saved = errno;
		US_REAL(close)(fd);
		errno = saved;
	}
	return f;
}

US_EXPORT FILE *fopen(const char *path, const char *mode)
{
	US_SHIM_OR(US_REAL(fopen)(path, mode));
	bool table;
	FILE *tf = table_stream(path, mode, &table);
	if (table)
		return tf;
	US_TARGET(t);
	const char *p = us_path(path, fopen_map_flags(mode), t);
	return opened_stream(p ? US_REAL(fopen)(p, mode) : NULL, path, mode, t);
}

US_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	US_SHIM_OR(US_REAL(freopen)(path, mode, stream));
	US_TARGET(t);
	us_fd_closing(fileno(stream)); /* freopen closes it (internally) */
	if (!path) { /* reopens the stream's own file with a new mode */
		US_SCRATCH_SCOPE;
		struct {
			char up[US_PATH_MAX];
		} *sb = us_scratch_push(sizeof *sb);
		if (!sb)
			return NULL;
		int rc = fopen_map_flags(mode) ? us_fd_write(fileno(stream), 0, sb->up, sizeof sb->up) : 0;
		if (rc < 0)
			return NULL;
		return US_REAL(freopen)(rc ? sb->up : NULL, mode, stream);
	}
	const char *p = us_path(path, fopen_map_flags(mode), t);
	return opened_stream(p ? US_REAL(freopen)(p, mode, stream) : NULL, path,
			     mode, t);
}

US_EXPORT FILE *fopen64(const char *, const char *)
	__attribute__((alias("fopen")));
US_EXPORT FILE *freopen64(const char *, const char *, FILE *)
	__attribute__((alias("freopen")));

/* glibc's setmntent opens with its internal fopen, which no preload
 * library sees: the same open through ours (which passes through when the
 * shim is off), with glibc's additions to MODE ("c": no cancellation
 * points, "e": close on exec) and its locking. */
US_EXPORT FILE *setmntent(const char *path, const char *mode)
{
	char full[16];
	if (strlen(mode) + 3 > sizeof full) {
		errno = EINVAL;
		return NULL;
	}
	strcpy(full, mode);
	strcat(full, "ce");
	FILE *f = US_SELF(fopen)(path, full);
	if (f)
		__fsetlocking(f, FSETLOCKING_BYCALLER);
	return f;
}

US_EXPORT FILE *__setmntent(const char *, const char *)
	__attribute__((alias("setmntent")));
