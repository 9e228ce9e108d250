/* test_msgline.c: one-line diagnostics (msgline.h): values are escaped so
 * that no byte of a value can end the line; long lines stay whole. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/msgline.h"
#include "unit.h"

START_TEST(escape_control_bytes)
{
	char out[128];

	ck_assert_uint_eq(us_msg_escape(out, sizeof out, "a\nb\rc\td\\e"), 13);
	ck_assert_str_eq(out, "a\\nb\\rc\\td\\\\e");
	us_msg_escape(out, sizeof out, "\x01\x1b\x7f \xc3\xa9");
	ck_assert_str_eq(out, "\\x01\\x1b\\x7f \xc3\xa9"); /* UTF-8 kept */
}
END_TEST

START_TEST(escape_cut_whole)
{
	char out[6];

	/* "ab\n" needs 4 bytes + NUL; "ab\n\n" does not fit: cut between */
	ck_assert_uint_eq(us_msg_escape(out, sizeof out, "ab\n\n"), 4);
	ck_assert_str_eq(out, "ab\\n");
}
END_TEST

/* Everything written to a pipe by one message. */
static size_t read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

START_TEST(message_is_one_line)
{
	static char big[4000], got[20000];
	int p[2];
	struct us_msg m;

	ck_assert_int_eq(pipe(p), 0);
	memset(big, '\n', sizeof big - 1);
	errno = EXDEV;
	us_msg_start(&m, p[1], "unionshim: ");
	us_msg_raw(&m, "bad ");
	us_msg_val(&m, big);
	us_msg_end(&m);
	ck_assert_int_eq(errno, EXDEV);
	close(p[1]);
	size_t n = read_all(p[0], got, sizeof got);
	close(p[0]);
	ck_assert_uint_eq(n, strlen("unionshim: bad ") + 2 * (sizeof big - 1) + 1);
	ck_assert_ptr_eq(strchr(got, '\n'), got + n - 1);
	ck_assert(strncmp(got, "unionshim: bad \\n\\n", 19) == 0);
}
END_TEST

Suite *msgline_suite(void)
{
	Suite *s = suite_create("msgline");
	TCase *tc = tcase_create("msgline");

	tcase_add_test(tc, escape_control_bytes);
	tcase_add_test(tc, escape_cut_whole);
	tcase_add_test(tc, message_is_one_line);
	suite_add_tcase(s, tc);
	return s;
}
