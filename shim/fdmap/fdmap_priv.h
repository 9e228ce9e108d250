/* fdmap_priv.h: the fd map's insides, for the files of shim/fdmap/ only: the entry
 * layout, the table, its lock and the shim's own fds. Everything else
 * asks the map through ../fdmap.h. "Locked" below means between
 * us_fdmap_lock and us_fdmap_unlock.
 *
 * The files, each calling only those before it: vfork.c (a vfork child's
 * log), table.c (entries, dups, closes, proxies), ident.c (what object an
 * fd is), fresh.c (moving fds to a copy; it alone calls out, to front.c's
 * us_map), exec.c (the map across exec). */
#ifndef UNIONSHIM_FDMAP_PRIV_H
#define UNIONSHIM_FDMAP_PRIV_H

#ifndef US_FDMAP_INSIDE /* defined by the files of shim/fdmap/ only */
#error "fdmap_priv.h is the fd map's own: include fdmap.h instead"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../fdmap.h"
#include "../guard.h"

/* One open file description, as far as this process holds it. */
struct us_ofd {
	int refs;   /* fds of this process that refer to it */
	int proxy;  /* its lock proxy (a shim fd), or -1 */
	int handed; /* execs and spawns under way that pass the proxy on */
};

struct us_fdent {
	int kind;   /* enum us_fdkind */
	int mount;  /* index into us_cfg.mounts */
	int layer;  /* the layer the fd reads from (0: upper) */
	int acc;    /* its O_ACCMODE */
	bool opath; /* opened O_PATH */
	bool dir;   /* open on a union dir (read without the lock) */
	bool meta;  /* open on the lower data of an upper metacopy: fstat
		       shows the metacopy's metadata (metacopy.h) */
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

/* Has some vfork child logged changes (no system call)? Then the owner
 * forgets them: that child has exec'd or exited. */
US_HIDDEN bool us_fdmap_vfork_logging(void);
US_HIDDEN void us_fdmap_vfork_forget(void);
/* The ops this vfork child logged (NULL when this is none, or it logged
 * nothing, or more than the log holds), their count in *N. */
US_HIDDEN const struct us_fdop *us_fdmap_vfork_ops(int *n);

#endif
