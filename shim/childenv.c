/* childenv.c: build a child's environment (see childenv.h).
 *
 * What the program passes is kept, except that LD_PRELOAD always names
 * this library, LD_AUDIT the audit library beside it (when there is one:
 * the loader's own searches go through the union), UNIONSHIM_MOUNTS always names mounts (the program's own
 * value wins: a nested union tool may set it), UNIONSHIM_CWD is the
 * child's virtual cwd (a union dir, or a layer's own real dir) or absent,
 * UNIONSHIM_RESOLVED our resolved configuration when the child gets our
 * mounts (handover.h; a program's own value is dropped), and the switches read at startup come
 * back when the program dropped them: `env -i` and clearenv() must not
 * take a child out of the union. A child given the audit module whose
 * libraries take static TLS gets a loader reserve for it in
 * GLIBC_TUNABLES (tls_reserve). A sanitizer build's runtime stays first
 * in LD_PRELOAD (sanrt.c). The array and every string added live in
 * one block the caller provides. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "childenv.h"
#include "coreguard.h"
#include "fdmap.h"
#include "state.h"
#include "unionshim/handover.h"
#include "trace.h"
#include "unionshim/lookup.h"
#include "unionshim/scratch.h"

#define LD_PRELOAD "LD_PRELOAD"
#define LD_AUDIT "LD_AUDIT"
#define TUNABLES "GLIBC_TUNABLES"
#define STATIC_TLS "glibc.rtld.optional_static_tls"
/* entries us_childenv_fill may add: LD_PRELOAD, LD_AUDIT, the mounts, the
 * cwd, the two switches, the trace file, the fd map, the resolved
 * configuration, the held core limit, the static TLS reserve */
#define CHILDENV_ADDED 11

static int named(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* The value of NAME in ENVP (the first, as getenv), or NULL. */
static const char *value_of(char *const envp[], const char *name)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (named(envp[i], name))
			return envp[i] + strlen(name) + 1;
	return NULL;
}

/* Does LIST (split at SEP) name LIB? ld.so splits LD_PRELOAD at ':' and
 * ' ', LD_AUDIT at ':'. */
static int lists(const char *list, const char *sep, const char *lib)
{
	size_t n = strlen(lib);

	for (const char *p = list; *p;) {
		size_t w = strcspn(p, sep);
		if (w == n && memcmp(p, lib, n) == 0)
			return 1;
		p += w + (p[w] != '\0');
	}
	return 0;
}

/* Does LIST (split at SEP) begin with LIB? */
static int first_is(const char *list, const char *sep, const char *lib)
{
	size_t n = strlen(lib);

	list += strspn(list, sep);
	return strncmp(list, lib, n) == 0 && (!list[n] || strchr(sep, list[n]));
}

static int add_allow(const struct us_childenv *ce)
{
	return us_allow_unfollowed && !value_of(ce->envp, US_ENV_ALLOW);
}

int us_allow_value(const char *v)
{
	return v && *v && strcmp(v, "0") != 0;
}

/* What the child will find: ENVP's own value, or ours put back. */
int us_childenv_allows_unfollowed(char *const envp[])
{
	const char *v = value_of(envp, US_ENV_ALLOW);

	return v ? us_allow_value(v) : us_allow_unfollowed;
}

static int add_trace(const struct us_childenv *ce)
{
	return us_trace && !value_of(ce->envp, US_ENV_TRACE);
}

static int add_trace_file(const struct us_childenv *ce)
{
	return us_trace_path[0] && !value_of(ce->envp, US_ENV_TRACE_FILE);
}

/* A real cwd inside a layer (a lower's own path) is passed on too: the
 * child would otherwise read it back as the union dir at that place. */
static bool in_layer(const char *cwd)
{
	for (int k = 0; k < us_cfg.nmounts; k++)
		if (us_layer_of(&us_cfg.mounts[k], cwd) >= 0)
			return true;
	return false;
}

void us_childenv_prepare(struct us_childenv *ce, char *const envp[],
			 const char *cwd)
{
	us_childenv_prepare_ops(ce, envp, cwd, NULL, 0);
}

void us_childenv_prepare_ops(struct us_childenv *ce, char *const envp[],
			     const char *cwd, const struct us_fdop *ops,
			     int nops)
{
	ce->envp = envp;
	ce->pre = value_of(envp, LD_PRELOAD);
	if (ce->pre && !*ce->pre)
		ce->pre = NULL;
	ce->self = ce->pre && lists(ce->pre, ": ", us_self_path);
	ce->rt = us_sanrt_path[0] &&
			 !(ce->self && first_is(ce->pre, ": ", us_sanrt_path))
		 ? us_sanrt_path
		 : "";
	ce->aud = value_of(envp, LD_AUDIT);
	if (ce->aud && !*ce->aud)
		ce->aud = NULL;
	ce->aud_self = ce->aud && lists(ce->aud, ":", us_audit_path);
	ce->no_audit = false;
	ce->static_tls = 0;
	ce->tunables = value_of(envp, TUNABLES);
	ce->mounts = value_of(envp, US_ENV_MOUNTS);
	if (!ce->mounts || !*ce->mounts)
		ce->mounts = us_cfg_spec ? us_cfg_spec : "";
	/* our resolved configuration, for a child that gets our mounts */
	ce->resolved = us_cfg_handover && us_cfg_spec &&
				       strcmp(ce->mounts, us_cfg_spec) == 0
			       ? us_cfg_handover
			       : NULL;
	if (!cwd) {
		if (us_cwd_get(ce->vcwd, sizeof ce->vcwd) < 0)
			ce->vcwd[0] = '\0';
		cwd = ce->vcwd;
	}
	ce->cwd = us_mount_of(&us_cfg, cwd) || in_layer(cwd) ? cwd : NULL;
	snprintf(ce->trace, sizeof ce->trace, "%d", us_trace);
	us_core_env(ce->core, sizeof ce->core);
	us_fdmap_export(ce->fdmap, sizeof ce->fdmap, ops, nops);
	for (ce->n = 0; envp && envp[ce->n]; ce->n++)
		;

	size_t strs = sizeof LD_PRELOAD + strlen(ce->rt) + 1 +
		      strlen(us_self_path) + 1 +
		      (ce->pre ? strlen(ce->pre) : 0) + 1;
	strs += sizeof US_ENV_MOUNTS + strlen(ce->mounts) + 1;
	if (ce->resolved)
		strs += sizeof US_ENV_RESOLVED + strlen(ce->resolved) + 1;
	strs += sizeof LD_AUDIT + strlen(us_audit_path) + 1 +
		(ce->aud ? strlen(ce->aud) : 0) + 1;
	if (ce->cwd)
		strs += sizeof US_ENV_CWD + strlen(ce->cwd) + 1;
	strs += sizeof US_ENV_ALLOW + 2 + sizeof US_ENV_TRACE + sizeof ce->trace;
	strs += sizeof US_ENV_TRACE_FILE + strlen(us_trace_path) + 1;
	strs += sizeof US_ENV_FDMAP + strlen(ce->fdmap) + 1;
	strs += sizeof US_ENV_CORE + strlen(ce->core) + 1;
	strs += sizeof TUNABLES + (ce->tunables ? strlen(ce->tunables) : 0) +
		1 + sizeof STATIC_TLS + 24;
	ce->size = (ce->n + CHILDENV_ADDED + 1) * sizeof(char *) + strs;
	ce->size = (ce->size + 15) & ~(size_t)15;
}

/* Write "NAME=A" B C at *CUR; returns the string. */
static char *put(char **cur, const char *name, const char *a, const char *b,
		 const char *c)
{
	char *s = *cur;
	size_t room = strlen(name) + strlen(a) + strlen(b) + strlen(c) + 2;
	int n = snprintf(s, room, "%s=%s%s%s", name, a, b, c); /* sized by prepare */
	*cur += n + 1;
	return s;
}

/* LD_PRELOAD: [runtime:]this library[:the program's], or the program's
 * own list when it names this library (and the runtime first). */
static char *put_preload(char **cur, const struct us_childenv *ce)
{
	const char *rt_sep = ce->rt[0] ? ":" : "";
	char *s = *cur;
	/* sized by prepare: at most this */
	size_t room = sizeof LD_PRELOAD + strlen(ce->rt) + 1 + strlen(us_self_path) +
		      1 + (ce->pre ? strlen(ce->pre) : 0) + 1;

	if (ce->self)
		*cur += snprintf(*cur, room, "%s=%s%s%s", LD_PRELOAD, ce->rt, rt_sep,
				 ce->pre) + 1;
	else
		*cur += snprintf(*cur, room, "%s=%s%s%s%s%s", LD_PRELOAD, ce->rt,
				 rt_sep, us_self_path, ce->pre ? ":" : "",
				 ce->pre ? ce->pre : "") + 1;
	return s;
}

/* With the audit module, the loader sets the static TLS out before it
 * maps the program's libraries, which must then fit in its reserve
 * (1-2 KiB unless told): a child whose libraries take more (rustc's
 * driver, 24 KiB) gets a reserve that holds them and 4 KiB more (the
 * library's own and libc's), unless its GLIBC_TUNABLES sets one. 0 when
 * nothing is to be said. */
static size_t tls_reserve(const struct us_childenv *ce)
{
	if (ce->no_audit || !us_audit_path[0] || !ce->static_tls ||
	    (ce->tunables && strstr(ce->tunables, STATIC_TLS "=")))
		return 0;
	return (ce->static_tls + 4096 + 1023) & ~(size_t)1023;
}

char **us_childenv_fill(const struct us_childenv *ce, void *mem)
{
	char **env = mem, *cur = (char *)(env + ce->n + CHILDENV_ADDED + 1);
	size_t k = 0, reserve = tls_reserve(ce);

	for (size_t i = 0; i < ce->n; i++)
		if (!named(ce->envp[i], LD_PRELOAD) &&
		    !(reserve && named(ce->envp[i], TUNABLES)) &&
		    !(us_audit_path[0] && named(ce->envp[i], LD_AUDIT)) &&
		    !named(ce->envp[i], US_ENV_MOUNTS) &&
		    !named(ce->envp[i], US_ENV_RESOLVED) &&
		    !named(ce->envp[i], US_ENV_CWD) &&
		    !named(ce->envp[i], US_ENV_FDMAP) &&
		    !named(ce->envp[i], US_ENV_CORE))
			env[k++] = ce->envp[i];
	env[k++] = put_preload(&cur, ce);
	if (ce->no_audit)
		; /* (it lists no auditor but ours: loaderquiet.c) */
	else if (ce->aud_self)
		env[k++] = put(&cur, LD_AUDIT, ce->aud, "", "");
	else if (us_audit_path[0])
		env[k++] = put(&cur, LD_AUDIT, us_audit_path,
			       ce->aud ? ":" : "", ce->aud ? ce->aud : "");
	env[k++] = put(&cur, US_ENV_MOUNTS, ce->mounts, "", "");
	if (ce->resolved)
		env[k++] = put(&cur, US_ENV_RESOLVED, ce->resolved, "", "");
	if (ce->cwd)
		env[k++] = put(&cur, US_ENV_CWD, ce->cwd, "", "");
	if (add_allow(ce))
		env[k++] = put(&cur, US_ENV_ALLOW, "1", "", "");
	if (add_trace(ce))
		env[k++] = put(&cur, US_ENV_TRACE, ce->trace, "", "");
	if (add_trace_file(ce))
		env[k++] = put(&cur, US_ENV_TRACE_FILE, us_trace_path, "", "");
	if (ce->fdmap[0])
		env[k++] = put(&cur, US_ENV_FDMAP, ce->fdmap, "", "");
	if (ce->core[0])
		env[k++] = put(&cur, US_ENV_CORE, ce->core, "", "");
	if (reserve) {
		char v[sizeof STATIC_TLS + 24];
		snprintf(v, sizeof v, STATIC_TLS "=%zu", reserve);
		env[k++] = ce->tunables && *ce->tunables
				   ? put(&cur, TUNABLES, ce->tunables, ":", v)
				   : put(&cur, TUNABLES, v, "", "");
	}
	env[k] = NULL;
	return env;
}

char **us_childenv(char *const envp[], const char *cwd)
{
	US_SCRATCH_SCOPE;
	struct us_childenv *ce = us_scratch_push(sizeof *ce);

	if (!ce)
		return NULL;
	us_childenv_prepare(ce, envp, cwd);
	void *mem = malloc(ce->size);
	if (!mem) {
		errno = ENOMEM;
		return NULL;
	}
	return us_childenv_fill(ce, mem);
}
