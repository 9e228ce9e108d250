/* test_config.c: the mount table of config.h: the option grammar
 * (us_config_parse), the layout rules checked against real dirs
 * (us_config_validate) and rendering back (us_config_format). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionshim/config.h"
#include "unit.h"

static struct us_config cfg; /* parse tests; freed by the fixture */
static char err[512];

static void cfg_setup(void)
{
	memset(&cfg, 0, sizeof cfg);
	err[0] = '\0';
}

static void cfg_teardown(void)
{
	us_config_free(&cfg);
}

static void ok_parse(const char *spec)
{
	us_config_free(&cfg);
	err[0] = '\0';
	ck_assert_msg(us_config_parse(spec, &cfg, err, sizeof err) == 0,
		      "refused '%s': %s", spec, err);
}

/* SPEC is refused whole, with a message containing WHAT. */
static void refuse(const char *spec, const char *what)
{
	us_config_free(&cfg);
	err[0] = '\0';
	ck_assert_msg(us_config_parse(spec, &cfg, err, sizeof err) == -1,
		      "accepted '%s'", spec);
	ck_assert_msg(strstr(err, what), "'%s': message '%s' lacks '%s'", spec,
		      err, what);
	ck_assert_int_eq(cfg.nmounts, 0);
}

/* ------------------------------------------------------------ grammar */

START_TEST(parse_full_mount)
{
	ok_parse("target=/t,lowerdir=/a:/b,upperdir=/u,workdir=/w");
	ck_assert_int_eq(cfg.nmounts, 1);
	const struct us_mount *m = &cfg.mounts[0];
	ck_assert_str_eq(m->target, "/t");
	ck_assert_int_eq(m->has_upper, 1);
	ck_assert_int_eq(m->nlayers, 3);
	ck_assert_str_eq(m->layers[0].path, "/u"); /* upper first */
	ck_assert_str_eq(m->layers[1].path, "/a"); /* then lowers, top first */
	ck_assert_str_eq(m->layers[2].path, "/b");
	ck_assert_uint_eq(m->layers[2].len, 2);
	ck_assert_str_eq(m->work, "/w");
}
END_TEST

START_TEST(parse_option_order_free)
{
	ok_parse("workdir=/w,upperdir=/u,lowerdir=/a,target=/t");
	ck_assert_str_eq(cfg.mounts[0].target, "/t");
	ck_assert_str_eq(cfg.mounts[0].layers[0].path, "/u");
	ck_assert_str_eq(cfg.mounts[0].layers[1].path, "/a");
	ck_assert_str_eq(cfg.mounts[0].work, "/w");
}
END_TEST

START_TEST(parse_read_only)
{
	ok_parse("target=/t,lowerdir=/a");
	ck_assert_int_eq(cfg.mounts[0].has_upper, 0);
	ck_assert_int_eq(cfg.mounts[0].nlayers, 1);
	ck_assert_str_eq(cfg.mounts[0].layers[0].path, "/a");
	ck_assert_ptr_null(cfg.mounts[0].work);
}
END_TEST

START_TEST(parse_several_mounts)
{
	ok_parse("target=/t1,lowerdir=/a;target=/t2,lowerdir=/b:/c,upperdir=/u,"
	       "workdir=/w");
	ck_assert_int_eq(cfg.nmounts, 2);
	ck_assert_str_eq(cfg.mounts[0].target, "/t1");
	ck_assert_int_eq(cfg.mounts[0].nlayers, 1);
	ck_assert_str_eq(cfg.mounts[1].target, "/t2");
	ck_assert_int_eq(cfg.mounts[1].nlayers, 3);
	ck_assert_str_eq(cfg.mounts[1].layers[2].path, "/c");
}
END_TEST

START_TEST(parse_escapes)
{
	/* target "/t,x"; lowers "/a:b", "/c;d", "/e\f" */
	ok_parse("target=/t\\,x,lowerdir=/a\\:b:/c\\;d:/e\\\\f;"
	       "target=/s,lowerdir=/g");
	ck_assert_int_eq(cfg.nmounts, 2);
	ck_assert_str_eq(cfg.mounts[0].target, "/t,x");
	ck_assert_int_eq(cfg.mounts[0].nlayers, 3);
	ck_assert_str_eq(cfg.mounts[0].layers[0].path, "/a:b");
	ck_assert_str_eq(cfg.mounts[0].layers[1].path, "/c;d");
	ck_assert_str_eq(cfg.mounts[0].layers[2].path, "/e\\f");
	ck_assert_str_eq(cfg.mounts[1].target, "/s");
}
END_TEST

START_TEST(parse_needs_target_and_lowerdir)
{
	refuse("lowerdir=/a", "target=");
	refuse("target=/t", "lowerdir=");
	refuse("target=/t,upperdir=/u,workdir=/w", "lowerdir=");
	/* one bad mount refuses the whole spec */
	refuse("target=/t,lowerdir=/a;target=/s", "lowerdir=");
}
END_TEST

START_TEST(parse_upper_and_work_go_together)
{
	refuse("target=/t,lowerdir=/a,upperdir=/u", "upperdir needs workdir");
	refuse("target=/t,lowerdir=/a,workdir=/w", "workdir needs upperdir");
}
END_TEST

START_TEST(parse_unknown_options_refused)
{
	refuse("target=/t,lowerdir=/a,redirect_dir=on", "redirect_dir");
	refuse("target=/t,lowerdir=/a,metacopy", "unknown option 'metacopy'");
	refuse("target=/t,lowerdir=/a,index=off", "index");
	refuse("target=/t,lowerdir=/a,xino=off", "xino");
	refuse("target=/t,lowerdir=/a,Target=/t", "Target");
	refuse("target=/t,lowerdir=/a,userxattr=1", "userxattr");
}
END_TEST

START_TEST(parse_noop_options_accepted)
{
	ok_parse("target=/t,index=on,lowerdir=/a,xino=on,xino=auto,userxattr");
	ck_assert_int_eq(cfg.nmounts, 1);
	ck_assert_str_eq(cfg.mounts[0].target, "/t");
	ck_assert_int_eq(cfg.mounts[0].nlayers, 1);
	ck_assert_str_eq(cfg.mounts[0].layers[0].path, "/a");
}
END_TEST

START_TEST(parse_option_twice_refused)
{
	refuse("target=/t,lowerdir=/a,target=/s", "twice");
	refuse("target=/t,lowerdir=/a,lowerdir=/b", "twice");
	refuse("target=/t,lowerdir=/a,upperdir=/u,workdir=/w,upperdir=/v",
	       "twice");
}
END_TEST

START_TEST(parse_empty_entries)
{
	refuse("", "no mount");
	refuse(";;", "no mount");
	refuse("target=,lowerdir=/a", "empty");
	refuse("target=/t,lowerdir=", "empty");
	refuse("target=/t,lowerdir=/a,upperdir=,workdir=/w", "empty");
	refuse("target=/t,lowerdir=/a::/b", "empty entry");
	refuse("target=/t,lowerdir=:/a", "empty entry");
	refuse("target=/t,lowerdir=/a:", "empty entry");
	/* empty options and empty mounts between separators are skipped */
	ok_parse("target=/t,,lowerdir=/a,");
	ck_assert_int_eq(cfg.nmounts, 1);
	ok_parse(";target=/t,lowerdir=/a;;target=/s,lowerdir=/b;");
	ck_assert_int_eq(cfg.nmounts, 2);
	ck_assert_str_eq(cfg.mounts[1].target, "/s");
}
END_TEST

/* "target=/t,lowerdir=/l0:/l1:..." with N lowers, plus an upper if UPPER */
static char *many_layers(int n, int upper)
{
	size_t cap = 64 + (size_t)n * 8;
	char *s = malloc(cap);
	size_t len;

	ck_assert_ptr_nonnull(s);
	len = (size_t)snprintf(s, cap, "target=/t,lowerdir=");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s/l%d",
					i ? ":" : "", i);
	if (upper)
		snprintf(s + len, cap - len, ",upperdir=/u,workdir=/w");
	return s;
}

START_TEST(parse_layer_limit)
{
	char *s = many_layers(US_MAX_LAYERS, 0);
	ok_parse(s);
	ck_assert_int_eq(cfg.mounts[0].nlayers, US_MAX_LAYERS);
	free(s);
	s = many_layers(US_MAX_LAYERS - 1, 1);
	ok_parse(s);
	ck_assert_int_eq(cfg.mounts[0].nlayers, US_MAX_LAYERS);
	free(s);
	s = many_layers(US_MAX_LAYERS + 1, 0);
	refuse(s, "layers");
	free(s);
	s = many_layers(US_MAX_LAYERS, 1);
	refuse(s, "layers");
	free(s);
}
END_TEST

START_TEST(parse_mount_limit)
{
	char s[4096];
	size_t len = 0;

	for (int i = 0; i < US_MAX_MOUNTS; i++)
		len += (size_t)snprintf(s + len, sizeof s - len,
					"%starget=/t%d,lowerdir=/a", i ? ";" : "",
					i);
	ok_parse(s);
	ck_assert_int_eq(cfg.nmounts, US_MAX_MOUNTS);
	snprintf(s + len, sizeof s - len, ";target=/x,lowerdir=/a");
	refuse(s, "mounts");
}
END_TEST

/* ------------------------------------------------------- validation */

/* Parse the spec (printf-style) and validate it against the filesystem:
 * 0, or -1 with the message in ERR. */
static int validate(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int validate(const char *fmt, ...)
{
	char spec[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(spec, sizeof spec, fmt, ap);
	va_end(ap);
	us_config_free(&cfg);
	err[0] = '\0';
	ck_assert_msg(us_config_parse(spec, &cfg, err, sizeof err) == 0,
		      "parse %s: %s", spec, err);
	return us_config_validate(&cfg, err, sizeof err);
}

#define ck_invalid(what, ...)                                              \
	do {                                                               \
		ck_assert_msg(validate(__VA_ARGS__) == -1, "accepted");    \
		ck_assert_msg(strstr(err, what), "message '%s' lacks '%s'", \
			      err, what);                                  \
	} while (0)

START_TEST(validate_good_layout)
{
	ck_assert_msg(validate("target=%s,lowerdir=%s:%s,upperdir=%s,"
			       "workdir=%s",
			       ut.target, ut.low1, ut.low2, ut.upper,
			       ut.work) == 0,
		      "%s", err);
	const struct us_mount *m = &cfg.mounts[0];
	ck_assert_str_eq(m->target, ut.target);
	ck_assert_uint_eq(m->target_len, strlen(ut.target));
	ck_assert_str_eq(m->layers[0].path, ut.upper);
	ck_assert_str_eq(m->layers[2].path, ut.low2);
	ck_assert_str_eq(m->work, ut.work);
	ck_assert_uint_eq(m->root_dirs, 7);
}
END_TEST

START_TEST(validate_in_place)
{
	/* the usual build-isolation case: target is the first lower */
	ck_assert_msg(validate("target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
			       ut.low1, ut.low1, ut.upper, ut.work) == 0,
		      "%s", err);
}
END_TEST

START_TEST(validate_missing_dir)
{
	const char *gone = ut_p(ut.root, "gone");

	ck_invalid("gone", "target=%s,lowerdir=%s", ut.target, gone);
	ck_assert_ptr_nonnull(strstr(err, "lowerdir"));
	ck_invalid("gone", "target=%s,lowerdir=%s", gone, ut.low1);
	ck_invalid("gone", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, gone, ut.work);
	ck_invalid("gone", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.upper, gone);
}
END_TEST

START_TEST(validate_not_a_dir)
{
	ut_file(ut.root, "file", "x");
	ck_invalid("not a directory", "target=%s,lowerdir=%s:%s", ut.target,
		   ut.low1, ut_p(ut.root, "file"));
	ck_invalid("not a directory", "target=%s,lowerdir=%s",
		   ut_p(ut.root, "file"), ut.low1);
}
END_TEST

START_TEST(validate_upper_inside_lower)
{
	ut_mkdir(ut.low2, "up");
	ck_invalid("inside lowerdir",
		   "target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.low2, ut_p(ut.low2, "up"), ut.work);
	ck_assert_ptr_nonnull(strstr(err, "upperdir"));
	/* the same dir as a lower counts as inside it */
	ck_invalid("inside", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.low1, ut.work);
}
END_TEST

START_TEST(validate_lower_inside_upper)
{
	ut_mkdir(ut.upper, "low");
	ck_invalid("inside upperdir",
		   "target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut_p(ut.upper, "low"), ut.upper,
		   ut.work);
}
END_TEST

START_TEST(validate_work_and_lowers_apart)
{
	ut_mkdir(ut.low1, "wk");
	ck_invalid("workdir", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.upper, ut_p(ut.low1, "wk"));
	ck_assert_ptr_nonnull(strstr(err, "inside lowerdir"));
	ut_mkdir(ut.work, "low");
	ck_invalid("inside workdir",
		   "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		   ut_p(ut.work, "low"), ut.upper, ut.work);
}
END_TEST

START_TEST(validate_upper_work_overlap)
{
	ut_mkdir(ut.upper, "w");
	ut_mkdir(ut.work, "u");
	ck_invalid("overlap", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.upper, ut_p(ut.upper, "w"));
	ck_invalid("overlap", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut_p(ut.work, "u"), ut.work);
	ck_invalid("overlap", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
		   ut.target, ut.low1, ut.upper, ut.upper);
}
END_TEST

START_TEST(validate_work_on_upper_fs)
{
	struct stat a, b;
	char shm[] = "/dev/shm/us-unit.XXXXXX";

	if (stat("/dev/shm", &b) < 0 || stat(ut.upper, &a) < 0 ||
	    a.st_dev == b.st_dev)
		ut_skip("no second filesystem at /dev/shm");
	if (!mkdtemp(shm))
		ut_skip("mkdtemp in /dev/shm: %s", strerror(errno));
	int rc = validate("target=%s,lowerdir=%s,upperdir=%s,workdir=%s",
			  ut.target, ut.low1, ut.upper, shm);
	rmdir(shm);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, "filesystem"), "message '%s'", err);
}
END_TEST

START_TEST(validate_target_root_refused)
{
	ck_invalid("may not be /", "target=/,lowerdir=%s", ut.low1);
	/* also when "/" is reached through a symlink */
	ut_link(ut.root, "slash", "/");
	ck_invalid("may not be /", "target=%s,lowerdir=%s",
		   ut_p(ut.root, "slash"), ut.low1);
}
END_TEST

START_TEST(validate_nested_targets_refused)
{
	ut_mkdir(ut.target, "sub");
	ck_invalid("inside target", "target=%s,lowerdir=%s;target=%s,lowerdir=%s",
		   ut.target, ut.low1, ut_p(ut.target, "sub"), ut.low2);
	ck_invalid("inside target", "target=%s,lowerdir=%s;target=%s,lowerdir=%s",
		   ut_p(ut.target, "sub"), ut.low1, ut.target, ut.low2);
	ck_invalid("inside target", "target=%s,lowerdir=%s;target=%s,lowerdir=%s",
		   ut.target, ut.low1, ut.target, ut.low2);
	/* siblings are fine, even with a common name prefix */
	ut_mkdir(ut.root, "target2");
	ck_assert_msg(validate("target=%s,lowerdir=%s;target=%s,lowerdir=%s",
			       ut.target, ut.low1, ut_p(ut.root, "target2"),
			       ut.low2) == 0,
		      "%s", err);
}
END_TEST

/* Two mounts may share lowers, but no upper or work dir, nested or not
 * (overlayfs: EBUSY), and no lower of one may lie in the other's. */
START_TEST(validate_mounts_keep_upper_and_work_apart)
{
#define two "target=%s,lowerdir=%s,upperdir=%s,workdir=%s;" \
	    "target=%s,lowerdir=%s,upperdir=%s,workdir=%s"
	const char *t2 = ut_p(ut.root, "t2"), *u2 = ut_p(ut.root, "u2"),
		   *w2 = ut_p(ut.root, "w2");
	ut_mkdir(ut.root, "t2");
	ut_mkdir(ut.root, "u2");
	ut_mkdir(ut.root, "w2");
	ut_mkdir(ut.upper, "sub");
	ut_mkdir(ut.work, "sub");
	ck_assert_msg(validate(two, ut.target, ut.low1, ut.upper, ut.work, t2,
			       ut.low1, u2, w2) == 0,
		      "shared lower refused: %s", err);
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, ut.upper, w2);
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, u2, ut.work);
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, ut.work, w2);
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, ut_p(ut.upper, "sub"), w2);
	ck_invalid("overlap", two, t2, ut.low2, ut_p(ut.upper, "sub"), w2,
		   ut.target, ut.low1, ut.upper, ut.work);
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, u2, ut_p(ut.work, "sub"));
	ck_invalid("overlap", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, ut_p(ut.work, "sub"), w2);
	/* the message names both mounts */
	ck_invalid("upperdir", two, ut.target, ut.low1, ut.upper, ut.work, t2,
		   ut.low2, ut.upper, w2);
	ck_assert_msg(strstr(err, t2) && strstr(err, ut.target), "%s", err);
	/* a lower of one mount inside (or around) another's upper */
	ck_invalid("overlap", "target=%s,lowerdir=%s,upperdir=%s,workdir=%s;"
		   "target=%s,lowerdir=%s", ut.target, ut.low1, ut.upper,
		   ut.work, t2, ut_p(ut.upper, "sub"));
	ck_invalid("overlap", "target=%s,lowerdir=%s;"
		   "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", t2,
		   ut.root, ut.target, ut.low1, ut.upper, ut.work);
#undef two
}
END_TEST

/* A dir about to be created is checked as the path it will have. */
static int validate_planned(const char *spec)
{
	us_config_free(&cfg);
	err[0] = '\0';
	ck_assert_msg(us_config_parse(spec, &cfg, err, sizeof err) == 0,
		      "parse %s: %s", spec, err);
	return us_config_validate_planned(&cfg, err, sizeof err);
}

START_TEST(validate_planned_dirs)
{
	char spec[4 * PATH_MAX];
	struct stat st;

	ut_link(ut.root, "rlink", ".");
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s/newup/,workdir=%s",
		 ut.target, ut.low1, ut_p(ut.root, "rlink"),
		 ut_p(ut.root, "newwork"));
	ck_assert_msg(validate_planned(spec) == 0, "%s", err);
	ck_assert_str_eq(cfg.mounts[0].layers[0].path,
			 ut_p(ut.root, "newup"));
	ck_assert_str_eq(cfg.mounts[0].work, ut_p(ut.root, "newwork"));
	ck_assert_int_eq(lstat(ut_p(ut.root, "newup"), &st), -1);
	ck_assert_int_eq(lstat(ut_p(ut.root, "newwork"), &st), -1);
	/* the layout rules apply to the path it will have */
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		 ut.low1, ut_p(ut.low1, "newup"), ut.work);
	ck_assert_int_eq(validate_planned(spec), -1);
	ck_assert_msg(strstr(err, "inside lowerdir"), "%s", err);
	/* its parent must exist; a dangling symlink is not "missing" */
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		 ut.low1, ut_p(ut.root, "no/newup"), ut.work);
	ck_assert_int_eq(validate_planned(spec), -1);
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
	ut_link(ut.root, "dangling", "nowhere");
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		 ut.low1, ut_p(ut.root, "dangling"), ut.work);
	ck_assert_int_eq(validate_planned(spec), -1);
	/* lowers and targets must exist, as always */
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		 ut_p(ut.root, "nolow"), ut.upper, ut.work);
	ck_assert_int_eq(validate_planned(spec), -1);
	/* the plain check refuses what does not exist */
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		 ut.low1, ut_p(ut.root, "newup"), ut.work);
	ck_assert_int_eq(validate("%s", spec), -1);
}
END_TEST

START_TEST(validate_makes_paths_canonical)
{
	ut_link(ut.root, "l1link", "low1");
	ut_link(ut.root, "tlink", ut.target);
	ut_link(ut.root, "ulink", "./upper/");
	ck_assert_msg(validate("target=%s/,lowerdir=%s:%s/../low2/.,"
			       "upperdir=%s,workdir=%s//",
			       ut_p(ut.root, "tlink"), ut_p(ut.root, "l1link"),
			       ut.low1, ut_p(ut.root, "ulink"), ut.work) == 0,
		      "%s", err);
	const struct us_mount *m = &cfg.mounts[0];
	ck_assert_str_eq(m->target, ut.target);
	ck_assert_uint_eq(m->target_len, strlen(ut.target));
	ck_assert_str_eq(m->layers[0].path, ut.upper);
	ck_assert_str_eq(m->layers[1].path, ut.low1);
	ck_assert_uint_eq(m->layers[1].len, strlen(ut.low1));
	ck_assert_str_eq(m->layers[2].path, ut.low2);
	ck_assert_str_eq(m->work, ut.work);
}
END_TEST

START_TEST(validate_layout_rules_see_through_symlinks)
{
	/* an upper reached through a symlink is still inside the lower */
	ut_mkdir(ut.low1, "up");
	ut_link(ut.root, "sneaky", "low1/up");
	ck_invalid("inside lowerdir",
		   "target=%s,lowerdir=%s,upperdir=%s,workdir=%s", ut.target,
		   ut.low1, ut_p(ut.root, "sneaky"), ut.work);
}
END_TEST

START_TEST(validate_root_dirs_stop_at_opaque)
{
#define spec "target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s"
	ut_file(ut.low1, ".wh..wh..opq", "");
	ck_assert_msg(validate(spec, ut.target, ut.low1, ut.low2, ut.upper,
			       ut.work) == 0,
		      "%s", err);
	ck_assert_uint_eq(cfg.mounts[0].root_dirs, 3); /* upper, low1 */
	ut_file(ut.upper, ".wh..wh..opq", "");
	ck_assert(validate(spec, ut.target, ut.low1, ut.low2, ut.upper,
			   ut.work) == 0);
	ck_assert_uint_eq(cfg.mounts[0].root_dirs, 1); /* upper alone */
	/* an opaque mark hides only the layers below its own */
	ck_assert(validate("target=%s,lowerdir=%s:%s", ut.target, ut.low2,
			   ut.low1) == 0);
	ck_assert_uint_eq(cfg.mounts[0].root_dirs, 3);
#undef spec
}
END_TEST

START_TEST(validate_root_dirs_xattr_opaque)
{
	int e = ut_xattr(ut.low1, "", "trusted.overlay.opaque", "y");
	if (e)
		ut_skip("trusted xattr: %s", strerror(e));
	ck_assert(validate("target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s",
			   ut.target, ut.low1, ut.low2, ut.upper,
			   ut.work) == 0);
	ck_assert_uint_eq(cfg.mounts[0].root_dirs, 3);
}
END_TEST

/* ------------------------------------------------------------ format */

static void same_config(const struct us_config *a, const struct us_config *b)
{
	ck_assert_int_eq(a->nmounts, b->nmounts);
	for (int k = 0; k < a->nmounts; k++) {
		const struct us_mount *x = &a->mounts[k], *y = &b->mounts[k];
		ck_assert_str_eq(x->target, y->target);
		ck_assert_int_eq(x->has_upper, y->has_upper);
		ck_assert_int_eq(x->nlayers, y->nlayers);
		for (int i = 0; i < x->nlayers; i++) {
			ck_assert_str_eq(x->layers[i].path, y->layers[i].path);
			ck_assert_uint_eq(x->layers[i].len, y->layers[i].len);
		}
		if (x->work)
			ck_assert_str_eq(x->work, y->work);
		else
			ck_assert_ptr_null(y->work);
	}
}

START_TEST(format_round_trips)
{
	static const char *const specs[] = {
		"target=/t,lowerdir=/a",
		"target=/t,lowerdir=/a:/b:/c,upperdir=/u,workdir=/w",
		"target=/t\\,x,lowerdir=/a\\:b:/c\\;d:/e\\\\f,upperdir=/u\\,"
		"\\:\\;\\\\,workdir=/w\\\\;target=/s,lowerdir=/\\;",
		"target=/x\\\\\\\\y,lowerdir=/\\,\\,:/\\:\\:",
	};
	char out[4096], out2[4096];
	struct us_config again;

	for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
		ok_parse(specs[i]);
		ck_assert_int_eq(us_config_format(&cfg, out, sizeof out), 0);
		ck_assert_msg(us_config_parse(out, &again, err, sizeof err) == 0,
			      "reparse '%s': %s", out, err);
		same_config(&cfg, &again);
		/* and the rendering is stable */
		ck_assert_int_eq(us_config_format(&again, out2, sizeof out2), 0);
		ck_assert_str_eq(out, out2);
		us_config_free(&again);
	}
}
END_TEST

START_TEST(format_round_trips_real_dirs)
{
	const char *odd = "a,b:c;d\\e";
	char dirs[4][PATH_MAX], out[8192];
	const char *names[4] = {"t", "l", "u", "w"};
	struct us_config again;

	for (int i = 0; i < 4; i++) {
		snprintf(dirs[i], PATH_MAX, "%s", ut_p(ut.root, names[i]));
		snprintf(dirs[i] + strlen(dirs[i]), PATH_MAX - strlen(dirs[i]),
			 "%s", odd);
		ut_mkdir(dirs[i], "");
	}
	us_config_free(&cfg);
	/* build the table by hand: the parse side is tested above */
	cfg.nmounts = 1;
	cfg.mounts[0].target = strdup(dirs[0]);
	cfg.mounts[0].has_upper = 1;
	cfg.mounts[0].nlayers = 2;
	cfg.mounts[0].layers[0].path = strdup(dirs[2]);
	cfg.mounts[0].layers[1].path = strdup(dirs[1]);
	cfg.mounts[0].work = strdup(dirs[3]);
	for (int i = 0; i < 2; i++)
		cfg.mounts[0].layers[i].len = strlen(cfg.mounts[0].layers[i].path);
	ck_assert_int_eq(us_config_validate(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(us_config_format(&cfg, out, sizeof out), 0);
	ck_assert_msg(us_config_parse(out, &again, err, sizeof err) == 0, "%s",
		      err);
	ck_assert_msg(us_config_validate(&again, err, sizeof err) == 0, "%s",
		      err);
	same_config(&cfg, &again);
	ck_assert_str_eq(again.mounts[0].target, dirs[0]);
	ck_assert_str_eq(again.mounts[0].layers[1].path, dirs[1]);
	us_config_free(&again);
}
END_TEST

START_TEST(format_enametoolong)
{
	char out[16];

	ok_parse("target=/target,lowerdir=/a-rather-long-lower-dir");
	errno = 0;
	ck_assert_int_eq(us_config_format(&cfg, out, sizeof out), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, parse_full_mount);
	tcase_add_test(tc, parse_option_order_free);
	tcase_add_test(tc, parse_read_only);
	tcase_add_test(tc, parse_several_mounts);
	tcase_add_test(tc, parse_escapes);
	tcase_add_test(tc, parse_needs_target_and_lowerdir);
	tcase_add_test(tc, parse_upper_and_work_go_together);
	tcase_add_test(tc, parse_unknown_options_refused);
	tcase_add_test(tc, parse_noop_options_accepted);
	tcase_add_test(tc, parse_option_twice_refused);
	tcase_add_test(tc, parse_empty_entries);
	tcase_add_test(tc, parse_layer_limit);
	tcase_add_test(tc, parse_mount_limit);
	tcase_add_test(tc, format_round_trips);
	tcase_add_test(tc, format_enametoolong);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, validate_good_layout);
	tcase_add_test(tc, validate_in_place);
	tcase_add_test(tc, validate_missing_dir);
	tcase_add_test(tc, validate_not_a_dir);
	tcase_add_test(tc, validate_upper_inside_lower);
	tcase_add_test(tc, validate_lower_inside_upper);
	tcase_add_test(tc, validate_work_and_lowers_apart);
	tcase_add_test(tc, validate_upper_work_overlap);
	tcase_add_test(tc, validate_work_on_upper_fs);
	tcase_add_test(tc, validate_target_root_refused);
	tcase_add_test(tc, validate_nested_targets_refused);
	tcase_add_test(tc, validate_mounts_keep_upper_and_work_apart);
	tcase_add_test(tc, validate_planned_dirs);
	tcase_add_test(tc, validate_makes_paths_canonical);
	tcase_add_test(tc, validate_layout_rules_see_through_symlinks);
	tcase_add_test(tc, validate_root_dirs_stop_at_opaque);
	tcase_add_test(tc, validate_root_dirs_xattr_opaque);
	tcase_add_test(tc, format_round_trips_real_dirs);
	suite_add_tcase(s, tc);
	return s;
}
