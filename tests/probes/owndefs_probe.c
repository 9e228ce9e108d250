/* owndefs_probe: a program that defines libc's names itself, on top of
 * syscall(), as gnulib does (GNU patch exports its own renameat2): the
 * shim's syscall() door and its own libc functions (nftw, scandir, popen)
 * must reach the shim's wrappers, never these functions, or each call
 * recurses through the door until the stack runs out.
 *
 * `owndefs_probe OP PATH [ARG]`, one answer line "OP RESULT" or
 * "OP ERRNAME". Each OP calls the functions below, never libc's. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "probe_io.h"

/* ---- libc's names, defined here on top of syscall() ---- */

/* Calls of the functions below: the shim's own functions (nftw, scandir,
 * glob, popen) must never be among their callers. */
static int own_calls;

int renameat2(int olddirfd, const char *old, int newdirfd, const char *new,
	      unsigned int flags)
{
	own_calls++;
	return (int)syscall(SYS_renameat2, olddirfd, old, newdirfd, new, flags);
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	own_calls++;
	return (int)syscall(SYS_close_range, first, last, flags);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask,
	  struct statx *buf)
{
	own_calls++;
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}

int stat(const char *path, struct stat *st)
{
	own_calls++;
	return (int)syscall(SYS_stat, path, st);
}

int lstat(const char *path, struct stat *st)
{
	own_calls++;
	return (int)syscall(SYS_lstat, path, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	own_calls++;
	return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	own_calls++;
	return syscall(SYS_readlinkat, dirfd, path, buf, len);
}

int close(int fd)
{
	own_calls++;
	return (int)syscall(SYS_close, fd);
}

ssize_t getdents64(int fd, void *buf, size_t len)
{
	own_calls++;
	return syscall(SYS_getdents64, fd, buf, len);
}

/* glibc 2.36 has no openat2; gnulib-style programs write this one too */
int openat2(int dirfd, const char *path, struct open_how *how, size_t size);
int openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	own_calls++;
	return (int)syscall(SYS_openat2, dirfd, path, how, size);
}

/* ---- the probe ---- */

static const char *op;

static int fail(void)
{
	say("%s %s", op, ename(errno));
	return 0;
}

static char kind(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISREG(m) ? 'f' : '?';
}

/* Names collected, then shown in one line, sorted; "." and ".." left
 * out. */
static char *names[256];
static int nnames;

static void add_name(const char *n)
{
	if (strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && nnames < 256)
		names[nnames++] = strdup(n);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void show_names(const char *tail)
{
	static char line[8192];
	size_t o = 0;

	qsort(names, (size_t)nnames, sizeof *names, by_name);
	for (int i = 0; i < nnames && o + strlen(names[i]) + 2 < sizeof line; i++)
		o += (size_t)sprintf(line + o, "%s%s", i ? " " : "", names[i]);
	line[o] = 0;
	say("%s %s%s", op, line, tail);
}

/* For the calls that should reach only the shim: how many of this
 * program's own functions they called. */
static const char *own_tail(int before)
{
	static char tail[64];
	snprintf(tail, sizeof tail, " own-calls %d", own_calls - before);
	return tail;
}

static int list_getdents(const char *dir)
{
	char buf[4096];
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fail();
	ssize_t n;
	while ((n = getdents64(fd, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			add_name(d->d_name);
			off += d->d_reclen;
		}
	if (n < 0)
		return fail();
	close(fd);
	show_names("");
	return 0;
}

static int walked(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)flag;
	char item[512];
	snprintf(item, sizeof item, "%s:%c%lld", path + ftw->base, kind(st->st_mode),
		 S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL);
	add_name(item);
	return 0;
}

static int run(const char *path, const char *arg)
{
	struct stat st;
	struct statx sx;
	char buf[256];

	if (strcmp(op, "statx") == 0) {
		if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
			return fail();
		say("%s %c %llu", op, kind(sx.stx_mode), (unsigned long long)sx.stx_size);
	} else if (strcmp(op, "stat") == 0 || strcmp(op, "lstat") == 0 ||
		   strcmp(op, "fstatat") == 0) {
		int rc = op[0] == 's' ? stat(path, &st)
			 : op[0] == 'l' ? lstat(path, &st)
					: fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
		if (rc < 0)
			return fail();
		say("%s %c %lld", op, kind(st.st_mode), (long long)st.st_size);
	} else if (strcmp(op, "readlink") == 0) {
		ssize_t n = readlinkat(AT_FDCWD, path, buf, sizeof buf);
		if (n < 0)
			return fail();
		say("%s %s", op, esc(buf, (size_t)n));
	} else if (strcmp(op, "rename") == 0 || strcmp(op, "rename-noreplace") == 0) {
		if (renameat2(AT_FDCWD, path, AT_FDCWD, arg,
			      op[6] ? RENAME_NOREPLACE : 0) < 0)
			return fail();
		say("%s ok", op);
	} else if (strcmp(op, "close-range") == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0 || close_range((unsigned)fd, (unsigned)fd, 0) < 0)
			return fail();
		say("%s %s", op, fcntl(fd, F_GETFD) < 0 && errno == EBADF ? "closed" : "open");
	} else if (strcmp(op, "openat2") == 0) {
		struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
		int dfd = open(path, O_RDONLY | O_DIRECTORY);
		int fd = dfd < 0 ? -1 : openat2(dfd, arg, &how, sizeof how);
		if (fd < 0)
			return fail();
		ssize_t n = slurp(fd, buf, sizeof buf, BY_READ);
		if (n < 0)
			return fail();
		close(fd);
		close(dfd);
		say("%s %s", op, esc(buf, (size_t)n));
	} else if (strcmp(op, "getdents") == 0) {
		return list_getdents(path);
	} else if (strcmp(op, "nftw") == 0) {
		int before = own_calls;
		if (nftw(path, walked, 8, FTW_PHYS) < 0)
			return fail();
		show_names(own_tail(before));
	} else if (strcmp(op, "scandir") == 0) {
		struct dirent **list;
		int before = own_calls;
		int n = scandir(path, &list, NULL, alphasort);
		if (n < 0)
			return fail();
		for (int i = 0; i < n; i++) {
			add_name(list[i]->d_name);
			free(list[i]);
		}
		free(list);
		show_names(own_tail(before));
	} else if (strcmp(op, "glob") == 0) {
		glob_t g;
		char pat[512];
		int before = own_calls;
		snprintf(pat, sizeof pat, "%s/*", path);
		if (glob(pat, GLOB_MARK, NULL, &g) != 0)
			return fail();
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_name(g.gl_pathv[i] + strlen(path) + 1); /* dirs end in / */
		globfree(&g);
		show_names(own_tail(before));
	} else if (strcmp(op, "popen") == 0) {
		int before = own_calls;
		FILE *p = popen(path, "r");
		if (!p)
			return fail();
		size_t n = fread(buf, 1, sizeof buf, p);
		int status = pclose(p);
		say("%s %s status %d%s", op, esc(buf, n), status, own_tail(before));
	} else {
		say("%s unknown", op);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		say("usage: owndefs_probe OP PATH [ARG]");
		return 2;
	}
	op = argv[1];
	return run(argv[2], argc > 3 ? argv[3] : "");
}
