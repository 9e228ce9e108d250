/* statxconv.h: a struct statx as the struct stat the kernel's own stat
 * would give for the same object, field for field (what glibc does where
 * stat itself is built on statx). The lookup stats layer entries by statx
 * so that one answer serves a caller's stat and statx alike (lookup.h). */
#ifndef UNIONSHIM_STATXCONV_H
#define UNIONSHIM_STATXCONV_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* What the lookup asks statx for: what lstat answers. */
#define US_LOOKUP_STATX_MASK STATX_BASIC_STATS

/* One literal, every field named: the rest (padding, reserved words) is
 * zero without a memset of the whole struct first. */
static inline void us_statx_stat(const struct statx *x, struct stat *st)
{
	*st = (struct stat){
		.st_dev = makedev(x->stx_dev_major, x->stx_dev_minor),
		.st_ino = x->stx_ino,
		.st_nlink = x->stx_nlink,
		.st_mode = x->stx_mode,
		.st_uid = x->stx_uid,
		.st_gid = x->stx_gid,
		.st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor),
		.st_size = (off_t)x->stx_size,
		.st_blksize = (blksize_t)x->stx_blksize,
		.st_blocks = (blkcnt_t)x->stx_blocks,
		.st_atim = {.tv_sec = x->stx_atime.tv_sec,
			    .tv_nsec = x->stx_atime.tv_nsec},
		.st_mtim = {.tv_sec = x->stx_mtime.tv_sec,
			    .tv_nsec = x->stx_mtime.tv_nsec},
		.st_ctim = {.tv_sec = x->stx_ctime.tv_sec,
			    .tv_nsec = x->stx_ctime.tv_nsec},
	};
}

#endif
