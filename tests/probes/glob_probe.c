/* glob_probe: prints the matches of a glob pattern (GLOB_MARK: dirs end
 * in "/"), one a line, with the ROOT prefix shown as "ROOT", or
 * "rc=NOMATCH"/"rc=N" when glob fails.
 *   glob_probe ROOT PATTERN [onlydir] */
#include <glob.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	glob_t g;
	int flags = GLOB_MARK;

	if (argc < 3) {
		fprintf(stderr, "usage: glob_probe ROOT PATTERN [onlydir]\n");
		return 2;
	}
	if (argc > 3 && strcmp(argv[3], "onlydir") == 0)
		flags |= GLOB_ONLYDIR;
	size_t rl = strlen(argv[1]);
	int rc = glob(argv[2], flags, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		printf("rc=NOMATCH\n");
		return 1;
	}
	if (rc != 0) {
		printf("rc=%d\n", rc);
		return 1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		if (strncmp(p, argv[1], rl) == 0)
			printf("ROOT%s\n", p + rl);
		else
			printf("%s\n", p);
	}
	globfree(&g);
	return 0;
}
