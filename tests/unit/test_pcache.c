/* test_pcache.c: the whole-path cache (pcache.h): a second resolve of a
 * path is a hit that reads no layer, a missing name is remembered too, a
 * bump of ANY dir on the path (the target's root, each dir below it),
 * of the moves word or lcache's epoch makes the next resolve a miss, the
 * union's own changes (rename of an ancestor, rmdir, opaque mkdir, a dir
 * swapped for a symlink) are seen at once, a path that crossed a symlink
 * or is not in normal form is never stored, a forked child uses the
 * cache, and an entry being written is a miss (and made free in a child).
 *
 * A change made here to a layer's own files is one from outside the
 * union, which the caches do not see: that is how a test tells a hit from
 * a walk. The lookup cache (lcache.h) below is turned off by a forget
 * where a test needs the walk to read the layers again. */
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

static int resolve_f(const char *rel, unsigned flags)
{
	ck_assert(us_resolve(&ut.cfg, ut_u(rel), flags, &r) == 0);
	ck_assert(r.where == US_INSIDE);
	return r.err;
}

static int resolve(const char *rel)
{
	return resolve_f(rel, US_LOOKUP_NOFOLLOW);
}

static struct us_pcache_stats stats(void)
{
	struct us_pcache_stats s;

	us_pcache_stats(&s);
	return s;
}

/* Resolve REL: 1 when the path cache answered. */
static int hit(const char *rel)
{
	struct us_pcache_stats s0 = stats();

	resolve(rel);
	return stats().hits - s0.hits == 1;
}

START_TEST(second_resolve_is_a_hit)
{
	ut_file(ut.low1, "a/b/c/f", "lower");
	ut_load();
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	struct us_resolved first = r;
	ck_assert_int_eq(hit("a/b/c/f"), 1);
	ck_assert_int_eq(r.err, 0);
	ck_assert_str_eq(r.path, first.path);
	ck_assert_ptr_eq(r.m, M0);
	ck_assert_int_eq(r.parent_ok, 1);
	ck_assert_int_eq(r.node.layer, first.node.layer);
	ck_assert_uint_eq(r.node.ino, first.node.ino);
	ck_assert_uint_eq(r.node.dev, first.node.dev);
	ck_assert_uint_eq(r.node.mode, first.node.mode);
	ck_assert_uint_eq(r.node.nlink, first.node.nlink);
	ck_assert_uint_eq(r.parent.dirs, first.parent.dirs);
	ck_assert_uint_eq(r.parent.ino, first.parent.ino);
	/* no layer read: a change from outside is not seen, until a forget */
	ck_assert_int_eq(unlink(ut_p(ut.low1, "a/b/c/f")), 0);
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	us_lcache_forget();
	ck_assert_int_eq(resolve("a/b/c/f"), ENOENT);
}
END_TEST

START_TEST(a_missing_name_is_remembered)
{
	ut_mkdir(ut.low1, "d/e");
	ut_load();
	ck_assert_int_eq(resolve("d/e/none"), ENOENT);
	ck_assert_int_eq(hit("d/e/none"), 1);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_int_eq(r.parent_ok, 1);
	ck_assert_uint_eq(r.parent.dirs, 1u << 1);
	ut_file(ut.low1, "d/e/none", "outside"); /* not seen: cached miss */
	ck_assert_int_eq(resolve("d/e/none"), ENOENT);
	us_lcache_dir_changed(M0, ut_u("d/e"));
	ck_assert_int_eq(resolve("d/e/none"), 0);
}
END_TEST

/* The flags are part of the key: a final symlink followed or not. */
START_TEST(flags_are_part_of_the_key)
{
	ut_file(ut.low1, "d/t", "target");
	ut_link(ut.low1, "d/l", "t");
	ut_load();
	ck_assert_int_eq(resolve_f("d/l", US_LOOKUP_NOFOLLOW), 0);
	ck_assert(S_ISLNK(r.node.mode));
	ck_assert_int_eq(resolve_f("d/l", US_LOOKUP_NOFOLLOW), 0);
	ck_assert(S_ISLNK(r.node.mode));
	ck_assert_int_eq(resolve_f("d/l", 0), 0);
	ck_assert(S_ISREG(r.node.mode));
	ck_assert_str_eq(r.path, ut_u("d/t"));
}
END_TEST

/* Every dir of the path counts, from the target's root down: a bump of
 * one of them (and only then) makes the entry stale. */
START_TEST(a_bump_of_any_dir_on_the_path_is_a_miss)
{
	static const char *const dirs[] = {"", "a", "a/b", "a/b/c"};

	ut_file(ut.low1, "a/b/c/f", "lower");
	ut_file(ut.low1, "o/g", "other");
	ut_load();
	for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		resolve("a/b/c/f");
		resolve("o/g");
		ck_assert_int_eq(hit("a/b/c/f"), 1);
		us_lcache_dir_changed(M0, *dirs[i] ? ut_u(dirs[i]) : ut.target);
		ck_assert_msg(!hit("a/b/c/f"), "bump of '%s' not seen", dirs[i]);
		ck_assert_int_eq(r.err, 0);
	}
	resolve("o/g");
	us_lcache_dir_changed(M0, ut.target); /* the root is on every path */
	ck_assert_int_eq(hit("o/g"), 0);
	/* the name itself changing bumps its dir c */
	resolve("a/b/c/f");
	us_lcache_name_changed(M0, ut_u("a/b/c/f"));
	ck_assert_int_eq(hit("a/b/c/f"), 0);
}
END_TEST

START_TEST(moves_and_forget_make_every_entry_stale)
{
	ut_file(ut.low1, "d/e/x", "x");
	ut_load();
	resolve("d/e/x");
	ck_assert_int_eq(hit("d/e/x"), 1);
	us_lcache_moved(M0);
	ck_assert_int_eq(hit("d/e/x"), 0);
	ck_assert_int_eq(hit("d/e/x"), 1);
	us_lcache_forget();
	ck_assert_int_eq(hit("d/e/x"), 0);
	ck_assert_int_eq(hit("d/e/x"), 1);
}
END_TEST

/* The union's own changes of a dir ABOVE the name are seen at once. */
START_TEST(changes_of_an_ancestor_are_seen)
{
	ut_file(ut.upper, "a/b/c/f", "upper"); /* a dir the union may move */
	ut_file(ut.low1, "a/s/c/f", "other");
	ut_mkdir(ut.low1, "a/t/c");
	ut_load();
	ck_assert_int_eq(resolve("a/b/c/f"), 0);
	/* rename of an ancestor: a/b -> a/x */
	struct us_resolved o, n;
	ck_assert_int_eq(resolve("a/b"), 0);
	o = r;
	ck_assert_int_eq(resolve("a/x"), ENOENT);
	n = r;
	ck_assert_int_eq(us_union_rename(&o, &n, 0), 0);
	ck_assert(us_resolve(&ut.cfg, ut_u("a/b/c/f"), US_LOOKUP_NOFOLLOW, &r) < 0);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(resolve("a/x/c/f"), 0);

	/* rmdir of an ancestor (emptied first), then an opaque mkdir there */
	ck_assert_int_eq(resolve("a/s/c/f"), 0);
	ck_assert_int_eq(resolve("a/s/c/f"), 0);
	ck_assert_int_eq(us_union_remove(&r, false), 0);
	ck_assert_int_eq(resolve("a/s/c"), 0);
	ck_assert_int_eq(us_union_remove(&r, true), 0);
	ck_assert_int_eq(resolve("a/s"), 0);
	ck_assert_int_eq(us_union_remove(&r, true), 0);
	ck_assert_int_eq(us_mkdir_upper(M0, ut_u("a/s"), 0755), 0);
	ck_assert(us_resolve(&ut.cfg, ut_u("a/s/c/f"), US_LOOKUP_NOFOLLOW, &r) < 0);
	ck_assert_int_eq(errno, ENOENT); /* opaque: low1's a/s/c is gone */

	/* an ancestor dir (not the parent) swapped for a symlink: an upper
	 * symlink over the lower dir, and the bump of ITS dir a that the
	 * union's own symlink() makes */
	ut_file(ut.upper, "a/u/c/none", "via link");
	ck_assert_int_eq(resolve("a/t/c/none"), ENOENT);
	ck_assert_int_eq(resolve("a/t/c/none"), ENOENT);
	ut_link(ut.upper, "a/t", "u");
	us_lcache_name_changed(M0, ut_u("a/t"));
	ck_assert_int_eq(resolve_f("a/t/c/none", 0), 0);
	ck_assert_str_eq(r.path, ut_u("a/u/c/none"));
}
END_TEST

/* A walk through a symlink depends on its target's dirs too: it is not
 * stored, nor is a path that is not in normal form. */
START_TEST(symlinks_and_odd_paths_are_not_stored)
{
	ut_file(ut.low1, "d/f", "x");
	ut_link(ut.low1, "l", "d");
	ut_load();
	struct us_pcache_stats s0 = stats();
	ck_assert_int_eq(resolve("l/f"), 0);
	ck_assert_int_eq(resolve("d/./f"), 0);
	ck_assert_int_eq(resolve("d//f"), 0);
	ck_assert_int_eq(resolve("d/../d/f"), 0);
	ck_assert(us_resolve(&ut.cfg, ut_u("d/f/"), 0, &r) < 0);
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_uint_eq(stats().stores, s0.stores);
	ck_assert_int_eq(resolve("d/f"), 0);
	ck_assert_uint_eq(stats().stores - s0.stores, 1);
	/* through the link, a change of its target's dir is seen */
	ck_assert_int_eq(resolve("l/f"), 0);
	ck_assert_int_eq(resolve("d/f"), 0);
	ck_assert_int_eq(us_union_remove(&r, false), 0);
	ck_assert_int_eq(resolve("l/f"), ENOENT);
}
END_TEST

START_TEST(a_forked_child_uses_the_cache)
{
	ut_file(ut.low1, "d/f", "x");
	ut_load();
	resolve("d/f");
	resolve("d/f");
	ck_assert_int_eq(unlink(ut_p(ut.low1, "d/f")), 0); /* unseen */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		us_pcache_after_fork();
		int ok = hit("d/f") && r.err == 0;
		_exit(ok ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* An entry a writer is in the middle of is a miss, never waited for; a
 * forked child (whose writer stayed in the parent) makes it free. */
START_TEST(an_entry_being_written_is_a_miss)
{
	ut_file(ut.low1, "d/f", "x");
	ut_load();
	resolve("d/f");
	ck_assert_int_eq(hit("d/f"), 1);
	ck_assert_int_eq(us_pcache_hold(ut_u("d/f"), US_LOOKUP_NOFOLLOW, true), 1);
	ck_assert_int_eq(hit("d/f"), 0); /* the walk answers (and stores
					    into another way) */
	ck_assert_int_eq(r.err, 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		us_pcache_after_fork();
		/* the held entry is free now: no longer one being written */
		int ok = !us_pcache_hold(ut_u("d/f"), US_LOOKUP_NOFOLLOW, false) &&
			 hit("d/f");
		_exit(ok ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(us_pcache_hold(ut_u("d/f"), US_LOOKUP_NOFOLLOW, false), 1);
	ck_assert_int_eq(hit("d/f"), 1);
}
END_TEST

START_TEST(a_read_only_union_keeps_its_entries)
{
	ut_file(ut.low1, "d/f", "x");
	ut_load_spec("target=%s,lowerdir=%s:%s", ut.target, ut.low1, ut.low2);
	resolve("d/f");
	ck_assert_int_eq(hit("d/f"), 1);
	unlink(ut_p(ut.low1, "d/f"));
	ck_assert_int_eq(resolve("d/f"), 0); /* nothing bumps: still cached */
	us_lcache_forget();
	ck_assert_int_eq(resolve("d/f"), ENOENT);
}
END_TEST

START_TEST(old_entries_go_the_size_stays)
{
	ut_mkdir(ut.low1, "d");
	ut_load();
	char name[32];
	for (int i = 0; i < 2 * US_PCACHE_ENTRIES; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		resolve(name);
	}
	/* paths asked once each: the first size stays */
	ck_assert_uint_eq(stats().entries, us_gt_entries_at(US_PCACHE_ENTRIES, 0));
	int kept = 0;
	for (int i = 2 * US_PCACHE_ENTRIES - 4; i < 2 * US_PCACHE_ENTRIES; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		kept += hit(name);
	}
	ck_assert_int_eq(kept, 4); /* a store pushes out its set's oldest */
	kept = 0;
	for (int i = 0; i < 128; i++) {
		snprintf(name, sizeof name, "d/n%d", i);
		kept += hit(name);
	}
	ck_assert_int_le(kept, 16); /* the oldest went */
}
END_TEST

/* Paths asked again after the table pushed them out make it grow, up to
 * the full size and no further. */
START_TEST(the_table_grows_when_paths_come_back)
{
	ut_mkdir(ut.low1, "d");
	ut_load();
	char name[32];
	resolve("d");
	uint64_t first = stats().entries;
	ck_assert_uint_eq(first, us_gt_entries_at(US_PCACHE_ENTRIES, 0));
	int round;
	for (round = 0; round < 4 && stats().entries == first; round++)
		for (int i = 0; i < 2 * (int)first; i++) {
			snprintf(name, sizeof name, "d/w%d", i);
			resolve(name);
		}
	ck_assert_uint_gt(stats().entries, first); /* a bigger size */
	ck_assert_int_eq(round, 2); /* the first round's paths came back */
	for (round = 0; round < 3; round++)
		for (int i = 0; i < 2 * US_PCACHE_ENTRIES; i++) {
			snprintf(name, sizeof name, "d/m%d", i);
			resolve(name);
		}
	ck_assert_uint_eq(stats().entries, US_PCACHE_ENTRIES);
}
END_TEST

static unsigned path_set(const char *path, void *flags, unsigned sets)
{
	return us_pcache_set_of(path, *(unsigned *)flags, sets);
}

/* Paths that differ in one byte, wherever it is, fall in many sets of
 * even a small table (see test_lcache.c). */
START_TEST(every_byte_of_a_path_picks_its_set)
{
	unsigned flags = US_LOOKUP_NOFOLLOW;
	const char *base = "/some/union/target/dir/low030.c";
	for (size_t pos = 1; pos < strlen(base); pos++)
		ck_assert_int_ge(ut_sets_used(path_set, &flags, base, pos, 64), 16);
}
END_TEST

/* A hit's entry, named by its ref (us_pcache_still), holds while no
 * word it depends on moves and nothing rewrote it: the walk memo
 * (walkmemo.c) trusts exactly this. */
START_TEST(a_kept_hit_holds_until_its_words_move)
{
	static const char *const dirs[] = {"", "a", "a/b"};
	struct us_pc_miss miss;
	struct us_pc_ref ref;
	const char *p;

	ut_file(ut.low1, "a/b/c/f", "lower");
	ut_load();
	p = ut_u("a/b/c");
	for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		resolve("a/b/c");
		ck_assert_int_eq(us_pcache_get(&ut.cfg, p, US_LOOKUP_NOFOLLOW, &r,
					       &miss, &ref), 1);
		ck_assert(us_pcache_still(&ref));
		ck_assert(us_pcache_still(&ref)); /* a look changes nothing */
		us_lcache_dir_changed(M0, *dirs[i] ? ut_u(dirs[i]) : ut.target);
		ck_assert_msg(!us_pcache_still(&ref), "bump of '%s' not seen",
			      dirs[i]);
	}
	resolve("a/b/c");
	ck_assert_int_eq(us_pcache_get(&ut.cfg, p, US_LOOKUP_NOFOLLOW, &r, &miss,
				       &ref), 1);
	us_lcache_moved(M0);
	ck_assert(!us_pcache_still(&ref));
	resolve("a/b/c");
	ck_assert_int_eq(us_pcache_get(&ut.cfg, p, US_LOOKUP_NOFOLLOW, &r, &miss,
				       &ref), 1);
	ck_assert_int_eq(us_pcache_hold(p, US_LOOKUP_NOFOLLOW, true), 1);
	ck_assert(!us_pcache_still(&ref)); /* being written */
	ck_assert_int_eq(us_pcache_hold(p, US_LOOKUP_NOFOLLOW, false), 1);
	ck_assert(!us_pcache_still(&ref)); /* written since */
	resolve("a/b/c");
	ck_assert_int_eq(us_pcache_get(&ut.cfg, p, US_LOOKUP_NOFOLLOW, &r, &miss,
				       &ref), 1);
	us_pcache_enable(false);
	ck_assert(!us_pcache_still(&ref));
	us_pcache_enable(true);
}
END_TEST

Suite *pcache_suite(void)
{
	Suite *s = suite_create("pcache");
	TCase *tc = tcase_create("pcache");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, second_resolve_is_a_hit);
	tcase_add_test(tc, a_missing_name_is_remembered);
	tcase_add_test(tc, flags_are_part_of_the_key);
	tcase_add_test(tc, a_bump_of_any_dir_on_the_path_is_a_miss);
	tcase_add_test(tc, moves_and_forget_make_every_entry_stale);
	tcase_add_test(tc, changes_of_an_ancestor_are_seen);
	tcase_add_test(tc, symlinks_and_odd_paths_are_not_stored);
	tcase_add_test(tc, a_forked_child_uses_the_cache);
	tcase_add_test(tc, an_entry_being_written_is_a_miss);
	tcase_add_test(tc, a_read_only_union_keeps_its_entries);
	tcase_add_test(tc, old_entries_go_the_size_stays);
	tcase_add_test(tc, the_table_grows_when_paths_come_back);
	tcase_add_test(tc, every_byte_of_a_path_picks_its_set);
	tcase_add_test(tc, a_kept_hit_holds_until_its_words_move);
	suite_add_tcase(s, tc);
	return s;
}
