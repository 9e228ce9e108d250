/* fdmap.h: what the shim knows about each of the process's fds.
 *
 * An entry is made when an fd is opened on a union object (open, openat,
 * fopen, opendir, ...), copied by dup/dup2/dup3/F_DUPFD*, dropped by close,
 * close_range, closefrom and fclose; fork copies the map with the memory,
 * and exec hands the entries that matter (fds on a lower file, lock
 * proxies) to the new image through UNIONSHIM_FDMAP. Fds that share an
 * open file description share one record: its lock proxy.
 *
 * The read side's freshness check reads the entry without a lock: one
 * load of a shared generation slot and a compare, no system call.
 *
 * This header is the map's whole interface: what an fd is, the record of
 * opens, dups and closes, and the handover across fork and exec. The
 * table, its lock and the entry layout are the map's own
 * (shim/fdmap/fdmap_priv.h, included only inside shim/fdmap/). */
#ifndef UNIONSHIM_FDMAP_H
#define UNIONSHIM_FDMAP_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "front.h"
#include "guard.h"
#include "unionshim/fdops.h"

#define US_ENV_FDMAP "UNIONSHIM_FDMAP"

/* US_FD_OUTSIDE: an fd the shim has seen to be no union file (fstat then
 * passes it through without asking the kernel for its path). US_FD_SHIM:
 * one of the shim's own (a lock proxy), hidden from the program. */
enum us_fdkind { US_FD_NONE = 0, US_FD_UNION, US_FD_SHIM, US_FD_OUTSIDE };

/* What the map knows FD to be (no lock, no system call). */
US_HIDDEN enum us_fdkind us_fd_kind(int fd);

/* Is FD open on a union dir (the map's word: no lock, no system call)? */
US_HIDDEN bool us_fd_union_dir(int fd);

/* The O_ACCMODE union fd FD was opened with; -1 when FD is no union fd. */
US_HIDDEN int us_fd_access(int fd);

/* The highest fd that ever had an entry: no fd above it has one. */
US_HIDDEN int us_fd_highest(void);

/* The real path behind FD (the kernel's link /proc/self/fd/FD) into OUT
 * (LEN bytes): 0, or -1 when FD names no path (pipe, socket, bad fd). */
US_HIDDEN int us_fd_real(int fd, char *out, size_t len);

/* us_fd_real for a dir fd deeper than the kernel's link shows: the path
 * found by ".." up to the root (fdmap/walkreal.c). */
US_HIDDEN int us_fd_real_walk(int fd, char *out, size_t len);

/* Slow half of us_fd_fresh. */
US_HIDDEN void us_fd_refresh(int fd);

/* Before a read-family call, lseek, fstat or mmap on FD: if FD is open on
 * a lower file that another fd or process has copied up since, move FD
 * (and its dups) to the upper copy, keeping offset and flags. The test is
 * a load of the fd's generation slot and a compare: no lock, no system
 * call (fdmap/fresh.c). */
US_HIDDEN bool us_fd_stale(int fd);

static inline void us_fd_fresh(int fd)
{
	if (us_fd_stale(fd))
		us_fd_refresh(fd);
}

/* FD was just opened by PATH, which T resolved, with FLAGS. (A reopen
 * through /proc/self/fd/N or /dev/fd/N is left for fstat to look up.) */
US_HIDDEN void us_fd_opened(int fd, int flags, const char *path,
			    const struct us_target *t);

/* Stream F was opened on FD (fopen, freopen): a move of FD to an upper
 * copy drops F's read buffer first. */
US_HIDDEN void us_fd_stream(int fd, FILE *f);

/* ST is FD's real fstat: turn it into the union's identity when FD is a
 * union file (1), or leave it (0). Uses the map when it can, else the
 * kernel's link /proc/self/fd/FD. */
US_HIDDEN int us_fd_stat(int fd, struct stat *st);

/* Is FD, as the map knows it, a union dir fd open on the real dir
 * (DEV, INO) of layer LAYER? (No system call; false when not known.) */
US_HIDDEN bool us_fd_on_real_dir(int fd, int layer, dev_t dev, uint64_t ino);

/* FD is about to be closed by the program (its record locks go, and its
 * open file description's proxy when it was the last fd). */
US_HIDDEN void us_fd_closing(int fd);

/* DUP.fd is now a copy of DUP.src: the op of the call that made it
 * (us_fdop_dup3, us_fdop_dupfd). */
US_HIDDEN void us_fd_duped(struct us_fdop dup);

/* Is FD one of the shim's own (hidden from the program)? */
US_HIDDEN bool us_fd_is_shim(int fd);

/* FD is open on the lower data of an upper metacopy (metacopy.h): 1 with
 * the metacopy's real path in OUT (what holds the object's metadata,
 * xattrs included), else 0. errno kept. */
US_HIDDEN int us_fd_metacopy(int fd, char *out, size_t len);

/* The mount a union fd's object lies in, or NULL. */
US_HIDDEN const struct us_mount *us_fd_mount(int fd);

/* The program wants to use number FD (dup2, dup3): move a shim fd out of
 * the way. 0, or -1 with errno. */
US_HIDDEN int us_fd_make_room(int fd);

/* The lock proxy fd for FD's open file description, opened on first use
 * (a file in the work dir named by FD's union inode number); -1 with
 * errno EBADF when FD is no union file (lock the fd itself then). */
US_HIDDEN int us_fd_proxy(int fd);

/* Before an exec: the value of UNIONSHIM_FDMAP for the new image into BUF
 * ("" when nothing needs to cross), the map as changed by OPS[0..NOPS)
 * (fdops.h; NULL: by what this vfork child did, if it is one), and
 * proxies whose
 * open file description survives the exec made inheritable. After a
 * failed exec (or a spawn, in the parent), with the BUF it made: undo
 * that (per call: other threads may be exec'ing or spawning too). */
US_HIDDEN void us_fdmap_export(char *buf, size_t len, const struct us_fdop *ops,
			       int nops);

US_HIDDEN void us_fdmap_exec_failed(const char *list);

/* A vfork child changed its fds by OP: remember it for its exec. */
US_HIDDEN void us_fdmap_vfork_op(struct us_fdop op);

/* A vfork child shares the map's memory: it must leave it alone. */
US_HIDDEN bool us_fdmap_in_vfork_child(void);

/* At startup: take over the entries an exec handed over. */
US_HIDDEN void us_fdmap_import(void);

#endif
