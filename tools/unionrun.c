/* unionrun: run one command in a union.
 *
 *   unionrun [--lower DIR]... [--upper DIR --work DIR] [--at DIR]
 *            [-o OPTIONS] [-C DIR] [--] COMMAND [ARG]...
 *
 * Stage one (this process, outside any union) checks the configuration
 * with the same core the library uses, finds libunionshim.so next to
 * itself, and re-executes itself with LD_PRELOAD set (and LD_AUDIT, when
 * libunionshim-audit.so lies beside it: the loader's own searches for
 * libraries then go through the union too). Stage two runs under
 * the shim, so chdir and the PATH search for COMMAND see the union, then
 * execs COMMAND. Exit status: COMMAND's; 125 for unionrun's own errors;
 * 126 when COMMAND cannot be executed; 127 when it is not found. */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unionshim/config.h"
#include "unionshim/msgline.h"

#define STAGE2_ENV "UNIONRUN_STAGE2"
#define LIB_NAME "libunionshim.so"

static void usage(FILE *out)
{
	fprintf(out,
"usage: unionrun [--lower DIR]... [--upper DIR --work DIR] [--at DIR]\n"
"                [-o OPTIONS] [-C DIR] [--] COMMAND [ARG]...\n"
"\n"
"Run COMMAND (and all its children) in a union of directories, without\n"
"root: DIR of --at shows the --upper dir over the --lower dirs, as a\n"
"kernel overlayfs mount would, and every write lands in --upper.\n"
"\n"
"  --lower DIR   a read-only layer; repeat it, topmost first\n"
"  --upper DIR   the writable layer (created if missing)\n"
"  --work DIR    private scratch dir on the upper's filesystem (created\n"
"                if missing); required with --upper\n"
"  --at DIR      where the union is seen; default: the first --lower\n"
"                (in place: the tree keeps its path, stays pristine)\n"
"  -o OPTIONS    overlayfs-style options: lowerdir=A:B,upperdir=U,workdir=W\n"
"  -C DIR        change to DIR (a path in the union) before running\n"
"  -h, --help    this text\n"
"\n"
"Without --upper the union is read-only: writes fail with EROFS.\n"
"\n"
"Examples:\n"
"  # build in place; the source tree stays pristine, outputs go to /tmp/up\n"
"  unionrun --lower ~/src/proj --upper /tmp/up --work /tmp/wk -C ~/src/proj -- make\n"
"  # look at a tree through a read-only union at another path\n"
"  unionrun --lower /srv/layer2 --lower /srv/layer1 --at /mnt/view -- ls -la /mnt/view\n"
"  # the same with overlayfs options\n"
"  unionrun -o lowerdir=/srv/layer2:/srv/layer1 --at /mnt/view -- find /mnt/view\n"
"\n"
"Exit status: COMMAND's; 125 unionrun's own error; 126 COMMAND cannot be\n"
"executed; 127 COMMAND not found.\n");
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* One line, whatever the paths in it hold (see msgline.h). */
static void say(const char *fmt, va_list ap)
{
	char *text = NULL;
	struct us_msg m;

	us_msg_start(&m, 2, "unionrun: ");
	if (vasprintf(&text, fmt, ap) < 0)
		us_msg_raw(&m, "out of memory");
	else
		us_msg_val(&m, text);
	us_msg_end(&m);
	free(text);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	exit(125);
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

struct strbuf {
	char *s;
	size_t len, cap;
};

/* Append S; ESCAPE puts a backslash before the spec grammar's separators. */
static void sb_add(struct strbuf *b, const char *s, int escape)
{
	for (; *s; s++) {
		if (b->len + 3 > b->cap) {
			b->cap = b->cap ? b->cap * 2 : 256;
			b->s = realloc(b->s, b->cap);
			if (!b->s)
				die("out of memory");
		}
		if (escape && strchr(",:;\\", *s))
			b->s[b->len++] = '\\';
		b->s[b->len++] = *s;
		b->s[b->len] = '\0';
	}
}

/* The dirs unionrun made, removed again when a later step fails. */
static const char *made[2];
static int nmade;

static void unmake(void)
{
	while (nmade > 0)
		rmdir(made[--nmade]);
}

/* Create DIR (a validated --upper or --work) if it does not exist. */
static void ensure_dir(const char *what, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return;
	if (errno != ENOENT || mkdir(dir, 0755) < 0) {
		int err = errno;
		unmake();
		die("%s %s: %s", what, dir, strerror(err));
	}
	made[nmade++] = dir;
}

/* libunionshim.so next to this program: build/ in the source tree, or
 * PREFIX/lib/unionshim/ after `make install`. */
static void find_library(char *out, size_t len)
{
	char self[PATH_MAX];
	const char *env = getenv("UNIONSHIM_LIBRARY");
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, out))
			die("UNIONSHIM_LIBRARY %s: %s", env, strerror(errno));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die("cannot find my own path: %s", strerror(errno));
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	const char *rel[] = {"/" LIB_NAME, "/../lib/unionshim/" LIB_NAME};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char cand[PATH_MAX];
		snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
		if (access(cand, R_OK) == 0 && realpath(cand, out))
			return;
	}
	(void)len;
	die("cannot find %s next to %s (set UNIONSHIM_LIBRARY)", LIB_NAME, self);
}

/* A sanitizer build (make SANITIZE=1 or TSAN=1) preloads a library that
 * needs the sanitizer runtime loaded first: ours, the one it was built with. */
#if defined(__SANITIZE_ADDRESS__)
extern void __asan_init(void);
#define SANRT_SYMBOL ((void *)__asan_init)
#elif defined(__SANITIZE_THREAD__)
extern void __tsan_init(void);
#define SANRT_SYMBOL ((void *)__tsan_init)
#endif

static void add_sanitizer_runtime(struct strbuf *b)
{
#ifdef SANRT_SYMBOL
	Dl_info info;
	char rt[PATH_MAX];

	if (dladdr(SANRT_SYMBOL, &info) && info.dli_fname &&
	    realpath(info.dli_fname, rt)) {
		sb_add(b, rt, 0);
		sb_add(b, ":", 0);
	}
#else
	(void)b;
#endif
}

static void set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	struct strbuf b = {0};

	add_sanitizer_runtime(&b);
	sb_add(&b, lib, 0);
	if (old && *old && !strstr(old, lib)) {
		sb_add(&b, ":", 0);
		sb_add(&b, old, 0);
	}
	setenv("LD_PRELOAD", b.s, 1);
	free(b.s);
}

/* The audit library beside LIB, when there is one, goes first in LD_AUDIT. */
static void set_audit(const char *lib)
{
	char aud[PATH_MAX];
	const char *old = getenv("LD_AUDIT");
	struct strbuf b = {0};

	snprintf(aud, sizeof aud, "%.*s/libunionshim-audit.so",
		 (int)(strrchr(lib, '/') - lib), lib);
	if (access(aud, R_OK) != 0)
		return;
	sb_add(&b, aud, 0);
	if (old && *old && !strstr(old, aud)) {
		sb_add(&b, ":", 0);
		sb_add(&b, old, 0);
	}
	setenv("LD_AUDIT", b.s, 1);
	free(b.s);
}

/* Stage two: under the shim now. */
static int stage2(int argc, char **argv)
{
	const char *dir = getenv(STAGE2_ENV);

	if (dir[0] == 'C' && chdir(dir + 1) < 0)
		die("-C %s: %s", dir + 1, strerror(errno));
	unsetenv(STAGE2_ENV);
	if (argc < 2)
		die("stage two without a command");
	execvp(argv[1], argv + 1);
	int err = errno;
	warn("%s: %s", argv[1], strerror(err));
	return err == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"lower", required_argument, NULL, 'l'},
		{"upper", required_argument, NULL, 'u'},
		{"work", required_argument, NULL, 'w'},
		{"at", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct strbuf lowers = {0}, spec = {0};
	const char *upper = NULL, *work = NULL, *at = NULL, *opts = NULL,
		   *cdir = NULL, *first_lower = NULL;
	int c;

	if (getenv(STAGE2_ENV))
		return stage2(argc, argv);
	while ((c = getopt_long(argc, argv, "+o:C:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (lowers.len)
				sb_add(&lowers, ":", 0);
			sb_add(&lowers, optarg, 1);
			if (!first_lower)
				first_lower = optarg;
			break;
		case 'u': upper = optarg; break;
		case 'w': work = optarg; break;
		case 'a': at = optarg; break;
		case 'o': opts = optarg; break;
		case 'C': cdir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 125;
		}
	}
	if (optind >= argc)
		die("no command given (see unionrun --help)");
	if (!!upper != !!work)
		die("--upper and --work go together");

	/* One mount in the library's own grammar; the core checks it. */
	struct us_config cfg;
	char err[512];
	sb_add(&spec, "target=", 0);
	sb_add(&spec, at ? at : first_lower ? first_lower : "/", at || first_lower);
	if (lowers.len) {
		sb_add(&spec, ",lowerdir=", 0);
		sb_add(&spec, lowers.s, 0);
	}
	if (upper) {
		sb_add(&spec, ",upperdir=", 0);
		sb_add(&spec, upper, 1);
		sb_add(&spec, ",workdir=", 0);
		sb_add(&spec, work, 1);
	}
	if (opts) {
		sb_add(&spec, ",", 0);
		sb_add(&spec, opts, 0);
	}
	if (us_config_parse(spec.s, &cfg, err, sizeof err) < 0)
		die("%s", err);
	if (!at && !first_lower) { /* lowerdir came from -o: in place */
		free(cfg.mounts[0].target);
		cfg.mounts[0].target = strdup(cfg.mounts[0].layers[cfg.mounts[0].has_upper].path);
	}
	/* everything is checked before --upper and --work are created */
	if ((upper ? us_config_validate_planned : us_config_validate)(
		    &cfg, err, sizeof err) < 0)
		die("%s", err);
	char lib[PATH_MAX];
	size_t room = us_config_format_room(&cfg);
	char *formatted = malloc(room);
	if (!formatted || us_config_format(&cfg, formatted, room) < 0)
		die("out of memory");
	find_library(lib, sizeof lib);
	if (upper) {
		struct us_mount *m = &cfg.mounts[0];
		ensure_dir("--upper", m->layers[0].path);
		ensure_dir("--work", m->work);
		if (nmade && us_config_validate(&cfg, err, sizeof err) < 0) {
			unmake();
			die("%s", err);
		}
	}

	setenv(US_ENV_MOUNTS, formatted, 1);
	set_preload(lib);
	set_audit(lib);
	struct strbuf stage = {0};
	sb_add(&stage, cdir ? "C" : "-", 0);
	if (cdir)
		sb_add(&stage, cdir, 0);
	setenv(STAGE2_ENV, stage.s, 1);
	argv[optind - 1] = argv[0];
	execv("/proc/self/exe", argv + optind - 1);
	int exec_err = errno;
	unmake();
	die("cannot re-execute myself: %s", strerror(exec_err));
}
