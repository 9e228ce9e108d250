/* uclayers.h: what export and check share: the --upper/--lower/--work
 * options turned into a union mount of the core (so lookups answer as
 * the shim does), one-line messages, and the work dir's in-use test. */
#ifndef UCLAYERS_H
#define UCLAYERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "unionshim/config.h"
#include "unionshim/lookup.h"

struct uc_layers {
	const char *upper;
	const char *work; /* NULL when not given */
	const char *lower[US_MAX_LAYERS - 1];
	int nlower;
	struct us_config cfg;
	const struct us_mount *m; /* layers[0] is the upper, then the lowers */
	char *work_real;          /* canonical work dir, or NULL */
};

/* Add one layer option (OPT: 'u', 'l' or 'w') to L. 0, or -1 after a
 * usage line for CMD. */
int uc_layers_option(struct uc_layers *l, const char *cmd, int opt,
		     const char *arg);

/* Check the dirs as the shim would (missing dirs, an upper inside a
 * lower, a work dir on another filesystem: one line on stderr) and build
 * L->m. 0, or -1. */
int uc_layers_open(struct uc_layers *l, const char *cmd);

void uc_layers_close(struct uc_layers *l);

/* The union path of RELPATH ("" for the root, else "a/b") of L. */
char *uc_union_path(const struct uc_layers *l, const char *relpath);

/* One line "unionctl CMD: WHAT VALUE REST" on stderr, VALUE escaped
 * (msgline.h). */
void uc_say(const char *cmd, const char *what, const char *value,
	    const char *rest);

/* A process other than this one that maps the work dir's #state (every
 * process of the union does, from its start): its pid, 0 when none. */
pid_t uc_work_user(const char *work);

#endif
