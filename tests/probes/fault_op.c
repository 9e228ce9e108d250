/* fault_op.c: runs union operations one after another in one process and
 * answers one line for each, so faults can be injected around them
 * (tests/bats/faults.bats).
 *
 *   fault_op [--free K] DIR OP ARG... [-- OP ARG...]...
 *
 * chdir(DIR) first. OPs: write NAME (append a line), chmod NAME, stat NAME,
 * readdir DIR (every name, sorted), rename FROM TO, unlink NAME, mkdir NAME,
 * rmdir NAME, link FROM TO, getcwd,
 * exec PROG (fork, exec PROG in the child, which must print its own line),
 * sh CMD (system(), not faulted), wait FILE (until the test makes FILE,
 * having changed the world meanwhile), say TEXT, and again (the last op
 * once more if it failed, else the answer 'done before'). Answer: "ok" (stat and readdir add what they saw) or the errno name.
 *
 * Faults: with libfailmalloc.so preloaded and FAILMALLOC_NTH set, every op
 * but sh runs armed (tests/lib/failmalloc.c). With --free K, every op but
 * sh runs with only K free fds below RLIMIT_NOFILE. */
#include "probe_io.h"
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int spare[65536];
static int nspare;

static void fault_on(int freefds)
{
	void (*arm)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "failmalloc_arm");
	int fd;

	if (freefds >= 0) {
		while ((fd = fcntl(0, F_DUPFD_CLOEXEC, 0)) >= 0 && nspare < 65536)
			spare[nspare++] = fd;
		for (int i = 0; i < freefds && nspare > 0; i++)
			close(spare[--nspare]);
	}
	if (arm)
		arm();
}

static void fault_off(void)
{
	void (*disarm)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "failmalloc_disarm");

	if (disarm)
		disarm();
	while (nspare > 0)
		close(spare[--nspare]);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void do_readdir(const char *dir, char *out, size_t len)
{
	static char names[4096][256];
	static char *sorted[4096];
	struct dirent *d;
	size_t n = 0, used;
	DIR *dp = opendir(dir);
	int e;

	if (!dp) {
		snprintf(out, len, "%s", ename(errno));
		return;
	}
	errno = 0;
	while ((d = readdir(dp)) && n < 4096) {
		snprintf(names[n], sizeof names[n], "%s", d->d_name);
		sorted[n] = names[n];
		n++;
	}
	e = errno;
	closedir(dp);
	if (e) {
		snprintf(out, len, "%s", ename(e));
		return;
	}
	qsort(sorted, n, sizeof *sorted, cmp);
	used = (size_t)snprintf(out, len, "ok");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, " %s", sorted[i]);
}

static void do_exec(const char *prog, int freefds, char *out, size_t len)
{
	int st;
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(out, len, "fork: %s", ename(errno));
		return;
	}
	if (pid == 0) {
		char *argv[] = { (char *)prog, NULL };

		fault_on(freefds);
		execv(prog, argv);
		int e = errno;
		fault_off();
		say("%s", ename(e));
		_exit(1);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st))
		snprintf(out, len, "child died: signal %d", WTERMSIG(st));
}

/* Print "waiting FILE" and wait for FILE (a real path outside the union)
 * to exist: the test changes the world meanwhile. */
static void wait_for(const char *file, char *out, size_t len)
{
	struct stat st;

	say("waiting %s", file);
	for (int i = 0; i < 3000 && stat(file, &st) != 0; i++)
		usleep(10000);
	snprintf(out, len, stat(file, &st) == 0 ? "resumed" : "timeout");
}

/* One op; its answer in out, or nothing when the op's process said it. */
static void run_op(char **a, int freefds, char *out, size_t len)
{
	struct stat st;
	int r = 0, fd;

	out[0] = 0;
	if (!strcmp(a[0], "sh")) {
		r = system(a[1]);
		snprintf(out, len, r == 0 ? "ok" : "status %d", r);
		return;
	}
	if (!strcmp(a[0], "wait")) {
		wait_for(a[1], out, len);
		return;
	}
	if (!strcmp(a[0], "say")) {
		snprintf(out, len, "%s", a[1]);
		return;
	}
	if (!strcmp(a[0], "exec")) {
		do_exec(a[1], freefds, out, len);
		return;
	}
	fault_on(freefds);
	if (!strcmp(a[0], "write")) {
		fd = open(a[1], O_WRONLY | O_APPEND);
		r = fd < 0 ? -1 : 0;
		if (fd >= 0 && write(fd, "more\n", 5) != 5)
			r = -1;
		if (fd >= 0 && close(fd) != 0)
			r = -1;
	} else if (!strcmp(a[0], "chmod")) {
		r = chmod(a[1], 0600);
	} else if (!strcmp(a[0], "stat")) {
		r = stat(a[1], &st);
		if (r == 0)
			snprintf(out, len, "ok %o %lld %lu", st.st_mode, (long long)st.st_size,
				 (unsigned long)st.st_nlink);
	} else if (!strcmp(a[0], "readdir")) {
		do_readdir(a[1], out, len);
	} else if (!strcmp(a[0], "rename")) {
		r = rename(a[1], a[2]);
	} else if (!strcmp(a[0], "unlink")) {
		r = unlink(a[1]);
	} else if (!strcmp(a[0], "mkdir")) {
		r = mkdir(a[1], 0755);
	} else if (!strcmp(a[0], "rmdir")) {
		r = rmdir(a[1]);
	} else if (!strcmp(a[0], "link")) {
		r = link(a[1], a[2]);
	} else if (!strcmp(a[0], "getcwd")) {
		char *c = getcwd(NULL, 0);

		r = c ? 0 : -1;
		if (c)
			snprintf(out, len, "ok %s", c);
		free(c);
	} else {
		errno = EINVAL;
		r = -1;
	}
	int e = errno;
	fault_off();
	if (r != 0)
		snprintf(out, len, "%s", ename(e));
	else if (!out[0])
		snprintf(out, len, "ok");
}

int main(int argc, char **argv)
{
	static char out[65536];
	int freefds = -1, i = 1, last_failed = 0;
	char **last = NULL;

	if (argc > 2 && !strcmp(argv[1], "--free")) {
		freefds = atoi(argv[2]);
		i = 3;
	}
	if (i >= argc || chdir(argv[i]) != 0) {
		fprintf(stderr, "usage: fault_op [--free K] DIR OP ARG... [-- OP ARG...]...\n");
		return 2;
	}
	for (i++; i < argc;) {
		int j = i;

		while (j < argc && strcmp(argv[j], "--"))
			j++;
		argv[j < argc ? j : argc] = NULL;
		if (strcmp(argv[i], "again")) {
			run_op(argv + i, freefds, out, sizeof out);
			if (strcmp(argv[i], "wait") && strcmp(argv[i], "say")) {
				last = argv + i;
				last_failed = strncmp(out, "ok", 2) != 0;
			}
		} else if (last && last_failed) {
			run_op(last, freefds, out, sizeof out);
		} else {
			snprintf(out, sizeof out, "done before");
		}
		if (out[0])
			say("%s", out);
		i = j + 1;
	}
	return 0;
}
