/* unit.h: what the unit-test files share: one suite constructor per core
 * module (main.c runs them all) and the temp-tree fixture of fixture.c.
 *
 * Rules: every test builds the layer trees it needs inside a fresh mkdtemp
 * dir and removes it again; helpers fail the running test (ck_assert) rather
 * than return errors, so tests read as a list of facts. */
#ifndef UNIONSHIM_UNIT_H
#define UNIONSHIM_UNIT_H

#include <check.h>
#include <limits.h>
#include <stdio.h>

#include "unionshim/config.h"

Suite *path_suite(void);
Suite *config_suite(void);
Suite *lookup_suite(void);
Suite *dirmerge_suite(void);
Suite *whiteout_suite(void);
Suite *copyup_suite(void);
Suite *unionops_suite(void);
Suite *identity_suite(void);
Suite *shared_suite(void);
Suite *origindirs_suite(void);
Suite *resolve_at_suite(void);
Suite *msgline_suite(void);
Suite *fmt_suite(void);
Suite *exectarget_suite(void);
Suite *ioctlclass_suite(void);
Suite *linkindex_suite(void);
Suite *fdmaptext_suite(void);
Suite *handover_suite(void);
Suite *symnext_suite(void);
Suite *scratch_suite(void);
Suite *changes_suite(void);
Suite *fdops_suite(void);
Suite *lcache_suite(void);
Suite *pcache_suite(void);
Suite *listcache_suite(void);

/* A scratch dir (canonical path) holding upper/, low1/, low2/, work/ and
 * target/, and the config for "target=T,lowerdir=low1:low2,upperdir=upper,
 * workdir=work" once ut_load() has read it. Layer 0 is upper, 1 low1,
 * 2 low2. */
struct ut_tree {
	char root[PATH_MAX];
	char upper[PATH_MAX], low1[PATH_MAX], low2[PATH_MAX];
	char work[PATH_MAX], target[PATH_MAX];
	struct us_config cfg;
	int loaded;
};
extern struct ut_tree ut;

/* One scratch dir per run (main.c): tests make their trees inside it, and
 * it goes at the end even when a failed test skipped its teardown. */
int ut_scratch_begin(void);
void ut_scratch_end(void);

void ut_tree_setup(void);    /* checked fixture: make the dirs */
void ut_tree_teardown(void); /* free the config, remove the tree */

/* Parse and validate SPEC (printf-style) into ut.cfg; fail the test if it
 * is refused. ut_load() loads the standard three-layer mount. */
void ut_load_spec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ut_load(void);

/* BASE "/" REL in one of a few rotating static buffers (REL "" → BASE). */
const char *ut_p(const char *base, const char *rel);
#define ut_u(rel) ut_p(ut.target, rel) /* a union path */
/* A B, plainly concatenated, in the same buffers. */
const char *ut_cat(const char *a, const char *b);

/* Build entries below BASE; parents are made as needed. */
void ut_mkdir(const char *base, const char *rel);
void ut_file(const char *base, const char *rel, const char *text);
void ut_link(const char *base, const char *rel, const char *target);
/* An overlayfs whiteout (char dev 0/0). 0, or the errno of mknod. */
int ut_chr_whiteout(const char *base, const char *rel);
/* Set xattr NAME=VALUE on BASE/REL. 0, or the errno of lsetxattr. */
int ut_xattr(const char *base, const char *rel, const char *name,
	     const char *value);

/* A test whose precondition the machine cannot give says so and passes. */
#define ut_skip(...)                                                    \
	do {                                                            \
		fprintf(stderr, "%s: skipped: ", __func__);             \
		fprintf(stderr, __VA_ARGS__);                           \
		fputc('\n', stderr);                                    \
		return;                                                 \
	} while (0)

void ut_rmtree(const char *path);

/* The union view and the layers after a write (loaded mount 0):
 * ut_union_names: the names union dir REL lists, sorted, joined by one
 * space, "." and ".." left out (a static buffer, valid until the next call);
 * ut_work_clean: fail if a "#us." temp is left in the work dir;
 * ut_lowers_snap / ut_lowers_same: record every entry of low1 and low2
 * (type, mode, owner, size, mtime, ctime, data, link target, xattrs), then
 * fail if any differs. */
const char *ut_union_names(const char *rel);
void ut_work_clean(void);
void ut_lowers_snap(void);
void ut_lowers_same(void);

/* A cache's set function (SET_OF of string S, with ARG, for a table of
 * SETS sets) tried on BASE with its byte POS set in turn to each of SETS
 * printable values: how many sets they fall in. A hash that every byte
 * reaches spreads them over about 63% of the sets; one that misses a
 * byte puts them all in one. */
int ut_sets_used(unsigned (*set_of)(const char *s, void *arg, unsigned sets),
		 void *arg, const char *base, size_t pos, unsigned sets);

/* Resolve union path REL into R as unlink and rename do (the final
 * symlink not followed; the final object may be missing): R. */
struct us_resolved;
struct us_resolved *ut_res(struct us_resolved *r, const char *rel);

#endif
