/* system.c: system, popen and pclose, written against the shim's own
 * posix_spawn (US_SELF, names.h) so that the shell starts through the shim's spawn (glibc's
 * own call it internally, where no wrapper sees it): the child gets the
 * union back even after the program did unsetenv("LD_PRELOAD"). No guard:
 * these run as program code and call the shim's wrappers, never a
 * program's functions of those names.
 *
 * system follows POSIX: SIGINT and SIGQUIT are ignored and SIGCHLD is
 * blocked in the caller while the shell runs (counted, so that concurrent
 * calls restore the handlers once); the shell starts with the caller's
 * mask and default handlers. popen keeps a list of its streams: a later
 * child closes them, and pclose waits for the right pid. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../forks.h"
#include "../guard.h"
#include "../real.h"

#define SHELL "/bin/sh"

static int sys_users;
static struct sigaction sys_int, sys_quit; /* the caller's, while ignored */

static pid_t wait_for(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Start "sh -c CMD" with ATTR and FA; the pid, or -1 with errno. */
static pid_t start_shell(const char *cmd, const posix_spawn_file_actions_t *fa,
			 const posix_spawnattr_t *attr)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
	pid_t pid;
	int err = US_SELF(posix_spawn)(&pid, SHELL, fa, attr, argv, environ);

	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

static void ignore_interrupts(void)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};

	sigemptyset(&ign.sa_mask);
	us_lock(US_LOCK_SYSTEM);
	if (sys_users++ == 0) {
		sigaction(SIGINT, &ign, &sys_int);
		sigaction(SIGQUIT, &ign, &sys_quit);
	}
	us_unlock(US_LOCK_SYSTEM);
}

static void restore_interrupts(void)
{
	us_lock(US_LOCK_SYSTEM);
	if (--sys_users == 0) {
		sigaction(SIGINT, &sys_int, NULL);
		sigaction(SIGQUIT, &sys_quit, NULL);
	}
	us_unlock(US_LOCK_SYSTEM);
}

static int run_system(const char *cmd)
{
	sigset_t chld, omask, dfl;
	posix_spawnattr_t attr;
	int status = -1;

	if (!cmd)
		return US_SELF(access)(SHELL, X_OK) == 0;
	ignore_interrupts();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &omask);
	sigemptyset(&dfl);
	if (sys_int.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGINT);
	if (sys_quit.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	pid_t pid = start_shell(cmd, NULL, &attr);
	if (pid < 0)
		status = W_EXITCODE(127, 0);
	else if (wait_for(pid, &status) < 0)
		status = -1;
	int err = errno;
	posix_spawnattr_destroy(&attr);
	restore_interrupts();
	sigprocmask(SIG_SETMASK, &omask, NULL);
	errno = err;
	return status;
}

struct popen_ent {
	struct popen_ent *next;
	FILE *stream;
	pid_t pid;
};

static struct popen_ent *popen_list;

/* Mode "r" or "w", with 'e' for close-on-exec (glibc's grammar). */
static int popen_mode(const char *mode, int *reading, int *cloexec)
{
	int r = 0, w = 0;

	*cloexec = 0;
	for (; *mode; mode++) {
		if (*mode == 'r')
			r = 1;
		else if (*mode == 'w')
			w = 1;
		else if (*mode == 'e')
			*cloexec = 1;
		else
			return -1;
	}
	*reading = r;
	return r ^ w ? 0 : -1;
}

/* Spawn the shell with CHILD_END as its stdin or stdout, closing the
 * other popen streams in it. Called with popen_lock held. */
static pid_t popen_start(const char *cmd, int child_end, int std_fd)
{
	posix_spawn_file_actions_t fa;
	int err = US_SELF(posix_spawn_file_actions_init)(&fa);

	/* dup2 onto itself clears close-on-exec (POSIX, glibc >= 2.29) */
	if (!err)
		err = US_SELF(posix_spawn_file_actions_adddup2)(&fa, child_end, std_fd);
	for (struct popen_ent *e = popen_list; e && !err; e = e->next)
		if (fileno(e->stream) != std_fd)
			err = US_SELF(posix_spawn_file_actions_addclose)(
				&fa, fileno(e->stream));
	pid_t pid = err ? -1 : start_shell(cmd, &fa, NULL);
	int saved = errno;
	US_SELF(posix_spawn_file_actions_destroy)(&fa);
	errno = err ? err : saved;
	return pid;
}

static FILE *open_pipe(const char *cmd, const char *mode)
{
	int reading, cloexec, fds[2];

	if (popen_mode(mode, &reading, &cloexec) < 0) {
		errno = EINVAL;
		return NULL;
	}
	struct popen_ent *e = malloc(sizeof *e);
	if (!e)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		int err = errno;
		free(e);
		errno = err;
		return NULL;
	}
	int parent = fds[!reading], child = fds[reading];
	us_lock(US_LOCK_POPEN);
	e->pid = popen_start(cmd, child, reading ? 1 : 0);
	int err = errno;
	US_SELF(close)(child);
	if (e->pid >= 0 && !cloexec)
		US_SELF(fcntl)(parent, F_SETFD, 0);
	e->stream = e->pid < 0 ? NULL : fdopen(parent, reading ? "r" : "w");
	if (e->stream) {
		e->next = popen_list, popen_list = e;
		us_unlock(US_LOCK_POPEN);
		return e->stream;
	}
	us_unlock(US_LOCK_POPEN);
	if (e->pid >= 0) { /* fdopen failed: the pipe is gone, reap */
		err = errno;
		US_SELF(close)(parent);
		wait_for(e->pid, &reading);
	} else {
		US_SELF(close)(parent);
	}
	free(e);
	errno = err;
	return NULL;
}

static int close_pipe(FILE *stream)
{
	struct popen_ent *e = NULL;
	int status;

	us_lock(US_LOCK_POPEN);
	for (struct popen_ent **pp = &popen_list; *pp; pp = &(*pp)->next)
		if ((*pp)->stream == stream) {
			e = *pp;
			*pp = e->next;
			break;
		}
	us_unlock(US_LOCK_POPEN);
	if (!e) /* not ours: a stream glibc's popen made before us */
		return US_REAL(pclose)(stream);
	pid_t pid = e->pid;
	free(e);
	US_SELF(fclose)(stream);
	return wait_for(pid, &status) < 0 ? -1 : status;
}

/* What the shell's start and the wait leave in errno on the way to a
 * result is not the caller's. */
US_EXPORT int system(const char *cmd)
{
	int caller = errno;

	return us_kept(run_system(cmd), caller);
}

US_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	int caller = errno;

	return us_kept_ptr(open_pipe(cmd, mode), caller);
}

US_EXPORT int pclose(FILE *stream)
{
	int caller = errno;

	return us_kept(close_pipe(stream), caller);
}
