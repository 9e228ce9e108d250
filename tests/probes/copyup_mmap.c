/* copyup_mmap: read-only access that must copy nothing up (semantics.md
 * "Copy-up", "No needless copy-up"): an O_RDONLY fd mapped MAP_SHARED
 * PROT_READ, MAP_PRIVATE PROT_READ|PROT_WRITE (then written), and
 * MAP_PRIVATE PROT_READ made writable with mprotect (then written). The
 * private writes must stay private: a fresh open still reads the original.
 *
 * Usage: copyup_mmap PATH (a non-empty file). Prints "ok" or what failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct stat st;
	char first, again;

	if (argc != 2) {
		fprintf(stderr, "usage: copyup_mmap PATH\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
		return fail("open");
	size_t len = (size_t)st.st_size;

	char *shared = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (shared == MAP_FAILED)
		return fail("mmap shared read");
	first = shared[0];

	char *priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED)
		return fail("mmap private write");
	priv[0] = (char)~first;
	memset(priv + len / 2, 'P', len - len / 2);
	if (msync(priv, len, MS_SYNC) < 0)
		return fail("msync private");

	char *late = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (late == MAP_FAILED)
		return fail("mmap private read");
	if (mprotect(late, len, PROT_READ | PROT_WRITE) < 0)
		return fail("mprotect");
	late[len - 1] = (char)~late[len - 1];

	if (shared[0] != first) {
		printf("a private write reached the shared mapping\n");
		return 1;
	}
	munmap(shared, len);
	munmap(priv, len);
	munmap(late, len);
	close(fd);

	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, &again, 1) != 1)
		return fail("reopen");
	if (again != first) {
		printf("a private write reached the file\n");
		return 1;
	}
	close(fd);
	printf("ok\n");
	return 0;
}
