/* redirect.c: redirect records of renamed dirs (see redirect.h).
 *
 * Mapping a union path to its lower side reads the record of each upper
 * dir along it (one lgetxattr per component, stopping at the first the
 * upper lacks), only on mounts whose state says records may exist: a
 * mount where no dir was ever renamed pays one load. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ownwrite.h"
#include "sys.h"
#include "unionshim/redirect.h"
#include "unionshim/pathmax.h"
#include "unionshim/scratch.h"
#include "unionshim/shared.h"

/* A record is "/" or "/name/..." with no empty, "." or ".." component. */
static bool value_ok(const char *v, size_t n)
{
	if (n == 0 || v[0] != '/')
		return false;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && v[j] != '/')
			j++;
		size_t cl = j - i - 1;
		if ((cl == 0 && n != 1) || (cl == 1 && v[i + 1] == '.') ||
		    (cl == 2 && v[i + 1] == '.' && v[i + 2] == '.'))
			return false;
		i = j;
	}
	return true;
}

int us_redirect_read(const char *real, char *out, size_t outlen)
{
	int saved = errno;
	ssize_t n = SYS(lgetxattr)(real, US_REDIRECT_XATTR, out, outlen - 1);

	if (n < 0) {
		if (errno == ENODATA || errno == ENOTSUP) {
			errno = saved;
			return 0;
		}
		return -1;
	}
	out[n] = '\0';
	/* a malformed record is ignored here; unionctl check reports it */
	return value_ok(out, (size_t)n) && strlen(out) == (size_t)n;
}

int us_redirects_maybe(const struct us_mount *m)
{
	return m->has_upper && us_shared_redirects_maybe(m);
}

/* OUT (holding union path UPATH's coordinates in the layer whose dir is
 * ROOT, ROOT_LEN bytes) with the records of that layer's dirs along it
 * applied: each record names where the layers below hold its dir, and a
 * deeper record wins. Records are read while the path's dirs exist in
 * that layer. 0, or -1 with errno. */
static int apply_records(const struct us_mount *m, const char *root,
			 size_t root_len, char *out, size_t outlen)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char val[US_PATH_MAX];
		char rest[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	size_t ul = strlen(out), tl = m->target_len;
	size_t rl = root_len, ol = tl;
	const char *rest = sb->rest;
	bool checking = true;

	if (ul == tl)
		return 0;
	memcpy(sb->rest, out + tl, ul - tl + 1);
	memcpy(sb->real, root, rl);
	while (*rest == '/') {
		const char *e = strchrnul(rest + 1, '/');
		size_t nl = (size_t)(e - rest);
		if (rl + nl + 1 > sizeof sb->real || ol + nl + 1 > outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sb->real + rl, rest, nl);
		rl += nl;
		sb->real[rl] = '\0';
		memcpy(out + ol, rest, nl);
		ol += nl;
		out[ol] = '\0';
		rest = e;
		if (!checking)
			continue;
		int saved = errno;
		int got = us_redirect_read(sb->real, sb->val, sizeof sb->val);
		if (got < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return -1;
			errno = saved; /* an answer, not an error */
			checking = false; /* nothing of it in the layer below */
			continue;
		}
		if (got == 1) {
			size_t vl = strlen(sb->val);
			if (vl == 1)
				vl = 0; /* "/": the target itself */
			if (tl + vl + 1 > outlen) {
				errno = ENAMETOOLONG;
				return -1;
			}
			memcpy(out + tl, sb->val, vl);
			ol = tl + vl;
			out[ol] = '\0';
		}
	}
	return 0;
}

int us_lower_upath(const struct us_mount *m, const char *upath, char *out,
		   size_t outlen)
{
	size_t ul = strlen(upath);

	if (ul + 1 > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (out != upath)
		memmove(out, upath, ul + 1);
	if (!us_redirects_maybe(m) || ul == m->target_len)
		return 0;
	return apply_records(m, m->layers[0].path, m->layers[0].len, out, outlen);
}

/* Which lowers of M say they hold records (their root's marker), read
 * once per process and mount and kept in the mount (as its st_dev is):
 * never the bottom one (nothing lies below it to redirect into); layer 0
 * too when M has no upper. Two threads asking first both read them, to
 * the same answer. */
us_layermask us_lower_redirects_read(const struct us_mount *m)
{
	us_layermask marks = 0;
	int saved = errno;
	char v[4];

	for (int i = m->has_upper ? 1 : 0; i + 1 < m->nlayers; i++)
		if (SYS(lgetxattr)(m->layers[i].path, US_REDIRECTS_MARK, v,
				   sizeof v) >= 0)
			marks |= (us_layermask)1 << i;
	errno = saved;
	struct us_mount *w = (struct us_mount *)m; /* a cache, like m->dev */
	w->lower_redirects = marks;
	__atomic_store_n(&w->lower_redirects_known, 1, __ATOMIC_RELEASE);
	return marks;
}

int us_layer_upath(const struct us_mount *m, int layer, const char *upath,
		   char *out, size_t outlen)
{
	if (us_lower_upath(m, upath, out, outlen) < 0)
		return -1;
	us_layermask marks = layer > 0 ? us_lower_redirects(m) : 0;
	for (int l = 0; l < layer && marks >> l; l++)
		if ((marks >> l & 1) &&
		    apply_records(m, m->layers[l].path, m->layers[l].len, out,
				  outlen) < 0)
			return -1;
	return 0;
}

void us_redirects_mark(const char *layer_root)
{
#if defined(UNIONSHIM_AUDIT)
	(void)layer_root; /* the loader's module writes nothing */
#else
	int saved = errno;

	SYS(lsetxattr)(layer_root, US_REDIRECTS_MARK, "1", 1, 0);
	errno = saved; /* (unmarked: a later stack sees its records not) */
#endif
}

int us_redirect_write(const struct us_mount *m, const char *upath,
		      const char *value)
{
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);
	if (!real)
		return -1;
	size_t rel = strlen(upath + m->target_len);

	if (m->layers[0].len + rel + 1 > US_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(real, m->layers[0].path, m->layers[0].len);
	memcpy(real + m->layers[0].len, upath + m->target_len, rel + 1);
	us_shared_redirects_set(m);
	int rc = SYS(lsetxattr)(real, US_REDIRECT_XATTR, value, strlen(value), 0);
	if (rc < 0 && errno == EACCES) { /* a read-only dir of the caller's */
		struct us_ownwrite w;
		us_ownwrite_open(real, NULL, &w);
		if (w.opened) {
			rc = SYS(lsetxattr)(real, US_REDIRECT_XATTR, value,
					    strlen(value), 0);
			us_ownwrite_close(real, &w);
		}
	}
	if (rc < 0) {
		if (errno == ENOTSUP || errno == EPERM)
			errno = EXDEV; /* no user xattrs there: mv copies */
		return -1;
	}
	us_redirects_mark(m->layers[0].path);
	return 0;
}
