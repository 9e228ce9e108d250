/* execplan.c: find what to execute (see execplan.h).
 *
 * The kernel would look the program and its "#!" interpreters up in the
 * real filesystem, so the shim does the "#!" step itself: each name goes
 * through the union, and the innermost real program is executed with the
 * argv the kernel would have built. The interpreter then gets the script
 * as the caller named it (a union path) and, running under the shim,
 * reads it through the union. Whatever the shim cannot read or does not
 * recognise is left to the kernel, so the errno stays the kernel's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "childenv.h"
#include "execplan.h"
#include "front.h"
#include "execseen.h"
#include "state.h"
#include "unionshim/msgline.h"
#include "unionshim/scratch.h"

/* Lookup errors that open() and exec share: the exec fails the same way. */
static int lookup_errno(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ELOOP ||
	       err == ENAMETOOLONG;
}

/* One line, no allocation (this may run in a vfork child); out of line,
 * so that its buffer is on the stack only when a program is refused. */
__attribute__((noinline)) static void refuse(const char *name,
					     const char *why)
{
	struct us_msg m;

	us_msg_start(&m, 2, "unionshim: refusing to execute ");
	us_msg_val(&m, name);
	us_msg_raw(&m, ": ");
	us_msg_raw(&m, why);
	us_msg_raw(&m, " (it would see the real directories; set "
		       US_ENV_ALLOW "=1 to allow)");
	us_msg_end(&m);
}

/* Would the kernel ignore set-id bits for the program open on FD? */
static int setid_ignored(int fd)
{
	struct statvfs vfs;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return 1;
	return US_REAL(fstatvfs)(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
}

/* Could the set-id rules matter for a program of KIND with ST? Only then
 * are the ids, the mount flags and no_new_privs asked for (four system
 * calls in every exec otherwise). */
static bool setid_bits(int kind, const struct stat *st)
{
	return kind == US_EXEC_DYNAMIC && (st->st_mode & (S_ISUID | S_ISGID));
}

/* The real dir of the program at PATH of (DFD) into ORIGIN (PATH_MAX
 * bytes), as the loader reads "$ORIGIN"; false when unknown. */
static bool program_dir(int dfd, const char *path, char *origin)
{
	if (dfd != AT_FDCWD || !US_REAL(realpath)(path, origin))
		return false;
	char *slash = strrchr(origin, '/');
	if (slash == origin)
		slash[1] = '\0'; /* "/x": the root */
	else
		*slash = '\0';
	return true;
}

/* Does the dynamic program open on FD (its first N bytes HEAD) at PATH
 * of (DFD) need glibc alone (exectarget.h)? Otherwise the static TLS its
 * libraries take goes into *TLS: an audited child's loader reserve must
 * hold it (childenv.c). */
static bool needs_glibc_only(int fd, const char *head, size_t n, int dfd,
			     const char *path, size_t *tls)
{
	*tls = 0;
	if (us_exec_glibc_only(fd, head, n))
		return true;
	US_SCRATCH_SCOPE;
	char *origin = us_scratch_push(PATH_MAX);
	if (origin && program_dir(dfd, path, origin))
		*tls = us_exec_static_tls(fd, head, n, origin);
	return false;
}

/* Classify what (DFD, PATH, FLAGS) names. US_EXEC_OTHER when the shim
 * cannot tell (not a readable, executable regular file): the kernel
 * decides. -1 with errno for a failure the exec shares. *WHY: the reason
 * it cannot be followed. */
static int look(int dfd, const char *path, int flags, struct us_shebang *sb,
		const char **why, bool *glibc_only, size_t *tls)
{
	US_SCRATCH_SCOPE;
	struct {
		char proc[40];
		char head[US_EXEC_HEAD];
	} *sb1 = us_scratch_push(sizeof *sb1);
	if (!sb1)
		return -1;
	struct stat st;
	int nofollow = (flags & AT_SYMLINK_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0;

	*why = NULL;
	*glibc_only = false;
	*tls = 0;
	if (!*path && (flags & AT_EMPTY_PATH)) {
		snprintf(sb1->proc, sizeof sb1->proc, "/proc/self/fd/%d", dfd);
		dfd = AT_FDCWD, path = sb1->proc, nofollow = 0;
	}
	if (US_REAL(fstatat)(dfd, path, &st, nofollow) < 0)
		return lookup_errno(errno) ? -1 : US_EXEC_OTHER;
	if (!S_ISREG(st.st_mode) ||
	    US_REAL(faccessat)(dfd, path, X_OK, AT_EACCESS | nofollow) < 0)
		return US_EXEC_OTHER; /* the kernel says EACCES */
	int seen = us_execseen_dynamic(&st, tls);
	if (seen) { /* read before, unchanged since */
		*glibc_only = seen == US_SEEN_GLIBC_ONLY;
		return US_EXEC_DYNAMIC;
	}
	int fd = US_REAL(openat)(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
					       O_NONBLOCK |
					       (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return US_EXEC_OTHER; /* execute-only: the kernel may run it */
	ssize_t n = US_REAL(pread)(fd, sb1->head, sizeof sb1->head, 0);
	int kind = n < 0 ? US_EXEC_OTHER
			 : us_exec_inspect(fd, sb1->head, (size_t)n, sb);
	struct statvfs vfs;
	if (kind == US_EXEC_SCRIPT && US_REAL(fstatvfs)(fd, &vfs) == 0 &&
	    (vfs.f_flag & ST_NOEXEC))
		kind = US_EXEC_OTHER; /* the kernel refuses it: EACCES */
	else if (kind > US_EXEC_SCRIPT && !setid_bits(kind, &st))
		*why = us_exec_unfollowable(kind, &st, 0, 0, 0);
	else if (kind > US_EXEC_SCRIPT)
		*why = us_exec_unfollowable(kind, &st, geteuid(), getegid(),
					    setid_ignored(fd));
	if (kind == US_EXEC_DYNAMIC && !*why) {
		*glibc_only = needs_glibc_only(fd, sb1->head, (size_t)n, dfd, path, tls);
		us_execseen_add(&st, *glibc_only, *tls); /* never a set-id file */
	}
	int err = errno;
	US_REAL(close)(fd);
	errno = err;
	return kind;
}

/* The outermost script's name as the kernel passes it to the interpreter:
 * the caller's path, or /dev/fd/N[/path] for one relative to a dir fd. */
static int script_name(int dirfd, const char *path, struct us_exec_plan *p)
{
	int n;

	if (dirfd == AT_FDCWD || path[0] == '/')
		n = snprintf(p->script, sizeof p->script, "%s", path);
	else if (!*path)
		n = snprintf(p->script, sizeof p->script, "/dev/fd/%d", dirfd);
	else
		n = snprintf(p->script, sizeof p->script, "/dev/fd/%d/%s",
			     dirfd, path);
	if (n < 0 || (size_t)n >= sizeof p->script)
		return ENAMETOOLONG;
	/* a close-on-exec fd is gone before the interpreter opens it */
	if (dirfd != AT_FDCWD && path[0] != '/' &&
	    US_REAL(syscall)(SYS_fcntl, dirfd, F_GETFD) == FD_CLOEXEC)
		return ENOENT;
	return 0;
}

int us_exec_plan(int dirfd, const char *path, int flags, char *const envp[],
		 struct us_exec_plan *p)
{
	US_SCRATCH_SCOPE;
	const char *name = path, *why;
	struct us_shebang sb;
	US_TARGET(t);

	p->nscripts = 0;
	for (;;) {
		int level = p->nscripts, dfd = level ? AT_FDCWD : dirfd;
		p->flags = level ? 0 : flags;
		unsigned mf = US_MAP_DATA | US_MAP_EXEC |
			      (p->flags & AT_SYMLINK_NOFOLLOW ? US_MAP_NOFOLLOW : 0) |
			      (p->flags & AT_EMPTY_PATH ? US_MAP_EMPTY_OK : 0);
		const char *real = us_path_at(&dfd, name, mf, t);
		if (!real)
			return errno;
		if (strlen(real) >= sizeof p->real)
			return ENAMETOOLONG;
		strcpy(p->real, real);
		p->dirfd = dfd;
		int kind = look(dfd, p->real, p->flags, &sb, &why,
				&p->glibc_only, &p->static_tls);
		if (kind < 0)
			return errno;
		if (why && !us_childenv_allows_unfollowed(envp)) {
			refuse(name, why);
			return EACCES;
		}
		if (kind != US_EXEC_SCRIPT)
			return 0;
		if (level == US_EXEC_MAXSCRIPTS)
			return ELOOP;
		if (level == 0) {
			int err = script_name(dirfd, path, p);
			if (err)
				return err;
		}
		p->sb[level] = sb;
		/* the copy's pointers must point into the copy */
		p->sb[level].interp = p->sb[level].line + (sb.interp - sb.line);
		if (sb.arg)
			p->sb[level].arg = p->sb[level].line + (sb.arg - sb.line);
		name = p->sb[level].interp;
		p->nscripts++;
	}
}

static size_t count(char *const argv[])
{
	size_t n = 0;

	while (argv && argv[n])
		n++;
	return n;
}

size_t us_exec_argv_size(const struct us_exec_plan *p, char *const argv[])
{
	if (!p->nscripts)
		return 0;
	return (2 * (size_t)p->nscripts + count(argv) + 2) * sizeof(char *);
}

char **us_exec_argv(const struct us_exec_plan *p, char *const argv[],
		    void *mem)
{
	size_t argc = count(argv), k = 0;
	char **av = mem;

	if (!p->nscripts)
		return (char **)argv;
	/* the innermost interpreter comes first, as the kernel nests them */
	for (int i = p->nscripts - 1; i >= 0; i--) {
		av[k++] = (char *)p->sb[i].interp;
		if (p->sb[i].arg)
			av[k++] = (char *)p->sb[i].arg;
	}
	av[k++] = (char *)p->script;
	for (size_t i = 1; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	return av;
}
