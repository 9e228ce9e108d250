/* forksafe_probe: the shim's locks and per-process state against forks
 * from threads and signal handlers, for tests/bats/forksafe.bats.
 *
 *   forksafe_probe fork DIR SECONDS
 *       a thread loops over union calls that take each lock of the shim
 *       (chdir between two union dirs, a merged opendir/readdir, a
 *       getdents64 through syscall(), open/dup/close, posix_spawn with a
 *       file action, popen); the main thread forks, and each child does
 *       the same calls once, checks what it reads and exits. A child that
 *       does not exit within 5 s hangs (killed, counted). Prints
 *       "forks N ok N hung 0 bad 0" when all is well.
 *   forksafe_probe signal DIR SECONDS
 *       SIGALRM every 50 us whose handler opens, reads, stats and closes
 *       union files, while the main thread loops over union calls (open,
 *       read, close, stat, chdir, opendir, fopen). Prints how many calls
 *       of each side gave a wrong answer, and whether errno of the main
 *       thread's successful calls was kept: "main N bad 0 errno 0" and
 *       "handler N bad 0". A hang is the test's timeout.
 *
 *   forksafe_probe signalwrite DIR SECONDS
 *       the same with a handler that appends "h\n" to DIR/w (a file in a
 *       lower: the append copies it up) while the main thread reads f.
 *       Prints "appended N again M bad 0 main bad 0": N appends made, M refused with
 *       EAGAIN (the handler interrupted the shim: no copy-up there).
 *   forksafe_probe spawnlocks DIR SECONDS
 *       an fd on DIR/f holds flock(LOCK_EX); threads spawn children
 *       that get the fd (and so the lock's proxy) and check that they
 *       share the lock ("flock -n FD" succeeds on the same open file
 *       description). Prints "spawns N lost 0" when every child had it.
 *
 *   forksafe_probe opens DIR N
 *       N times: open, read and close DIR/f, open and close /etc/hostname
 *       (a path outside every union), stat DIR/f; with getpid trapped
 *       (seccomp) and counted. Prints "getpid K" (K system calls made).
 *
 * DIR is a union dir holding f (the text "data\n"), sub/ (a merged dir:
 * sub/a in the upper, sub/b in a lower) and the probe's own scratch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/ucontext.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe_io.h"

static char dir[2048], fpath[2100], sub[2100];
static atomic_int stop;

/* "data\n" read through a fresh fd on f (relative to the cwd when REL) */
static int read_f(int rel)
{
	char buf[16] = {0};
	int fd = open(rel ? "f" : fpath, O_RDONLY);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int dup_fd = dup(fd);
	close(fd);
	if (dup_fd >= 0)
		close(dup_fd);
	return n == 5 && memcmp(buf, "data\n", 5) == 0;
}

/* sub/ lists a and b (merged) */
static int list_sub(void)
{
	DIR *d = opendir(sub);
	int seen = 0;
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		seen |= !strcmp(e->d_name, "a") ? 1 : !strcmp(e->d_name, "b") ? 2 : 0;
	closedir(d);
	return seen == 3;
}

static int getdents_sub(void)
{
	char buf[4096];
	int fd = open(sub, O_RDONLY | O_DIRECTORY), seen = 0;

	if (fd < 0)
		return 0;
	long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
	for (long off = 0; off < n;) {
		struct dirent64 *e = (void *)(buf + off);
		seen |= !strcmp(e->d_name, "a") ? 1 : !strcmp(e->d_name, "b") ? 2 : 0;
		off += e->d_reclen;
	}
	close(fd);
	return seen == 3;
}

static int spawn_true(void)
{
	posix_spawn_file_actions_t fa;
	char arg0[] = "true", *argv[] = {arg0, NULL};
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 5, fpath, O_RDONLY, 0);
	int rc = posix_spawn(&pid, "/bin/true", &fa, NULL, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 && waitpid(pid, &st, 0) == pid && st == 0;
}

static int popen_cat(void)
{
	char cmd[2200], buf[16] = {0};

	snprintf(cmd, sizeof cmd, "cat '%s'", fpath);
	FILE *p = popen(cmd, "r");
	if (!p)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, p);
	return pclose(p) == 0 && n == 5 && !strcmp(buf, "data\n");
}

/* Every lock of the shim once; 1 when every answer was right. */
static int round_of_calls(void)
{
	int ok = chdir(sub) == 0 && chdir(dir) == 0 && read_f(1);

	ok &= read_f(0) && list_sub() && getdents_sub();
	return ok;
}

static void *busy(void *arg)
{
	long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		round_of_calls();
		if (++n % 16 == 0)
			spawn_true();
		if (n % 64 == 0)
			popen_cat();
	}
	return NULL;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The child's status, or -1 when it did not exit within 5 s (killed). */
static int wait_child(pid_t pid)
{
	double end = now() + 5;
	int st;

	while (now() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static int fork_stress(double secs)
{
	pthread_t t;
	int forks = 0, ok = 0, hung = 0, bad = 0;
	double end = now() + secs;

	pthread_create(&t, NULL, busy, NULL);
	while (now() < end) {
		pid_t pid = fork();
		if (pid == 0) {
			int good = round_of_calls() && spawn_true();
			_exit(good ? 0 : 1);
		}
		if (pid < 0)
			break;
		forks++;
		int st = wait_child(pid);
		if (st < 0)
			hung++;
		else if (st == 0)
			ok++;
		else
			bad++;
		usleep(200);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	say("forks %d ok %d hung %d bad %d", forks, ok, hung, bad);
	return 0;
}

static volatile sig_atomic_t h_calls, h_bad;

static void on_alarm(int sig)
{
	int saved = errno;
	struct stat st;
	char buf[16];

	(void)sig;
	h_calls++;
	int fd = open(fpath, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
	if (fd < 0 || n != 5 || memcmp(buf, "data\n", 5) != 0)
		h_bad++;
	if (fd >= 0 && close(fd) != 0)
		h_bad++;
	if (stat(fpath, &st) != 0 || st.st_size != 5)
		h_bad++;
	errno = saved;
}

static int signal_stress(double secs)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 50}, {0, 50}};
	struct stat st;
	long calls = 0, bad = 0, errno_bad = 0;
	double end = now() + secs;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (now() < end) {
		errno = 1234;
		int ok = read_f(0) && stat(fpath, &st) == 0 && st.st_size == 5 &&
			 chdir(sub) == 0 && chdir(dir) == 0 && read_f(1) &&
			 list_sub();
		FILE *f = fopen(fpath, "r");
		char line[16] = {0};
		ok &= f && fgets(line, sizeof line, f) && !strcmp(line, "data\n");
		if (f)
			fclose(f);
		if (ok && errno != 1234)
			errno_bad++;
		calls++;
		bad += !ok;
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	say("main %ld bad %ld errno %ld", calls, bad, errno_bad);
	say("handler %d bad %d", (int)h_calls, (int)h_bad);
	return 0;
}

static char wpath[2100];
static volatile sig_atomic_t w_ok, w_again, w_bad;

static void on_alarm_write(int sig)
{
	int saved = errno;
	int fd = open(wpath, O_WRONLY | O_APPEND);

	(void)sig;
	if (fd >= 0) {
		if (write(fd, "h\n", 2) == 2)
			w_ok++;
		else
			w_bad++;
		close(fd);
	} else if (errno == EAGAIN) {
		w_again++;
	} else {
		w_bad++;
	}
	errno = saved;
}

static int signal_write(double secs)
{
	struct sigaction sa = {.sa_handler = on_alarm_write, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 300}, {0, 300}}, off = {{0, 0}, {0, 0}};
	struct stat st;
	long bad = 0;
	double end = now() + secs;

	snprintf(wpath, sizeof wpath, "%s/w", dir);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (now() < end)
		bad += !read_f(0) || stat(fpath, &st) != 0;
	setitimer(ITIMER_REAL, &off, NULL);
	say("appended %d again %d bad %d main bad %ld", (int)w_ok, (int)w_again,
	    (int)w_bad, bad);
	return 0;
}

static int lock_fd;
static atomic_int lost, spawns;

static void *spawn_checkers(void *arg)
{
	char fdarg[16];
	char a0[] = "flock", a1[] = "-n";
	char *argv[] = {a0, a1, fdarg, NULL};
	double end = *(double *)arg;

	snprintf(fdarg, sizeof fdarg, "%d", lock_fd);
	while (now() < end) {
		pid_t pid;
		int st;
		extern char **environ;
		if (posix_spawnp(&pid, "flock", NULL, NULL, argv, environ) != 0 ||
		    waitpid(pid, &st, 0) != pid || st != 0)
			atomic_fetch_add(&lost, 1);
		atomic_fetch_add(&spawns, 1);
	}
	return NULL;
}

static int spawn_locks(double secs)
{
	pthread_t t[4];
	double end = now() + secs;

	lock_fd = open(fpath, O_RDONLY);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0)
		return 2;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, spawn_checkers, &end);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	say("spawns %d lost %d", atomic_load(&spawns), atomic_load(&lost));
	return 0;
}

static volatile sig_atomic_t getpids;
static pid_t my_pid;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	(void)si;
	getpids++;
	uc->uc_mcontext.gregs[REG_RAX] = my_pid; /* the call's answer */
}

static int count_getpid(long n)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	struct stat st;
	long bad = 0;

	my_pid = getpid();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 2;
	for (long i = 0; i < n; i++) {
		bad += !read_f(0);
		int fd = open("/etc/hostname", O_RDONLY);
		if (fd >= 0)
			close(fd);
		bad += stat(fpath, &st) != 0;
	}
	say("getpid %d bad %ld", (int)getpids, bad);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: forksafe_probe fork|signal|signalwrite|spawnlocks DIR SECONDS | opens DIR N\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s", argv[2]);
	snprintf(fpath, sizeof fpath, "%s/f", dir);
	snprintf(sub, sizeof sub, "%s/sub", dir);
	if (chdir(dir) != 0)
		return 2;
	if (!strcmp(argv[1], "fork"))
		return fork_stress(atof(argv[3]));
	if (!strcmp(argv[1], "opens"))
		return count_getpid(atol(argv[3]));
	if (!strcmp(argv[1], "spawnlocks"))
		return spawn_locks(atof(argv[3]));
	if (!strcmp(argv[1], "signalwrite"))
		return signal_write(atof(argv[3]));
	if (!strcmp(argv[1], "signal"))
		return signal_stress(atof(argv[3]));
	return 2;
}
