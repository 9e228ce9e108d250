/* trace.c: the trace mode's reports (see trace.h). The backtrace of mode 2
 * lives in libunionshim-trace.so next to this library, loaded on first
 * use, so that libunwind is not loaded into every traced-or-not process. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "forks.h"
#include "state.h"
#include "trace.h"
#include "unionshim/msgline.h"

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
			struct us_msg m;
			us_msg_start(&m, 2, "unionshim: no backtrace: ");
			us_msg_val(&m, dlerror());
			us_msg_end(&m);
			return;
		}
		bt = (void (*)(void))dlsym(h, "us_trace_backtrace");
	}
	if (bt)
		bt();
}

void us_trace_denied_slow(const char *what, const char *path)
{
	char pid[32];
	int saved = errno;
	struct us_msg m;

	snprintf(pid, sizeof pid, "unionshim: [%d] refused ", (int)us_pid());
	us_msg_start(&m, 2, pid);
	us_msg_raw(&m, what);
	us_msg_raw(&m, " of ");
	us_msg_val(&m, path);
	us_msg_raw(&m, ": ");
	us_msg_raw(&m, strerror(saved));
	us_msg_end(&m);
	if (us_trace >= 2)
		backtrace_lines();
	errno = saved;
}
