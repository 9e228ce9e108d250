/* fdmaptext.c: writing and reading UNIONSHIM_FDMAP entries (see
 * include/unionshim/fdmaptext.h). The reader is strict: a number out of
 * range or anything but a number between the separators ends the list,
 * never wraps to another fd. */
#include <limits.h>
#include <stdio.h>

#include "unionshim/fdmaptext.h"

bool us_fdmaptext_put(char *buf, size_t len, size_t *used,
		      const struct us_fdmap_rec *rec)
{
	int n = snprintf(buf + *used, len - *used, "%d:%d:%d:%u;", rec->fd,
			 rec->group, rec->proxy, rec->gen);

	if (n < 0 || (size_t)n >= len - *used) {
		buf[*used] = '\0';
		return false;
	}
	*used += (size_t)n;
	return true;
}

/* A decimal number in [MIN, MAX] at *S ('-' only when MIN < 0) into *V;
 * *S moves past it. */
static bool number(const char **s, long long min, long long max,
		   long long *v)
{
	const char *p = *s;
	bool neg = min < 0 && *p == '-';
	long long n = 0, lim = neg ? -min : max;

	p += neg;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0'); /* at most 10 * (UINT_MAX + 1) + 9 */
		if (n > lim)
			return false;
	}
	*v = neg ? -n : n;
	*s = p;
	return true;
}

int us_fdmaptext_next(const char **s, struct us_fdmap_rec *rec)
{
	const char *p = *s;
	long long v[4];

	if (!*p)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *p++ != ':')
			return 0;
		if (!number(&p, i < 3 ? INT_MIN : 0, i < 3 ? INT_MAX : UINT_MAX,
			    &v[i]))
			return 0;
	}
	if (*p != ';' && *p != '\0')
		return 0;
	*rec = (struct us_fdmap_rec){(int)v[0], (int)v[1], (int)v[2],
				     (unsigned)v[3]};
	*s = *p ? p + 1 : p;
	return 1;
}
