/* getdents.c: getdents64, as glibc's function and through syscall(), on a
 * union dir fd: served from the merged listing.
 *
 * The cursor is the index of the next entry, kept in the kernel's file
 * position of the fd itself (set with lseek after each call), so it
 * follows the open file description through dup and fork, starts at 0 on
 * every fresh open and after a rewind, and needs no table of our own. The
 * last listing is cached and rebuilt whenever a read starts at 0. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../forks.h"
#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "unionshim/dirmerge.h"
#include "unionshim/scratch.h"

static char cache_path[US_PATH_MAX];
static struct us_dirlist cache;

static ssize_t real_getdents64(int fd, void *buf, size_t n)
{
	return US_REAL(syscall)(SYS_getdents64, (long)fd, buf, (long)n);
}

/* Copy entries from index POS of L into BUF; *POS advances. */
static ssize_t fill(const struct us_dirlist *l, size_t *pos, char *buf,
		    size_t n)
{
	size_t used = 0;

	for (; *pos < l->n; (*pos)++) {
		const struct dirent64 *d = us_dirlist_at(l, *pos);
		if (used + d->d_reclen > n)
			break;
		memcpy(buf + used, d, d->d_reclen);
		used += d->d_reclen;
	}
	if (used == 0 && *pos < l->n) {
		errno = EINVAL; /* the buffer cannot hold one entry */
		return -1;
	}
	return (ssize_t)used;
}

static ssize_t merged_getdents64(int fd, void *buf, size_t n)
{
	US_SCRATCH_SCOPE;
	struct {
		struct us_resolved r;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (!us_fd_union_dir_now(fd, &sb->r))
		return real_getdents64(fd, buf, n);
	off_t start = US_REAL(lseek)(fd, 0, SEEK_CUR);
	if (start < 0)
		return -1;
	size_t pos = (size_t)start;
	us_lock(US_LOCK_GETDENTS);
	if (pos == 0 || strcmp(cache_path, sb->r.path) != 0) {
		struct us_dirlist fresh;
		if (us_dir_merge(sb->r.m, sb->r.path, sb->r.node.dirs, &fresh) < 0) {
			us_unlock(US_LOCK_GETDENTS);
			return -1;
		}
		us_dirlist_free(&cache);
		cache = fresh;
		strcpy(cache_path, sb->r.path);
	}
	ssize_t got = fill(&cache, &pos, buf, n);
	us_unlock(US_LOCK_GETDENTS);
	if (got > 0 && US_REAL(lseek)(fd, (off_t)pos, SEEK_SET) < 0)
		return -1;
	return got;
}

US_EXPORT ssize_t getdents64(int fd, void *buf, size_t n)
{
	US_SHIM_OR(US_REAL(getdents64)(fd, buf, n));
	return us_ok(merged_getdents64(fd, buf, n));
}
