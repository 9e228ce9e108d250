/* coreguard.c: no core dump is written into a lower layer (coreguard.h).
 *
 * The kernel writes a dumping process's core, when core_pattern names a
 * relative file, into the process's real cwd; while the program's cwd is
 * a union dir no upper dir backs (or a lower's own path), that is a lower
 * layer's dir. There the real soft RLIMIT_CORE is held at 0, and the
 * program's own soft value is kept here: getrlimit, setrlimit and prlimit
 * on this process show and set it, and a move of the cwd out of every
 * lower gives it back. The hold is taken before the cwd moves and settled
 * after, and the last of several moves in flight settles, so that at no
 * instant does the cwd lie in a lower with a soft limit above 0. A soft
 * limit of 0 (Debian's default), or a piped or absolute pattern, holds
 * nothing and costs a chdir one getrlimit. overlayfs writes such a core
 * into the upper, copying the cwd's dirs up; the shim makes no upper dir
 * for a cwd, so there is no core there (README, Known limits).
 *
 * One lock guards the state; it takes no other. A vfork child leaves the
 * state alone (it would write its parent's) and its exec'd program
 * settles on its own. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreguard.h"
#include "forks.h"
#include "state.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "userptr.h"
#include "unionshim/startdata.h"

US_START_DATA static bool held;    /* the real soft limit is 0 because of us */
US_START_DATA static rlim_t wanted; /* the program's own soft limit while held */
US_START_DATA static int moving;   /* cwd moves between begin and end */
US_START_DATA static int pattern;  /* core_pattern: 0 not read yet, 1 a relative file, 2 not */

/* Under the lock; us_core_show reads the word without it, first. */
static void set_held(bool on)
{
	__atomic_store_n(&held, on, __ATOMIC_RELAXED);
}

/* Does core_pattern name a file relative to the cwd? Read once; a
 * pattern that cannot be read is taken as relative (held: no core). */
static bool pattern_relative(void)
{
	if (!pattern) {
		char c = 0;
		int fd = US_REAL(open)("/proc/sys/kernel/core_pattern",
				       O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (US_REAL(read)(fd, &c, 1) != 1)
				c = 0;
			US_REAL(close)(fd);
		}
		pattern = c == '|' || c == '/' ? 2 : 1;
	}
	return pattern == 1;
}

/* Is the kernel's cwd a dir of a lower layer of some mount? A cwd that
 * cannot be read (too long, removed) is taken as one. */
static bool cwd_in_lower(void)
{
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);

	if (!real || !US_REAL(getcwd)(real, US_PATH_MAX))
		return true;
	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		for (int i = m->has_upper ? 1 : 0; i < m->nlayers; i++)
			if (us_path_under(real, m->layers[i].path, m->layers[i].len))
				return true;
	}
	return false;
}

/* Under the lock: hold the limit at 0 if it is above (before a move). */
static void hold(void)
{
	struct rlimit rl;

	if (US_REAL(getrlimit)(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur == 0 ||
	    !pattern_relative())
		return;
	struct rlimit zero = {0, rl.rlim_max};
	if (US_REAL(setrlimit)(RLIMIT_CORE, &zero) == 0) {
		wanted = rl.rlim_cur;
		set_held(true);
	}
}

/* Under the lock, no move in flight: hold or give back by where the
 * cwd lies now. A limit raised from outside while held (prlimit --pid)
 * is the program's new value. */
static void settle(void)
{
	struct rlimit rl;

	if (US_REAL(getrlimit)(RLIMIT_CORE, &rl) < 0)
		return;
	if (rl.rlim_cur != 0)
		set_held(false);
	rlim_t want = held ? wanted : rl.rlim_cur;
	if (want == 0) {
		set_held(false);
		return;
	}
	bool keep = pattern_relative() && cwd_in_lower();
	if (keep && !held) {
		struct rlimit zero = {0, rl.rlim_max};
		if (US_REAL(setrlimit)(RLIMIT_CORE, &zero) == 0) {
			wanted = want;
			set_held(true);
		}
	} else if (!keep && held) {
		struct rlimit back = {want < rl.rlim_max ? want : rl.rlim_max,
				      rl.rlim_max};
		if (US_REAL(setrlimit)(RLIMIT_CORE, &back) == 0)
			set_held(false);
	}
}

bool us_core_move_begin(void)
{
	if (us_in_vfork_child() || !us_lock_unless_mine(US_LOCK_CORE))
		return false;
	moving++;
	hold();
	us_unlock(US_LOCK_CORE);
	return true;
}

void us_core_move_end(void)
{
	int saved = errno;

	us_lock(US_LOCK_CORE);
	if (--moving <= 0) {
		moving = 0;
		settle();
	}
	us_unlock(US_LOCK_CORE);
	errno = saved;
}

/* A decimal rlim_t, whole, or false. */
static bool parse_limit(const char *s, rlim_t *out)
{
	rlim_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		rlim_t d = (rlim_t)(*s - '0');
		if (*s < '0' || *s > '9' || v > ((rlim_t)-1 - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

void us_core_init(void)
{
	const char *env = getenv(US_ENV_CORE);
	struct rlimit rl;
	rlim_t v;

	us_lock(US_LOCK_CORE);
	if (env && parse_limit(env, &v) && v != 0 &&
	    US_REAL(getrlimit)(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0) {
		wanted = v; /* the parent held it; still held */
		set_held(true);
	}
	settle();
	us_unlock(US_LOCK_CORE);
}

void us_core_forked(void)
{
	if (!moving)
		return;
	moving = 0; /* the mover was another thread of the parent */
	settle();
}

void us_core_show(struct rlimit *rl)
{
	if (!__atomic_load_n(&held, __ATOMIC_RELAXED) || rl->rlim_cur != 0 ||
	    us_in_vfork_child() || !us_lock_unless_mine(US_LOCK_CORE))
		return;
	if (held)
		rl->rlim_cur = wanted < rl->rlim_max ? wanted : rl->rlim_max;
	us_unlock(US_LOCK_CORE);
}

int us_core_prlimit(const struct rlimit *nw, struct rlimit *old)
{
	if (nw && !us_user_mem_ok(nw, sizeof *nw)) {
		errno = EFAULT; /* read here before the kernel would */
		return -1;
	}
	if (!nw || nw->rlim_cur == 0 || nw->rlim_cur > nw->rlim_max ||
	    us_in_vfork_child() || !us_lock_unless_mine(US_LOCK_CORE)) {
		/* nothing to hold, or the kernel's error to give */
		int rc = US_REAL(prlimit)(0, RLIMIT_CORE, nw, old);
		if (rc == 0 && old)
			us_core_show(old);
		if (rc == 0 && nw && !us_in_vfork_child() &&
		    us_lock_unless_mine(US_LOCK_CORE)) {
			set_held(false); /* the program's 0, or its value as set */
			us_unlock(US_LOCK_CORE);
		}
		return rc;
	}
	/* held first; the kernel checks the hard limit as it would */
	bool was_held = held;
	rlim_t was_wanted = wanted;
	struct rlimit zero = {0, nw->rlim_max};
	int rc = US_REAL(prlimit)(0, RLIMIT_CORE, &zero, old);
	if (rc == 0) {
		if (old && was_held && old->rlim_cur == 0)
			old->rlim_cur = was_wanted < old->rlim_max ? was_wanted
								   : old->rlim_max;
		wanted = nw->rlim_cur;
		set_held(true);
		if (!moving)
			settle();
	}
	us_unlock(US_LOCK_CORE);
	return rc;
}

bool us_core_env(char *buf, size_t len)
{
	char digits[24];
	size_t n = 0;
	rlim_t v = 0;
	bool on = false;

	buf[0] = '\0';
	if (us_lock_unless_mine(US_LOCK_CORE)) {
		on = held;
		v = wanted;
		us_unlock(US_LOCK_CORE);
	}
	if (!on)
		return false;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof digits);
	if (n + 1 > len)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = '\0';
	return true;
}
