/* spawn_run: start a program with posix_spawn or posix_spawnp, with
 * optional file actions, and report how it ended.
 *
 *   spawn_run [-u] [-e NAME=VALUE] [-d DIR] [-i FILE] MODE PROG [ARG...]
 *   -u       drop the shim's variables from the environment first
 *   -e NAME=VALUE  put it into the environment the program gets
 *   -d DIR   posix_spawn_file_actions_addchdir_np(DIR)
 *   -i FILE  posix_spawn_file_actions_addopen(0, FILE, O_RDONLY)
 *   MODE     spawn | spawnp
 *
 * Prints "exit=N", or "error=<message>" when the spawn fails. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	int i = 1, err = 0, st;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-u") == 0) {
			unsetenv("LD_PRELOAD");
			unsetenv("UNIONSHIM_MOUNTS");
		} else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
			putenv(argv[++i]);
		} else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			err = posix_spawn_file_actions_addchdir_np(&fa, argv[++i]);
		} else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
			err = posix_spawn_file_actions_addopen(&fa, 0, argv[++i],
							       O_RDONLY, 0);
		}
		if (err) {
			printf("action error=%s\n", strerror(err));
			return 1;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: spawn_run [-u] [-e NAME=VALUE] [-d DIR] [-i FILE] MODE PROG [ARG...]\n");
		return 2;
	}
	fflush(stdout);
	if (strcmp(argv[i], "spawnp") == 0)
		err = posix_spawnp(&pid, argv[i + 1], &fa, NULL, argv + i + 1,
				   environ);
	else
		err = posix_spawn(&pid, argv[i + 1], &fa, NULL, argv + i + 1,
				  environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		printf("error=%s\n", strerror(err));
		return 1;
	}
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	printf("exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
