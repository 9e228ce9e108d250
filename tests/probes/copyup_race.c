/* copyup_race: one of many processes that copy up one lower file at the
 * same instant (tests/bats/copyup_concurrency.bats). Each waits until the
 * barrier file exists (polling every 50 us, so all start within a fraction
 * of a millisecond), then does one write-like call on PATH.
 *
 * Usage: copyup_race BARRIER OP PATH ARG
 *   append TEXT   open O_WRONLY|O_APPEND, write TEXT and a newline
 *   chmod MODE    chmod(PATH, octal MODE)
 *   utime SECS    utimensat: atime and mtime SECS
 * Exits 0, or prints "OP ERRNONAME" and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *op)
{
	const char *e = strerrorname_np(errno);

	printf("%s %s\n", op, e ? e : "?");
	return 1;
}

int main(int argc, char **argv)
{
	struct timespec pause = {0, 50000};
	struct stat st;
	int rc = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: copyup_race BARRIER OP PATH ARG\n");
		return 2;
	}
	const char *op = argv[2], *path = argv[3], *arg = argv[4];
	for (int i = 0; stat(argv[1], &st) < 0; i++) {
		if (i > 400000) {
			fprintf(stderr, "copyup_race: no barrier\n");
			return 2;
		}
		nanosleep(&pause, NULL);
	}
	if (!strcmp(op, "append")) {
		char line[4096];
		int n = snprintf(line, sizeof line, "%s\n", arg);
		int fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) < 0)
			return fail(op);
	} else if (!strcmp(op, "chmod")) {
		rc = chmod(path, (mode_t)strtol(arg, NULL, 8));
	} else if (!strcmp(op, "utime")) {
		struct timespec ts[2] = {{atol(arg), 0}, {atol(arg), 0}};
		rc = utimensat(AT_FDCWD, path, ts, 0);
	} else {
		fprintf(stderr, "copyup_race: unknown op %s\n", op);
		return 2;
	}
	return rc < 0 ? fail(op) : 0;
}
