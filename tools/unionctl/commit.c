/* commit.c: `unionctl commit`: apply the upper layer onto the lower dir
 * (the topmost of several), then empty the upper and the work dir's
 * records.
 *
 * A commit finding a journal (journal.h) finishes that one: the plan is
 * made once, from the layers as they were, since the steps change what a
 * new plan would see. Nothing is lost at any point: the upper is read,
 * never changed, until every step is done. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "journal.h"
#include "layerargs.h"
#include "unionctl.h"
#include "unionshim/commitplan.h"


static void usage(FILE *out)
{
	fprintf(out,
"usage: unionctl commit --lower DIR... --upper DIR --work DIR [--dry-run]\n"
"\n"
"Apply the upper layer onto the lower dir, so that the lower alone shows\n"
"what the union showed: each changed file is written beside its place\n"
"and renamed over it (it appears whole), whiteouts become removals, an\n"
"opaque dir loses what it hid, hard links stay hard links (the shim's\n"
"or overlayfs's index says which names are one file), and the union's\n"
"own records (user.unionshim.* and trusted.overlay.* xattrs, whiteouts,\n"
"opaque markers) are never copied. Then the upper dir and the work dir\n"
"are emptied: the union shows the same tree, now from the lower.\n"
"\n"
"With several lowers the changes go onto the topmost: a name deleted\n"
"that a lower below still holds becomes a whiteout there (a char device\n"
"0/0, else .wh.NAME), a dir hiding what those below hold is marked\n"
"opaque, so that the union of the lowers shows what the union showed.\n"
"\n"
"A journal in the work dir (#commit) makes it safe to interrupt: run the\n"
"same command again and it finishes the job. Nothing may use the union\n"
"(nor write the lower) while it runs.\n"
"\n"
"  --lower DIR   a lower dir; repeat it, topmost first (the changes go\n"
"                onto the topmost)\n"
"  --upper DIR   the upper dir\n"
"  --work DIR    the work dir\n"
"  --dry-run     print the steps (remove, mkdir, install, link, meta,\n"
"                whiteout, opaque), change nothing\n"
"  -h, --help    this text\n"
"\n"
"Examples:\n"
"  unionrun --lower ~/src --upper /tmp/up --work /tmp/wk -C ~/src -- make\n"
"  unionctl diff --lower ~/src --upper /tmp/up --work /tmp/wk\n"
"  unionctl commit --lower ~/src --upper /tmp/up --work /tmp/wk\n"
"  unionctl commit --dry-run --lower ~/src --upper /tmp/up --work /tmp/wk\n"
"\n"
"Exit status: 0 done; 1 failed (run it again to finish); 2 usage error.\n");
}

static void progress(size_t k, size_t n, bool tty)
{
	if (tty && (k == n || k % 64 == 0))
		fprintf(stderr, "\runionctl commit: %zu/%zu steps%s", k, n,
			k == n ? "\n" : "");
}

static int apply_plan(const struct journal *j, const char *lower,
		      const char *upper, const char *cmd)
{
	struct us_plan p;
	char tag[17];
	bool tty = isatty(2);

	if (plan_load(j, lower, tag, &p, cmd) < 0)
		return -1;
	tty = tty && p.n >= 64; /* a short commit needs no progress */
	size_t k = next_read(j);
	int fd = open(j->next, O_WRONLY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : 0;
	if (fd < 0)
		uc_err(cmd, "%s: %s", j->next, strerror(errno));
	for (; rc == 0 && k < p.n; k++) {
		char *where = NULL;
		progress(k, p.n, tty);
		if (uc_apply(lower, upper, &p.v[k], k, tag, &where) < 0 ||
		    next_write(fd, k + 1) < 0) {
			uc_err(cmd, "%s: %s (run the same command again to finish)",
			       where ? where : j->next, strerror(errno));
			rc = -1;
		}
		free(where);
	}
	if (rc == 0)
		progress(p.n, p.n, tty);
	if (fd >= 0)
		close(fd);
	us_plan_free(&p);
	return rc;
}

/* Remove every entry of DIR but KEEP (a name, or NULL). */
static int empty_dir(const char *dir, const char *keep, const char *cmd)
{
	char *list = NULL;
	size_t len = 0;
	FILE *names = open_memstream(&list, &len);
	DIR *d = names ? opendir(dir) : NULL;
	struct dirent *e;
	int rc = 0;

	if (!d) {
		uc_err(cmd, "%s: %s", dir, strerror(errno));
		if (names)
			fclose(names);
		free(list);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (!keep || strcmp(e->d_name, keep)))
			fwrite(e->d_name, 1, strlen(e->d_name) + 1, names);
	closedir(d);
	fclose(names);
	for (size_t at = 0; rc == 0 && at < len; at += strlen(list + at) + 1) {
		char *p = NULL, *where = NULL;
		if (asprintf(&p, "%s/%s", dir, list + at) < 0 ||
		    uc_remove_tree(p, &where) < 0) {
			uc_err(cmd, "%s: %s", where ? where : dir, strerror(errno));
			rc = -1;
		}
		free(where);
		free(p);
	}
	free(list);
	return rc;
}

/* Every step done: empty the upper, then the work dir, journal last. */
static int cleanup(const struct journal *j, const struct uc_layers *l,
		   const char *cmd)
{
	int fd = open(j->cleaning, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		uc_err(cmd, "%s: %s", j->cleaning, strerror(errno));
		return -1;
	}
	close(fd);
	char *where = NULL;
	if (empty_dir(l->cupper, NULL, cmd) < 0 ||
	    empty_dir(l->cwork, JOURNAL, cmd) < 0)
		return -1;
	if (uc_remove_tree(j->dir, &where) < 0) {
		uc_err(cmd, "%s: %s", where ? where : j->dir, strerror(errno));
		free(where);
		return -1;
	}
	return 0;
}

/* Dirs renamed in place (redirect records) are not committed yet: the
 * plan would copy their trees and remove the old ones in one order a
 * crash could split. Nothing is changed. */
#define RENAMED_MSG                                                         \
	"holds dirs renamed in place (redirect records), which commit does " \
	"not apply yet: nothing done (unionctl export writes them; or mv "   \
	"them back in the union)"

static int dry_run(struct uc_layers *l, const struct journal *j)
{
	struct us_changes c;
	struct us_plan p;
	struct stat st;
	char tag[17];

	if (lstat(j->plan, &st) == 0) {
		if (plan_load(j, l->clower[0], tag, &p, "commit") < 0)
			return -1;
		size_t k = next_read(j);
		printf("an interrupted commit is to be finished: %zu of %zu steps left\n",
		       k < p.n ? p.n - k : 0, p.n);
		us_plan_free(&p);
		return 0;
	}
	if (us_changes_collect(&l->set, US_CHANGES_LINKS, &c) < 0 ||
	    (c.redirected && (errno = EXDEV)) ||
	    us_commit_plan(&l->set, &c, &p) < 0) {
		uc_err("commit", "%s: %s", c.errpath ? c.errpath : l->cupper,
		       errno == EXDEV ? RENAMED_MSG : strerror(errno));
		us_changes_free(&c);
		return -1;
	}
	for (size_t i = 0; i < p.n; i++) {
		const struct us_op *o = &p.v[i];
		const char *verb = o->kind == US_OP_REMOVE ? "remove"
				   : o->kind == US_OP_MKDIR ? "mkdir"
				   : o->kind == US_OP_INSTALL ? "install"
				   : o->kind == US_OP_LINK ? "link"
				   : o->kind == US_OP_WHITEOUT ? "whiteout"
				   : o->kind == US_OP_OPAQUE ? "opaque"
							   : "meta";
		printf("%s ", verb);
		uc_put_path(stdout, o->path);
		if (o->kind == US_OP_LINK) {
			fputs(" = ", stdout);
			uc_put_path(stdout, o->arg);
		}
		putchar('\n');
	}
	us_plan_free(&p);
	us_changes_free(&c);
	return 0;
}

int uc_commit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"lower", required_argument, NULL, 'l'},
		{"upper", required_argument, NULL, 'u'},
		{"work", required_argument, NULL, 'w'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct uc_layers l = {0};
	struct journal j = {0};
	struct stat st;
	bool dry = false;
	int opt, rc = 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		int r = uc_layers_opt(&l, "commit", opt, optarg);
		if (r < 0)
			return 2;
		if (r)
			continue;
		switch (opt) {
		case 'n': dry = true; break;
		case 'h': usage(stdout); return 0;
		default:
			uc_err("commit", "bad option '%s' (see unionctl commit --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		uc_err("commit", "unexpected argument '%s' (see unionctl commit --help)",
		       argv[optind]);
		return 2;
	}
	if (uc_layers_check(&l, "commit", true, true) < 0) {
		uc_layers_free(&l);
		return 2;
	}
	if (journal_paths(&j, l.cwork) < 0) {
		uc_err("commit", "out of memory");
		goto out;
	}
	if (dry) {
		rc = dry_run(&l, &j) == 0 && fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	/* one commit at a time: a lock on the work dir itself */
	int lock = open(l.cwork, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		uc_err("commit", "%s: %s", l.cwork,
		       errno == EWOULDBLOCK ? "another commit is running on it"
					    : strerror(errno));
		goto out;
	}
	if (lstat(j.cleaning, &st) < 0 && lstat(j.plan, &st) < 0) {
		char *where = NULL;
		if (plan_make(&l, &j, &where) < 0) {
			uc_err("commit", "%s: %s", where ? where : l.cupper,
			       errno == ENOTSUP ? "an overlayfs redirect or metacopy "
						  "entry: not supported"
			       : errno == EXDEV ? RENAMED_MSG
						: strerror(errno));
			free(where);
			goto out;
		}
	}
	if ((lstat(j.cleaning, &st) == 0 || apply_plan(&j, l.clower[0], l.cupper, "commit") == 0) &&
	    cleanup(&j, &l, "commit") == 0)
		rc = 0;
out:
	journal_free(&j);
	uc_layers_free(&l);
	return rc;
}
