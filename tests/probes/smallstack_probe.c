/* smallstack_probe: every family of union operations on a small stack,
 * for tests/bats/smallstack.bats (style.md rule 13: a thread with a
 * 32 KiB stack must be able to call anything).
 *
 *   smallstack_probe ops DIR KIB [USED]
 *       runs the operations below in a pthread whose stack is KIB KiB
 *       (its guard page turns an overflow into SIGSEGV), those on files
 *       and names below USED KiB of the thread's own frames (0: none),
 *       the execs at its top: stat, lstat and
 *       fstatat of DIR/deep/.../file; open+read of DIR/f; an append to
 *       DIR/w (a lower file with xattrs: a copy-up); create; mkdir;
 *       rename; unlink of a lower file (a whiteout); readdir and getdents64
 *       of the merged dir DIR/m; chdir+getcwd; realpath; symlink+readlink;
 *       link of a lower file, link and unlink of lower hard links (the
 *       link index); set/get/listxattr; posix_spawn, fork+execv
 *       (from inside the small thread: the child runs on that stack too),
 *       popen and system. Prints "ok NAME" or "FAIL NAME: why" per
 *       operation, then "done N failed" (N operations).
 *   smallstack_probe signal DIR SECONDS
 *       the main thread loops over union calls (stat, open/read/close,
 *       opendir/readdir, a copy-up-free realpath) while SIGALRM, every
 *       500 us, runs on a 16 KiB sigaltstack a handler that stats the deep
 *       file, opens, reads and closes DIR/f, and reads a symlink. Prints
 *       "main N bad 0 handler M bad 0".
 *   smallstack_probe vfork DIR N
 *       N times: vfork, and the child execs "test -f DIR/f" (the exec puts the
 *       plan and the child's environment in the scratch it shares with
 *       its parent, and never returns to pop it). Prints "vforks N ok K":
 *       every child must have run, so the parent's scratch is whole.
 *   smallstack_probe threads DIR N
 *       N threads one after another, each statting DIR/f (the shim maps
 *       its per-thread scratch) and joined. Prints the mappings and the
 *       mapped size of the process after a warm-up and after the N:
 *       "maps A B vmkib C D".
 *
 * DIR is a union holding: f ("data\n"), deep/1/2/3/4/5/6/7/8/file, w (a
 * lower file "w\n" with user.a and user.b), gone (a lower file), m/ (a
 * merged dir: m/u in the upper, m/l in a lower, m/l2 in the other lower),
 * lnk -> f, and h1, h2: hard links of one lower file. The probe adds new,
 * nd/, ln2, hard, h3. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

extern char **environ;

static const char *dir;
static int failed, count;

/* DIR/REL into a buffer of the caller's (static: nothing big on the small
 * stack but what the shim puts there). */
static char *at(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, rel);
	return buf;
}

static char p1[PATH_MAX], p2[PATH_MAX], got[PATH_MAX], cmd[PATH_MAX + 64];

static void report(const char *name, int ok, const char *why)
{
	count++;
	if (ok) {
		printf("ok %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: %s (%s)\n", name, why, strerror(errno));
	}
	fflush(stdout);
}

#define CHECK(name, cond, why) report(name, (cond), why)

static int file_is(const char *path, const char *want)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

static int child_ok(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

static void ops_stat(void)
{
	struct stat st;
	const char *deep = "deep/1/2/3/4/5/6/7/8/file";

	CHECK("stat", stat(at(p1, deep), &st) == 0 && S_ISREG(st.st_mode), "deep file");
	CHECK("lstat", lstat(at(p1, "lnk"), &st) == 0 && S_ISLNK(st.st_mode), "lnk");
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK("fstatat", d >= 0 && fstatat(d, deep, &st, 0) == 0 && S_ISREG(st.st_mode),
	      "deep file from the dir's fd");
	if (d >= 0)
		close(d);
	CHECK("access", access(at(p1, deep), R_OK) == 0, "deep file");
}

static void ops_files(void)
{
	CHECK("open+read", file_is(at(p1, "f"), "data\n"), "f");

	int fd = open(at(p1, "w"), O_WRONLY | O_APPEND);
	CHECK("copy-up", fd >= 0 && write(fd, "x\n", 2) == 2 && close(fd) == 0 &&
	      file_is(p1, "w\nx\n"), "append to the lower file w");
	char v[16] = {0};
	CHECK("copy-up xattrs", getxattr(p1, "user.a", v, sizeof v) == 1 && v[0] == 'A' &&
	      getxattr(p1, "user.b", v, sizeof v) == 1 && v[0] == 'B', "w's xattrs");

	fd = open(at(p1, "new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK("create", fd >= 0 && write(fd, "n\n", 2) == 2 && close(fd) == 0, "new");
	CHECK("mkdir", mkdir(at(p1, "nd"), 0755) == 0, "nd");
	CHECK("rename", rename(at(p1, "new"), at(p2, "nd/new")) == 0 &&
	      file_is(p2, "n\n"), "new to nd/new");
	CHECK("rename lower", rename(at(p1, "gone"), at(p2, "nd/was-gone")) == 0 &&
	      access(p1, F_OK) < 0 && errno == ENOENT, "gone to nd/was-gone");
	CHECK("unlink lower", unlink(at(p1, "nd/was-gone")) == 0 &&
	      access(p1, F_OK) < 0, "nd/was-gone");
	CHECK("unlink whiteout", unlink(at(p1, "m/l2")) == 0 && access(p1, F_OK) < 0,
	      "m/l2 (a lower file)");
	CHECK("truncate", truncate(at(p1, "nd/new"), 1) == 0, "nd/new");
}

static void ops_dirs(void)
{
	DIR *d = opendir(at(p1, "m"));
	int seen = 0;
	struct dirent *e;

	while (d && (e = readdir(d)))
		seen |= !strcmp(e->d_name, "u") ? 1 : !strcmp(e->d_name, "l") ? 2 : 0;
	if (d)
		closedir(d);
	CHECK("readdir", seen == 3, "m lists u and l");

	static char buf[8192];
	int fd = open(p1, O_RDONLY | O_DIRECTORY);
	long n = fd < 0 ? -1 : syscall(SYS_getdents64, fd, buf, sizeof buf);
	seen = 0;
	for (long off = 0; off < n;) {
		struct dirent64 *g = (void *)(buf + off);
		seen |= !strcmp(g->d_name, "u") ? 1 : !strcmp(g->d_name, "l") ? 2 : 0;
		off += g->d_reclen;
	}
	if (fd >= 0)
		close(fd);
	CHECK("getdents64", seen == 3, "m lists u and l");

	int back = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("chdir+getcwd", chdir(p1) == 0 && getcwd(got, sizeof got) &&
	      !strcmp(got, p1) && file_is("l", "l\n"), "m as the cwd");
	if (back >= 0) {
		fchdir(back);
		close(back);
	}
	CHECK("realpath", realpath(at(p1, "deep/1/../1/2/../../../f"), got) &&
	      !strcmp(got, at(p2, "f")), "deep/1/../1/2/../../../f");
}

static void ops_links(void)
{
	ssize_t n;

	CHECK("symlink+readlink", symlink("f", at(p1, "ln2")) == 0 &&
	      (n = readlink(p1, got, sizeof got)) == 1 && got[0] == 'f', "ln2 -> f");
	struct stat a, b;
	CHECK("link", link(at(p1, "f"), at(p2, "hard")) == 0 && stat(p1, &a) == 0 &&
	      stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 2,
	      "hard link of the lower f");
	CHECK("link indexed", link(at(p1, "h1"), at(p2, "h3")) == 0 && stat(p1, &a) == 0 &&
	      stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 3,
	      "h3, a link of the lower hard link h1");
	CHECK("unlink indexed", unlink(at(p1, "h2")) == 0 && stat(at(p2, "h1"), &a) == 0 &&
	      a.st_nlink == 2, "h2, a lower hard link");
	at(p1, "nd/new");
	char v[8] = {0};
	CHECK("xattr", setxattr(p1, "user.k", "v", 1, 0) == 0 &&
	      getxattr(p1, "user.k", v, sizeof v) == 1 && v[0] == 'v' &&
	      listxattr(p1, got, sizeof got) > 0 && removexattr(p1, "user.k") == 0,
	      "set/get/list/remove on nd/new");
}

static void ops_exec(void)
{
	char arg0[] = "cat", *argv[] = {arg0, at(p1, "f"), NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	CHECK("posix_spawn", posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ) == 0 &&
	      child_ok(pid), "cat f");
	CHECK("posix_spawnp", posix_spawnp(&pid, "cat", &fa, NULL, argv, environ) == 0 &&
	      child_ok(pid), "cat f");
	posix_spawn_file_actions_destroy(&fa);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv("/bin/cat", argv);
		_exit(111);
	}
	CHECK("fork+execv", child_ok(pid), "cat f in a child of the small thread");

	snprintf(cmd, sizeof cmd, "cat '%s'", p1);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(got, 1, 5, p) : 0;
	CHECK("popen", p && pclose(p) == 0 && n == 5 && !memcmp(got, "data\n", 5), "cat f");
	snprintf(cmd, sizeof cmd, "test -f '%s'", at(p1, "deep/1/2/3/4/5/6/7/8/file"));
	CHECK("system", system(cmd) == 0, "test -f deep file");
}

static void ops_files_and_names(void)
{
	ops_stat();
	ops_files();
	ops_dirs();
	ops_links();
}

/* LEFT KiB of frames of the program's own, then the calls on files and
 * names (not the execs: a child's exec path is the deepest the shim has). */
static __attribute__((noinline)) void below_frames(int left)
{
	volatile char pad[1000];

	pad[0] = (char)left;
	if (left > 0)
		below_frames(left - 1);
	else
		ops_files_and_names();
	pad[1] = pad[0]; /* the frame stays live across the call */
}

static int used_kib;

static void *ops_thread(void *arg)
{
	(void)arg;
	below_frames(used_kib);
	ops_exec();
	return NULL;
}

/* A thread with a stack of KIB KiB running FN. */
static int run_small(size_t kib, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	pthread_t t;

	pthread_attr_init(&a);
	if (pthread_attr_setstacksize(&a, kib * 1024) != 0 ||
	    pthread_create(&t, &a, fn, arg) != 0) {
		perror("smallstack_probe: thread");
		return -1;
	}
	pthread_attr_destroy(&a);
	return pthread_join(t, NULL);
}

static int cmd_ops(size_t kib)
{
	if (run_small(kib, ops_thread, NULL) < 0)
		return 2;
	printf("done %d failed %d\n", count, failed);
	return failed ? 1 : 0;
}

/* The signal half: what the handler does must be async-signal-safe. */
static char hdeep[PATH_MAX], hf[PATH_MAX], hlnk[PATH_MAX];
static atomic_long hcalls, hbad;

static void on_alarm(int sig)
{
	int saved = errno;
	struct stat st;
	char buf[8];

	(void)sig;
	hcalls++;
	if (stat(hdeep, &st) < 0 || !S_ISREG(st.st_mode))
		hbad++;
	int fd = open(hf, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof buf) != 5 || memcmp(buf, "data\n", 5))
		hbad++;
	if (fd >= 0)
		close(fd);
	if (readlink(hlnk, buf, sizeof buf) != 1 || buf[0] != 'f')
		hbad++;
	errno = saved;
}

static int cmd_signal(int seconds)
{
	static char alt[16 * 1024];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	struct sigaction sa = {.sa_handler = on_alarm,
			       .sa_flags = SA_RESTART | SA_ONSTACK};
	struct itimerval it = {{0, 500}, {0, 500}}, off = {{0, 0}, {0, 0}};
	long calls = 0, bad = 0;

	at(hdeep, "deep/1/2/3/4/5/6/7/8/file");
	at(hf, "f");
	at(hlnk, "lnk");
	if (sigaltstack(&ss, NULL) < 0) {
		perror("smallstack_probe: sigaltstack");
		return 2;
	}
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	time_t end = time(NULL) + seconds;
	while (time(NULL) < end) {
		struct stat st;
		calls++;
		if (stat(hdeep, &st) < 0)
			bad++;
		if (!file_is(hf, "data\n"))
			bad++;
		DIR *d = opendir(at(p1, "m"));
		int n = 0;
		while (d && readdir(d))
			n++;
		if (!d || n != 5) /* ., .., u, l, l2 */
			bad++;
		if (d)
			closedir(d);
		if (!realpath(at(p1, "deep/1/../../f"), got))
			bad++;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	printf("main %ld bad %ld handler %ld bad %ld\n", calls, bad, (long)hcalls,
	       (long)hbad);
	return 0;
}

/* The vfork half. */
static int cmd_vfork(long n)
{
	char arg0[] = "test", arg1[] = "-f", *argv[] = {arg0, arg1, at(p1, "f"), NULL};
	long ok = 0;

	for (long i = 0; i < n; i++) {
		pid_t pid = vfork();
		if (pid == 0) {
			execve("/usr/bin/test", argv, environ);
			_exit(111);
		}
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("vforks %ld ok %ld\n", n, ok);
	return 0;
}

/* The threads half. */
static void *stat_once(void *arg)
{
	struct stat st;

	return stat((const char *)arg, &st) == 0 ? NULL : (void *)1;
}

static long count_maps(long *vmkib)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof line, f))
		n++;
	if (f)
		fclose(f);
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %ld", vmkib) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static int run_threads(long n, char *path)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		if (pthread_create(&t, NULL, stat_once, path) != 0 ||
		    pthread_join(t, &ret) != 0 || ret) {
			fprintf(stderr, "smallstack_probe: thread %ld failed\n", i);
			return -1;
		}
	}
	return 0;
}

static int cmd_threads(long n)
{
	long kib0 = 0, kib1 = 0;

	at(p1, "f");
	if (run_threads(100, p1) < 0)
		return 2;
	long maps0 = count_maps(&kib0);
	if (run_threads(n, p1) < 0)
		return 2;
	long maps1 = count_maps(&kib1);
	printf("maps %ld %ld vmkib %ld %ld\n", maps0, maps1, kib0, kib1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: smallstack_probe ops|signal|vfork|threads DIR N [USED]\n");
		return 2;
	}
	used_kib = argc == 5 ? atoi(argv[4]) : 0;
	dir = argv[2];
	long n = atol(argv[3]);
	if (!strcmp(argv[1], "ops"))
		return cmd_ops((size_t)n);
	if (!strcmp(argv[1], "signal"))
		return cmd_signal((int)n);
	if (!strcmp(argv[1], "vfork"))
		return cmd_vfork(n);
	if (!strcmp(argv[1], "threads"))
		return cmd_threads(n);
	fprintf(stderr, "smallstack_probe: unknown mode %s\n", argv[1]);
	return 2;
}
