/* exportlist.c: the entries of an exported layer (see exportlist.h). The
 * upper is read as the shim reads it (upperwalk.c); what is private to
 * the shim (its xattrs, the work dir) is never listed, and overlayfs's
 * own forms are turned into OCI's: a char device 0/0 becomes .wh.NAME,
 * an opaque xattr becomes .wh..wh..opq. Layers that need overlayfs
 * features unionshim does not read (redirect_dir, metacopy) are refused:
 * their upper alone does not say what the union shows. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "exportlist.h"
#include "unionctl.h"
#include "unionshim/metacopy.h"
#include "unionshim/path.h"
#include "upperwalk.h"

int uc_xlist_add(struct uc_xlist *x, const char *path, const char *src,
		 enum uc_xkind kind, int prio, const struct stat *st)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 256;
		struct uc_xent *v = realloc(x->v, cap * sizeof *v);
		if (!v)
			return -1;
		x->v = v;
		x->cap = cap;
	}
	struct uc_xent *e = &x->v[x->n];
	memset(e, 0, sizeof *e);
	e->path = strdup(path);
	e->src = src ? strdup(src) : NULL;
	if (!e->path || (src && !e->src)) {
		free(e->path);
		free(e->src);
		return -1;
	}
	e->kind = kind;
	e->prio = prio;
	if (st)
		e->st = *st;
	x->n++;
	return 0;
}

void uc_xlist_free(struct uc_xlist *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].path);
		free(x->v[i].src);
		free(x->v[i].data);
	}
	free(x->v);
	x->v = NULL;
	x->n = x->cap = 0;
}

/* Names of LA and LB bytes, ordered as uc_name_cmp orders them. */
static int comp_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	size_t lo = sizeof UC_OPQ - 1;
	bool ao = la == lo && !memcmp(a, UC_OPQ, lo);
	bool bo = lb == lo && !memcmp(b, UC_OPQ, lo);

	if (ao || bo)
		return bo - ao;
	int c = memcmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

int uc_path_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
		int c = comp_cmp(a, la, b, lb);
		if (c)
			return c;
		a += la + (a[la] == '/');
		b += lb + (b[lb] == '/');
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int by_path(const void *pa, const void *pb)
{
	const struct uc_xent *a = pa, *b = pb;
	int c = uc_path_cmp(a->path, b->path);

	return c ? c : a->prio - b->prio;
}

static char *marker_of(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 6);

	if (p)
		sprintf(p, "%s%s.wh.%s", dir, *dir ? "/" : "", name);
	return p;
}

struct collect {
	const char *cmd;
	struct uc_xlist *x;
	size_t renamed; /* dirs with a redirect record */
	const struct uc_layers *l;
};

/* The entry just added for IT, a metacopy of the shim (metacopy.h),
 * takes its data from the lower file below it. 0, or -1 after a
 * message. */
static int metacopy_data(struct collect *c, const struct uc_item *it)
{
	const struct us_mount *m = uc_mount(c->l);
	char dir[PATH_MAX], data[PATH_MAX];
	us_layermask b = it->dir ? us_metacopy_below(m, it->dirupath, it->dir, it->name)
				 : 0;
	int d = b ? __builtin_ctzll(b) : 64;
	struct stat st;

	if (d >= m->nlayers || us_layer_path(m, d, it->dirupath, dir, sizeof dir) < 0 ||
	    us_path_join(data, sizeof data, dir, it->name) < 0 ||
	    lstat(data, &st) < 0 || !S_ISREG(st.st_mode)) {
		uc_say(c->cmd, "cannot export ", it->real,
		       ": a metacopy whose data no --lower dir holds");
		return -1;
	}
	return (c->x->v[c->x->n - 1].data = strdup(data)) ? 0 : -1;
}

static int add_marker(struct collect *c, const struct uc_item *it,
		      const char *name)
{
	char *dir = strdup(it->rel), *slash = dir ? strrchr(dir, '/') : NULL;
	char *p = NULL;

	if (dir) {
		if (slash)
			*slash = '\0';
		else
			*dir = '\0';
		p = marker_of(dir, name);
	}
	int rc = p ? uc_xlist_add(c->x, p, NULL, UC_X_MARKER, 0, NULL) : -1;
	free(dir);
	free(p);
	return rc;
}

static int collect(const struct uc_item *it, void *arg)
{
	struct collect *c = arg;
	const char *bad;

	switch (it->kind) {
	case UC_OPAQUE:
		return uc_xlist_add(c->x, it->rel, NULL, UC_X_MARKER, 0, NULL);
	case UC_WHITEOUT: /* beside its own name it hides nothing the view shows */
		return it->sibling ? 0
				   : uc_xlist_add(c->x, it->rel, NULL, UC_X_MARKER, 0, NULL);
	case UC_WHITEOUT_CHR:
		return add_marker(c, it, it->name);
	case UC_META:
		uc_say(c->cmd, "left out (an OCI name with no meaning here): ",
		       it->real, NULL);
		return 0;
	case UC_OBJECT:
		break;
	}
	if ((bad = uc_overlay_only(it->real))) {
		uc_say(c->cmd, "cannot export ", it->real, NULL);
		uc_say(c->cmd, "  it has the overlayfs xattr ", bad,
		       " (redirect_dir/metacopy layers are not supported)");
		return -1;
	}
	if (S_ISSOCK(it->st.st_mode)) {
		uc_say(c->cmd, "left out (tar holds no sockets): ", it->real, NULL);
		return 0;
	}
	if (uc_xlist_add(c->x, it->rel, it->real, UC_X_OBJECT, 0, &it->st) < 0)
		return -1;
	if (S_ISDIR(it->st.st_mode)) {
		int rd = uc_xlist_redirect_marker(c->x, it->rel, it->real);
		if (rd < 0)
			return -1;
		c->renamed += (size_t)rd;
	}
	if (S_ISREG(it->st.st_mode) && us_metacopy_is(it->real, &it->st) &&
	    metacopy_data(c, it) < 0)
		return -1;
	if (S_ISDIR(it->st.st_mode) && it->opaque_xattr) {
		char *m = malloc(strlen(it->rel) + sizeof "/" UC_OPQ);
		if (!m)
			return -1;
		sprintf(m, "%s/" UC_OPQ, it->rel);
		int rc = uc_xlist_add(c->x, m, NULL, UC_X_MARKER, 0, NULL);
		free(m);
		return rc;
	}
	return 0;
}

static bool root_opaque(const char *root)
{
	char v[2];

	return (lgetxattr(root, "trusted.overlay.opaque", v, sizeof v) == 1 ||
		lgetxattr(root, "user.overlay.opaque", v, sizeof v) == 1) &&
	       v[0] == 'y';
}

int uc_xlist_build(const struct uc_layers *l, const char *cmd,
		   struct uc_xlist *x)
{
	struct collect c = {cmd, x, 0, l};

	if (uc_walk_upper(l, cmd, collect, &c) != 0)
		return -1;
	if (root_opaque(uc_mount(l)->layers[0].path) &&
	    uc_xlist_add(x, UC_OPQ, NULL, UC_X_MARKER, 0, NULL) < 0)
		return -1;
	if (l->work && uc_mount(l)->nlayers > 1 && uc_xlist_from_index(l, cmd, x) < 0)
		return -1;
	if (c.renamed && uc_xlist_from_moves(l, cmd, x) < 0)
		return -1;
	qsort(x->v, x->n, sizeof *x->v, by_path);
	/* one entry a path: the first (the upper's, else its ancestor's) */
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (k && strcmp(x->v[k - 1].path, x->v[i].path) == 0) {
			free(x->v[i].path);
			free(x->v[i].src);
			free(x->v[i].data);
			continue;
		}
		x->v[k++] = x->v[i];
	}
	x->n = k;
	return 0;
}
