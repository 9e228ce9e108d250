/* rss_probe: many calls into a union, and the peak RSS they leave.
 *
 * Usage: rss_probe DIR FILES N
 * DIR holds the files f0 ... f(FILES-1), FILES >= 1500. First it fills
 * the caches: rounds of stats over 200 names (more than the path cache's
 * first sizes) then over 1,500 (more than the lookup cache's second
 * size), each name coming back, and prints "hwm1 KIB" (VmHWM of
 * /proc/self/status). Then N rounds of: a stat of DIR/fI (I cycling over
 * all FILES), a stat of a name in no layer (a new one each round), and
 * every 16th round an open + close of DIR/fI; and prints "hwm2 KIB".
 * "ERRNONAME what" and exit 1 when a call fails. Run by
 * tests/bats/startup.bats. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe_io.h"

static int fail(const char *what)
{
	printf("%s %s\n", ename(errno), what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: rss_probe DIR FILES N\n");
		return 2;
	}
	const char *dir = argv[1];
	long files = atol(argv[2]), n = atol(argv[3]);
	char path[4096];
	struct stat st;

	if (files < 1500) {
		fprintf(stderr, "rss_probe: FILES must be 1500 or more\n");
		return 2;
	}
	static const long sets[] = {200, 1500};
	for (int k = 0; k < 2; k++)
		for (long i = 0; i < 4 * sets[k]; i++) {
			snprintf(path, sizeof path, "%s/f%ld", dir, i % sets[k]);
			if (stat(path, &st) != 0)
				return fail(path);
		}
	printf("hwm1 %ld\n", status_kib("VmHWM"));
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/f%ld", dir, i % files);
		if (stat(path, &st) != 0)
			return fail(path);
		if (i % 16 == 0) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || close(fd) != 0)
				return fail(path);
		}
		snprintf(path, sizeof path, "%s/none%ld", dir, i);
		if (stat(path, &st) == 0 || errno != ENOENT)
			return fail(path);
	}
	printf("hwm2 %ld\n", status_kib("VmHWM"));
	return 0;
}
