/* shared.h: state every process of a mount sees: a small file in the work
 * dir (#state), mapped shared. It holds generation counters, one per slot
 * of the union inode number's hash: a copy-up bumps its object's slot, and
 * an fd or cache that remembers the value it saw learns, by one memory
 * load and no system call, that the object may have moved. After them, one
 * word says whether any copy-up ever recorded an origin, one counts moved
 * subtrees, and a second table of generations, one per slot of a union
 * dir path's hash, tells lookup caches (lcache.h) that a dir's names
 * changed; last, a bitmap of the upper dirs that may hold origin records. */
#ifndef UNIONSHIM_SHARED_H
#define UNIONSHIM_SHARED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "unionshim/config.h"

#define US_SHARED_SLOTS 4096
#define US_SHARED_DIRSLOTS 4096 /* directory generations (lcache.h) */

/* Map M's state now, made and allocated whole if need be (at startup:
 * a process that cannot have it must not run). 0, or -1 with errno
 * (ENOSPC, EDQUOT when the filesystem cannot give it its blocks). */
int us_shared_open(const struct us_mount *m);

/* The #state of work dir WORK, offline (no process of the union running,
 * unionctl check): how many of its words still say a change is under way
 * that no process will end (one killed between the two halves of an
 * announcement: no cache answers for that dir, or with the moves word for
 * the whole mount, until the work dir is made again), and a redirect scan
 * left half done; with REPAIR each of them is closed (a change more,
 * none under way; the scan's "records maybe" kept). Into *BUSY (words)
 * and *SCAN (0/1): 0, 1 when there is no #state, -1 with errno. */
int us_shared_settle(const char *work, bool repair, unsigned *busy,
		     unsigned *scan);

/* The generation slot of union inode INO in M, or NULL when M has no work
 * dir or its state cannot be mapped (then nothing is ever bumped). */
const uint32_t *us_shared_slot(const struct us_mount *m, uint64_t ino);

/* Can this process write M's state (announce its changes)? False for a
 * read-only mapping (another uid's #state it may only read) or none. */
bool us_shared_writable(const struct us_mount *m);

/* Tell every process that the object with union inode INO changed
 * layer. */
void us_shared_bump(const struct us_mount *m, uint64_t ino);

/* May the upper layer of M hold origin records (identity.h)? False only
 * while no copy-up of this work dir ever wrote one and the upper was
 * empty when the state was made: then reading them can be skipped. */
bool us_shared_origins_maybe(const struct us_mount *m);

/* May the entries of upper dir (DEV, INO) of M hold origin records?
 * Every object that carries one enters its upper dir by a rename or a
 * link made through the union (a copy-up places its temp), and the dir is
 * marked first (us_shared_origins_enter): a dir never marked holds none,
 * and a stat or a listing of it reads no record. Marks are bits of a hash
 * of the dir's inode (a dir's rename keeps them; another dir may share
 * one: it is read for nothing) and are never cleared. A state whose
 * upper held objects before it was made (or was written by a version
 * that did not mark) says true for every dir; INO 0 (not known) too. */
#define US_SHARED_ORIGDIR_WORDS 1024 /* a page: 32,768 bits */
bool us_shared_origins_in(const struct us_mount *m, dev_t dev, uint64_t ino);

/* Where M's upper may hold origin records: NONE; MARKED: in marked dirs
 * only; SCANNING: anywhere, until the scan of an upper made before the
 * state ends (every dir an object enters is marked meanwhile); ANYWHERE:
 * for the life of the work dir. */
enum us_origins_mode {
	US_ORIGINS_NONE,
	US_ORIGINS_MARKED,
	US_ORIGINS_SCANNING,
	US_ORIGINS_ANYWHERE,
};
enum us_origins_mode us_shared_origins_mode(const struct us_mount *m);

/* An object that carries an origin record is about to enter upper dir
 * (DEV, INO): mark it. False when the mark could not be made (no state
 * this process may write, a write into #state refused). */
bool us_shared_origins_enter(const struct us_mount *m, dev_t dev,
			     uint64_t ino);

/* The same for the upper dir at real path DIR (its stat ST when the
 * caller has one, else NULL), falling back to us_shared_origins_set when
 * it cannot mark: the records are then read in every dir. */
struct stat;
void us_shared_origins_enter_real(const struct us_mount *m, const char *dir,
				  const struct stat *st);

/* Origin records may be anywhere in the upper, from now on. */
void us_shared_origins_set(const struct us_mount *m);

/* May the upper of M hold redirect records (redirect.h)? False only while
 * no rename through this work dir wrote one and the upper was empty when
 * the state was made. _set: a rename is about to write one. */
bool us_shared_redirects_maybe(const struct us_mount *m);
void us_shared_redirects_set(const struct us_mount *m);

/* The generation word of the union dir whose path hashes to HASH, and in
 * *MOVES the mount's word for moved or removed subtrees; NULL when M has
 * no work dir or its state cannot be mapped (nothing then is bumped).
 * A dir word counts changes above its low byte and, in the low byte, the
 * changes under way (begun, not ended: us_shared_dir_begin): while that
 * is not 0 nothing may be answered from a cache or stored in one, since
 * the change may already show in the layers. */
#define US_DIRGEN_BUSY 0xffu
const uint32_t *us_shared_dirgen(const struct us_mount *m, uint64_t hash,
				 const uint32_t **moves);

/* The names in the union dir whose path hashes to HASH changed (or the
 * objects they name changed layer or kind); a subtree moved or went.
 * False when that could not be announced (no state this process may
 * write, or a write into #state refused): the caller forgets its own. */
bool us_shared_dir_bump(const struct us_mount *m, uint64_t hash);
/* The same in two halves around a change that other threads or processes
 * could see before the bump (a dir copied up changes the layers of every
 * name below it): _begin before, and only when it returned true,
 * _end after. */
bool us_shared_dir_begin(const struct us_mount *m, uint64_t hash);
void us_shared_dir_end(const struct us_mount *m, uint64_t hash);
bool us_shared_moves_bump(const struct us_mount *m);
/* The moves word is counted the same way (its low byte: moves under way). */
bool us_shared_moves_begin(const struct us_mount *m);
void us_shared_moves_end(const struct us_mount *m);

/* Called after a copy-up in this process (set by the preload library to
 * switch its own fds at once); may be NULL. */
/* Held while a mount's state is first mapped (the preload library's fork
 * handler takes it too, last). */
extern pthread_mutex_t us_shared_lock;

extern void (*us_copied_hook)(const struct us_mount *m, uint64_t ino);

#endif
