/* check.h: what the parts of unionctl check share: the findings (one
 * line each on stdout), the repairs, and what the walk of the upper
 * learns for the work dir's records. */
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "uclayers.h"

/* A sorted set of numbers (inode numbers, origins). */
struct uc_set {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};
int uc_set_add(struct uc_set *s, uint64_t x);
bool uc_set_has(struct uc_set *s, uint64_t x);
void uc_set_free(struct uc_set *s);

struct uc_check {
	const char *cmd;
	struct uc_layers l;
	bool repair;
	unsigned problems, repaired, notes;
	/* from the upper: inode numbers of every object, and the union
	 * inode numbers its copy-ups came from (their origin records) */
	struct uc_set upper_inos, origins;
	/* inode numbers whose #origin record an object of theirs still
	 * answers to (the same birth time) */
	struct uc_set aside_used;
};

/* "info: PATH: WHAT" (a note: no problem). */
void uc_note(struct uc_check *c, const char *path, const char *what);

/* "problem: PATH: WHAT", a problem --repair does not touch. */
void uc_problem(struct uc_check *c, const char *path, const char *what);

/* A problem --repair fixes by removing PATH (and all below it): with
 * --repair it is removed and the line says "repaired: ... (removed)". */
void uc_problem_remove(struct uc_check *c, const char *path, const char *what);

/* A leftover that does no harm (a note), which --repair removes as
 * uc_problem_remove does. */
void uc_note_remove(struct uc_check *c, const char *path, const char *what);

/* A problem with PATH that --repair puts right in place: FIX(ARG) is
 * called then (0: done), and the line says "repaired: ... (reset)". */
void uc_problem_reset(struct uc_check *c, const char *path, const char *what,
		      int (*fix)(const char *arg), const char *arg);

/* The parts: the upper (checkupper.c), then the work dir (checkwork.c).
 * 0, or -1 when they could not be read (printed). */
int uc_check_upper(struct uc_check *c);
int uc_check_work(struct uc_check *c);

#endif
