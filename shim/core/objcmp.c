/* objcmp.c: comparing two real objects for unionctl (see objcmp.h).
 * Buffers live on the heap: this file is linked into the preload library
 * too, whose frames stay small. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sys.h"
#include "unionshim/identity.h"
#include "unionshim/metacopy.h"
#include "unionshim/objcmp.h"

#define CHUNK (64 * 1024)

static const char *const diff_names[] = {
	"type", "data", "mode", "owner", "mtime", "xattrs", "target", "rdev",
};

const char *us_diff_name(int bit)
{
	return bit >= 0 && bit < (int)(sizeof diff_names / sizeof *diff_names)
		       ? diff_names[bit]
		       : NULL;
}

bool us_xattr_private(const char *name)
{
	return us_is_own_xattr(name) || strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.overlay.", 13) == 0;
}

static void free_keep_errno(void *p)
{
	int saved = errno;

	free(p);
	errno = saved;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	SYS(close)(fd);
	errno = saved;
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = SYS(read)(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* 1 when the two files hold other bytes, 0 when the same, -1 on error. */
static int data_differs(const char *a, const char *b)
{
	int fa = SYS(open)(a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fa < 0)
		return -1;
	int fb = SYS(open)(b, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fb < 0) {
		close_keep_errno(fa);
		return -1;
	}
	char *buf = malloc(2 * CHUNK);
	int rc = buf ? 0 : -1;
	while (rc == 0) {
		ssize_t na = read_full(fa, buf, CHUNK);
		ssize_t nb = na < 0 ? -1 : read_full(fb, buf + CHUNK, CHUNK);
		if (na < 0 || nb < 0)
			rc = -1;
		else if (na != nb || memcmp(buf, buf + CHUNK, (size_t)na) != 0)
			rc = 1;
		else if (na < CHUNK)
			break;
	}
	free_keep_errno(buf);
	close_keep_errno(fa);
	close_keep_errno(fb);
	return rc;
}

/* 1 when the symlinks point elsewhere, 0 when not, -1 on error. */
static int target_differs(const char *a, const char *b)
{
	char *buf = malloc(2 * (PATH_MAX + 1));
	if (!buf)
		return -1;
	ssize_t na = SYS(readlink)(a, buf, PATH_MAX);
	ssize_t nb = na < 0 ? -1 : SYS(readlink)(b, buf + PATH_MAX + 1, PATH_MAX);
	int rc = nb < 0 ? -1 : na != nb || memcmp(buf, buf + PATH_MAX + 1, (size_t)na) != 0;
	free_keep_errno(buf);
	return rc;
}

struct xrec {
	const char *name;
	const char *value;
	size_t len;
};

static int xrec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xrec *)a)->name, ((const struct xrec *)b)->name);
}

/* A record: name NUL, 8-byte length, value. */
static size_t rec_size(const char *name, size_t vlen)
{
	return strlen(name) + 1 + sizeof(uint64_t) + vlen;
}

int us_xattrs_read(const char *p, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	ssize_t len = SYS(llistxattr)(p, NULL, 0);
	if (len < 0 && (errno == ENOTSUP || errno == ENOSYS))
		return 0;
	if (len <= 0)
		return (int)len;
	char *names = malloc((size_t)len + XATTR_SIZE_MAX);
	size_t n = 0, cap = 0, used = 0;
	struct xrec *recs = NULL;
	char *packed = NULL;
	if (!names)
		return -1;
	char *value = names + len;
	len = SYS(llistxattr)(p, names, (size_t)len);
	int rc = len < 0 ? -1 : 0;
	/* first pass: sort the names that count */
	for (ssize_t i = 0; rc == 0 && i < len; i += (ssize_t)strlen(names + i) + 1) {
		if (us_xattr_private(names + i))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct xrec *r = realloc(recs, cap * sizeof *r);
			if (!r) {
				rc = -1;
				break;
			}
			recs = r;
		}
		recs[n++].name = names + i;
	}
	if (rc == 0 && n)
		qsort(recs, n, sizeof *recs, xrec_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		ssize_t vl = SYS(lgetxattr)(p, recs[i].name, value, XATTR_SIZE_MAX);
		if (vl < 0) {
			if (errno == ENODATA)
				continue; /* gone meanwhile */
			rc = -1;
			break;
		}
		size_t need = rec_size(recs[i].name, (size_t)vl);
		char *g = realloc(packed, used + need);
		if (!g) {
			rc = -1;
			break;
		}
		packed = g;
		uint64_t l = (uint64_t)vl;
		size_t nl = strlen(recs[i].name) + 1;
		memcpy(packed + used, recs[i].name, nl);
		memcpy(packed + used + nl, &l, sizeof l);
		memcpy(packed + used + nl + sizeof l, value, (size_t)vl);
		used += need;
	}
	free_keep_errno(recs);
	free_keep_errno(names);
	if (rc < 0) {
		free_keep_errno(packed);
		return -1;
	}
	*out = packed;
	*outlen = used;
	return 0;
}

/* 1 when the object xattrs differ, 0 when not, -1 on error. */
static int xattrs_differ(const char *a, const char *b)
{
	char *xa, *xb;
	size_t la, lb;

	if (us_xattrs_read(a, &xa, &la) < 0)
		return -1;
	if (us_xattrs_read(b, &xb, &lb) < 0) {
		free_keep_errno(xa);
		return -1;
	}
	int rc = la != lb || (la && memcmp(xa, xb, la) != 0);
	free(xa);
	free(xb);
	return rc;
}

int us_obj_diff(const char *a, const struct stat *sa, const char *b,
		const struct stat *sb)
{
	unsigned what = 0;
	int r = 0;

	if ((sa->st_mode & S_IFMT) != (sb->st_mode & S_IFMT))
		return US_DIFF_TYPE;
	if ((sa->st_mode & 07777) != (sb->st_mode & 07777) && !S_ISLNK(sa->st_mode))
		what |= US_DIFF_MODE;
	if (sa->st_uid != sb->st_uid || sa->st_gid != sb->st_gid)
		what |= US_DIFF_OWNER;
	if (!S_ISDIR(sa->st_mode) &&
	    (sa->st_mtim.tv_sec != sb->st_mtim.tv_sec ||
	     sa->st_mtim.tv_nsec != sb->st_mtim.tv_nsec))
		what |= US_DIFF_MTIME;
	if ((S_ISCHR(sa->st_mode) || S_ISBLK(sa->st_mode)) && sa->st_rdev != sb->st_rdev)
		what |= US_DIFF_RDEV;
	if (S_ISREG(sa->st_mode)) {
		/* a metacopy's data is B's by definition (metacopy.h) */
		r = us_metacopy_is(a, sa) ? 0
		    : sa->st_size != sb->st_size ? 1 : data_differs(a, b);
		if (r > 0)
			what |= US_DIFF_DATA;
	} else if (S_ISLNK(sa->st_mode)) {
		r = target_differs(a, b);
		if (r > 0)
			what |= US_DIFF_TARGET;
	}
	if (r >= 0 && (r = xattrs_differ(a, b)) > 0)
		what |= US_DIFF_XATTR;
	return r < 0 ? -1 : (int)what;
}
