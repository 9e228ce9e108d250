/* test_scratch.c: the per-thread scratch stack of scratch.h: pushes are
 * aligned and LIFO, a scope pops what it pushed, a push too big for the
 * region fails with ENOMEM, each thread has its own region. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "unionshim/scratch.h"
#include "unit.h"

START_TEST(push_is_aligned_and_lifo)
{
	size_t mark = us_scratch_mark();
	char *a = us_scratch_push(3), *b = us_scratch_push(5);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq((uintptr_t)a % US_SCRATCH_ALIGN, 0);
	ck_assert_uint_eq((uintptr_t)b % US_SCRATCH_ALIGN, 0);
	ck_assert_ptr_eq(b, a + US_SCRATCH_ALIGN);
	memset(a, 'a', 3);
	us_scratch_pop(mark);
	ck_assert_ptr_eq(us_scratch_push(1), a); /* popped: the same memory */
	us_scratch_pop(mark);
	ck_assert_uint_eq(us_scratch_mark(), mark);
}
END_TEST

static char *in_scope(void)
{
	US_SCRATCH_SCOPE;
	return us_scratch_push(100);
}

START_TEST(scope_pops)
{
	size_t mark = us_scratch_mark();

	ck_assert_ptr_nonnull(in_scope());
	ck_assert_uint_eq(us_scratch_mark(), mark);
}
END_TEST

START_TEST(too_big_is_enomem)
{
	size_t mark = us_scratch_mark();

	errno = 0;
	ck_assert_ptr_null(us_scratch_push(US_SCRATCH_SIZE));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_eq(us_scratch_mark(), mark); /* nothing taken */
	ck_assert_ptr_nonnull(us_scratch_push(PATH_MAX)); /* still serves */
	us_scratch_pop(mark);
}
END_TEST

static void *other_thread(void *arg)
{
	char *mine = us_scratch_push(16);

	return mine != arg ? mine : NULL;
}

START_TEST(each_thread_its_own)
{
	size_t mark = us_scratch_mark();
	char *mine = us_scratch_push(16);
	pthread_t t;
	void *theirs;

	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, mine), 0);
	ck_assert_int_eq(pthread_join(t, &theirs), 0);
	ck_assert_ptr_nonnull(theirs);
	us_scratch_pop(mark);
}
END_TEST

Suite *scratch_suite(void)
{
	Suite *s = suite_create("scratch");
	TCase *tc = tcase_create("scratch");

	tcase_add_test(tc, push_is_aligned_and_lifo);
	tcase_add_test(tc, scope_pops);
	tcase_add_test(tc, too_big_is_enomem);
	tcase_add_test(tc, each_thread_its_own);
	suite_add_tcase(s, tc);
	return s;
}
