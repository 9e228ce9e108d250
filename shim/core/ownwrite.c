/* ownwrite.c: a read-only upper dir of the caller's own, opened for one
 * change (ownwrite.h). */
#include <errno.h>
#include <unistd.h>

#include "ownwrite.h"
#include "sys.h"

void us_ownwrite_open(const char *path, const struct stat *st,
		      struct us_ownwrite *w)
{
	int saved = errno;
	struct stat own;

	w->opened = false;
	if (!st && SYS(lstat)(path, &own) == 0)
		st = &own;
	if (st && S_ISDIR(st->st_mode) && !(st->st_mode & S_IWUSR) &&
	    st->st_uid == geteuid() &&
	    SYS(chmod)(path, (st->st_mode & 07777) | S_IWUSR) == 0) {
		w->opened = true;
		w->mode = st->st_mode & 07777;
	}
	errno = saved;
}

void us_ownwrite_close(const char *path, const struct us_ownwrite *w)
{
	int saved = errno;

	if (w->opened)
		SYS(chmod)(path, w->mode);
	errno = saved;
}
