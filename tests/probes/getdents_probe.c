/* getdents_probe: list a directory with raw getdents64, through syscall()
 * ("syscall") or glibc's getdents64() ("libc"), with a small buffer so the
 * listing takes several calls; then rewind with lseek and count again.
 * Prints one name per line, then "again N". */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static long list(int fd, int use_syscall, int print)
{
	char buf[200];
	long n, count = 0;

	for (;;) {
		n = use_syscall ? syscall(SYS_getdents64, fd, buf, sizeof buf)
				: (long)getdents64(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			if (print)
				printf("%s\n", d->d_name);
			count++;
			off += d->d_reclen;
		}
	}
	if (n < 0) {
		perror("getdents64");
		return -1;
	}
	return count;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: getdents_probe syscall|libc DIR\n");
		return 2;
	}
	int use_syscall = strcmp(argv[1], "syscall") == 0;
	int fd = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (list(fd, use_syscall, 1) < 0)
		return 1;
	lseek(fd, 0, SEEK_SET);
	printf("again %ld\n", list(fd, use_syscall, 0));
	return 0;
}
