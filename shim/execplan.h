/* execplan.h: what the kernel is asked to execute for an exec or a spawn
 * of a program given by the caller, and with which argv. */
#ifndef UNIONSHIM_EXECPLAN_H
#define UNIONSHIM_EXECPLAN_H

#include <limits.h>
#include <stdbool.h>

#include "real.h"
#include "unionshim/exectarget.h"

#define US_EXEC_MAXSCRIPTS 4 /* "#!" levels followed; one more: ELOOP */

struct us_exec_plan {
	int dirfd; /* the kernel executes (dirfd, real, flags) */
	int flags; /* AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW */
	bool glibc_only; /* the program run needs glibc alone (exectarget.h) */
	/* otherwise the static TLS its libraries take from an audited loader's
	 * reserve (exectarget.h us_exec_static_tls), or 0 */
	size_t static_tls;
	char real[PATH_MAX];
	int nscripts;                           /* "#!" lines, outermost first */
	struct us_shebang sb[US_EXEC_MAXSCRIPTS];
	char script[PATH_MAX + 32]; /* the outermost script, as the caller
				       named it (or /dev/fd/N/...) */
};

/* Plan the exec of (DIRFD, PATH, FLAGS) as execveat takes them: the path
 * and every "#!" interpreter are found through the union. Returns 0, or
 * the errno value the exec must fail with (a program the shim cannot
 * follow gets EACCES and one line on stderr, unless ENVP, the new
 * program's environment, allows it). */
US_HIDDEN int us_exec_plan(int dirfd, const char *path, int flags,
			   char *const envp[], struct us_exec_plan *p);

/* The argv for the kernel: ARGV itself when no script was followed, else
 * [interpreters and their arguments..., script, ARGV[1]...] written into
 * MEM, us_exec_argv_size() bytes (0: none needed). */
US_HIDDEN size_t us_exec_argv_size(const struct us_exec_plan *p,
				   char *const argv[]);
US_HIDDEN char **us_exec_argv(const struct us_exec_plan *p,
			      char *const argv[], void *mem);

#endif
