/* upperscan.c: the one walk of an upper that was not empty when its
 * mount's #state was made (see upperscan.h): which records an earlier
 * work dir left in it. A redirect record on any dir (redirect.h) and the
 * dirs that hold objects with origin records (identity.h), each marked
 * in the state as it is found (shared.h us_shared_origins_enter), and the
 * hard-link index's entries (linkindex.h), which carry them too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kdirent.h"
#include "sys.h"
#include "upperscan.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/redirect.h"
#include "unionshim/scratch.h"
#include "unionshim/shared.h"

/* ~130 bytes of stack a level (the first process of a work dir may be a
 * thread with a 16 KiB stack): an upper deeper than this is "unsure" */
#define SCAN_DEPTH 48
/* O_NOATIME: reading the upper's dirs must not change what a program
 * sees of them (their atimes) */
#define SCAN_OPEN (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC)

struct scan {
	const struct us_mount *m;
	bool aside;        /* the work dir holds records of other kinds */
	struct us_upper_scan *out;
	char proc[64 + NAME_MAX]; /* an entry's path through /proc */
};

/* Is the origin scan still worth going on with? */
static bool origins_open(const struct scan *sc)
{
	return !sc->out->origins_unsure;
}

static bool done(const struct scan *sc)
{
	return sc->out->redirects && !origins_open(sc);
}

/* Does entry D of the dir open as FD carry an origin record? 1, 0, -1
 * (unsure). */
__attribute__((noinline)) static int entry_origin(struct scan *sc, int fd,
						const struct linux_dirent64 *d)
{
	snprintf(sc->proc, sizeof sc->proc, "/proc/self/fd/%d/%s", fd, d->d_name);
	if (d->d_type == DT_REG || d->d_type == DT_DIR || d->d_type == DT_UNKNOWN)
		return us_origin_probe_at(fd, d->d_name, sc->proc);
	return sc->aside && us_origin_aside_maybe(sc->m, d->d_ino);
}

/* The dir open as FD holds an object with a record: mark it. */
__attribute__((noinline)) static void mark(struct scan *sc, int fd, bool *marked)
{
	struct stat st;

	if (*marked)
		return;
	*marked = true;
	if (SYS(fstat)(fd, &st) < 0 ||
	    !us_shared_origins_enter(sc->m, st.st_dev, st.st_ino))
		sc->out->origins_unsure = true;
}

static void scan_dir(struct scan *sc, int fd, int depth);

/* Entry D of the dir open as FD (and, for a dir, what is below it). */
static void scan_entry(struct scan *sc, int fd, const struct linux_dirent64 *d,
		       int depth, bool *marked)
{
	if (origins_open(sc)) {
		int o = entry_origin(sc, fd, d);
		if (o < 0)
			sc->out->origins_unsure = true;
		else if (o > 0)
			mark(sc, fd, marked);
	}
	if (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)
		return;
	int c = SYS(openat)(fd, d->d_name, SCAN_OPEN);
	if (c >= 0) {
		scan_dir(sc, c, depth + 1);
	} else if (errno != ENOTDIR && errno != ELOOP && errno != ENOENT) {
		/* a dir it cannot read (or not without touching its atime) */
		sc->out->redirects = true;
		sc->out->origins_unsure = true;
	}
}

/* Scan the open dir FD (closed here) and the dirs below it. */
static void scan_dir(struct scan *sc, int fd, int depth)
{
	char val[8];
	bool marked = false;

	if (SYS(fgetxattr)(fd, US_REDIRECT_XATTR, val, sizeof val) >= 0 ||
	    errno == ERANGE || (errno != ENODATA && errno != ENOTSUP))
		sc->out->redirects = true;
	if (depth >= SCAN_DEPTH) {
		sc->out->redirects = true;
		sc->out->origins_unsure = true;
	}
	US_SCRATCH_SCOPE;
	char *buf = done(sc) ? NULL : us_scratch_push(4096);
	if (!buf && !done(sc)) {
		sc->out->redirects = true;
		sc->out->origins_unsure = true;
	}
	while (buf && !done(sc)) {
		long n = SYS(syscall)(SYS_getdents64, fd, buf, 4096);
		if (n <= 0) {
			if (n < 0) {
				sc->out->redirects = true;
				sc->out->origins_unsure = true;
			}
			break;
		}
		for (long off = 0; off < n && !done(sc);) {
			struct linux_dirent64 *d = (void *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				scan_entry(sc, fd, d, depth, &marked);
		}
	}
	SYS(close)(fd);
}

void us_upper_scan(const struct us_mount *m, struct us_upper_scan *out)
{
	int saved = errno;
	US_SCRATCH_SCOPE;
	struct scan *sc = us_scratch_push(sizeof *sc);

	out->redirects = out->origins_unsure = false;
	int fd = sc ? SYS(open)(m->layers[0].path, SCAN_OPEN & ~O_NOFOLLOW) : -1;
	if (fd < 0) {
		out->redirects = out->origins_unsure = true;
	} else {
		sc->m = m;
		sc->out = out;
		sc->aside = us_origin_aside_any(m);
		scan_dir(sc, fd, 0);
		if (!us_index_mark_origins(m))
			out->origins_unsure = true;
	}
	errno = saved;
}
