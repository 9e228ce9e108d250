/* test_ioctlclass.c: the ioctl request classes of ioctlclass.h, by the
 * kernel headers' own numbers: fileattr sets copy up, other writers of a
 * file or its filesystem are writers, readers and foreign families pass. */
#include <asm/ioctl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "unionshim/ioctlclass.h"
#include "unit.h"

START_TEST(fileattr_sets_copy_up)
{
	ck_assert_int_eq(us_ioctl_class(FS_IOC_SETFLAGS), US_IOC_COPYUP);
	ck_assert_int_eq(us_ioctl_class(FS_IOC32_SETFLAGS), US_IOC_COPYUP);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_FSSETXATTR), US_IOC_COPYUP);
}
END_TEST

START_TEST(other_writers_write)
{
	ck_assert_int_eq(us_ioctl_class(FS_IOC_SETVERSION), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FS_IOC32_SETVERSION), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_ENABLE_VERITY), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_SET_ENCRYPTION_POLICY), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_SETFSLABEL), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FICLONE), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FICLONERANGE), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(FIDEDUPERANGE), US_IOC_DEDUPE);
	/* declared _IOR, yet they write: EXT4_IOC_SHUTDOWN, EXT4_IOC_SETFSUUID */
	ck_assert_int_eq(us_ioctl_class(_IOR('X', 125, unsigned)), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(_IOW('f', 44, char[24])), US_IOC_WRITE);
	/* btrfs: SET_FEATURES shares its number with GET_FEATURES */
	ck_assert_int_eq(us_ioctl_class(_IOW(0x94, 57, char[48])), US_IOC_WRITE);
	ck_assert_int_eq(us_ioctl_class(_IOR(0x94, 57, char[24])), US_IOC_PASS);
	/* an unknown number of a filesystem family is a writer */
	ck_assert_int_eq(us_ioctl_class(_IO('f', 99)), US_IOC_WRITE);
}
END_TEST

START_TEST(readers_and_others_pass)
{
	ck_assert_int_eq(us_ioctl_class(FS_IOC_GETFLAGS), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC32_GETFLAGS), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_FSGETXATTR), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_GETVERSION), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_FIEMAP), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_GETFSLABEL), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_MEASURE_VERITY), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FS_IOC_GET_ENCRYPTION_POLICY), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FIFREEZE), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FITRIM), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FIONREAD), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(TCGETS), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(TIOCGWINSZ), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(FIOCLEX), US_IOC_PASS);
	ck_assert_int_eq(us_ioctl_class(BLKGETSIZE64), US_IOC_PASS);
}
END_TEST

Suite *ioctlclass_suite(void)
{
	Suite *s = suite_create("ioctlclass");
	TCase *tc = tcase_create("classes");

	tcase_add_test(tc, fileattr_sets_copy_up);
	tcase_add_test(tc, other_writers_write);
	tcase_add_test(tc, readers_and_others_pass);
	suite_add_tcase(s, tc);
	return s;
}
