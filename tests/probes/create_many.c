/* create_many: make each PATH as a program writing a new file does (open
 * O_WRONLY|O_CREAT|O_EXCL, write 4 KiB, close), in one process with no
 * other system calls between, so a trace counts a create's own calls.
 * Run by tests/bats/create_cost.bats.
 *
 * Usage: create_many PATH...
 * Prints "ERRNONAME PATH" and exits 1 when a call fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char block[4096];

	memset(block, 'x', sizeof block);
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, block, sizeof block) != (ssize_t)sizeof block ||
		    close(fd) != 0) {
			printf("%s %s\n", strerrorname_np(errno), argv[i]);
			return 1;
		}
	}
	return 0;
}
