/* spawn.c: posix_spawn, posix_spawnp and the file actions that name paths
 * or dirs (addopen, addchdir_np, addfchdir_np).
 *
 * The program is found as execve finds it (execplan.c) and the real
 * posix_spawn gets its real path and the child environment. File actions
 * run in the child with libc's internal calls, out of our reach, so their
 * paths are mapped when they are added, from the dir the child will be in
 * at that action (spawnfds.c remembers where each chdir or fchdir action
 * leaves it, and what an fd an earlier action opened names), with the
 * union's rules (a write copies up; a refusal is kept and posix_spawn fails
 * with it, as the child would at that action). The child's UNIONSHIM_CWD
 * is the dir the actions leave it in. */
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
#include "../loaderquiet.h"
#include "../front.h"
#include "../guard.h"
#include "../state.h"
#include "spawnfds.h"
#include "unionshim/lcache.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"

/* PATH as the child will see it after FA's chdir actions: joined to the
 * dir they enter, or (ABSOLUTE) to our cwd, or unchanged. NULL/errno. */
static const char *fa_path(const posix_spawn_file_actions_t *fa,
			   const char *path, int absolute, char *out,
			   size_t len)
{
	US_SCRATCH_SCOPE;
	struct {
		char base[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return NULL;

	if (!*path || path[0] == '/')
		return path;
	if (us_spawnfds_cwd(fa, sb->base, sizeof sb->base))
		return us_path_join(out, len, sb->base, path) < 0 ? NULL : out;
	if (!absolute)
		return path;
	return us_abs_path(AT_FDCWD, path, out, len) < 0 ? NULL : out;
}

/* The child's open actions on union files may have made names there
 * (O_CREAT), unseen by any wrapper: lookup caches forget every mount's
 * entries (rare: shells and make spawn without open actions). */
static void spawn_opened(const struct us_fdop *ops, int nops)
{
	for (int i = 0; i < nops; i++) {
		if (ops[i].kind != US_FDOP_OPEN)
			continue;
		for (int k = 0; k < us_cfg.nmounts; k++)
			us_lcache_moved(&us_cfg.mounts[k]);
		return;
	}
}

static int spawn_one(pid_t *pid, const char *path,
		     const posix_spawn_file_actions_t *fa,
		     const posix_spawnattr_t *attr, char *const argv[],
		     char *const envp[])
{
	US_SCRATCH_SCOPE;
	struct {
		char cwd[US_PATH_MAX];
		char abs[US_PATH_MAX];
		struct us_exec_plan p;
		struct us_childenv ce;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return ENOMEM;
	struct us_exec_plan *p = &sb->p;
	struct us_childenv *ce = &sb->ce;
	int has_cwd = us_spawnfds_cwd(fa, sb->cwd, sizeof sb->cwd);
	int refused = us_spawnfds_error(fa);

	if (refused) /* the child would stop at that action */
		return refused;

	const char *where = fa_path(fa, path, 0, sb->abs, sizeof sb->abs);
	int err = where ? us_exec_plan(AT_FDCWD, where, 0, envp, p) : errno;
	if (err)
		return err;
	/* the interpreter runs in the new cwd: give it the name as written */
	if (p->nscripts && where != path)
		snprintf(p->script, sizeof p->script, "%s", path);
	int nops;
	struct us_fdop *ops = us_spawnfds_get(fa, &nops);
	us_childenv_prepare_ops(ce, envp, has_cwd ? sb->cwd : NULL, ops, nops);
	ce->no_audit = !us_loader_needs_audit(p, envp);
	ce->static_tls = p->static_tls;
	char *mem = malloc(ce->size + us_exec_argv_size(p, argv));
	if (!mem) {
		us_fdmap_exec_failed(ce->fdmap);
		free(ops);
		return ENOMEM;
	}
	char **env = us_childenv_fill(ce, mem);
	char **av = us_exec_argv(p, argv, mem + ce->size);
	err = US_REAL(posix_spawn)(pid, p->real, fa, attr, av, env);
	us_fdmap_exec_failed(ce->fdmap); /* the parent's proxies close on exec again */
	spawn_opened(ops, nops); /* the child ran its actions (or failed in them) */
	free(ops);
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

/* An action whose path the union refused with ERR, once libc has added
 * it with the path as given (RC, its own checks): posix_spawn fails with
 * ERR. */
static int refused(posix_spawn_file_actions_t *fa, int err, int rc)
{
	if (!rc)
		us_spawnfds_refused(fa, err);
	return rc;
}

US_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa,
					       int fd, const char *path,
					       int oflag, mode_t mode)
{
	US_SHIM_OR(US_REAL(posix_spawn_file_actions_addopen)(fa, fd, path,
							     oflag, mode));
	US_SCRATCH_SCOPE;
	struct {
		char abs[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return ENOMEM;
	US_TARGET(t);
	const char *a = fa_path(fa, path, 1, sb->abs, sizeof sb->abs);
	const char *p = a ? us_path(a, us_open_map_flags(oflag), t) : NULL;
	if (!p) {
		int err = errno;
		return refused(fa, err, US_REAL(posix_spawn_file_actions_addopen)(
						fa, fd, path, oflag, mode));
	}
	int err = US_REAL(posix_spawn_file_actions_addopen)(fa, fd, p, oflag, mode);
	if (!err)
		us_spawnfds_add(fa, t->r.where == US_INSIDE ? us_fdop_open(fd, oflag)
							   : us_fdop_close(fd),
				t->r.where == US_INSIDE ? t->r.path : a);
	return err;
}

US_EXPORT int
posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
				     const char *path)
{
	US_SHIM_OR(US_REAL(posix_spawn_file_actions_addchdir_np)(fa, path));
	US_SCRATCH_SCOPE;
	struct {
		char abs[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return ENOMEM;
	US_TARGET(t);
	const char *a = fa_path(fa, path, 1, sb->abs, sizeof sb->abs);
	const char *p = a ? us_path(a, 0, t) : NULL;
	if (!p) {
		int err = errno;
		return refused(fa, err,
			       US_REAL(posix_spawn_file_actions_addchdir_np)(fa, path));
	}
	int err = US_REAL(posix_spawn_file_actions_addchdir_np)(fa, p);
	if (!err)
		us_spawnfds_set_cwd(fa, t->r.where == US_INSIDE ? t->r.path : a);
	return err;
}

/* The child's fchdir goes to the real dir under FD; its later actions and
 * its own cwd follow the dir FD names: the one an earlier open action
 * opened, or the parent's FD's (a union dir: its union path). */
US_EXPORT int
posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	US_SHIM_OR(US_REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd));
	US_SCRATCH_SCOPE;
	struct {
		char dir[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return ENOMEM;
	int saved = errno;
	int err = US_REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd);
	if (err)
		return err;
	int rc = us_spawnfds_fd_path(fa, &fd, sb->dir, sizeof sb->dir);
	if (rc == 0)
		rc = us_fd_path(fd, sb->dir, sizeof sb->dir) < 0 ? -1 : 1;
	us_spawnfds_set_cwd(fa, rc == 1 ? sb->dir : NULL); /* -1: EBADF there */
	errno = saved;
	return 0;
}
