/* prebind.h: the libc functions a wrapper may call, bound at start (see
 * prebind.c). */
#ifndef UNIONSHIM_PREBIND_H
#define UNIONSHIM_PREBIND_H

#include "real.h"

/* Call each such function once, to no effect, on the caller's stack. */
US_HIDDEN void us_prebind(void);

#endif
