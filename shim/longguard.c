/* longguard.c: the lower guard (writeside.c) for a real path longer than
 * PATH_MAX, which realpath cannot canonicalize.
 *
 * The object (when followed and a dir) or its dir is opened in pieces
 * (longpath.h) and walked up by ".." to the root; a dir met on the way
 * that is a lower dir or a hidden target dir (same st_dev and st_ino)
 * is the one the write would land in. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/longpath.h"
#include "front.h"
#include "state.h"
#include "unionshim/scratch.h"

/* The hidden dir (us_hidden_dir's list) that is the dir ST, or NULL. */
static const char *hidden_is(const struct stat *st)
{
	struct stat h;

	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		for (int i = m->has_upper; i <= m->nlayers; i++) {
			const char *p = i < m->nlayers ? m->layers[i].path : m->target;
			if (US_REAL(stat)(p, &h) == 0 && h.st_dev == st->st_dev &&
			    h.st_ino == st->st_ino)
				return p;
		}
	}
	return NULL;
}

/* Walk up from dir fd FD (closed here) to the root. */
static const char *walk_up(int fd)
{
	struct stat st, up;

	if (US_REAL(fstat)(fd, &st) < 0)
		goto none;
	for (;;) {
		const char *h = hidden_is(&st);
		if (h) {
			US_REAL(close)(fd);
			return h;
		}
		int next = US_REAL(openat)(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		US_REAL(close)(fd);
		fd = next;
		if (fd < 0 || US_REAL(fstat)(fd, &up) < 0)
			goto none;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			goto none; /* the root */
		st = up;
	}
none:
	if (fd >= 0)
		US_REAL(close)(fd);
	return NULL;
}

const char *us_hidden_long(const char *abs, unsigned flags)
{
	int saved = errno;
	const char *rest;
	int dir = us_long_split(AT_FDCWD, abs, PATH_MAX, &rest);
	const char *h = NULL;

	if (dir < 0)
		goto out; /* the real call will report it */
	int fd = -1;
	if (!(flags & US_MAP_NOFOLLOW))
		fd = US_REAL(openat)(dir, rest, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		/* REST's dir: REST's last name cut off */
		US_SCRATCH_SCOPE;
		char *buf = us_scratch_push(PATH_MAX);
		if (!buf) {
			us_long_done(dir, AT_FDCWD);
			goto out;
		}
		size_t n = strlen(rest);
		while (n > 1 && rest[n - 1] == '/')
			n--;
		while (n > 0 && rest[n - 1] != '/')
			n--;
		memcpy(buf, rest, n);
		strcpy(buf + n, ".");
		fd = US_REAL(openat)(dir, buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	us_long_done(dir, AT_FDCWD);
	if (fd >= 0)
		h = walk_up(fd);
out:
	errno = saved;
	return h;
}
