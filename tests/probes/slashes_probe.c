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

/* Each case once: X(call, the name it may touch). */
#define CASES(X)                                                               \
	X(do_open("f/", O_WRONLY | O_CREAT), "f")                              \
	X(do_open("f/", O_RDONLY | O_CREAT | O_EXCL), "f")                     \
	X(do_open("sf/", O_WRONLY | O_CREAT), "f")                             \
	X(do_open("new/", O_WRONLY | O_CREAT), "new")                          \
	X(do_open("sx/", O_WRONLY | O_CREAT), "nothere")                       \
	X(do_open("d/", O_RDONLY | O_CREAT | O_EXCL), "d")                     \
	X(do_open("sd/", O_RDONLY | O_CREAT | O_EXCL), "d")                    \
	X(do_open("d", O_RDONLY | O_DIRECTORY | O_CREAT), "d")                 \
	X(do_open("new", O_RDONLY | O_DIRECTORY | O_CREAT), "new")             \
	X(mkdir("f/", 0755), "f")                                              \
	X(mkdir("new/", 0755), "new")                                          \
	X(mkdir("sx/", 0755), "nothere")                                       \
	X(mkdir("e/", 0755), "e")                                              \
	X(rmdir("sd/"), "d")                                                   \
	X(rmdir("se/"), "e")                                                   \
	X(rmdir("f/"), "f")                                                    \
	X(rmdir("e/"), "e")                                                    \
	X(rmdir("new/"), "new")                                                \
	X(unlink("sd/"), "sd")                                                 \
	X(unlink("sx/"), "sx")                                                 \
	X(unlink("f/"), "f")                                                   \
	X(unlink("d/"), "d")                                                   \
	X(unlink("new/"), "new")                                               \
	X(link("e/", "new/"), "new")                                           \
	X(link("d/", "f/"), "f")                                               \
	X(link("f", "new/"), "new")                                            \
	X(link("f/", "new"), "new")                                            \
	X(symlink("t", "new/"), "new")                                         \
	X(symlink("t", "f/"), "f")                                             \
	X(mkfifo("new/", 0644), "new")                                         \
	X(rename("d/", "d/x/"), "d")                                           \
	X(rename("f", ".."), "f")                                              \
	X(rename("f/", "g"), "f")                                              \
	X(rename("f", "g/"), "f")                                              \
	X(rename("d", "g/"), "g")                                              \
	X(rename("sd/", "g"), "sd")                                            \
	X(rename("e/", "d/"), "e")                                             \
	X(rename("e", "d/x"), "e")                                             \
	X(exchange("f", "d/"), "f")                                            \
	X(exchange("d", "f/"), "f")                                            \
	X(do_open("d/", O_RDONLY), "d")

#define ENTRY(call, check) {#call, check},
static const struct {
	const char *what, *check;
} cases[] = {CASES(ENTRY)};
#define NCASES (sizeof cases / sizeof cases[0])

/* Case I's call: the I-th of CASES, by counting them again. */
static int run(size_t i)
{
	size_t k = 0;
#define CALL(call, check)                                                      \
	if (k++ == i)                                                          \
		return call;
	CASES(CALL)
#undef CALL
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
