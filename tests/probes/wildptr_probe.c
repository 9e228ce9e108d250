/* wildptr_probe: every path-taking call given a pointer into no mapping
 * (and a string that runs from a mapped page into an unmapped one) answers
 * -1/EFAULT, as the kernel does, and the program goes on: the shim reads a
 * path before the kernel does, so it must not fault where the kernel
 * answers EFAULT.
 *
 * Usage: wildptr_probe (in any dir: relative names "f" and "d" must exist,
 * a file and a dir). One line per call: "NAME ARG rc=R errno=E". The bats
 * test runs it natively (the kernel's answers) and with its cwd in a union,
 * and compares. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

static void show(const char *name, const char *arg, long rc)
{
	printf("%s %s rc=%ld errno=%s\n", name, arg, rc < 0 ? -1L : rc,
	       rc < 0 ? strerrorname_np(errno) : "-");
	fflush(stdout);
}

#define CALL(name, expr) do { errno = 0; show(name, arg, (long)(expr)); } while (0)

static void calls(const char *arg, const char *w)
{
	struct stat st;
	struct statx sx;
	struct statfs sf;
	char buf[256];
	struct timespec ts[2] = {{0, 0}, {0, 0}};
	struct timeval tv[2] = {{0, 0}, {0, 0}};
	char x[] = "x";
	char *argv[] = {x, NULL};

	CALL("open", open(w, O_RDONLY));
	CALL("open_creat", open(w, O_WRONLY | O_CREAT, 0644));
	CALL("openat", openat(AT_FDCWD, w, O_RDONLY));
	CALL("creat", creat(w, 0644));
	CALL("stat", stat(w, &st));
	CALL("lstat", lstat(w, &st));
	CALL("fstatat", fstatat(AT_FDCWD, w, &st, 0));
	CALL("fstatat_empty", fstatat(AT_FDCWD, w, &st, AT_EMPTY_PATH));
	CALL("statx", statx(AT_FDCWD, w, 0, STATX_BASIC_STATS, &sx));
	CALL("access", access(w, F_OK));
	CALL("faccessat", faccessat(AT_FDCWD, w, R_OK, 0));
	CALL("chmod", chmod(w, 0644));
	CALL("fchmodat", fchmodat(AT_FDCWD, w, 0644, 0));
	CALL("chown", chown(w, 0, 0));
	CALL("lchown", lchown(w, 0, 0));
	CALL("fchownat", fchownat(AT_FDCWD, w, 0, 0, 0));
	CALL("mkdir", mkdir(w, 0755));
	CALL("mkdirat", mkdirat(AT_FDCWD, w, 0755));
	CALL("rmdir", rmdir(w));
	CALL("unlink", unlink(w));
	CALL("unlinkat", unlinkat(AT_FDCWD, w, 0));
	CALL("unlinkat_dir", unlinkat(AT_FDCWD, w, AT_REMOVEDIR));
	CALL("rename_old", rename(w, "nf"));
	CALL("rename_new", rename("f", w));
	CALL("renameat2", renameat2(AT_FDCWD, w, AT_FDCWD, "nf", 0));
	CALL("link_old", link(w, "nl"));
	CALL("link_new", link("f", w));
	CALL("linkat", linkat(AT_FDCWD, w, AT_FDCWD, "nl", 0));
	CALL("symlink_target", symlink(w, "ns"));
	CALL("symlink_name", symlink("f", w));
	CALL("symlinkat", symlinkat("f", AT_FDCWD, w));
	CALL("readlink", readlink(w, buf, sizeof buf));
	CALL("readlinkat", readlinkat(AT_FDCWD, w, buf, sizeof buf));
	CALL("truncate", truncate(w, 0));
	CALL("mknod", mknod(w, S_IFIFO | 0644, 0));
	CALL("mkfifo", mkfifo(w, 0644));
	CALL("utimensat", utimensat(AT_FDCWD, w, ts, 0));
	CALL("utimes", utimes(w, tv));
	CALL("chdir", chdir(w));
	CALL("statfs", statfs(w, &sf));
	CALL("getxattr", getxattr(w, "user.x", buf, sizeof buf));
	CALL("lgetxattr", lgetxattr(w, "user.x", buf, sizeof buf));
	CALL("setxattr", setxattr(w, "user.x", "v", 1, 0));
	CALL("listxattr", listxattr(w, buf, sizeof buf));
	CALL("removexattr", removexattr(w, "user.x"));
	CALL("execve", execve(w, argv, environ));
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	CALL("openat_dirfd", openat(dfd, w, O_RDONLY));
	CALL("fstatat_dirfd", fstatat(dfd, w, &st, AT_SYMLINK_NOFOLLOW));
	CALL("fstatat_dirfd_empty", fstatat(dfd, w, &st, AT_EMPTY_PATH));
	CALL("unlinkat_dirfd", unlinkat(dfd, w, 0));
	close(dfd);
	struct open_how how = {.flags = O_RDONLY};
	CALL("sys_openat", syscall(SYS_openat, AT_FDCWD, w, O_RDONLY));
	CALL("sys_openat2", syscall(SYS_openat2, AT_FDCWD, w, &how, sizeof how));
	CALL("sys_newfstatat", syscall(SYS_newfstatat, AT_FDCWD, w, &st, 0));
	CALL("sys_statx", syscall(SYS_statx, AT_FDCWD, w, 0, STATX_BASIC_STATS, &sx));
	CALL("sys_unlinkat", syscall(SYS_unlinkat, AT_FDCWD, w, 0));
	CALL("sys_mkdirat", syscall(SYS_mkdirat, AT_FDCWD, w, 0755));
	CALL("sys_renameat2", syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, w, 0));
	int in = inotify_init1(IN_CLOEXEC);
	CALL("inotify_add_watch", inotify_add_watch(in, w, IN_ALL_EVENTS));
	close(in);
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		return 1;
	munmap(two + ps, ps);
	/* a name whose bytes run to the page's end, with no NUL on it */
	memset(two, 'a', ps);
	char *unmapped = two + ps;

	calls("unmapped", unmapped);
	calls("runs_off", two + ps - 8);
	return 0;
}
