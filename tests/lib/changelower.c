/* changelower.c: a test helper preloaded after libunionshim.so that
 * changes a lower file in the middle of its copy-up, as a writer outside
 * the union would. It owns copy_file_range and pread of the process: the
 * shim's copy-up reaches them through its real-function pointers
 * (dlsym(RTLD_NEXT) finds this library before libc).
 *
 * The first call that reads from the file named by CHANGELOWER_FILE copies
 * half of what was asked and, when that worked, changes the file by CHANGELOWER_HOW (shrink:
 * cut to 1000 bytes; grow: append 5000 bytes; rewrite: overwrite it all
 * with other bytes of the same size) and returns the short count; the
 * copier goes on reading the changed file. Every other call is the real
 * one. It changes the file once per process, or CHANGELOWER_TIMES times
 * (a writer that never stops: each copy meets a change). */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int done; /* changes made */

/* True when fd is the file to change (and it was not changed yet); raw
 * syscalls: the shim's stat answers with union identities. */
static int is_victim(int fd)
{
	const char *path = getenv("CHANGELOWER_FILE");
	struct stat a, b;

	const char *times = getenv("CHANGELOWER_TIMES");

	return done < (times ? atoi(times) : 1) && path && syscall(SYS_fstat, fd, &a) == 0 &&
	       syscall(SYS_newfstatat, AT_FDCWD, path, &b, 0) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Change the file by its path, past the shim (raw syscalls). */
static void change(void)
{
	const char *path = getenv("CHANGELOWER_FILE");
	const char *how = getenv("CHANGELOWER_HOW");
	static char buf[8192];
	struct stat st;
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);

	done++;
	if (fd < 0 || !how || syscall(SYS_fstat, fd, &st) != 0)
		goto out;
	memset(buf, 'N', sizeof buf);
	if (!strcmp(how, "shrink")) {
		syscall(SYS_ftruncate, fd, 1000L);
	} else if (!strcmp(how, "grow")) {
		syscall(SYS_pwrite64, fd, buf, 5000L, (long)st.st_size);
	} else if (!strcmp(how, "rewrite")) {
		for (off_t off = 0; off < st.st_size; off += (off_t)sizeof buf) {
			size_t n = st.st_size - off < (off_t)sizeof buf ? (size_t)(st.st_size - off) : sizeof buf;
			syscall(SYS_pwrite64, fd, buf, n, (long)off);
		}
	}
out:
	if (fd >= 0)
		syscall(SYS_close, fd);
}

ssize_t copy_file_range(int in, off_t *ioff, int out, off_t *ooff, size_t len, unsigned int flags)
{
	static ssize_t (*real)(int, off_t *, int, off_t *, size_t, unsigned int);
	ssize_t n;

	if (!real)
		real = (ssize_t (*)(int, off_t *, int, off_t *, size_t, unsigned int))dlsym(RTLD_NEXT, "copy_file_range");
	if (!is_victim(in) || len < 2)
		return real(in, ioff, out, ooff, len, flags);
	n = real(in, ioff, out, ooff, len / 2, flags);
	if (n > 0)
		change();
	return n;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	ssize_t n;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	if (!is_victim(fd) || len < 2)
		return real(fd, buf, len, off);
	n = real(fd, buf, len / 2, off);
	if (n > 0)
		change();
	return n;
}
