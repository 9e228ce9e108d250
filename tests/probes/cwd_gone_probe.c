/* cwd_gone_probe: getcwd after the cwd's dir was removed, renamed or
 * removed and made again by another process.
 *
 * cwd_gone_probe ROOT DIR CMD: chdir to ROOT/DIR, run CMD with sh -c from
 * ROOT (another process), then print "CMD: getcwd PATH" (PATH relative
 * to ROOT) or "CMD: getcwd ERROR". For cwd_gone.bats, on the shim and on
 * kernel overlayfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[4096], cmd[8192];

	if (argc != 4 || chdir(argv[1]) || chdir(argv[2])) {
		perror("chdir");
		return 2;
	}
	snprintf(cmd, sizeof cmd, "cd '%s' && %s", argv[1], argv[3]);
	if (system(cmd) != 0)
		printf("%s: failed\n", argv[3]);
	errno = 0;
	const char *p = getcwd(buf, sizeof buf);
	int e = errno;
	size_t rl = strlen(argv[1]);
	printf("%s: getcwd %s\n", argv[3],
	       !p ? strerror(e) : strncmp(p, argv[1], rl) == 0 ? p + rl : p);
	return 0;
}
