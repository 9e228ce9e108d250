/* checkupper.c: the upper half of unionctl check (see check.c): every
 * entry is read as the shim reads it (upperwalk.c); what the work dir's
 * records refer to is collected on the way. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "check.h"
#include "progress.h"
#include "upperwalk.h"
#include "unionshim/identity.h"
#include "unionshim/metacopy.h"
#include "unionshim/path.h"
#include "unionshim/redirect.h"

/* The records of upper object IT: its inode number, its origin. */
static int collect(struct uc_check *c, const struct uc_item *it)
{
	const struct us_mount *m = uc_mount(&c->l);
	struct us_origin o;
	bool xattrs = S_ISREG(it->st.st_mode) || S_ISDIR(it->st.st_mode);

	if (uc_set_add(&c->upper_inos, it->st.st_ino) < 0)
		return -1;
	if (xattrs ? us_origin_read(it->real, -1, &o)
		   : us_origin_read_aside(m, it->real, it->st.st_ino, &o)) {
		if (uc_set_add(&c->origins, us_ino_of(m, o.layer, o.ino)) < 0)
			return -1;
		if (!xattrs && uc_set_add(&c->aside_used, it->st.st_ino) < 0)
			return -1;
	}
	return 0;
}

static void whiteout(struct uc_check *c, const struct uc_item *it)
{
	bool lowers = uc_mount(&c->l)->nlayers > 1;

	if (it->kind == UC_WHITEOUT &&
	    (!S_ISREG(it->st.st_mode) || it->st.st_size != 0))
		uc_problem(c, it->real, "whiteout that is not an empty file (read as a whiteout all the same)");
	if (it->sibling)
		uc_problem(c, it->real, "whiteout beside the name it hides (the name wins: stale)");
	else if (lowers && !it->below)
		uc_problem(c, it->real, "whiteout that hides nothing in the lowers given");
	if (it->kind == UC_WHITEOUT_CHR && strlen(it->name) <= 251)
		uc_note(c, it->real, "whiteout in overlayfs's form (char device 0/0), read as one");
}

/* The redirect record of dir IT (a renamed dir, redirect.h): one the
 * shim would ignore, or one naming a path no lower given holds (the dir
 * then merges with nothing below). Each lower is asked at the path the
 * lookup would ask it (us_layer_path: a lower stacked above it that
 * holds records of its own moves the path on). Reported, never
 * repaired: dropping a record could show what the lowers hold at the
 * dir's own name. */
static void redirect(struct uc_check *c, const struct uc_item *it)
{
	const struct us_mount *m = uc_mount(&c->l);
	char v[PATH_MAX], up[PATH_MAX], real[PATH_MAX];
	struct stat st;
	ssize_t n = lgetxattr(it->real, US_REDIRECT_XATTR, v, sizeof v - 1);

	if (n < 0)
		return;
	v[n] = '\0';
	if (us_redirect_read(it->real, v, sizeof v) != 1) {
		uc_problem(c, it->real, "redirect record that is not an absolute union path (ignored)");
		return;
	}
	if (us_path_join(up, sizeof up, m->target, it->rel) < 0)
		return;
	for (int i = 1; i < m->nlayers; i++)
		if (us_layer_path(m, i, up, real, sizeof real) == 0 &&
		    lstat(real, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	if (m->nlayers > 1)
		uc_problem(c, it->real, "redirect record naming a dir no lower given holds");
}

/* A metacopy's record (metacopy.h): its data must lie below. */
static void metacopy(struct uc_check *c, const struct uc_item *it)
{
	const struct us_mount *m = uc_mount(&c->l);

	if (!S_ISREG(it->st.st_mode) ||
	    lgetxattr(it->real, US_METACOPY_XATTR, NULL, 0) < 0)
		return;
	if (!us_metacopy_maybe(&it->st)) {
		uc_problem(c, it->real, "metacopy record on a file that holds data (read as a plain file)");
		return;
	}
	if (m->nlayers < 2)
		return; /* no lowers given: nothing to look for */
	us_layermask b = it->dir ? us_metacopy_below(m, it->dirupath, it->dir, it->name) : 0;
	int d = b ? __builtin_ctzll(b) : 64;
	char dir[PATH_MAX], data[PATH_MAX];
	struct stat st;
	if (d >= m->nlayers || us_layer_path(m, d, it->dirupath, dir, sizeof dir) < 0 ||
	    us_path_join(data, sizeof data, dir, it->name) < 0 || lstat(data, &st) < 0)
		uc_problem(c, it->real, "metacopy whose lower data is gone (reads fail with EIO)");
	else if (st.st_size != it->st.st_size)
		uc_note(c, it->real, "metacopy whose lower data changed size since (the lower's is shown)");
}

static int visit(const struct uc_item *it, void *arg)
{
	struct uc_check *c = arg;
	uc_progress(c->cmd, c->upper_inos.n, "upper entries read", 0);
	switch (it->kind) {
	case UC_WHITEOUT:
	case UC_WHITEOUT_CHR:
		whiteout(c, it);
		return 0;
	case UC_META:
		uc_problem(c, it->real, "unknown .wh..wh. name (reserved by OCI; never shown)");
		return 0;
	case UC_OPAQUE:
		if (!S_ISREG(it->st.st_mode))
			uc_problem(c, it->real, "opaque marker that is not a file (read as one all the same)");
		return 0;
	case UC_OBJECT:
		break;
	}
	if (uc_overlay_only(it->real))
		uc_problem(c, it->real, "overlayfs redirect_dir/metacopy entry: unionshim does not read it");
	if (S_ISDIR(it->st.st_mode))
		redirect(c, it);
	metacopy(c, it);
	if (S_ISDIR(it->st.st_mode) && it->opaque && uc_mount(&c->l)->nlayers > 1 &&
	    !it->below_any)
		uc_problem(c, it->real, "opaque dir that hides nothing in the lowers given");
	return collect(c, it) < 0 ? 1 : 0; /* 1: out of memory */
}

int uc_check_upper(struct uc_check *c)
{
	int rc = uc_walk_upper(&c->l, c->cmd, visit, c);

	if (rc > 0)
		uc_say(c->cmd, "out of memory", NULL, NULL);
	return rc ? -1 : 0;
}
