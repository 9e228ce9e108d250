/* loaderquiet.c: does a child's loader need the audit module? (see
 * loaderquiet.h)
 *
 * The module costs every exec a second link namespace, five mappings and
 * a dozen page faults (~100 us here, a third of what the shim adds to an
 * exec). A child whose loader can only open system libraries goes
 * without it: its program needs glibc alone, has no search path or
 * auditor of its own and cannot name a library at run time
 * (us_exec_glibc_only), lies outside every union and layer, its
 * environment names no library path that meets a union, and no preload,
 * auditor or gconv path of its own, and no union's target or layer meets a dir the system's
 * search covers (loaderdirs.h; settled once, and handed to children in
 * the handover's tail). Anything else, or anything unsure, keeps the
 * module. The child's own children are decided by its shim again. */
#include <fcntl.h>
#include <string.h>

#include "loaderquiet.h"
#include "state.h"
#include "unionshim/loaderdirs.h"
#include "unionshim/lookup.h"
#include "unionshim/scratch.h"

static bool near_sys = true; /* until settled: the module, always */

void us_loader_settle(char inherited)
{
	if (inherited == 'q' || inherited == 'l')
		near_sys = inherited == 'l';
	else
		near_sys = us_loader_dirs_meet(&us_cfg);
}

char us_loader_letter(void)
{
	return near_sys ? 'l' : 'q';
}

/* The value of NAME in ENVP, or NULL. */
static const char *env_value(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* Does LIST (split at any of SEP) name a library other than OURS and
 * OURS2 (either may be "")? */
static bool lists_other(const char *list, const char *sep, const char *ours,
			const char *ours2)
{
	for (const char *p = list; p && *p;) {
		size_t w = strcspn(p, sep);
		bool mine = (w && w == strlen(ours) && memcmp(p, ours, w) == 0) ||
			    (w && w == strlen(ours2) && memcmp(p, ours2, w) == 0);
		if (w && !mine)
			return true;
		p += w + (p[w] != '\0');
	}
	return false;
}

/* Does every dir of the library path V (':' or ';' between dirs) lie
 * outside every union? An empty entry (the cwd), a relative one or a
 * token ($ORIGIN, $LIB) counts as inside. */
static bool path_outside(const char *v)
{
	US_SCRATCH_SCOPE;
	char *dir = us_scratch_push(PATH_MAX);

	if (!dir)
		return false;
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ":;");
		if (n == 0 || n >= PATH_MAX || p[0] != '/' || memchr(p, '$', n))
			return false;
		memcpy(dir, p, n);
		dir[n] = '\0';
		if (us_loader_dir_meets(&us_cfg, dir))
			return false;
		p += n;
		if (!*p)
			return true;
	}
}

/* Does ENVP point the loader anywhere of its own a union may hold? (A
 * library path outside every union, as rustup gives its toolchains,
 * does not.) */
static bool env_steers_loader(char *const envp[])
{
	const char *v;

	if ((v = env_value(envp, "LD_LIBRARY_PATH")) && *v && !path_outside(v))
		return true;
	if ((v = env_value(envp, "GCONV_PATH")) && *v)
		return true;
	if (lists_other(env_value(envp, "LD_PRELOAD"), ": ", us_self_path,
			us_sanrt_path))
		return true;
	return lists_other(env_value(envp, "LD_AUDIT"), ":", us_audit_path, "");
}

/* Does the real path REAL lie in a union or one of its layers? */
static bool in_union(const char *real)
{
	if (us_mount_of(&us_cfg, real))
		return true;
	for (int k = 0; k < us_cfg.nmounts; k++)
		if (us_layer_of(&us_cfg.mounts[k], real) >= 0)
			return true;
	return false;
}

bool us_loader_needs_audit(const struct us_exec_plan *p, char *const envp[])
{
	return !p->glibc_only || near_sys || p->dirfd != AT_FDCWD ||
	       p->real[0] != '/' || in_union(p->real) ||
	       env_steers_loader(envp);
}
