/* fdops.h: what a run of fd operations does to a process's fd table,
 * worked out without touching an fd. A vfork child and posix_spawn's file
 * actions change the child's fds where the fd map cannot follow (the map's
 * memory is the parent's; libc runs the actions inside), so the map keeps
 * a log of those changes and replays it here when it writes the new
 * image's UNIONSHIM_FDMAP (shim/fdmap/exec.c): which of the old table's
 * fds each new fd is, and whether it is still open after the exec. Pure
 * logic: no system call, no allocation (a vfork child runs it). */
#ifndef UNIONSHIM_FDOPS_H
#define UNIONSHIM_FDOPS_H

#include <stdbool.h>

enum us_fdop_kind {
	US_FDOP_DUP,     /* FD becomes a copy of SRC */
	US_FDOP_OPEN,    /* FD is opened on a union file */
	US_FDOP_CLOSE,   /* FD..SRC are closed (or opened on no union file) */
	US_FDOP_CLOEXEC, /* FD..SRC are marked close-on-exec */
};

struct us_fdop {
	enum us_fdop_kind kind;
	int fd, src;
	bool cloexec; /* DUP, OPEN: the new fd closes on exec */
};

/* The op of each call. A DUP of an fd onto itself is posix_spawn's
 * adddup2(fd, fd), which clears close-on-exec (a dup2(fd, fd) changes
 * nothing and is never logged). */
struct us_fdop us_fdop_dup3(int oldfd, int newfd, int flags); /* dup, dup2, dup3, adddup2 */
struct us_fdop us_fdop_dupfd(int fd, int cmd, int newfd);     /* fcntl F_DUPFD(_CLOEXEC) */
struct us_fdop us_fdop_open(int fd, int oflag);               /* open, addopen */
struct us_fdop us_fdop_close(int fd);                         /* close, addclose */
/* close_range(2) and closefrom: FIRST..LAST (INT_MAX at most) closed, or
 * marked close-on-exec with CLOSE_RANGE_CLOEXEC; CLOSE_RANGE_UNSHARE
 * changes which table, not what happens to it. */
struct us_fdop us_fdop_close_range(unsigned first, unsigned last,
				   unsigned flags);

/* What fd FD of the table is after OPS[0..NOPS) ran on the old one. */
#define US_FDFATE_CLOSED (-1) /* nothing is open there */
#define US_FDFATE_OPENED (-2) /* an OPEN op made it */
struct us_fdfate {
	int from;    /* >= 0: the old table's fd it is (a copy of), or
			US_FDFATE_CLOSED, US_FDFATE_OPENED */
	int op;      /* US_FDFATE_OPENED: the index of that op; else -1 */
	int cloexec; /* 1 or 0 as the ops left it; -1: as the old table's
			fd FROM has it (only the kernel knows) */
};
struct us_fdfate us_fdops_fate(const struct us_fdop *ops, int nops, int fd);

/* Is an fd of fate F still open after an exec? OLD_CLOEXEC: the
 * close-on-exec flag of the old table's fd F.from, used only when
 * F.cloexec is -1. */
bool us_fdops_survives(struct us_fdfate f, bool old_cloexec);

/* The highest fd OPS put something at, or TOP if none is higher. */
int us_fdops_top(const struct us_fdop *ops, int nops, int top);

#endif
