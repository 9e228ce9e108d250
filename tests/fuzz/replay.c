/* replay.c: the driver `make check` links with each fuzz target instead of
 * libFuzzer: every file of the corpus dirs (or files) named on the command
 * line goes once through LLVMFuzzerTestOneInput. A corpus that gives no
 * input fails: a replay of nothing proves nothing. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *data = malloc(n ? n : 1);
	if (!data || fread(data, 1, n, f) != n) {
		fprintf(stderr, "fuzz-replay: %s: short read\n", path);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static long replay(const char *arg)
{
	struct stat st;
	long count = 0;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(arg) < 0 ? -1 : 1;
	DIR *d = opendir(arg);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(arg) + strlen(e->d_name) + 2;
		char *p = malloc(len);
		if (!p)
			return -1;
		snprintf(p, len, "%s/%s", arg, e->d_name);
		int rc = replay_file(p);
		free(p);
		if (rc < 0)
			return -1;
		count++;
	}
	if (d)
		closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long n = replay(argv[i]);
		if (n <= 0) {
			fprintf(stderr, "fuzz-replay: %s: no input replayed\n",
				argv[i]);
			return 1;
		}
		printf("fuzz-replay: %s: %ld inputs, every property held\n",
		       argv[i], n);
	}
	return argc > 1 ? 0 : 2;
}
