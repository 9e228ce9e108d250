/* loaderquiet.h: whether a child's dynamic loader needs the audit module
 * (shim/audit/) to see the union, or can only ever open the system's
 * libraries (see loaderquiet.c). */
#ifndef UNIONSHIM_LOADERQUIET_H
#define UNIONSHIM_LOADERQUIET_H

#include <stdbool.h>

#include "execplan.h"

/* Settle, once at startup, whether a union's target or layer lies at,
 * above or below a dir the system's loader searches (then every child
 * gets the module). INHERITED: the letter our parent's handover tail
 * carried ('q' none, 'l' some), or 0 to find out. */
US_HIDDEN void us_loader_settle(char inherited);

/* The letter for our children's handover tail. */
US_HIDDEN char us_loader_letter(void);

/* Does the child that runs P's program with environment ENVP need the
 * audit module? */
US_HIDDEN bool us_loader_needs_audit(const struct us_exec_plan *p,
				     char *const envp[]);

#endif
