/* main.c: the unit-test runner: every core module's suite in one srunner.
 * Exit status is nonzero when any test fails. CK_FORK (the default, or
 * from the environment) runs each test in its own process; all of them
 * share one scratch dir, removed at the end. */
#include <stdlib.h>

#include "unit.h"

int main(void)
{
	if (ut_scratch_begin() < 0)
		return EXIT_FAILURE;

	SRunner *sr = srunner_create(path_suite());

	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, lookup_suite());
	srunner_add_suite(sr, dirmerge_suite());
	srunner_add_suite(sr, whiteout_suite());
	srunner_add_suite(sr, copyup_suite());
	srunner_add_suite(sr, unionops_suite());
	srunner_add_suite(sr, identity_suite());
	srunner_add_suite(sr, shared_suite());
	srunner_add_suite(sr, origindirs_suite());
	srunner_add_suite(sr, resolve_at_suite());
	srunner_add_suite(sr, msgline_suite());
	srunner_add_suite(sr, fmt_suite());
	srunner_add_suite(sr, exectarget_suite());
	srunner_add_suite(sr, ioctlclass_suite());
	srunner_add_suite(sr, linkindex_suite());
	srunner_add_suite(sr, fdmaptext_suite());
	srunner_add_suite(sr, handover_suite());
	srunner_add_suite(sr, symnext_suite());
	srunner_add_suite(sr, scratch_suite());
	srunner_add_suite(sr, changes_suite());
	srunner_add_suite(sr, fdops_suite());
	srunner_add_suite(sr, lcache_suite());
	srunner_add_suite(sr, pcache_suite());
	srunner_add_suite(sr, listcache_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	ut_scratch_end();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
