/* exectarget.h: what a file about to be executed is, read from its first
 * bytes: a "#!" script (its interpreter and optional argument, parsed as
 * Linux parses them), an ELF program the preload library can follow into
 * (dynamically linked, x86-64), or one it cannot (static, foreign, Go,
 * or setuid to someone else). Pure: the caller opens the file. */
#ifndef UNIONSHIM_EXECTARGET_H
#define UNIONSHIM_EXECTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Linux reads at most this many bytes of a "#!" line (BINPRM_BUF_SIZE). */
#define US_SHEBANG_BUF 256

struct us_shebang {
	char line[US_SHEBANG_BUF]; /* the line, cut into NUL-ended words */
	const char *interp;        /* into line */
	const char *arg;           /* into line, or NULL */
};

/* HEAD holds the first LEN bytes of the file. Returns 1 with SB filled for
 * a script, 0 when HEAD does not start with "#!", -1 when the "#!" line
 * names no interpreter or the name does not fit (Linux: ENOEXEC). */
int us_shebang_parse(const char *head, size_t len, struct us_shebang *sb);

enum us_exec_kind {
	US_EXEC_OTHER,   /* not ELF, not a script: the kernel decides */
	US_EXEC_SCRIPT,  /* "#!" */
	US_EXEC_DYNAMIC, /* x86-64 ELF with PT_INTERP: the loader runs us */
	US_EXEC_STATIC,  /* x86-64 ELF without PT_INTERP (static, static-pie) */
	US_EXEC_FOREIGN, /* ELF of another class or machine: our library
			    cannot be loaded into it */
	US_EXEC_GO,      /* dynamic x86-64 ELF built by Go (a "Go" build-id
			    note, or a .go.buildinfo or .note.go.buildid
			    section): it makes system calls without libc */
};

/* How much of a file's start to read for us_exec_inspect: the program
 * headers of a usual program lie within it (one read fewer). */
#define US_EXEC_HEAD 1024

/* Classify the file open on FD (read with pread) whose first LEN bytes are
 * HEAD. Returns the kind, or -1 with errno ENOEXEC (a bad "#!" line). SB
 * is filled for a script. Allocates nothing. */
int us_exec_inspect(int fd, const char *head, size_t len,
		    struct us_shebang *sb);

/* Does the dynamic x86-64 program open on FD (its first LEN bytes HEAD)
 * leave its loader nothing to search but the system's libraries? True
 * when it needs glibc's own libraries alone (libc.so.6, libm.so.6,
 * ld-linux-x86-64.so.2, ...), carries no search path (DT_RPATH,
 * DT_RUNPATH) and no auditor (DT_AUDIT, DT_DEPAUDIT) of its own, and its
 * dynamic string table names no dlopen, dlmopen, dlsym or dlvsym (it
 * cannot load a library by a name of its choosing). False otherwise, and
 * whenever the file cannot be read that far (elfneeds.c). */
bool us_exec_glibc_only(int fd, const char *head, size_t len);

/* The static TLS the libraries the same program needs directly (glibc's
 * aside) take from the loader's reserve when an auditor is loaded (the
 * loader sets its TLS out before it maps them): the sum of the TLS
 * blocks of those marked DF_STATIC_TLS, found in its own search path
 * ("$ORIGIN" read as ORIGIN) or the system's library dirs. 0 when none
 * or unreadable (elfneeds.c). */
size_t us_exec_static_tls(int fd, const char *head, size_t len,
			  const char *origin);

/* Why a program of kind KIND with attributes ST cannot be followed by a
 * process running as EUID/EGID ("statically linked", "setuid", ...), or
 * NULL when it can. SETID_IGNORED: the kernel will not honour set-id bits
 * (nosuid mount, no_new_privs). */
const char *us_exec_unfollowable(int kind, const struct stat *st, uid_t euid,
				 gid_t egid, int setid_ignored);

#endif
