/* path.c: lexical path helpers (see include/unionshim/path.h). */
#include <errno.h>
#include <string.h>

#include "unionshim/path.h"

int us_path_join(char *out, size_t outlen, const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	int slash = !(al > 0 && a[al - 1] == '/');

	if (al + slash + bl + 1 > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memmove(out, a, al);
	if (slash)
		out[al++] = '/';
	memcpy(out + al, b, bl + 1);
	return 0;
}

void us_path_pop(char *path, size_t *len)
{
	size_t l = *len;

	while (l > 0 && path[l - 1] != '/')
		l--;
	if (l > 0)
		l--; /* the slash itself; "" stands for "/" */
	path[l] = '\0';
	*len = l;
}

int us_path_normalize(const char *in, char *out, size_t outlen, bool *dotdot)
{
	size_t len = 0;

	*dotdot = false;
	if (outlen == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[0] = '\0';
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t cl = (size_t)(e - p);
		if (cl == 0)
			break;
		if (cl == 1 && p[0] == '.') {
			/* nothing */
		} else if (cl == 2 && p[0] == '.' && p[1] == '.') {
			*dotdot = true;
			us_path_pop(out, &len);
		} else {
			if (len + 1 + cl + 1 > outlen) {
				errno = ENAMETOOLONG;
				return -1;
			}
			out[len++] = '/';
			memcpy(out + len, p, cl);
			len += cl;
			out[len] = '\0';
		}
		p = e;
	}
	if (len == 0) {
		if (outlen < 2) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(out, "/");
	}
	return 0;
}
