/* backtrace.c: libunionshim-trace.so, loaded by the shim only in trace
 * mode 2, so that libunwind (and what it pulls in) costs a normal process
 * nothing. Prints the caller's stack with libunwind, which walks it without
 * calling back into libc's file functions. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void us_trace_backtrace(void);

static void emit(const char *line, int n)
{
	if (n > 0 && write(2, line, (size_t)n) < 0)
		return;
}

__attribute__((visibility("default"))) void us_trace_backtrace(void)
{
	unw_cursor_t cur;
	unw_context_t ctx;
	char line[512], name[256];
	unw_word_t off;

	if (unw_getcontext(&ctx) < 0 || unw_init_local(&cur, &ctx) < 0)
		return;
	for (int depth = 0; depth < 32 && unw_step(&cur) > 0; depth++) {
		if (unw_get_proc_name(&cur, name, sizeof name, &off) < 0)
			strcpy(name, "?");
		emit(line, snprintf(line, sizeof line,
				    "unionshim:   #%d %s+0x%lx\n", depth, name,
				    (unsigned long)off));
	}
}
