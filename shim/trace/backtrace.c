/* backtrace.c: libunionshim-trace.so, loaded by the shim only in trace
 * mode 2, so that libunwind (and what it pulls in) costs a normal process
 * nothing. Prints the caller's stack with libunwind, which walks it without
 * calling back into libc's file functions; one escaped line per frame. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/msgline.h"

void us_trace_backtrace(void);

__attribute__((visibility("default"))) void us_trace_backtrace(void)
{
	unw_cursor_t cur;
	unw_context_t ctx;
	char head[48], name[256], tail[32];
	unw_word_t off;
	struct us_msg m;

	if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
		return;
	for (int depth = 0; depth < 32 && unw_step(&cur) > 0; depth++) {
		if (unw_get_proc_name(&cur, name, sizeof name, &off) < 0)
			strcpy(name, "?");
		snprintf(head, sizeof head, "unionshim:   #%d ", depth);
		snprintf(tail, sizeof tail, "+0x%lx", (unsigned long)off);
		us_msg_start(&m, 2, head);
		us_msg_val(&m, name); /* a symbol name is the program's text */
		us_msg_raw(&m, tail);
		us_msg_end(&m);
	}
}
