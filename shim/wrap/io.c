/* io.c: the read family, lseek, mmap, sendfile/copy_file_range/splice
 * and stdio's reading calls, each first asking the fd map whether the
 * fd's lower file was copied up since (us_fd_fresh: a memory compare, no
 * system call), so that an fd opened before a copy-up reads the copy.
 * Nothing here copies up: a private writable mapping of a lower file
 * stays a mapping of it. lseek of a merged dir takes what overlayfs
 * takes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../fdmap.h"
#include "../front.h"
#include "glibc_protos.h"
#include "unionshim/lookup.h"
#include "unionshim/scratch.h"

US_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	us_fd_fresh(fd);
	return US_REAL(read)(fd, buf, n);
}

US_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	us_fd_fresh(fd);
	return US_REAL(__read_chk)(fd, buf, n, buflen);
}

US_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	us_fd_fresh(fd);
	return US_REAL(pread)(fd, buf, n, off);
}

US_EXPORT ssize_t pread64(int, void *, size_t, off_t)
	__attribute__((alias("pread")));

US_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			      size_t buflen)
{
	us_fd_fresh(fd);
	return US_REAL(__pread_chk)(fd, buf, n, off, buflen);
}

US_EXPORT ssize_t __pread64_chk(int, void *, size_t, off_t, size_t)
	__attribute__((alias("__pread_chk")));

US_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	us_fd_fresh(fd);
	return US_REAL(readv)(fd, iov, n);
}

US_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	us_fd_fresh(fd);
	return US_REAL(preadv)(fd, iov, n, off);
}

US_EXPORT ssize_t preadv64(int, const struct iovec *, int, off_t)
	__attribute__((alias("preadv")));

US_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int n, off_t off,
			  int flags)
{
	us_fd_fresh(fd);
	return US_REAL(preadv2)(fd, iov, n, off, flags);
}

US_EXPORT ssize_t preadv64v2(int, const struct iovec *, int, off_t, int)
	__attribute__((alias("preadv2")));

/* A merged dir's position is an index into its listing (getdents.c):
 * SEEK_SET and SEEK_CUR move it, any other whence is EINVAL, as on
 * overlayfs (a dir of one layer alone seeks as that layer's does). */
static bool merged_dir(int fd)
{
	US_SCRATCH_SCOPE;
	struct us_resolved *r = us_scratch_push(sizeof *r);

	return r && us_fd_union_dir_now(fd, r) && us_node_merged(&r->node);
}

US_EXPORT off_t lseek(int fd, off_t off, int whence)
{
	us_fd_fresh(fd);
	if (whence != SEEK_SET && whence != SEEK_CUR && us_fd_union_dir(fd) &&
	    merged_dir(fd)) {
		errno = EINVAL;
		return -1;
	}
	return US_REAL(lseek)(fd, off, whence);
}

US_EXPORT off_t lseek64(int, off_t, int) __attribute__((alias("lseek")));

US_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	if (!(flags & MAP_ANONYMOUS))
		us_fd_fresh(fd);
	return US_REAL(mmap)(addr, len, prot, flags, fd, off);
}

US_EXPORT void *mmap64(void *, size_t, int, int, int, off_t)
	__attribute__((alias("mmap")));

/* Calls that read an fd into another without passing through memory. */
US_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	us_fd_fresh(in);
	return US_REAL(sendfile)(out, in, off, n);
}

US_EXPORT ssize_t sendfile64(int, int, off_t *, size_t)
	__attribute__((alias("sendfile")));

US_EXPORT ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff,
				  size_t n, unsigned int flags)
{
	us_fd_fresh(in);
	return US_REAL(copy_file_range)(in, inoff, out, outoff, n, flags);
}

US_EXPORT ssize_t splice(int in, off_t *inoff, int out, off_t *outoff,
			 size_t n, unsigned int flags)
{
	us_fd_fresh(in);
	return US_REAL(splice)(in, inoff, out, outoff, n, flags);
}

/* stdio reads through glibc-internal calls: look at the stream's fd.
 * Before its fd moves to the copy, the stream drops what it buffered from
 * the old file (fflush of an input stream puts the fd's offset back where
 * the program's reading is). */
static void fresh_stream(FILE *f)
{
	if (f && us_fd_stale(fileno_unlocked(f))) {
		fflush(f);
		us_fd_refresh(fileno_unlocked(f));
	}
}

US_EXPORT size_t fread(void *buf, size_t size, size_t n, FILE *f)
{
	fresh_stream(f);
	return US_REAL(fread)(buf, size, n, f);
}

US_EXPORT char *fgets(char *s, int n, FILE *f)
{
	fresh_stream(f);
	return US_REAL(fgets)(s, n, f);
}

US_EXPORT ssize_t getdelim(char **line, size_t *n, int delim, FILE *f)
{
	fresh_stream(f);
	return US_REAL(getdelim)(line, n, delim, f);
}

US_EXPORT ssize_t getline(char **line, size_t *n, FILE *f)
{
	fresh_stream(f);
	return US_REAL(getline)(line, n, f);
}

US_EXPORT int fgetc(FILE *f)
{
	fresh_stream(f);
	return US_REAL(fgetc)(f);
}

US_EXPORT int getc(FILE *f)
{
	fresh_stream(f);
	return US_REAL(getc)(f);
}

US_EXPORT int fseek(FILE *f, long off, int whence)
{
	fresh_stream(f);
	return US_REAL(fseek)(f, off, whence);
}

US_EXPORT int fseeko(FILE *f, off_t off, int whence)
{
	fresh_stream(f);
	return US_REAL(fseeko)(f, off, whence);
}

US_EXPORT int fseeko64(FILE *, off_t, int) __attribute__((alias("fseeko")));

US_EXPORT void rewind(FILE *f)
{
	fresh_stream(f);
	US_REAL(rewind)(f);
}
