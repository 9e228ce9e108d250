/* spawn_actions: posix_spawn a program after the file actions named on
 * the command line, in order, and report how it went.
 *
 *   spawn_actions ACTION... -- PROG [ARG...]
 *   chdir:DIR        addchdir_np(DIR)
 *   fchdir:DIR       addfchdir_np on an fd this process opens on DIR
 *   fchdirfd:N       addfchdir_np(N) (an fd an earlier action opened)
 *   opendir:N:DIR    addopen(N, DIR, O_RDONLY | O_DIRECTORY)
 *   append:N:FILE    addopen(N, FILE, O_WRONLY | O_CREAT | O_APPEND, 0644)
 *   trunc:N:FILE     addopen(N, FILE, O_WRONLY | O_TRUNC)
 *   read:N:FILE      addopen(N, FILE, O_RDONLY)
 *   dup2:A:B         adddup2(A, B)
 *   seen:FILE        no action: FILE is stat'ed by this process now and
 *                    once the child ended ("seen FILE: yes|no, then ...")
 *
 * Prints "ACTION: ERRNO" for an action that fails, then "spawn: ERRNO",
 * or, once the child ended, "spawn: OK, exit=N". */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe_io.h"

extern char **environ;

static const char *seen_path;
static const char *seen_before;

static const char *seen(void)
{
	struct stat st;

	return stat(seen_path, &st) == 0 ? "yes" : "no";
}

static int add(posix_spawn_file_actions_t *fa, const char *action)
{
	char kind[16], arg[4096];
	int n = 0;

	if (sscanf(action, "%15[^:]:%4095[^\n]", kind, arg) != 2)
		return EINVAL;
	if (strcmp(kind, "chdir") == 0)
		return posix_spawn_file_actions_addchdir_np(fa, arg);
	if (strcmp(kind, "fchdir") == 0) {
		int fd = open(arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? errno : posix_spawn_file_actions_addfchdir_np(fa, fd);
	}
	if (strcmp(kind, "seen") == 0) {
		seen_path = action + 5;
		seen_before = seen();
		return 0;
	}
	if (strcmp(kind, "fchdirfd") == 0)
		return posix_spawn_file_actions_addfchdir_np(fa, atoi(arg));
	if (strcmp(kind, "dup2") == 0) {
		int a, b;
		if (sscanf(arg, "%d:%d", &a, &b) != 2)
			return EINVAL;
		return posix_spawn_file_actions_adddup2(fa, a, b);
	}
	char *path = strchr(arg, ':');
	if (!path)
		return EINVAL;
	*path++ = '\0';
	n = atoi(arg);
	if (strcmp(kind, "opendir") == 0)
		return posix_spawn_file_actions_addopen(fa, n, path,
							O_RDONLY | O_DIRECTORY, 0);
	if (strcmp(kind, "append") == 0)
		return posix_spawn_file_actions_addopen(
			fa, n, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (strcmp(kind, "trunc") == 0)
		return posix_spawn_file_actions_addopen(fa, n, path,
							O_WRONLY | O_TRUNC, 0);
	if (strcmp(kind, "read") == 0)
		return posix_spawn_file_actions_addopen(fa, n, path, O_RDONLY, 0);
	return EINVAL;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	int i = 1, err, st;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	for (; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((err = add(&fa, argv[i])) != 0)
			say("%s: %s", argv[i], ename(err));
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: spawn_actions ACTION... -- PROG [ARG...]\n");
		return 2;
	}
	err = posix_spawn(&pid, argv[i + 1], &fa, NULL, argv + i + 1, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		say("spawn: %s", ename(err));
		return 1;
	}
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	/* after the child's own output, whose order is then fixed */
	say("spawn: OK, exit=%d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (seen_path)
		say("seen %s: %s, then %s", seen_path, seen_before, seen());
	return 0;
}
