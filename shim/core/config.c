/* config.c: parse, validate and render the table of mounts.
 *
 * Rules: a spec that is not understood whole is refused whole. Validation
 * makes every path canonical (so that lookup can compare strings) and
 * refuses layouts where a write through the union could land in a lower
 * dir: an upper or work dir inside a lower, or a lower inside either, in
 * one mount or across two; and, as overlayfs refuses an upper or work dir
 * already in use (EBUSY), two mounts whose upper or work dirs overlap. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sys.h"
#include "unionshim/config.h"
#include "unionshim/path.h"
#include "layer.h"
#include "unionshim/ownalloc.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy the next field of *S up to an unescaped SEP (or end) into a fresh
 * string, removing escapes unless KEEP; advance *S past the separator. */
static char *split_field(const char **s, char sep, int keep)
{
	const char *p = *s;
	size_t n = strlen(p);
	char *out = us_own_malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (; *p && *p != sep; p++) {
		if (*p == '\\' && p[1]) {
			if (keep)
				*o++ = *p;
			p++;
		}
		*o++ = *p;
	}
	*o = '\0';
	*s = *p ? p + 1 : p;
	return out;
}

static char *next_field(const char **s, char sep)
{
	return split_field(s, sep, 0);
}

static char *unescape(const char *s)
{
	return split_field(&s, '\0', 0);
}

/* Options that describe what the shim always does; accepted and ignored. */
static const char *const implied_options[] = {
	"index=on", "xino=on", "xino=auto", "userxattr", NULL,
};

static int is_implied(const char *opt)
{
	for (int i = 0; implied_options[i]; i++)
		if (strcmp(opt, implied_options[i]) == 0)
			return 1;
	return 0;
}

static int add_layer(struct us_mount *m, char *path, char *err, size_t errlen)
{
	if (m->nlayers >= US_MAX_LAYERS) {
		us_own_free(path);
		return fail(err, errlen, "more than %d layers", US_MAX_LAYERS);
	}
	m->layers[m->nlayers].path = path;
	m->layers[m->nlayers].len = strlen(path);
	m->nlayers++;
	return 0;
}

/* V ends with an unescaped SEP (an empty last field). */
static int ends_with_sep(const char *v, char sep)
{
	size_t n = strlen(v), bs = 0;

	if (n == 0 || v[n - 1] != sep)
		return 0;
	while (bs + 1 < n && v[n - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

static int parse_lowers(struct us_mount *m, const char *v, char *err,
			size_t errlen)
{
	if (ends_with_sep(v, ':'))
		return fail(err, errlen, "lowerdir has an empty entry");
	while (*v) {
		char *l = next_field(&v, ':');
		if (!l)
			return fail(err, errlen, "out of memory");
		if (!*l) {
			us_own_free(l);
			return fail(err, errlen, "lowerdir has an empty entry");
		}
		if (add_layer(m, l, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int parse_mount(const char *spec, struct us_mount *m, char *err,
		       size_t errlen)
{
	char *upper = NULL, *lowers = NULL;
	int rc = 0;

	memset(m, 0, sizeof *m);
	while (*spec && rc == 0) {
		/* escapes stay until the value is split (lowerdir on ':') */
		char *opt = split_field(&spec, ',', 1);
		if (!opt)
			return fail(err, errlen, "out of memory");
		char *eq = strchr(opt, '=');
		char **slot = NULL;
		if (!eq && !*opt) {
			/* empty option: ",," is tolerated */
		} else if (is_implied(opt)) {
			/* matches our fixed behaviour */
		} else if (!eq) {
			rc = fail(err, errlen, "unknown option '%s'", opt);
		} else {
			*eq = '\0';
			if (strcmp(opt, "target") == 0)
				slot = &m->target;
			else if (strcmp(opt, "lowerdir") == 0)
				slot = &lowers;
			else if (strcmp(opt, "upperdir") == 0)
				slot = &upper;
			else if (strcmp(opt, "workdir") == 0)
				slot = &m->work;
			else
				rc = fail(err, errlen,
					  "unknown option '%s' (known: target, "
					  "lowerdir, upperdir, workdir)",
					  opt);
		}
		if (slot && *slot)
			rc = fail(err, errlen, "option '%s' given twice", opt);
		else if (slot && !(*slot = slot == &lowers ? us_own_strdup(eq + 1)
							   : unescape(eq + 1)))
			rc = fail(err, errlen, "out of memory");
		else if (slot && !**slot)
			rc = fail(err, errlen, "option '%s' is empty", opt);
		us_own_free(opt);
	}
	if (rc == 0 && !lowers)
		rc = fail(err, errlen, "a mount needs lowerdir=");
	if (rc == 0 && !m->target)
		rc = fail(err, errlen, "a mount needs target=");
	if (rc == 0 && upper && !m->work)
		rc = fail(err, errlen, "upperdir needs workdir");
	if (rc == 0 && !upper && m->work)
		rc = fail(err, errlen, "workdir needs upperdir");
	if (rc == 0 && upper) {
		m->has_upper = 1;
		rc = add_layer(m, upper, err, errlen);
		upper = NULL;
	}
	if (rc == 0)
		rc = parse_lowers(m, lowers, err, errlen);
	us_own_free(upper);
	us_own_free(lowers);
	return rc;
}

int us_config_parse(const char *spec, struct us_config *cfg, char *err,
		    size_t errlen)
{
	/* each mount is cleared as it is parsed: the table is 17 KiB, and a
	 * program's start should not fault in pages it never uses */
	cfg->nmounts = 0;
	while (*spec) {
		char *one = split_field(&spec, ';', 1);
		if (!one)
			return fail(err, errlen, "out of memory");
		int rc = 0;
		if (*one) {
			if (cfg->nmounts >= US_MAX_MOUNTS)
				rc = fail(err, errlen, "more than %d mounts",
					  US_MAX_MOUNTS);
			else
				rc = parse_mount(one,
						 &cfg->mounts[cfg->nmounts++],
						 err, errlen);
		}
		us_own_free(one);
		if (rc < 0) {
			us_config_free(cfg);
			return -1;
		}
	}
	if (cfg->nmounts == 0)
		return fail(err, errlen, "no mount given");
	return 0;
}

/* The canonical form of a dir that does not exist yet: its parent's
 * canonical path and its last name, into BUF (PATH_MAX). */
static int canonical_missing(const char *p, char *buf, const char *what,
			     char *err, size_t errlen)
{
	struct stat st;
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *name = p + n;
	while (name > p && name[-1] != '/')
		name--;
	size_t namelen = (size_t)(p + n - name);
	if (namelen == 0 || (name[0] == '.' && (namelen == 1 ||
			     (namelen == 2 && name[1] == '.'))))
		return fail(err, errlen, "%s %s: No such file or directory",
			    what, p);
	char *parent = us_own_strndup(p, (size_t)(name - p));
	if (!parent)
		return fail(err, errlen, "out of memory");
	const char *at = *parent ? parent : ".";
	errno = 0;
	int ok = SYS(realpath)(at, buf) && SYS(stat)(buf, &st) == 0 &&
		 S_ISDIR(st.st_mode);
	int e = ok ? 0 : errno;
	us_own_free(parent);
	if (!ok)
		return fail(err, errlen, "%s %s: %s", what, p,
			    e ? strerror(e) : "its parent is not a directory");
	size_t blen = strlen(buf);
	if (blen + 1 + namelen >= PATH_MAX)
		return fail(err, errlen, "%s %s: %s", what, p,
			    strerror(ENAMETOOLONG));
	snprintf(buf + blen, PATH_MAX - blen, "%s%.*s", blen > 1 ? "/" : "",
		 (int)namelen, name);
	return 0;
}

/* Replace *P by its canonical form; it must be an existing directory, or
 * (PLANNED) a name that does not exist yet in one. */
static int canonical_dir(char **p, const char *what, int planned, char *err,
			 size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;

	if (!SYS(realpath)(*p, buf)) {
		if (!planned || errno != ENOENT ||
		    SYS(lstat)(*p, &st) == 0 || errno != ENOENT)
			return fail(err, errlen, "%s %s: %s", what, *p,
				    strerror(errno == 0 ? ENOENT : errno));
		if (canonical_missing(*p, buf, what, err, errlen) < 0)
			return -1;
	} else if (SYS(stat)(buf, &st) < 0) {
		return fail(err, errlen, "%s %s: %s", what, *p,
			    strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return fail(err, errlen, "%s %s: not a directory", what, *p);
	}
	char *c = us_own_strdup(buf);
	if (!c)
		return fail(err, errlen, "out of memory");
	us_own_free(*p);
	*p = c;
	return 0;
}

/* The device of DIR, or of its parent while it is only planned. */
static int dev_of(const char *dir, dev_t *dev)
{
	struct stat st;
	char *parent;

	if (SYS(stat)(dir, &st) == 0) {
		*dev = st.st_dev;
		return 0;
	}
	if (errno != ENOENT || !(parent = us_own_strdup(dir)))
		return -1;
	*strrchr(parent, '/') = '\0';
	int rc = SYS(stat)(*parent ? parent : "/", &st);
	us_own_free(parent);
	*dev = st.st_dev;
	return rc;
}

static int inside(const char *a, const char *b)
{
	return us_path_under(a, b, strlen(b));
}

/* The layout rules of one mount; the work dir's filesystem only when
 * CHECK_DEV (an adopted handover compared the devices itself). */
static int check_layout(const struct us_mount *m, int check_dev, char *err,
			size_t errlen)
{
	const char *upper = m->has_upper ? m->layers[0].path : NULL;

	if (strcmp(m->target, "/") == 0)
		return fail(err, errlen, "target may not be /");
	for (int i = m->has_upper; i < m->nlayers; i++) {
		const char *low = m->layers[i].path;
		if (upper && inside(upper, low))
			return fail(err, errlen,
				    "upperdir %s is inside lowerdir %s", upper,
				    low);
		if (upper && inside(low, upper))
			return fail(err, errlen,
				    "lowerdir %s is inside upperdir %s", low,
				    upper);
		if (m->work && inside(m->work, low))
			return fail(err, errlen,
				    "workdir %s is inside lowerdir %s", m->work,
				    low);
		if (m->work && inside(low, m->work))
			return fail(err, errlen,
				    "lowerdir %s is inside workdir %s", low,
				    m->work);
	}
	if (upper && (inside(upper, m->work) || inside(m->work, upper)))
		return fail(err, errlen, "upperdir %s and workdir %s overlap",
			    upper, m->work);
	if (upper && check_dev) {
		dev_t du, dw;
		if (dev_of(upper, &du) < 0 || dev_of(m->work, &dw) < 0)
			return fail(err, errlen, "cannot stat upperdir/workdir");
		if (du != dw)
			return fail(err, errlen,
				    "workdir %s is not on the filesystem of "
				    "upperdir %s",
				    m->work, upper);
	}
	return 0;
}

static int overlap(const char *a, const char *b)
{
	return inside(a, b) || inside(b, a);
}

/* The dir of M that layer I names (NLAYERS: the work dir), and its role. */
static const char *dir_of(const struct us_mount *m, int i, const char **what)
{
	if (i == m->nlayers) {
		*what = "workdir";
		return m->work;
	}
	*what = i == 0 && m->has_upper ? "upperdir" : "lowerdir";
	return m->layers[i].path;
}

/* A's upper and work dir may share nothing with any dir of B: B would
 * write into A's layers, or read its lowers from them. */
static int check_apart(const struct us_mount *a, const struct us_mount *b,
		       char *err, size_t errlen)
{
	const char *wa, *wb;

	const int own[2] = {0, a->nlayers}; /* its upper and work dir */

	if (!a->has_upper)
		return 0;
	for (int i = 0; i < 2; i++) {
		const char *da = dir_of(a, own[i], &wa);
		for (int j = 0; j <= b->nlayers; j++) {
			const char *db = dir_of(b, j, &wb);
			if (db && overlap(da, db))
				return fail(err, errlen,
					    "%s %s of target %s and %s %s of "
					    "target %s overlap (one mount's "
					    "upper and work dirs are its own)",
					    wa, da, a->target, wb, db,
					    b->target);
		}
	}
	return 0;
}

static int check_across(const struct us_config *cfg, char *err,
			size_t errlen);

static int validate(struct us_config *cfg, int planned, char *err,
		    size_t errlen)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		struct us_mount *m = &cfg->mounts[k];
		for (int i = 0; i < m->nlayers; i++) {
			const char *what = (i == 0 && m->has_upper)
						   ? "upperdir"
						   : "lowerdir";
			if (canonical_dir(&m->layers[i].path, what,
					  planned && i == 0 && m->has_upper,
					  err, errlen) < 0)
				return -1;
			m->layers[i].len = strlen(m->layers[i].path);
		}
		if (m->work && canonical_dir(&m->work, "workdir", planned, err,
					     errlen) < 0)
			return -1;
		if (canonical_dir(&m->target, "target", 0, err, errlen) < 0)
			return -1;
		m->target_len = strlen(m->target);
		m->dev = 0;
		if (check_layout(m, 1, err, errlen) < 0)
			return -1;
		m->root_dirs = 0;
		for (int i = 0; i < m->nlayers; i++) {
			m->root_dirs |= (uint64_t)1 << i;
			if (us_layer_is_opaque(m->layers[i].path))
				break;
		}
		/* a planned upper is not there to stat yet: found out later */
		m->samefs = planned ? 0 : us_layers_samefs(m);
	}
	return check_across(cfg, err, errlen);
}

int us_config_check_text(const struct us_config *cfg, char *err,
			 size_t errlen)
{
	for (int k = 0; k < cfg->nmounts; k++)
		if (check_layout(&cfg->mounts[k], 0, err, errlen) < 0)
			return -1;
	return check_across(cfg, err, errlen);
}

/* The rules between mounts: targets apart, upper and work dirs their own. */
static int check_across(const struct us_config *cfg, char *err, size_t errlen)
{
	for (int a = 0; a < cfg->nmounts; a++)
		for (int b = 0; b < cfg->nmounts; b++)
			if (a != b && inside(cfg->mounts[a].target,
					     cfg->mounts[b].target))
				return fail(err, errlen,
					    "target %s is inside target %s",
					    cfg->mounts[a].target,
					    cfg->mounts[b].target);
	for (int a = 0; a < cfg->nmounts; a++)
		for (int b = 0; b < cfg->nmounts; b++)
			if (a != b && check_apart(&cfg->mounts[a],
						  &cfg->mounts[b], err,
						  errlen) < 0)
				return -1;
	return 0;
}

int us_config_validate(struct us_config *cfg, char *err, size_t errlen)
{
	return validate(cfg, 0, err, errlen);
}

int us_config_validate_planned(struct us_config *cfg, char *err,
			       size_t errlen)
{
	return validate(cfg, 1, err, errlen);
}

/* Append S to OUT at *POS, escaping the grammar's separators. */
static int put_escaped(char *out, size_t outlen, size_t *pos, const char *s)
{
	for (; *s; s++) {
		if (strchr(",:;\\", *s)) {
			if (*pos + 1 >= outlen)
				return -1;
			out[(*pos)++] = '\\';
		}
		if (*pos + 1 >= outlen)
			return -1;
		out[(*pos)++] = *s;
	}
	out[*pos] = '\0';
	return 0;
}

static int put_raw(char *out, size_t outlen, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n + 1 > outlen)
		return -1;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 0;
}

int us_config_format(const struct us_config *cfg, char *out, size_t outlen)
{
	size_t pos = 0;
	int bad = 0;

	if (outlen)
		out[0] = '\0';
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		bad |= put_raw(out, outlen, &pos, k ? ";target=" : "target=");
		bad |= put_escaped(out, outlen, &pos, m->target);
		bad |= put_raw(out, outlen, &pos, ",lowerdir=");
		for (int i = m->has_upper; i < m->nlayers; i++) {
			if (i > m->has_upper)
				bad |= put_raw(out, outlen, &pos, ":");
			bad |= put_escaped(out, outlen, &pos,
					   m->layers[i].path);
		}
		if (m->has_upper) {
			bad |= put_raw(out, outlen, &pos, ",upperdir=");
			bad |= put_escaped(out, outlen, &pos,
					   m->layers[0].path);
			bad |= put_raw(out, outlen, &pos, ",workdir=");
			bad |= put_escaped(out, outlen, &pos, m->work);
		}
	}
	if (bad) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

size_t us_config_format_room(const struct us_config *cfg)
{
	size_t n = 1; /* the NUL */

	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		/* the option names and separators, then each path escaped:
		 * at most two bytes a byte */
		n += sizeof ";target=,lowerdir=,upperdir=,workdir=" +
		     (size_t)m->nlayers;
		n += 2 * (strlen(m->target) + (m->work ? strlen(m->work) : 0));
		for (int i = 0; i < m->nlayers; i++)
			n += 2 * m->layers[i].len;
	}
	return n;
}

void us_config_free(struct us_config *cfg)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		struct us_mount *m = &cfg->mounts[k];
		us_own_free(m->target);
		us_own_free(m->work);
		for (int i = 0; i < m->nlayers; i++)
			us_own_free(m->layers[i].path);
		memset(m, 0, sizeof *m);
	}
	cfg->nmounts = 0;
}
