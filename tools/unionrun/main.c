/* unionrun: run one command in one or more unions, then report, keep,
 * commit or discard what it changed.
 *
 *   unionrun [OPTIONS] [--] COMMAND [ARG]...
 *
 * main.c reads the options and runs the parts in order: the mounts
 * (mounts.c), the command (child.c), the work at exit (atexit.c). Exit
 * status: COMMAND's (its signal too); 125 for unionrun's own errors; 126
 * when COMMAND cannot be executed; 127 when it is not found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unionrun.h"

#define LIB_NAME "libunionshim.so"

static void usage(FILE *out)
{
	fprintf(out,
"usage: unionrun [OPTIONS] [--] COMMAND [ARG]...\n"
"\n"
"Run COMMAND (and all its children) in a union of directories, without\n"
"root: a writable upper dir over read-only lower dirs, seen at a target\n"
"path, as a kernel overlayfs mount would show them. Every write lands in\n"
"the upper dir; the lower dirs are never written.\n"
"\n"
"With no layer options, COMMAND runs in place over the current dir: it\n"
"sees the dir at its own path, its writes go to a fresh private temp dir,\n"
"and at exit one line says what changed and where the changes are kept.\n"
"\n"
"Layers:\n"
"  --lower DIR      a read-only layer; repeat it, topmost first\n"
"  --upper DIR      the writable layer (created if missing); without it\n"
"                   (and without --keep) the union is read-only: EROFS\n"
"  --work DIR       scratch dir on the upper's filesystem (created if\n"
"                   missing); required with --upper\n"
"  --at DIR         where the union is seen; default: the first lower\n"
"  -o OPTIONS       overlayfs-style options: lowerdir=A:B,upperdir=U,workdir=W\n"
"  --mount SPEC     one more union, in -o's grammar plus target=DIR:\n"
"                   lowerdir=A[:B...][,upperdir=U,workdir=W][,target=T];\n"
"                   target defaults to the first lowerdir, upper and work\n"
"                   to a private temp dir; repeat it for several unions\n"
"At exit (unionrun then waits for COMMAND):\n"
"  --diff[=FILE]    list the changes (A added, M changed, D deleted), on\n"
"                   stderr or into FILE (- for stdout)\n"
"  --commit         apply the changes to the lower (the topmost of\n"
"                   several, with whiteouts for what those below still\n"
"                   hold) when COMMAND exits 0; otherwise keep them\n"
"                   and say so\n"
"  --discard        delete the changes (the upper and work dirs)\n"
"  --keep DIR       keep the upper and work dirs unionrun makes under DIR\n"
"                   (DIR/upper, DIR/work; DIR/N/... for several unions);\n"
"                   run again with the same DIR to go on where it stopped\n"
"  -q, --quiet      no summary line\n"
"Other:\n"
"  --trace FILE     write every copy-up, whiteout, opaque dir and refused\n"
"                   write to FILE: pid, program, operation, path and a\n"
"                   backtrace whose frames read MODULE+0xOFFSET (for\n"
"                   addr2line -e MODULE 0xOFFSET)\n"
"  -C DIR           change to DIR (a path in the union) before running\n"
"  -h, --help       this text\n"
"\n"
"Examples:\n"
"  # build in place; the tree stays pristine; see what the build made\n"
"  cd ~/src/proj && unionrun --diff -- make\n"
"  # a CI job: test in a sandbox, keep its changes only if it passes\n"
"  unionrun --commit -- ./run-tests.sh\n"
"  # try something and throw its changes away\n"
"  unionrun --discard -- sh -c 'make clean && make'\n"
"  # keep the changes where you can find them, and go on later\n"
"  unionrun --keep ~/proj-changes -- make\n"
"  # your own layer dirs, the source tree in place\n"
"  unionrun --lower ~/src/proj --upper /tmp/up --work /tmp/wk -C ~/src/proj -- make\n"
"  # two unions: the source tree and the compiler cache\n"
"  unionrun --mount lowerdir=$PWD --mount lowerdir=$HOME/.cache -- make\n"
"  # a read-only view of two layers at another path\n"
"  unionrun --lower /srv/layer2 --lower /srv/layer1 --at /mnt/view -- ls /mnt/view\n"
"  # what in my build copied up 3 GB?\n"
"  unionrun --trace /tmp/trace.txt -- make; grep copy-up /tmp/trace.txt\n"
"\n"
"Exit status: COMMAND's (killed by a signal: unionrun dies of it too);\n"
"125 unionrun's own error; 126 COMMAND cannot be executed; 127 COMMAND\n"
"not found. The summary and list of changes come from unionctl, found\n"
"next to unionrun. See unionrun(1) and unionshim(7).\n");
}

/* libunionshim.so next to this program: build/ in the source tree, or
 * PREFIX/lib/unionshim/ after `make install`. */
static void find_library(char *out)
{
	char self[PATH_MAX];
	const char *env = getenv("UNIONSHIM_LIBRARY");
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, out))
			ur_die("UNIONSHIM_LIBRARY %s: %s", env, strerror(errno));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		ur_die("cannot find my own path: %s", strerror(errno));
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	const char *rel[] = {"/" LIB_NAME, "/../lib/unionshim/" LIB_NAME};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char cand[PATH_MAX];
		snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
		if (access(cand, R_OK) == 0 && realpath(cand, out))
			return;
	}
	ur_die("cannot find %s next to %s (set UNIONSHIM_LIBRARY)", LIB_NAME, self);
}

/* The trace file, made empty now and named by its absolute path. */
static const char *trace_file(const char *name)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char *abs = ur_alloc(PATH_MAX);

	if (fd < 0 || !realpath(name, abs))
		ur_die("--trace %s: %s", name, strerror(errno));
	close(fd);
	return abs;
}

/* The first mount, from --lower/--upper/--work/--at/-o (NULL: none). */
struct classic {
	struct strbuf lowers;
	const char *upper, *work, *at, *opts;
};

static void add_classic(struct ur_run *r, struct classic *c)
{
	struct strbuf spec = {0};

	if (!c->lowers.len && !c->upper && !c->work && !c->at && !c->opts)
		return;
	if (!!c->upper != !!c->work)
		ur_die("--upper and --work go together");
	if (c->at) {
		sb_add(&spec, "target=", 0);
		sb_add(&spec, c->at, 1);
	}
	if (c->lowers.len) {
		sb_add(&spec, ",lowerdir=", 0);
		sb_add(&spec, c->lowers.s, 0);
	}
	if (c->upper) {
		sb_add(&spec, ",upperdir=", 0);
		sb_add(&spec, c->upper, 1);
		sb_add(&spec, ",workdir=", 0);
		sb_add(&spec, c->work, 1);
	}
	if (c->opts) {
		sb_add(&spec, ",", 0);
		sb_add(&spec, c->opts, 0);
	}
	ur_add_mount(r, spec.s, r->o.keep != NULL);
	free(spec.s);
}

/* No layer options: in place over the current dir, upper made here. */
static void add_default(struct ur_run *r)
{
	char cwd[PATH_MAX];
	struct strbuf spec = {0};

	if (!getcwd(cwd, sizeof cwd))
		ur_die("cannot find the current dir: %s", strerror(errno));
	sb_add(&spec, "lowerdir=", 0);
	sb_add(&spec, cwd, 1);
	ur_add_mount(r, spec.s, 1);
	free(spec.s);
}

static void check_options(const struct ur_run *r)
{
	if (r->o.keep && r->o.discard)
		ur_die("--keep and --discard contradict each other");
	if (r->o.keep) {
		int any = 0;
		for (int k = 0; k < r->cfg.nmounts; k++)
			any |= r->m[k].want_upper;
		if (!any)
			ur_die("--keep names where unionrun keeps the upper it makes, "
			       "but every union has its own upperdir");
	}
}

int main(int argc, char **argv)
{
	enum { O_LOWER = 256, O_UPPER, O_WORK, O_AT, O_MOUNT, O_DIFF, O_COMMIT,
	       O_DISCARD, O_KEEP, O_TRACE };
	static const struct option longopts[] = {
		{"lower", required_argument, NULL, O_LOWER},
		{"upper", required_argument, NULL, O_UPPER},
		{"work", required_argument, NULL, O_WORK},
		{"at", required_argument, NULL, O_AT},
		{"mount", required_argument, NULL, O_MOUNT},
		{"diff", optional_argument, NULL, O_DIFF},
		{"commit", no_argument, NULL, O_COMMIT},
		{"discard", no_argument, NULL, O_DISCARD},
		{"keep", required_argument, NULL, O_KEEP},
		{"trace", required_argument, NULL, O_TRACE},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct ur_run r;
	struct classic c = {0};
	const char *mounts[US_MAX_MOUNTS], *trace = NULL;
	int nmounts = 0, opt;

	if (getenv(UR_STAGE2_ENV))
		return ur_stage2(argc, argv);
	while ((opt = getopt_long(argc, argv, "+o:C:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_LOWER:
			if (c.lowers.len)
				sb_add(&c.lowers, ":", 0);
			sb_add(&c.lowers, optarg, 1);
			break;
		case O_UPPER: c.upper = optarg; break;
		case O_WORK: c.work = optarg; break;
		case O_AT: c.at = optarg; break;
		case 'o': c.opts = optarg; break;
		case O_MOUNT:
			if (nmounts >= US_MAX_MOUNTS)
				ur_die("more than %d mounts", US_MAX_MOUNTS);
			mounts[nmounts++] = optarg;
			break;
		case O_DIFF: r.o.diff = 1; r.o.diff_file = optarg; break;
		case O_COMMIT: r.o.commit = 1; break;
		case O_DISCARD: r.o.discard = 1; break;
		case O_KEEP: r.o.keep = optarg; break;
		case O_TRACE: trace = optarg; break;
		case 'C': r.o.cdir = optarg; break;
		case 'q': r.o.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 125;
		}
	}
	if (optind >= argc)
		ur_die("no command given (see unionrun --help)");
	add_classic(&r, &c);
	for (int i = 0; i < nmounts; i++)
		ur_add_mount(&r, mounts[i], 1);
	if (r.cfg.nmounts == 0)
		add_default(&r);
	check_options(&r);
	find_library(r.lib);
	ur_prepare(&r);
	if (trace)
		r.o.trace = trace_file(trace);
	if (r.o.diff_file && strcmp(r.o.diff_file, "-") &&
	    (r.o.diff_fd = open(r.o.diff_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		ur_die("--diff %s: %s", r.o.diff_file, strerror(errno));
	argv[optind - 1] = argv[0];
	int status = ur_run_command(&r, argv + optind - 1);
	if (ur_report(&r, status) < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		exit(125);
	ur_exit_as(status);
}
