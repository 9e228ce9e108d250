/* identity.h: the union's device and inode numbers.
 *
 * The scheme (see README "Inode numbers"):
 *   st_dev  one per mount, derived from its target path: major 2048-3071,
 *           a range no Linux driver hands out, so it never equals a real
 *           filesystem's device.
 *   st_ino  an object's *origin* decides it: the layer it came from and
 *           its inode number there. An object never copied up has its own
 *           layer as origin; a copy-up carries the origin of its source in
 *           the xattr user.unionshim.origin, written on the temp copy before
 *           it is renamed into place, so the number survives copy-up,
 *           processes and runs (symlinks and other objects without
 *           xattrs: a record in the work dir). The number is
 *           (layer << 56) | ino: layer 0
 *           is the upper (or the top lower of a read-only union), so the
 *           upper's own numbers pass unchanged and no two layers collide.
 *           A real inode number that needs the top 8 bits cannot be tagged:
 *           it becomes bit 63 plus a 63-bit hash of (layer, ino), unique
 *           in practice but not by construction (documented limit).
 *           When every layer of the mount lies on one filesystem, the
 *           number is the origin's own inode number, unchanged, as on
 *           overlayfs (us_ino_of). */
#ifndef UNIONSHIM_IDENTITY_H
#define UNIONSHIM_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "unionshim/config.h"

#define US_ORIGIN_XATTR "user.unionshim.origin"
#define US_XATTR_PREFIX "user.unionshim."
#define US_XATTR_PREFIX_LEN 15

/* Where an object came from: its first layer and inode number there, and
 * that inode's link count (lower names of one file share an origin). */
struct us_origin {
	int layer;
	uint64_t ino;
	uint64_t nlink;
};

/* The st_dev every object of M reports. */
dev_t us_mount_dev(const struct us_mount *m);

/* The union inode number of an object of M whose origin is (LAYER, INO):
 * INO itself when all of M's layers lie on one filesystem (no two layers
 * can share a number there; overlayfs numbers so too, and programs that
 * sort a listing by inode, as `cp -a` does, then see its order), else
 * us_ino_make's tagged number. */
uint64_t us_ino_of(const struct us_mount *m, int layer, uint64_t ino);
bool us_mount_samefs(const struct us_mount *m);

/* (LAYER << 56) | INO, or the hash form (above). */
uint64_t us_ino_make(int layer, uint64_t ino);

/* Read the origin record of the upper object open as FD (when >= 0) at
 * real path REAL (when not NULL; used when FD cannot answer: O_PATH).
 * 1 when there is one, 0 when not. */
int us_origin_read(const char *real, int fd, struct us_origin *o);

/* The same for entry NAME of the dir open as DIRFD, at real path REAL:
 * one name looked up (getxattrat), not the whole path (lgetxattr, the
 * answer of a kernel older than 6.13). */
int us_origin_read_at(int dirfd, const char *name, const char *real,
		      struct us_origin *o);

/* The record of entry NAME (d_type TYPE, inode INO) of the upper dir
 * open as DIRFD, at real path REAL: by name for a file or a dir, aside
 * for other kinds (us_origin_read_aside). 1, or 0. */
int us_origin_read_entry(const struct us_mount *m, int dirfd, const char *name,
			 unsigned char type, uint64_t ino, const char *real,
			 struct us_origin *o);

/* Does that entry carry a record (an xattr of the name, whatever its
 * value)? 1, 0 (none, or a filesystem without user xattrs), -1 when the
 * read failed otherwise (unsure). */
int us_origin_probe_at(int dirfd, const char *name, const char *real);

/* Record O on the (temp) object at REAL. 0, or -1 with errno. */
int us_origin_write(const char *real, const struct us_origin *o);
/* The same on the (temp) file open at FD. */
int us_origin_fwrite(int fd, const struct us_origin *o);

/* Symlinks, device nodes, fifos and sockets cannot carry user xattrs: their
 * record lies in M's work dir as #origin/<upper inode number>, a symlink
 * holding the origin and the object's birth time, so a record left by a
 * removed object is not taken for that of a new one with its number. */
int us_origin_write_aside(const struct us_mount *m, const char *real,
			  const struct us_origin *o);
int us_origin_read_aside(const struct us_mount *m, const char *real,
			 uint64_t ino, struct us_origin *o);
/* Does M's work dir hold records aside (true when unsure)? One for an
 * object numbered INO (true when unsure; its birth time not checked: it
 * may be a removed object's)? */
bool us_origin_aside_any(const struct us_mount *m);
bool us_origin_aside_maybe(const struct us_mount *m, uint64_t ino);

/* The upper object at REAL is about to lose a name: when it is its last,
 * drop its record, if any (its number may be given to a new object within
 * the birth time's tick). */
void us_origin_forget_aside(const struct us_mount *m, const char *real);

/* Where the object is: the real dir that holds it, when the caller knows
 * it (a lookup's parent node), so that its record is read only where one
 * may be (shared.h us_shared_origins_in). INO 0: not known. */
struct us_origin_dir {
	dev_t dev;
	uint64_t ino;
};
#define US_ORIGIN_DIR_UNKNOWN ((struct us_origin_dir){0, 0})

/* May the object of layer LAYER of M, in real dir DIR, carry a record? */
bool us_origin_maybe(const struct us_mount *m, int layer,
		     struct us_origin_dir dir);

/* The origin of the object at REAL in layer LAYER of M (in real dir DIR),
 * whose real stat is ST: its record when it has one, else (LAYER, ST). */
void us_origin_of(const struct us_mount *m, int layer, const char *real,
		  int fd, struct us_origin_dir dir, const struct stat *st,
		  struct us_origin *o);

/* An object with a record is about to get the name NEWREAL in M's upper
 * (a link of the hard-link index's entry): its dir is marked. */
void us_origin_entering(const struct us_mount *m, const char *newreal);

/* An object is about to move (rename, link) from real path OLDREAL to
 * real path NEWREAL of M's upper, or, with BOTH, the two swap: a record
 * goes with its object, so the new name's dir is marked when the old
 * one's is (shared.h). */
void us_origin_follow(const struct us_mount *m, const char *oldreal,
		      const char *newreal, bool both);

/* Turn ST, the real stat of the object at REAL (FD, when >= 0) of layer
 * LAYER of M, into what the union reports: st_dev, st_ino, st_nlink.
 * _in: the object is in real dir DIR. */
void us_ident_stat_in(const struct us_mount *m, int layer, const char *real,
		      int fd, struct us_origin_dir dir, struct stat *st);
void us_ident_stat(const struct us_mount *m, int layer, const char *real,
		   int fd, struct stat *st);

/* Is NAME one of the shim's own xattrs (hidden from programs)? */
static inline bool us_is_own_xattr(const char *name)
{
	for (int i = 0; i < US_XATTR_PREFIX_LEN; i++)
		if (name[i] != US_XATTR_PREFIX[i])
			return false;
	return true;
}

#endif
