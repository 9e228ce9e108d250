/* magic.c: this process's magic paths: /proc/self/, /proc/thread-self/,
 * /proc/<our pid>/ and /dev/fd/ (the kernel's /proc/self/fd/). They are
 * symlinks the kernel follows to the *real* object (a layer file, the
 * kernel's cwd, which is a layer dir): the shim reads them as the union
 * objects they stand for. Any other path costs one or two character
 * compares; "/proc/<digit>" one more, with the pid cached (forks.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forks.h"
#include "front.h"
#include "state.h"

const char *us_magic_self(const char *path)
{
	if (path[0] != '/' || (path[1] != 'p' && path[1] != 'd'))
		return NULL;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		return path + 5; /* "fd/..." */
	if (strncmp(path, "/proc/", 6) != 0)
		return NULL;
	const char *p = path + 6;
	if (strncmp(p, "self/", 5) == 0)
		return p + 5;
	if (strncmp(p, "thread-self/", 12) == 0)
		return p + 12;
	if (*p < '1' || *p > '9')
		return NULL;
	char *end;
	long pid = strtol(p, &end, 10);
	if (*end != '/' || pid != (long)us_pid())
		return NULL;
	return end + 1;
}

/* Does P begin with the component WORD? *REST gets what follows it ("" or
 * "/..."). */
static int word(const char *p, const char *w, const char **rest)
{
	size_t n = strlen(w);

	if (strncmp(p, w, n) != 0 || (p[n] != '\0' && p[n] != '/'))
		return 0;
	*rest = p + n;
	return 1;
}

int us_magic_fd(const char *path, const char **rest)
{
	const char *p = us_magic_self(path);

	if (!p || strncmp(p, "fd/", 3) != 0)
		return -1;
	p += 3;
	if (*p < '0' || *p > '9')
		return -1;
	char *end;
	long fd = strtol(p, &end, 10);
	if ((*end != '\0' && *end != '/') || fd > INT_MAX)
		return -1;
	*rest = end;
	return (int)fd;
}

int us_magic_dir(const char *path, char *base, size_t len, const char **rest)
{
	const char *p = us_magic_self(path);

	if (!p)
		return 0;
	if (word(p, "root", rest)) { /* our root is "/", chroot or not */
		strcpy(base, "/");
		return 1;
	}
	if (!word(p, "cwd", rest) || us_cwd_get(base, len) < 0)
		return 0;
	return 1;
}
