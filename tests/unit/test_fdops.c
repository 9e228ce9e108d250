/* test_fdops.c: replaying a log of fd operations (fdops.h): which old fd
 * each new one is after dups, opens and closes, and whether it stays open
 * across an exec, as the kernel's dup2/dup3/F_DUPFD/close_range and
 * posix_spawn's file actions would leave it. */
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>

#include "unionshim/fdops.h"
#include "unit.h"

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static void fate_is(const struct us_fdop *ops, int n, int fd, int from,
		    int cloexec)
{
	struct us_fdfate f = us_fdops_fate(ops, n, fd);

	ck_assert_int_eq(f.from, from);
	ck_assert_int_eq(f.cloexec, cloexec);
}

START_TEST(untouched_fd_is_itself)
{
	struct us_fdop ops[] = {us_fdop_dup3(3, 4, 0)};

	fate_is(NULL, 0, 7, 7, -1);
	fate_is(ops, N(ops), 3, 3, -1); /* the source of a dup stays */
	fate_is(ops, N(ops), 5, 5, -1);
	ck_assert_int_eq(us_fdops_fate(ops, N(ops), 5).op, -1);
}
END_TEST

/* dup2 onto a number that holds an fd replaces it: the last op that put
 * something at the number decides, whatever was there before. */
START_TEST(dup_onto_an_occupied_fd)
{
	struct us_fdop ops[] = {
		us_fdop_open(5, O_RDONLY), /* 5: a union file opened */
		us_fdop_dup3(3, 5, 0),     /* dup2(3, 5) replaces it */
		us_fdop_dup3(5, 7, 0),     /* 7: a copy of 5, i.e. of old 3 */
		us_fdop_dup3(4, 3, 0),     /* 3 itself replaced after that */
		us_fdop_open(8, O_RDONLY),
		us_fdop_dup3(6, 8, 0),     /* an open replaced by a dup ... */
		us_fdop_dup3(6, 9, 0),
		us_fdop_open(9, O_RDONLY), /* ... and a dup by an open */
	};

	fate_is(ops, N(ops), 5, 3, 0);
	fate_is(ops, N(ops), 7, 3, 0); /* what 5 was when 7 was made */
	fate_is(ops, N(ops), 3, 4, 0);
	fate_is(ops, N(ops), 8, 6, 0);
	struct us_fdfate f = us_fdops_fate(ops, N(ops), 9);
	ck_assert_int_eq(f.from, US_FDFATE_OPENED);
	ck_assert_int_eq(f.op, 7);
	ck_assert_int_eq(f.cloexec, 0);
	/* a dup of what an op opened is that open */
	struct us_fdop dup_open[] = {us_fdop_open(4, O_RDONLY),
				     us_fdop_dup3(4, 6, 0)};
	f = us_fdops_fate(dup_open, N(dup_open), 6);
	ck_assert_int_eq(f.from, US_FDFATE_OPENED);
	ck_assert_int_eq(f.op, 0);
	/* a dup of an fd closed before it copies nothing */
	struct us_fdop dup_closed[] = {us_fdop_close(4), us_fdop_dup3(4, 6, 0)};
	fate_is(dup_closed, N(dup_closed), 6, US_FDFATE_CLOSED, 0);
	/* dup (lowest free) and F_DUPFD are dups too */
	struct us_fdop dupfd[] = {us_fdop_dupfd(3, F_DUPFD, 10),
				  us_fdop_dupfd(10, F_DUPFD_CLOEXEC, 11)};
	fate_is(dupfd, N(dupfd), 10, 3, 0);
	fate_is(dupfd, N(dupfd), 11, 3, 1);
}
END_TEST

START_TEST(close_and_close_range)
{
	struct us_fdop ops[] = {
		us_fdop_close(3),
		us_fdop_close_range(5, 9, CLOSE_RANGE_UNSHARE), /* closes */
		us_fdop_dup3(2, 6, 0), /* a number closed, then used again */
	};

	ck_assert_int_eq(ops[1].kind, US_FDOP_CLOSE);
	fate_is(ops, N(ops), 3, US_FDFATE_CLOSED, -1);
	fate_is(ops, N(ops), 4, 4, -1);
	fate_is(ops, N(ops), 5, US_FDFATE_CLOSED, -1);
	fate_is(ops, N(ops), 9, US_FDFATE_CLOSED, -1);
	fate_is(ops, N(ops), 10, 10, -1);
	fate_is(ops, N(ops), 6, 2, 0);
	/* closefrom(n): n up to the largest fd; numbers past INT_MAX clamp */
	struct us_fdop from[] = {us_fdop_close_range(20, ~0U, 0)};
	ck_assert_int_eq(from[0].fd, 20);
	ck_assert_int_eq(from[0].src, INT_MAX);
	fate_is(from, 1, INT_MAX, US_FDFATE_CLOSED, -1);
	fate_is(from, 1, 19, 19, -1);
}
END_TEST

/* close_range(CLOSE_RANGE_CLOEXEC), with or without UNSHARE, closes
 * nothing: it marks the range close-on-exec. */
START_TEST(close_range_cloexec_marks)
{
	unsigned both = CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE;
	struct us_fdop ops[] = {
		us_fdop_close_range(3, ~0U, both),
		us_fdop_dup3(1, 4, 0), /* dup2 after it: not close-on-exec */
	};

	ck_assert_int_eq(ops[0].kind, US_FDOP_CLOEXEC);
	ck_assert_int_eq(us_fdop_close_range(3, 4, CLOSE_RANGE_CLOEXEC).kind,
			 US_FDOP_CLOEXEC);
	fate_is(ops, N(ops), 2, 2, -1);
	fate_is(ops, N(ops), 3, 3, 1);
	fate_is(ops, N(ops), 1000, 1000, 1);
	fate_is(ops, N(ops), 4, 1, 0);
	/* a dup made before the mark is marked too */
	struct us_fdop before[] = {us_fdop_dup3(1, 5, 0),
				   us_fdop_close_range(5, 5, both)};
	fate_is(before, N(before), 5, 1, 1);
}
END_TEST

/* Which fds an exec keeps: the close-on-exec flag the last op gave it,
 * else the old fd's own. */
START_TEST(cloexec_across_exec)
{
	struct us_fdop ops[] = {
		us_fdop_dup3(3, 4, O_CLOEXEC),       /* dup3(O_CLOEXEC) */
		us_fdop_dup3(3, 5, 0),               /* dup2 */
		us_fdop_dupfd(3, F_DUPFD_CLOEXEC, 6),
		us_fdop_dupfd(3, F_DUPFD, 7),
		us_fdop_open(8, O_RDONLY | O_CLOEXEC),
		us_fdop_open(9, O_RDONLY),
		us_fdop_dup3(10, 10, 0), /* adddup2(10, 10) clears the flag */
		us_fdop_close(11),
	};
	struct {
		int fd;
		bool old_cloexec, kept;
	} want[] = {
		{4, false, false}, {5, true, true},  {6, false, false},
		{7, true, true},   {8, false, false}, {9, true, true},
		{10, true, true},  {11, false, false},
		{3, true, false},  {3, false, true}, /* untouched: its own flag */
	};

	for (int i = 0; i < N(want); i++) {
		struct us_fdfate f = us_fdops_fate(ops, N(ops), want[i].fd);
		ck_assert_msg(us_fdops_survives(f, want[i].old_cloexec) == want[i].kept,
			      "fd %d (old close-on-exec %d)", want[i].fd,
			      want[i].old_cloexec);
	}
	fate_is(ops, N(ops), 10, 10, 0);
}
END_TEST

START_TEST(top_of_what_ops_placed)
{
	struct us_fdop ops[] = {us_fdop_dup3(3, 40, 0), us_fdop_open(30, 0),
				us_fdop_close_range(0, 500, 0),
				us_fdop_close_range(0, 600, CLOSE_RANGE_CLOEXEC)};

	ck_assert_int_eq(us_fdops_top(ops, N(ops), 12), 40);
	ck_assert_int_eq(us_fdops_top(ops, N(ops), 50), 50);
	ck_assert_int_eq(us_fdops_top(NULL, 0, 7), 7);
}
END_TEST

Suite *fdops_suite(void)
{
	Suite *s = suite_create("fdops");
	TCase *tc = tcase_create("fdops");

	tcase_add_test(tc, untouched_fd_is_itself);
	tcase_add_test(tc, dup_onto_an_occupied_fd);
	tcase_add_test(tc, close_and_close_range);
	tcase_add_test(tc, close_range_cloexec_marks);
	tcase_add_test(tc, cloexec_across_exec);
	tcase_add_test(tc, top_of_what_ops_placed);
	suite_add_tcase(s, tc);
	return s;
}
