/* exec_run: run a program through one of the exec entry points, after
 * optionally dropping the shim's variables (-u) or the whole environment
 * (-c), to show that the child still sees the union, or after setting
 * a variable (-e NAME=VALUE), which the new program gets.
 *
 *   exec_run [-u] [-c] [-e NAME=VALUE] MODE PROG [ARG...]
 *   MODE: execve execv execvp execvpe execl execle execlp fexecve execveat
 *         system popen (PROG is then the shell command)
 *
 * On failure it prints "errno=<message>" and exits 127. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const vars[] = {"LD_PRELOAD", "UNIONSHIM_MOUNTS",
				   "UNIONSHIM_CWD", NULL};

static int fail(void)
{
	printf("errno=%s\n", strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-u") == 0)
			for (int k = 0; vars[k]; k++)
				unsetenv(vars[k]);
		else if (strcmp(argv[i], "-c") == 0)
			clearenv();
		else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc)
			putenv(argv[++i]);
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: exec_run [-u] [-c] [-e NAME=VALUE] MODE PROG [ARG...]\n");
		return 2;
	}
	const char *mode = argv[i], *prog = argv[i + 1];
	char **args = argv + i + 1;
	fflush(stdout);
	if (strcmp(mode, "execve") == 0) {
		execve(prog, args, environ);
	} else if (strcmp(mode, "execv") == 0) {
		execv(prog, args);
	} else if (strcmp(mode, "execvp") == 0) {
		execvp(prog, args);
	} else if (strcmp(mode, "execvpe") == 0) {
		execvpe(prog, args, environ);
	} else if (strcmp(mode, "execl") == 0) {
		execl(prog, prog, args[1], (char *)NULL);
	} else if (strcmp(mode, "execle") == 0) {
		execle(prog, prog, args[1], (char *)NULL, environ);
	} else if (strcmp(mode, "execlp") == 0) {
		execlp(prog, prog, args[1], (char *)NULL);
	} else if (strcmp(mode, "fexecve") == 0) {
		int fd = open(prog, O_RDONLY);
		if (fd < 0)
			return fail();
		fexecve(fd, args, environ);
	} else if (strcmp(mode, "execveat") == 0) {
		execveat(AT_FDCWD, prog, args, environ, 0);
	} else if (strcmp(mode, "system") == 0) {
		int st = system(prog);
		printf("status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	} else if (strcmp(mode, "popen") == 0) {
		char line[4096];
		FILE *f = popen(prog, "r");
		if (!f)
			return fail();
		while (fgets(line, sizeof line, f))
			printf("popen: %s", line);
		int st = pclose(f);
		printf("status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	} else {
		fprintf(stderr, "exec_run: unknown mode %s\n", mode);
		return 2;
	}
	return fail();
}
