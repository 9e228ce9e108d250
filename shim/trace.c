/* trace.c: the trace mode's reports (see trace.h). Backtraces come from
 * libunwind, which walks the stack without calling back into libc file
 * functions. */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "trace.h"

static void emit(const char *line, int n)
{
	if (n > 0 && write(2, line, (size_t)n) < 0)
		return;
}

static void backtrace_lines(void)
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

void us_trace_denied_slow(const char *what, const char *path)
{
	char line[PATH_MAX + 128];
	int saved = errno;

	emit(line, snprintf(line, sizeof line,
			    "unionshim: [%d] refused %s of %s: %s\n",
			    (int)getpid(), what, path, strerror(saved)));
	if (us_trace >= 2)
		backtrace_lines();
	errno = saved;
}
