/* fixture.c: scratch layer trees for the unit tests (see unit.h).
 *
 * Everything here uses plain libc: the unit binary links the core without
 * the preload glue, so nothing is intercepted. */
#include <dirent.h>
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

#include "unionshim/dirmerge.h"
#include "unionshim/lookup.h"
#include "unionshim/lcache.h"
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
	us_lcache_forget(); /* a new tree at the old config's address */
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *ut_union_names(const char *rel)
{
	static char out[8192];
	static struct us_resolved r;
	struct us_dirlist l = {0};
	const char *names[512];
	size_t n = 0, len = 0;

	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) ==
				      0 && r.err == 0 && S_ISDIR(r.node.mode),
		      "union dir %s not found", rel);
	ck_assert_msg(us_dir_merge(r.m, r.path, r.node.dirs, &l) == 0,
		      "merge %s: %s", rel, strerror(errno));
	for (size_t i = 0; i < l.n; i++) {
		const char *d = us_dirlist_at(&l, i)->d_name;
		if (strcmp(d, ".") && strcmp(d, "..")) {
			ck_assert(n < 512);
			names[n++] = d;
		}
	}
	qsort(names, n, sizeof *names, cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + len, sizeof out - len, "%s%s",
				 i ? " " : "", names[i]);
		ck_assert(w > 0 && (size_t)w < sizeof out - len);
		len += (size_t)w;
	}
	us_dirlist_free(&l);
	return out;
}

void ut_work_clean(void)
{
	DIR *d = opendir(ut.work);
	struct dirent *e;

	ck_assert(d);
	while ((e = readdir(d)))
		ck_assert_msg(strncmp(e->d_name, "#us.", 4) != 0,
			      "work dir holds %s", e->d_name);
	closedir(d);
}

/* One line per entry below the layer being walked, gathered for sorting. */
static struct {
	char **lines;
	size_t n, cap;
	size_t base_len;
} sig;

static int sig_one(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	char *line = NULL, extra[4096] = "", names[4096], value[256];
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	(void)type;
	(void)ftw;
	ck_assert(f);
	fprintf(f, "%s %o %u:%u %lld m%lld.%09ld c%lld.%09ld r%llx",
		path + sig.base_len, (unsigned)st->st_mode,
		(unsigned)st->st_uid, (unsigned)st->st_gid,
		(long long)st->st_size, (long long)st->st_mtim.tv_sec,
		st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		st->st_ctim.tv_nsec, (unsigned long long)st->st_rdev);
	if (S_ISREG(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert(fd >= 0);
		ssize_t n = read(fd, extra, sizeof extra - 1);
		ck_assert(n >= 0);
		extra[n] = '\0';
		close(fd);
		fprintf(f, " data=%s", extra);
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, extra, sizeof extra - 1);
		ck_assert(n >= 0);
		extra[n] = '\0';
		fprintf(f, " ->%s", extra);
	}
	ssize_t nl = llistxattr(path, names, sizeof names);
	for (ssize_t i = 0; i < nl; i += (ssize_t)strlen(names + i) + 1) {
		ssize_t vl = lgetxattr(path, names + i, value, sizeof value - 1);
		value[vl > 0 ? vl : 0] = '\0';
		fprintf(f, " x:%s=%s", names + i, value);
	}
	fclose(f);
	if (sig.n == sig.cap) {
		sig.cap = sig.cap ? 2 * sig.cap : 64;
		sig.lines = realloc(sig.lines, sig.cap * sizeof *sig.lines);
		ck_assert(sig.lines);
	}
	sig.lines[sig.n++] = line;
	return 0;
}

/* The signature of layer BASE: its sorted entry lines, joined. */
static char *tree_sig(const char *base)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert(f);
	sig.base_len = strlen(base);
	ck_assert(nftw(base, sig_one, 16, FTW_PHYS) == 0);
	qsort(sig.lines, sig.n, sizeof *sig.lines, cmp_str);
	for (size_t i = 0; i < sig.n; i++) {
		fprintf(f, "%s\n", sig.lines[i]);
		free(sig.lines[i]);
	}
	free(sig.lines);
	memset(&sig, 0, sizeof sig);
	fclose(f);
	return out;
}

static char *lower_sig[2];

void ut_lowers_snap(void)
{
	free(lower_sig[0]);
	free(lower_sig[1]);
	lower_sig[0] = tree_sig(ut.low1);
	lower_sig[1] = tree_sig(ut.low2);
}

void ut_lowers_same(void)
{
	char *now[2] = {tree_sig(ut.low1), tree_sig(ut.low2)};

	ck_assert_msg(lower_sig[0], "ut_lowers_snap() not called");
	ck_assert_str_eq(now[0], lower_sig[0]);
	ck_assert_str_eq(now[1], lower_sig[1]);
	free(now[0]);
	free(now[1]);
}

int ut_sets_used(unsigned (*set_of)(const char *s, void *arg, unsigned sets),
		 void *arg, const char *base, size_t pos, unsigned sets)
{
	char s[256], used[256] = {0};
	int n = 0;

	ck_assert(strlen(base) < sizeof s && pos < strlen(base) && sets <= 256);
	strcpy(s, base);
	for (unsigned i = 0; i < sets; i++) {
		s[pos] = (char)(0x30 + i % 0x40); /* '0' ... 'o', never '/' */
		unsigned set = set_of(s, arg, sets);
		ck_assert_uint_lt(set, sets);
		if (!used[set]++)
			n++;
	}
	return n;
}

struct us_resolved *ut_res(struct us_resolved *r, const char *rel)
{
	ck_assert_msg(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, r) == 0,
		      "resolve %s: %s", rel, strerror(errno));
	ck_assert(r->where == US_INSIDE);
	return r;
}
