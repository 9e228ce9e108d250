/* layerargs.h: what diff and commit share: the layer options
 * (--lower DIR..., --upper DIR, --work DIR), their checks, one-line
 * errors, and how a path is printed (C-quoted text, JSON). */
#ifndef UNIONCTL_LAYERARGS_H
#define UNIONCTL_LAYERARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "unionshim/changes.h"
#include "unionshim/config.h"

struct uc_layers {
	const char *lower[US_MAX_LAYERS - 1]; /* as given, topmost first */
	int nlower;
	const char *upper, *work;
	char *clower[US_MAX_LAYERS - 1]; /* canonical, after uc_layers_check */
	char *cupper, *cwork;
	struct us_layerset set;
};

/* Take an option of getopt_long's: 'l' (--lower), 'u' (--upper),
 * 'w' (--work). 1 when it was one, 0 when not, -1 (message printed) on
 * too many lowers or a repeated --upper/--work. */
int uc_layers_opt(struct uc_layers *l, const char *cmd, int c, const char *arg);

/* Check the dirs (they exist and are dirs; the upper is no lower nor
 * inside or around one; the work dir is apart from both and on the
 * upper's filesystem) and fill l->set. 0, or -1 with the message printed. */
int uc_layers_check(struct uc_layers *l, const char *cmd, bool need_lower,
		    bool need_work);

void uc_layers_free(struct uc_layers *l);

/* "unionctl CMD: MESSAGE" on stderr, one line (control bytes escaped). */
void uc_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* PATH for a line of text: as is, or, when it holds a control byte, a
 * double quote or a backslash, in double quotes with C escapes (\n \t
 * \" \\ and \ooo octal for other bytes), as git does. */
void uc_put_path(FILE *out, const char *path);

/* PATH as a JSON string (quotes included). Bytes that are not UTF-8 are
 * written as \u00XX, and then the caller adds uc_put_hex too. True when
 * PATH is valid UTF-8. */
bool uc_put_json(FILE *out, const char *path);
void uc_put_hex(FILE *out, const char *path);

#endif
