/* fresh_probe: reads through fds opened before a copy-up, and read-only
 * access that must copy nothing, for tests/bats/fresh_locks.bats
 * (semantics.md "Fresh data", "No needless copy-up"). Built without the
 * shim, run under it or on a kernel overlayfs mount. Data is printed
 * escaped: \n for a newline, \0 for NUL, \xHH for other unprintable bytes.
 *
 * Usage:
 *   fresh_probe same PATH
 *       One process: fd A (O_RDONLY, read to EOF), fd P (O_RDONLY, unused)
 *       and an unbuffered stdio stream F (read to EOF) on PATH; then a
 *       copy-up through a new O_RDWR fd (pwrite "NEW" at 0) and an
 *       O_WRONLY|O_APPEND fd ("appended\n"). Prints one "name: value" line
 *       per look through the older fds, then one after a second pwrite.
 *   fresh_probe write PATH OFF TEXT
 *       open O_RDWR (a copy-up) and pwrite TEXT at OFF.
 *   fresh_probe readonly DIR
 *       Read-only calls on DIR/f (a non-empty file), DIR/link (a symlink to
 *       f) and DIR/sub (a dir), one "call: ok" or "call: ENAME" line each.
 *   fresh_probe serve
 *       A reader driven by the test: commands on stdin, one a line, one
 *       answer line each on stdout. EOF: exit 0.
 *         open PATH             "fd N" (O_RDONLY, never O_CLOEXEC)
 *         read FD               "data D": read from the offset to EOF
 *         readv FD              the same through readv (two iovecs)
 *         pread FD              "data D": pread from 0 to EOF
 *         seekread FD           lseek(FD, 0, SEEK_SET), then as read
 *         sendfile FD           "data D": sendfile from 0 into a pipe
 *         seekend FD            "size N": lseek(FD, 0, SEEK_END)
 *         fstat FD              "size N": fstat's st_size
 *         mmap FD shared|private LEN   "data D": LEN bytes of a new
 *                               PROT_READ mapping of FD (then unmapped)
 *         exec                  execv this program again (fds stay open);
 *                               the new image answers "exec'd"
 *         pid                   "pid N" */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "probe_io.h"

static const char *self;

static void say_data(const char *prefix, int fd, enum how how)
{
	char buf[4096];
	ssize_t n = slurp(fd, buf, sizeof buf, how);

	if (n < 0)
		say("%s%s", prefix, ename(errno));
	else
		say("%s%s", prefix, esc(buf, (size_t)n));
}

/* What sendfile from offset 0 of FD into a pipe carries. */
static void say_sent(const char *prefix, int fd)
{
	char buf[4096];
	int p[2];
	off_t off = 0;

	if (pipe(p) < 0) {
		say("%s%s", prefix, ename(errno));
		return;
	}
	ssize_t n = sendfile(p[1], fd, &off, sizeof buf);
	int err = errno;
	close(p[1]);
	if (n >= 0)
		n = read(p[0], buf, (size_t)n);
	close(p[0]);
	if (n < 0)
		say("%s%s", prefix, ename(err));
	else
		say("%s%s", prefix, esc(buf, (size_t)n));
}

static void say_map(const char *prefix, int fd, int flags, size_t len)
{
	char *m = mmap(NULL, len, PROT_READ, flags, fd, 0);

	if (m == MAP_FAILED) {
		say("%smmap %s", prefix, ename(errno));
		return;
	}
	say("%s%s", prefix, esc(m, len));
	munmap(m, len);
}

static void say_size(const char *prefix, long long size)
{
	if (size < 0)
		say("%s%s", prefix, ename(errno));
	else
		say("%s%lld", prefix, size);
}

static long long fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? -1 : (long long)st.st_size;
}

static int cmd_same(const char *path)
{
	char buf[4096];

	int a = open(path, O_RDONLY);
	int p = open(path, O_RDONLY);
	FILE *f = fopen(path, "r");
	if (a < 0 || p < 0 || !f) {
		say("open %s", ename(errno));
		return 1;
	}
	setvbuf(f, NULL, _IONBF, 0); /* no stdio buffer may hide the result */
	say_data("before read A: ", a, BY_READ);
	size_t n = fread(buf, 1, sizeof buf, f);
	say("before fread: %s", esc(buf, n));

	int w = open(path, O_RDWR); /* the copy-up */
	if (w < 0 || pwrite(w, "NEW", 3, 0) != 3) {
		say("copy-up write %s", ename(errno));
		return 1;
	}
	int ap = open(path, O_WRONLY | O_APPEND);
	if (ap < 0 || write(ap, "appended\n", 9) != 9) {
		say("append %s", ename(errno));
		return 1;
	}
	close(ap);
	long long size = fd_size(w);

	say_data("pread P: ", p, BY_PREAD);
	say_size("fstat P: ", fd_size(p));
	say_data("read A (continued): ", a, BY_READ);
	say_size("lseek A SEEK_END: ", (long long)lseek(a, 0, SEEK_END));
	if (lseek(a, 0, SEEK_SET) < 0)
		say("lseek A: %s", ename(errno));
	say_data("lseek A 0, read: ", a, BY_READ);
	if (fseek(f, 0, SEEK_SET) < 0)
		say("fseek: %s", ename(errno));
	n = fread(buf, 1, sizeof buf, f);
	say("fseek F 0, fread: %s", esc(buf, n));
	say_map("mmap P shared: ", p, MAP_SHARED, size > 0 ? (size_t)size : 1);
	say_map("mmap A private: ", a, MAP_PRIVATE, size > 0 ? (size_t)size : 1);
	errno = 0;
	say("write A: %s", write(a, "x", 1) < 0 ? ename(errno) : "written");
	if (pwrite(w, "N3W", 3, 0) != 3)
		say("second pwrite %s", ename(errno));
	say_data("pread P after a second pwrite: ", p, BY_PREAD);
	fclose(f);
	return 0;
}

static int cmd_write(const char *path, const char *off, const char *text)
{
	int fd = open(path, O_RDWR);
	size_t len = strlen(text);

	if (fd < 0 || pwrite(fd, text, len, atol(off)) != (ssize_t)len || close(fd) < 0) {
		say("write %s", ename(errno));
		return 1;
	}
	return 0;
}

static const char *dir;

static const char *in(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof buf[0], "%s/%s", dir, name);
	return b;
}

static void report(const char *what, long rc)
{
	say("%s: %s", what, rc < 0 ? ename(errno) : "ok");
}

/* The fd-taking calls on a fresh O_RDONLY fd of DIR/f. */
static void with_fd(const char *what, int (*call)(int))
{
	int fd = open(in("f"), O_RDONLY);

	if (fd < 0) {
		report(what, -1);
		return;
	}
	report(what, call(fd));
	close(fd);
}

static int do_flock(int fd)
{
	return flock(fd, LOCK_SH | LOCK_NB);
}

static int do_posix_rdlock(int fd)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};

	return fcntl(fd, F_SETLK, &fl);
}

static int do_ofd_rdlock(int fd)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};

	return fcntl(fd, F_OFD_SETLK, &fl);
}

static int do_getlk(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	return fcntl(fd, F_GETLK, &fl);
}

static int do_fadvise(int fd)
{
	int e = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);

	errno = e;
	return e ? -1 : 0;
}

static int cmd_readonly(void)
{
	struct stat st;
	struct statx stx;
	char buf[PATH_MAX];
	int fd;

	report("stat", stat(in("f"), &st));
	report("lstat", lstat(in("link"), &st));
	report("fstatat", fstatat(AT_FDCWD, in("link"), &st, 0));
	report("statx", statx(AT_FDCWD, in("f"), 0, STATX_ALL, &stx));
	report("access F_OK", access(in("f"), F_OK));
	report("access R_OK", access(in("f"), R_OK));
	report("access W_OK", access(in("f"), W_OK));
	report("faccessat W_OK AT_EACCESS", faccessat(AT_FDCWD, in("f"), W_OK, AT_EACCESS));
	report("access W_OK dir", access(in("sub"), W_OK));
	report("readlink", readlink(in("link"), buf, sizeof buf));
	report("realpath", realpath(in("link"), buf) ? 0 : -1);
	report("getxattr", getxattr(in("f"), "user.k", buf, sizeof buf));
	report("listxattr", listxattr(in("f"), buf, sizeof buf));

	fd = open(in("f"), O_RDONLY);
	report("open O_RDONLY, read", fd < 0 ? -1 : read(fd, buf, sizeof buf));
	if (fd >= 0)
		close(fd);
	fd = open(in("f"), O_RDONLY | O_CREAT, 0600);
	report("open O_RDONLY|O_CREAT of an existing file", fd);
	if (fd >= 0)
		close(fd);
	fd = open(in("f"), O_PATH);
	report("open O_PATH", fd);
	if (fd >= 0)
		close(fd);
	/* changes through an O_PATH fd: the kernel's EBADF, nothing copied */
	struct timespec now2[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	fd = open(in("f"), O_PATH);
	report("fchmod of an O_PATH fd", fchmod(fd, 0600));
	report("fchown of an O_PATH fd", fchown(fd, getuid(), getgid()));
	report("fsetxattr of an O_PATH fd", fsetxattr(fd, "user.k", "w", 1, 0));
	report("fremovexattr of an O_PATH fd", fremovexattr(fd, "user.k"));
	report("futimens of an O_PATH fd", futimens(fd, now2));
	report("ftruncate of an O_PATH fd", ftruncate(fd, 0));
	if (fd >= 0)
		close(fd);
	fd = open(in("f"), O_RDONLY);
	report("ftruncate of an O_RDONLY fd", ftruncate(fd, 0));
	if (fd >= 0)
		close(fd);
	fd = open(in("sub"), O_RDONLY | O_DIRECTORY);
	report("open dir O_RDONLY", fd);
	if (fd >= 0)
		close(fd);

	FILE *f = fopen(in("f"), "r");
	report("fopen r, fgets", f && fgets(buf, sizeof buf, f) ? 0 : -1);
	if (f)
		fclose(f);
	f = fopen(in("f"), "re");
	report("fopen re, fread", f && fread(buf, 1, 1, f) == 1 ? 0 : -1);
	if (f)
		fclose(f);

	DIR *d = opendir(dir);
	int entries = 0;
	while (d && readdir(d))
		entries++;
	report("opendir, readdir", d && entries > 2 ? 0 : -1);
	if (d)
		closedir(d);
	d = opendir(in("sub"));
	report("opendir sub", d ? 0 : -1);
	if (d)
		closedir(d);

	with_fd("flock LOCK_SH on an O_RDONLY fd", do_flock);
	with_fd("F_SETLK F_RDLCK on an O_RDONLY fd", do_posix_rdlock);
	with_fd("F_OFD_SETLK F_RDLCK on an O_RDONLY fd", do_ofd_rdlock);
	with_fd("F_GETLK on an O_RDONLY fd", do_getlk);
	with_fd("posix_fadvise", do_fadvise);

	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	report("chdir sub", chdir(in("sub")));
	report("getcwd", getcwd(buf, sizeof buf) ? 0 : -1);
	if (cwd >= 0 && fchdir(cwd) == 0)
		close(cwd);
	return 0;
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

		if (!strcmp(c, "open") && n == 2) {
			int r = open(arg[1], O_RDONLY);
			if (r < 0)
				say("error open %s", ename(errno));
			else
				say("fd %d", r);
		} else if (!strcmp(c, "read") && n == 2) {
			say_data("data ", fd, BY_READ);
		} else if (!strcmp(c, "readv") && n == 2) {
			say_data("data ", fd, BY_READV);
		} else if (!strcmp(c, "pread") && n == 2) {
			say_data("data ", fd, BY_PREAD);
		} else if (!strcmp(c, "seekread") && n == 2) {
			if (lseek(fd, 0, SEEK_SET) < 0)
				say("error lseek %s", ename(errno));
			else
				say_data("data ", fd, BY_READ);
		} else if (!strcmp(c, "sendfile") && n == 2) {
			say_sent("data ", fd);
		} else if (!strcmp(c, "seekend") && n == 2) {
			say_size("size ", (long long)lseek(fd, 0, SEEK_END));
		} else if (!strcmp(c, "fstat") && n == 2) {
			say_size("size ", fd_size(fd));
		} else if (!strcmp(c, "mmap") && n == 4) {
			int flags = !strcmp(arg[2], "shared") ? MAP_SHARED : MAP_PRIVATE;
			say_map("data ", fd, flags, (size_t)atol(arg[3]));
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
	if (argc == 3 && !strcmp(argv[1], "same"))
		return cmd_same(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "readonly")) {
		dir = argv[2];
		return cmd_readonly();
	}
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		if (self[0] != '/') {
			fprintf(stderr, "fresh_probe: run me by an absolute path (serve re-executes itself)\n");
			return 2;
		}
		if (argc == 3 && !strcmp(argv[2], "--execd"))
			say("exec'd");
		return serve();
	}
	fprintf(stderr, "usage: fresh_probe same PATH | write PATH OFF TEXT | readonly DIR | serve\n");
	return 2;
}
