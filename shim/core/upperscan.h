/* upperscan.h: what an upper made before its mount's #state holds (see
 * upperscan.c). Run once, by the process that made the state, before it
 * tells the others that the records are known (shared.c). */
#ifndef UNIONSHIM_UPPERSCAN_H
#define UNIONSHIM_UPPERSCAN_H

#include <stdbool.h>

#include "unionshim/config.h"

struct us_upper_scan {
	bool redirects;      /* a dir holds a redirect record, or unsure */
	bool origins_unsure; /* not every dir holding objects with origin
				records could be marked (a dir it could not
				read, deeper than 48 dirs, out of fds) */
};

/* Scan the upper of M, marking in its state each dir that holds objects
 * with origin records. */
void us_upper_scan(const struct us_mount *m, struct us_upper_scan *out);

#endif
