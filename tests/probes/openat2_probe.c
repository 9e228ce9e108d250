/* openat2_probe: openat2(2) through syscall(), with each resolve flag,
 * from a dirfd at the union's root, on a dir inside it, and on the dir
 * outside it that holds the target, reading and creating.
 *
 * Usage: openat2_probe UNION OUTSIDE, UNION the union dir, OUTSIDE its
 * parent, over the layers tests/bats/openat2.bats makes. Prints one line
 * per call, "FLAGS DIRFD PATH OP: RESULT", RESULT being the first line of
 * the file read, "dir", "created" or an errno name; then the how/size
 * checks the kernel makes. The same program on kernel overlayfs gives the
 * answer the union must give.
 *   openat2_probe one DIR PATH FLAG read|create: one call, from a dirfd
 *   on DIR, FLAG one of the names below. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe_io.h"

static long o2(int dirfd, const char *path, const struct open_how *how,
	       size_t size)
{
	return syscall(SYS_openat2, dirfd, path, how, size);
}

static const struct {
	const char *name;
	unsigned long long res;
} flags[] = {
	{"none", 0},
	{"BENEATH", RESOLVE_BENEATH},
	{"IN_ROOT", RESOLVE_IN_ROOT},
	{"NO_SYMLINKS", RESOLVE_NO_SYMLINKS},
	{"NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS},
	{"NO_XDEV", RESOLVE_NO_XDEV},
	{"CACHED", RESOLVE_CACHED},
	{"IN_ROOT|NO_SYMLINKS", RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS},
	{"BENEATH|NO_XDEV", RESOLVE_BENEATH | RESOLVE_NO_XDEV},
};

/* What one openat2 gives: data, "dir", "created" or an errno name. */
static const char *result(long fd, int create, char *buf, size_t len)
{
	struct stat st;

	if (fd < 0)
		return ename(errno);
	if (create) {
		int ok = write((int)fd, "made\n", 5) == 5;
		close((int)fd);
		return ok ? "created" : ename(errno);
	}
	if (fstat((int)fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close((int)fd);
		return "dir";
	}
	ssize_t n = read((int)fd, buf, len - 1);
	close((int)fd);
	if (n < 0)
		return ename(errno);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* Every flag on PATH from DIRFD (named LABEL). A create (CREATE) names a
 * file "PATH.FLAGS" so that each flag makes its own; CACHED gets a plain
 * open of the same path first, so that the kernel's cache holds it. */
static void each_flag(const char *label, int dirfd, const char *path,
		      int create, int absolute_create)
{
	/* 2: skip the plain call */
	char buf[256], p[512];

	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		unsigned long long res = flags[i].res;
		/* an absolute create outside the scoped flags would write
		 * into the machine's real root */
		if (create && absolute_create == 1 &&
		    !(res & (RESOLVE_IN_ROOT | RESOLVE_BENEATH)))
			continue;
		if (absolute_create == 2 && res == 0)
			continue;
		snprintf(p, sizeof p, create ? "%s.%s" : "%s", path,
			 flags[i].name);
		for (char *c = p; *c; c++)
			if (*c == '|')
				*c = '+';
		struct open_how how = {
			.flags = create ? O_WRONLY | O_CREAT | O_EXCL : O_RDONLY,
			.mode = create ? 0644 : 0,
			.resolve = res,
		};
		if (res & RESOLVE_CACHED && !create) {
			struct open_how warm = {.flags = O_RDONLY};
			long fd = o2(dirfd, p, &warm, sizeof warm);
			if (fd >= 0)
				close((int)fd);
		}
		long fd = o2(dirfd, p, &how, sizeof how);
		say("%s %s %s %s: %s", flags[i].name, label,
		    create ? p : path, create ? "create" : "read",
		    result(fd, create, buf, sizeof buf));
	}
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		say("cannot open %s: %s", path, ename(errno));
		exit(1);
	}
	return fd;
}

/* The kernel's checks of the open_how, on a union path. */
static void how_checks(int dirfd)
{
	struct {
		struct open_how how;
		unsigned long long extra;
	} big = {{.flags = O_RDONLY}, 1};
	struct open_how how = {.flags = O_RDONLY};
	char buf[64];

	say("size 8: %s", result(o2(dirfd, "f", &how, 8), 0, buf, sizeof buf));
	say("size 32, nonzero tail: %s",
	    result(o2(dirfd, "f", &big.how, sizeof big), 0, buf, sizeof buf));
	big.extra = 0;
	say("size 32, zero tail: %s",
	    result(o2(dirfd, "f", &big.how, sizeof big), 0, buf, sizeof buf));
	say("size 8192: %s",
	    result(o2(dirfd, "f", &how, 8192), 0, buf, sizeof buf));
	how.resolve = 0x80;
	say("unknown resolve bit: %s",
	    result(o2(dirfd, "f", &how, sizeof how), 0, buf, sizeof buf));
	how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
	say("BENEATH|IN_ROOT: %s",
	    result(o2(dirfd, "f", &how, sizeof how), 0, buf, sizeof buf));
	how.resolve = RESOLVE_CACHED;
	how.flags = O_WRONLY | O_CREAT;
	how.mode = 0644;
	say("CACHED with O_CREAT: %s",
	    result(o2(dirfd, "cached_new", &how, sizeof how), 1, buf, sizeof buf));
	how = (struct open_how){.flags = O_RDONLY, .mode = 0644};
	say("mode without O_CREAT: %s",
	    result(o2(dirfd, "f", &how, sizeof how), 0, buf, sizeof buf));
	how = (struct open_how){.flags = 1ULL << 40};
	say("unknown open flag: %s",
	    result(o2(dirfd, "f", &how, sizeof how), 0, buf, sizeof buf));
	how = (struct open_how){.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
	errno = 4242;
	long fd = o2(dirfd, "d/g", &how, sizeof how);
	say("errno after a success: %s", errno == 4242 ? "kept" : ename(errno));
	if (fd >= 0)
		close((int)fd);
	how.resolve = 0;
	errno = 4242;
	fd = o2(dirfd, "d/g", &how, sizeof how);
	say("errno after a success without flags: %s",
	    errno == 4242 ? "kept" : ename(errno));
	if (fd >= 0)
		close((int)fd);
	say("bad how pointer: %s",
	    result(o2(dirfd, "f", (void *)8, sizeof how), 0, buf, sizeof buf));
}

static int one(char **argv)
{
	char buf[256];
	int dirfd = open_dir(argv[2]), create = strcmp(argv[5], "create") == 0;

	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (strcmp(flags[i].name, argv[4]) != 0)
			continue;
		struct open_how how = {
			.flags = create ? O_WRONLY | O_CREAT : O_RDONLY,
			.mode = create ? 0644 : 0,
			.resolve = flags[i].res,
		};
		say("%s", result(o2(dirfd, argv[3], &how, sizeof how), create,
				 buf, sizeof buf));
		return 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "one") == 0)
		return one(argv);
	if (argc != 3) {
		fprintf(stderr, "usage: openat2_probe UNION OUTSIDE\n");
		return 2;
	}
	char d[4096], magic[64];
	int root = open_dir(argv[1]);
	snprintf(d, sizeof d, "%s/d", argv[1]);
	int dir = open_dir(d);
	int out = open_dir(argv[2]);

	/* dirfd at the union's root */
	static const char *at_root[] = {
		"f", "f2", "d/g", "d/sub", "/f", "d/../f", "..", "../x",
		"rel", "abs", "d/up", "d/esc", "d/dotdot/f", "gone", "d/gone/x",
		"f/", "rel_dir/g", "loop",
	};
	for (size_t i = 0; i < sizeof at_root / sizeof *at_root; i++)
		each_flag("ROOT", root, at_root[i], 0, 0);
	snprintf(magic, sizeof magic, "/proc/self/fd/%d/f", root);
	each_flag("ROOT", root, magic, 0, 0);
	each_flag("ROOT", root, "new", 1, 0);
	each_flag("ROOT", root, "d/new", 1, 0);
	each_flag("ROOT", root, "/new_abs", 1, 1);
	each_flag("ROOT", root, "rel_dir/new_via_link", 1, 0);

	/* dirfd on a dir inside the union (a lower dir until copied up) */
	static const char *inside[] = {
		"g", "sub/h", "../f", "../d/g", "/g", "/sub/h", "up", "esc",
		"dotdot/f", "dotdot", "../../x", "abs_in",
	};
	for (size_t i = 0; i < sizeof inside / sizeof *inside; i++)
		each_flag("INSIDE", dir, inside[i], 0, 0);
	each_flag("INSIDE", dir, "sub/new", 1, 0);
	each_flag("INSIDE", dir, "/sub/new_abs", 1, 1);
	each_flag("INSIDE", dir, "../new_up", 1, 0);

	/* dirfd outside, the path walking into the union */
	static const char *outside[] = {
		"x", "target/f", "target/d/g", "target/rel", "target/../x",
		"/target/f", "../x", "target/d/esc", "target/abs",
	};
	for (size_t i = 0; i < sizeof outside / sizeof *outside; i++)
		each_flag("OUTSIDE", out, outside[i], 0, 0);
	/* a symlink outside into the union (without flags: not the kernel's
	 * view, see the README's limits) */
	each_flag("OUTSIDE", out, "tl/f", 0, 2);
	each_flag("OUTSIDE", out, "tl/d/new_via_tl", 1, 2);
	each_flag("OUTSIDE", out, "target/new_out", 1, 0);
	each_flag("OUTSIDE", out, "target/d/sub/new_out", 1, 0);
	each_flag("OUTSIDE", out, "/target/new_abs_out", 1, 1);

	how_checks(root);
	return 0;
}
