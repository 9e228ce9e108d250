/* test_lcache.c: the lookup cache (lcache.h): a second lookup is a hit,
 * a name in no layer is remembered too, a bump of the dir's generation
 * (or of the mount's, or a forget) makes the next lookup read the layers
 * again, every namespace change of the core bumps, the table's size is
 * fixed (old entries go), and what is not cacheable (long names) is
 * looked up every time.
 *
 * A change made here to a layer's own files is one from outside the
 * union, which the cache does not see: that is how a test tells a hit
 * from a lookup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unionshim/copyup.h"
#include "unionshim/lcache.h"
#include "unionshim/lookup.h"
#include "unionshim/pcache.h"
#include "unionshim/unionops.h"
#include "growtable.h"
#include "unit.h"

#define M0 (&ut.cfg.mounts[0])

static struct us_resolved r;

static int resolve(const char *rel)
{
	ck_assert(us_resolve(&ut.cfg, ut_u(rel), US_LOOKUP_NOFOLLOW, &r) == 0);
	ck_assert(r.where == US_INSIDE);
	return r.err;
}

static struct us_lcache_stats stats(void)
{
	struct us_lcache_stats s;

	us_lcache_stats(&s);
	return s;
}

START_TEST(second_lookup_is_a_hit)
{
	ut_file(ut.low1, "a/b/c/f", "lower");
	ut_load();
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	struct us_node first = r.node;
	struct us_lcache_stats s0 = stats();
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	struct us_lcache_stats s1 = stats();
	ck_assert_uint_eq(s1.hits - s0.hits, 4); /* a, b, c, f */
	ck_assert_uint_eq(s1.misses, s0.misses);
	ck_assert_int_eq(r.node.layer, first.layer);
	ck_assert_uint_eq(r.node.ino, first.ino);
	ck_assert_uint_eq(r.node.dev, first.dev);
	ck_assert_uint_eq(r.node.mode, first.mode);
	ck_assert_uint_eq(r.node.dirs, first.dirs);
	ck_assert_uint_eq(r.parent.dirs, (1u << 1)); /* c merges from low1 */
	/* proof that no layer was read: a change from outside is not seen */
	ck_assert_int_eq(unlink(ut_p(ut.low1, "a/b/c/f")), 0);
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	us_lcache_forget();
	ck_assert_int_eq(resolve("a/b/c/f"), ENOENT);
}
END_TEST

START_TEST(a_name_in_no_layer_is_remembered)
{
	ut_mkdir(ut.low1, "d");
	ut_load();
	ck_assert_int_eq(resolve("d/none"), ENOENT);
	struct us_lcache_stats s0 = stats();
	ck_assert_int_eq(resolve("d/none"), ENOENT);
	ck_assert_uint_eq(stats().hits - s0.hits, 2);
	ck_assert_uint_eq(stats().misses, s0.misses);
	ut_file(ut.low1, "d/none", "outside"); /* not seen: cached miss */
	ck_assert_int_eq(resolve("d/none"), ENOENT);
	us_lcache_dir_changed(M0, ut_u("d")); /* the dir's generation */
	ck_assert_int_eq(resolve("d/none"), 0);
	ck_assert_int_eq(r.node.layer, 1);
}
END_TEST

/* A dir another thread is copying up: placed in the upper, not yet
 * announced (its change begun, not ended). A file this thread then makes
 * in it (in the upper dir, announced) must show in this thread's next
 * lookup: the old view of the dir (lower only) may not answer while the
 * copy-up is under way. The stress probe met it: a rename of a file just
 * made answered ENOENT. */
START_TEST(a_dir_copyup_under_way_answers_from_no_cache)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_load();
	ck_assert_int_eq(resolve("d/t"), ENOENT); /* d cached: lower only */
	ck_assert_uint_eq(r.parent.dirs, 1u << 1);
	bool begun = us_lcache_change_begin(M0, ut_u("d"), false);
	ck_assert(begun);
	ut_mkdir(ut.upper, "d"); /* placed by the other thread */
	ut_file(ut.upper, "d/t", "made here"); /* this thread's file... */
	us_lcache_name_changed(M0, ut_u("d/t")); /* ...announced */
	ck_assert_int_eq(resolve("d/t"), 0);
	ck_assert_int_eq(r.node.layer, 0);
	/* and nothing of the old view was kept meanwhile */
	us_lcache_change_end(M0, ut_u("d"), false, begun);
	ck_assert_int_eq(resolve("d/t"), 0);
	ck_assert_uint_eq(r.parent.dirs, 1u << 0 | 1u << 1);
}
END_TEST

START_TEST(a_bump_of_one_dir_leaves_the_others)
{
	ut_file(ut.low1, "d/x", "x");
	ut_file(ut.low1, "e/y", "y");
	ut_load();
	resolve("d/x");
	resolve("e/y");
	us_lcache_name_changed(M0, ut_u("d/x")); /* bumps d */
	struct us_lcache_stats s0 = stats();
	resolve("e/y");
	ck_assert_uint_eq(stats().misses, s0.misses); /* d's slot only... */
	s0 = stats();
	resolve("d/x");
	ck_assert_uint_eq(stats().misses - s0.misses, 1); /* ...x in d */
}
END_TEST

START_TEST(moves_make_every_entry_stale)
{
	ut_file(ut.low1, "d/e/x", "x");
	ut_load();
	resolve("d/e/x");
	struct us_lcache_stats s0 = stats();
	us_lcache_moved(M0);
	resolve("d/e/x");
	ck_assert_uint_eq(stats().misses - s0.misses, 3);
	ck_assert_uint_eq(stats().hits, s0.hits);
}
END_TEST

START_TEST(copyup_rename_unlink_mkdir_bump)
{
	ut_file(ut.low1, "d/f", "lower");
	ut_mkdir(ut.low1, "d/sub");
	ut_file(ut.low1, "d/sub/g", "g");
	ut_load();
	ck_assert_int_eq(resolve("d/f"), 0);
	ck_assert_int_eq(r.node.layer, 1);
	ck_assert_int_eq(us_copyup(M0, r.path, &r.node, true), 0);
	ck_assert_int_eq(resolve("d/f"), 0);
	ck_assert_int_eq(r.node.layer, 0); /* the copy, not the cached lower */
	ck_assert_int_eq(resolve("d"), 0);
	ck_assert(r.node.dirs & 1); /* d was copied up as f's parent */

	struct us_resolved o, n;
	ck_assert_int_eq(resolve("d/f"), 0);
	o = r;
	ck_assert_int_eq(resolve("d/f2"), ENOENT);
	n = r;
	ck_assert_int_eq(us_union_rename(&o, &n, 0), 0);
	ck_assert_int_eq(resolve("d/f"), ENOENT);
	ck_assert_int_eq(resolve("d/f2"), 0);

	ck_assert_int_eq(resolve("d/sub/g"), 0);
	ck_assert_int_eq(us_union_remove(&r, false), 0);
	ck_assert_int_eq(resolve("d/sub/g"), ENOENT); /* whited out */
	ck_assert_int_eq(resolve("d/sub"), 0);
	ck_assert_int_eq(us_union_remove(&r, true), 0);
	ck_assert_int_eq(resolve("d/sub"), ENOENT);
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u("d/sub"), 0755), 0);
	ck_assert_int_eq(resolve("d/sub"), 0);
	ck_assert_uint_eq(r.node.dirs, 1); /* opaque: low1's sub is gone */
	ck_assert_int_eq(resolve("d/sub/g"), ENOENT);
}
END_TEST

START_TEST(old_entries_go_the_size_stays)
{
	ut_mkdir(ut.low1, "d");
	ut_load();
	char name[32];
	for (int i = 0; i < 2 * US_LCACHE_ENTRIES; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		resolve(name);
	}
	/* names asked once each: the first size stays */
	ck_assert_uint_eq(stats().entries, us_gt_entries_at(US_LCACHE_ENTRIES, 0));
	struct us_lcache_stats s0 = stats();
	/* the newest names are still there (a store pushes out its set's
	 * oldest; the dir's own entry, made young again now and then, is
	 * one of the four at most), the oldest went */
	for (int i = 2 * US_LCACHE_ENTRIES - 3; i < 2 * US_LCACHE_ENTRIES; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		resolve(name);
	}
	ck_assert_uint_eq(stats().misses, s0.misses);
	/* an early name stays only while its 4-way set took fewer than 4
	 * later names: about 1 in 25 */
	s0 = stats();
	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		resolve(name);
	}
	ck_assert_uint_ge(stats().misses - s0.misses, 200);
}
END_TEST

/* A process starts with a small table (a few pages for a short-lived
 * program). A walker's names, each asked once, leave it small however
 * many they are; names asked again after the table pushed them out make
 * it grow, keeping what the smaller one held: the names met just before a
 * move are still answered after it. */
START_TEST(the_table_grows_when_names_come_back)
{
	ut_mkdir(ut.low1, "d");
	ut_load();
	char name[32];
	resolve("d/n0");
	uint64_t first = stats().entries;
	ck_assert_uint_eq(first, us_gt_entries_at(US_LCACHE_ENTRIES, 0));
	for (int j = 1; j < 2 * US_LCACHE_ENTRIES; j++) {
		snprintf(name, sizeof name, "d/n%d", j);
		resolve(name);
	}
	ck_assert_uint_eq(stats().entries, first);
	/* a working set of twice the first table, asked round and round */
	int i, round;
	for (round = 0; round < 4 && stats().entries == first; round++)
		for (i = 0; i < 2 * (int)first; i++) {
			snprintf(name, sizeof name, "d/w%d", i);
			resolve(name);
		}
	ck_assert_uint_gt(stats().entries, first); /* a bigger size */
	ck_assert_int_eq(round, 2); /* the first round's names came back */
	struct us_lcache_stats s0 = stats();
	for (int j = 0; j < 8; j++) {
		snprintf(name, sizeof name, "d/w%d", i - 1 - j);
		resolve(name);
	}
	ck_assert_uint_eq(stats().misses, s0.misses);
	ck_assert_uint_eq(stats().hits - s0.hits, 16); /* d and the name */
	/* and up to the full size, no further */
	for (round = 0; round < 3; round++)
		for (int j = 0; j < 2 * US_LCACHE_ENTRIES; j++) {
			snprintf(name, sizeof name, "d/m%d", j);
			resolve(name);
		}
	ck_assert_uint_eq(stats().entries, US_LCACHE_ENTRIES);
}
END_TEST

static unsigned name_set(const char *name, void *dir, unsigned sets)
{
	return us_lcache_set_of(M0, dir, 3, name, sets);
}

/* Names that differ in one byte, wherever it is, fall in many sets of
 * even a small table: with a set taken from bits the name's last bytes
 * did not reach, low030.c ... low039.c shared one 4-way set and pushed
 * each other out. */
START_TEST(every_byte_of_a_name_picks_its_set)
{
	ut_load();
	static const char *const bases[] = {"low030.c", "a-longer-name-low030.c"};
	for (int b = 0; b < 2; b++)
		for (size_t pos = 0; pos < strlen(bases[b]); pos++)
			ck_assert_int_ge(ut_sets_used(name_set, (void *)ut_u("d"),
						      bases[b], pos, 64), 16);
}
END_TEST

START_TEST(long_names_are_looked_up_each_time)
{
	char rel[128] = "d/";
	memset(rel + 2, 'L', US_LCACHE_NAME + 1);
	ut_file(ut.low1, rel, "long");
	ut_load();
	ck_assert_int_eq(resolve(rel), 0);
	ck_assert_int_eq(unlink(ut_p(ut.low1, rel)), 0);
	ck_assert_int_eq(resolve(rel), ENOENT); /* seen at once */
}
END_TEST

START_TEST(layer_sets_are_part_of_the_key)
{
	/* whiteout.c asks for the layers below the upper: another answer */
	ut_file(ut.upper, "d/x", "upper");
	ut_file(ut.low1, "d/x", "lower");
	ut_load();
	ck_assert_int_eq(resolve("d/x"), 0);
	ck_assert_int_eq(r.node.layer, 0);
	struct us_node below = r.parent, child;
	below.dirs &= ~(us_layermask)1;
	ck_assert_int_eq(us_lookup_child(M0, ut_u("d"), &below, "x", &child), 0);
	ck_assert_int_eq(child.layer, 1);
}
END_TEST

START_TEST(a_read_only_union_keeps_its_entries)
{
	ut_file(ut.low1, "f", "x");
	ut_load_spec("target=%s,lowerdir=%s:%s", ut.target, ut.low1, ut.low2);
	ck_assert_int_eq(resolve("f"), 0);
	unlink(ut_p(ut.low1, "f"));
	ck_assert_int_eq(resolve("f"), 0); /* nothing bumps: still cached */
	us_lcache_forget();
	ck_assert_int_eq(resolve("f"), ENOENT);
}
END_TEST

START_TEST(a_forked_child_uses_the_cache)
{
	ut_file(ut.low1, "d/f", "x");
	ut_load();
	resolve("d/f");
	unlink(ut_p(ut.low1, "d/f")); /* unseen by the cache */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct us_lcache_stats s0 = stats();
		int ok = resolve("d/f") == 0 && stats().hits - s0.hits == 2;
		_exit(ok ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* The whole-path cache (pcache.h) would answer first: off here, so each
 * resolve asks this cache for every component (test_pcache.c has its own). */
static void setup(void)
{
	ut_tree_setup();
	us_pcache_enable(false);
}

Suite *lcache_suite(void)
{
	Suite *s = suite_create("lcache");
	TCase *tc = tcase_create("lcache");

	tcase_add_checked_fixture(tc, setup, ut_tree_teardown);
	tcase_add_test(tc, second_lookup_is_a_hit);
	tcase_add_test(tc, a_name_in_no_layer_is_remembered);
	tcase_add_test(tc, a_bump_of_one_dir_leaves_the_others);
	tcase_add_test(tc, a_dir_copyup_under_way_answers_from_no_cache);
	tcase_add_test(tc, moves_make_every_entry_stale);
	tcase_add_test(tc, copyup_rename_unlink_mkdir_bump);
	tcase_add_test(tc, old_entries_go_the_size_stays);
	tcase_add_test(tc, the_table_grows_when_names_come_back);
	tcase_add_test(tc, every_byte_of_a_name_picks_its_set);
	tcase_add_test(tc, long_names_are_looked_up_each_time);
	tcase_add_test(tc, layer_sets_are_part_of_the_key);
	tcase_add_test(tc, a_read_only_union_keeps_its_entries);
	tcase_add_test(tc, a_forked_child_uses_the_cache);
	suite_add_tcase(s, tc);
	return s;
}
