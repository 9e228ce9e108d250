/* child.c: running the command under the shim.
 *
 * Stage one (unionrun, outside any union) sets LD_PRELOAD (and LD_AUDIT,
 * when libunionshim-audit.so lies beside the library: the loader's own
 * searches go through the union too), UNIONSHIM_MOUNTS and the trace
 * switches, and re-executes itself: stage two runs under the shim, so -C
 * and the PATH search for the command see the union, then execs it.
 * Only the child gets that environment: unionrun itself, and the unionctl
 * it runs at exit, see the real layers. Stage one has validated the
 * configuration: stage two gets its record (UNIONSHIM_RESOLVED) and adopts
 * it, one stat per dir, and stage one does what a process that resolved
 * the configuration itself does at startup: it cleans the work dir of a
 * dead copier's temps and makes #state (a full upper stops it there, as
 * it would stop stage two).
 *
 * With nothing to do at exit stage one execs stage two in its own place;
 * otherwise it forks and waits. Signals sent to unionrun (kill, a CI
 * runner's SIGTERM) are passed on to the command; those the terminal sends
 * to its whole process group (Ctrl-C) reach the command by themselves and
 * are not sent twice. A command killed by a signal makes unionrun die of
 * the same signal, after its work at exit. */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unionrun.h"
#include "unionshim/copyup.h"
#include "unionshim/handover.h"
#include "unionshim/loaderdirs.h"
#include "unionshim/msgline.h"
#include "unionshim/shared.h"

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

/* The audit library beside LIB, when there is one, goes first in LD_AUDIT
 * (true then). */
static bool set_audit(const char *lib)
{
	char aud[PATH_MAX];
	const char *old = getenv("LD_AUDIT");
	struct strbuf b = {0};

	snprintf(aud, sizeof aud, "%.*s/libunionshim-audit.so",
		 (int)(strrchr(lib, '/') - lib), lib);
	if (access(aud, R_OK) != 0)
		return false;
	sb_add(&b, aud, 0);
	if (old && *old && !strstr(old, aud)) {
		sb_add(&b, ":", 0);
		sb_add(&b, old, 0);
	}
	setenv("LD_AUDIT", b.s, 1);
	free(b.s);
	return true;
}

/* The startup work of a process without a record, and the record for
 * stage two (followed by the library's tail, as the shim writes it:
 * init.c). */
static void hand_over(const struct ur_run *r, bool audit)
{
	for (int k = 0; k < r->cfg.nmounts; k++) {
		const struct us_mount *m = &r->cfg.mounts[k];
		if (!m->work)
			continue;
		us_workdir_clean(m);
		if (us_shared_open(m) < 0) {
			struct us_msg msg;
			char what[PATH_MAX + 128];
			snprintf(what, sizeof what,
				 "work dir %s: cannot allocate #state: %s", m->work,
				 strerror(errno));
			us_msg_start(&msg, 2, "unionshim: ");
			us_msg_val(&msg, what);
			us_msg_end(&msg);
			_exit(125);
		}
	}
	char *rec = us_handover_make(&r->cfg, r->spec);
	if (!rec)
		return; /* stage two validates in full */
	struct strbuf b = {0};
	char tail[US_HANDOVER_TAIL_MAX];
	struct us_handover_tail t = {
		.lib_hash = us_handover_hash(r->lib),
		.audit = audit ? 'a' : 'n',
		.loader = us_loader_dirs_meet(&r->cfg) ? 'l' : 'q'};
	us_handover_tail_write(tail, &t);
	sb_add(&b, rec, 0);
	sb_add(&b, tail, 0);
	setenv(US_ENV_RESOLVED, b.s, 1);
	free(b.s);
	free(rec);
}

/* Become stage two: the union's environment, then unionrun again. */
static void enter_union(struct ur_run *r, char **argv)
{
	struct strbuf stage = {0};

	setenv(US_ENV_MOUNTS, r->spec, 1);
	set_preload(r->lib);
	hand_over(r, set_audit(r->lib));
	if (r->o.trace) {
		setenv(US_ENV_TRACE, "2", 1);
		setenv(US_ENV_TRACE_FILE, r->o.trace, 1);
	}
	sb_add(&stage, r->o.cdir ? "C" : "-", 0);
	if (r->o.cdir)
		sb_add(&stage, r->o.cdir, 0);
	setenv(UR_STAGE2_ENV, stage.s, 1);
	free(stage.s);
	execv("/proc/self/exe", argv);
	ur_die("cannot re-execute myself: %s", strerror(errno));
}

int ur_stage2(int argc, char **argv)
{
	const char *dir = getenv(UR_STAGE2_ENV);

	if (dir[0] == 'C' && chdir(dir + 1) < 0)
		ur_die("-C %s: %s", dir + 1, strerror(errno));
	unsetenv(UR_STAGE2_ENV);
	if (argc < 2)
		ur_die("stage two without a command");
	execvp(argv[1], argv + 1);
	int err = errno;
	ur_warn("%s: %s", argv[1], strerror(err));
	return err == ENOENT ? 127 : 126;
}

int ur_waits(const struct ur_run *r)
{
	if (r->o.diff || r->o.commit || r->o.discard)
		return 1;
	for (int k = 0; k < r->cfg.nmounts; k++)
		if (r->m[k].own != UR_USER)
			return 1;
	return 0;
}

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
				SIGUSR2, SIGALRM, SIGWINCH, SIGCONT};
static volatile pid_t child;

static void forward(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	/* the terminal's signals went to the command's group already */
	if (info->si_code != SI_KERNEL && child > 0)
		kill(child, sig);
}

static void set_handlers(int install)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = forward;
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
		if (!install)
			sa.sa_handler = SIG_DFL, sa.sa_flags = 0;
		sigaction(forwarded[i], &sa, NULL);
	}
}

int ur_run_command(struct ur_run *r, char **argv)
{
	sigset_t all, old;
	int status;

	ur_undo_forget();
	if (!ur_waits(r))
		enter_union(r, argv);
	fflush(NULL);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	set_handlers(1);
	pid_t pid = fork();
	if (pid == 0) {
		set_handlers(0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		enter_union(r, argv);
	}
	if (pid < 0)
		ur_die("cannot fork: %s", strerror(errno));
	child = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			ur_die("waiting for the command: %s", strerror(errno));
	child = 0;
	set_handlers(0); /* Ctrl-C during a commit stops unionrun too */
	return status;
}

void ur_exit_as(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit none = {0, 0};
		sigset_t one;
		/* the command dumped its core, if any; unionrun does not */
		setrlimit(RLIMIT_CORE, &none);
		signal(sig, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		raise(sig);
		exit(128 + sig);
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}
