/* longguard.c: the lower guard (writeside.c) for a path whose canonical
 * form realpath cannot give: longer than PATH_MAX as given, or leading
 * through symlinks to a place deeper than PATH_MAX.
 *
 * The object's dir is opened in pieces (longpath.h), the object's
 * symlinks followed one at a time by fds, and the dir that holds it (the
 * object itself when it is a dir) walked up by ".." to the root; a dir met
 * on the way that is a lower dir or a hidden target dir (same st_dev and
 * st_ino) is the one the write would land in. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

/* The dir fd (O_PATH) that holds the object named by NAME in dir fd DIR
 * (closed here), the kernel following every symlink on the way and, unless
 * NOFOLLOW, the final name's too, one link at a time (at most 40, as the
 * kernel): a link's target is read and its dir opened by the kernel (each
 * piece shorter than PATH_MAX), so no canonical path is ever built. The
 * object itself when it is a dir. -1 when a piece cannot be opened (the
 * real call will report it). */
static int object_dir(int dir, const char *name, bool nofollow)
{
	US_SCRATCH_SCOPE;
	struct {
		char name[PATH_MAX];
		char link[PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat st;

	if (!sb || strlen(name) >= sizeof sb->name)
		goto fail;
	strcpy(sb->name, name);
	for (int hops = 0; hops <= 40; hops++) {
		const char *n = *sb->name ? sb->name : ".";
		if (US_REAL(fstatat)(dir, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return dir; /* a name to be made here: DIR is its dir */
		if (S_ISDIR(st.st_mode)) {
			int fd = US_REAL(openat)(dir, n, O_PATH | O_DIRECTORY |
							     O_NOFOLLOW | O_CLOEXEC);
			US_REAL(close)(dir);
			return fd;
		}
		if (!S_ISLNK(st.st_mode) || nofollow)
			return dir;
		ssize_t len = US_REAL(readlinkat)(dir, n, sb->link, sizeof sb->link - 1);
		if (len <= 0)
			goto fail;
		sb->link[len] = '\0';
		/* the link's dir part opened from DIR (or /), its last name next */
		char *slash = strrchr(sb->link, '/');
		int next;
		if (!slash) {
			strcpy(sb->name, sb->link);
			continue;
		}
		strcpy(sb->name, slash + 1);
		if (slash == sb->link)
			next = US_REAL(open)("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		else {
			*slash = '\0';
			next = US_REAL(openat)(dir, sb->link,
					       O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		US_REAL(close)(dir);
		dir = next;
		if (dir < 0)
			return -1;
	}
fail:
	US_REAL(close)(dir);
	return -1;
}

const char *us_hidden_long(const char *abs, unsigned flags)
{
	US_SCRATCH_SCOPE;
	int saved = errno;
	const char *rest;
	int split = us_long_split(AT_FDCWD, abs, PATH_MAX, &rest);
	const char *h = NULL;

	if (split == -1)
		goto out; /* the real call will report it (AT_FDCWD: fits) */
	char *buf = us_scratch_push(PATH_MAX);
	if (!buf) {
		us_long_done(split, AT_FDCWD);
		goto out;
	}
	/* REST's dir (the kernel follows every link in it), then its name */
	size_t n = strlen(rest);
	while (n > 1 && rest[n - 1] == '/')
		n--;
	size_t end = n;
	while (n > 0 && rest[n - 1] != '/')
		n--;
	memcpy(buf, rest, n);
	strcpy(buf + n, ".");
	int dir = US_REAL(openat)(split, buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	us_long_done(split, AT_FDCWD);
	if (dir < 0)
		goto out;
	memcpy(buf, rest + n, end - n);
	buf[end - n] = '\0';
	int fd = object_dir(dir, buf, flags & US_MAP_NOFOLLOW);
	if (fd >= 0)
		h = walk_up(fd);
out:
	errno = saved;
	return h;
}
