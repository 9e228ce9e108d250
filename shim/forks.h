/* forks.h: the library's locks and what a fork does to them, and the
 * process's pid without a system call (forks.c owns all of it).
 *
 * Every mutex of the library is one of us_locks[], and the order of
 * enum us_lock_id is the order they nest in: code holding a lock takes
 * only locks further down the list. One pthread_atfork handler takes them
 * all in that order before a fork, so a child never inherits one held by
 * a thread that is not there; a child made without atfork handlers
 * (_Fork, a raw fork or clone syscall) is seen by a page the kernel zeroes
 * in it (MADV_WIPEONFORK) and resets them on its first shim call. */
#ifndef UNIONSHIM_FORKS_H
#define UNIONSHIM_FORKS_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "guard.h"
#include "real.h"

enum us_lock_id {
	US_LOCK_SYSTEM,     /* system()'s saved signal dispositions */
	US_LOCK_POPEN,      /* popen's streams; held across posix_spawn */
	US_LOCK_SPAWNFDS,   /* posix_spawn file actions' side table */
	US_LOCK_FDMAP,      /* the fd map; held across lookups */
	US_LOCK_CWD,        /* the virtual cwd's writers */
	US_LOCK_DIRSTREAMS, /* merged DIR streams' registry */
	US_LOCK_GETDENTS,   /* getdents64's cached listing; held across a merge */
	US_LOCK_FDROOM,     /* the raised fd limit (fdroom.c); takes no other */
	US_LOCK_CORE,       /* the held core limit (coreguard.c); takes no other */
	US_NLOCKS
};
/* The locks a nested call (guard.h) copes with finding held by its own
 * thread: it leaves the fd-map bookkeeping (fdmap.h), reads no cwd
 * halfway written (vcwd.c), reads the DIR streams' table as it is
 * (dirstream.c), leaves the core limit as it is (coreguard.c: every
 * taker asks us_lock_unless_mine). With any other held it is not
 * served. */
#define US_NEST_OK_HELD                                                       \
	((1u << US_LOCK_FDMAP) | (1u << US_LOCK_CWD) | (1u << US_LOCK_DIRSTREAMS) | \
	 (1u << US_LOCK_CORE))

/* (The core's locks come after them: us_shared_lock, the #state
 * mapping's, then us_origincache_lock, origincache.h's.) */

extern US_HIDDEN pthread_mutex_t us_locks[US_NLOCKS];

/* The pid, in a page the kernel zeroes in a forked child: 0 there until
 * the child takes the library over. */
extern US_HIDDEN pid_t *us_pid_word;
/* Set in a vfork child (by our vfork), which runs on its parent's memory
 * and its parent thread's TLS; cleared when the parent resumes. */
extern US_HIDDEN __thread int us_vforked
	__attribute__((tls_model("initial-exec")));
/* Counts the vfork children of this thread (each adds one as it starts):
 * what a child keeps in shared memory, tagged with it, is its own. */
extern US_HIDDEN __thread unsigned us_vfork_gen
	__attribute__((tls_model("initial-exec")));

US_HIDDEN pid_t us_pid_slow(void);
US_HIDDEN void us_fork_adopt(void);

/* The pid of this process (a vfork child's own too): a memory load. */
static inline pid_t us_pid(void)
{
	pid_t p = __atomic_load_n(us_pid_word, __ATOMIC_RELAXED);

	if (__builtin_expect(p == 0 || us_vforked, 0))
		return us_pid_slow();
	return p;
}

/* A child forked without atfork handlers resets the locks first. */
static inline void us_fork_check(void)
{
	if (__builtin_expect(__atomic_load_n(us_pid_word, __ATOMIC_RELAXED) == 0, 0))
		us_fork_adopt();
}

/* Is this a vfork child (whose changes to memory its parent sees)? */
static inline bool us_in_vfork_child(void)
{
	return __builtin_expect(us_vforked, 0);
}

/* The held bit covers the whole of lock and unlock: a signal handler
 * that interrupts either sees the lock as this thread's (guard.h). */
static inline void us_lock(enum us_lock_id id)
{
	us_fork_check();
	us_held |= 1u << id;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&us_locks[id]);
}

static inline void us_unlock(enum us_lock_id id)
{
	pthread_mutex_unlock(&us_locks[id]);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	us_held &= ~(1u << id);
}

/* For the locks a nested call (guard.h) may need while its own thread
 * holds them: take ID and say true, or say false when that would wait for
 * the interrupted code below (the caller then leaves its bookkeeping). */
static inline bool us_lock_unless_mine(enum us_lock_id id)
{
	if (us_nested() && (us_held & (1u << id)))
		return false;
	us_lock(id);
	return true;
}

/* At startup, before any other part: the pid, the page, the handler. */
US_HIDDEN void us_forks_init(void);

#endif
