/* test_handover.c: the resolved configuration a parent hands its children
 * (handover.h): adopted only for the same spec text and the same dirs;
 * anything else (a dir replaced, another spec, a record cut short or
 * garbled) falls back to a full validation, which gives the same table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/handover.h"
#include "unit.h"

static char spec[6 * PATH_MAX];
static char err[512];
static struct us_config got;

static void ho_setup(void)
{
	ut_tree_setup();
	snprintf(spec, sizeof spec,
		 "target=%s,lowerdir=%s:%s,upperdir=%s,workdir=%s", ut.target,
		 ut.low1, ut.low2, ut.upper, ut.work);
	memset(&got, 0, sizeof got);
}

static void ho_teardown(void)
{
	us_config_free(&got);
	ut_tree_teardown();
}

/* The record of the validated SPEC. */
static char *record(void)
{
	struct us_config cfg;

	ck_assert_int_eq(us_config_load(spec, NULL, &cfg, err, sizeof err), 0);
	char *rec = us_handover_make(&cfg, spec);
	ck_assert_ptr_nonnull(rec);
	us_config_free(&cfg);
	return rec;
}

/* Loading SPEC with REC gives WANT (1 adopted, 0 validated in full) and
 * the table a full validation gives. */
static void load_as(const char *rec, int want)
{
	struct us_config full;

	us_config_free(&got);
	ck_assert_int_eq(us_config_load(spec, rec, &got, err, sizeof err), want);
	ck_assert_int_eq(us_config_load(spec, NULL, &full, err, sizeof err), 0);
	ck_assert_int_eq(got.nmounts, full.nmounts);
	for (int k = 0; k < full.nmounts; k++) {
		const struct us_mount *a = &got.mounts[k], *b = &full.mounts[k];
		ck_assert_str_eq(a->target, b->target);
		ck_assert_uint_eq(a->target_len, b->target_len);
		ck_assert_str_eq(a->work, b->work);
		ck_assert_int_eq(a->nlayers, b->nlayers);
		ck_assert_uint_eq(a->root_dirs, b->root_dirs);
		for (int i = 0; i < b->nlayers; i++) {
			ck_assert_str_eq(a->layers[i].path, b->layers[i].path);
			ck_assert_uint_eq(a->layers[i].len, b->layers[i].len);
		}
	}
	us_config_free(&full);
}

START_TEST(adopted_for_same_spec_and_dirs)
{
	char *rec = record();
	char tail[PATH_MAX + 64];

	load_as(rec, 1);
	snprintf(tail, sizeof tail, "%s 1234:a", rec); /* the caller's tail */
	load_as(tail, 1);
	free(rec);
}
END_TEST

START_TEST(replaced_dir_is_detected)
{
	char *rec = record();
	char old[PATH_MAX + 8];

	/* the upper replaced by a new dir whose root is opaque: the record's
	 * inode and root set are both stale */
	snprintf(old, sizeof old, "%s.old", ut.upper);
	ck_assert_int_eq(rename(ut.upper, old), 0);
	ut_mkdir(ut.upper, "");
	ut_file(ut.upper, ".wh..wh..opq", "");
	load_as(rec, 0);
	ck_assert_uint_eq(got.mounts[0].root_dirs, 1);
	ut_rmtree(old);
	free(rec);
}
END_TEST

START_TEST(other_spec_is_validated)
{
	char *rec = record();

	/* the same dirs, another text: the record is not for it */
	snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",index=on");
	load_as(rec, 0);
	free(rec);
}
END_TEST

START_TEST(garbled_records_are_validated)
{
	char *rec = record();
	size_t n = strlen(rec);
	char bad[PATH_MAX + 64];

	load_as("", 0);
	load_as("garbage", 0);
	load_as(";;;", 0);
	for (size_t cut = 0; cut < n; cut++) { /* every shorter record */
		snprintf(bad, sizeof bad, "%.*s", (int)cut, rec);
		load_as(bad, 0);
	}
	snprintf(bad, sizeof bad, "%s,1.2", rec); /* one dir too many */
	load_as(bad, 0);
	snprintf(bad, sizeof bad, "%s;3,1.2", rec); /* one mount too many */
	load_as(bad, 0);
	char *roots = strchr(rec, ';') + 1; /* a root set no layer has */
	snprintf(bad, sizeof bad, "%.*sff%s", (int)(roots - rec), rec,
		 strchr(roots, ','));
	load_as(bad, 0);
	free(rec);
}
END_TEST

START_TEST(bad_spec_is_refused_whatever_the_record)
{
	char *rec = record();

	snprintf(spec, sizeof spec, "target=%s,lowerdir=%s/missing", ut.target,
		 ut.low1);
	us_config_free(&got);
	ck_assert_int_eq(us_config_load(spec, rec, &got, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	free(rec);
}
END_TEST

/* The library's tail: what is written reads back; an older library's
 * tail (no loader letter) still names the library and its audit module;
 * anything else is no tail. */
START_TEST(tails_read_back)
{
	char buf[US_HANDOVER_TAIL_MAX];
	struct us_handover_tail t = {.lib_hash = 0x787716935a4dbb44ULL,
				     .audit = 'a', .loader = 'q'};
	struct us_handover_tail r;

	us_handover_tail_write(buf, &t);
	ck_assert_str_eq(buf, " 787716935a4dbb44:aq");
	ck_assert(us_handover_tail_read(buf, &r));
	ck_assert(r.lib_hash == t.lib_hash && r.audit == 'a' && r.loader == 'q');
	t = (struct us_handover_tail){.lib_hash = 0xff, .audit = 'n', .loader = 'l'};
	us_handover_tail_write(buf, &t);
	ck_assert_str_eq(buf, " ff:nl");
	ck_assert(us_handover_tail_read(" 1a2b:a", &r));
	ck_assert(r.lib_hash == 0x1a2b && r.audit == 'a' && r.loader == 0);
	ck_assert(!us_handover_tail_read("1a2b:a", &r));
	ck_assert(!us_handover_tail_read(" 1a2b:x", &r));
	ck_assert(!us_handover_tail_read(" :a", &r));
	ck_assert(!us_handover_tail_read(NULL, &r));
}
END_TEST

Suite *handover_suite(void)
{
	Suite *s = suite_create("handover");
	TCase *tc = tcase_create("handover");

	tcase_add_checked_fixture(tc, ho_setup, ho_teardown);
	tcase_add_test(tc, adopted_for_same_spec_and_dirs);
	tcase_add_test(tc, replaced_dir_is_detected);
	tcase_add_test(tc, other_spec_is_validated);
	tcase_add_test(tc, garbled_records_are_validated);
	tcase_add_test(tc, bad_spec_is_refused_whatever_the_record);
	tcase_add_test(tc, tails_read_back);
	suite_add_tcase(s, tc);
	return s;
}
