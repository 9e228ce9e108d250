/* spawn.c: posix_spawn, posix_spawnp and the file actions that name paths.
 *
 * The program is found as execve finds it (execplan.c) and the real
 * posix_spawn gets its real path and the child environment. File actions
 * run in the child with libc's internal calls, out of our reach, so their
 * paths are mapped when they are added; a chdir action is remembered per
 * file-actions object (a small side table, since libc gives no place to
 * hang it) so that later relative paths and the child's UNIONSHIM_CWD
 * follow it. The fd changes of file actions are kept by spawnfds.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../childenv.h"
#include "../fdmap.h"
#include "../execplan.h"
#include "../front.h"
#include "../guard.h"
#include "spawnfds.h"
#include "unionshim/path.h"

/* The union path a chdir action leaves the child in. An entry whose
 * action is gone (the object was destroyed and made again) is dropped
 * when seen: libc's destroy is not wrapped, so this is best effort. */
struct fa_cwd {
	struct fa_cwd *next;
	const posix_spawn_file_actions_t *fa;
	int index; /* of the chdir action in fa->__actions */
	char upath[];
};

static struct fa_cwd *fa_cwds;
static pthread_mutex_t fa_lock = PTHREAD_MUTEX_INITIALIZER;

/* Unlink FA's entry (stale or replaced); returns it, or NULL. */
static struct fa_cwd *fa_cwd_take(const posix_spawn_file_actions_t *fa)
{
	for (struct fa_cwd **pp = &fa_cwds; *pp; pp = &(*pp)->next) {
		struct fa_cwd *e = *pp;
		if (e->fa == fa) {
			*pp = e->next;
			return e;
		}
	}
	return NULL;
}

/* Copy the dir FA's last chdir action enters into OUT: 1, or 0 if none. */
static int fa_cwd_get(const posix_spawn_file_actions_t *fa, char *out,
		      size_t len)
{
	int found = 0;

	if (!fa)
		return 0;
	pthread_mutex_lock(&fa_lock);
	struct fa_cwd *e = fa_cwd_take(fa);
	if (e && e->index < fa->__used && strlen(e->upath) < len) {
		strcpy(out, e->upath);
		found = 1;
		e->next = fa_cwds, fa_cwds = e;
	} else {
		free(e);
	}
	pthread_mutex_unlock(&fa_lock);
	return found;
}

static void fa_cwd_put(const posix_spawn_file_actions_t *fa, struct fa_cwd *e)
{
	e->fa = fa;
	e->index = fa->__used - 1;
	pthread_mutex_lock(&fa_lock);
	free(fa_cwd_take(fa));
	e->next = fa_cwds, fa_cwds = e;
	pthread_mutex_unlock(&fa_lock);
}

/* PATH as the child will see it after FA's chdir actions: joined to the
 * dir they enter, or (ABSOLUTE) to our cwd, or unchanged. NULL/errno. */
static const char *fa_path(const posix_spawn_file_actions_t *fa,
			   const char *path, int absolute, char *out,
			   size_t len)
{
	char base[PATH_MAX];

	if (!*path || path[0] == '/')
		return path;
	if (fa_cwd_get(fa, base, sizeof base))
		return us_path_join(out, len, base, path) < 0 ? NULL : out;
	if (!absolute)
		return path;
	return us_abs_path(AT_FDCWD, path, out, len) < 0 ? NULL : out;
}

static int spawn_one(pid_t *pid, const char *path,
		     const posix_spawn_file_actions_t *fa,
		     const posix_spawnattr_t *attr, char *const argv[],
		     char *const envp[])
{
	char cwd[PATH_MAX], abs[PATH_MAX];
	struct us_exec_plan p;
	int has_cwd = fa_cwd_get(fa, cwd, sizeof cwd);

	const char *where = fa_path(fa, path, 0, abs, sizeof abs);
	int err = where ? us_exec_plan(AT_FDCWD, where, 0, envp, &p) : errno;
	if (err)
		return err;
	/* the interpreter runs in the new cwd: give it the name as written */
	if (p.nscripts && where != path)
		snprintf(p.script, sizeof p.script, "%s", path);
	struct us_childenv ce;
	int nops;
	struct us_fdop *ops = us_spawnfds_get(fa, &nops);
	us_childenv_prepare_ops(&ce, envp, has_cwd ? cwd : NULL, ops, nops);
	free(ops);
	char *mem = malloc(ce.size + us_exec_argv_size(&p, argv));
	if (!mem) {
		us_fdmap_exec_failed();
		return ENOMEM;
	}
	char **env = us_childenv_fill(&ce, mem);
	char **av = us_exec_argv(&p, argv, mem + ce.size);
	err = US_REAL(posix_spawn)(pid, p.real, fa, attr, av, env);
	us_fdmap_exec_failed(); /* the parent's proxies close on exec again */
	free(mem);
	return err;
}

US_EXPORT int posix_spawn(pid_t *pid, const char *path,
			  const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[],
			  char *const envp[])
{
	US_SHIM_OR(US_REAL(posix_spawn)(pid, path, fa, attr, argv, envp));
	int saved = errno, err = spawn_one(pid, path, fa, attr, argv, envp);
	errno = saved;
	return err;
}

/* The PATH search of execvp, each candidate spawned through the union. */
static int spawn_search(pid_t *pid, const char *file,
			const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[],
			char *const envp[])
{
	const char *search = getenv("PATH");
	int err = ENOENT, denied = 0;

	if (!*file)
		return ENOENT;
	if (strchr(file, '/'))
		return spawn_one(pid, file, fa, attr, argv, envp);
	if (strlen(file) > NAME_MAX)
		return ENAMETOOLONG;
	if (!search)
		search = "/bin:/usr/bin";
	char *buf = malloc(strlen(search) + strlen(file) + 2);
	if (!buf)
		return ENOMEM;
	for (const char *d = search;; d++) {
		const char *e = strchrnul(d, ':');
		size_t n = (size_t)(e - d);
		memcpy(buf, d, n);
		buf[n] = '/';
		strcpy(buf + n + (n > 0), file); /* "" is the cwd */
		err = spawn_one(pid, buf, fa, attr, argv, envp);
		if (err == EACCES)
			denied = 1;
		else if (err != ENOENT && err != ENOTDIR && err != ESTALE &&
			 err != ENODEV && err != ETIMEDOUT)
			break; /* started, or found but failed */
		d = e;
		if (!*d) {
			err = denied ? EACCES : err;
			break;
		}
	}
	free(buf);
	return err;
}

US_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	US_SHIM_OR(US_REAL(posix_spawnp)(pid, file, fa, attr, argv, envp));
	int saved = errno, err = spawn_search(pid, file, fa, attr, argv, envp);
	errno = saved;
	return err;
}

US_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa,
					       int fd, const char *path,
					       int oflag, mode_t mode)
{
	US_SHIM_OR(US_REAL(posix_spawn_file_actions_addopen)(fa, fd, path,
							     oflag, mode));
	char abs[PATH_MAX];
	struct us_target t;
	const char *p = fa_path(fa, path, 0, abs, sizeof abs);
	p = p ? us_path(p, us_open_map_flags(oflag), &t) : NULL;
	if (!p)
		return errno;
	int err = US_REAL(posix_spawn_file_actions_addopen)(fa, fd, p, oflag, mode);
	if (!err)
		us_spawnfds_add(fa, t.r.where == US_INSIDE ? US_FDOP_OPEN
							   : US_FDOP_CLOSE,
				fd, fd);
	return err;
}

US_EXPORT int
posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
				     const char *path)
{
	US_SHIM_OR(US_REAL(posix_spawn_file_actions_addchdir_np)(fa, path));
	char abs[PATH_MAX];
	struct us_target t;
	const char *a = fa_path(fa, path, 1, abs, sizeof abs);
	const char *p = a ? us_path(a, 0, &t) : NULL;
	if (!p)
		return errno;
	const char *upath = t.r.where == US_INSIDE ? t.r.path : a;
	struct fa_cwd *e = malloc(sizeof *e + strlen(upath) + 1);
	if (!e)
		return ENOMEM;
	strcpy(e->upath, upath);
	int err = US_REAL(posix_spawn_file_actions_addchdir_np)(fa, p);
	if (err)
		free(e);
	else
		fa_cwd_put(fa, e);
	return err;
}
