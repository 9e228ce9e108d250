/* trace.h: UNIONSHIM_TRACE=1 reports every change the union makes (a
 * copy-up, a whiteout, an opaque dir) and every call it refused (a write
 * aimed at a lower or a read-only union), one line each with pid,
 * program, operation and path; =2 adds a backtrace whose frames name
 * module and offset (for addr2line). The lines go to stderr, or are
 * appended to UNIONSHIM_TRACE_FILE, one write per event. */
#ifndef UNIONSHIM_TRACE_H
#define UNIONSHIM_TRACE_H

#include "real.h"

/* The trace file named at startup, or "" (stderr); children get it back. */
extern US_HIDDEN char us_trace_path[];

/* At startup, after us_trace is read: the file, the core's event hook. */
US_HIDDEN void us_trace_init(void);

US_HIDDEN void us_trace_denied_slow(const char *what, const char *path);

static inline void us_trace_denied(const char *what, const char *path)
{
	extern US_HIDDEN int us_trace;
	if (__builtin_expect(us_trace, 0))
		us_trace_denied_slow(what, path);
}

#endif
