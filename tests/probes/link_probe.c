/* link_probe: links and writes through fds and dirfds, for entry points
 * no shell tool calls (lower_routes.bats).
 *
 * Usage: link_probe OP ARG1 ARG2; prints "ok" or the errno name.
 *   emptypath SRC NEW   linkat(open(SRC), "", NEW, AT_EMPTY_PATH)
 *   procfd SRC NEW      linkat("/proc/self/fd/N" of open(SRC), NEW,
 *                       AT_SYMLINK_FOLLOW)
 *   tmpfile DIR NEW     an O_TMPFILE in DIR holding "tmp", linked to NEW
 *                       by /proc/self/fd/N
 *   unlinkat DIR NAME   unlinkat(open(DIR), NAME)
 *   dirunlink DIR NAME  unlinkat(dirfd(opendir(DIR)), NAME)
 *   appendat DIR NAME   openat(open(DIR), NAME, O_WRONLY|O_APPEND), write "x"
 *   fchmod FILE -       fchmod(open(FILE, O_RDONLY), 0600) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe_io.h"

static int answer(int rc)
{
	printf("%s\n", rc < 0 ? ename(errno) : "ok");
	return 0;
}

static int op(const char *what, const char *a, const char *b)
{
	char proc[64];
	int fd;

	if (strcmp(what, "emptypath") == 0) {
		if ((fd = open(a, O_RDONLY)) < 0)
			return -1;
		return linkat(fd, "", AT_FDCWD, b, AT_EMPTY_PATH);
	}
	if (strcmp(what, "procfd") == 0 || strcmp(what, "tmpfile") == 0) {
		if (what[0] == 't') {
			fd = open(a, O_TMPFILE | O_RDWR, 0644);
			if (fd < 0 || write(fd, "tmp", 3) != 3)
				return -1;
		} else if ((fd = open(a, O_RDONLY)) < 0) {
			return -1;
		}
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		return linkat(AT_FDCWD, proc, AT_FDCWD, b, AT_SYMLINK_FOLLOW);
	}
	if (strcmp(what, "unlinkat") == 0 || strcmp(what, "appendat") == 0) {
		if ((fd = open(a, O_RDONLY | O_DIRECTORY)) < 0)
			return -1;
		if (what[0] == 'u')
			return unlinkat(fd, b, 0);
		int f = openat(fd, b, O_WRONLY | O_APPEND);
		return f < 0 || write(f, "x", 1) != 1 ? -1 : 0;
	}
	if (strcmp(what, "dirunlink") == 0) {
		DIR *d = opendir(a);
		return d ? unlinkat(dirfd(d), b, 0) : -1;
	}
	if (strcmp(what, "fchmod") == 0) {
		if ((fd = open(a, O_RDONLY)) < 0)
			return -1;
		return fchmod(fd, 0600);
	}
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: link_probe OP ARG1 ARG2\n");
		return 2;
	}
	return answer(op(argv[1], argv[2], argv[3]));
}
