/* layer.c: whiteout and opaque tests on one real layer directory. */
#include <errno.h>
#include <limits.h>
#include <sys/xattr.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/path.h"

static bool xattr_is_y(const char *path, const char *name)
{
	char v[2];
	ssize_t n = SYS(lgetxattr)(path, name, v, sizeof v);

	return n == 1 && v[0] == 'y';
}

bool us_layer_is_opaque(const char *dirpath)
{
	char p[PATH_MAX];
	struct stat st;

	if (us_path_join(p, sizeof p, dirpath, US_WH_OPAQUE) == 0 &&
	    SYS(lstat)(p, &st) == 0)
		return true;
	/* the list's size answers "no xattrs at all", the common case */
	if (SYS(llistxattr)(dirpath, NULL, 0) <= 0)
		return false;
	return xattr_is_y(dirpath, "trusted.overlay.opaque") ||
	       xattr_is_y(dirpath, "user.overlay.opaque");
}

bool us_layer_has_whiteout(const char *dirpath, const char *name)
{
	char p[PATH_MAX];
	struct stat st;
	size_t dl = strlen(dirpath), nl = strlen(name);

	if (dl + 1 + US_WH_PREFIX_LEN + nl + 1 > sizeof p)
		return false;
	memcpy(p, dirpath, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, US_WH_PREFIX, US_WH_PREFIX_LEN);
	memcpy(p + dl + 1 + US_WH_PREFIX_LEN, name, nl + 1);
	return SYS(lstat)(p, &st) == 0;
}
