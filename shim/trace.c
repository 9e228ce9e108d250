/* trace.c: the trace mode's reports (see trace.h). The backtrace of mode 2
 * lives in libunionshim-trace.so next to this library, loaded on first
 * use, so that libunwind is not loaded into every traced-or-not process. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
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
	static void (*bt)(void);
	char lib[PATH_MAX];

	if (!bt) {
		snprintf(lib, sizeof lib, "%s", us_self_path);
		char *slash = strrchr(lib, '/');
		if (!slash)
			return;
		snprintf(slash + 1, sizeof lib - (size_t)(slash + 1 - lib),
			 "libunionshim-trace.so");
		void *h = US_REAL(dlopen)(lib, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			emit(lib, snprintf(lib, sizeof lib,
					   "unionshim: no backtrace: %s\n",
					   dlerror()));
			return;
		}
		bt = (void (*)(void))dlsym(h, "us_trace_backtrace");
	}
	if (bt)
		bt();
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
