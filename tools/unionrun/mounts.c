/* mounts.c: the mount table unionrun runs the command in, and the dirs it
 * makes for it.
 *
 * Every mount is parsed by the core's own parser (the library's grammar),
 * so --lower/--upper/--work/--at, -o and --mount mean exactly what
 * UNIONSHIM_MOUNTS means. A mount with no upper that should be writable
 * (the default run in place over the cwd, a --mount, or any mount under
 * --keep) gets one from unionrun: DIR/upper and DIR/work of a fresh
 * private dir (mkdtemp under $TMPDIR or /tmp) or of --keep DIR. The whole
 * table is checked before anything is made; what unionrun makes is removed
 * again when a later check refuses it, and it never makes a dir inside a
 * layer or a target. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionrun.h"

/* Dirs made by unionrun, newest last: removed (they are empty) by ur_undo
 * when the run stops before the command starts. */
static char *made[3 * US_MAX_MOUNTS + 4];
static int nmade;

void ur_undo(void)
{
	while (nmade > 0)
		rmdir(made[--nmade]);
}

void ur_undo_forget(void)
{
	nmade = 0;
}

/* Does SPEC hold C outside a backslash escape? */
static int has_unescaped(const char *spec, char c)
{
	for (const char *p = spec; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == c)
			return 1;
	}
	return 0;
}

/* Does SPEC (one mount) set option NAME? Fields split at unescaped ','. */
static int has_option(const char *spec, const char *name)
{
	size_t n = strlen(name);
	const char *field = spec;

	for (const char *p = spec;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != ',' && *p)
			continue;
		if ((size_t)(p - field) > n && strncmp(field, name, n) == 0 &&
		    field[n] == '=')
			return 1;
		if (!*p)
			return 0;
		field = p + 1;
	}
}

void ur_add_mount(struct ur_run *r, const char *spec, int want_upper)
{
	struct us_config *one = ur_alloc(sizeof *one);
	struct strbuf b = {0};
	char err[512];
	int k = r->cfg.nmounts;
	int no_target = !has_option(spec, "target");

	if (k >= US_MAX_MOUNTS)
		ur_die("more than %d mounts", US_MAX_MOUNTS);
	if (has_unescaped(spec, ';'))
		ur_die("one mount per --mount (repeat the option): %s", spec);
	sb_add(&b, spec, 0);
	if (no_target) /* a placeholder, replaced by the first lowerdir */
		sb_add(&b, ",target=/", 0);
	if (us_config_parse(b.s, one, err, sizeof err) < 0)
		ur_die("%s", err);
	struct us_mount *m = &r->cfg.mounts[k];
	*m = one->mounts[0];
	if (no_target) {
		free(m->target);
		m->target = ur_strdup(m->layers[m->has_upper].path);
	}
	r->m[k].want_upper = want_upper && !m->has_upper;
	r->cfg.nmounts++;
	free(one);
	free(b.s);
}

static int within(const char *dir, const char *p)
{
	size_t n = strlen(dir);

	return strncmp(dir, p, n) == 0 && (p[n] == '/' || !p[n] || n == 1);
}

/* Refuse a dir unionrun would make (canonical P) inside a layer, a work
 * dir or a target of any mount: that would write into a lower. */
static void check_outside(const struct ur_run *r, const char *what, const char *p)
{
	for (int k = 0; k < r->cfg.nmounts; k++) {
		const struct us_mount *m = &r->cfg.mounts[k];
		for (int i = 0; i < m->nlayers; i++)
			if (within(m->layers[i].path, p))
				ur_die("%s %s is inside %s %s (set TMPDIR or --keep "
				       "to a dir outside the union)", what, p,
				       i == 0 && m->has_upper ? "upperdir" : "lowerdir",
				       m->layers[i].path);
		if (within(m->target, p) || (m->work && within(m->work, p)))
			ur_die("%s %s is inside %s %s", what, p,
			       within(m->target, p) ? "target" : "workdir",
			       within(m->target, p) ? m->target : m->work);
	}
}

/* DIR as a canonical path, whether or not it exists yet (its parent must). */
static char *canonical(const char *what, const char *dir)
{
	char *out = ur_alloc(PATH_MAX), *copy = ur_strdup(dir);
	char *slash;

	if (realpath(dir, out)) {
		free(copy);
		return out;
	}
	if (errno != ENOENT)
		ur_die("%s %s: %s", what, dir, strerror(errno));
	while ((slash = strrchr(copy, '/')) && slash != copy && !slash[1])
		*slash = '\0'; /* trailing slashes */
	slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;
	const char *parent = slash ? (slash == copy ? "/" : copy) : ".";
	if (slash)
		*slash = '\0';
	char *pp = ur_alloc(PATH_MAX);
	if (!realpath(parent, pp))
		ur_die("%s %s: %s", what, dir, strerror(errno));
	if (strlen(pp) + strlen(name) + 2 > PATH_MAX)
		ur_die("%s %s: %s", what, dir, strerror(ENAMETOOLONG));
	free(out);
	if (asprintf(&out, "%s%s%s", pp, strcmp(pp, "/") ? "/" : "", name) < 0)
		ur_die("out of memory");
	free(pp);
	free(copy);
	return out;
}

/* Make DIR unless it exists (as a dir). */
static void ensure_dir(const char *what, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			ur_die("%s %s: %s", what, dir, strerror(ENOTDIR));
		return;
	}
	if (errno != ENOENT || mkdir(dir, 0755) < 0)
		ur_die("%s %s: %s", what, dir, strerror(errno));
	made[nmade++] = ur_strdup(dir);
}

static char *join(const char *a, const char *b)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		ur_die("out of memory");
	return p;
}

/* The base dir of mount K (IDX > 0: one of several under --keep). */
static char *make_base(struct ur_run *r, int k, int idx)
{
	if (r->o.keep) {
		char *keep = canonical("--keep", r->o.keep), *base = keep;
		check_outside(r, "--keep", keep);
		ensure_dir("--keep", keep);
		if (idx) {
			char num[16];
			snprintf(num, sizeof num, "%d", idx);
			base = join(keep, num);
			ensure_dir("--keep", base);
			free(keep);
		}
		r->m[k].own = UR_KEEP;
		return base;
	}
	const char *tmp = getenv("TMPDIR");
	char *dir = canonical("temp dir", tmp && *tmp ? tmp : "/tmp");
	char *base = join(dir, "unionrun.XXXXXX");
	check_outside(r, "temp dir", dir);
	if (!mkdtemp(base))
		ur_die("cannot make a temp dir in %s: %s (set TMPDIR)", dir,
		       strerror(errno));
	made[nmade++] = ur_strdup(base);
	free(dir);
	r->m[k].own = UR_TEMP;
	return base;
}

/* Give mount K the upper and work dirs under its base. */
static void add_upper(struct ur_run *r, int k, int idx)
{
	struct us_mount *m = &r->cfg.mounts[k];

	if (m->nlayers >= US_MAX_LAYERS)
		ur_die("more than %d layers", US_MAX_LAYERS - 1);
	r->m[k].base = make_base(r, k, idx);
	char *up = join(r->m[k].base, "upper"), *work = join(r->m[k].base, "work");
	ensure_dir("upperdir", up);
	ensure_dir("workdir", work);
	memmove(&m->layers[1], &m->layers[0], (size_t)m->nlayers * sizeof m->layers[0]);
	m->layers[0].path = up;
	m->layers[0].len = strlen(up);
	m->nlayers++;
	m->has_upper = 1;
	m->work = work;
}

void ur_prepare(struct ur_run *r)
{
	char err[512];
	int planned = 0, want = 0, changed = 0;

	for (int k = 0; k < r->cfg.nmounts; k++) {
		planned |= r->cfg.mounts[k].has_upper;
		want += r->m[k].want_upper;
	}
	/* everything is checked before any dir is made */
	if ((planned ? us_config_validate_planned : us_config_validate)(
		    &r->cfg, err, sizeof err) < 0)
		ur_die("%s", err);
	for (int k = 0; k < r->cfg.nmounts; k++) {
		struct us_mount *m = &r->cfg.mounts[k];
		int before = nmade;
		if (m->has_upper && !r->m[k].want_upper) {
			ensure_dir("upperdir", m->layers[0].path);
			ensure_dir("workdir", m->work);
		}
		changed |= nmade != before;
	}
	for (int k = 0, idx = 0; k < r->cfg.nmounts; k++)
		if (r->m[k].want_upper) {
			add_upper(r, k, want > 1 ? ++idx : 0);
			changed = 1;
		}
	if (changed && us_config_validate(&r->cfg, err, sizeof err) < 0)
		ur_die("%s", err);
	size_t room = us_config_format_room(&r->cfg);
	r->spec = ur_alloc(room);
	if (us_config_format(&r->cfg, r->spec, room) < 0)
		ur_die("out of memory");
}

const char *ur_kept_in(const struct ur_run *r, int k)
{
	return r->m[k].base ? r->m[k].base : r->cfg.mounts[k].layers[0].path;
}
