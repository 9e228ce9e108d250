/* exportindex.c: lower names a hard-link index answers (see
 * exportlist.h).
 *
 * When one name of a lower hard link is copied up, the shim (#index in
 * its work dir) and kernel overlayfs with index=on (index/ in its work
 * dir) answer every other name of that inode still only below with the
 * copy: in the union they are one file. A layer holding only the upper
 * would let them fall back to the old lower data and split the link
 * group, so each such name is exported too, as a hard link of the copy
 * (or, when no upper name is left, when it differs from the lower). The
 * change model (changes.h, with US_CHANGES_LINKS) names them, with the
 * entry answering each; it runs only when an index has entries. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exportlist.h"
#include "unionshim/changes.h"
#include "unionshim/path.h"

/* Does dir WORK/SUB hold anything? */
static bool has_entries(const char *work, const char *sub)
{
	char p[PATH_MAX];
	struct dirent *e;
	bool any = false;

	snprintf(p, sizeof p, "%s/%s", work, sub);
	DIR *d = opendir(p);
	while (d && !any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return any;
}

/* REL's ancestors, each with the metadata of the union's dir there. */
static int add_ancestors(const struct uc_layers *l, struct uc_xlist *x,
			 const char *rel)
{
	char *a = strdup(rel), *slash;
	int rc = a ? 0 : -1;

	while (rc == 0 && (slash = strrchr(a, '/'))) {
		*slash = '\0';
		char *up = uc_union_path(a), real[PATH_MAX];
		struct us_node node;
		struct stat st;
		if (up && us_walk_dirs(uc_mount(l), up, NULL, NULL, &node) == 0 &&
		    us_layer_path(uc_mount(l), node.layer, up, real, sizeof real) == 0 &&
		    lstat(real, &st) == 0)
			rc = uc_xlist_add(x, a, real, UC_X_OBJECT, 2, &st);
		free(up);
	}
	free(a);
	return rc;
}

int uc_xlist_from_index(const struct uc_layers *l, const char *cmd,
			struct uc_xlist *x)
{
	struct us_changes ch;
	size_t ul = strlen(l->cupper);
	int rc = 0;

	if (!has_entries(l->cwork, "#index") && !has_entries(l->cwork, "index"))
		return 0;
	if (us_changes_collect(&l->set, US_CHANGES_LINKS, &ch) < 0) {
		uc_say(cmd, "cannot read ", ch.errpath ? ch.errpath : l->cupper,
		       errno == ENOTSUP ? " (overlayfs redirect_dir/metacopy)" : NULL);
		us_changes_free(&ch);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < ch.n; i++) {
		const struct us_change *c = &ch.v[i];
		struct stat st;
		if ((c->kind != 'M' && c->kind != '=') || !c->real ||
		    us_path_under(c->real, l->cupper, ul) || lstat(c->real, &st) < 0)
			continue; /* not a lower name an index entry answers */
		if (c->kind == '=' && st.st_nlink <= 1)
			continue; /* the base layer has it so already */
		rc = uc_xlist_add(x, c->path, c->real, UC_X_OBJECT, 1, &st);
		if (rc == 0)
			rc = add_ancestors(l, x, c->path);
	}
	if (rc < 0)
		uc_say(cmd, "out of memory", NULL, NULL);
	us_changes_free(&ch);
	return rc;
}
