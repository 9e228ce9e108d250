/* identity_probe: what a program learns about an object's identity
 * (tests/bats/identity.bats; semantics.md "Identity", "Hard links"):
 * st_dev, st_ino, st_nlink and st_size through every stat interface, d_ino
 * from readdir and getdents64, and the same object seen through an fd
 * opened before a copy-up, in one process.
 *
 * Usage:
 *   identity_probe ids [-L] PATH...
 *       one line per PATH, "DEV INO NLINK SIZE TYPE PATH", from lstat
 *       (stat with -L); TYPE is f d l p c b s. Exits 1 if a call fails.
 *   identity_probe fdstat PATH...
 *       every interface must report one dev, ino, nlink and size for PATH:
 *       lstat, fstatat(parent dirfd, name, AT_SYMLINK_NOFOLLOW), statx
 *       (AT_SYMLINK_NOFOLLOW) and fstat of an O_PATH|O_NOFOLLOW fd; for a
 *       non-symlink also stat, and for a file or dir fstat of an O_RDONLY
 *       fd. Prints "MISMATCH PATH: lstat D:I:N:S, VIA D:I:N:S" for each
 *       disagreement, then "checked N"; exits 1 on any mismatch.
 *   identity_probe dino DIR...
 *       every entry of each DIR but . and .., listed with readdir(3) and
 *       again with getdents64(2) (small buffer: several calls): d_ino must
 *       equal lstat(DIR/NAME).st_ino. Prints "MISMATCH HOW DIR/NAME: d_ino
 *       X, st_ino Y" for each broken entry, then "checked N"; exits 1 on
 *       any mismatch.
 *   identity_probe dino-around CMD DIR...
 *       dino DIR..., then system(CMD) (another process of the union: a
 *       copy-up, a rename), then dino DIR... again in this same process:
 *       what it remembered of the dirs must not outlive their change.
 *   identity_probe keep [--ino-only] OP PATH [ARG]
 *       in this one process: lstat PATH, open an fd on it (O_RDONLY), do
 *       OP (which copies PATH up when it lies below), lstat PATH again and
 *       fstat the old fd; OP is one of
 *         append TEXT   open O_RDWR|O_APPEND, fstat that fd, write TEXT
 *         chmod MODE    chmod(PATH, octal MODE)
 *         touch         utimensat(PATH, now)
 *         create NAME   creat(PATH/NAME): PATH is a dir
 *         link NEWPATH  link(PATH, NEWPATH); NEWPATH must then be PATH
 *       Prints each observation "WHAT DEV:INO:NLINK:SIZE", then a
 *       "BROKEN: ..." line for each promise not kept (st_dev or st_ino
 *       changed; an fd's fstat differs from stat of its path; a new link
 *       is another object); exits 1 if any. With --ino-only the fd opened
 *       before OP must keep its st_dev and st_ino only (its st_nlink and
 *       st_size after OP are not checked). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct id {
	uintmax_t dev, ino, nlink;
	intmax_t size;
};

static int broken;

static struct id of_stat(const struct stat *st)
{
	return (struct id){st->st_dev, st->st_ino, st->st_nlink, st->st_size};
}

static struct id of_statx(const struct statx *sx)
{
	return (struct id){makedev(sx->stx_dev_major, sx->stx_dev_minor),
			   sx->stx_ino, sx->stx_nlink, (intmax_t)sx->stx_size};
}

static int same_id(struct id a, struct id b)
{
	return a.dev == b.dev && a.ino == b.ino && a.nlink == b.nlink && a.size == b.size;
}

static const char *idstr(struct id a)
{
	static char buf[4][96];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof buf[0], "%ju:%ju:%ju:%jd", a.dev, a.ino, a.nlink, a.size);
	return b;
}

static char typechar(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' :
	       S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISSOCK(m) ? 's' : '?';
}

static int err(const char *what, const char *path)
{
	const char *e = strerrorname_np(errno);

	printf("ERROR %s %s: %s\n", what, path, e ? e : "?");
	return 1;
}

static int cmd_ids(int argc, char **argv)
{
	int follow = argc > 0 && !strcmp(argv[0], "-L");
	int rc = 0;

	for (int i = follow; i < argc; i++) {
		struct stat st;
		if ((follow ? stat(argv[i], &st) : lstat(argv[i], &st)) < 0) {
			rc |= err(follow ? "stat" : "lstat", argv[i]);
			continue;
		}
		printf("%ju %ju %ju %jd %c %s\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		       (uintmax_t)st.st_nlink, (intmax_t)st.st_size, typechar(st.st_mode), argv[i]);
	}
	return rc;
}

static void compare(const char *path, const char *base, struct id want, const char *via,
		    struct id got)
{
	if (!same_id(want, got)) {
		printf("MISMATCH %s: %s %s, %s %s\n", path, base, idstr(want), via, idstr(got));
		broken = 1;
	}
}

static int cmd_fdstat(int argc, char **argv)
{
	int rc = 0, n = 0;

	for (int i = 0; i < argc; i++) {
		const char *p = argv[i];
		struct stat l, st;
		struct statx sx;
		int fd;

		if (lstat(p, &l) < 0) {
			rc |= err("lstat", p);
			continue;
		}
		n++;
		struct id want = of_stat(&l);

		char *d1 = strdup(p), *d2 = strdup(p);
		const char *dir = dirname(d1), *name = basename(d2);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			rc |= err("open parent", p);
		else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rc |= err("fstatat", p);
		else
			compare(p, "lstat", want, "fstatat(dirfd)", of_stat(&st));
		if (dfd >= 0)
			close(dfd);
		free(d1);
		free(d2);

		if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
			rc |= err("statx", p);
		else
			compare(p, "lstat", want, "statx", of_statx(&sx));

		fd = open(p, O_PATH | O_NOFOLLOW);
		if (fd < 0)
			rc |= err("open O_PATH", p);
		else if (fstat(fd, &st) < 0)
			rc |= err("fstat O_PATH", p);
		else
			compare(p, "lstat", want, "fstat(O_PATH fd)", of_stat(&st));
		if (fd >= 0)
			close(fd);

		if (S_ISLNK(l.st_mode))
			continue;
		if (stat(p, &st) < 0)
			rc |= err("stat", p);
		else
			compare(p, "lstat", want, "stat", of_stat(&st));
		if (!S_ISREG(l.st_mode) && !S_ISDIR(l.st_mode))
			continue;
		fd = open(p, O_RDONLY | O_NOFOLLOW);
		if (fd < 0)
			rc |= err("open O_RDONLY", p);
		else if (fstat(fd, &st) < 0)
			rc |= err("fstat", p);
		else
			compare(p, "stat", want, "fstat(O_RDONLY fd)", of_stat(&st));
		/* the other ways to ask an fd (Rust's File::metadata is
		 * statx(fd, "", AT_EMPTY_PATH)) */
		if (fd >= 0) {
			char proc[64];
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
			if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) < 0)
				rc |= err("statx AT_EMPTY_PATH", p);
			else
				compare(p, "stat", want, "statx(fd, \"\", AT_EMPTY_PATH)", of_statx(&sx));
			if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
				rc |= err("fstatat AT_EMPTY_PATH", p);
			else
				compare(p, "stat", want, "fstatat(fd, \"\", AT_EMPTY_PATH)", of_stat(&st));
			if (stat(proc, &st) < 0)
				rc |= err("stat /proc/self/fd/N", p);
			else
				compare(p, "stat", want, "stat(/proc/self/fd/N)", of_stat(&st));
			if (statx(AT_FDCWD, proc, 0, STATX_BASIC_STATS, &sx) < 0)
				rc |= err("statx /proc/self/fd/N", p);
			else
				compare(p, "stat", want, "statx(/proc/self/fd/N)", of_statx(&sx));
		}
		if (fd >= 0)
			close(fd);
	}
	printf("checked %d\n", n);
	return rc | broken;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int check_entry(const char *how, const char *dir, const char *name, uintmax_t d_ino)
{
	char p[4096];
	struct stat st;

	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (lstat(p, &st) < 0)
		return err("lstat", p);
	if (d_ino != (uintmax_t)st.st_ino) {
		printf("MISMATCH %s %s: d_ino %ju, st_ino %ju\n", how, p, d_ino,
		       (uintmax_t)st.st_ino);
		broken = 1;
	}
	return 0;
}

static int cmd_dino(int argc, char **argv)
{
	int rc = 0, n = 0;

	for (int i = 0; i < argc; i++) {
		const char *dir = argv[i];
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d) {
			rc |= err("opendir", dir);
			continue;
		}
		while ((e = readdir(d)))
			rc |= check_entry("readdir", dir, e->d_name, e->d_ino), n++;
		closedir(d);

		int fd = open(dir, O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			rc |= err("open", dir);
			continue;
		}
		char buf[256];
		ssize_t got;
		while ((got = getdents64(fd, buf, sizeof buf)) > 0) {
			for (ssize_t off = 0; off < got;) {
				struct linux_dirent64 *de = (void *)(buf + off);
				rc |= check_entry("getdents64", dir, de->d_name, de->d_ino);
				n++;
				off += de->d_reclen;
			}
		}
		if (got < 0)
			rc |= err("getdents64", dir);
		close(fd);
	}
	printf("checked %d\n", n);
	return rc | broken;
}

static struct id must_lstat(const char *p)
{
	struct stat st;

	if (lstat(p, &st) < 0) {
		err("lstat", p);
		exit(1);
	}
	return of_stat(&st);
}

static struct id must_fstat(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		err("fstat", what);
		exit(1);
	}
	return of_stat(&st);
}

static void show(const char *what, struct id a)
{
	printf("%-14s %s\n", what, idstr(a));
}

/* The object did not change identity: dev and ino equal. */
static void kept(const char *promise, struct id a, struct id b)
{
	if (a.dev != b.dev || a.ino != b.ino) {
		printf("BROKEN: %s: %ju:%ju became %ju:%ju\n", promise, a.dev, a.ino, b.dev, b.ino);
		broken = 1;
	}
}

/* All of dev, ino, nlink and size equal; else name the fields that differ. */
static void equal(const char *promise, struct id a, struct id b)
{
	if (same_id(a, b))
		return;
	printf("BROKEN: %s:", promise);
	if (a.dev != b.dev)
		printf(" st_dev %ju vs %ju", a.dev, b.dev);
	if (a.ino != b.ino)
		printf(" st_ino %ju vs %ju", a.ino, b.ino);
	if (a.nlink != b.nlink)
		printf(" st_nlink %ju vs %ju", a.nlink, b.nlink);
	if (a.size != b.size)
		printf(" st_size %jd vs %jd", a.size, b.size);
	printf("\n");
	broken = 1;
}

static int cmd_keep(int argc, char **argv)
{
	int ino_only = argc > 0 && !strcmp(argv[0], "--ino-only");

	argc -= ino_only;
	argv += ino_only;
	if (argc < 2) {
		fprintf(stderr, "usage: identity_probe keep [--ino-only] OP PATH [ARG]\n");
		return 2;
	}
	const char *op = argv[0], *path = argv[1], *arg = argc > 2 ? argv[2] : "";
	struct id before = must_lstat(path), wfd = {0}, linked = {0};
	int is_dir = 0, wfd_ok = 0, fd1 = -1;
	struct stat st;

	if (lstat(path, &st) == 0)
		is_dir = S_ISDIR(st.st_mode);
	int fd0 = open(path, O_RDONLY | (is_dir ? O_DIRECTORY : 0));
	if (fd0 < 0)
		return err("open O_RDONLY", path);
	struct id fd0_before = must_fstat(fd0, "the fd opened before");
	show("lstat-before", before);
	show("fd-before", fd0_before);

	if (!strcmp(op, "append")) {
		fd1 = open(path, O_RDWR | O_APPEND);
		if (fd1 < 0)
			return err("open O_RDWR|O_APPEND", path);
		struct id opened = must_fstat(fd1, "the writing fd");
		show("write-fd-open", opened);
		kept("st_ino/st_dev of the fd that copied up differ from those before", before,
		     opened);
		ssize_t n = (ssize_t)strlen(arg);
		if (write(fd1, arg, (size_t)n) != n)
			return err("write", path);
		wfd = must_fstat(fd1, "the writing fd");
		wfd_ok = 1;
	} else if (!strcmp(op, "chmod")) {
		if (chmod(path, (mode_t)strtol(arg, NULL, 8)) < 0)
			return err("chmod", path);
	} else if (!strcmp(op, "touch")) {
		if (utimensat(AT_FDCWD, path, NULL, 0) < 0)
			return err("utimensat", path);
	} else if (!strcmp(op, "create")) {
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", path, arg);
		int fd = creat(p, 0644);
		if (fd < 0)
			return err("creat", p);
		close(fd);
	} else if (!strcmp(op, "link")) {
		if (link(path, arg) < 0)
			return err("link", path);
		linked = must_lstat(arg);
	} else {
		fprintf(stderr, "identity_probe: unknown op %s\n", op);
		return 2;
	}

	struct id after = must_lstat(path);
	struct id fd0_after = must_fstat(fd0, "the fd opened before");
	show("lstat-after", after);
	show("old-fd-after", fd0_after);
	if (wfd_ok)
		show("write-fd-after", wfd);
	if (!strcmp(op, "link"))
		show("new-link", linked);

	equal("fstat of an fd differs from lstat of its path (before the copy-up)", before,
	      fd0_before);
	kept("st_ino/st_dev changed by the copy-up (lstat before vs after)", before, after);
	kept("st_ino/st_dev of an fd opened before the copy-up changed", fd0_before, fd0_after);
	if (!ino_only)
		equal("fstat of an fd opened before the copy-up differs from lstat of its path "
		      "after it (fstat on an fd equals stat on its path; the fd sees the copy)",
		      after, fd0_after);
	if (wfd_ok)
		equal("fstat of the fd that wrote differs from lstat of its path", after, wfd);
	if (!strcmp(op, "link"))
		equal("link() made another object (the new name's lstat differs)", after, linked);
	close(fd0);
	if (fd1 >= 0)
		close(fd1);
	return broken;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: identity_probe ids|fdstat|dino|keep ...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "ids"))
		return cmd_ids(argc - 2, argv + 2);
	if (!strcmp(cmd, "fdstat"))
		return cmd_fdstat(argc - 2, argv + 2);
	if (!strcmp(cmd, "dino"))
		return cmd_dino(argc - 2, argv + 2);
	if (!strcmp(cmd, "dino-around") && argc > 3) {
		int rc = cmd_dino(argc - 3, argv + 3);
		if (system(argv[2]) != 0)
			return err("system", argv[2]);
		return rc | cmd_dino(argc - 3, argv + 3);
	}
	if (!strcmp(cmd, "keep"))
		return cmd_keep(argc - 2, argv + 2);
	fprintf(stderr, "identity_probe: unknown command %s\n", cmd);
	return 2;
}
