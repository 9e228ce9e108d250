/* dirstream.c: registry of merged DIR streams (see dirstream.h). A small
 * hash table keyed by the DIR pointer, under one mutex held only for the
 * lookup itself (forks.h). A nested call (guard.h) whose own thread holds
 * the mutex reads the table as it is (the holder below it is stopped, and
 * every change is one pointer store), adds nothing, and marks a stream it
 * closes as gone instead of unlinking it. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirpass.h"
#include "dirstream.h"
#include "forks.h"
#include "unionshim/listcache.h"

#define BUCKETS 64

static struct us_dirstream *table[BUCKETS];
static int table_count; /* read without the lock: a fast "none at all" */
/* Each thread's last stream found (a readdir loop asks for one DIR again
 * and again), trusted while no stream was detached since: DETACHES. */
static unsigned detaches;
static __thread DIR *last_dir;
static __thread struct us_dirstream *last_s;
static __thread unsigned last_gen;

static unsigned bucket(DIR *dir)
{
	return (unsigned)(((uintptr_t)dir >> 4) % BUCKETS);
}

int us_dirstream_attach(DIR *dir, const struct us_mount *m,
			const char *upath, const struct us_node *dir_node)
{
	struct us_dirstream *s = calloc(1, sizeof *s);

	if (!s)
		return -1;
	s->dir = dir;
	s->m = m;
	s->dirs = dir_node->dirs;
	s->flags = dir_node->flags;
	s->upath = strdup(upath);
	s->pass = us_dirpass_wanted(m, dir_node, dirfd(dir));
	s->layer = dir_node->layer;
	s->ddev = dir_node->dev;
	s->dino = dir_node->ino;
	if (!s->upath || (!s->pass && us_dir_merge_cached(m, upath, s->dirs,
							  s->flags, &s->list) < 0)) {
		int saved = errno;
		free(s->upath);
		free(s);
		errno = saved;
		return -1;
	}
	if (!us_lock_unless_mine(US_LOCK_DIRSTREAMS)) {
		us_dirlist_free(&s->list);
		free(s->upath);
		free(s);
		errno = EAGAIN;
		return -1;
	}
	s->next = table[bucket(dir)];
	table[bucket(dir)] = s;
	__atomic_add_fetch(&table_count, 1, __ATOMIC_RELAXED);
	us_unlock(US_LOCK_DIRSTREAMS);
	return 0;
}

struct us_dirstream *us_dirstream_find(DIR *dir)
{
	struct us_dirstream *s;

	if (!__atomic_load_n(&table_count, __ATOMIC_RELAXED))
		return NULL;
	unsigned gen = __atomic_load_n(&detaches, __ATOMIC_ACQUIRE);
	if (last_dir == dir && last_gen == gen)
		return last_s;
	bool locked = us_lock_unless_mine(US_LOCK_DIRSTREAMS);
	for (s = table[bucket(dir)]; s && s->dir != dir; s = s->next)
		;
	if (locked)
		us_unlock(US_LOCK_DIRSTREAMS);
	if (s && locked) {
		last_dir = dir;
		last_s = s;
		last_gen = gen;
	}
	return s;
}

void us_dirstream_detach(DIR *dir)
{
	struct us_dirstream **pp, *s = NULL;

	__atomic_add_fetch(&detaches, 1, __ATOMIC_ACQ_REL); /* threads' last_s */
	if (!us_lock_unless_mine(US_LOCK_DIRSTREAMS)) {
		if ((s = us_dirstream_find(dir))) /* gone, kept (no free here) */
			__atomic_store_n(&s->dir, NULL, __ATOMIC_RELEASE);
		return;
	}
	for (pp = &table[bucket(dir)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->dir == dir) {
			s = *pp;
			*pp = s->next;
			__atomic_sub_fetch(&table_count, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	us_unlock(US_LOCK_DIRSTREAMS);
	if (s) {
		us_dirlist_free(&s->list);
		free(s->upath);
		free(s);
	}
}

int us_dirstream_reload(struct us_dirstream *s)
{
	struct us_dirlist fresh;

	if (s->pass)
		return 0; /* glibc's rewinddir did it */
	if (us_dir_merge_cached(s->m, s->upath, s->dirs, s->flags, &fresh) < 0)
		return -1;
	us_dirlist_free(&s->list);
	s->list = fresh;
	s->pos = 0;
	return 0;
}
