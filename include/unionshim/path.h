/* path.h: lexical path helpers. Nothing here touches the filesystem. */
#ifndef UNIONSHIM_PATH_H
#define UNIONSHIM_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* PATH is PREFIX itself or lies below it (PREFIX has no trailing slash). */
static inline bool us_path_under(const char *path, const char *prefix,
				 size_t plen)
{
	/* strncmp stops at PATH's end: no byte past it is read */
	return strncmp(path, prefix, plen) == 0 &&
	       (path[plen] == '\0' || path[plen] == '/');
}

/* OUT = A "/" B (B relative). -1 with errno ENAMETOOLONG if it does not fit. */
int us_path_join(char *out, size_t outlen, const char *a, const char *b);

/* Collapse "//", "/./" and trailing "/" of an absolute path, and apply ".."
 * lexically. *DOTDOT tells whether a ".." was met (then the lexical answer
 * may differ from the real one when a symlink precedes it). -1/ENAMETOOLONG
 * when it does not fit. */
int us_path_normalize(const char *in, char *out, size_t outlen, bool *dotdot);

/* Remove the last component of a canonical absolute path in place. */
void us_path_pop(char *path, size_t *len);

#endif
