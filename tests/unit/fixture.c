/* fixture.c: scratch layer trees for the unit tests (see unit.h).
 *
 * Everything here uses plain libc: the unit binary links the core without
 * the preload glue, so nothing is intercepted. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unit.h"

struct ut_tree ut;

static char *next_buf(void)
{
	static char bufs[8][PATH_MAX];
	static int next;

	return bufs[next++ % 8];
}

const char *ut_p(const char *base, const char *rel)
{
	char *b = next_buf();
	int n = *rel ? snprintf(b, PATH_MAX, "%s/%s", base, rel)
		     : snprintf(b, PATH_MAX, "%s", base);

	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s/%s", base, rel);
	return b;
}

const char *ut_cat(const char *a, const char *b)
{
	char *o = next_buf();
	int n = snprintf(o, PATH_MAX, "%s%s", a, b);

	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s%s", a, b);
	return o;
}

static void mkdir_p(const char *path)
{
	char b[PATH_MAX];

	snprintf(b, sizeof b, "%s", path);
	for (char *s = b + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		ck_assert_msg(mkdir(b, 0755) == 0 || errno == EEXIST,
			      "mkdir %s: %s", b, strerror(errno));
		*s = '/';
	}
	ck_assert_msg(mkdir(b, 0755) == 0 || errno == EEXIST, "mkdir %s: %s",
		      b, strerror(errno));
}

static void parent_of(const char *path)
{
	char b[PATH_MAX];
	char *slash;

	snprintf(b, sizeof b, "%s", path);
	slash = strrchr(b, '/');
	if (slash && slash != b) {
		*slash = '\0';
		mkdir_p(b);
	}
}

void ut_mkdir(const char *base, const char *rel)
{
	mkdir_p(ut_p(base, rel));
}

void ut_file(const char *base, const char *rel, const char *text)
{
	const char *p = ut_p(base, rel);
	int fd;

	parent_of(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "create %s: %s", p, strerror(errno));
	size_t n = strlen(text);
	ck_assert(write(fd, text, n) == (ssize_t)n);
	close(fd);
}

void ut_link(const char *base, const char *rel, const char *target)
{
	const char *p = ut_p(base, rel);

	parent_of(p);
	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p,
		      strerror(errno));
}

int ut_chr_whiteout(const char *base, const char *rel)
{
	const char *p = ut_p(base, rel);

	parent_of(p);
	return mknod(p, S_IFCHR | 0600, makedev(0, 0)) == 0 ? 0 : errno;
}

int ut_xattr(const char *base, const char *rel, const char *name,
	     const char *value)
{
	const char *p = ut_p(base, rel);

	return lsetxattr(p, name, value, strlen(value), 0) == 0 ? 0 : errno;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void ut_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char scratch[PATH_MAX];

int ut_scratch_begin(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];

	snprintf(tmpl, sizeof tmpl, "%s/us-unit.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl) || !realpath(tmpl, scratch)) {
		perror("unit-tests: scratch dir");
		return -1;
	}
	return 0;
}

void ut_scratch_end(void)
{
	if (scratch[0])
		ut_rmtree(scratch);
}

void ut_tree_setup(void)
{
	char tmpl[PATH_MAX];

	memset(&ut, 0, sizeof ut);
	snprintf(tmpl, sizeof tmpl, "%s", ut_p(scratch, "tree.XXXXXX"));
	ck_assert_msg(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
	/* canonical, as validation will make the layer paths */
	ck_assert(realpath(tmpl, ut.root));
	snprintf(ut.upper, PATH_MAX, "%s", ut_p(ut.root, "upper"));
	snprintf(ut.low1, PATH_MAX, "%s", ut_p(ut.root, "low1"));
	snprintf(ut.low2, PATH_MAX, "%s", ut_p(ut.root, "low2"));
	snprintf(ut.work, PATH_MAX, "%s", ut_p(ut.root, "work"));
	snprintf(ut.target, PATH_MAX, "%s", ut_p(ut.root, "target"));
	mkdir_p(ut.upper);
	mkdir_p(ut.low1);
	mkdir_p(ut.low2);
	mkdir_p(ut.work);
	mkdir_p(ut.target);
}

void ut_tree_teardown(void)
{
	if (ut.loaded)
		us_config_free(&ut.cfg);
	ut.loaded = 0;
	if (ut.root[0])
		ut_rmtree(ut.root);
}

void ut_load_spec(const char *fmt, ...)
{
	char spec[8192], err[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(spec, sizeof spec, fmt, ap);
	va_end(ap);
	if (ut.loaded)
		us_config_free(&ut.cfg);
	ut.loaded = 0;
	ck_assert_msg(us_config_parse(spec, &ut.cfg, err, sizeof err) == 0,
		      "parse %s: %s", spec, err);
	ut.loaded = 1;
	ck_assert_msg(us_config_validate(&ut.cfg, err, sizeof err) == 0,
		      "validate %s: %s", spec, err);
}

void ut_load(void)
{
	ut_load_spec("target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s",
		     ut.target, ut.low1, ut.low2, ut.upper, ut.work);
}
