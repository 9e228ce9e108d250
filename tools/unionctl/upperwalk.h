/* upperwalk.h: every entry of an upper dir, in a fixed order, told apart
 * the way the shim reads them: objects, whiteouts (OCI .wh.NAME or an
 * overlayfs char device 0/0), opaque markers, other .wh..wh. names. */
#ifndef UPPERWALK_H
#define UPPERWALK_H

#include <stdbool.h>
#include <sys/stat.h>

#include "uclayers.h"

#define UC_OPQ ".wh..wh..opq"

enum uc_kind {
	UC_OBJECT,      /* a file, dir, symlink, device, fifo or socket */
	UC_WHITEOUT,    /* .wh.NAME */
	UC_WHITEOUT_CHR, /* a char device 0/0 in NAME's place */
	UC_OPAQUE,      /* .wh..wh..opq */
	UC_META,        /* another .wh..wh. name (OCI reserves them) */
};

struct uc_item {
	enum uc_kind kind;
	const char *rel;   /* "a/b": the entry's path below the upper */
	const char *real;  /* its real path */
	const char *name;  /* its name in its dir */
	const char *hides; /* whiteouts: the name hidden; else NULL */
	struct stat st;
	const char *dirupath;      /* the union path of its dir */
	const struct us_node *dir; /* and that dir's union node */
	bool sibling;  /* whiteouts: the upper dir holds NAME too */
	bool below;    /* whiteouts: a lower shows NAME here; dirs: a lower
			  shows a dir here (which an opaque dir hides) */
	bool below_any; /* dirs: a lower shows anything at all here */
	bool opaque;   /* dirs: opaque (marker file or overlay xattr) */
	bool opaque_xattr; /* dirs: opaque by trusted./user.overlay.opaque */
};

/* Call FN for every entry under the upper of L, depth first, a dir before
 * its entries, each dir's opaque marker first and then its other names in
 * byte order. FN's nonzero return stops the walk and is returned; -1 after
 * a message naming CMD when a dir cannot be read. */
int uc_walk_upper(const struct uc_layers *l, const char *cmd,
		  int (*fn)(const struct uc_item *it, void *arg), void *arg);

/* The overlayfs xattr (redirect_dir, metacopy) that makes the upper
 * object at REAL depend on a lower in a way the shim does not read, or
 * NULL. */
const char *uc_overlay_only(const char *real);

/* The names in real dir DIR but "." and "..", sorted as the walk sorts
 * them, into *OUT (NULL-ended; free with uc_names_free). The count, or -1
 * with errno. */
int uc_read_names(const char *dir, char ***out);
void uc_names_free(char **names);

/* Compare two names as the walk orders them (UC_OPQ first). */
int uc_name_cmp(const char *a, const char *b);

#endif
