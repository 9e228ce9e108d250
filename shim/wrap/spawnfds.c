/* spawnfds.c: posix_spawn file actions that change fds (adddup2, addclose,
 * addclosefrom_np; addopen is recorded by spawn.c), kept per file-actions
 * object in a side table, since libc gives no place to hang them and runs
 * them in the child through internal calls. posix_spawn replays them on
 * the fd map when it writes the child's UNIONSHIM_FDMAP. init and destroy
 * clear an object's record. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../guard.h"
#include "spawnfds.h"

struct fa_ops {
	struct fa_ops *next;
	const posix_spawn_file_actions_t *fa;
	int n, cap;
	struct us_fdop *ops;
};

static struct fa_ops *all;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FA's record, unlinked (locked); NULL if none. */
static struct fa_ops *take(const posix_spawn_file_actions_t *fa)
{
	for (struct fa_ops **pp = &all; *pp; pp = &(*pp)->next) {
		if ((*pp)->fa == fa) {
			struct fa_ops *r = *pp;
			*pp = r->next;
			return r;
		}
	}
	return NULL;
}

static void drop(const posix_spawn_file_actions_t *fa)
{
	pthread_mutex_lock(&lock);
	struct fa_ops *r = take(fa);
	pthread_mutex_unlock(&lock);
	if (r) {
		free(r->ops);
		free(r);
	}
}

void us_spawnfds_add(const posix_spawn_file_actions_t *fa,
		     enum us_fdop_kind kind, int fd, int src)
{
	pthread_mutex_lock(&lock);
	struct fa_ops *r = take(fa);
	if (!r && (r = calloc(1, sizeof *r)))
		r->fa = fa;
	if (r && r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 8;
		struct us_fdop *ops = realloc(r->ops, (size_t)cap * sizeof *ops);
		if (ops) {
			r->ops = ops;
			r->cap = cap;
		}
	}
	if (r && r->n < r->cap)
		r->ops[r->n++] = (struct us_fdop){kind, fd, src};
	if (r) {
		r->next = all;
		all = r;
	}
	pthread_mutex_unlock(&lock);
}

struct us_fdop *us_spawnfds_get(const posix_spawn_file_actions_t *fa, int *n)
{
	struct us_fdop *copy = NULL;

	*n = 0;
	if (!fa)
		return NULL;
	pthread_mutex_lock(&lock);
	for (struct fa_ops *r = all; r; r = r->next) {
		if (r->fa == fa && r->n &&
		    (copy = malloc((size_t)r->n * sizeof *copy))) {
			memcpy(copy, r->ops, (size_t)r->n * sizeof *copy);
			*n = r->n;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return copy;
}

US_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	drop(fa); /* an object made again at the address of a destroyed one */
	return US_REAL(posix_spawn_file_actions_init)(fa);
}

US_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	drop(fa);
	return US_REAL(posix_spawn_file_actions_destroy)(fa);
}

US_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa,
					       int fd, int newfd)
{
	int err = US_REAL(posix_spawn_file_actions_adddup2)(fa, fd, newfd);

	if (!err)
		us_spawnfds_add(fa, US_FDOP_DUP, newfd, fd);
	return err;
}

US_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa,
						int fd)
{
	int err = US_REAL(posix_spawn_file_actions_addclose)(fa, fd);

	if (!err)
		us_spawnfds_add(fa, US_FDOP_CLOSE, fd, fd);
	return err;
}

US_EXPORT int
posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa,
					 int from)
{
	int err = US_REAL(posix_spawn_file_actions_addclosefrom_np)(fa, from);

	if (!err)
		us_spawnfds_add(fa, US_FDOP_CLOSE, from, INT_MAX);
	return err;
}
