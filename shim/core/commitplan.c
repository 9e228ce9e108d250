/* commitplan.c: the steps of a commit (see commitplan.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/commitplan.h"
#include "unionshim/lookup.h"
#include "unionshim/objcmp.h"
#include "unionshim/path.h"

static int push(struct us_plan *p, char kind, const char *path, const char *arg)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 64;
		struct us_op *v = realloc(p->v, nc * sizeof *v);
		if (!v)
			return -1;
		p->v = v;
		p->cap = nc;
	}
	struct us_op *o = &p->v[p->n];
	o->kind = kind;
	o->path = strdup(path);
	o->arg = strdup(arg ? arg : "");
	if (!o->path || !o->arg) {
		free(o->path);
		free(o->arg);
		return -1;
	}
	p->n++;
	return 0;
}

/* A hard-link group met so far: its object and its first name. */
struct group {
	dev_t dev;
	ino_t ino;
	const char *first;
};

/* Is PATH below dir DIR ("a" holds "a/b", not "ab")? */
static int below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The lowers below the topmost, as a union of their own (none: no
 * layers). The topmost's opaque root hides them all. */
static void deeper_init(const struct us_layerset *ls, struct us_mount *d)
{
	memset(d, 0, sizeof *d);
	d->target = (char *)"";
	for (int i = 1; ls && i < ls->below.nlayers; i++)
		d->layers[d->nlayers++] = ls->below.layers[i];
	d->root_dirs = ls ? ls->below.root_dirs >> 1 : 0;
}

/* Does union path PATH ("a/b") exist in D? Its mode in *MODE. */
static bool deeper_has(const struct us_mount *d, const char *path, mode_t *mode)
{
	const char *slash = strrchr(path, '/');
	struct us_node dir, child;
	char *up;

	if (!d->root_dirs || !(up = malloc(PATH_MAX)))
		return false;
	up[0] = '\0';
	us_root_node(d, &dir);
	bool found = false;
	if (slash)
		snprintf(up, PATH_MAX, "/%.*s", (int)(slash - path), path);
	if ((!slash || us_walk_dirs(d, up, NULL, NULL, &dir) == 0) && dir.dirs &&
	    us_lookup_child(d, up, &dir, slash ? slash + 1 : path, &child) == 0) {
		*mode = child.mode;
		found = true;
	}
	free(up);
	return found;
}

/* Is the upper's dir holding PATH opaque? Its union path ("." the root)
 * in *DIR (heap). */
static bool parent_opaque(const struct us_layerset *ls, const char *path, char **dir)
{
	const char *slash = strrchr(path, '/');
	char *real = NULL;

	*dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!*dir || asprintf(&real, "%s/%s", ls->m.layers[0].path, *dir) < 0)
		return false;
	bool o = us_layer_is_opaque(real);
	free(real);
	return o;
}

/* The steps for a name D removed: a removal, or (the lowers below still
 * hold it) a whiteout or the opaque mark of its dir. *OPQ: the last dir
 * marked. */
static int removed(const struct us_layerset *ls, const struct us_mount *d,
		   const char *path, struct us_plan *out, char **opq)
{
	char *dir = NULL;
	mode_t mode;

	if (!deeper_has(d, path, &mode))
		return push(out, US_OP_REMOVE, path, NULL);
	if (!parent_opaque(ls, path, &dir)) {
		int rc = dir ? push(out, US_OP_WHITEOUT, path, NULL) : -1;
		free(dir);
		return rc;
	}
	int rc = push(out, US_OP_REMOVE, path, NULL);
	if (rc == 0 && (!*opq || strcmp(*opq, dir)))
		rc = push(out, US_OP_OPAQUE, dir, NULL);
	free(*opq);
	*opq = dir;
	return rc;
}

int us_commit_plan(const struct us_layerset *ls, struct us_changes *c,
		   struct us_plan *out)
{
	struct group *g = NULL;
	size_t ng = 0, gcap = 0;
	const char *gone = NULL; /* the last dir removed whole */
	char *opq = NULL;        /* the last dir marked opaque */
	struct us_mount *d = malloc(sizeof *d);
	int rc = d ? 0 : -1;

	memset(out, 0, sizeof *out);
	if (d)
		deeper_init(ls, d);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct us_change *ch = &c->v[i];
		struct stat st;
		mode_t mode;
		if (ch->kind == 'D') {
			if (gone && below(ch->path, gone))
				continue;
			gone = ch->path;
			rc = removed(ls, d, ch->path, out, &opq);
			continue;
		}
		if (gone && below(ch->path, gone))
			continue; /* what a removed dir or a new non-dir held */
		if (!S_ISDIR(ch->type))
			gone = ch->path;
		if (S_ISDIR(ch->type)) {
			if (ch->kind == 'A' || (ch->what & US_DIFF_TYPE)) {
				rc = push(out, US_OP_MKDIR, ch->path, NULL);
				/* a new dir in the topmost would show theirs */
				if (rc == 0 && deeper_has(d, ch->path, &mode) &&
				    S_ISDIR(mode))
					rc = push(out, US_OP_OPAQUE, ch->path, NULL);
			}
			continue;
		}
		if (ch->data) {
			/* a metacopy: its metadata onto its data, which a
			 * lower below the topmost first gives the topmost */
			const struct us_layer *top = &ls->below.layers[0];
			if (!us_path_under(ch->data, top->path, top->len))
				rc = push(out, US_OP_INSTALL, ch->path, ch->data);
			if (rc == 0)
				rc = push(out, US_OP_META, ch->path, ch->real);
			continue;
		}
		if (SYS(lstat)(ch->real, &st) < 0) {
			if (!c->errpath)
				c->errpath = strdup(ch->real);
			rc = -1;
			break;
		}
		size_t k = 0;
		while (st.st_nlink > 1 && k < ng &&
		       (g[k].dev != st.st_dev || g[k].ino != st.st_ino))
			k++;
		if (st.st_nlink > 1 && k < ng) {
			rc = push(out, US_OP_LINK, ch->path, g[k].first);
			continue;
		}
		if (st.st_nlink > 1) {
			if (ng == gcap) {
				gcap = gcap ? 2 * gcap : 16;
				struct group *ng2 = realloc(g, gcap * sizeof *g);
				if (!ng2) {
					rc = -1;
					break;
				}
				g = ng2;
			}
			g[ng++] = (struct group){st.st_dev, st.st_ino, ch->path};
		}
		rc = push(out, US_OP_INSTALL, ch->path, ch->real);
	}
	/* dirs' metadata last, deepest first: their entries change their times */
	for (size_t i = c->n; rc == 0 && i-- > 0;) {
		const struct us_change *ch = &c->v[i];
		if (ch->kind != 'D' && S_ISDIR(ch->type))
			rc = push(out, US_OP_META, ch->path, ch->real);
	}
	int saved = errno;
	free(g);
	free(d);
	free(opq);
	if (rc < 0)
		us_plan_free(out);
	errno = saved;
	return rc;
}

int us_plan_format(const struct us_plan *p, char **buf, size_t *len)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += 1 + strlen(p->v[i].path) + 1 + strlen(p->v[i].arg) + 1;
	char *b = malloc(n ? n : 1);
	if (!b)
		return -1;
	size_t at = 0;
	for (size_t i = 0; i < p->n; i++) {
		size_t pl = strlen(p->v[i].path) + 1, al = strlen(p->v[i].arg) + 1;
		b[at++] = p->v[i].kind;
		memcpy(b + at, p->v[i].path, pl);
		memcpy(b + at + pl, p->v[i].arg, al);
		at += pl + al;
	}
	*buf = b;
	*len = n;
	return 0;
}

int us_plan_parse(const char *buf, size_t len, struct us_plan *out)
{
	memset(out, 0, sizeof *out);
	for (size_t at = 0; at < len;) {
		const char *path = buf + at + 1;
		const char *e1 = memchr(path, '\0', len - at - 1);
		const char *e2 = e1 ? memchr(e1 + 1, '\0', (size_t)(buf + len - e1 - 1)) : NULL;
		char k = buf[at];
		if (!e2 || !strchr("rdilmwo", k) || k == '\0' || !*path) {
			us_plan_free(out);
			errno = EINVAL;
			return -1;
		}
		if (push(out, k, path, e1 + 1) < 0) {
			int saved = errno;
			us_plan_free(out);
			errno = saved;
			return -1;
		}
		at = (size_t)(e2 - buf) + 1;
	}
	return 0;
}

void us_plan_free(struct us_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].arg);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}
