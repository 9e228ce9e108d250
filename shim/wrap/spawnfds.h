/* spawnfds.h: the fd changes a posix_spawn_file_actions_t will make in
 * the child, remembered for the fd map (spawnfds.c). */
#ifndef UNIONSHIM_WRAP_SPAWNFDS_H
#define UNIONSHIM_WRAP_SPAWNFDS_H

#include <spawn.h>

#include "../fdmap.h"

/* Remember that FA's next action does KIND to FD (SRC: see us_fdop). */
US_HIDDEN void us_spawnfds_add(const posix_spawn_file_actions_t *fa,
			       enum us_fdop_kind kind, int fd, int src);

/* A malloc'd copy of FA's changes (free() it) and their count in *N;
 * NULL with *N 0 when there are none (or no memory: the child then gets
 * the map as the parent has it). */
US_HIDDEN struct us_fdop *us_spawnfds_get(const posix_spawn_file_actions_t *fa,
					  int *n);

#endif
