/* ldsearch.c: a name the dynamic loader is about to open, seen through
 * the union (see ldsearch.h).
 *
 * Paths reach us in three forms: union paths (an LD_LIBRARY_PATH or
 * RUNPATH entry under a target), real paths inside a layer ($ORIGIN
 * expands to the real dir an object was loaded from, e.g. UPPER/bin), and
 * relative paths (taken from the union cwd, the real cwd read back into
 * the union). Each is turned into a union path and resolved; the answer
 * is the real file of the winning layer, or NULL when the union hides the
 * name (whited out, or present only in a lower under an in-place target):
 * the lower's copy must never be loaded.
 *
 * A bare name is searched here, in ld.so's order, rather than candidate
 * by candidate: ld.so remembers a search dir it could not open a file in
 * and could not stat as "nonexistent" for the rest of the process, and a
 * dir that exists only in the union (a build dir in the upper) would be
 * dropped after its first miss. The callbacks are serialized by ld.so's
 * load lock, so the buffers are static: nothing large on the program's
 * stack (dlopen may run on a small thread stack). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldsearch.h"
#include "unionshim/handover.h"
#include "unionshim/linkindex.h"
#include "unionshim/lookup.h"
#include "unionshim/metacopy.h"
#include "unionshim/path.h"

static struct us_config cfg_store;
static int cfg_state; /* 0 unread, 2 text only, 1 ready, -1 none */
static struct us_resolved res;
static char answer[PATH_MAX];
static char upath[PATH_MAX];
static char scratch[PATH_MAX];
static char joined[PATH_MAX];
static char cand[PATH_MAX];

/* The configuration in full: adopted (a stat per dir) or validated;
 * else an empty one (no name touches it). */
static int load(const char *spec)
{
	char err[256];

	if (spec && *spec &&
	    us_config_load(spec, getenv(US_ENV_RESOLVED), &cfg_store, err,
			   sizeof err) >= 0)
		return 1;
	memset(&cfg_store, 0, sizeof cfg_store);
	return -1;
}

/* With a record made for the spec's text, the paths are read from the
 * text alone: most names ld.so asks about (every system library) lie
 * under no dir of the union, and deciding that needs no stat. The record
 * is checked (checked()) only when a name does touch the union. */
const struct us_config *us_ld_config(void)
{
	char err[256];

	if (cfg_state == 0) {
		const char *spec = getenv(US_ENV_MOUNTS);
		if (spec && *spec && us_handover_for(spec, getenv(US_ENV_RESOLVED)) &&
		    us_config_parse(spec, &cfg_store, err, sizeof err) == 0) {
			for (int k = 0; k < cfg_store.nmounts; k++)
				cfg_store.mounts[k].target_len =
					strlen(cfg_store.mounts[k].target);
			cfg_state = 2;
		} else {
			cfg_state = load(spec);
		}
	}
	return cfg_state > 0 ? &cfg_store : NULL;
}

/* The configuration, checked: NULL when it is not good. */
static const struct us_config *checked(void)
{
	if (cfg_state == 2) {
		us_config_free(&cfg_store);
		cfg_state = load(getenv(US_ENV_MOUNTS));
	}
	return cfg_state == 1 ? &cfg_store : NULL;
}

/* The union cwd: the real cwd, read back into the union when it lies in a
 * layer (the preload library keeps the real cwd in the topmost layer's
 * copy of the union dir). */
static int union_cwd(const struct us_config *cfg, char *out, size_t len)
{
	if (!getcwd(scratch, sizeof scratch))
		return -1;
	if (us_revmap(cfg, scratch, out, len, NULL) == 1)
		return 0;
	if (strlen(scratch) + 1 > len)
		return -1;
	strcpy(out, scratch);
	return 0;
}

/* NAME as an absolute union path in UPATH (a real path inside a layer is
 * read back into its mount). */
static int to_union(const struct us_config *cfg, const char *name)
{
	const char *abs = name;

	if (name[0] != '/') {
		if (union_cwd(cfg, upath, sizeof upath) < 0 ||
		    us_path_join(joined, sizeof joined, upath, name) < 0)
			return -1;
		abs = joined;
	}
	switch (us_revmap(cfg, abs, upath, sizeof upath, NULL)) {
	case 1:
		return 0;
	case 0:
		if (strlen(abs) + 1 > sizeof upath)
			return -1;
		memmove(upath, abs, strlen(abs) + 1);
		return 0;
	default:
		return -1;
	}
}

enum { LD_PASS, LD_FOUND, LD_NONE };

/* Resolve UPATH: LD_PASS when the union has no say, LD_FOUND with the real
 * file in ANSWER, LD_NONE when the union has nothing there. */
static int lookup(const struct us_config *cfg)
{
	if (!us_touches_union(cfg, upath))
		return LD_PASS;
	if (!checked())
		return LD_PASS; /* as when there is no union to speak of */
	if (us_resolve(cfg, upath, 0, &res) < 0 || res.err)
		return LD_NONE;
	if (res.where == US_OUTSIDE) { /* a symlink out of the union */
		if (strlen(res.path) + 1 > sizeof answer)
			return LD_NONE;
		strcpy(answer, res.path);
		return LD_FOUND;
	}
	if (us_index_find(res.m, &res.node, answer, sizeof answer) == 1)
		return LD_FOUND; /* a hard link copied up by another name */
	if (us_node_metacopy(&res.node)) /* its data: a lower file */
		return us_metacopy_data(res.m, res.path, &res.node, answer,
					sizeof answer, NULL) < 0 ? LD_NONE : LD_FOUND;
	if (us_layer_path(res.m, res.node.layer, res.path, answer,
			  sizeof answer) < 0)
		return LD_NONE;
	return LD_FOUND;
}

char *us_ld_candidate(const struct us_config *cfg, const char *name)
{
	if (to_union(cfg, name) < 0)
		return (char *)name;
	switch (lookup(cfg)) {
	case LD_FOUND:
		return answer;
	case LD_NONE:
		return NULL;
	default:
		return (char *)name;
	}
}

/* $ORIGIN and ${ORIGIN} at the start of a DT_NEEDED or dlopen name: the
 * real dir LOADER was loaded from (ld.so expands them only after asking
 * us). Other tokens ($LIB, $PLATFORM) are left to ld.so. */
static const char *expand_origin(const char *name, struct link_map *loader)
{
	size_t skip = strncmp(name, "$ORIGIN/", 8) == 0	  ? 7
		      : strncmp(name, "${ORIGIN}/", 10) == 0 ? 9
							   : 0;
	ssize_t n;

	if (!skip || !loader)
		return NULL;
	if (loader->l_name && loader->l_name[0] == '/') {
		n = (ssize_t)strlen(loader->l_name);
		if ((size_t)n + 1 > sizeof scratch)
			return NULL;
		memcpy(scratch, loader->l_name, (size_t)n + 1);
	} else { /* the main program */
		n = readlink("/proc/self/exe", scratch, sizeof scratch - 1);
		if (n < 0)
			return NULL;
		scratch[n] = '\0';
	}
	char *slash = strrchr(scratch, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (us_path_join(joined, sizeof joined, scratch[0] ? scratch : "/",
			 name + skip + 1) < 0)
		return NULL;
	return joined;
}

/* Does object L's dynamic section have an entry TAG? */
static int has_tag(const struct link_map *l, ElfW(Sxword) tag)
{
	for (const ElfW(Dyn) *d = l ? l->l_ld : NULL; d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return 1;
	return 0;
}

static int rpath_seen; /* some object loaded so far has a DT_RPATH */

void us_ld_object(struct link_map *map)
{
	if (!rpath_seen && has_tag(map, DT_RPATH))
		rpath_seen = 1;
}

/* Can the search for a bare name asked by LOADER reach a dir the system
 * does not list? Not without a DT_RPATH (the loader's, its loaders' or
 * the program's), the loader's DT_RUNPATH or LD_LIBRARY_PATH (as ld.so
 * read it at startup: getenv reads the environment ld.so started with). */
static int custom_search(struct link_map *loader)
{
	static int env = -1;

	if (env < 0) {
		const char *v = getenv("LD_LIBRARY_PATH");
		env = v && *v;
	}
	return env || rpath_seen || has_tag(loader, DT_RUNPATH);
}

/* ld.so's own answer to dlinfo(RTLD_DI_SERINFOSIZE / RTLD_DI_SERINFO):
 * libc's dlinfo is this call. The audit library links no libc (sysraw.c),
 * so it asks ld.so directly. */
extern void _dl_rtld_di_serinfo(struct link_map *loader, Dl_serinfo *si,
				_Bool counting);

/* LOADER's search dirs, as ld.so would walk them (RTLD_DI_SERINFO). */
static Dl_serinfo *search_dirs(struct link_map *loader)
{
	Dl_serinfo size, *si;

	_dl_rtld_di_serinfo(loader, &size, 1);
	si = malloc(size.dls_size);
	if (!si)
		return NULL;
	si->dls_size = size.dls_size;
	si->dls_cnt = size.dls_cnt;
	_dl_rtld_di_serinfo(loader, si, 0);
	return si;
}

/* The first of LOADER's search dirs (DT_RPATH chain, LD_LIBRARY_PATH,
 * DT_RUNPATH, then the system dirs: glibc leaves dls_flags 0, so they are
 * not told apart) that holds NAME: LD_FOUND with ANSWER set, or LD_PASS
 * (none, or a real dir no union dir comes before: ld.so's own search
 * finds it there without walking a union dir). ld.so's walk must not
 * pass a union dir that has no real counterpart: it would mark the dir
 * missing for the rest of the process. Unlike ld.so, the hwcaps subdirs
 * of a dir are not searched. */
static int search(const struct us_config *cfg, const char *name,
		  const Dl_serinfo *si)
{
	int union_seen = 0;

	for (unsigned i = 0; i < si->dls_cnt; i++) {
		const Dl_serpath *sp = &si->dls_serpath[i];
		if (us_path_join(cand, sizeof cand, sp->dls_name, name) < 0 ||
		    to_union(cfg, cand) < 0)
			continue;
		switch (lookup(cfg)) {
		case LD_FOUND:
			return LD_FOUND;
		case LD_PASS:
			if (access(upath, F_OK) != 0)
				break;
			if (!union_seen)
				return LD_PASS;
			strcpy(answer, upath); /* both PATH_MAX */
			return LD_FOUND;
		default:
			union_seen = 1;
			break;
		}
	}
	return LD_PASS;
}

char *us_ld_orig(const struct us_config *cfg, const char *name,
		 struct link_map *loader)
{
	if (strchr(name, '/')) {
		const char *path = strchr(name, '$') ? expand_origin(name, loader)
						     : name;
		char *r = path ? us_ld_candidate(cfg, path) : (char *)name;
		return r == path ? (char *)name : r;
	}
	if (!custom_search(loader))
		return (char *)name; /* the system dirs: each candidate comes by */
	Dl_serinfo *si = loader ? search_dirs(loader) : NULL;
	if (!si)
		return (char *)name;
	int found = search(cfg, name, si);
	int saved = errno;
	free(si);
	errno = saved;
	return found == LD_FOUND ? answer : (char *)name;
}
