/* lock_probe: takes, tests and releases file locks for
 * tests/bats/fresh_locks.bats (semantics.md "Locks": locks behave as on one
 * file across copy-up, release follows POSIX, locks survive exec). Built
 * without the shim, run under it or on a kernel overlayfs mount.
 *
 * Usage:
 *   lock_probe try PATH ro|rw KIND...
 *       Open PATH (O_RDONLY or O_RDWR: the second copies a lower file up),
 *       then for each KIND ask for that lock without waiting and print one
 *       line "KIND RESULT"; a lock granted is released at once.
 *   lock_probe forked PATH HOW KIND...
 *       Open PATH O_RDWR (a lower file is copied up), take a whole-file
 *       fcntl write lock, then make a child by HOW: "fork" (glibc's, with
 *       atfork handlers), "_Fork" (glibc's, without) or "clone" (the raw
 *       syscall). The child opens PATH O_RDWR again and for each KIND
 *       prints "HOW new KIND RESULT" as `try` does through its own fd,
 *       then "HOW inherited posix-w RESULT" through the parent's fd; a
 *       holder pid that is the parent's reads "parent".
 *   lock_probe serve
 *       A lock holder driven by the test: reads commands from stdin, one a
 *       line, and answers each with one line on stdout. EOF: exit 0.
 *         open PATH MODE      "fd N" (never O_CLOEXEC). MODE: ro, rw;
 *                             new (O_RDWR|O_CREAT|O_EXCL), fopen-w (fopen
 *                             "w"), mkstemp (PATH.XXXXXX, renamed to PATH)
 *         lock FD KIND        "locked", "busy" or "error ENAME"
 *         unlock FD KIND      "unlocked" or "error ENAME"
 *         try FD KIND         RESULT, as for `try` above
 *         dup FD              "fd N"
 *         close FD            "closed"
 *         closefrom N         "closed"  closefrom(N)
 *         close_range N       "closed"  close_range(N, ~0U, 0)
 *         dup2many FD LO HI   "closed K": dup2(FD, n) for every n in LO..HI
 *                             that is not open, then close those K fds
 *         exec                execv this program again (every fd stays
 *                             open); the new image answers "exec'd"
 *         pid                 "pid N"
 *
 * KIND: posix-r, posix-w (fcntl F_SETLK / F_GETLK, whole file), ofd-r,
 * ofd-w (F_OFD_SETLK / F_OFD_GETLK), flock-sh, flock-ex (flock with
 * LOCK_NB), lockf (lockf F_TLOCK from offset 0: a write lock, it needs a
 * writable fd); for `try` also lockf-test (lockf F_TEST only: glibc asks
 * F_GETLK for a read lock, so only another process's write lock is busy).
 * RESULT: "free" or "busy" (EAGAIN, EACCES), then for posix and ofd kinds
 * " getlk=TYPE/PID" (what F_GETLK or F_OFD_GETLK reported: F_UNLCK, or the
 * conflicting lock's type and l_pid); "error ENAME" for any other failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe_io.h"

static const char *self;
static pid_t parent_pid; /* l_pid printed as "parent" (forked) */

static const char *type_name(short t)
{
	switch (t) {
	case F_RDLCK:
		return "F_RDLCK";
	case F_WRLCK:
		return "F_WRLCK";
	case F_UNLCK:
		return "F_UNLCK";
	}
	return "?";
}

static int busy(int e)
{
	return e == EAGAIN || e == EACCES || e == EWOULDBLOCK;
}

/* fcntl-lock kinds: the get and set commands and the type; 0 for others. */
static int fcntl_kind(const char *kind, int *getcmd, int *setcmd, short *type)
{
	if (!strncmp(kind, "posix-", 6)) {
		*getcmd = F_GETLK;
		*setcmd = F_SETLK;
	} else if (!strncmp(kind, "ofd-", 4)) {
		*getcmd = F_OFD_GETLK;
		*setcmd = F_OFD_SETLK;
	} else {
		return 0;
	}
	const char *t = strchr(kind, '-') + 1;
	if (!strcmp(t, "r"))
		*type = F_RDLCK;
	else if (!strcmp(t, "w"))
		*type = F_WRLCK;
	else
		return 0;
	return 1;
}

static struct flock whole(short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl); /* l_pid 0: required by the OFD forms */
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fl;
}

/* Take (LOCK) or release (!LOCK) KIND on FD without waiting: 0, or -1 and
 * errno; -2 for an unknown kind. */
static int set_lock(int fd, const char *kind, int lock)
{
	int getcmd, setcmd;
	short type;

	if (fcntl_kind(kind, &getcmd, &setcmd, &type)) {
		struct flock fl = whole(lock ? type : F_UNLCK);
		return fcntl(fd, setcmd, &fl);
	}
	if (!strcmp(kind, "flock-sh"))
		return flock(fd, lock ? LOCK_SH | LOCK_NB : LOCK_UN);
	if (!strcmp(kind, "flock-ex"))
		return flock(fd, lock ? LOCK_EX | LOCK_NB : LOCK_UN);
	if (!strcmp(kind, "lockf")) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		return lockf(fd, lock ? F_TLOCK : F_ULOCK, 0);
	}
	return -2;
}

/* Ask for KIND on FD, report, release it if granted. */
static void try_lock(int fd, const char *kind, const char *prefix)
{
	int getcmd, setcmd;
	short type;
	char extra[128] = "";

	if (fcntl_kind(kind, &getcmd, &setcmd, &type)) {
		struct flock fl = whole(type);
		if (fcntl(fd, getcmd, &fl) < 0) {
			say("%s%serror getlk %s", prefix, *prefix ? " " : "", ename(errno));
			return;
		}
		if (fl.l_type == F_UNLCK)
			snprintf(extra, sizeof extra, " getlk=F_UNLCK");
		else if (parent_pid && fl.l_pid == parent_pid)
			snprintf(extra, sizeof extra, " getlk=%s/parent",
				 type_name(fl.l_type));
		else
			snprintf(extra, sizeof extra, " getlk=%s/%ld", type_name(fl.l_type),
				 (long)fl.l_pid);
	} else if (!strcmp(kind, "lockf-test")) {
		/* glibc asks F_GETLK for a read lock: only a write lock held
		 * by another process reads as busy */
		int rc = lseek(fd, 0, SEEK_SET) < 0 ? -1 : lockf(fd, F_TEST, 0);
		if (rc < 0 && !busy(errno))
			say("%s%serror %s", prefix, *prefix ? " " : "", ename(errno));
		else
			say("%s%s%s", prefix, *prefix ? " " : "", rc < 0 ? "busy" : "free");
		return;
	}
	int rc = set_lock(fd, kind, 1);
	if (rc == -2) {
		say("%s%serror unknown-kind", prefix, *prefix ? " " : "");
		return;
	}
	if (rc < 0) {
		if (busy(errno))
			say("%s%sbusy%s", prefix, *prefix ? " " : "", extra);
		else
			say("%s%serror %s", prefix, *prefix ? " " : "", ename(errno));
		return;
	}
	set_lock(fd, kind, 0);
	say("%s%sfree%s", prefix, *prefix ? " " : "", extra);
}

static int open_mode(const char *path, const char *mode)
{
	if (!strcmp(mode, "new")) /* made by this open, in the upper */
		return open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (!strcmp(mode, "fopen-w")) { /* made by fopen (never closed) */
		FILE *f = fopen(path, "w");
		return f ? fileno(f) : -1;
	}
	if (!strcmp(mode, "mkstemp")) { /* made by mkstemp, renamed to PATH */
		char t[4096];
		snprintf(t, sizeof t, "%s.XXXXXX", path);
		int fd = mkstemp(t);
		if (fd >= 0 && rename(t, path) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	return open(path, !strcmp(mode, "rw") ? O_RDWR : O_RDONLY);
}

static int cmd_try(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: lock_probe try PATH ro|rw KIND...\n");
		return 2;
	}
	int fd = open_mode(argv[2], argv[3]);
	if (fd < 0) {
		say("open %s", ename(errno));
		return 1;
	}
	for (int i = 4; i < argc; i++)
		try_lock(fd, argv[i], argv[i]);
	return 0;
}

static pid_t make_child(const char *how)
{
	if (!strcmp(how, "fork"))
		return fork();
	if (!strcmp(how, "_Fork"))
		return _Fork();
	if (!strcmp(how, "clone"))
		return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	errno = EINVAL;
	return -1;
}

static int cmd_forked(int argc, char **argv)
{
	struct flock fl = whole(F_WRLCK);
	char prefix[64];

	if (argc < 5) {
		fprintf(stderr, "usage: lock_probe forked PATH HOW KIND...\n");
		return 2;
	}
	int fd = open(argv[2], O_RDWR);
	if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0) {
		say("parent %s", ename(errno));
		return 1;
	}
	parent_pid = getpid();
	pid_t pid = make_child(argv[3]);
	if (pid < 0) {
		say("%s %s", argv[3], ename(errno));
		return 1;
	}
	if (pid == 0) {
		int nfd = open(argv[2], O_RDWR);
		for (int i = 4; i < argc; i++) {
			snprintf(prefix, sizeof prefix, "%s new %s", argv[3], argv[i]);
			if (nfd < 0)
				say("%s open %s", prefix, ename(errno));
			else
				try_lock(nfd, argv[i], prefix);
		}
		snprintf(prefix, sizeof prefix, "%s inherited posix-w", argv[3]);
		try_lock(fd, "posix-w", prefix);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		say("%s child failed", argv[3]);
	return 0;
}

static void dup2many(int fd, int lo, int hi)
{
	static int used[65536];
	int k = 0;

	for (int n = lo; n <= hi && k < (int)(sizeof used / sizeof used[0]); n++) {
		if (n == fd || fcntl(n, F_GETFD) >= 0)
			continue;
		if (dup2(fd, n) < 0) {
			say("error dup2 %d %s", n, ename(errno));
			for (int i = 0; i < k; i++)
				close(used[i]);
			return;
		}
		used[k++] = n;
	}
	for (int i = 0; i < k; i++) {
		if (close(used[i]) < 0) {
			say("error close %d %s", used[i], ename(errno));
			return;
		}
	}
	say("closed %d", k);
}

static int serve(void)
{
	char line[4096];

	while (read_line(line, sizeof line)) {
		char *arg[5] = {0};
		int n = 0;
		for (char *t = strtok(line, " "); t && n < 5; t = strtok(NULL, " "))
			arg[n++] = t;
		if (!n)
			continue;
		int fd = n > 1 ? atoi(arg[1]) : -1;
		const char *c = arg[0];

		if (!strcmp(c, "open") && n == 3) {
			int r = open_mode(arg[1], arg[2]);
			if (r < 0)
				say("error open %s", ename(errno));
			else
				say("fd %d", r);
		} else if (!strcmp(c, "lock") && n == 3) {
			int r = set_lock(fd, arg[2], 1);
			if (r == -2)
				say("error unknown-kind");
			else if (r < 0 && busy(errno))
				say("busy");
			else if (r < 0)
				say("error %s", ename(errno));
			else
				say("locked");
		} else if (!strcmp(c, "unlock") && n == 3) {
			if (set_lock(fd, arg[2], 0) < 0)
				say("error %s", ename(errno));
			else
				say("unlocked");
		} else if (!strcmp(c, "try") && n == 3) {
			try_lock(fd, arg[2], "");
		} else if (!strcmp(c, "dup") && n == 2) {
			int r = dup(fd);
			if (r < 0)
				say("error dup %s", ename(errno));
			else
				say("fd %d", r);
		} else if (!strcmp(c, "close") && n == 2) {
			if (close(fd) < 0)
				say("error close %s", ename(errno));
			else
				say("closed");
		} else if (!strcmp(c, "closefrom") && n == 2) {
			closefrom(fd);
			say("closed");
		} else if (!strcmp(c, "close_range") && n == 2) {
			if (close_range((unsigned)fd, ~0U, 0) < 0)
				say("error close_range %s", ename(errno));
			else
				say("closed");
		} else if (!strcmp(c, "dup2many") && n == 4) {
			dup2many(fd, atoi(arg[2]), atoi(arg[3]));
		} else if (!strcmp(c, "exec") && n == 1) {
			char *av[] = {(char *)self, (char *)"serve", (char *)"--execd", NULL};
			execv(self, av);
			say("error exec %s", ename(errno));
		} else if (!strcmp(c, "pid") && n == 1) {
			say("pid %ld", (long)getpid());
		} else {
			say("error bad-command");
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc >= 2 && !strcmp(argv[1], "try"))
		return cmd_try(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "forked"))
		return cmd_forked(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		if (self[0] != '/') {
			fprintf(stderr, "lock_probe: run me by an absolute path (serve re-executes itself)\n");
			return 2;
		}
		if (argc == 3 && !strcmp(argv[2], "--execd"))
			say("exec'd");
		return serve();
	}
	fprintf(stderr, "usage: lock_probe try PATH ro|rw KIND... | lock_probe forked PATH HOW KIND... | lock_probe serve\n");
	return 2;
}
