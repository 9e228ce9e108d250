/* test_symnext.c: symnext.h answers as dlsym(RTLD_NEXT) does, for every
 * name of the preload library's table (wrapfuncs.def) and a few that no
 * object defines, from this test program's place in the load order. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>

#include "unionshim/symnext.h"
#include "unit.h"

static const char *const names[] = {
#define WRAP(ret, name, params) #name,
#define REAL WRAP
#define OWN(name) #name,
#include "../wrapfuncs.def"
#undef WRAP
#undef REAL
#undef OWN
	"realpath", "glob", "posix_spawn", "pthread_cond_wait", /* versioned */
	"memcpy", "gettimeofday", "environ", /* IFUNC, object */
	"us_no_such_function", "",
};

START_TEST(same_answers_as_dlsym)
{
	struct us_symnext s;
	int fast = 0;

	ck_assert(us_symnext_init(&s, (void *)same_answers_as_dlsym));
	ck_assert_int_gt(s.n, 0);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		bool ask;
		void *p = us_symnext_find(&s, names[i], &ask);
		if (ask) {
			ck_assert_ptr_null(p);
			continue;
		}
		ck_assert_msg(p == dlsym(RTLD_NEXT, names[i]),
			      "%s: %p, dlsym %p", names[i], p,
			      dlsym(RTLD_NEXT, names[i]));
		fast++;
	}
	/* nearly every name is answered without dlsym */
	ck_assert_int_gt(fast, (int)(sizeof names / sizeof *names) * 9 / 10);
}
END_TEST

START_TEST(unknown_object_asks)
{
	struct us_symnext s;
	bool ask;

	/* an address in no loaded object: nothing is known, dlsym decides */
	ck_assert(!us_symnext_init(&s, (void *)8));
	ck_assert_ptr_null(us_symnext_find(&s, "open", &ask));
	ck_assert(ask);
}
END_TEST

Suite *symnext_suite(void)
{
	Suite *s = suite_create("symnext");
	TCase *tc = tcase_create("symnext");

	tcase_add_test(tc, same_answers_as_dlsym);
	tcase_add_test(tc, unknown_object_asks);
	suite_add_tcase(s, tc);
	return s;
}
