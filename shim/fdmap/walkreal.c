/* fdmap/walkreal.c: the real path of a dir fd deeper than the kernel's
 * link /proc/self/fd/N can show (a page: ENAMETOOLONG below that).
 *
 * Found as glibc's own getcwd finds a deep cwd: from the dir, ".." up to
 * the root, each step's name read from its parent (getdents, the entry
 * with the child's inode number, checked by fstatat). Only for a dir fd,
 * only when the link failed: it costs a read of every dir on the way.
 * No malloc, no lock (scratch, system calls). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../core/kdirent.h"
#include "unionshim/scratch.h"

#define DENTS 32768

/* The name in dir PARENT of the dir ST, into NAME (NAME_MAX + 1): 0, or
 * -1 when none has it (a removed dir). */
static int name_in(int parent, const struct stat *st, char *name, char *buf)
{
	int fd = US_REAL(openat)(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;
	long n;

	if (fd < 0)
		return -1;
	while (rc < 0 && (n = US_REAL(syscall)(SYS_getdents64, fd, buf, DENTS)) > 0) {
		for (long off = 0; off < n;) {
			const struct linux_dirent64 *d = (const void *)(buf + off);
			struct stat cs;
			off += d->d_reclen;
			if (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)
				continue;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			/* a mount point's entry has the covered inode's number:
			 * every dir is checked by fstatat, d_ino first */
			if (US_REAL(fstatat)(parent, d->d_name, &cs, AT_SYMLINK_NOFOLLOW) == 0 &&
			    cs.st_dev == st->st_dev && cs.st_ino == st->st_ino) {
				strcpy(name, d->d_name);
				rc = 0;
				break;
			}
		}
	}
	US_REAL(close)(fd);
	return rc;
}

int us_fd_real_walk(int fd, char *out, size_t len)
{
	US_SCRATCH_SCOPE;
	char *buf = us_scratch_push(DENTS + NAME_MAX + 1);
	if (!buf || len < 2)
		return -1;
	char *name = buf + DENTS;
	size_t at = len - 1;
	struct stat st, up;
	int saved = errno, rc = -1;
	int cur = US_REAL(openat)(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	out[at] = '\0';
	if (cur < 0 || US_REAL(fstat)(cur, &st) < 0)
		goto out;
	for (;;) {
		int parent = US_REAL(openat)(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		US_REAL(close)(cur);
		cur = parent;
		if (cur < 0 || US_REAL(fstat)(cur, &up) < 0)
			goto out;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			break; /* the root */
		if (name_in(cur, &st, name, buf) < 0)
			goto out;
		size_t nl = strlen(name);
		if (nl + 1 > at)
			goto out;
		at -= nl;
		memcpy(out + at, name, nl);
		out[--at] = '/';
		st = up;
	}
	if (at == len - 1)
		out[--at] = '/';
	memmove(out, out + at, len - at);
	rc = 0;
out:
	if (cur >= 0)
		US_REAL(close)(cur);
	errno = saved;
	return rc;
}
