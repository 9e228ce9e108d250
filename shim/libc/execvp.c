/* execvp.c: execv, execl, execle, execvp, execlp and execvpe, written
 * against the shim's own execve (US_SELF, names.h) so that every candidate goes through the
 * shim's exec (a PATH entry may be a union dir, and the child keeps the
 * union). No guard: these run as program code and call the shim's
 * wrappers, never a program's functions of those names.
 *
 * The PATH search follows POSIX and glibc: an unset PATH is
 * "/bin:/usr/bin", an empty entry is the cwd, EACCES is remembered while
 * the search goes on past missing files, any other failure ends it, and a
 * file the kernel cannot run (ENOEXEC) is run by /bin/sh. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../real.h"
#include "unionshim/scratch.h"

/* Free what was allocated for a failed exec; keep its errno. */
static int failed(void *mem)
{
	int err = errno;
	free(mem);
	errno = err;
	return -1;
}

/* Exec FILE; one the kernel does not recognise is a shell script. */
static int exec_or_sh(const char *file, char *const argv[], char *const envp[])
{
	size_t argc = 0, k = 0;

	US_SELF(execve)(file, argv, envp);
	if (errno != ENOEXEC)
		return -1;
	while (argv && argv[argc])
		argc++;
	char **av = malloc((argc + 3) * sizeof *av);
	if (!av) {
		errno = ENOMEM;
		return -1;
	}
	av[k++] = (char *)"/bin/sh";
	av[k++] = (char *)file;
	for (size_t i = 1; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	US_SELF(execve)("/bin/sh", av, envp);
	return failed(av);
}

/* Errors that send the search on to the next PATH entry. */
static int search_on(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ESTALE ||
	       err == ENODEV || err == ETIMEDOUT || err == EACCES;
}

US_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	const char *search = getenv("PATH");
	US_SCRATCH_SCOPE;
	struct {
		char buf[PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb); /* no malloc: this may run in a vfork child */
	if (!sb)
		return -1;
	size_t flen = strlen(file);
	int denied = 0;

	if (!*file) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/'))
		return exec_or_sh(file, argv, envp);
	if (flen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!search)
		search = "/bin:/usr/bin";
	for (const char *d = search;; d++) {
		const char *e = strchrnul(d, ':');
		size_t n = (size_t)(e - d);
		errno = ENOENT;
		if (n + 1 + flen < sizeof sb->buf) { /* else skip it, as glibc */
			memcpy(sb->buf, d, n);
			sb->buf[n] = '/';
			strcpy(sb->buf + n + (n > 0), file); /* "" is the cwd */
			exec_or_sh(sb->buf, argv, envp);
		}
		if (errno == EACCES)
			denied = 1;
		if (!search_on(errno))
			return -1;
		d = e;
		if (!*d)
			break;
	}
	if (denied)
		errno = EACCES;
	return -1;
}

US_EXPORT int execvp(const char *file, char *const argv[])
{
	return US_SELF(execvpe)(file, argv, environ);
}

US_EXPORT int execv(const char *path, char *const argv[])
{
	return US_SELF(execve)(path, argv, environ);
}

/* The argument list of execl, execle, execlp: ARG0 and what AP holds up
 * to its NULL, written into SPACE (N pointers) when it fits, else into
 * malloc'd memory; *ENVP gets the pointer after the NULL. */
#define ARGS_ON_STACK 64

static char **arg_list(char **space, size_t room, const char *arg0,
		       va_list ap, char *const **envp)
{
	va_list cp;
	size_t n = 0;

	va_copy(cp, ap);
	if (arg0)
		for (n = 1; va_arg(cp, char *); n++)
			;
	va_end(cp);
	char **argv = n < room ? space : malloc((n + 1) * sizeof *argv);
	if (!argv) {
		errno = ENOMEM;
		return NULL;
	}
	argv[0] = (char *)arg0;
	for (size_t i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	if (arg0)
		(void)va_arg(ap, char *); /* the NULL */
	argv[n] = NULL;
	if (envp)
		*envp = va_arg(ap, char *const *);
	return argv;
}

static int done(char **argv, char **space)
{
	return failed(argv == space ? NULL : argv);
}

US_EXPORT int execl(const char *path, const char *arg, ...)
{
	char *space[ARGS_ON_STACK];
	va_list ap;
	va_start(ap, arg);
	char **argv = arg_list(space, ARGS_ON_STACK, arg, ap, NULL);
	va_end(ap);
	if (argv)
		US_SELF(execve)(path, argv, environ);
	return done(argv, space);
}

US_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *space[ARGS_ON_STACK];
	char *const *envp = NULL;
	va_list ap;
	va_start(ap, arg);
	char **argv = arg_list(space, ARGS_ON_STACK, arg, ap, &envp);
	va_end(ap);
	if (argv)
		US_SELF(execve)(path, argv, envp);
	return done(argv, space);
}

US_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *space[ARGS_ON_STACK];
	va_list ap;
	va_start(ap, arg);
	char **argv = arg_list(space, ARGS_ON_STACK, arg, ap, NULL);
	va_end(ap);
	if (argv)
		US_SELF(execvpe)(file, argv, environ);
	return done(argv, space);
}
