/* dirpass.c: pass-through listings (see dirpass.h). A union dir that one
 * layer alone makes (a lower dir the upper does not hold, an upper dir no
 * lower holds or that is opaque) lists what that layer's dir lists, less
 * its whiteouts (a char device 0/0, a .wh. name) and reserved names, with
 * the union's inode numbers: what the merge (dirmerge.c) would build, at
 * no cost of its own (no second open of the dir, no copy of the list).
 * glibc's readdir reads the program's fd, so telldir, seekdir and
 * rewinddir are glibc's too.
 *
 * An upper dir marked as holding copies (shared.h) is merged instead: its
 * entries need their origin records. One marked while it is read (a copy
 * renamed into it meanwhile) has the records of the entries returned
 * after that read: the mark comes before the copy, and each entry is
 * returned after the read that found it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dirpass.h"
#include "dirstream.h"
#include "fdmap.h"
#include "state.h"
#include "core/layer.h"
#include "unionshim/identity.h"
#include "unionshim/shared.h"

bool us_dirpass_wanted(const struct us_mount *m, const struct us_node *n,
		       int fd)
{
	if (n->layer < 0 || n->dirs != (us_layermask)1 << n->layer)
		return false; /* more layers merge (or none is known) */
	if (us_origin_maybe(m, n->layer, (struct us_origin_dir){n->dev, n->ino}))
		return false; /* records to read: the merge keeps them */
	return us_fd_on_real_dir(fd, n->layer, n->dev, n->ino);
}

/* Is entry D of the dir open as FD a whiteout (a char device 0/0)? */
static bool whiteout(int fd, const struct dirent64 *d)
{
	struct stat st;

	if (d->d_type != DT_CHR && d->d_type != DT_UNKNOWN)
		return false;
	return US_REAL(fstatat)(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       us_stat_is_whiteout(&st);
}

/* D's number from its origin record, when it has one (a copy that
 * entered the upper dir open as FD while it was read). */
static bool late_origin(const struct us_dirstream *s, int fd, struct dirent64 *d)
{
	char p[64 + sizeof d->d_name];
	struct us_origin o;

	snprintf(p, sizeof p, "/proc/self/fd/%d/%s", fd, d->d_name);
	if (!us_origin_read_entry(s->m, fd, d->d_name, d->d_type, d->d_ino, p, &o))
		return false;
	d->d_ino = us_ino_of(s->m, o.layer, o.ino);
	return true;
}

bool us_dirpass_keep(const struct us_dirstream *s, int fd, struct dirent64 *d)
{
	int saved = errno;
	bool keep = !us_is_reserved_name(d->d_name) && !whiteout(fd, d);

	if (keep && !(s->layer == 0 &&
		      us_origin_maybe(s->m, 0, (struct us_origin_dir){s->ddev, s->dino}) &&
		      late_origin(s, fd, d)))
		d->d_ino = us_ino_of(s->m, s->layer, d->d_ino);
	errno = saved;
	return keep;
}
