/* identity.c: union st_dev and st_ino (the scheme is in identity.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "sys.h"
#include "unionshim/identity.h"
#include "unionshim/linkindex.h"
#include "unionshim/shared.h"

#define LAYER_SHIFT 56
#define INO_MASK ((UINT64_C(1) << LAYER_SHIFT) - 1)

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT64_C(1099511628211);
	return h;
}

dev_t us_mount_dev(const struct us_mount *m)
{
	uint64_t h = fnv1a(UINT64_C(1469598103934665603), m->target,
			   m->target_len);

	return makedev(2048 + (unsigned)(h % 1024), (unsigned)((h >> 10) & 0xfffff));
}

uint64_t us_ino_make(int layer, uint64_t ino)
{
	if ((ino & ~INO_MASK) == 0)
		return ((uint64_t)layer << LAYER_SHIFT) | ino;
	uint64_t key[2] = {(uint64_t)layer, ino};
	uint64_t h = fnv1a(UINT64_C(1469598103934665603), key, sizeof key);
	return (UINT64_C(1) << 63) | (h & ~(UINT64_C(1) << 63));
}

int us_origin_read(const char *real, int fd, struct us_origin *o)
{
	char v[96];
	ssize_t n = fd >= 0 ? SYS(fgetxattr)(fd, US_ORIGIN_XATTR, v, sizeof v - 1)
			    : -1;
	/* an O_PATH fd has no xattr calls: go by the path */
	if (real && (fd < 0 || (n < 0 && errno == EBADF)))
		n = SYS(lgetxattr)(real, US_ORIGIN_XATTR, v, sizeof v - 1);
	int layer;
	uint64_t ino, nlink;

	if (n <= 0)
		return 0;
	v[n] = '\0';
	if (sscanf(v, "%d:%" SCNu64 ":%" SCNu64, &layer, &ino, &nlink) != 3 ||
	    layer < 0 || layer >= US_MAX_LAYERS)
		return 0;
	o->layer = layer;
	o->ino = ino;
	o->nlink = nlink;
	return 1;
}

int us_origin_write(const char *real, const struct us_origin *o)
{
	char v[96];
	int n = snprintf(v, sizeof v, "%d:%" PRIu64 ":%" PRIu64, o->layer,
			 o->ino, o->nlink);

	return SYS(lsetxattr)(real, US_ORIGIN_XATTR, v, (size_t)n, 0);
}

void us_origin_of(const struct us_mount *m, int layer, const char *real,
		  int fd, const struct stat *st, struct us_origin *o)
{
	if (m && layer == 0 && m->has_upper && us_shared_origins_maybe(m) &&
	    us_origin_read(real, fd, o))
		return;
	o->layer = layer;
	o->ino = st->st_ino;
	o->nlink = st->st_nlink;
}

void us_ident_stat(const struct us_mount *m, int layer, const char *real,
		   int fd, struct stat *st)
{
	struct us_origin o;

	us_origin_of(m, layer, real, fd, st, &o);
	st->st_dev = us_mount_dev(m);
	st->st_ino = us_ino_make(o.layer, o.ino);
	if (o.layer != layer && o.nlink > 1 && S_ISREG(st->st_mode))
		st->st_nlink = us_index_nlink(real, fd, st, o.nlink);
}
