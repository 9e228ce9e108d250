/* event.h: the union's changes as they are made (a copy-up, a whiteout,
 * an opaque dir), for the trace (UNIONSHIM_TRACE). The core reports each
 * one with us_event once it is in place; the library sets us_event_hook
 * when tracing, and the tools leave it NULL, so an untraced call costs one
 * load and a branch. */
#ifndef UNIONSHIM_EVENT_H
#define UNIONSHIM_EVENT_H

/* OP: "copy-up", "whiteout", "opaque"; PATH: the union path; SIZE: the
 * bytes copied (a regular file's copy-up), else -1. */
typedef void (*us_event_fn)(const char *op, const char *path, long long size);
extern us_event_fn us_event_hook;

static inline void us_event(const char *op, const char *path, long long size)
{
	us_event_fn fn = __atomic_load_n(&us_event_hook, __ATOMIC_RELAXED);

	if (__builtin_expect(fn != 0, 0))
		fn(op, path, size);
}

#endif
