/* spawnfds.h: what a posix_spawn_file_actions_t will do in the child, as
 * far as the union cares (spawnfds.c): its fd changes, for the fd map; the
 * dir its chdir actions leave the child in, for later relative paths and
 * the child's UNIONSHIM_CWD; the first action the union refused, for
 * posix_spawn to fail with. */
#ifndef UNIONSHIM_WRAP_SPAWNFDS_H
#define UNIONSHIM_WRAP_SPAWNFDS_H

#include <spawn.h>

#include "../fdmap.h"

/* Remember that FA's next action does OP (fdops.h); PATH (or NULL) is
 * the absolute path an open action opens. */
US_HIDDEN void us_spawnfds_add(const posix_spawn_file_actions_t *fa,
			       struct us_fdop op, const char *path);

/* A malloc'd copy of FA's changes (free() it) and their count in *N;
 * NULL with *N 0 when there are none (or no memory: the child then gets
 * the map as the parent has it). */
US_HIDDEN struct us_fdop *us_spawnfds_get(const posix_spawn_file_actions_t *fa,
					  int *n);

/* What *FD is in the child once FA's actions so far have run: 1 and its
 * path in OUT when an open action made it, 0 when it is the parent's fd
 * *FD (changed when a dup2 action put it there), -1 when an action
 * closed it. */
US_HIDDEN int us_spawnfds_fd_path(const posix_spawn_file_actions_t *fa,
				  int *fd, char *out, size_t len);

/* FA's chdir actions leave the child in DIR (a union or real path; NULL:
 * somewhere unknown, an fchdir that will fail). */
US_HIDDEN void us_spawnfds_set_cwd(const posix_spawn_file_actions_t *fa,
				   const char *dir);

/* The dir FA's chdir actions leave the child in, into OUT: 1, or 0 when
 * there is none (the child starts in ours). */
US_HIDDEN int us_spawnfds_cwd(const posix_spawn_file_actions_t *fa, char *out,
			      size_t len);

/* An action of FA the union refused with ERR (EROFS, ENOENT, ...): the
 * child would fail at it, so posix_spawn fails with the first such. */
US_HIDDEN void us_spawnfds_refused(const posix_spawn_file_actions_t *fa,
				   int err);
US_HIDDEN int us_spawnfds_error(const posix_spawn_file_actions_t *fa);

#endif
