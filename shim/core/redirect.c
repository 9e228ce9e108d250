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
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char val[US_PATH_MAX];
		char rest[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	const struct us_layer *up = &m->layers[0];
	size_t rl = up->len, ol = m->target_len, tl = m->target_len;
	const char *rest = sb->rest;
	bool checking = true;

	memcpy(sb->rest, upath + tl, ul - tl + 1);
	memcpy(sb->real, up->path, rl);
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
			checking = false; /* nothing of it in the upper below */
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
	if (SYS(lsetxattr)(real, US_REDIRECT_XATTR, value, strlen(value), 0) < 0) {
		if (errno == ENOTSUP || errno == EPERM)
			errno = EXDEV; /* no user xattrs there: mv copies */
		return -1;
	}
	return 0;
}
