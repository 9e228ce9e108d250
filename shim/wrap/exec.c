/* exec.c: execve, execveat, fexecve, and dlopen: a program, a "#!"
 * interpreter or a library named by a union path is found in its layer;
 * every exec gets the child environment that keeps it in the union. The
 * exec* conveniences built on these live in shim/libc/execvp.c. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../childenv.h"
#include "../execplan.h"
#include "../loaderquiet.h"
#include "../fdmap.h"
#include "../front.h"
#include "../guard.h"
#include "unionshim/scratch.h"

/* Returns only on failure, with errno set. The plan, the child's env and
 * argv live in the thread's scratch (popped by the wrapper's scope), never
 * on the heap: in a vfork child, malloc'd memory would stay behind in the
 * parent (our vfork puts the scratch back for it). The guard is dropped
 * for the exec itself, since a vfork parent resumes with the child's
 * guard flag. */
static int exec_at(int dirfd, const char *path, char *const argv[],
		   char *const envp[], int flags)
{
	struct us_exec_plan *p = us_scratch_push(sizeof *p);
	struct us_childenv *ce = us_scratch_push(sizeof *ce);
	if (!p || !ce)
		return -1;
	int err = us_exec_plan(dirfd, path, flags, envp, p);
	if (err) {
		errno = err;
		return -1;
	}
	us_childenv_prepare(ce, envp, NULL);
	ce->no_audit = !us_loader_needs_audit(p, envp);
	ce->static_tls = p->static_tls;
	char *mem = us_scratch_push(ce->size + us_exec_argv_size(p, argv));
	if (!mem) {
		us_fdmap_exec_failed(ce->fdmap);
		return -1;
	}
	char **env = us_childenv_fill(ce, mem);
	char **av = us_exec_argv(p, argv, mem + ce->size);
	US_OUTSIDE_SHIM(US_REAL(execveat)(p->dirfd, p->real, av, env, p->flags));
	us_fdmap_exec_failed(ce->fdmap);
	return -1;
}

US_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	US_SHIM_OR(US_REAL(execve)(path, argv, envp));
	return exec_at(AT_FDCWD, path, argv, envp, 0);
}

US_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
		       char *const envp[], int flags)
{
	US_SHIM_OR(US_REAL(execveat)(dirfd, path, argv, envp, flags));
	return exec_at(dirfd, path, argv, envp, flags);
}

/* glibc's check, then the public execveat (it acts, or passes through) */
US_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (fd < 0) {
		errno = EINVAL;
		return -1;
	}
	return US_SELF(execveat)(fd, "", argv, envp, AT_EMPTY_PATH);
}

/* Zero the stack just below the caller's frame, where the frames of the
 * call that follows will lie. glibc's _dl_map_object (2.36) jumps past
 * the initialiser of its found_other_class flag when an audit library
 * answers la_objsearch with NULL (the audit library's answer for a name
 * the union hides): the flag is then what an earlier call left there,
 * and dlerror() says "wrong ELF class: ELFCLASS32" instead of "cannot
 * open shared object file" whenever our own lookup left a byte set. */
static __attribute__((noinline)) void scrub_below(void)
{
	volatile char pad[4096];

	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = 0;
}

/* A path: the union's file. A failed lookup still goes to dlopen, so
 * that dlerror() has a message. */
static __attribute__((noinline)) void *dlopen_path(const char *path, int flags)
{
	US_SHIM_OR(US_REAL(dlopen)(path, flags));
	US_TARGET(t);
	const char *p = us_path(path, US_MAP_DATA, t);
	if (!p)
		scrub_below();
	return US_REAL(dlopen)(p ? p : path, flags);
}

/* A name without '/' is the loader's search (the audit library takes it
 * through the union). ld.so searches the DT_RUNPATH of dlopen's caller,
 * found by its return address, so the name goes on by a tail call (no
 * frame here): the caller stays the program's object, not this library. */
US_EXPORT __attribute__((optimize("optimize-sibling-calls"))) void *
dlopen(const char *path, int flags)
{
	if (path && strchr(path, '/'))
		return dlopen_path(path, flags);
	return US_REAL(dlopen)(path, flags);
}
