/* init.c: the constructor. Reads the configuration from the environment;
 * a configuration that is not understood whole stops the process with one
 * line on stderr and status 125 before main runs: running a program on a
 * half-understood union could write into a lower dir. */
#include <dlfcn.h>
#include <inttypes.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "childenv.h"
#include "coreguard.h"
#include "fdmap.h"
#include "forks.h"
#include "guard.h"
#include "state.h"
#include "trace.h"
#include "unionshim/copyup.h"
#include "unionshim/handover.h"
#include "loaderquiet.h"
#include "prebind.h"
#include "unionshim/msgline.h"
#include "unionshim/shared.h"
#include "unionshim/startdata.h"
#include "unionshim/ownalloc.h"

int us_state = US_UNINIT;
__thread int us_inside __attribute__((tls_model("initial-exec")));
__thread int us_errno0 __attribute__((tls_model("initial-exec")));
__thread int us_errno_outer[US_MAX_NEST] __attribute__((tls_model("initial-exec")));
__thread unsigned us_held __attribute__((tls_model("initial-exec")));
struct us_config us_cfg;
US_START_DATA const char *us_self_path = "";
US_START_DATA const char *us_audit_path = "";
US_START_DATA char *us_cfg_spec;
US_START_DATA char *us_cfg_handover;
US_START_DATA int us_allow_unfollowed;
US_START_DATA int us_trace;

/* init_body's once: pthread_once's futex wake is a system call in every
 * process; ours wakes only a thread that waited. */
enum { INIT_IDLE, INIT_RUNNING, INIT_WAITED, INIT_DONE };
US_START_DATA static int init_word = INIT_IDLE;

/* WHAT may quote the spec (paths, option text): escaped, one line. */
static void die(const char *what)
{
	struct us_msg m;

	us_msg_start(&m, 2, "unionshim: ");
	us_msg_val(&m, what);
	us_msg_end(&m);
	_exit(125);
}

/* The audit library's name beside this one into us_audit_path ("" when
 * it does not fit); false when our path has no dir. No snprintf: the
 * pages of libc's printf are not touched in every exec. */
static bool audit_beside(void)
{
	const char *slash = strrchr(us_self_path, '/');
	size_t n = slash ? (size_t)(slash - us_self_path) + 1 : 0;
	char *path;

	us_audit_path = "";
	if (!slash || n + sizeof US_AUDIT_LIB > PATH_MAX ||
	    !(path = us_own_malloc(n + sizeof US_AUDIT_LIB)))
		return false;
	memcpy(path, us_self_path, n);
	memcpy(path + n, US_AUDIT_LIB, sizeof US_AUDIT_LIB);
	us_audit_path = path;
	return true;
}

/* The audit library beside this one (children get it in LD_AUDIT), or "". */
static void find_audit(void)
{
	if (audit_beside() && US_REAL(access)(us_audit_path, R_OK) != 0)
		us_audit_path = "";
}

/* This library's canonical path and the audit library beside it: from
 * the handover's TAIL (" HASH:aq", the hash of our path, then 'a' when the
 * audit library was there, else 'n', then loaderquiet.h's letter) when
 * ld.so loaded us by the name our parent wrote, else found out. */
/* The name ld.so loaded this library by (dladdr's dli_fname): without a
 * symbol search where glibc can tell (dladdr costs ~8,000 instructions). */
static const char *loaded_name(void)
{
#if __GLIBC_PREREQ(2, 35)
	struct dl_find_object found;
	if (_dl_find_object((void *)us_init, &found) == 0 && found.dlfo_link_map &&
	    found.dlfo_link_map->l_name && found.dlfo_link_map->l_name[0])
		return found.dlfo_link_map->l_name;
#endif
	Dl_info info;
	return dladdr((void *)us_init, &info) ? info.dli_fname : NULL;
}

static void find_self(const char *tail)
{
	const char *name = loaded_name();
	struct us_handover_tail t = {.audit = 0};
	bool told = us_handover_tail_read(tail, &t);

	us_loader_settle(told ? t.loader : 0);

	if (!name) {
		us_self_path = "libunionshim.so";
		return;
	}
	/* the loader's name lives as long as the library: no copy */
	if (told && t.lib_hash == us_handover_hash(name) && name[0] == '/' &&
	    strlen(name) < PATH_MAX) {
		us_self_path = name;
		if (t.audit == 'a')
			audit_beside();
		return;
	}
	US_SCRATCH_SCOPE;
	char *buf = us_scratch_push(PATH_MAX), *canon;
	us_self_path = buf && US_REAL(realpath)(name, buf) &&
			       (canon = us_own_strdup(buf))
			       ? canon
			       : name;
	find_audit();
}

/* UNIONSHIM_RESOLVED for our children: the record of our configuration
 * (REC itself when we adopted it for the same text) and our own tail. */
static void make_handover(const char *spec, const char *rec, int adopted)
{
	char *core = adopted && strcmp(spec, us_cfg_spec) == 0
			     ? us_own_strndup(rec, (size_t)(strchrnul(rec, ' ') - rec))
			     : us_handover_make(&us_cfg, us_cfg_spec);

	if (!core)
		return;
	size_t n = strlen(core);
	us_cfg_handover = us_own_malloc(n + US_HANDOVER_TAIL_MAX);
	if (us_cfg_handover) {
		struct us_handover_tail t = {
			.lib_hash = us_handover_hash(us_self_path),
			.audit = us_audit_path[0] ? 'a' : 'n',
			.loader = us_loader_letter()};
		memcpy(us_cfg_handover, core, n);
		us_handover_tail_write(us_cfg_handover + n, &t);
	}
	us_own_free(core);
}

static void init_body(void)
{
	char err[512];
	const char *spec = getenv(US_ENV_MOUNTS);

	us_inside++;
	us_resolve_all();
	if (!spec || !*spec) {
		__atomic_store_n(&us_state, US_INERT, __ATOMIC_RELEASE);
		us_inside--;
		return;
	}
	const char *rec = getenv(US_ENV_RESOLVED);
	int adopted = us_config_load(spec, rec, &us_cfg, err, sizeof err);
	if (adopted < 0)
		die(err);
	size_t cap = us_config_format_room(&us_cfg);
	us_cfg_spec = us_own_malloc(cap);
	if (!us_cfg_spec || us_config_format(&us_cfg, us_cfg_spec, cap) < 0)
		die("out of memory");
	us_forks_init();
	us_allow_unfollowed = us_allow_value(getenv(US_ENV_ALLOW));
	const char *trace = getenv(US_ENV_TRACE);
	us_trace = trace ? atoi(trace) : 0;
	find_self(adopted ? strchr(rec, ' ') : NULL);
	make_handover(spec, rec, adopted);
	us_trace_init();
	us_sanrt_find();
	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		/* an adopted child cleans before its first copy-up (copyup.h)
		 * and maps #state, which its parent made, on first use */
		if (adopted)
			continue;
		us_workdir_clean(m);
		if (us_shared_open(m) < 0) {
			snprintf(err, sizeof err, "work dir %s: cannot allocate #state: %s",
				 m->work, strerror(errno));
			die(err);
		}
	}
	us_cwd_init();
	us_core_init();
	us_fdmap_import();
	us_prebind(); /* on this stack, not a small thread's */
	__atomic_store_n(&us_state, US_ACTIVE, __ATOMIC_RELEASE);
	us_inside--;
}

/* The constructor, or the first call that arrives before it: a program's
 * main starts with the errno it would have without the shim. */
void us_init(void)
{
	int saved = errno;
	int s = INIT_IDLE; /* a write first: one page fault, not two */

	if (__atomic_compare_exchange_n(&init_word, &s, INIT_RUNNING, false,
					__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		init_body();
		if (__atomic_exchange_n(&init_word, INIT_DONE, __ATOMIC_RELEASE) ==
		    INIT_WAITED)
			US_REAL(syscall)(SYS_futex, &init_word, FUTEX_WAKE_PRIVATE,
					 INT_MAX, NULL, NULL, 0);
		s = INIT_DONE;
	}
	while (s != INIT_DONE) { /* another thread runs it: wait for it */
		if (s == INIT_RUNNING)
			__atomic_compare_exchange_n(&init_word, &s, INIT_WAITED, false,
						    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
		if (s != INIT_DONE)
			US_REAL(syscall)(SYS_futex, &init_word, FUTEX_WAIT_PRIVATE,
					 INIT_WAITED, NULL, NULL, 0);
		s = __atomic_load_n(&init_word, __ATOMIC_ACQUIRE);
	}
	errno = saved;
}

bool us_begin_slow(void)
{
	if (us_inside) { /* a signal handler (guard.h) */
		if (us_state != US_ACTIVE || (us_held & ~US_NEST_OK_HELD) ||
		    us_inside >= US_MAX_NEST)
			return false;
		us_errno_outer[us_inside++] = us_errno0;
		us_errno0 = errno;
		return true;
	}
	if (__atomic_load_n(&us_state, __ATOMIC_ACQUIRE) == US_UNINIT)
		us_init();
	if (us_state != US_ACTIVE)
		return false;
	us_inside = 1;
	us_errno0 = errno;
	return true;
}

__attribute__((constructor)) static void us_constructor(void)
{
	us_init();
}
