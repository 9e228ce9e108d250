/* backtrace.c: libunionshim-trace.so, loaded by the library only when a
 * trace asks for backtraces (UNIONSHIM_TRACE=2), so that libunwind (and
 * what it pulls in) costs every other process nothing. It walks the
 * caller's stack with libunwind, which reads no file through libc, and
 * hands back each frame's pc and function name (frames.h); naming the
 * module and the offset is the library's part. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "frames.h"

int us_trace_frames(struct us_frame *f, int max);

__attribute__((visibility("default"))) int us_trace_frames(struct us_frame *f, int max)
{
	unw_cursor_t cur;
	unw_context_t ctx;
	int n = 0;

	if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
		return 0;
	while (n < max && unw_step(&cur) > 0) {
		unw_word_t ip, off = 0;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		f[n].ip = (uintptr_t)ip;
		int rc = unw_get_proc_name(&cur, f[n].name, sizeof f[n].name, &off);
		if (rc < 0 && rc != -UNW_ENOMEM)
			f[n].name[0] = '\0';
		f[n].off = (uintptr_t)off;
		n++;
	}
	return n;
}
