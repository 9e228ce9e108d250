/* opbench: the timed part of one measurement of tests/bench/run.
 *
 *   opbench OP ARG... -> prints one number on stdout: nanoseconds per
 *   operation (per call for call ops, per command for `run`).
 *
 * One process per measurement, started natively, on overlayfs, or under
 * the shim (through unionrun, as a user would); only the loop is timed
 * (clock_gettime around it), so the shim's start-up is not counted for
 * call ops. Every op checks its result: a benchmark of calls that fail is
 * no benchmark, so a wrong answer exits 1 with a one-line message.
 *
 *   calib N                 a fixed CPU + getppid loop (noise check)
 *   stat_hot PATH N         stat of PATH, which must exist
 *   stat_miss PATH N        stat of PATH, which must be ENOENT
 *   open_close PATH N       open(O_RDONLY) + close
 *   readdir DIR N COUNT     opendir + readdir to the end + closedir, per
 *                           listing; the listing must hold COUNT names
 *   create_4k DIR N         mkdir DIR (untimed), then N x create DIR/fI,
 *                           write 4 KiB, close
 *   copyup DIR N            open(DIR/fI, O_WRONLY) + close for I < N:
 *                           the first write-open of N lower files
 *   copy DIR N              copy DIR/fI to DIR/fI.cp (what `cp` does):
 *                           the native counterpart of copyup
 *   run DIR CMD [ARG]...    chdir DIR, run CMD (stdout into a pipe that is
 *                           drained, stderr kept), which must exit 0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *arg, int err)
{
	fprintf(stderr, "opbench: %s %s: %s\n", what, arg, err ? strerror(err) : "unexpected result");
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long count_arg(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*end || n <= 0)
		die("bad count", s, 0);
	return n;
}

static void name_of(char *buf, size_t size, const char *dir, long i, const char *suffix)
{
	if ((size_t)snprintf(buf, size, "%s/f%04ld%s", dir, i, suffix) >= size)
		die("path too long", dir, 0);
}

static volatile uint64_t sink;

static void op_calib(long n)
{
	uint64_t x = 88172645463325252u;

	for (long i = 0; i < n; i++) {
		for (int j = 0; j < 200; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		x += (uint64_t)getppid();
	}
	sink = x;
}

static void op_stat(const char *path, long n, int want_err)
{
	struct stat st;

	for (long i = 0; i < n; i++) {
		int rc = stat(path, &st);
		if (want_err ? (rc == 0 || errno != want_err) : rc != 0)
			die("stat", path, rc ? errno : 0);
	}
}

static void op_open_close(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open", path, errno);
		close(fd);
	}
}

static void op_readdir(const char *dir, long n, long want)
{
	for (long i = 0; i < n; i++) {
		DIR *d = opendir(dir);
		long count = 0;
		if (!d)
			die("opendir", dir, errno);
		errno = 0;
		while (readdir(d))
			count++;
		if (errno)
			die("readdir", dir, errno);
		closedir(d);
		if (count != want + 2) /* . and .. */
			die("readdir: wrong number of entries in", dir, 0);
	}
}

static char block[65536];

static void op_create(const char *dir, long n)
{
	char path[4096];

	for (long i = 0; i < n; i++) {
		name_of(path, sizeof path, dir, i, "");
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create", path, errno);
		if (write(fd, block, 4096) != 4096)
			die("write", path, errno);
		if (close(fd) != 0)
			die("close", path, errno);
	}
}

static void op_copyup(const char *dir, long n)
{
	char path[4096];

	for (long i = 0; i < n; i++) {
		name_of(path, sizeof path, dir, i, "");
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			die("open for writing", path, errno);
		if (close(fd) != 0)
			die("close", path, errno);
	}
}

static void copy_one(const char *from, const char *to)
{
	struct stat st;
	int in = open(from, O_RDONLY | O_CLOEXEC);

	if (in < 0 || fstat(in, &st) != 0)
		die("open", from, errno);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0)
		die("create", to, errno);
	for (;;) {
		ssize_t got = read(in, block, sizeof block);
		if (got < 0)
			die("read", from, errno);
		if (got == 0)
			break;
		if (write(out, block, (size_t)got) != got)
			die("write", to, errno);
	}
	close(in);
	if (close(out) != 0)
		die("close", to, errno);
}

static void op_copy(const char *dir, long n)
{
	char from[4096], to[4096];

	for (long i = 0; i < n; i++) {
		name_of(from, sizeof from, dir, i, "");
		name_of(to, sizeof to, dir, i, ".cp");
		copy_one(from, to);
	}
}

/* Whole command: fork+exec, stdout drained through a pipe (so tar and
 * friends really write), exit status 0 required. */
static uint64_t op_run(const char *dir, char **argv)
{
	int p[2];
	int status;

	if (chdir(dir) != 0)
		die("chdir", dir, errno);
	if (pipe(p) != 0)
		die("pipe", "", errno);
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork", argv[0], errno);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "opbench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	while (read(p[0], block, sizeof block) > 0)
		;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid", argv[0], errno);
	uint64_t t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "opbench: %s in %s: exit status %d\n", argv[0], dir,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		exit(1);
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	long n = 1;
	uint64_t t0, t1;

	if (strcmp(op, "run") == 0 && argc >= 4) {
		printf("%llu\n", (unsigned long long)op_run(argv[2], argv + 3));
		return 0;
	}
	if (strcmp(op, "calib") == 0 && argc == 3)
		n = count_arg(argv[2]);
	else if (argc == 4 || (argc == 5 && strcmp(op, "readdir") == 0))
		n = count_arg(argv[3]);
	else {
		fprintf(stderr, "usage: opbench OP ARG... (see tests/bench/opbench.c)\n");
		return 2;
	}
	if (strcmp(op, "create_4k") == 0 && mkdir(argv[2], 0755) != 0)
		die("mkdir", argv[2], errno);
	memset(block, 'x', sizeof block);

	t0 = now_ns();
	if (strcmp(op, "calib") == 0)
		op_calib(n);
	else if (strcmp(op, "stat_hot") == 0)
		op_stat(argv[2], n, 0);
	else if (strcmp(op, "stat_miss") == 0)
		op_stat(argv[2], n, ENOENT);
	else if (strcmp(op, "open_close") == 0)
		op_open_close(argv[2], n);
	else if (strcmp(op, "readdir") == 0 && argc == 5)
		op_readdir(argv[2], n, count_arg(argv[4]));
	else if (strcmp(op, "create_4k") == 0)
		op_create(argv[2], n);
	else if (strcmp(op, "copyup") == 0)
		op_copyup(argv[2], n);
	else if (strcmp(op, "copy") == 0)
		op_copy(argv[2], n);
	else
		die("unknown op", op, 0);
	t1 = now_ns();
	printf("%.1f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
