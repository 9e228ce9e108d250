/* frames.h: what libunionshim-trace.so hands the library: the stack's
 * frames, walked by libunwind (the only code that needs it). The library
 * names each frame's module and offset itself (trace.c). */
#ifndef UNIONSHIM_TRACE_FRAMES_H
#define UNIONSHIM_TRACE_FRAMES_H

#include <stdint.h>

#define US_TRACE_FRAMES_SYM "us_trace_frames"
#define US_TRACE_MAX_FRAMES 40

struct us_frame {
	uintptr_t ip;   /* the frame's pc (a return address above the first) */
	uintptr_t off;  /* ip - the start of NAME */
	char name[96];  /* the function, from any symbol table; "" if none */
};

/* Fill F[0..MAX) with the caller's frames, innermost first; the count. */
typedef int (*us_trace_frames_fn)(struct us_frame *f, int max);

#endif
