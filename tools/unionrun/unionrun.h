/* unionrun.h: the parts of unionrun (tools/unionrun/) and what they share.
 *
 * main.c reads the options; mounts.c turns them into the mount table and
 * makes the dirs unionrun owns (a private temp dir, or --keep DIR); child.c
 * runs the command under the shim and waits for it; atexit.c reports,
 * commits or discards the changes through unionctl; rmtree.c removes the
 * dirs unionrun made. unionrun itself never runs under the shim: only the
 * child it starts does. */
#ifndef UNIONRUN_H
#define UNIONRUN_H

#include <stddef.h>

#include "unionshim/config.h"

#define UR_STAGE2_ENV "UNIONRUN_STAGE2"

/* What unionrun does with a mount's upper at exit. */
enum ur_own {
	UR_USER = 0, /* named by the user (--upper, upperdir=), or none */
	UR_TEMP,     /* a private temp dir unionrun made */
	UR_KEEP,     /* under --keep DIR */
};

struct ur_mount {
	int want_upper; /* no upper given: unionrun provides one */
	enum ur_own own;
	char *base;     /* UR_TEMP, UR_KEEP: the dir holding upper/ and work/ */
};

struct ur_opts {
	int quiet, diff, commit, discard;
	const char *diff_file; /* --diff=FILE; NULL: stderr; "-": stdout */
	int diff_fd;           /* FILE, opened before the command runs */
	const char *keep;      /* --keep DIR */
	const char *trace;     /* --trace FILE, made absolute */
	const char *cdir;      /* -C DIR */
};

struct ur_run {
	struct us_config cfg;
	struct ur_mount m[US_MAX_MOUNTS];
	struct ur_opts o;
	char *spec;     /* the mounts, formatted for UNIONSHIM_MOUNTS */
	char lib[4096]; /* libunionshim.so */
};

/* say.c: one escaped line "unionrun: ..." on stderr; ur_die exits 125
 * after removing the dirs unionrun made (ur_undo). */
void ur_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void ur_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *ur_alloc(size_t n);
char *ur_strdup(const char *s);

struct strbuf {
	char *s;
	size_t len, cap;
};
/* Append S; ESCAPE puts a backslash before the spec grammar's separators. */
void sb_add(struct strbuf *b, const char *s, int escape);

/* mounts.c */
/* Add one mount in the UNIONSHIM_MOUNTS grammar; target= defaults to its
 * first lowerdir. WANT_UPPER: when SPEC names no upperdir, unionrun makes
 * one (a temp dir, or under --keep). */
void ur_add_mount(struct ur_run *r, const char *spec, int want_upper);
/* Check the mounts whole, then make the dirs they need (nothing is made
 * for a refused configuration), then format the spec. */
void ur_prepare(struct ur_run *r);
/* Remove the dirs made so far (on an error before the command ran);
 * ur_undo_forget: the command runs, they stay. */
void ur_undo(void);
void ur_undo_forget(void);
/* The dir named in messages for mount K: its base, or its upper. */
const char *ur_kept_in(const struct ur_run *r, int k);

/* child.c */
/* Does unionrun have work at exit (and so must wait for the command)? */
int ur_waits(const struct ur_run *r);
/* Run ARGV under the shim. Without work at exit, exec it (no return);
 * else fork, forward signals, wait: the wait status. */
int ur_run_command(struct ur_run *r, char **argv);
/* Stage two (under the shim): -C, then exec the command. */
int ur_stage2(int argc, char **argv);
/* Leave as the command did: its exit status, or its signal. */
void ur_exit_as(int status) __attribute__((noreturn));

/* atexit.c: summary, diff, commit, discard per mount; 0, or -1 when one
 * of them failed (said on stderr). STATUS is the command's wait status. */
int ur_report(struct ur_run *r, int status);

/* rmtree.c: remove PATH and everything under it; 0 or -1 (errno). */
int ur_rmtree(const char *path);
/* Remove what is under DIR, keep DIR. */
int ur_empty_dir(const char *dir);

#endif
