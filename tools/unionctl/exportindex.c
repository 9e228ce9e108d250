/* exportindex.c: lower names the link index answers (see exportlist.h).
 *
 * When one name of a lower hard link is copied up, the shim puts the copy
 * in the work dir (#index/<layer>-<ino>) and answers every other name of
 * that inode still only below with it: in the union they are one file. A
 * layer holding only the upper would let them fall back to the old lower
 * data, so each such name the union shows is exported too, as a hard link
 * of the copy; an entry no upper name uses any more (its names removed)
 * is exported when it differs from the lower file. Finding the names
 * takes a walk of the lower layers that have entries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exportlist.h"
#include "progress.h"
#include "unionshim/lookup.h"

struct ientry {
	int layer;
	uint64_t ino;
	char *real;
};

struct found {
	char *rel;
	size_t entry; /* index into the entries */
};

struct scan {
	const char *cmd;
	struct ientry *e;
	size_t ne;
	int layer;
	struct found *f;
	size_t nf, capf;
	uint64_t seen;
};

static int by_key(const void *pa, const void *pb)
{
	const struct ientry *a = pa, *b = pb;

	if (a->layer != b->layer)
		return a->layer - b->layer;
	return (a->ino > b->ino) - (a->ino < b->ino);
}

/* The entries of WORK/#index: names "<layer>-<ino>", LAYER a lower. */
static int read_index(const struct uc_layers *l, struct ientry **out, size_t *n)
{
	char *dir = malloc(strlen(l->cwork) + sizeof "/#index");
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!dir)
		return -1;
	sprintf(dir, "%s/#index", l->cwork);
	DIR *d = opendir(dir);
	if (!d) {
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	for (struct dirent *de; (de = readdir(d));) {
		int layer, used = 0;
		uint64_t ino;
		if (sscanf(de->d_name, "%d-%" SCNu64 "%n", &layer, &ino, &used) != 2 ||
		    de->d_name[used] || layer < 1 || layer >= uc_mount(l)->nlayers)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct ientry *v = realloc(*out, cap * sizeof *v);
			if (!v)
				break;
			*out = v;
		}
		struct ientry *e = &(*out)[*n];
		e->layer = layer;
		e->ino = ino;
		if (!(e->real = malloc(strlen(dir) + strlen(de->d_name) + 2)))
			break;
		sprintf(e->real, "%s/%s", dir, de->d_name);
		(*n)++;
	}
	closedir(d);
	free(dir);
	qsort(*out, *n, sizeof **out, by_key);
	return 0;
}

static int note(struct scan *s, const char *rel, size_t entry)
{
	if (s->nf == s->capf) {
		size_t cap = s->capf ? 2 * s->capf : 16;
		struct found *v = realloc(s->f, cap * sizeof *v);
		if (!v)
			return -1;
		s->f = v;
		s->capf = cap;
	}
	if (!(s->f[s->nf].rel = strdup(rel)))
		return -1;
	s->f[s->nf++].entry = entry;
	return 0;
}

/* Every name under real dir REAL (REL below the layer root) of layer
 * S->layer whose inode has an index entry. */
static int scan_dir(struct scan *s, const char *real, const char *rel)
{
	DIR *d = opendir(real);
	int rc = 0;

	if (!d)
		return 0; /* unreadable: the shim could not show it either */
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = malloc(strlen(real) + strlen(de->d_name) + 2);
		char *r = malloc(strlen(rel) + strlen(de->d_name) + 2);
		struct stat st;
		if (!p || !r) {
			rc = -1;
		} else {
			sprintf(p, "%s/%s", real, de->d_name);
			sprintf(r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
			uc_progress(s->cmd, ++s->seen, "lower names read", 0);
		}
		if (rc == 0 && lstat(p, &st) == 0) {
			struct ientry key = {.layer = s->layer, .ino = st.st_ino};
			struct ientry *hit;
			if (S_ISDIR(st.st_mode))
				rc = scan_dir(s, p, r);
			else if (st.st_nlink > 1 &&
				 (hit = bsearch(&key, s->e, s->ne, sizeof key, by_key)))
				rc = note(s, r, (size_t)(hit - s->e));
		}
		free(p);
		free(r);
	}
	closedir(d);
	return rc;
}

/* Is the union object at REL the lower inode of E (not shadowed, not
 * whited out, not under an opaque dir)? */
static bool shown(const struct uc_layers *l, const char *rel,
		  const struct ientry *e)
{
	char *up = uc_union_path(rel), *slash;
	struct us_node dir, child;
	bool yes = false;

	if (!up)
		return false;
	slash = strrchr(up, '/');
	*slash = '\0';
	if (us_walk_dirs(uc_mount(l), up, NULL, NULL, &dir) == 0 &&
	    us_lookup_child(uc_mount(l), up, &dir, slash + 1, &child) == 0)
		yes = child.layer == e->layer && child.ino == e->ino;
	free(up);
	return yes;
}

/* Does the index entry at A (stat SA) differ from the lower file B? */
static bool differs(const char *a, const struct stat *sa, const char *b)
{
	struct stat sb;
	char ba[4096], bb[4096];

	if (lstat(b, &sb) < 0 || sa->st_mode != sb.st_mode ||
	    sa->st_uid != sb.st_uid || sa->st_gid != sb.st_gid ||
	    sa->st_size != sb.st_size || sa->st_mtim.tv_sec != sb.st_mtim.tv_sec ||
	    sa->st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
		return true;
	if (S_ISLNK(sa->st_mode)) {
		ssize_t na = readlink(a, ba, sizeof ba), nb = readlink(b, bb, sizeof bb);
		return na != nb || na < 0 || memcmp(ba, bb, (size_t)na) != 0;
	}
	if (!S_ISREG(sa->st_mode))
		return false;
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	bool diff = fa < 0 || fb < 0;
	while (!diff) {
		ssize_t na = read(fa, ba, sizeof ba), nb = read(fb, bb, sizeof bb);
		diff = na != nb || na < 0 || memcmp(ba, bb, (size_t)(na > 0 ? na : 0));
		if (na <= 0)
			break;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return diff;
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

static int export_found(const struct uc_layers *l, struct scan *s,
			struct uc_xlist *x)
{
	for (size_t i = 0; i < s->nf; i++) {
		const struct ientry *e = &s->e[s->f[i].entry];
		const char *rel = s->f[i].rel;
		char lower[PATH_MAX];
		struct stat st;
		if (!shown(l, rel, e) || lstat(e->real, &st) < 0 ||
		    snprintf(lower, sizeof lower, "%s/%s", uc_mount(l)->layers[e->layer].path,
			     rel) >= (int)sizeof lower)
			continue;
		if (st.st_nlink <= 1 && !differs(e->real, &st, lower))
			continue; /* the base layer has it so already */
		if (uc_xlist_add(x, rel, e->real, UC_X_OBJECT, 1, &st) < 0 ||
		    add_ancestors(l, x, rel) < 0)
			return -1;
	}
	return 0;
}

int uc_xlist_from_index(const struct uc_layers *l, const char *cmd,
			struct uc_xlist *x)
{
	struct scan s = {.cmd = cmd};
	int rc = 0;

	if (read_index(l, &s.e, &s.ne) < 0) {
		uc_say(cmd, "cannot read the link index in ", l->work, NULL);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < s.ne; i++) {
		if (i && s.e[i].layer == s.e[i - 1].layer)
			continue; /* one walk a layer */
		s.layer = s.e[i].layer;
		rc = scan_dir(&s, uc_mount(l)->layers[s.layer].path, "");
	}
	if (rc == 0)
		rc = export_found(l, &s, x);
	if (rc < 0)
		uc_say(cmd, "out of memory", NULL, NULL);
	for (size_t i = 0; i < s.nf; i++)
		free(s.f[i].rel);
	for (size_t i = 0; i < s.ne; i++)
		free(s.e[i].real);
	free(s.f);
	free(s.e);
	return rc;
}
