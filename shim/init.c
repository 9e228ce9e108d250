/* init.c: the constructor. Reads the configuration from the environment;
 * a configuration that is not understood whole stops the process with one
 * line on stderr and status 125 before main runs: running a program on a
 * half-understood union could write into a lower dir. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childenv.h"
#include "fdmap.h"
#include "forks.h"
#include "guard.h"
#include "state.h"
#include "trace.h"
#include "unionshim/copyup.h"
#include "unionshim/msgline.h"
#include "unionshim/shared.h"

int us_state = US_UNINIT;
__thread int us_inside __attribute__((tls_model("initial-exec")));
__thread int us_errno0 __attribute__((tls_model("initial-exec")));
__thread int us_errno_outer[US_MAX_NEST] __attribute__((tls_model("initial-exec")));
__thread unsigned us_held __attribute__((tls_model("initial-exec")));
struct us_config us_cfg;
char us_self_path[PATH_MAX];
char us_audit_path[PATH_MAX];
char *us_cfg_spec;
int us_allow_unfollowed;
int us_trace;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* WHAT may quote the spec (paths, option text): escaped, one line. */
static void die(const char *what)
{
	struct us_msg m;

	us_msg_start(&m, 2, "unionshim: ");
	us_msg_val(&m, what);
	us_msg_end(&m);
	_exit(125);
}

static void find_self(void)
{
	Dl_info info;

	if (dladdr((void *)us_init, &info) && info.dli_fname &&
	    US_REAL(realpath)(info.dli_fname, us_self_path))
		return;
	snprintf(us_self_path, PATH_MAX, "%s", info.dli_fname ? info.dli_fname : "libunionshim.so");
}

/* The audit library beside this one (children get it in LD_AUDIT), or "". */
static void find_audit(void)
{
	const char *slash = strrchr(us_self_path, '/');
	int n = slash ? (int)(slash - us_self_path) : 0;

	snprintf(us_audit_path, PATH_MAX, "%.*s/" US_AUDIT_LIB, n, us_self_path);
	if (!slash || US_REAL(access)(us_audit_path, R_OK) != 0)
		us_audit_path[0] = '\0';
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
	if (us_config_parse(spec, &us_cfg, err, sizeof err) < 0 ||
	    us_config_validate(&us_cfg, err, sizeof err) < 0)
		die(err);
	size_t cap = us_config_format_room(&us_cfg);
	us_cfg_spec = malloc(cap);
	if (!us_cfg_spec || us_config_format(&us_cfg, us_cfg_spec, cap) < 0)
		die("out of memory");
	us_forks_init();
	us_allow_unfollowed = us_allow_value(getenv(US_ENV_ALLOW));
	const char *trace = getenv(US_ENV_TRACE);
	us_trace = trace ? atoi(trace) : 0;
	find_self();
	us_trace_init();
	find_audit();
	us_sanrt_find();
	for (int k = 0; k < us_cfg.nmounts; k++) {
		const struct us_mount *m = &us_cfg.mounts[k];
		us_workdir_clean(m);
		if (us_shared_open(m) < 0) {
			snprintf(err, sizeof err, "work dir %s: cannot allocate #state: %s",
				 m->work, strerror(errno));
			die(err);
		}
	}
	us_cwd_init();
	us_fdmap_import();
	__atomic_store_n(&us_state, US_ACTIVE, __ATOMIC_RELEASE);
	us_inside--;
}

/* The constructor, or the first call that arrives before it: a program's
 * main starts with the errno it would have without the shim. */
void us_init(void)
{
	int saved = errno;

	pthread_once(&init_once, init_body);
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
