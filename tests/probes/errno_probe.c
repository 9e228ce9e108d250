/* errno_probe: a successful call leaves errno as it found it, for every
 * function the shim exports (shim/wrapfuncs.def, WRAP and OWN entries).
 *
 * Usage: errno_probe TARGET ; errno_probe --child (an exec'd image: exit
 * status = errno at the start of main, which the shim's constructor must
 * leave at 0 as a native start does).
 *
 * TARGET is the union of tests/bats/errno.bats: the tool_layers stack plus
 * cu/fN (lower2 files with user.probe, N = 1..), cu/lN (lower2 symlinks to
 * fN), cud/eN (empty lower2 dirs), wN (lower2 files whited out in the top
 * lower, overlayfs form), dir/sub with user.probe, dangling (a symlink to
 * nothing), bin/errno_probe (this program), lib/libprobe.so. Each case
 * takes fresh objects, so every call takes the shim's work path: lookup in
 * a lower layer, copy-up, whiteout, merge, fd-map moves, exec.
 *
 * Per call one line: "ok NAME OBJ", "BAD NAME OBJ errno=E" (succeeded but
 * changed errno), or "FAIL NAME OBJ E" (the call itself failed: the
 * scenario is wrong). errno is set to a sentinel no call ever sets. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/swap.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <mntent.h>
extern FILE *__setmntent(const char *, const char *); /* no header declares it */
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/acct.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

extern pid_t __vfork(void); /* glibc exports it; no header declares it */

#include "probe_io.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* readdir_r */

/* Old ABI entry points (compat symbols) and fortified forms. */
int __xstat(int, const char *, struct stat *);
int __xstat64(int, const char *, struct stat64 *);
int __lxstat(int, const char *, struct stat *);
int __lxstat64(int, const char *, struct stat64 *);
int __fxstat(int, int, struct stat *);
int __fxstat64(int, int, struct stat64 *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __fxstatat64(int, int, const char *, struct stat64 *, int);
int __xmknod(int, const char *, mode_t, dev_t *);
int __xmknodat(int, int, const char *, mode_t, dev_t *);
__asm__(".symver __xstat,__xstat@GLIBC_2.2.5");
__asm__(".symver __xstat64,__xstat64@GLIBC_2.2.5");
__asm__(".symver __lxstat,__lxstat@GLIBC_2.2.5");
__asm__(".symver __lxstat64,__lxstat64@GLIBC_2.2.5");
__asm__(".symver __fxstat,__fxstat@GLIBC_2.2.5");
__asm__(".symver __fxstat64,__fxstat64@GLIBC_2.2.5");
__asm__(".symver __fxstatat,__fxstatat@GLIBC_2.4");
__asm__(".symver __fxstatat64,__fxstatat64@GLIBC_2.4");
__asm__(".symver __xmknod,__xmknod@GLIBC_2.2.5");
__asm__(".symver __xmknodat,__xmknodat@GLIBC_2.4");
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off_t, size_t);
ssize_t __readlink_chk(const char *, char *, size_t, size_t);
ssize_t __readlinkat_chk(int, const char *, char *, size_t, size_t);
char *__getcwd_chk(char *, size_t, size_t);
char *__realpath_chk(const char *, char *, size_t);
int lchmod(const char *, mode_t);
int eaccess(const char *, int);
int euidaccess(const char *, int);
FTS64 *fts64_open(char *const *, int, int (*)(const FTSENT64 **, const FTSENT64 **));
FTSENT64 *fts64_read(FTS64 *);
FTSENT64 *fts64_children(FTS64 *, int);
int fts64_set(FTS64 *, FTSENT64 *, int);
int fts64_close(FTS64 *);

#define SENT 4242 /* no errno value: a change is never a coincidence */

static const char *T;
static int nfresh, nlink_, nwh, nempty;

static void report_want(const char *name, const char *obj, int ok, int err, int want)
{
	if (!ok)
		say("FAIL %s %s %s", name, obj, ename(err));
	else if (err != want)
		say("BAD %s %s errno=%s", name, obj, ename(err));
	else
		say("ok %s %s", name, obj);
}

static void report(const char *name, const char *obj, int ok, int err)
{
	report_want(name, obj, ok, err, SENT);
}

/* Set the sentinel, evaluate OK (a success test of the one call under
 * test), report what errno is then. */
#define CHECK(name, obj, okexpr)                                              \
	do {                                                                   \
		errno = SENT;                                                  \
		int ok_ = (okexpr);                                            \
		report(name, obj, ok_, errno);                                 \
	} while (0)

/* Paths in the union, from a ring of buffers. */
static char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *P(const char *fmt, ...)
{
	static char bufs[16][4096];
	static int k;
	char *b = bufs[k++ % 16];
	char rel[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	snprintf(b, 4096, "%s/%s", T, rel);
	return b;
}

static char *fresh(void) { return P("cu/f%d", ++nfresh); }           /* lower2 file */
static char *fresh_link(void) { return P("cu/l%d", ++nlink_); }      /* lower2 symlink */
static char *fresh_wh(void) { return P("w%d", ++nwh); }              /* whited-out name */
static char *fresh_empty(void) { return P("cud/e%d", ++nempty); }    /* lower2 empty dir */
static char *newname(const char *tag) { return P("new_%s", tag); }   /* no such name */

/* An fd open on a lower2 file that another name has since copied up: the
 * next read-side call on it moves it to the copy (shim/fdmap/fresh.c). */
static int stale_fd(int flags)
{
	char *p = fresh();
	int fd = open(p, flags);

	if (fd < 0 || chmod(p, 0644) < 0) {
		say("FAIL setup %s %s", p, ename(errno));
		exit(1);
	}
	return fd;
}

static FILE *stale_file(void)
{
	char *p = fresh();
	FILE *f = fopen(p, "r");

	if (!f || chmod(p, 0644) < 0) {
		say("FAIL setup %s %s", p, ename(errno));
		exit(1);
	}
	return f;
}

static void open_family(void)
{
	int fd;
	char buf[64];

	CHECK("open", "lower2", (fd = open(fresh(), O_RDONLY)) >= 0); close(fd);
	CHECK("open", "copyup", (fd = open(fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("open", "whiteout", (fd = open(fresh_wh(), O_CREAT | O_WRONLY, 0644)) >= 0); close(fd);
	CHECK("open64", "lower2", (fd = open64(fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("openat", "lower2", (fd = openat(AT_FDCWD, fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("openat", "whiteout", (fd = openat(AT_FDCWD, fresh_wh(), O_CREAT | O_EXCL | O_WRONLY, 0644)) >= 0); close(fd);
	CHECK("openat64", "lower2", (fd = openat64(AT_FDCWD, fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("__open_2", "lower2", (fd = __open_2(fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("__open64_2", "lower2", (fd = __open64_2(fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("__openat_2", "lower2", (fd = __openat_2(AT_FDCWD, fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("__openat64_2", "lower2", (fd = __openat64_2(AT_FDCWD, fresh(), O_RDWR)) >= 0); close(fd);
	CHECK("creat", "whiteout", (fd = creat(fresh_wh(), 0644)) >= 0); close(fd);
	CHECK("creat", "lower2", (fd = creat(fresh(), 0644)) >= 0); close(fd);
	CHECK("creat64", "whiteout", (fd = creat64(fresh_wh(), 0644)) >= 0); close(fd);
	CHECK("truncate", "lower2", truncate(fresh(), 2) == 0);
	CHECK("truncate64", "lower2", truncate64(fresh(), 2) == 0);

	FILE *f;
	CHECK("fopen", "lower2", (f = fopen(fresh(), "r")) != NULL); fclose(f);
	CHECK("fopen", "copyup", (f = fopen(fresh(), "r+")) != NULL); fclose(f);
	CHECK("fopen", "whiteout", (f = fopen(fresh_wh(), "w")) != NULL); fclose(f);
	CHECK("fopen64", "lower2", (f = fopen64(fresh(), "a")) != NULL); fclose(f);
	f = fopen(P("up_only"), "r");
	CHECK("freopen", "lower2", (f = freopen(fresh(), "r+", f)) != NULL);
	CHECK("freopen64", "lower2", (f = freopen64(fresh(), "r", f)) != NULL); fclose(f);

	strcpy(buf, P("cu/tXXXXXX"));
	CHECK("mkstemp", "lowerdir", (fd = mkstemp(buf)) >= 0); close(fd);
	strcpy(buf, P("cu/uXXXXXX"));
	CHECK("mkstemp64", "lowerdir", (fd = mkstemp64(buf)) >= 0); close(fd);
	strcpy(buf, P("cu/vXXXXXX"));
	CHECK("mkostemp", "lowerdir", (fd = mkostemp(buf, O_CLOEXEC)) >= 0); close(fd);
	strcpy(buf, P("cu/wXXXXXX"));
	CHECK("mkostemp64", "lowerdir", (fd = mkostemp64(buf, O_CLOEXEC)) >= 0); close(fd);
	strcpy(buf, P("cu/xXXXXXX.c"));
	CHECK("mkstemps", "lowerdir", (fd = mkstemps(buf, 2)) >= 0); close(fd);
	strcpy(buf, P("cu/yXXXXXX.c"));
	CHECK("mkstemps64", "lowerdir", (fd = mkstemps64(buf, 2)) >= 0); close(fd);
	strcpy(buf, P("cu/zXXXXXX.c"));
	CHECK("mkostemps", "lowerdir", (fd = mkostemps(buf, 2, 0)) >= 0); close(fd);
	strcpy(buf, P("cu/aXXXXXX.c"));
	CHECK("mkostemps64", "lowerdir", (fd = mkostemps64(buf, 2, 0)) >= 0); close(fd);
	strcpy(buf, P("cu/dXXXXXX"));
	CHECK("mkdtemp", "lowerdir", mkdtemp(buf) != NULL);

	dev_t dev = 0;
	CHECK("mknod", "whiteout", mknod(fresh_wh(), S_IFIFO | 0644, 0) == 0);
	CHECK("mknodat", "whiteout", mknodat(AT_FDCWD, fresh_wh(), S_IFIFO | 0644, 0) == 0);
	CHECK("__xmknod", "whiteout", __xmknod(0, fresh_wh(), S_IFIFO | 0644, &dev) == 0);
	CHECK("__xmknodat", "whiteout", __xmknodat(0, AT_FDCWD, fresh_wh(), S_IFIFO | 0644, &dev) == 0);
	CHECK("mkfifo", "whiteout", mkfifo(fresh_wh(), 0644) == 0);
	CHECK("mkfifoat", "whiteout", mkfifoat(AT_FDCWD, fresh_wh(), 0644) == 0);

	struct { struct file_handle h; char space[128]; } fh;
	int mnt;
	fh.h.handle_bytes = sizeof fh.space;
	CHECK("name_to_handle_at", "lower2", name_to_handle_at(AT_FDCWD, fresh(), &fh.h, &mnt, 0) == 0);

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	/* relative to the cwd: a union socket path must fit sun_path */
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", "w_sock");
	chdir(T);
	unlink("w_sock");
	CHECK("bind", "whiteout", bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
	listen(s, 1);
	CHECK("connect", "upper", connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
	close(s);
	close(c);
}

static void stat_family(void)
{
	struct stat st;
	struct stat64 st64;
	struct statx stx;
	struct statfs sfs;
	struct statfs64 sfs64;
	struct statvfs svfs;
	struct statvfs64 svfs64;
	char *l2 = P("l2_only"), *dir = P("dir"), *link = P("rel_link");

	CHECK("stat", "lower2", stat(l2, &st) == 0);
	CHECK("stat", "merged", stat(dir, &st) == 0);
	CHECK("stat", "link", stat(link, &st) == 0);
	CHECK("stat", "upper", stat(P("up_only"), &st) == 0);
	CHECK("stat64", "lower2", stat64(l2, &st64) == 0);
	CHECK("lstat", "lower2", lstat(l2, &st) == 0);
	CHECK("lstat", "link", lstat(link, &st) == 0);
	CHECK("lstat64", "lower2", lstat64(l2, &st64) == 0);
	CHECK("fstatat", "lower2", fstatat(AT_FDCWD, l2, &st, 0) == 0);
	CHECK("fstatat64", "lower2", fstatat64(AT_FDCWD, l2, &st64, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK("__xstat", "lower2", __xstat(1, l2, &st) == 0);
	CHECK("__xstat64", "lower2", __xstat64(1, l2, &st64) == 0);
	CHECK("__lxstat", "lower2", __lxstat(1, l2, &st) == 0);
	CHECK("__lxstat64", "lower2", __lxstat64(1, l2, &st64) == 0);
	CHECK("__fxstatat", "lower2", __fxstatat(1, AT_FDCWD, l2, &st, 0) == 0);
	CHECK("__fxstatat64", "lower2", __fxstatat64(1, AT_FDCWD, l2, &st64, 0) == 0);
	CHECK("statx", "lower2", statx(AT_FDCWD, l2, 0, STATX_BASIC_STATS, &stx) == 0);
	int fd = stale_fd(O_RDONLY);
	CHECK("fstat", "stale", fstat(fd, &st) == 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("fstat64", "stale", fstat64(fd, &st64) == 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("__fxstat", "stale", __fxstat(1, fd, &st) == 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("__fxstat64", "stale", __fxstat64(1, fd, &st64) == 0); close(fd);
	fd = open(P("l2_only"), O_PATH);
	CHECK("fstatat", "empty_path", fstatat(fd, "", &st, AT_EMPTY_PATH) == 0); close(fd);

	CHECK("access", "lower2", access(l2, R_OK) == 0);
	CHECK("access", "merged", access(dir, W_OK) == 0);
	CHECK("faccessat", "lower2", faccessat(AT_FDCWD, l2, R_OK, AT_EACCESS) == 0);
	CHECK("euidaccess", "lower2", euidaccess(l2, R_OK) == 0);
	CHECK("eaccess", "lower2", eaccess(l2, R_OK) == 0);
	CHECK("statfs", "lower2", statfs(l2, &sfs) == 0);
	CHECK("statfs64", "lower2", statfs64(l2, &sfs64) == 0);
	CHECK("statvfs", "lower2", statvfs(l2, &svfs) == 0);
	CHECK("statvfs64", "lower2", statvfs64(l2, &svfs64) == 0);
	CHECK("pathconf", "lower2", pathconf(l2, _PC_NAME_MAX) > 0);
	fd = open(l2, O_RDONLY);
	CHECK("fstatfs", "lower2", fstatfs(fd, &sfs) == 0);
	CHECK("fstatfs64", "lower2", fstatfs64(fd, &sfs64) == 0);
	CHECK("fstatvfs", "lower2", fstatvfs(fd, &svfs) == 0);
	CHECK("fstatvfs64", "lower2", fstatvfs64(fd, &svfs64) == 0);
	close(fd);
	FILE *mt = setmntent("/proc/self/mounts", "r");
	CHECK("setmntent", "table", mt != NULL);
	if (mt)
		endmntent(mt);
	mt = __setmntent("/proc/self/mountinfo", "r");
	CHECK("__setmntent", "table", mt != NULL);
	if (mt)
		endmntent(mt);
	mt = setmntent(l2, "r");
	CHECK("setmntent", "lower2", mt != NULL);
	if (mt)
		endmntent(mt);

	struct utimbuf ub = {1000, 2000};
	struct timeval tv[2] = {{1000, 0}, {2000, 0}};
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	CHECK("utime", "lower2", utime(fresh(), &ub) == 0);
	CHECK("utimes", "lower2", utimes(fresh(), tv) == 0);
	CHECK("lutimes", "lower2_link", lutimes(fresh_link(), tv) == 0);
	CHECK("futimesat", "lower2", futimesat(AT_FDCWD, fresh(), tv) == 0);
	CHECK("utimensat", "lower2", utimensat(AT_FDCWD, fresh(), ts, 0) == 0);
	CHECK("utimensat", "merged", utimensat(AT_FDCWD, P("dir/sub"), ts, 0) == 0);
	fd = open(fresh(), O_RDONLY);
	CHECK("futimens", "lower2_fd", futimens(fd, ts) == 0); close(fd);
	fd = open(fresh(), O_RDONLY);
	CHECK("futimes", "lower2_fd", futimes(fd, tv) == 0); close(fd);

	CHECK("chmod", "lower2", chmod(fresh(), 0640) == 0);
	fd = open(fresh(), O_RDONLY);
	CHECK("fchmod", "lower2_fd", fchmod(fd, 0640) == 0); close(fd);
	CHECK("fchmodat", "lower2", fchmodat(AT_FDCWD, fresh(), 0640, 0) == 0);
	CHECK("lchmod", "lower2", lchmod(fresh(), 0640) == 0);
	uid_t u = getuid();
	gid_t g = getgid();
	CHECK("chown", "lower2", chown(fresh(), u, g) == 0);
	fd = open(fresh(), O_RDONLY);
	CHECK("fchown", "lower2_fd", fchown(fd, u, g) == 0); close(fd);
	CHECK("lchown", "lower2_link", lchown(fresh_link(), u, g) == 0);
	CHECK("fchownat", "lower2_link", fchownat(AT_FDCWD, fresh_link(), u, g, AT_SYMLINK_NOFOLLOW) == 0);
	fd = open(fresh(), O_RDWR);
	CHECK("ftruncate", "copied", ftruncate(fd, 1) == 0); close(fd);
	fd = open(fresh(), O_RDWR);
	CHECK("ftruncate64", "copied", ftruncate64(fd, 1) == 0); close(fd);
}

static void xattr_family(void)
{
	char v[64], list[1024];
	char *p = fresh();
	int fd;

	CHECK("getxattr", "lower2", getxattr(p, "user.probe", v, sizeof v) > 0);
	CHECK("getxattr", "merged", getxattr(P("dir/sub"), "user.probe", v, sizeof v) > 0);
	CHECK("lgetxattr", "lower2", lgetxattr(p, "user.probe", v, sizeof v) > 0);
	chmod(p, 0644); /* copied up: the copy carries user.unionshim.* */
	CHECK("getxattr", "copied", getxattr(p, "user.probe", v, sizeof v) > 0);
	CHECK("listxattr", "copied", listxattr(p, list, sizeof list) >= 0);
	CHECK("llistxattr", "copied", llistxattr(p, list, sizeof list) >= 0);
	fd = open(p, O_RDONLY);
	CHECK("fgetxattr", "copied", fgetxattr(fd, "user.probe", v, sizeof v) > 0);
	CHECK("flistxattr", "copied", flistxattr(fd, list, sizeof list) >= 0);
	close(fd);
	CHECK("listxattr", "lower2", listxattr(fresh(), list, sizeof list) >= 0);
	CHECK("setxattr", "lower2", setxattr(fresh(), "user.new", "1", 1, 0) == 0);
	CHECK("lsetxattr", "lower2", lsetxattr(fresh(), "user.new", "1", 1, 0) == 0);
	fd = open(fresh(), O_RDONLY);
	CHECK("fsetxattr", "lower2_fd", fsetxattr(fd, "user.new", "1", 1, 0) == 0); close(fd);
	CHECK("removexattr", "lower2", removexattr(fresh(), "user.probe") == 0);
	CHECK("lremovexattr", "lower2", lremovexattr(fresh(), "user.probe") == 0);
	fd = open(fresh(), O_RDONLY);
	CHECK("fremovexattr", "lower2_fd", fremovexattr(fd, "user.probe") == 0); close(fd);
}

static int ftw_cb(const char *p, const struct stat *st, int flag)
{
	(void)p, (void)st, (void)flag;
	return 0;
}

static int nftw_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p, (void)st, (void)flag, (void)f;
	return 0;
}

static int ftw64_cb(const char *p, const struct stat64 *st, int flag)
{
	(void)p, (void)st, (void)flag;
	return 0;
}

static int nftw64_cb(const char *p, const struct stat64 *st, int flag, struct FTW *f)
{
	(void)p, (void)st, (void)flag, (void)f;
	return 0;
}

/* Every readdir call, the last (NULL at the end) included, keeps errno. */
static void readdir_all(const char *name, DIR *d, bool is64)
{
	int n = 0, bad = 0;
	void *e;

	do {
		errno = SENT;
		e = is64 ? (void *)readdir64(d) : (void *)readdir(d);
		if (errno != SENT && !bad++)
			say("BAD %s merged errno=%s after %d entries", name, ename(errno), n);
		n++;
	} while (e);
	if (!bad)
		say("ok %s merged_to_end", name);
}

static void dir_family(void)
{
	DIR *d;
	struct dirent ent, *res;
	struct dirent64 ent64, *res64;
	char *dir = P("dir");

	CHECK("opendir", "merged", (d = opendir(dir)) != NULL);
	readdir_all("readdir", d, false);
	CHECK("rewinddir", "merged", (rewinddir(d), 1));
	readdir_all("readdir64", d, true);
	rewinddir(d);
	readdir(d);
	long pos;
	CHECK("telldir", "merged", (pos = telldir(d)) >= 0);
	CHECK("seekdir", "merged", (seekdir(d, pos), 1));
	rewinddir(d);
	int n = 0;
	for (;;) {
		errno = SENT;
		int rc = readdir_r(d, &ent, &res);
		report("readdir_r", n ? "merged_next" : "merged_first", rc == 0, errno);
		if (rc || !res)
			break;
		n++;
	}
	rewinddir(d);
	CHECK("readdir64_r", "merged", readdir64_r(d, &ent64, &res64) == 0);
	CHECK("closedir", "merged", closedir(d) == 0);
	int fd = open(P("dir/sub"), O_RDONLY | O_DIRECTORY);
	CHECK("fdopendir", "merged", (d = fdopendir(fd)) != NULL);
	readdir_all("readdir", d, false);
	closedir(d);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	char buf[4096];
	ssize_t got;
	do {
		CHECK("getdents64", "merged", (got = getdents64(fd, buf, sizeof buf)) >= 0);
	} while (got > 0);
	close(fd);
	CHECK("mkdir", "whiteout", mkdir(fresh_wh(), 0755) == 0);
	CHECK("mkdir", "lowerdir", mkdir(P("cu/newdir"), 0755) == 0);
	CHECK("mkdirat", "whiteout", mkdirat(AT_FDCWD, fresh_wh(), 0755) == 0);
	CHECK("rmdir", "lower2", rmdir(fresh_empty()) == 0);

	glob_t gl;
	glob64_t gl64;
	CHECK("glob", "merged", glob(P("dir/*"), 0, NULL, &gl) == 0); globfree(&gl);
	CHECK("glob64", "merged", glob64(P("dir/s*/*"), 0, NULL, &gl64) == 0); globfree64(&gl64);
	struct dirent **nl;
	struct dirent64 **nl64;
	CHECK("scandir", "merged", scandir(dir, &nl, NULL, alphasort) > 0);
	CHECK("scandir64", "merged", scandir64(dir, &nl64, NULL, alphasort64) > 0);
	CHECK("scandirat", "merged", scandirat(AT_FDCWD, dir, &nl, NULL, alphasort) > 0);
	CHECK("scandirat64", "merged", scandirat64(AT_FDCWD, dir, &nl64, NULL, alphasort64) > 0);
	CHECK("ftw", "merged", ftw(dir, ftw_cb, 8) == 0);
	CHECK("ftw64", "merged", ftw64(dir, ftw64_cb, 8) == 0);
	CHECK("nftw", "merged", nftw(dir, nftw_cb, 8, FTW_PHYS) == 0);
	CHECK("nftw64", "merged", nftw64(dir, nftw64_cb, 8, FTW_PHYS | FTW_CHDIR) == 0);
	CHECK("nftw", "whole", nftw(T, nftw_cb, 8, FTW_PHYS | FTW_DEPTH) == 0);
	/* walks that meet failures on the way: a dangling symlink followed,
	 * files tried as dirs */
	CHECK("nftw", "dangling", nftw(T, nftw_cb, 8, 0) == 0);
	CHECK("ftw", "dangling", ftw(T, ftw_cb, 8) == 0);
	CHECK("glob", "notdirs", glob(P("*/sub/*"), 0, NULL, &gl) == 0); globfree(&gl);
	CHECK("glob", "mark", glob(P("*"), GLOB_MARK, NULL, &gl) == 0); globfree(&gl);

	char *roots[] = {dir, NULL};
	FTS *fts;
	FTSENT *e;
	CHECK("fts_open", "merged", (fts = fts_open(roots, FTS_PHYSICAL, NULL)) != NULL);
	CHECK("fts_read", "merged_root", (e = fts_read(fts)) != NULL);
	/* glibc's fts_children sets errno to 0 first, to tell "no children" */
	errno = SENT;
	int kids = fts_children(fts, 0) != NULL;
	report_want("fts_children", "merged", kids, errno, 0);
	CHECK("fts_set", "merged", fts_set(fts, e, FTS_AGAIN) == 0);
	n = 0;
	do {
		errno = SENT;
		e = fts_read(fts);
		/* glibc's fts_read says "the end" with errno 0 */
		report_want("fts_read", e ? "merged_next" : "merged_end", 1, errno, e ? SENT : 0);
	} while (e && ++n < 100);
	CHECK("fts_close", "merged", fts_close(fts) == 0);
	char *whole[] = {(char *)T, NULL};
	CHECK("fts_open", "logical", (fts = fts_open(whole, FTS_LOGICAL, NULL)) != NULL);
	do {
		errno = SENT;
		e = fts_read(fts);
		report_want("fts_read", e ? "logical_next" : "logical_end", 1, errno, e ? SENT : 0);
	} while (e);
	fts_close(fts);
	FTS64 *fts64;
	FTSENT64 *e64;
	CHECK("fts64_open", "merged", (fts64 = fts64_open(roots, FTS_PHYSICAL, NULL)) != NULL);
	CHECK("fts64_read", "merged_root", (e64 = fts64_read(fts64)) != NULL);
	errno = SENT;
	kids = fts64_children(fts64, 0) != NULL;
	report_want("fts64_children", "merged", kids, errno, 0);
	CHECK("fts64_set", "merged", fts64_set(fts64, e64, FTS_SKIP) == 0);
	do {
		errno = SENT;
		e64 = fts64_read(fts64);
		report_want("fts64_read", e64 ? "merged_next" : "merged_end", 1, errno, e64 ? SENT : 0);
	} while (e64);
	CHECK("fts64_close", "merged", fts64_close(fts64) == 0);
}

static void name_family(void)
{
	char buf[4096];

	CHECK("link", "lower2", link(fresh(), newname("link")) == 0);
	CHECK("link", "whiteout", link(fresh(), fresh_wh()) == 0);
	CHECK("linkat", "lower2", linkat(AT_FDCWD, fresh(), AT_FDCWD, newname("linkat"), 0) == 0);
	CHECK("symlink", "whiteout", symlink("target", fresh_wh()) == 0);
	CHECK("symlinkat", "whiteout", symlinkat("target", AT_FDCWD, fresh_wh()) == 0);
	CHECK("readlink", "lower", readlink(P("rel_link"), buf, sizeof buf) > 0);
	CHECK("readlink", "lower2", readlink(fresh_link(), buf, sizeof buf) > 0);
	CHECK("readlinkat", "lower", readlinkat(AT_FDCWD, P("rel_link"), buf, sizeof buf) > 0);
	CHECK("__readlink_chk", "lower", __readlink_chk(P("rel_link"), buf, sizeof buf, sizeof buf) > 0);
	CHECK("__readlinkat_chk", "lower", __readlinkat_chk(AT_FDCWD, P("rel_link"), buf, sizeof buf, sizeof buf) > 0);
	CHECK("readlink", "proc_self_cwd", readlink("/proc/self/cwd", buf, sizeof buf) > 0);
	CHECK("rename", "lower2", rename(fresh(), newname("rename")) == 0);
	CHECK("rename", "onto_whiteout", rename(fresh(), fresh_wh()) == 0);
	CHECK("renameat", "lower2", renameat(AT_FDCWD, fresh(), AT_FDCWD, newname("renameat")) == 0);
	CHECK("renameat2", "lower2", renameat2(AT_FDCWD, fresh(), AT_FDCWD, newname("renameat2"), RENAME_NOREPLACE) == 0);
	CHECK("unlink", "lower2", unlink(fresh()) == 0);
	CHECK("unlink", "upper", unlink(newname("rename")) == 0);
	CHECK("unlinkat", "lower2", unlinkat(AT_FDCWD, fresh(), 0) == 0);
	CHECK("unlinkat", "lower2_dir", unlinkat(AT_FDCWD, fresh_empty(), AT_REMOVEDIR) == 0);
	CHECK("remove", "lower2", remove(fresh()) == 0);
	CHECK("remove", "lower2_dir", remove(fresh_empty()) == 0);
}

/* The core limit, in a dir of a lower alone: where the shim holds it
 * (coreguard.h), with a soft limit above 0 to hold. */
static void rlimit_family(void)
{
	struct rlimit rl, soft;
	struct rlimit64 rl64;
	char back[4096];

	if (!getcwd(back, sizeof back) || getrlimit(RLIMIT_CORE, &rl) != 0)
		return;
	soft = rl;
	soft.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 4096 ? 4096 : rl.rlim_max;
	CHECK("setrlimit", "core", setrlimit(RLIMIT_CORE, &soft) == 0);
	CHECK("chdir", "lowerdir", chdir(P("lib")) == 0);
	CHECK("getrlimit", "core held", getrlimit(RLIMIT_CORE, &rl) == 0);
	CHECK("getrlimit64", "core held", getrlimit64(RLIMIT_CORE, &rl64) == 0);
	CHECK("setrlimit64", "core held", setrlimit64(RLIMIT_CORE, &rl64) == 0);
	CHECK("prlimit", "core held", prlimit(0, RLIMIT_CORE, &rl, NULL) == 0);
	CHECK("prlimit64", "core held", prlimit64(0, RLIMIT_CORE, NULL, &rl64) == 0);
	CHECK("setrlimit", "core held", setrlimit(RLIMIT_CORE, &rl) == 0);
	CHECK("chdir", "back", chdir(back) == 0);
}

static void cwd_family(void)
{
	char buf[4096];
	char *s;

	CHECK("chdir", "merged", chdir(P("dir/sub")) == 0);
	CHECK("chdir", "relative", chdir("..") == 0);
	int fd = open(P("dir/sub"), O_RDONLY | O_DIRECTORY);
	CHECK("fchdir", "merged", fchdir(fd) == 0); close(fd);
	CHECK("getcwd", "merged", getcwd(buf, sizeof buf) != NULL);
	CHECK("__getcwd_chk", "merged", __getcwd_chk(buf, sizeof buf, sizeof buf) != NULL);
	/* through dlsym: a direct reference makes the linker warn */
	char *(*getwd_fn)(char *) = (char *(*)(char *))dlsym(RTLD_DEFAULT, "getwd");
	CHECK("getwd", "merged", getwd_fn && getwd_fn(buf) != NULL);
	CHECK("get_current_dir_name", "merged", (s = get_current_dir_name()) != NULL); free(s);
	CHECK("realpath", "link", realpath(P("rel_link"), buf) != NULL);
	CHECK("realpath", "relative", realpath("b1", buf) != NULL);
	CHECK("__realpath_chk", "link", __realpath_chk(P("rel_link"), buf, sizeof buf) != NULL);
	CHECK("canonicalize_file_name", "link", (s = canonicalize_file_name(P("abs_link"))) != NULL); free(s);
	chdir(T);
}

/* Wait for a child that is this program run as --child: it exits with the
 * errno it found at the start of main. */
static int child_ok(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	say("child status 0x%x", st);
	return 0;
}

static char *prog(void) { return P("bin/errno_probe"); }

/* Exec in a child; the exec "succeeds" when the image starts with errno 0. */
#define EXEC_CHECK(name, obj, stmt)                                           \
	do {                                                                   \
		pid_t pid_ = fork();                                           \
		if (pid_ == 0) {                                               \
			errno = SENT;                                          \
			stmt;                                                  \
			_exit(99);                                             \
		}                                                              \
		errno = SENT;                                                  \
		report(name, obj, child_ok(pid_), SENT);                       \
	} while (0)

extern char **environ;

static void exec_family(void)
{
	static char a0[] = "errno_probe", a1[] = "--child";
	char *argv[] = {a0, a1, NULL};
	char *pathdirs = P("nope:%s/bin", T);
	char path_env[4200];

	snprintf(path_env, sizeof path_env, "PATH=%s", pathdirs);
	char *envp[] = {path_env, NULL};

	EXEC_CHECK("execve", "lower2", execve(prog(), argv, environ));
	EXEC_CHECK("execveat", "lower2", execveat(AT_FDCWD, prog(), argv, environ, 0));
	EXEC_CHECK("fexecve", "lower2", fexecve(open(prog(), O_RDONLY), argv, environ));
	EXEC_CHECK("execv", "lower2", execv(prog(), argv));
	EXEC_CHECK("execl", "lower2", execl(prog(), "errno_probe", "--child", (char *)NULL));
	EXEC_CHECK("execle", "lower2", execle(prog(), "errno_probe", "--child", (char *)NULL, environ));
	setenv("PATH", pathdirs, 1);
	EXEC_CHECK("execvp", "path_search", execvp("errno_probe", argv));
	EXEC_CHECK("execlp", "path_search", execlp("errno_probe", "errno_probe", "--child", (char *)NULL));
	EXEC_CHECK("execvpe", "path_search", execvpe("errno_probe", argv, envp));

	pid_t pid;
	posix_spawn_file_actions_t fa;
	CHECK("posix_spawn_file_actions_init", "-", posix_spawn_file_actions_init(&fa) == 0);
	CHECK("posix_spawn_file_actions_addopen", "lower2", posix_spawn_file_actions_addopen(&fa, 5, fresh(), O_RDWR, 0) == 0);
	CHECK("posix_spawn_file_actions_addchdir_np", "merged", posix_spawn_file_actions_addchdir_np(&fa, P("dir")) == 0);
	int spawn_dirfd = fcntl(open(P("dir"), O_RDONLY | O_DIRECTORY), F_DUPFD, 50); /* clear of the fds the actions set */
	CHECK("posix_spawn_file_actions_addfchdir_np", "merged", posix_spawn_file_actions_addfchdir_np(&fa, spawn_dirfd) == 0);
	CHECK("posix_spawn_file_actions_adddup2", "-", posix_spawn_file_actions_adddup2(&fa, 5, 6) == 0);
	CHECK("posix_spawn_file_actions_addclose", "-", posix_spawn_file_actions_addclose(&fa, 6) == 0);
	CHECK("posix_spawn_file_actions_addclosefrom_np", "-", posix_spawn_file_actions_addclosefrom_np(&fa, 7) == 0);
	CHECK("posix_spawn", "lower2", posix_spawn(&pid, prog(), &fa, NULL, argv, environ) == 0);
	report("posix_spawn", "child", child_ok(pid), SENT);
	CHECK("posix_spawnp", "path_search", posix_spawnp(&pid, "errno_probe", &fa, NULL, argv, environ) == 0);
	report("posix_spawnp", "child", child_ok(pid), SENT);
	CHECK("posix_spawn_file_actions_destroy", "-", posix_spawn_file_actions_destroy(&fa) == 0);

	/* vfork: the child opens a union file (the map is its parent's) and
	 * leaves; the parent's errno is its own */
	CHECK("vfork", "lower2", (pid = vfork()) >= 0 &&
		  (pid > 0 || (close(open(fresh(), O_RDONLY)), _exit(0), 0)));
	report("vfork", "child", child_ok(pid), SENT);
	CHECK("__vfork", "lower2", (pid = __vfork()) >= 0 && (pid > 0 || (_exit(0), 0)));
	report("__vfork", "child", child_ok(pid), SENT);

	char cmd[4200];
	snprintf(cmd, sizeof cmd, "%s --child", prog());
	CHECK("system", "lower2", system(cmd) == 0);
	FILE *f;
	CHECK("popen", "lower2", (f = popen(cmd, "r")) != NULL);
	CHECK("pclose", "lower2", pclose(f) == 0);
	void *h;
	CHECK("dlopen", "lower", (h = dlopen(P("lib/libprobe.so"), RTLD_NOW)) != NULL);
}

static void fd_family(void)
{
	int fd = open(fresh(), O_RDONLY), fd2;

	CHECK("dup", "lower2", (fd2 = dup(fd)) >= 0);
	CHECK("dup2", "lower2", dup2(fd, fd2) == fd2);
	CHECK("dup3", "lower2", dup3(fd, fd2, O_CLOEXEC) == fd2);
	CHECK("fcntl", "dupfd", (fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 50)) >= 50);
	CHECK("close", "lower2", close(fd2) == 0);
	CHECK("fcntl64", "getfl", fcntl64(fd, F_GETFL) >= 0);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	CHECK("fcntl", "setlk", fcntl(fd, F_SETLK, &fl) == 0);
	CHECK("fcntl", "getlk", fcntl(fd, F_GETLK, &fl) == 0);
	CHECK("flock", "lower2", flock(fd, LOCK_SH) == 0);
	CHECK("close", "locked", close(fd) == 0);
	fd = open(fresh(), O_RDWR);
	CHECK("lockf", "lower2", lockf(fd, F_LOCK, 0) == 0);
	CHECK("lockf64", "lower2", lockf64(fd, F_ULOCK, 0) == 0);
	close(fd);
	fd = open(fresh(), O_RDONLY);
	dup2(fd, 60);
	dup2(fd, 61);
	CHECK("close_range", "lower2", close_range(60, 61, 0) == 0);
	dup2(fd, 62);
	CHECK("closefrom", "lower2", (closefrom(62), 1));
	close(fd);

	FILE *f = fopen(fresh(), "r");
	CHECK("fclose", "lower2", fclose(f) == 0);
}

static void io_family(void)
{
	char buf[64];
	struct iovec iov = {buf, sizeof buf};
	int fd;

	fd = stale_fd(O_RDONLY);
	CHECK("read", "stale", read(fd, buf, sizeof buf) > 0);
	CHECK("read", "eof", read(fd, buf, sizeof buf) == 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("__read_chk", "stale", __read_chk(fd, buf, sizeof buf, sizeof buf) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("pread", "stale", pread(fd, buf, sizeof buf, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("pread64", "stale", pread64(fd, buf, sizeof buf, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("__pread_chk", "stale", __pread_chk(fd, buf, sizeof buf, 0, sizeof buf) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("__pread64_chk", "stale", __pread64_chk(fd, buf, sizeof buf, 0, sizeof buf) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("readv", "stale", readv(fd, &iov, 1) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("preadv", "stale", preadv(fd, &iov, 1, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("preadv64", "stale", preadv64(fd, &iov, 1, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("preadv2", "stale", preadv2(fd, &iov, 1, 0, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("preadv64v2", "stale", preadv64v2(fd, &iov, 1, 0, 0) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("lseek", "stale", lseek(fd, 1, SEEK_SET) == 1); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("lseek64", "stale", lseek64(fd, 0, SEEK_END) > 0); close(fd);
	void *m;
	fd = stale_fd(O_RDONLY);
	CHECK("mmap", "stale", (m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED);
	munmap(m, 4096); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("mmap64", "stale", (m = mmap64(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0)) != MAP_FAILED);
	munmap(m, 4096); close(fd);

	int out = open(newname("sink"), O_CREAT | O_WRONLY, 0644);
	fd = stale_fd(O_RDONLY);
	CHECK("sendfile", "stale", sendfile(out, fd, NULL, 8) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("sendfile64", "stale", sendfile64(out, fd, NULL, 8) > 0); close(fd);
	fd = stale_fd(O_RDONLY);
	CHECK("copy_file_range", "stale", copy_file_range(fd, NULL, out, NULL, 8, 0) > 0); close(fd);
	int pfd[2];
	pipe(pfd);
	fd = stale_fd(O_RDONLY);
	CHECK("splice", "stale", splice(fd, NULL, pfd[1], NULL, 8, 0) > 0); close(fd);
	close(pfd[0]);
	close(pfd[1]);
	close(out);

	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	f = stale_file();
	CHECK("fread", "stale", fread(buf, 1, sizeof buf, f) > 0);
	CHECK("fread", "eof", fread(buf, 1, sizeof buf, f) == 0 && feof(f)); fclose(f);
	f = stale_file();
	CHECK("fgets", "stale", fgets(buf, sizeof buf, f) != NULL); fclose(f);
	f = stale_file();
	CHECK("getdelim", "stale", getdelim(&line, &cap, '\n', f) > 0); fclose(f);
	f = stale_file();
	CHECK("getline", "stale", getline(&line, &cap, f) > 0);
	getline(&line, &cap, f);
	CHECK("getline", "eof", getline(&line, &cap, f) == -1 && feof(f)); fclose(f);
	f = stale_file();
	CHECK("fgetc", "stale", fgetc(f) != EOF); fclose(f);
	f = stale_file();
	CHECK("getc", "stale", getc(f) != EOF); fclose(f);
	f = stale_file();
	CHECK("fseek", "stale", fseek(f, 1, SEEK_SET) == 0); fclose(f);
	f = stale_file();
	CHECK("fseeko", "stale", fseeko(f, 1, SEEK_SET) == 0); fclose(f);
	f = stale_file();
	CHECK("fseeko64", "stale", fseeko64(f, 1, SEEK_SET) == 0); fclose(f);
	f = stale_file();
	CHECK("rewind", "stale", (rewind(f), 1)); fclose(f);
	free(line);
}

static void syscall_door(void)
{
	struct stat st;
	long fd;

	CHECK("syscall", "newfstatat_lower2", syscall(SYS_newfstatat, AT_FDCWD, P("l2_only"), &st, 0) == 0);
	CHECK("syscall", "openat_copyup", (fd = syscall(SYS_openat, AT_FDCWD, fresh(), O_RDWR, 0)) >= 0);
	close((int)fd);
	CHECK("syscall", "getpid", syscall(SYS_getpid) > 0);
}

/* A call the union refuses on a union path (it cannot succeed there):
 * "refused NAME OBJ" when it fails with WANT, as the shim promises. Only
 * under the shim: natively these calls do other things. */
#define REFUSED(name, obj, failexpr, want)                                    \
	do {                                                                   \
		if (!under_shim())                                             \
			break;                                                 \
		errno = SENT;                                                  \
		int failed_ = (failexpr);                                      \
		int e_ = errno;                                                \
		if (failed_ && e_ == (want))                                   \
			say("refused %s %s", name, obj);                       \
		else                                                           \
			say("FAIL %s %s not refused (%s)", name, obj, ename(e_));  \
	} while (0)

static bool under_shim(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p && strstr(p, "libunionshim");
}

/* ioctl, file handles, watches, datagrams, acct, the mount family and
 * liburing's entry points (shim/wrap/ioctl.c, special.c, mount.c,
 * uring.c). Root runs these tests (mount, chroot, fanotify, handles). */
static void door_family(void)
{
	int fd = open(fresh(), O_RDONLY), n, flags;
	CHECK("ioctl", "lower2_fionread", ioctl(fd, FIONREAD, &n) == 0);
	CHECK("ioctl", "lower2_getflags", ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0);
	CHECK("ioctl", "lower2_setflags_copyup", ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
	close(fd);

	struct { struct file_handle h; char space[128]; } fh;
	int mnt;
	fh.h.handle_bytes = sizeof fh.space;
	if (name_to_handle_at(AT_FDCWD, fresh(), &fh.h, &mnt, 0) == 0) {
		int mfd = open(T, O_RDONLY | O_DIRECTORY);
		CHECK("open_by_handle_at", "lower2", (fd = open_by_handle_at(mfd, &fh.h, O_RDONLY)) >= 0);
		close(fd);
		close(mfd);
	} else {
		say("FAIL open_by_handle_at lower2 %s", ename(errno));
	}

	int in = inotify_init1(IN_CLOEXEC);
	CHECK("inotify_add_watch", "lower2", inotify_add_watch(in, fresh(), IN_MODIFY) >= 0);
	close(in);
	int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
	CHECK("fanotify_mark", "lower2", fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, fresh()) == 0);
	close(fan);

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", "w_dgram");
	unlink("w_dgram");
	int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(s, (struct sockaddr *)&sa, sizeof sa);
	CHECK("sendto", "upper", sendto(c, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa) == 1);
	char y = 'y';
	struct iovec iov = {.iov_base = &y, .iov_len = 1};
	struct msghdr mh = {.msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1};
	CHECK("sendmsg", "upper", sendmsg(c, &mh, 0) == 1);
	close(s);
	close(c);

	CHECK("acct", "lower2_copyup", acct(fresh()) == 0);
	CHECK("acct", "-", acct(NULL) == 0);
	CHECK("chroot", "-", chroot("/") == 0);
	char mdir[] = "/tmp/errno_probe_mnt.XXXXXX";
	if (!mkdtemp(mdir)) {
		say("FAIL setup mkdtemp %s", ename(errno));
		return;
	}
	CHECK("mount", "-", mount("none", mdir, "tmpfs", 0, "size=64k") == 0);
	CHECK("umount2", "-", umount2(mdir, 0) == 0);
	mount("none", mdir, "tmpfs", 0, "size=64k");
	CHECK("umount", "-", umount(mdir) == 0);
	rmdir(mdir);

	REFUSED("swapon", "lower", swapon(P("low_only"), 0) < 0, EPERM);
	REFUSED("swapoff", "lower", swapoff(P("low_only")) < 0, EPERM);
	REFUSED("quotactl", "lower", quotactl(QCMD(Q_GETFMT, USRQUOTA), P("low_only"), 0, (caddr_t)&n) < 0, EPERM);
	static const char *const rings[] = {"io_uring_queue_init", "io_uring_queue_init_params",
					    "io_uring_queue_init_mem", "io_uring_setup"};
	static long ring[256], params[64];
	for (size_t i = 0; i < sizeof rings / sizeof rings[0]; i++) {
		int (*f)(long, void *, void *, void *, long) =
			(int (*)(long, void *, void *, void *, long))dlsym(RTLD_DEFAULT, rings[i]);
		REFUSED(rings[i], "-", f && (i == 3 ? f(8, params, 0, 0, 0) : f(8, ring, params, 0, 0)) == -ENOSYS, ENOSYS);
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--child") == 0)
		return errno; /* what the constructors left */
	if (argc != 2) {
		fprintf(stderr, "usage: errno_probe TARGET | --child\n");
		return 2;
	}
	T = argv[1];
	if (chdir(T) < 0)
		return 2;
	open_family();
	stat_family();
	xattr_family();
	dir_family();
	name_family();
	cwd_family();
	rlimit_family();
	fd_family();
	io_family();
	syscall_door();
	door_family();
	exec_family();
	return 0;
}
