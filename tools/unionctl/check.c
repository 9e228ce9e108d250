/* check.c: unionctl check, the health of an upper and work dir: leftovers
 * of interrupted copy-ups, records of the work dir nobody uses, whiteouts
 * and opaque dirs that hide nothing, .wh. names the union cannot mean
 * (checkupper.c, checkwork.c). One line per finding on stdout.
 *
 * --repair changes the work dir only: what it removes there is private to
 * the shim and made again when needed. Findings in the upper are reported,
 * never changed: whether a whiteout hides something depends on the lowers
 * given, and a wrong --lower list must not cost a deletion. It refuses to
 * run while a union process maps the work dir's #state. */
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "check.h"
#include "progress.h"
#include "unionctl.h"
#include "unionshim/msgline.h"

#define CMD "check"

static void usage(FILE *out)
{
	fprintf(out,
"usage: unionctl check --upper DIR --work DIR [--lower DIR]... [--repair]\n"
"\n"
"Look an upper and work dir over, offline, one line per finding:\n"
"  problem: PATH: WHAT    something left behind or stale\n"
"  repaired: PATH: WHAT (removed)   with --repair\n"
"  info: PATH: WHAT       worth knowing, not a problem\n"
"Problems: temps of interrupted copy-ups (#us.PID.N) and link-index\n"
"counts, link-index entries no name uses, origin records of objects\n"
"gone, unknown .wh..wh. names, whiteouts that are not empty\n"
"files or stand beside the name they hide, the journal of an interrupted\n"
"commit (unionctl commit finishes it), #state words a process killed\n"
"mid-change left saying a change is under way (the caches then skip\n"
"those dirs: --repair closes them); with --lower also whiteouts and\n"
"opaque dirs that hide nothing in those lowers. Info: whiteouts in\n"
"overlayfs's form (char device 0/0; the shim reads them, and writes them\n"
"itself only for names of 252-255 bytes), entries of the work dir that\n"
"are not the shim's, lock proxies of objects gone (harmless: --repair\n"
"removes them too).\n"
"\n"
"  --upper DIR   the union's upper dir\n"
"  --work DIR    its work dir\n"
"  --lower DIR   a lower dir, topmost first (repeat)\n"
"  --repair      remove what is safe to remove: the temps and the work\n"
"                dir's unused records (the upper is never changed)\n"
"\n"
"Run it when no union process, no commit and no kernel overlayfs mount\n"
"uses the layers: it refuses otherwise.\n"
"Exit status: 0 clean (or everything found was repaired), 1 problems\n"
"remain, 2 usage error or the check could not run.\n"
"\n"
"Examples:\n"
"  unionctl check --upper /tmp/up --work /tmp/wk --lower ~/src\n"
"  unionctl check --upper /tmp/up --work /tmp/wk --repair\n");
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int uc_set_add(struct uc_set *s, uint64_t x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	s->sorted = false;
	return 0;
}

bool uc_set_has(struct uc_set *s, uint64_t x)
{
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof *s->v, by_value);
		s->sorted = true;
	}
	return s->n && bsearch(&x, s->v, s->n, sizeof x, by_value);
}

void uc_set_free(struct uc_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static void line(const char *kind, const char *path, const char *what,
		 const char *tail)
{
	struct us_msg m;

	uc_progress_end();
	us_msg_start(&m, 1, kind);
	us_msg_val(&m, path);
	us_msg_raw(&m, ": ");
	us_msg_raw(&m, what);
	if (tail)
		us_msg_raw(&m, tail);
	us_msg_end(&m);
}

void uc_note(struct uc_check *c, const char *path, const char *what)
{
	c->notes++;
	line("info: ", path, what, NULL);
}

void uc_problem(struct uc_check *c, const char *path, const char *what)
{
	c->problems++;
	line("problem: ", path, what, NULL);
}

static int remove_one(const char *p, const struct stat *st, int flag,
		      struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p) < 0 ? -1 : 0;
}

/* PATH removed (and all below it) for --repair: the line says so. */
static void remove_found(struct uc_check *c, const char *path, const char *what,
			 const char *kind)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		line(kind, path, what, " (could not be removed)");
		return;
	}
	c->repaired++;
	line("repaired: ", path, what, " (removed)");
}

void uc_problem_remove(struct uc_check *c, const char *path, const char *what)
{
	c->problems++;
	if (!c->repair) {
		line("problem: ", path, what, NULL);
		return;
	}
	remove_found(c, path, what, "problem: ");
}

void uc_note_remove(struct uc_check *c, const char *path, const char *what)
{
	if (!c->repair) {
		uc_note(c, path, what);
		return;
	}
	remove_found(c, path, what, "info: ");
}

void uc_problem_reset(struct uc_check *c, const char *path, const char *what,
		      int (*fix)(const char *arg), const char *arg)
{
	c->problems++;
	if (!c->repair) {
		line("problem: ", path, what, NULL);
		return;
	}
	if (fix(arg) < 0) {
		line("problem: ", path, what, " (could not be reset)");
		return;
	}
	c->repaired++;
	line("repaired: ", path, what, " (reset)");
}

static int parse(int argc, char **argv, struct uc_check *c)
{
	static const struct option longopts[] = {
		{"upper", required_argument, NULL, 'u'},
		{"lower", required_argument, NULL, 'l'},
		{"work", required_argument, NULL, 'w'},
		{"repair", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int o, r;

	while ((o = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (o == 'h')
			return usage(stdout), 1;
		if (o == 'r')
			c->repair = true;
		else if ((r = uc_layers_opt(&c->l, CMD, o, optarg)) <= 0)
			return -1;
	}
	if (optind < argc) {
		uc_say(CMD, "unexpected argument ", argv[optind], NULL);
		return -1;
	}
	return uc_layers_check(&c->l, CMD, false, true) < 0 ? -1 : 0;
}

int uc_check(int argc, char **argv)
{
	struct uc_check c = {.cmd = CMD};
	int rc = parse(argc, argv, &c);

	if (rc) {
		uc_layers_free(&c.l);
		return rc > 0 ? 0 : 2;
	}
	/* a running commit holds this lock; holding it keeps one from starting */
	int lock = open(c.l.cwork, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (uc_layers_busy(&c.l, CMD)) {
		rc = 2;
	} else if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		uc_say(CMD, "a commit is running in the work dir ", c.l.cwork, NULL);
		rc = 2;
	} else if (uc_check_upper(&c) < 0 || uc_check_work(&c) < 0) {
		rc = 2;
	} else {
		uc_progress_end();
		rc = c.problems > c.repaired ? 1 : 0;
		fprintf(stderr, "unionctl check: %u problem%s, %u repaired, %u note%s\n",
			c.problems, c.problems == 1 ? "" : "s", c.repaired,
			c.notes, c.notes == 1 ? "" : "s");
	}
	if (lock >= 0)
		close(lock);
	uc_set_free(&c.upper_inos);
	uc_set_free(&c.origins);
	uc_set_free(&c.aside_used);
	uc_layers_free(&c.l);
	return rc;
}
