/* fdmap_probe: the per-process fd map seen from outside, for
 * tests/bats/fdmap.bats (semantics.md "Fresh data", "Locks", "Processes"):
 * fds opened read-only on a lower file before another process copies it
 * up, carried through dup/dup2/dup3/F_DUPFD*, fork, vfork, exec, spawn,
 * system, popen and threads, read the copy; numbers of closed union fds
 * reused by pipes, sockets and memfds are never switched; flock and OFD
 * locks follow the open file description into a forked child. Built
 * without the shim, run under it or on a kernel overlayfs mount.
 *
 * The test drives it through stdin and stdout: every line printed is a
 * result, except "ready WHAT", after which the probe (or whichever of its
 * processes printed it) waits for one line on stdin while the test does
 * WHAT (a copy-up by another process, a lock attempt). Only one process
 * waits at a time, and stdin is read a byte at a time, so parent, children
 * and exec'd images share stdin and stdout without losing a line. Data is
 * printed escaped (\n, \0, \xHH: tests/probes/probe_io.h).
 *
 * Usage (FILE arguments name union files holding "old data\n"; the test
 * rewrites a copy to "NEW DATA\nappended\n"):
 *   fdmap_probe dups FILE...       (up to 6) per file K: an O_RDONLY fd and
 *       its dup, dup2, dup3(O_CLOEXEC), F_DUPFD, F_DUPFD_CLOEXEC; 2 bytes
 *       read through the fd, 2 through the dup; ready; then a first access
 *       through kind K (read 2, pread, fstat or lseek SEEK_CUR, by K % 4),
 *       2 bytes read through each kind starting at K, and each kind's
 *       offset, size, FD_CLOEXEC, pread and write.
 *   fdmap_probe fork F G           fds on F and G, fork; after the copy-up
 *       the child looks at F first, then the parent at F and G, then the
 *       child at G (pread, fstat).
 *   fdmap_probe forkoffset F       an fd read alternately by parent and a
 *       forked child, 2 bytes each, before and after the copy-up.
 *   fdmap_probe spawn HOW F        an O_RDONLY fd on F (2 bytes read) given
 *       to "fdmap_probe child HOW FD" started by HOW: vfork (then execv),
 *       posix_spawn, posix_spawnp (found through PATH), system, popen (its
 *       lines relayed), posix_spawn+adddup2 (the fd dup2'd to 50 by a file
 *       action, the original closed), posix_spawn+addopen (F opened at 51 by
 *       a file action), vfork+dup2 and vfork+open (the same done by the
 *       vfork child itself before execv), sh-redirect (system() of a
 *       command whose redirection 5<F the shell sets up for its child); or
 *       exec'd in place by execvp, execl, fexecve.
 *   fdmap_probe child HOW FD       pread FD; ready; pread, fstat, read.
 *   fdmap_probe manyexec F N       on F: an fd and its dup, N more fds, an
 *       fd and its dup (none O_CLOEXEC); then execl of "fdmap_probe pairs"
 *       with the numbers of the two pairs: ready; then, for each pair, 2
 *       bytes read through the fd, then 2 through its dup.
 *   fdmap_probe threads F          thread 1 holds an fd and its dup; thread
 *       2 opens F O_RDWR (the copy-up) and writes; thread 1 then looks
 *       through sendfile (no wrapper: the fd must already be switched),
 *       pread, read, fstat.
 *   fdmap_probe reuse F1 F2 F3 F4 F5 F6 [INHERITED-FD]
 *       numbers of union fds closed by close (F1), close_range (F2),
 *       closefrom (F3), dup2 over (F4), a close the shim cannot see (F5, a
 *       raw syscall instruction) taken by pipes, a socketpair and a memfd;
 *       an fd on F6 stays open as a control; INHERITED-FD was opened by the
 *       test outside the union. Ready; then what each of them reads.
 *   fdmap_probe lockmany F G N locked|unlocked
 *       N fds on G (each with a flock LOCK_SH if locked), then fd A on F
 *       with a flock LOCK_EX and an OFD read lock; execl of "fdmap_probe
 *       lockheld A": ready; close A; ready.
 *   fdmap_probe flockfork F        flock LOCK_EX and an OFD read lock through
 *       fd A, fork; parent closes A; child dups A, closes A, closes the dup;
 *       ready after each step, so the test can ask for locks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe_io.h"

static const char *self;

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	say("error %s: %s", buf, ename(e));
	_exit(1);
}

static const char *err_str(void)
{
	char *out = ring();

	snprintf(out, 64, "%s", ename(errno));
	return out;
}

/* Up to N bytes (at most 4096) read from FD by HOW (short only at EOF),
 * escaped, or the error's name. */
static const char *rd_by(int fd, size_t n, enum how how)
{
	char buf[4096];
	ssize_t got = slurp(fd, buf, n < sizeof buf ? n : sizeof buf, how);

	return got < 0 ? err_str() : esc(buf, (size_t)got);
}

/* rd: N bytes from FD's offset. prd: pread from 0 to EOF. */
static const char *rd(int fd, size_t n)
{
	return rd_by(fd, n, BY_READ);
}

static const char *prd(int fd)
{
	return rd_by(fd, 4096, BY_PREAD);
}

static const char *num(long long v)
{
	char *out = ring();

	if (v < 0)
		return err_str();
	snprintf(out, 64, "%lld", v);
	return out;
}

static const char *sz(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? err_str() : num((long long)st.st_size);
}

static const char *pos(int fd)
{
	return num((long long)lseek(fd, 0, SEEK_CUR));
}

static const char *cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? err_str() : (fl & FD_CLOEXEC) ? "1" : "0";
}

static const char *try_write(int fd)
{
	errno = 0;
	return write(fd, "x", 1) < 0 ? err_str() : "written";
}

static const char *type_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_str();
	return S_ISFIFO(st.st_mode)   ? "fifo"
	       : S_ISSOCK(st.st_mode) ? "socket"
	       : S_ISREG(st.st_mode)  ? "regular"
				      : "other";
}

/* "ready WHAT", then wait for the test's line on stdin. */
static void ready(const char *fmt, ...)
{
	char what[512], line[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	say("ready %s", what);
	if (!read_line(line, sizeof line)) {
		errno = EPIPE;
		die("no go after 'ready %s'", what);
	}
}

/* Between processes of the probe: one byte through a pipe. */
static void post(int fd)
{
	if (write(fd, "g", 1) != 1)
		die("post");
}

static void await(int fd)
{
	char c;
	ssize_t r;

	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		errno = r < 0 ? errno : EPIPE;
		die("await");
	}
}

static int open_ro(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("open %s", path);
	return fd;
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- dups ---- */

enum { NKINDS = 6 };
static const char *const kinds[NKINDS] = {"open", "dup", "dup2", "dup3(O_CLOEXEC)",
					  "F_DUPFD", "F_DUPFD_CLOEXEC"};

static int cmd_dups(int n, char **paths)
{
	int fds[NKINDS][NKINDS];

	if (n > NKINDS)
		n = NKINDS;
	for (int k = 0; k < n; k++) {
		int *f = fds[k], base = 100 + 10 * k;
		f[0] = open_ro(paths[k]);
		f[1] = dup(f[0]);
		f[2] = dup2(f[0], base);
		f[3] = dup3(f[0], base + 1, O_CLOEXEC);
		f[4] = fcntl(f[0], F_DUPFD, base + 3);
		f[5] = fcntl(f[0], F_DUPFD_CLOEXEC, base + 5);
		for (int i = 0; i < NKINDS; i++)
			if (f[i] < 0)
				die("f%d: %s", k, kinds[i]);
		if (f[2] != base || f[3] != base + 1 || f[4] != base + 3 || f[5] != base + 5) {
			errno = EINVAL;
			die("f%d: unexpected numbers %d %d %d %d", k, f[2], f[3], f[4], f[5]);
		}
		const char *r0 = rd(f[0], 2); /* in this order */
		say("f%d before: read open: %s, read dup: %s", k, r0, rd(f[1], 2));
	}
	ready("copy-up");
	for (int k = 0; k < n; k++) {
		int *f = fds[k];
		const char *v;
		static const char *const ops[4] = {"read 2", "pread", "fstat", "lseek SEEK_CUR"};
		switch (k % 4) {
		case 0: v = rd(f[k], 2); break;
		case 1: v = prd(f[k]); break;
		case 2: v = sz(f[k]); break;
		default: v = pos(f[k]); break;
		}
		say("f%d first, %s through %s: %s", k, ops[k % 4], kinds[k], v);
		for (int j = 0; j < NKINDS; j++) {
			int i = (k + j) % NKINDS;
			say("f%d read 2 through %s: %s", k, kinds[i], rd(f[i], 2));
		}
		for (int i = 0; i < NKINDS; i++) {
			const char *o = pos(f[i]); /* before anything else */
			say("f%d %s: offset %s, size %s, cloexec %s, pread %s, write %s", k,
			    kinds[i], o, sz(f[i]), cloexec(f[i]), prd(f[i]),
			    try_write(f[i]));
		}
	}
	return 0;
}

/* ---- fork ---- */

static int cmd_fork(const char *fpath, const char *gpath)
{
	int a = open_ro(fpath), b = open_ro(gpath), go[2], back[2];

	say("parent before: f %s, g %s", rd(a, 2), rd(b, 2));
	if (pipe(go) < 0 || pipe(back) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(go[1]);
		close(back[0]);
		await(go[0]);
		say("child f (first to look): pread %s, fstat %s", prd(a), sz(a));
		post(back[1]);
		await(go[0]);
		say("child g (after the parent): pread %s, fstat %s", prd(b), sz(b));
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	ready("copy-up");
	post(go[1]);
	await(back[0]);
	say("parent f (after the child): pread %s, fstat %s", prd(a), sz(a));
	say("parent g (first to look): pread %s, fstat %s", prd(b), sz(b));
	post(go[1]);
	say("child exit %d", wait_child(pid));
	return 0;
}

static int cmd_forkoffset(const char *path)
{
	int a = open_ro(path), go[2], back[2];

	if (pipe(go) < 0 || pipe(back) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(go[1]);
		close(back[0]);
		for (int i = 0; i < 2; i++) {
			await(go[0]);
			say("child read 2: %s", rd(a, 2));
			post(back[1]);
		}
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	say("parent read 2: %s", rd(a, 2));
	post(go[1]);
	await(back[0]);
	ready("copy-up");
	say("parent read 2: %s", rd(a, 2));
	post(go[1]);
	await(back[0]);
	say("parent read 2: %s", rd(a, 2));
	say("child exit %d", wait_child(pid));
	return 0;
}

/* ---- spawn, exec ---- */

/* PATH with this program's dir first, for execvp and posix_spawnp. */
static const char *base_name(void)
{
	static char dir[PATH_MAX];
	const char *slash = strrchr(self, '/');
	const char *path = getenv("PATH");
	char *np = ring();

	snprintf(dir, sizeof dir, "%.*s", (int)(slash - self), self);
	snprintf(np, 4 * 4096, "%s:%s", dir, path ? path : "/bin:/usr/bin");
	setenv("PATH", np, 1);
	return slash + 1;
}

/* A vfork child that places the fd itself before execv, as shells do for
 * redirections: FD dup2'd to 50 (the original closed), or (TO 51) a new
 * open of PATH moved to 51. The child's exit status. */
static int vfork_placing(int fd, int to, const char *path, char **av)
{
	pid_t pid = vfork();

	if (pid == 0) {
		if (to == 50) {
			if (dup2(fd, to) != to || close(fd) < 0)
				_exit(126);
		} else {
			int o = open(path, O_RDONLY);
			if (o < 0 || dup2(o, to) != to || close(o) < 0)
				_exit(126);
		}
		execv(av[0], av);
		_exit(127);
	}
	if (pid < 0)
		die("vfork");
	return wait_child(pid);
}

static int cmd_spawn(const char *how, const char *path)
{
	char fdarg[16], cmd[PATH_MAX + 64];

	if (self[0] != '/') {
		fprintf(stderr, "fdmap_probe: run me by an absolute path\n");
		return 2;
	}
	int a = open_ro(path), err = 0, st = -1;
	pid_t pid = -1;

	say("parent read 2: %s", rd(a, 2));
	snprintf(fdarg, sizeof fdarg, "%d", a);
	char *av[] = {(char *)self, (char *)"child", (char *)how, fdarg, NULL};
	snprintf(cmd, sizeof cmd, "exec '%s' child %s %d", self, how, a);

	if (!strcmp(how, "vfork")) {
		pid = vfork();
		if (pid == 0) {
			execv(self, av);
			_exit(127);
		}
		if (pid < 0)
			die("vfork");
		st = wait_child(pid);
	} else if (!strcmp(how, "vfork+dup2") || !strcmp(how, "vfork+open")) {
		int to = !strcmp(how, "vfork+dup2") ? 50 : 51;
		snprintf(fdarg, sizeof fdarg, "%d", to);
		st = vfork_placing(a, to, path, av);
	} else if (!strcmp(how, "sh-redirect")) {
		/* sh opens the file on fd 5 for a child it starts */
		snprintf(cmd, sizeof cmd, "'%s' child %s 5 5<'%s'; exit $?", self, how, path);
		st = system(cmd);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	} else if (!strcmp(how, "posix_spawn")) {
		err = posix_spawn(&pid, self, NULL, NULL, av, environ);
	} else if (!strcmp(how, "posix_spawnp")) {
		char *avp[] = {(char *)base_name(), (char *)"child", (char *)how, fdarg, NULL};
		err = posix_spawnp(&pid, avp[0], NULL, NULL, avp, environ);
	} else if (!strncmp(how, "posix_spawn+", 12)) {
		posix_spawn_file_actions_t fa;
		int to = !strcmp(how + 12, "adddup2") ? 50 : 51;
		posix_spawn_file_actions_init(&fa);
		if (to == 50) {
			err = posix_spawn_file_actions_adddup2(&fa, a, to);
			if (!err)
				err = posix_spawn_file_actions_addclose(&fa, a);
		} else {
			err = posix_spawn_file_actions_addopen(&fa, to, path, O_RDONLY, 0);
		}
		snprintf(fdarg, sizeof fdarg, "%d", to);
		if (!err)
			err = posix_spawn(&pid, self, &fa, NULL, av, environ);
		posix_spawn_file_actions_destroy(&fa);
	} else if (!strcmp(how, "system")) {
		st = system(cmd);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	} else if (!strcmp(how, "popen")) {
		char line[16384];
		FILE *p = popen(cmd, "r");
		if (!p)
			die("popen");
		while (fgets(line, sizeof line, p)) { /* relay the child's lines */
			line[strcspn(line, "\n")] = 0;
			say("%s", line);
		}
		st = pclose(p);
		st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	} else if (!strcmp(how, "execvp")) {
		char *avp[] = {(char *)base_name(), (char *)"child", (char *)how, fdarg, NULL};
		execvp(avp[0], avp);
		die("execvp");
	} else if (!strcmp(how, "execl")) {
		execl(self, self, "child", how, fdarg, (char *)NULL);
		die("execl");
	} else if (!strcmp(how, "fexecve")) {
		int pfd = open(self, O_RDONLY | O_CLOEXEC);
		if (pfd < 0)
			die("open %s", self);
		fexecve(pfd, av, environ);
		die("fexecve");
	} else {
		errno = EINVAL;
		die("unknown HOW %s", how);
	}
	if (err) {
		errno = err;
		die("%s", how);
	}
	if (pid > 0 && st == -1)
		st = wait_child(pid);
	say("%s exit %d", how, st);
	say("parent pread: %s", prd(a));
	return 0;
}

static int cmd_child(const char *how, const char *fdarg)
{
	int fd = atoi(fdarg);

	say("%s child before: pread %s", how, prd(fd));
	ready("copy-up (%s child)", how);
	const char *p = prd(fd), *st = sz(fd);
	say("%s child after: pread %s, fstat %s, read %s", how, p, st, rd(fd, 4096));
	return 0;
}

/* On PATH: a pair (an fd and its dup), N single fds, another pair (N + 2
 * open file descriptions, N + 4 fds, none close-on-exec); then exec'd in
 * place by "pairs" with the numbers of both pairs. */
static int cmd_manyexec(const char *path, int n)
{
	char s[4][16];
	int fa = open_ro(path), fb = dup(fa);

	for (int i = 0; i < n; i++)
		open_ro(path);
	int la = open_ro(path), lb = dup(la);
	if (fb < 0 || lb < 0)
		die("dup");
	say("%d fds open on the file (%d open file descriptions)", n + 4, n + 2);
	snprintf(s[0], sizeof s[0], "%d", fa);
	snprintf(s[1], sizeof s[1], "%d", fb);
	snprintf(s[2], sizeof s[2], "%d", la);
	snprintf(s[3], sizeof s[3], "%d", lb);
	execl(self, self, "pairs", s[0], s[1], s[2], s[3], (char *)NULL);
	die("execl");
}

static int cmd_pairs(char **fds)
{
	ready("copy-up");
	for (int i = 0; i < 4; i += 2) {
		int a = atoi(fds[i]), b = atoi(fds[i + 1]);
		const char *ra = rd(a, 2); /* in this order */
		say("%s pair: read 2 %s, then through its dup %s", i ? "last" : "first", ra,
		    rd(b, 2));
	}
	return 0;
}

/* ---- threads ---- */

static int t_go[2], t_back[2];
static const char *t_path;

static void *writer(void *arg)
{
	(void)arg;
	await(t_go[0]);
	int w = open(t_path, O_RDWR); /* the copy-up, in this process */
	if (w < 0 || pwrite(w, "NEW DATA\n", 9, 0) != 9 || pwrite(w, "appended\n", 9, 9) != 9)
		die("thread 2: copy-up write");
	say("thread 2: opened O_RDWR and wrote");
	post(t_back[1]);
	await(t_go[0]);
	close(w);
	return NULL;
}

/* What the kernel reads through FD from offset 0, with no wrapper on the
 * way (sendfile into a pipe). */
static const char *kernel_read(int fd)
{
	char buf[4096];
	int p[2];
	off_t off = 0;

	if (pipe(p) < 0)
		return err_str();
	ssize_t n = sendfile(p[1], fd, &off, sizeof buf);
	const char *r = n < 0 ? err_str() : NULL;
	if (n >= 0)
		n = read(p[0], buf, (size_t)n);
	if (!r)
		r = n < 0 ? err_str() : esc(buf, (size_t)n);
	close(p[0]);
	close(p[1]);
	return r;
}

static int cmd_threads(const char *path)
{
	pthread_t t;
	int a = open_ro(path), b = dup(a);

	t_path = path;
	if (b < 0 || pipe(t_go) < 0 || pipe(t_back) < 0)
		die("setup");
	const char *ra = rd(a, 2); /* in this order */
	say("thread 1 before: read A %s, read dup B %s", ra, rd(b, 2));
	if ((errno = pthread_create(&t, NULL, writer, NULL)))
		die("pthread_create");
	post(t_go[1]);
	await(t_back[0]);
	say("thread 1 after: sendfile A %s", kernel_read(a));
	const char *pa = prd(a);
	ra = rd(a, 2);
	const char *rb = rd(b, 2);
	say("thread 1 after: pread A %s, read A %s, read dup B %s, fstat B %s, write A %s",
	    pa, ra, rb, sz(b), try_write(a));
	post(t_go[1]);
	pthread_join(t, NULL);
	return 0;
}

/* ---- reuse of numbers ---- */

/* close(2) without the libc wrapper, as a program with its own syscall
 * instructions does: the shim cannot see it. */
static void unseen_close(int fd)
{
#if defined(__x86_64__)
	long rc;
	__asm__ volatile("syscall" : "=a"(rc) : "0"((long)SYS_close), "D"((long)fd)
			 : "rcx", "r11", "memory");
	(void)rc;
#else
	syscall(SYS_close, fd); /* routed through the shim: not unseen */
#endif
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("write %s", s);
}

/* Every number below the next free one is taken, so each new fd takes
 * the lowest free number, and a closed fd's number is the next one given. */
static int cmd_reuse(char **paths, int inherited)
{
	int p[2], s[2], q[2], r[2], u[2];

	/* closefrom: two fds on F3 at the top; a pipe takes both numbers */
	int f3a = open_ro(paths[2]), f3b = open_ro(paths[2]);
	say("F3 before: read %s", rd(f3a, 2));
	closefrom(f3a);
	if (pipe(r) < 0)
		die("pipe");
	say("closefrom: a pipe took both numbers: %s",
	    r[0] == f3a && r[1] == f3b ? "yes" : "no");
	put(r[1], "closefrom pipe data\n");

	int ctl = open_ro(paths[5]); /* stays open: proves the copy-ups were seen */

	/* close: two union fds on F1, both closed, a pipe takes both numbers */
	int a = open_ro(paths[0]), b = open_ro(paths[0]);
	say("F1 before: read %s", rd(a, 2));
	close(a);
	close(b);
	if (pipe(p) < 0)
		die("pipe");
	say("close: a pipe took both numbers: %s", p[0] == a && p[1] == b ? "yes" : "no");
	put(p[1], "pipe data\n");

	/* close_range: an fd on F2, its dup and another; a socketpair and a
	 * memfd (a regular file) take the three numbers */
	int c = open_ro(paths[1]), d = dup(c), e = open_ro(paths[1]);
	say("F2 before: pread %s", prd(c));
	if (d != c + 1 || e != c + 2) {
		errno = EINVAL;
		die("F2 fds %d %d %d not consecutive", c, d, e);
	}
	if (close_range((unsigned)c, (unsigned)e, 0) < 0)
		die("close_range");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		die("socketpair");
	int m = memfd_create("fdmap_probe", 0);
	if (m < 0)
		die("memfd_create");
	say("close_range: a socketpair and a memfd took the numbers: %s",
	    s[0] == c && s[1] == d && m == e ? "yes" : "no");
	put(s[1], "socket data\n");
	put(m, "memfd data\n");

	/* dup2 of a pipe over a union fd on F4 */
	int h = open_ro(paths[3]);
	say("F4 before: read %s", rd(h, 2));
	if (pipe(q) < 0 || dup2(q[0], h) != h)
		die("pipe, dup2");
	put(q[1], "dup2 pipe data\n");

	/* a close the shim does not see (F5), the number taken by a pipe */
	int x = open_ro(paths[4]);
	say("F5 before: read %s", rd(x, 2));
	unseen_close(x);
	if (pipe(u) < 0)
		die("pipe");
	say("unseen close: a pipe took the number: %s", u[0] == x ? "yes" : "no");
	put(u[1], "unseen close pipe data\n");

	ready("copy-up");
	say("control fd on F6: pread %s", prd(ctl));
	say("pipe on F3's numbers after closefrom: %s, read %s", type_of(r[0]), rd(r[0], 20));
	say("pipe on F1's numbers after close: %s, read %s", type_of(p[0]), rd(p[0], 10));
	say("socket on F2's numbers after close_range: %s, read %s", type_of(s[0]), rd(s[0], 12));
	say("memfd on F2's number after close_range: size %s, pread %s", sz(m), prd(m));
	say("pipe dup2'd over F4's fd: %s, read %s", type_of(h), rd(h, 15));
	say("pipe on F5's number after an unseen close: %s, read %s", type_of(u[0]),
	    rd(u[0], 23));
	if (inherited >= 0)
		say("fd %d from the test, on the lower file itself: pread %s, fstat %s",
		    inherited, prd(inherited), sz(inherited));
	return 0;
}

/* ---- flock across fork ---- */

static const char *lock_ofd_r(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? err_str() : "locked";
}

static int cmd_flockfork(const char *path)
{
	int a = open_ro(path), go[2];

	say("flock LOCK_EX through A: %s", flock(a, LOCK_EX | LOCK_NB) < 0 ? err_str() : "locked");
	say("F_OFD_SETLK F_RDLCK through A: %s", lock_ofd_r(a));
	if (pipe(go) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(go[1]);
		await(go[0]);
		int b = dup(a);
		say("child: dup A: %s", b < 0 ? err_str() : "ok");
		say("child: close A: %s", close(a) < 0 ? err_str() : "closed");
		ready("child holds only the dup of A");
		say("child: close the dup: %s", close(b) < 0 ? err_str() : "closed");
		ready("child closed its last fd of A (and is still running)");
		_exit(0);
	}
	close(go[0]);
	ready("parent and child hold A");
	say("parent: close A: %s", close(a) < 0 ? err_str() : "closed");
	ready("only the child holds A");
	post(go[1]);
	say("child exit %d", wait_child(pid));
	return 0;
}

/* N fds on G (each with a flock LOCK_SH when LOCKED), then fd A on F
 * with a flock LOCK_EX and an OFD read lock (none close-on-exec); then
 * exec'd in place by "lockheld A". */
static int cmd_lockmany(const char *f, const char *g, int n, int locked)
{
	char fdarg[16];

	for (int i = 0; i < n; i++) {
		int o = open_ro(g);
		if (locked && flock(o, LOCK_SH | LOCK_NB) < 0)
			die("flock");
	}
	int a = open_ro(f);
	say("%d other fds open%s; flock LOCK_EX through A: %s", n,
	    locked ? ", each with a flock" : "",
	    flock(a, LOCK_EX | LOCK_NB) < 0 ? err_str() : "locked");
	say("F_OFD_SETLK F_RDLCK through A: %s", lock_ofd_r(a));
	snprintf(fdarg, sizeof fdarg, "%d", a);
	execl(self, self, "lockheld", fdarg, (char *)NULL);
	die("execl");
}

static int cmd_lockheld(const char *fdarg)
{
	int a = atoi(fdarg);

	ready("exec'd, A still open");
	say("close A: %s", close(a) < 0 ? err_str() : "closed");
	ready("A closed (the program still runs)");
	return 0;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc >= 3 && !strcmp(argv[1], "dups"))
		return cmd_dups(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "fork"))
		return cmd_fork(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "forkoffset"))
		return cmd_forkoffset(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		return cmd_spawn(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "child"))
		return cmd_child(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "manyexec"))
		return cmd_manyexec(argv[2], atoi(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "pairs"))
		return cmd_pairs(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "threads"))
		return cmd_threads(argv[2]);
	if ((argc == 8 || argc == 9) && !strcmp(argv[1], "reuse"))
		return cmd_reuse(argv + 2, argc == 9 ? atoi(argv[8]) : -1);
	if (argc == 6 && !strcmp(argv[1], "lockmany"))
		return cmd_lockmany(argv[2], argv[3], atoi(argv[4]), !strcmp(argv[5], "locked"));
	if (argc == 3 && !strcmp(argv[1], "lockheld"))
		return cmd_lockheld(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "flockfork"))
		return cmd_flockfork(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of fdmap_probe.c\n");
	return 2;
}
