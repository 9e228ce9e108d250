/* write_probe: try every write entry point on a union dir and print one
 * line per call, "name ERRNONAME" or "name OK".
 *
 * Usage: write_probe DIR. DIR must hold a regular file "a", a regular file
 * "b", a directory "sub", and no name beginning with "new". Built without
 * the shim, run under it (tests/bats/erofs.bats). A call that succeeds
 * would have written somewhere: the test then also finds the layer changed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *dir;

static const char *in(const char *name)
{
	static char buf[8][4096];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof buf[0], "%s/%s", dir, name);
	return b;
}

/* RC < 0 means failure with errno; an fd or 0 means success. */
static void report(const char *what, long rc)
{
	const char *e;

	if (rc >= 0) {
		printf("%s OK\n", what);
		return;
	}
	e = strerrorname_np(errno);
	printf("%s %s\n", what, e ? e : "?");
}

static void fd_report(const char *what, int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
	report(what, fd);
}

static void file_report(const char *what, FILE *f)
{
	int saved = errno;

	if (f)
		fclose(f);
	errno = saved;
	report(what, f ? 0 : -1);
}

int main(int argc, char **argv)
{
	char tmpl[4096];
	int dfd;

	if (argc != 2) {
		fprintf(stderr, "usage: write_probe DIR\n");
		return 2;
	}
	dir = argv[1];
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		perror(dir);
		return 1;
	}

	fd_report("open_wronly", open(in("a"), O_WRONLY));
	fd_report("open_rdwr", open(in("a"), O_RDWR));
	fd_report("open_trunc", open(in("a"), O_RDONLY | O_TRUNC));
	fd_report("open_append", open(in("a"), O_WRONLY | O_APPEND));
	fd_report("open_creat_new", open(in("new1"), O_WRONLY | O_CREAT, 0644));
	fd_report("open_creat_excl_existing",
		  open(in("a"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	fd_report("open_creat_existing_wronly",
		  open(in("a"), O_WRONLY | O_CREAT, 0644));
	fd_report("open_tmpfile", open(dir, O_TMPFILE | O_RDWR, 0600));
	fd_report("openat_dirfd_wronly", openat(dfd, "a", O_WRONLY));
	fd_report("openat_dirfd_creat",
		  openat(dfd, "new2", O_WRONLY | O_CREAT, 0644));
	fd_report("openat_dirfd_excl_existing",
		  openat(dfd, "b", O_WRONLY | O_CREAT | O_EXCL, 0644));
	fd_report("creat", creat(in("new3"), 0644));
	report("truncate", truncate(in("a"), 0));
	file_report("fopen_w", fopen(in("a"), "w"));
	file_report("fopen_a", fopen(in("a"), "a"));
	file_report("fopen_rplus", fopen(in("a"), "r+"));
	file_report("fopen_r", fopen(in("a"), "r"));
	report("mkdir", mkdir(in("new4"), 0755));
	report("mkdir_existing", mkdir(in("sub"), 0755));
	report("mkdirat_dirfd", mkdirat(dfd, "new5", 0755));
	report("rmdir", rmdir(in("sub")));
	report("unlink", unlink(in("a")));
	report("unlinkat_dirfd", unlinkat(dfd, "b", 0));
	report("rename", rename(in("a"), in("new6")));
	report("renameat_dirfd", renameat(dfd, "b", dfd, "new7"));
	report("link", link(in("a"), in("new8")));
	report("link_existing", link(in("a"), in("b")));
	report("symlink", symlink("a", in("new9")));
	report("symlink_existing", symlink("a", in("b")));
	report("chmod", chmod(in("a"), 0600));
	report("chown", chown(in("a"), 1, 1));
	report("utimensat", utimensat(AT_FDCWD, in("a"), NULL, 0));
	report("utimes", utimes(in("b"), NULL));
	report("setxattr", setxattr(in("a"), "user.probe", "1", 1, 0));
	report("removexattr", removexattr(in("a"), "user.none"));
	report("mknod", mknod(in("new10"), S_IFIFO | 0644, 0));
	report("mkfifo", mkfifo(in("new11"), 0644));
	snprintf(tmpl, sizeof tmpl, "%s/newXXXXXX", dir);
	fd_report("mkstemp", mkstemp(tmpl));
	report("access_w", access(in("a"), W_OK));
	report("access_r", access(in("a"), R_OK));
	close(dfd);
	return 0;
}
