/* vfork_cwd_probe: a vfork child's chdir and fchdir are the child's own.
 *
 * vfork_cwd_probe DIR SUB: from DIR (chdir'd to first), a vfork child
 * chdirs to SUB (then, a second child, fchdirs to an fd on SUB), makes a
 * file by a relative name and execs sh, which prints its cwd (relative to
 * DIR) and lists it; the parent, resumed, prints its own cwd and makes a
 * file by a relative name too. Python's subprocess with cwd= does the
 * first; a chdir there moved the parent's cwd under the shim (both share
 * memory, not the kernel cwd). Prints one line per step. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static void parent_side(const char *what, pid_t p)
{
	char buf[4096];
	int st = 0;

	waitpid(p, &st, 0);
	const char *cwd = getcwd(buf, sizeof buf);
	size_t dl = strlen(dir);
	printf("%s: child status %d, parent cwd %s\n", what,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	       !cwd ? "(none)" : strncmp(cwd, dir, dl) == 0 ? cwd[dl] ? cwd + dl : "." : cwd);
	fflush(stdout);
	char name[64];
	snprintf(name, sizeof name, "parent-after-%s", what);
	int fd = open(name, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
}

static void child_side(const char *made)
{
	int fd = open(made, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		_exit(5);
	close(fd);
	execl("/bin/sh", "sh", "-c",
	      "echo \"  child cwd: ${PWD#$0}\" \"$(/bin/pwd | sed \"s|^$0||\")\"; ls | sed 's/^/  /'",
	      dir, (char *)NULL);
	_exit(4);
}

int main(int argc, char **argv)
{
	if (argc != 3 || chdir(argv[1]) != 0)
		return 2;
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	int sub = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (sub < 0)
		return 2;

	pid_t p = vfork();
	if (p == 0) {
		if (chdir(argv[2]) != 0)
			_exit(3);
		child_side("made-by-chdir-child");
	}
	parent_side("chdir", p);

	p = vfork();
	if (p == 0) {
		if (fchdir(sub) != 0)
			_exit(3);
		child_side("made-by-fchdir-child");
	}
	parent_side("fchdir", p);
	return 0;
}
