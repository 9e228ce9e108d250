/* upperwalk.c: the walk of an upper dir (see upperwalk.h). Each dir's
 * names are read whole and sorted before any is visited, so the order
 * never depends on the filesystem's; the union node of each dir comes from
 * the core's lookup, so "is there something below" is answered as the
 * shim answers it (opaque dirs and whiteouts of every layer honoured). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "upperwalk.h"
#include "unionshim/copyup.h"

int uc_name_cmp(const char *a, const char *b)
{
	bool ao = strcmp(a, UC_OPQ) == 0, bo = strcmp(b, UC_OPQ) == 0;

	if (ao || bo)
		return bo - ao;
	return strcmp(a, b);
}

static int by_name(const void *a, const void *b)
{
	return uc_name_cmp(*(char *const *)a, *(char *const *)b);
}

int uc_read_names(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return -1;
	for (struct dirent *e; (errno = 0, e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 16;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			break;
		v[++n] = NULL;
	}
	int err = errno;
	closedir(d);
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		errno = err;
		return -1;
	}
	if (!v && !(v = calloc(1, sizeof *v)))
		return -1;
	qsort(v, n, sizeof *v, by_name);
	*out = v;
	return (int)n;
}

const char *uc_overlay_only(const char *real)
{
	static const char *const names[] = {
		"trusted.overlay.redirect", "trusted.overlay.metacopy",
		"user.overlay.redirect", "user.overlay.metacopy"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (lgetxattr(real, names[i], NULL, 0) >= 0)
			return names[i];
	return NULL;
}

void uc_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

static bool xattr_y(const char *path, const char *name)
{
	char v[2];

	return lgetxattr(path, name, v, sizeof v) == 1 && v[0] == 'y';
}

static bool has_name(char **names, const char *name)
{
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* Does a layer below the upper show NAME in union dir UPATH (node DIR)
 * (as a dir, when DIRONLY)? */
static bool shown_below(const struct us_mount *m, const char *upath,
			const struct us_node *dir, const char *name, bool dironly)
{
	struct us_node below = *dir, child;

	below.dirs &= ~(us_layermask)1;
	if (!below.dirs || us_lookup_child(m, upath, &below, name, &child))
		return false;
	return !dironly || S_ISDIR(child.mode);
}

struct walk {
	const struct uc_layers *l;
	const char *cmd;
	int (*fn)(const struct uc_item *, void *);
	void *arg;
};

static char *join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);

	if (p)
		sprintf(p, "%s%s%s", a, *a ? "/" : "", b);
	return p;
}

static int walk_dir(struct walk *w, const char *rel, const char *real,
		    const char *upath, const struct us_node *node);

static int visit(struct walk *w, struct uc_item *it, char **names)
{
	const struct us_mount *m = uc_mount(w->l);
	const char *n = it->name;

	if (lstat(it->real, &it->st) < 0) {
		uc_say(w->cmd, "cannot read ", it->real, NULL);
		return -1;
	}
	it->kind = UC_OBJECT;
	if (strcmp(n, UC_OPQ) == 0)
		it->kind = UC_OPAQUE;
	else if (strncmp(n, ".wh..wh.", 8) == 0)
		it->kind = UC_META;
	else if (strncmp(n, ".wh.", 4) == 0)
		it->kind = UC_WHITEOUT, it->hides = n + 4;
	else if (S_ISCHR(it->st.st_mode) && it->st.st_rdev == makedev(0, 0))
		it->kind = UC_WHITEOUT_CHR, it->hides = n;
	if (it->hides) {
		it->sibling = it->kind == UC_WHITEOUT && has_name(names, it->hides);
		it->below = shown_below(m, it->dirupath, it->dir, it->hides, false);
	}
	if (it->kind != UC_OBJECT || !S_ISDIR(it->st.st_mode))
		return w->fn(it, w->arg);
	it->opaque_xattr = xattr_y(it->real, "trusted.overlay.opaque") ||
			   xattr_y(it->real, "user.overlay.opaque");
	char *marker = join(it->real, UC_OPQ);
	struct stat st;
	it->opaque = it->opaque_xattr || (marker && lstat(marker, &st) == 0);
	free(marker);
	it->below = shown_below(m, it->dirupath, it->dir, n, true);
	it->below_any = it->below || shown_below(m, it->dirupath, it->dir, n, false);
	int rc = w->fn(it, w->arg);
	if (rc)
		return rc;
	struct us_node child;
	char *up = malloc(strlen(it->dirupath) + strlen(n) + 2);
	if (!up)
		return -1;
	sprintf(up, "%s/%s", it->dirupath, n); /* union paths: "/a/b" */
	if (us_lookup_child(m, it->dirupath, it->dir, n, &child) != 0 ||
	    !S_ISDIR(child.mode)) { /* cannot be: the upper has a dir here */
		child.layer = 0;
		child.mode = it->st.st_mode;
		child.dirs = 1;
		child.flags = 0;
	}
	rc = walk_dir(w, it->rel, it->real, up, &child);
	free(up);
	return rc;
}

static int walk_dir(struct walk *w, const char *rel, const char *real,
		    const char *upath, const struct us_node *node)
{
	char **names;
	int n = uc_read_names(real, &names), rc = 0;

	if (n < 0) {
		uc_say(w->cmd, "cannot read dir ", real, NULL);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		struct uc_item it = {.name = names[i], .dirupath = upath, .dir = node};
		char *r = join(rel, names[i]), *p = join(real, names[i]);
		it.rel = r;
		it.real = p;
		rc = r && p ? visit(w, &it, names) : -1;
		free(r);
		free(p);
	}
	uc_names_free(names);
	return rc;
}

int uc_walk_upper(const struct uc_layers *l, const char *cmd,
		  int (*fn)(const struct uc_item *it, void *arg), void *arg)
{
	struct walk w = {l, cmd, fn, arg};
	struct us_node root;

	us_root_node(uc_mount(l), &root);
	return walk_dir(&w, "", uc_mount(l)->layers[0].path, "", &root);
}
