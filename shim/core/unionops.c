/* unionops.c: unlink, rmdir and rename in a union (see unionops.h).
 *
 * Removing a name that exists below leaves a whiteout, written before the
 * upper object goes so the lower one never shows through; a removed upper
 * dir that still holds whiteouts is first renamed into the work dir (it
 * vanishes at once) and emptied there; an empty one is removed in place.
 * Rename follows overlayfs with redirect_dir=on: a dir that exists below
 * is copied up alone (its tree stays below) and its upper dir, moved,
 * carries a redirect record naming where its lower half lies
 * (redirect.h); an upper that takes no user xattr answers EXDEV (mv then
 * copies). A dir without a lower half moved onto a name that hides
 * something below becomes opaque first. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "ownwrite.h"
#include "sys.h"
#include "unionshim/event.h"
#include "unionshim/copyup.h"
#include "unionshim/identity.h"
#include "unionshim/lcache.h"
#include "unionshim/linkindex.h"
#include "unionshim/mayact.h"
#include "unionshim/dirmerge.h"
#include "unionshim/path.h"
#include "unionshim/redirect.h"
#include "unionshim/unionops.h"
#include "unionshim/scratch.h"

static const char *last_name(const char *upath)
{
	return strrchr(upath, '/') + 1;
}

static void parent_of(const char *upath, char *out)
{
	size_t len = strlen(upath);

	memcpy(out, upath, len + 1);
	us_path_pop(out, &len);
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* The union dir UPATH (node N) lists nothing but "." and "..". */
static int union_dir_empty(const struct us_mount *m, const char *upath,
			   const struct us_node *n)
{
	struct us_dirlist l;
	size_t names = 0;

	if (us_dir_merge(m, upath, n->dirs, &l) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		const char *name = us_dirlist_at(&l, i)->d_name;
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
			names++;
	}
	us_dirlist_free(&l);
	return names ? fail(ENOTEMPTY) : 0;
}

static bool name_below(const struct us_resolved *r)
{
	US_SCRATCH_SCOPE;
	struct {
		char parent[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;

	parent_of(r->path, lp->parent);
	return us_exists_below(r->m, lp->parent, &r->parent, last_name(r->path));
}

/* Remove the upper dir of UPATH: in place when it is really empty (any
 * uid that may remove it natively can, without the work dir); else it
 * holds whiteouts: take it out of sight (into the work dir) first, then
 * remove it with them. */
static int remove_upper_dir(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
		char tmp[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	static unsigned long counter;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	if (SYS(rmdir)(sb->up) == 0)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return -1;
	snprintf(sb->tmp, sizeof sb->tmp, "%s/#us.%d.r%lu", m->work, (int)us_temp_pid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	/* a read-only dir of the caller's own: moving it out and emptying
	 * it need its write permission (ownwrite.h); it is going anyway */
	struct us_ownwrite w;
	us_ownwrite_open(sb->up, NULL, &w);
	if (SYS(rename)(sb->up, sb->tmp) < 0) {
		us_ownwrite_close(sb->up, &w);
		return -1;
	}
	if (us_real_dir_clear(sb->tmp) < 0 || SYS(rmdir)(sb->tmp) < 0) {
		int saved = errno;
		SYS(rename)(sb->tmp, sb->up); /* put it back: something real was in it */
		errno = saved;
		us_ownwrite_close(sb->up, &w);
		return -1;
	}
	return 0;
}

/* Tell lookup caches (lcache.h) that the names UPATH (and NEWPATH, when
 * not NULL) change, and every name below when a dir moves or goes: begun
 * before the change, ended after it whether it worked or not (a failed
 * one may have been seen half done). Keeps errno. */
struct change {
	const struct us_mount *m;
	const char *upath, *newpath;
	bool dir, begun, begun_new;
};

static void change_begin(struct change *c, const struct us_mount *m,
			 const char *upath, const char *newpath, bool dir)
{
	c->m = m;
	c->upath = upath;
	c->newpath = newpath;
	c->dir = dir;
	c->begun = us_lcache_change_begin(m, upath, dir);
	c->begun_new = newpath && us_lcache_change_begin(m, newpath, false);
}

static void change_end(const struct change *c)
{
	if (c->newpath)
		us_lcache_change_end(c->m, c->newpath, false, c->begun_new);
	us_lcache_change_end(c->m, c->upath, c->dir, c->begun);
}

static int remove_name(const struct us_resolved *r, bool isdir);

int us_union_remove(const struct us_resolved *r, bool isdir)
{
	const struct us_mount *m = r->m;
	bool dir = S_ISDIR(r->node.mode);

	if (!m->has_upper)
		return fail(EROFS);
	if (!r->parent_ok)
		return fail(strcmp(r->path, m->target) == 0 ? EBUSY : EINVAL);
	/* the kernel's may_delete: permission, the sticky rule, then kind */
	if (us_may_change_name(m, r->path, &r->parent, &r->node) < 0)
		return -1;
	if (isdir && !dir)
		return fail(ENOTDIR);
	if (!isdir && dir)
		return fail(EISDIR);
	if (isdir && union_dir_empty(m, r->path, &r->node) < 0)
		return -1;
	struct change c;
	change_begin(&c, m, r->path, NULL, isdir);
	int rc = remove_name(r, isdir);
	change_end(&c);
	return rc;
}

static int remove_name(const struct us_resolved *r, bool isdir)
{
	const struct us_mount *m = r->m;
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	bool below = name_below(r), made = false;
	/* a long name's whiteout takes the name's place: the upper object
	 * leaves it behind as it goes */
	if (below && r->node.layer == 0 && !us_whiteout_oci(m, r->path)) {
		if (!isdir && us_layer_path(m, 0, r->path, sb->up, sizeof sb->up) == 0)
			us_origin_forget_aside(m, sb->up);
		if (us_upper_remove_whiteout(m, r->path, isdir) < 0)
			return -1;
		us_event("whiteout", r->path, -1);
		return 0;
	}
	struct us_index_drop drop = {.lock = -1};
	if (r->node.layer != 0 &&
	    us_index_drop_begin(m, r->path, &r->node, &drop) < 0)
		return -1;
	if (below) {
		US_SCRATCH_SCOPE;
		struct {
			char parent[US_PATH_MAX];
		} *sb1 = us_scratch_push(sizeof *sb1);
		if (!sb1)
			return -1;
		parent_of(r->path, sb1->parent);
		if (us_copyup_dir(m, sb1->parent) < 0 ||
		    us_whiteout_create(m, r->path) < 0) {
			us_index_drop_end(&drop, false);
			return -1;
		}
		made = true;
	}
	us_index_drop_end(&drop, true);
	if (r->node.layer != 0) {
		us_event("whiteout", r->path, -1);
		return 0; /* only below: the whiteout did it */
	}
	int rc;
	if (isdir)
		rc = remove_upper_dir(m, r->path);
	else
		rc = us_layer_path(m, 0, r->path, sb->up, sizeof sb->up) < 0
			     ? -1
			     : (us_origin_forget_aside(m, sb->up), SYS(unlink)(sb->up));
	if (rc < 0 && made) {
		int saved = errno;
		us_whiteout_clear(m, r->path);
		errno = saved;
	}
	if (rc == 0 && made)
		us_event("whiteout", r->path, -1);
	return rc;
}

static bool dir_has_lower(const struct us_node *n)
{
	return S_ISDIR(n->mode) && (n->layer != 0 || (n->dirs & ~(us_layermask)1));
}

/* Do N1 and N2 name one object (one name, or two hard links of one
 * file in one layer)? */
static bool same_object(const struct us_node *n1, const struct us_node *n2)
{
	return n1->layer == n2->layer && n1->dev == n2->dev &&
	       n1->ino == n2->ino && n1->ino != 0;
}

/* vfs_rename's permission checks, on dirs and objects that lie in a
 * lower only (mayact.h): both names' dirs, the sticky rule, and a dir
 * moved to another dir (its ".." changes). */
static int rename_may(const struct us_resolved *o, const struct us_resolved *n,
		      bool exchange)
{
	bool nexists = n->err == 0;
	US_SCRATCH_SCOPE;
	struct {
		char op[US_PATH_MAX];
		char np[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_may_change_name(o->m, o->path, &o->parent, &o->node) < 0 ||
	    ((nexists || n->parent_ok) &&
	     us_may_change_name(o->m, n->path, &n->parent,
				nexists ? &n->node : NULL) < 0))
		return -1;
	parent_of(o->path, sb->op);
	parent_of(n->path, sb->np);
	if (strcmp(sb->op, sb->np) == 0)
		return 0;
	if (S_ISDIR(o->node.mode) && us_may_move_dir(o->m, o->path, &o->node) < 0)
		return -1;
	if (exchange && S_ISDIR(n->node.mode) &&
	    us_may_move_dir(o->m, n->path, &n->node) < 0)
		return -1;
	return 0;
}

/* Checks of rename(2) and ovl_rename before anything is changed: -1 with
 * errno, 1 when there is nothing to do, else 0. */
static int rename_checks(const struct us_resolved *o,
			 const struct us_resolved *n, unsigned flags)
{
	bool odir = S_ISDIR(o->node.mode), nexists = n->err == 0;
	bool oslash = flags & US_RENAME_OLD_SLASHED;
	bool nslash = flags & US_RENAME_NEW_SLASHED;
	bool exchange = flags & RENAME_EXCHANGE;

	flags &= ~(US_RENAME_OLD_SLASHED | US_RENAME_NEW_SLASHED);
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return fail(EINVAL);
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return fail(EINVAL);
	if (!o->m->has_upper)
		return fail(EROFS);
	if (!o->parent_ok || (nexists && !n->parent_ok))
		return fail(EBUSY);
	if (us_is_reserved_name(last_name(n->path)))
		return fail(EINVAL);
	if ((flags & RENAME_NOREPLACE) && nexists)
		return fail(EEXIST);
	if (exchange && !nexists)
		return fail(ENOENT);
	/* the kernel's order (do_renameat2): names written "name/" must be
	 * dirs; then OLD above NEW's dir, NEW above OLD's */
	if (exchange && nslash && !S_ISDIR(n->node.mode))
		return fail(ENOTDIR);
	if (!odir && (oslash || (!exchange && nslash)))
		return fail(ENOTDIR);
	if (odir && strcmp(o->path, n->path) != 0 &&
	    us_path_under(n->path, o->path, strlen(o->path)))
		return fail(EINVAL);
	if (nexists && strcmp(o->path, n->path) != 0 &&
	    us_path_under(o->path, n->path, strlen(n->path)))
		return fail(exchange ? EINVAL : ENOTEMPTY);
	if (nexists && same_object(&o->node, &n->node))
		return 1; /* rename(2): one object under both names: nothing */
	if (rename_may(o, n, exchange) < 0)
		return -1;
	if (nexists && !exchange) {
		bool ndir = S_ISDIR(n->node.mode);
		if (odir && !ndir)
			return fail(ENOTDIR);
		if (!odir && ndir)
			return fail(EISDIR);
		/* a dir of the upper alone: its real rename says ENOTEMPTY,
		 * after OLD's copy-up (overlayfs checks only a dir with a
		 * lower half first) */
		bool upper_only = n->node.layer == 0 && n->node.dirs == 1;
		if (ndir && !upper_only &&
		    union_dir_empty(o->m, n->path, &n->node) < 0)
			return -1;
	}
	return 0;
}

/* The copied-up dir UPATH (node N, with a lower half) is about to move:
 * give it a redirect record to where the lowers hold it, unless it has
 * one. */
static int keep_lower_half(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
		char low[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	int has = us_redirects_maybe(m)
			  ? us_redirect_read(sb->up, sb->low, sizeof sb->low)
			  : 0;
	if (has != 0)
		return has < 0 ? -1 : 0;
	if (us_lower_upath(m, upath, sb->low, sizeof sb->low) < 0)
		return -1;
	const char *value = sb->low[m->target_len] ? sb->low + m->target_len : "/";
	return us_redirect_write(m, upath, value);
}

/* Make the upper dir of UPATH opaque (it is about to stand where
 * something lies below: at SHOWN, once renamed). */
static int make_opaque(const struct us_mount *m, const char *upath,
		       const char *shown)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
		char marker[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0 ||
	    us_path_join(sb->marker, sizeof sb->marker, sb->up, US_WH_OPAQUE) < 0)
		return -1;
	int rc = us_make_marker(sb->marker, false);
	if (rc < 0 && errno == EACCES) { /* a read-only dir of the caller's */
		struct us_ownwrite w;
		us_ownwrite_open(sb->up, NULL, &w);
		if (w.opened) {
			rc = us_make_marker(sb->marker, false);
			us_ownwrite_close(sb->up, &w);
		}
	}
	if (rc < 0)
		return -1;
	us_event("opaque", shown, -1);
	return 0;
}

static int rename_names(const struct us_resolved *o,
			const struct us_resolved *n, unsigned flags);

int us_union_rename(const struct us_resolved *o, const struct us_resolved *n,
		    unsigned flags)
{
	int checked = rename_checks(o, n, flags);
	if (checked != 0 || strcmp(o->path, n->path) == 0)
		return checked < 0 ? -1 : 0;
	flags &= ~(US_RENAME_OLD_SLASHED | US_RENAME_NEW_SLASHED);
	struct change c;
	change_begin(&c, o->m, o->path, n->path,
		     S_ISDIR(o->node.mode) || (n->err == 0 && S_ISDIR(n->node.mode)));
	int rc = rename_names(o, n, flags);
	change_end(&c);
	return rc;
}

static int rename_names(const struct us_resolved *o,
			const struct us_resolved *n, unsigned flags)
{
	const struct us_mount *m = o->m;
	US_SCRATCH_SCOPE;
	struct {
		char oup[US_PATH_MAX];
		char nup[US_PATH_MAX];
		char nparent[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	bool exchange = flags & RENAME_EXCHANGE;

	parent_of(n->path, sb->nparent);
	if (us_copyup(m, o->path, &o->node, true) < 0 ||
	    (exchange && us_copyup(m, n->path, &n->node, true) < 0) ||
	    us_copyup_dir(m, sb->nparent) < 0)
		return -1;
	bool o_redir = dir_has_lower(&o->node);
	bool n_redir = exchange && dir_has_lower(&n->node);
	if ((o_redir && keep_lower_half(m, o->path) < 0) ||
	    (n_redir && keep_lower_half(m, n->path) < 0))
		return -1;
	bool o_name_below = name_below(o), o_below = !exchange && o_name_below;
	bool n_below = us_exists_below(m, sb->nparent, &n->parent, last_name(n->path));
	if (n->err && us_whiteout_normalize(m, n->path) < 0)
		return -1;
	bool n_whiteout = us_whiteout_present(m, n->path);
	/* long names: NEW may be a whiteout in the name's place (replaced by
	 * the rename, or swapped with a dir, which leaves it at OLD); OLD may
	 * need one the rename leaves behind */
	bool n_inplace = n->err && us_whiteout_inplace(m, n->path);
	bool swap = n_inplace && S_ISDIR(o->node.mode);
	bool o_inplace = o_below && !swap && !us_whiteout_oci(m, o->path);
	unsigned rflags = swap ? RENAME_EXCHANGE
			       : (flags & ~(n_inplace ? RENAME_NOREPLACE : 0u)) |
					 (o_inplace ? RENAME_WHITEOUT : 0u);
	/* a dir landing on a name that has something below must not merge
	 * with it; with EXCHANGE the dir at NEW lands on OLD's name too */
	if (S_ISDIR(o->node.mode) && !o_redir && n_below &&
	    make_opaque(m, o->path, n->path) < 0)
		return -1;
	if (exchange && S_ISDIR(n->node.mode) && !n_redir && o_name_below &&
	    make_opaque(m, n->path, o->path) < 0)
		return -1;
	if (!exchange && n->err == 0 && S_ISDIR(n->node.mode) &&
	    n->node.layer == 0 && us_upper_dir_clear(m, n->path) < 0)
		return -1;
	/* a lower hard link replaced by the rename is a name gone */
	struct us_index_drop drop = {.lock = -1};
	if (!exchange && n->err == 0 && n->node.layer != 0 &&
	    us_index_drop_begin(m, n->path, &n->node, &drop) < 0)
		return -1;
	bool o_oci = o_below && !swap && !o_inplace;
	if (o_oci && us_whiteout_create(m, o->path) < 0) {
		us_index_drop_end(&drop, false);
		return -1;
	}
	bool paths = us_layer_path(m, 0, o->path, sb->oup, sizeof sb->oup) == 0 &&
		     us_layer_path(m, 0, n->path, sb->nup, sizeof sb->nup) == 0;
	if (paths) /* an origin record goes with its object */
		us_origin_follow(m, sb->oup, sb->nup, rflags & RENAME_EXCHANGE);
	if (!paths ||
	    SYS(renameat2)(AT_FDCWD, sb->oup, AT_FDCWD, sb->nup, rflags) < 0) {
		if (o_oci)
			us_whiteout_clear(m, o->path);
		us_index_drop_end(&drop, false);
		return -1;
	}
	if (swap && !o_below) /* the whiteout swapped to OLD hides nothing */
		SYS(unlink)(sb->oup);
	us_index_drop_end(&drop, true);
	if (n_whiteout)
		us_whiteout_clear(m, n->path);
	if (o_below && !swap)
		us_event("whiteout", o->path, -1);
	return 0;
}
