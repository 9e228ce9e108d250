/* fdmap.h: what the shim knows about each of the process's fds.
 *
 * An entry is made when an fd is opened on a union object (open, openat,
 * fopen, opendir, ...), copied by dup/dup2/dup3/F_DUPFD*, dropped by close,
 * close_range, closefrom and fclose; fork copies the map with the memory,
 * and exec hands the entries that matter (fds on a lower file, lock
 * proxies) to the new image through UNIONSHIM_FDMAP. Fds that share an
 * open file description share one us_ofd record: its lock proxy.
 *
 * The read side's freshness check reads the entry without a lock: one
 * load of a shared generation slot and a compare, no system call. */
#ifndef UNIONSHIM_FDMAP_H
#define UNIONSHIM_FDMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "front.h"
#include "guard.h"

#define US_ENV_FDMAP "UNIONSHIM_FDMAP"

/* One open file description, as far as this process holds it. */
struct us_ofd {
	int refs;   /* fds of this process that refer to it */
	int proxy;  /* its lock proxy (a shim fd), or -1 */
	int handed; /* execs and spawns under way that pass the proxy on */
};

/* US_FD_OUTSIDE: an fd the shim has seen to be no union file (fstat then
 * passes it through without asking the kernel for its path). */
enum us_fdkind { US_FD_NONE = 0, US_FD_UNION, US_FD_SHIM, US_FD_OUTSIDE };

struct us_fdent {
	int kind;
	int mount;  /* index into us_cfg.mounts */
	int layer;  /* the layer the fd reads from (0: upper) */
	int acc;    /* its O_ACCMODE */
	bool opath; /* opened O_PATH */
	bool dir;   /* open on a union dir (read without the lock) */
	dev_t rdev; /* the real object it is open on (a lower file's) */
	uint64_t rino;
	/* watch and gen are read without the lock (us_fd_stale): stored
	 * with US_FDENT_SET, read there with atomic loads */
	const uint32_t *watch; /* generation slot, for a lower file */
	uint32_t gen;          /* the slot's value when last looked at */
	struct us_ofd *ofd;    /* NULL until needed (dup, lock) */
	FILE *stream;          /* the stdio stream fopen made on it, or NULL */
};

/* Store FIELD of entry E, which lock-free readers load (watch, gen; and
 * layer, rdev, rino, which move to a copy between us_fdent_moving(true)
 * and (false): us_fd_stat reads those three as one). */
#define US_FDENT_SET(e, field, v) __atomic_store_n(&(e)->field, (v), __ATOMIC_RELAXED)
US_HIDDEN void us_fdent_moving(bool start);

/* The entry of FD, or NULL (no lock; for the hot path). */
US_HIDDEN struct us_fdent *us_fdent_peek(int fd);

/* Slow half of us_fd_fresh. */
US_HIDDEN void us_fd_refresh(int fd);

/* Before a read-family call, lseek, fstat or mmap on FD: if FD is open on
 * a lower file that another fd or process has copied up since, move FD
 * (and its dups) to the upper copy, keeping offset and flags. */
static inline bool us_fd_stale(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	const uint32_t *w = e ? __atomic_load_n(&e->watch, __ATOMIC_RELAXED) : NULL;

	return __builtin_expect(w != NULL, 0) &&
	       __atomic_load_n(w, __ATOMIC_ACQUIRE) !=
		       __atomic_load_n(&e->gen, __ATOMIC_RELAXED) &&
	       !us_inside && us_state == US_ACTIVE;
}

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

/* FD is about to be closed by the program (its record locks go, and its
 * open file description's proxy when it was the last fd). */
US_HIDDEN void us_fd_closing(int fd);

/* NEWFD is now a copy of OLDFD. */
US_HIDDEN void us_fd_duped(int oldfd, int newfd);

/* Is FD one of the shim's own (hidden from the program)? */
US_HIDDEN bool us_fd_is_shim(int fd);

/* The program wants to use number FD (dup2, dup3): move a shim fd out of
 * the way. 0, or -1 with errno. */
US_HIDDEN int us_fd_make_room(int fd);

/* The lock proxy fd for FD's open file description, opened on first use
 * (a file in the work dir named by FD's union inode number); -1 with
 * errno EBADF when FD is no union file (lock the fd itself then). */
US_HIDDEN int us_fd_proxy(int fd);

/* What a child does to its fds between fork and exec where the map does
 * not follow (a vfork child, posix_spawn file actions), in order. */
enum us_fdop_kind {
	US_FDOP_DUP,   /* FD becomes a copy of SRC */
	US_FDOP_OPEN,  /* FD is opened on a union file */
	US_FDOP_CLOSE, /* FD..SRC are closed (or opened on no union file) */
};
struct us_fdop {
	enum us_fdop_kind kind;
	int fd, src;
};

/* Before an exec: the value of UNIONSHIM_FDMAP for the new image into BUF
 * ("" when nothing needs to cross), the map as changed by OPS[0..NOPS)
 * (NULL: by what this vfork child did, if it is one), and proxies whose
 * open file description survives the exec made inheritable. After a
 * failed exec (or a spawn, in the parent), with the BUF it made: undo
 * that (per call: other threads may be exec'ing or spawning too). */
US_HIDDEN void us_fdmap_export(char *buf, size_t len, const struct us_fdop *ops,
			       int nops);

/* A vfork child changed its fds: remember it for its exec. */
US_HIDDEN void us_fdmap_vfork_op(enum us_fdop_kind kind, int fd, int src);
/* Has some vfork child logged changes (no system call)? Then the owner
 * forgets them: that child has exec'd or exited. */
US_HIDDEN bool us_fdmap_vfork_logging(void);
US_HIDDEN void us_fdmap_vfork_forget(void);
US_HIDDEN void us_fdmap_exec_failed(const char *list);

/* At startup: take over the entries an exec handed over. */
/* A vfork child shares the map's memory: it must leave it alone. */
US_HIDDEN bool us_fdmap_in_vfork_child(void);
US_HIDDEN void us_fdmap_import(void);

/* Inside the fd map (fdmap.c, fdfresh.c, fdexec.c); "locked" means
 * between us_fdmap_lock and us_fdmap_unlock. */
extern US_HIDDEN int us_fdmap_top;     /* highest fd that had an entry */
extern US_HIDDEN int us_fdmap_proxies; /* shim fds open */
/* false: a nested call whose thread holds the lock below it (forks.h) */
US_HIDDEN bool us_fdmap_lock(void) __attribute__((warn_unused_result));
US_HIDDEN void us_fdmap_unlock(void);
/* FD's entry, made on demand (locked); NULL when FD is out of range. */
US_HIDDEN struct us_fdent *us_fdmap_slot(int fd);
/* E's open file description record, made on demand; NULL: no memory. */
US_HIDDEN struct us_ofd *us_fdmap_ofd(struct us_fdent *e);
US_HIDDEN void us_fdmap_clear(struct us_fdent *e);
/* Entry E of FD goes, with POSIX close semantics for locks (locked). */
US_HIDDEN void us_fdmap_forget(int fd, struct us_fdent *e);
/* The union inode number of the object under entry E of FD. */
US_HIDDEN uint64_t us_fdmap_ino(int fd, struct us_fdent *e);
/* The lowest number shim fds are put at. */
US_HIDDEN int us_fdmap_shim_base(void);
/* Move shim fd FD to a free number >= BASE (locked); the new fd or -1. */
US_HIDDEN int us_fdmap_move_shim(int fd, int base);
/* If FD (entry E, on a lower file) has an upper copy now, put it under FD
 * and FD's dups, keeping offset and flags (locked). */
US_HIDDEN void us_fdmap_move_to_copy(int fd, struct us_fdent *e);
/* Fill entry E for FD: the union file (or DIR) of mount M, layer LAYER,
 * open with access mode ACC on the real object (RDEV, RINO) (locked). */
US_HIDDEN void us_fdmap_fill(struct us_fdent *e, const struct us_mount *m,
			     int layer, int acc, dev_t rdev, uint64_t rino,
			     bool dir);

#endif
