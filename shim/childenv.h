/* childenv.h: the environment a child of this process gets, built from
 * the one the program passes so that the child stays in the union. */
#ifndef UNIONSHIM_CHILDENV_H
#define UNIONSHIM_CHILDENV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "real.h"
#include "unionshim/pathmax.h"

struct us_childenv {
	char *const *envp;
	const char *pre, *mounts, *cwd; /* values to write */
	const char *resolved;           /* UNIONSHIM_RESOLVED, or NULL */
	const char *aud;                /* the program's LD_AUDIT, or NULL */
	const char *rt;                 /* sanitizer runtime to put first, or "" */
	int self;                       /* pre already names this library */
	int aud_self;                   /* aud already names the audit lib */
	bool no_audit;                  /* the child's loader goes without it
					   (loaderquiet.h; prepare: false) */
	size_t static_tls;              /* what its libraries take from an
					   audited loader's static TLS reserve
					   (execplan.h; prepare: 0) */
	const char *tunables;           /* the program's GLIBC_TUNABLES, or NULL */
	size_t n;                       /* entries in envp */
	size_t size;                    /* bytes us_childenv_fill writes */
	char vcwd[US_PATH_MAX];
	char trace[24];
	char core[24]; /* UNIONSHIM_CORE_LIMIT for the child, or "" */
	char fdmap[16384]; /* UNIONSHIM_FDMAP for the child, or "" */
};

/* Work out the environment for ENVP (NULL: empty) and the child's
 * virtual cwd CWD (NULL: ours): LD_PRELOAD names this library, LD_AUDIT
 * the audit library beside it (when there is one), the mounts
 * are named, UNIONSHIM_CWD is there when the cwd lies in a union, the fd
 * map's entries that cross an exec are in UNIONSHIM_FDMAP, and the
 * switches this process started with are kept. Call us_fdmap_exec_failed
 * when no exec followed (or, after a spawn, in the parent). */
US_HIDDEN void us_childenv_prepare(struct us_childenv *ce,
				   char *const envp[], const char *cwd);

/* The same for a child that will first apply the fd changes OPS[0..NOPS)
 * (posix_spawn file actions). */
struct us_fdop;
US_HIDDEN void us_childenv_prepare_ops(struct us_childenv *ce,
				       char *const envp[], const char *cwd,
				       const struct us_fdop *ops, int nops);

/* Write it into MEM (CE->size bytes, pointer-aligned): the array, then
 * the strings added. No allocation: an exec in a vfork child must not
 * leave memory behind in the parent. */
US_HIDDEN char **us_childenv_fill(const struct us_childenv *ce, void *mem);

/* Does the child with environment ENVP allow programs the shim cannot
 * follow? Its own UNIONSHIM_ALLOW_UNFOLLOWED decides; without one, ours
 * (which the child gets back). */
US_HIDDEN int us_childenv_allows_unfollowed(char *const envp[]);

/* Is V (a value of UNIONSHIM_ALLOW_UNFOLLOWED, or NULL) a yes? */
US_HIDDEN int us_allow_value(const char *v);

/* Both in one malloc'd block (free() it), or NULL with errno ENOMEM. */
US_HIDDEN char **us_childenv(char *const envp[], const char *cwd);

#endif
