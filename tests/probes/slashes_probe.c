/* slashes_probe: calls that make, remove or rename a name written with
 * trailing slashes ("name/"), and O_CREAT with O_DIRECTORY, one per case
 * in its own dir ROOT/cN (each holding f, d/x, e/, sf -> f, sd -> d,
 * se -> e, sx -> nothere). Prints per case: its number, the call, OK or
 * the errno's name, and whether the name it may touch is there after. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int do_open(const char *p, int flags)
{
	int fd = open(p, flags, 0644);
	return fd < 0 ? -1 : close(fd);
}

static int exchange(const char *a, const char *b)
{
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

#define CASE(call, check) {#call, check}
static const struct {
	const char *what, *check;
} cases[] = {
	CASE(open("f/", O_WRONLY | O_CREAT), "f"),
	CASE(open("f/", O_RDONLY | O_CREAT | O_EXCL), "f"),
	CASE(open("sf/", O_WRONLY | O_CREAT), "f"),
	CASE(open("new/", O_WRONLY | O_CREAT), "new"),
	CASE(open("sx/", O_WRONLY | O_CREAT), "nothere"),
	CASE(open("d/", O_RDONLY | O_CREAT | O_EXCL), "d"),
	CASE(open("sd/", O_RDONLY | O_CREAT | O_EXCL), "d"),
	CASE(open("d", O_RDONLY | O_DIRECTORY | O_CREAT), "d"),
	CASE(open("new", O_RDONLY | O_DIRECTORY | O_CREAT), "new"),
	CASE(mkdir("f/"), "f"),
	CASE(mkdir("new/"), "new"),
	CASE(mkdir("sx/"), "nothere"),
	CASE(mkdir("e/"), "e"),
	CASE(rmdir("sd/"), "d"),
	CASE(rmdir("se/"), "e"),
	CASE(rmdir("f/"), "f"),
	CASE(rmdir("e/"), "e"),
	CASE(rmdir("new/"), "new"),
	CASE(unlink("sd/"), "sd"),
	CASE(unlink("sx/"), "sx"),
	CASE(unlink("f/"), "f"),
	CASE(unlink("d/"), "d"),
	CASE(unlink("new/"), "new"),
	CASE(link("e/", "new/"), "new"),
	CASE(link("d/", "f/"), "f"),
	CASE(link("f", "new/"), "new"),
	CASE(link("f/", "new"), "new"),
	CASE(symlink("t", "new/"), "new"),
	CASE(symlink("t", "f/"), "f"),
	CASE(mkfifo("new/", 0644), "new"),
	CASE(rename("d/", "d/x/"), "d"),
	CASE(rename("f", ".."), "f"),
	CASE(rename("f/", "g"), "f"),
	CASE(rename("f", "g/"), "f"),
	CASE(rename("d", "g/"), "g"),
	CASE(rename("sd/", "g"), "sd"),
	CASE(rename("e/", "d/"), "e"),
	CASE(rename("e", "d/x"), "e"),
	CASE(exchange("f", "d/"), "f"),
	CASE(exchange("d", "f/"), "f"),
	CASE(open("d/", O_RDONLY), "d"),
};
#define NCASES (sizeof cases / sizeof cases[0])

static int run(size_t i)
{
	switch (i) {
	case 0: return do_open("f/", O_WRONLY | O_CREAT);
	case 1: return do_open("f/", O_RDONLY | O_CREAT | O_EXCL);
	case 2: return do_open("sf/", O_WRONLY | O_CREAT);
	case 3: return do_open("new/", O_WRONLY | O_CREAT);
	case 4: return do_open("sx/", O_WRONLY | O_CREAT);
	case 5: return do_open("d/", O_RDONLY | O_CREAT | O_EXCL);
	case 6: return do_open("sd/", O_RDONLY | O_CREAT | O_EXCL);
	case 7: return do_open("d", O_RDONLY | O_DIRECTORY | O_CREAT);
	case 8: return do_open("new", O_RDONLY | O_DIRECTORY | O_CREAT);
	case 9: return mkdir("f/", 0755);
	case 10: return mkdir("new/", 0755);
	case 11: return mkdir("sx/", 0755);
	case 12: return mkdir("e/", 0755);
	case 13: return rmdir("sd/");
	case 14: return rmdir("se/");
	case 15: return rmdir("f/");
	case 16: return rmdir("e/");
	case 17: return rmdir("new/");
	case 18: return unlink("sd/");
	case 19: return unlink("sx/");
	case 20: return unlink("f/");
	case 21: return unlink("d/");
	case 22: return unlink("new/");
	case 23: return link("e/", "new/");
	case 24: return link("d/", "f/");
	case 25: return link("f", "new/");
	case 26: return link("f/", "new");
	case 27: return symlink("t", "new/");
	case 28: return symlink("t", "f/");
	case 29: return mkfifo("new/", 0644);
	case 30: return rename("d/", "d/x/");
	case 31: return rename("f", "..");
	case 32: return rename("f/", "g");
	case 33: return rename("f", "g/");
	case 34: return rename("d", "g/");
	case 35: return rename("sd/", "g");
	case 36: return rename("e/", "d/");
	case 37: return rename("e", "d/x");
	case 38: return exchange("f", "d/");
	case 39: return exchange("d", "f/");
	case 40: return do_open("d/", O_RDONLY);
	}
	return -2;
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: slashes_probe ROOT\n");
		return 2;
	}
	if (argv[1][0] == '-') { /* -n: the number of cases */
		printf("%zu\n", NCASES);
		return 0;
	}
	for (size_t i = 0; i < NCASES; i++) {
		struct stat st;
		snprintf(dir, sizeof dir, "%s/c%zu", argv[1], i);
		if (chdir(dir) < 0) {
			perror(dir);
			return 1;
		}
		errno = 0;
		int rc = run(i);
		const char *res = rc == 0 ? "OK" : strerrorname_np(errno);
		printf("%2zu %-48s %-9s %s %s\n", i, cases[i].what,
		       res ? res : "?", cases[i].check,
		       lstat(cases[i].check, &st) == 0 ? "there" : "gone");
	}
	return 0;
}
