/* trace.h: UNIONSHIM_TRACE=1 reports on stderr every call the union
 * refused (a write aimed at a read-only union); =2 adds a backtrace, so a
 * build's failing step can be traced to the code that tried to write. */
#ifndef UNIONSHIM_TRACE_H
#define UNIONSHIM_TRACE_H

#include "real.h"

US_HIDDEN void us_trace_denied_slow(const char *what, const char *path);

static inline void us_trace_denied(const char *what, const char *path)
{
	extern US_HIDDEN int us_trace;
	if (__builtin_expect(us_trace, 0))
		us_trace_denied_slow(what, path);
}

#endif
