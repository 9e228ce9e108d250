/* spawnfds.c: what posix_spawn file actions will do in the child (see
 * spawnfds.h), kept per file-actions object in a side table, since libc
 * gives no place to hang it and runs the actions in the child through
 * internal calls. adddup2, addclose and addclosefrom_np are recorded here;
 * addopen, addchdir_np and addfchdir_np by spawn.c, which maps their
 * paths. posix_spawn replays the fd changes on the fd map when it writes
 * the child's UNIONSHIM_FDMAP. init and destroy clear an object's record. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../forks.h"
#include "../guard.h"
#include "spawnfds.h"

struct fa_ops {
	struct fa_ops *next;
	const posix_spawn_file_actions_t *fa;
	int n, cap;
	struct us_fdop *ops;
	char **paths; /* per op: the path an open opens, or NULL */
	char *cwd;    /* where the chdir actions leave the child, or NULL */
	int err;      /* the first action the union refused, or 0 */
};

static struct fa_ops *all;

/* FA's record (locked); NULL if none and not MAKE, or no memory. */
static struct fa_ops *find(const posix_spawn_file_actions_t *fa, bool make)
{
	struct fa_ops *r;

	for (r = all; r; r = r->next)
		if (r->fa == fa)
			return r;
	if (make && (r = calloc(1, sizeof *r))) {
		r->fa = fa;
		r->next = all;
		all = r;
	}
	return r;
}

static void drop(const posix_spawn_file_actions_t *fa)
{
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = NULL;
	for (struct fa_ops **pp = &all; *pp; pp = &(*pp)->next) {
		if ((*pp)->fa == fa) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	us_unlock(US_LOCK_SPAWNFDS);
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r->ops);
	free(r->cwd);
	free(r);
}

static bool grow(struct fa_ops *r)
{
	if (r->n < r->cap)
		return true;
	int cap = r->cap ? r->cap * 2 : 8;
	struct us_fdop *ops = realloc(r->ops, (size_t)cap * sizeof *ops);
	if (ops)
		r->ops = ops;
	char **paths = realloc(r->paths, (size_t)cap * sizeof *paths);
	if (paths)
		r->paths = paths;
	if (!ops || !paths)
		return false;
	r->cap = cap;
	return true;
}

void us_spawnfds_add(const posix_spawn_file_actions_t *fa, struct us_fdop op,
		     const char *path)
{
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, true);
	if (r && grow(r)) {
		r->paths[r->n] = path ? strdup(path) : NULL;
		r->ops[r->n++] = op;
	}
	us_unlock(US_LOCK_SPAWNFDS);
}

struct us_fdop *us_spawnfds_get(const posix_spawn_file_actions_t *fa, int *n)
{
	struct us_fdop *copy = NULL;

	*n = 0;
	if (!fa)
		return NULL;
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, false);
	if (r && r->n && (copy = malloc((size_t)r->n * sizeof *copy))) {
		memcpy(copy, r->ops, (size_t)r->n * sizeof *copy);
		*n = r->n;
	}
	us_unlock(US_LOCK_SPAWNFDS);
	return copy;
}

/* Follow *FD back through R's actions, last first (see spawnfds.h). */
static int fd_path(const struct fa_ops *r, int *fd, char *out, size_t len)
{
	for (int i = r->n - 1; i >= 0; i--) {
		const struct us_fdop *op = &r->ops[i];
		if (r->paths[i] && op->fd == *fd) { /* an open action made it */
			if (strlen(r->paths[i]) >= len)
				return -1;
			strcpy(out, r->paths[i]);
			return 1;
		}
		if (op->kind == US_FDOP_CLOSE && *fd >= op->fd && *fd <= op->src)
			return -1;
		if (op->kind == US_FDOP_DUP && op->fd == *fd)
			*fd = op->src;
	}
	return 0;
}

int us_spawnfds_fd_path(const posix_spawn_file_actions_t *fa, int *fd,
			char *out, size_t len)
{
	int rc = 0;

	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, false);
	if (r)
		rc = fd_path(r, fd, out, len);
	us_unlock(US_LOCK_SPAWNFDS);
	return rc;
}

void us_spawnfds_set_cwd(const posix_spawn_file_actions_t *fa, const char *dir)
{
	char *copy = dir ? strdup(dir) : NULL;

	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, true);
	if (r) {
		free(r->cwd);
		r->cwd = copy;
		copy = NULL;
	}
	us_unlock(US_LOCK_SPAWNFDS);
	free(copy);
}

int us_spawnfds_cwd(const posix_spawn_file_actions_t *fa, char *out,
		    size_t len)
{
	int found = 0;

	if (!fa)
		return 0;
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, false);
	if (r && r->cwd && strlen(r->cwd) < len) {
		strcpy(out, r->cwd);
		found = 1;
	}
	us_unlock(US_LOCK_SPAWNFDS);
	return found;
}

void us_spawnfds_refused(const posix_spawn_file_actions_t *fa, int err)
{
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, true);
	if (r && !r->err)
		r->err = err;
	us_unlock(US_LOCK_SPAWNFDS);
}

int us_spawnfds_error(const posix_spawn_file_actions_t *fa)
{
	int err = 0;

	if (!fa)
		return 0;
	us_lock(US_LOCK_SPAWNFDS);
	struct fa_ops *r = find(fa, false);
	if (r)
		err = r->err;
	us_unlock(US_LOCK_SPAWNFDS);
	return err;
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
		us_spawnfds_add(fa, us_fdop_dup3(fd, newfd, 0), NULL);
	return err;
}

US_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa,
						int fd)
{
	int err = US_REAL(posix_spawn_file_actions_addclose)(fa, fd);

	if (!err)
		us_spawnfds_add(fa, us_fdop_close(fd), NULL);
	return err;
}

US_EXPORT int
posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa,
					 int from)
{
	int err = US_REAL(posix_spawn_file_actions_addclosefrom_np)(fa, from);

	if (!err)
		us_spawnfds_add(fa, us_fdop_close_range((unsigned)from, ~0U, 0), NULL);
	return err;
}
