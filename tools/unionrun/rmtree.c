/* rmtree.c: removing the dirs unionrun made (a discarded or empty temp
 * dir) or emptying a user's upper and work dir for --discard. Nothing is
 * followed: symlinks are removed as links, and the walk stays below the
 * dir it was given (openat with O_NOFOLLOW at every level). A dir the
 * owner may not write (a copied-up 0555 dir) is made writable first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionrun.h"

static int empty_at(int fd);

/* Remove NAME in dir FD, whatever it is. */
static int remove_at(int fd, const char *name)
{
	if (unlinkat(fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0 && errno == EACCES && fchmodat(fd, name, 0700, 0) == 0)
		sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return -1;
	int rc = empty_at(sub);
	close(sub);
	return rc < 0 ? -1 : unlinkat(fd, name, AT_REMOVEDIR);
}

/* Remove everything in the dir open at FD (FD is consumed by fdopendir's
 * dup, not closed). */
static int empty_at(int fd)
{
	struct stat st;
	int rc = 0;

	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		fchmod(fd, st.st_mode | 0700);
	int dfd = dup(fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_at(fd, e->d_name) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int ur_empty_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int rc = empty_at(fd);
	close(fd);
	return rc;
}

int ur_rmtree(const char *path)
{
	return remove_at(AT_FDCWD, path);
}
