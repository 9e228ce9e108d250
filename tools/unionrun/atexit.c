/* atexit.c: what unionrun does once the command is done, per writable
 * mount: the summary line, the change list (--diff), the commit (--commit,
 * only when the command exited 0), the discard (--discard), and the
 * removal of a private temp dir that holds no change.
 *
 * The change model lives in unionctl (found next to unionrun, as the
 * library is): `unionctl diff --summary`, `unionctl diff` and `unionctl
 * commit` run here, outside the union, on the real layer dirs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unionrun.h"
#include "unionshim/msgline.h"

static char *ctl_path(void)
{
	char *self = ur_alloc(PATH_MAX);
	const char *env = getenv("UNIONRUN_UNIONCTL");

	if (env && *env) {
		snprintf(self, PATH_MAX, "%s", env);
		return self;
	}
	ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 16);
	if (n < 0)
		ur_die("cannot find my own path: %s", strerror(errno));
	self[n] = '\0';
	strcpy(strrchr(self, '/') + 1, "unionctl");
	return self;
}

/* Run unionctl with ARGS (ARGS[0] is set here). Its stdout goes to OUT,
 * or is read into CAP when CAP is given. Its exit status, or -1 (said). */
static int ctl(char **args, int out, struct strbuf *cap)
{
	int pfd[2] = {-1, -1}, status;
	char *path = ctl_path();

	args[0] = path;
	if (cap && pipe2(pfd, O_CLOEXEC) < 0)
		ur_die("cannot make a pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(cap ? pfd[1] : out, 1) < 0) /* unionrun's stdout is the command's */
			_exit(125);
		execv(path, args);
		ur_warn("cannot run %s: %s", path, strerror(errno));
		_exit(125);
	}
	if (cap) {
		char buf[4096];
		ssize_t n;
		close(pfd[1]);
		while (pid > 0 && ((n = read(pfd[0], buf, sizeof buf - 1)) > 0 ||
				   (n < 0 && errno == EINTR)))
			if (n > 0) {
				buf[n] = '\0';
				sb_add(cap, buf, 0);
			}
		close(pfd[0]);
	}
	free(path);
	if (pid < 0)
		ur_die("cannot fork: %s", strerror(errno));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The arguments naming mount K's layers, every lower topmost first, for
 * `unionctl CMD` (diff; commit, which applies onto the topmost). */
static char **layer_args(const struct us_mount *m, const char *cmd,
			 const char *flag)
{
	char **a = ur_alloc((size_t)(2 * m->nlayers + 8) * sizeof *a);
	int n = 1;

	a[n++] = (char *)cmd;
	if (flag)
		a[n++] = (char *)flag;
	for (int i = 1; i < m->nlayers; i++) {
		a[n++] = (char *)"--lower";
		a[n++] = m->layers[i].path;
	}
	a[n++] = (char *)"--upper";
	a[n++] = m->layers[0].path;
	a[n++] = (char *)"--work";
	a[n++] = m->work;
	return a;
}

/* Write TEXT (unionctl's change list) to FD; PREFIX (a target, or NULL)
 * goes before each path, so that several mounts' lists stay apart. */
static void put_changes(int fd, const char *text, const char *prefix)
{
	FILE *f = fdopen(dup(fd), "w");

	if (!f)
		return;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (prefix && n > 2 && p[1] == ' ')
			fprintf(f, "%.2s%s%s%.*s\n", p, prefix, p[2] == '/' ? "" : "/",
				(int)n - 2, p + 2);
		else
			fprintf(f, "%.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	fclose(f);
}

static int diff_fd(const struct ur_run *r)
{
	if (!r->o.diff_file || !strcmp(r->o.diff_file, "-"))
		return r->o.diff_file ? 1 : 2;
	return r->o.diff_fd;
}

/* One line: "unionrun: [TARGET: ]SUMMARY; TAIL". */
static void say_line(const struct ur_run *r, int k, const char *sum,
		     const char *tail, const char *dir)
{
	struct us_msg m;

	us_msg_start(&m, 2, "unionrun: ");
	if (r->cfg.nmounts > 1) {
		us_msg_val(&m, r->cfg.mounts[k].target);
		us_msg_raw(&m, ": ");
	}
	us_msg_val(&m, sum);
	us_msg_raw(&m, "; ");
	us_msg_raw(&m, tail);
	if (dir)
		us_msg_val(&m, dir);
	us_msg_end(&m);
}

/* Remove mount K's changes: a dir unionrun made goes whole; a user's
 * upper and work dir are emptied. */
static int drop_changes(const struct ur_run *r, int k)
{
	const struct us_mount *m = &r->cfg.mounts[k];

	if (r->m[k].own == UR_TEMP)
		return ur_rmtree(r->m[k].base);
	return ur_empty_dir(m->layers[0].path) < 0 || ur_empty_dir(m->work) < 0 ? -1 : 0;
}

/* `unionctl diff --summary` of mount K into SUM ("N added, N changed, N
 * deleted"); NONE: it counts no change. 0, or -1 (said). */
static int read_summary(const struct ur_run *r, int k, struct strbuf *sum, int *none)
{
	const struct us_mount *m = &r->cfg.mounts[k];
	char **a = layer_args(m, "diff", "--summary");
	int added = -1, changed = -1, deleted = -1;
	int rc = ctl(a, -1, sum) == 0 && sum->s ? 0 : -1;

	free(a);
	if (rc < 0) {
		ur_warn("cannot read the changes of %s; they are kept in %s",
			m->target, ur_kept_in(r, k));
		return -1;
	}
	sum->s[strcspn(sum->s, "\n")] = '\0';
	sscanf(sum->s, "%d added, %d changed, %d deleted", &added, &changed, &deleted);
	*none = added == 0 && changed == 0 && deleted == 0;
	return 0;
}

/* --diff: mount K's change list. 0, or -1. */
static int list_changes(const struct ur_run *r, int k)
{
	const struct us_mount *m = &r->cfg.mounts[k];
	char **a = layer_args(m, "diff", NULL);
	struct strbuf list = {0};
	int fd = diff_fd(r), rc = 0;

	if (fd < 0 || ctl(a, -1, &list) != 0)
		rc = -1;
	else if (list.s)
		put_changes(fd, list.s, r->cfg.nmounts > 1 ? m->target : NULL);
	free(list.s);
	free(a);
	return rc;
}

/* --commit of mount K (the command succeeded). 0, or -1. */
static int commit_mount(const struct ur_run *r, int k, const char *sum)
{
	const struct us_mount *m = &r->cfg.mounts[k];
	char **a = layer_args(m, "commit", NULL);
	int rc = ctl(a, 2, NULL) == 0 ? 0 : -1;

	free(a);
	if (rc < 0) {
		say_line(r, k, sum, "commit failed; changes kept in ", ur_kept_in(r, k));
		return -1;
	}
	if (r->m[k].own == UR_TEMP) /* emptied by the commit */
		ur_rmtree(r->m[k].base);
	if (!r->o.quiet)
		say_line(r, k, sum, "committed to ", m->layers[1].path);
	return 0;
}

static int report_mount(const struct ur_run *r, int k, int ok)
{
	struct strbuf sum = {0};
	int none = 0, rc = 0;
	/* a failed command's changes are never committed */
	int held = r->o.commit && !ok;

	if (read_summary(r, k, &sum, &none) < 0) {
		free(sum.s);
		return -1;
	}
	if (r->o.diff && list_changes(r, k) < 0)
		rc = -1;
	if (r->o.commit && ok && !none) {
		rc |= commit_mount(r, k, sum.s);
	} else if (r->o.discard || (none && r->m[k].own == UR_TEMP)) {
		if (drop_changes(r, k) < 0) {
			ur_warn("cannot remove %s: %s", ur_kept_in(r, k), strerror(errno));
			rc = -1;
		} else if (!r->o.quiet)
			say_line(r, k, sum.s,
				 none ? "nothing kept"
				 : held ? "not committed (the command failed); discarded"
					: "discarded",
				 NULL);
	} else if (!r->o.quiet) {
		say_line(r, k, sum.s,
			 held && !none ? "not committed (the command failed); changes kept in "
				       : "changes kept in ",
			 ur_kept_in(r, k));
	}
	free(sum.s);
	return rc;
}

int ur_report(struct ur_run *r, int status)
{
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0, rc = 0;

	for (int k = 0; k < r->cfg.nmounts; k++)
		if (r->cfg.mounts[k].has_upper && report_mount(r, k, ok) < 0)
			rc = -1;
	return rc;
}
