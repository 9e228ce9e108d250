/* dirstream.h: the merged listings behind DIR streams that read a union
 * dir. The DIR itself is glibc's, opened on the topmost layer's dir, so
 * dirfd() and closedir() keep working; readdir and friends consult this
 * registry first (a dir of one layer: its own listing, dirpass.h). */
#ifndef UNIONSHIM_DIRSTREAM_H
#define UNIONSHIM_DIRSTREAM_H

#include <dirent.h>

#include "real.h"
#include "unionshim/dirmerge.h"

struct us_dirstream {
	DIR *dir;
	const struct us_mount *m;
	char *upath;
	us_layermask dirs;
	unsigned flags; /* the dir node's (us_node.flags) */
	struct us_dirlist list;
	size_t pos;
	/* pass: the layer's own listing, read by glibc (dirpass.h), of the
	 * real dir (DDEV, DINO) of layer LAYER; LIST and POS unused */
	bool pass;
	int layer;
	dev_t ddev;
	uint64_t dino;
	struct us_dirstream *next;
};

/* Attach the merged listing of union dir UPATH (node DIR_NODE) to DIR, or
 * mark DIR as one whose layer's own listing is the union's (pass).
 * 0, or -1 with errno. */
US_HIDDEN int us_dirstream_attach(DIR *dir, const struct us_mount *m,
				  const char *upath,
				  const struct us_node *dir_node);

/* The stream of DIR, or NULL for a plain DIR. The caller must hold the
 * stream's use to one thread, as POSIX asks of DIR streams. */
US_HIDDEN struct us_dirstream *us_dirstream_find(DIR *dir);

/* Detach and free DIR's stream, if any. */
US_HIDDEN void us_dirstream_detach(DIR *dir);

/* Reread the layers (rewinddir). 0, or -1 with errno. */
US_HIDDEN int us_dirstream_reload(struct us_dirstream *s);

#endif
