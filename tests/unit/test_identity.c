/* test_identity.c: the inode-number scheme and device of identity.h, and
 * the origin record a copy-up leaves. */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "unionshim/identity.h"
#include "unit.h"

START_TEST(ino_tags_layer_in_top_byte)
{
	ck_assert_uint_eq(us_ino_make(0, 12345), 12345);
	ck_assert_uint_eq(us_ino_make(1, 12345), (UINT64_C(1) << 56) | 12345);
	ck_assert_uint_eq(us_ino_make(3, 7), (UINT64_C(3) << 56) | 7);
	ck_assert_uint_ne(us_ino_make(1, 7), us_ino_make(2, 7));
}
END_TEST

START_TEST(ino_with_high_bits_is_hashed_apart)
{
	uint64_t big = UINT64_C(1) << 60;
	uint64_t a = us_ino_make(1, big), b = us_ino_make(2, big);

	ck_assert(a >> 63); /* bit 63: outside every tagged number */
	ck_assert(b >> 63);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(a, us_ino_make(1, big)); /* stable */
	ck_assert_uint_ne(us_ino_make(1, big), us_ino_make(1, big + 1));
}
END_TEST

START_TEST(dev_is_per_mount_and_no_real_major)
{
	struct us_mount a = {0}, b = {0};

	a.target = (char *)"/srv/a";
	a.target_len = strlen(a.target);
	b.target = (char *)"/srv/b";
	b.target_len = strlen(b.target);
	ck_assert_uint_ne(us_mount_dev(&a), us_mount_dev(&b));
	ck_assert_uint_eq(us_mount_dev(&a), us_mount_dev(&a));
	ck_assert_uint_ge(major(us_mount_dev(&a)), 2048);
	ck_assert_uint_lt(major(us_mount_dev(&a)), 3072);
}
END_TEST

START_TEST(origin_round_trips_through_xattr)
{
	struct us_origin in = {.layer = 2, .ino = 987654321, .nlink = 3}, out;

	ut_file(ut.upper, "f", "x");
	const char *f = ut_p(ut.upper, "f");
	ck_assert_int_eq(us_origin_read(f, -1, &out), 0);
	ck_assert_int_eq(us_origin_write(f, &in), 0);
	ck_assert_int_eq(us_origin_read(f, -1, &out), 1);
	ck_assert_int_eq(out.layer, 2);
	ck_assert_uint_eq(out.ino, 987654321);
	ck_assert_uint_eq(out.nlink, 3);
}
END_TEST

START_TEST(aside_record_belongs_to_one_object)
{
	struct us_origin in = {.layer = 1, .ino = 4242, .nlink = 1}, out;
	struct stat st;

	ut_link(ut.upper, "ln", "target");
	ut_load();
	const struct us_mount *m = &ut.cfg.mounts[0];
	const char *ln = ut_p(ut.upper, "ln");
	ck_assert_int_eq(lstat(ln, &st), 0);
	ck_assert_int_eq(us_origin_read_aside(m, ln, st.st_ino, &out), 0);
	ck_assert_int_eq(us_origin_write_aside(m, ln, &in), 0);
	ck_assert_int_eq(us_origin_read_aside(m, ln, st.st_ino, &out), 1);
	ck_assert_int_eq(out.layer, 1);
	ck_assert_uint_eq(out.ino, 4242);
	/* a record left by another object that had the number (another
	 * birth time) is not taken */
	char rec[PATH_MAX + 64];
	snprintf(rec, sizeof rec, "%s/#origin/%llu", ut.work,
		 (unsigned long long)st.st_ino);
	ck_assert_int_eq(unlink(rec), 0);
	ck_assert_int_eq(symlink("1:4242:1:1.0", rec), 0);
	ck_assert_int_eq(us_origin_read_aside(m, ln, st.st_ino, &out), 0);
	/* and removing the object through the union drops its record */
	ck_assert_int_eq(us_origin_write_aside(m, ln, &in), 0);
	us_origin_forget_aside(m, ln);
	ck_assert_int_eq(access(rec, F_OK), -1);
}
END_TEST

Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("identity");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, ino_tags_layer_in_top_byte);
	tcase_add_test(tc, ino_with_high_bits_is_hashed_apart);
	tcase_add_test(tc, dev_is_per_mount_and_no_real_major);
	tcase_add_test(tc, origin_round_trips_through_xattr);
	tcase_add_test(tc, aside_record_belongs_to_one_object);
	suite_add_tcase(s, tc);
	return s;
}
