/* test_origindirs.c: the upper dirs that may hold objects with origin
 * records (shared.h us_shared_origins_in): a copy-up marks the dir it
 * places its copy in, a rename or an exchange carries the mark along with
 * the object, the scan of an upper made before its work dir marks the
 * dirs whose objects carry records, and a dir never marked is one whose
 * objects' records need not be read. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/dirmerge.h"
#include "unionshim/identity.h"
#include "unionshim/lcache.h"
#include "unionshim/lookup.h"
#include "unionshim/shared.h"
#include "unionshim/unionops.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved ra, rb;

/* May upper dir REL hold objects with records? */
static bool marked(const char *rel)
{
	struct stat st;

	ck_assert_int_eq(stat(ut_p(ut.upper, rel), &st), 0);
	return us_shared_origins_in(M0, st.st_dev, st.st_ino);
}

static void copyup(const char *rel)
{
	ut_res(&ra, rel);
	ck_assert_int_eq(us_copyup(M0, ra.path, &ra.node, true), 0);
}

/* A dir or file made in the upper alone (no origin of its own), after
 * the mount was loaded: the caches forget what they knew. */
static void made(const char *rel)
{
	ut_mkdir(ut.upper, rel);
	us_lcache_forget();
}

static void made_file(const char *rel)
{
	ut_file(ut.upper, rel, "made in the upper");
	us_lcache_forget();
}

START_TEST(a_copyup_marks_the_dir_it_lands_in_and_no_other)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_load();
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_NONE);
	made("e");
	copyup("d/f");
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_MARKED);
	ck_assert(marked("d"));  /* holds the copy */
	ck_assert(marked("."));  /* holds d, a copy of the lower dir */
	ck_assert(!marked("e")); /* nothing copied there */
}
END_TEST

START_TEST(a_rename_carries_the_mark_with_the_copy)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_file(ut.low1, "d/g", "lower");
	ut_load();
	made("e");
	made("x");
	copyup("d/f");
	ck_assert(!marked("e"));
	ut_res(&ra, "d/f");
	ut_res(&rb, "e/f");
	ck_assert_int_eq(us_union_rename(&ra, &rb, 0), 0);
	ck_assert(marked("e"));
	/* an upper object without a record marks nothing where it goes */
	made("x/sub");
	ck_assert(!marked("x"));
	ut_res(&ra, "x/sub");
	ut_res(&rb, "y");
	ck_assert_int_eq(us_union_rename(&ra, &rb, 0), 0);
	ck_assert(!marked("y")); /* x/sub, now y: never held a copy */
}
END_TEST

START_TEST(an_exchange_marks_both_dirs)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_load();
	made("e");
	made_file("e/g");
	copyup("d/f");
	ck_assert(!marked("e"));
	ut_res(&ra, "d/f");
	ut_res(&rb, "e/g");
	ck_assert_int_eq(us_union_rename(&ra, &rb, RENAME_EXCHANGE), 0);
	ck_assert(marked("e"));
	ck_assert(marked("d"));
}
END_TEST

START_TEST(the_scan_of_an_upper_made_elsewhere_marks_the_dirs_with_records)
{
	ut_file(ut.upper, "a/f", "a copy an earlier work dir made");
	ut_file(ut.upper, "b/g", "made in the upper");
	ut_mkdir(ut.upper, "c/sub");
	ck_assert_int_eq(ut_xattr(ut.upper, "a/f", US_ORIGIN_XATTR, "1:123:1"), 0);
	ck_assert_int_eq(ut_xattr(ut.upper, "c/sub", US_ORIGIN_XATTR, "1:124:1"), 0);
	ut_load();
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_MARKED);
	ck_assert(marked("a"));
	ck_assert(marked("c"));
	ck_assert(!marked("b"));
	ck_assert(!marked("c/sub"));
	/* and the record is read where it is */
	struct stat st;
	ut_res(&ra, "a/f");
	ck_assert_int_eq(lstat(ut_p(ut.upper, "a/f"), &st), 0);
	us_ident_stat_in(M0, 0, ut_p(ut.upper, "a/f"), -1,
			 (struct us_origin_dir){ra.parent.dev, ra.parent.ino}, &st);
	ck_assert_uint_eq(st.st_ino, us_ino_of(M0, 1, 123));
}
END_TEST

START_TEST(an_upper_made_elsewhere_without_records_has_none)
{
	ut_file(ut.upper, "a/f", "made in the upper");
	ut_load();
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_NONE);
	ck_assert(!us_shared_origins_maybe(M0));
}
END_TEST

/* an upper deeper than the scan goes: records may be anywhere, for good */
START_TEST(records_are_read_everywhere_when_the_scan_is_unsure)
{
	char rel[256] = "x";
	for (int i = 0; i < 60; i++)
		strcat(rel, "/y");
	ut_file(ut.upper, rel, "deep");
	ut_load();
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_ANYWHERE);
	ck_assert(marked("x"));
}
END_TEST

/* Run once, right after the next getdents64 that read entries: a
 * listing's read, with something done in the middle of it. The library's
 * own syscall(2) calls come here (the unit tests link it statically). */
static void (*after_getdents)(void);

long syscall(long n, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	long rc = real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (n == SYS_getdents64 && rc > 0 && after_getdents) {
		int saved = errno;
		void (*f)(void) = after_getdents;
		after_getdents = NULL;
		f();
		errno = saved;
	}
	return rc;
}

static void mark_d(void)
{
	struct stat st;

	ck_assert_int_eq(stat(ut_p(ut.upper, "d"), &st), 0);
	ck_assert(us_shared_origins_enter(M0, st.st_dev, st.st_ino));
}

/* A copy-up marks the dir, then renames the copy in: a listing that found
 * the dir unmarked when it began may read the copy's entry after both. */
START_TEST(a_copy_that_enters_a_dir_while_it_is_listed_gets_its_record_read)
{
	struct stat low;
	struct us_dirlist l = {0};
	char rec[64];

	ut_file(ut.low1, "d/x", "lower");
	ut_file(ut.upper, "d/own", "made in the upper");
	ut_load();
	ck_assert_int_eq(us_shared_origins_mode(M0), US_ORIGINS_NONE);
	ck_assert_int_eq(stat(ut_p(ut.low1, "d/x"), &low), 0);
	/* the copy, placed by another process whose mark comes just after
	 * this listing checked for one */
	made_file("d/x");
	snprintf(rec, sizeof rec, "1:%llu:1", (unsigned long long)low.st_ino);
	ck_assert_int_eq(ut_xattr(ut.upper, "d/x", US_ORIGIN_XATTR, rec), 0);
	ut_res(&ra, "d");
	after_getdents = mark_d;
	ck_assert_int_eq(us_dir_merge(M0, ra.path, ra.node.dirs, &l), 0);
	ck_assert_ptr_null(after_getdents); /* the mark came mid-read */
	bool seen = false;
	for (size_t i = 0; i < l.n; i++) {
		struct dirent64 *e = us_dirlist_at(&l, i);
		if (strcmp(e->d_name, "x") == 0) {
			seen = true;
			ck_assert_uint_eq(e->d_ino, us_ino_of(M0, 1, low.st_ino));
		}
	}
	ck_assert(seen);
	us_dirlist_free(&l);
}
END_TEST

Suite *origindirs_suite(void)
{
	Suite *s = suite_create("origindirs");
	TCase *tc = tcase_create("origindirs");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, a_copyup_marks_the_dir_it_lands_in_and_no_other);
	tcase_add_test(tc, a_rename_carries_the_mark_with_the_copy);
	tcase_add_test(tc, an_exchange_marks_both_dirs);
	tcase_add_test(tc, the_scan_of_an_upper_made_elsewhere_marks_the_dirs_with_records);
	tcase_add_test(tc, an_upper_made_elsewhere_without_records_has_none);
	tcase_add_test(tc, records_are_read_everywhere_when_the_scan_is_unsure);
	tcase_add_test(tc, a_copy_that_enters_a_dir_while_it_is_listed_gets_its_record_read);
	suite_add_tcase(s, tc);
	return s;
}
