/* copyup_open: open one path with the flags named on the command line and
 * optionally write a text, the way no shell redirect can (O_WRONLY without
 * O_TRUNC, O_RDONLY|O_TRUNC, O_RDWR alone). Run under the shim by
 * tests/bats/copyup*.bats.
 *
 * Usage: copyup_open PATH FLAGS [TEXT]; FLAGS is a comma list of rdonly,
 * wronly, rdwr, trunc, append, creat, excl. Prints "ERRNONAME" and exits 1
 * when the open or the write fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_flags(char *spec)
{
	int flags = 0;

	for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
		if (!strcmp(tok, "rdonly"))
			flags |= O_RDONLY;
		else if (!strcmp(tok, "wronly"))
			flags |= O_WRONLY;
		else if (!strcmp(tok, "rdwr"))
			flags |= O_RDWR;
		else if (!strcmp(tok, "trunc"))
			flags |= O_TRUNC;
		else if (!strcmp(tok, "append"))
			flags |= O_APPEND;
		else if (!strcmp(tok, "creat"))
			flags |= O_CREAT;
		else if (!strcmp(tok, "excl"))
			flags |= O_EXCL;
		else {
			fprintf(stderr, "copyup_open: unknown flag %s\n", tok);
			exit(2);
		}
	}
	return flags;
}

static int fail(void)
{
	const char *e = strerrorname_np(errno);

	printf("%s\n", e ? e : "?");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: copyup_open PATH FLAGS [TEXT]\n");
		return 2;
	}
	int fd = open(argv[1], parse_flags(argv[2]), 0644);
	if (fd < 0)
		return fail();
	if (argc == 4) {
		size_t len = strlen(argv[3]);
		if (write(fd, argv[3], len) != (ssize_t)len)
			return fail();
	}
	if (close(fd) < 0)
		return fail();
	return 0;
}
