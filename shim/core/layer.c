/* layer.c: whiteout and opaque tests on one real layer directory, whether
 * it holds anything, and whether a mount's layers share one filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kdirent.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/config.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "unionshim/pathmax.h"

static bool xattr_is_y(const char *path, const char *name)
{
	char v[2];
	ssize_t n = SYS(lgetxattr)(path, name, v, sizeof v);

	return n == 1 && v[0] == 'y';
}

bool us_layer_is_opaque(const char *dirpath)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	struct stat st;

	if (us_path_join(lp->p, sizeof lp->p, dirpath, US_WH_OPAQUE) == 0 &&
	    SYS(lstat)(lp->p, &st) == 0)
		return true;
	/* the list's size answers "no xattrs at all", the common case */
	if (SYS(llistxattr)(dirpath, NULL, 0) <= 0)
		return false;
	return xattr_is_y(dirpath, "trusted.overlay.opaque") ||
	       xattr_is_y(dirpath, "user.overlay.opaque");
}

bool us_layer_has_whiteout(const char *dirpath, const char *name)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	struct stat st;
	size_t dl = strlen(dirpath), nl = strlen(name);

	if (dl + 1 + US_WH_PREFIX_LEN + nl + 1 > sizeof lp->p)
		return false;
	memcpy(lp->p, dirpath, dl);
	lp->p[dl] = '/';
	memcpy(lp->p + dl + 1, US_WH_PREFIX, US_WH_PREFIX_LEN);
	memcpy(lp->p + dl + 1 + US_WH_PREFIX_LEN, name, nl + 1);
	return SYS(lstat)(lp->p, &st) == 0;
}

int us_layers_samefs(const struct us_mount *m)
{
	struct stat st;
	dev_t dev = 0;
	int saved = errno;

	for (int i = 0; i < m->nlayers; i++) {
		if (SYS(stat)(m->layers[i].path, &st) < 0 ||
		    (i > 0 && st.st_dev != dev)) {
			errno = saved;
			return 1;
		}
		dev = st.st_dev;
	}
	errno = saved;
	return 2;
}

int us_real_dir_any(const char *dir)
{
	char buf[1024];
	int fd = SYS(open)(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	long n = SYS(syscall)(SYS_getdents64, fd, buf, sizeof buf);
	int any = n < 0 ? -1 : 0;
	for (long off = 0; off < n && !any;) {
		struct linux_dirent64 *d = (void *)(buf + off);
		any = strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
		off += d->d_reclen;
	}
	int saved = errno;
	SYS(close)(fd);
	errno = saved;
	return any;
}
