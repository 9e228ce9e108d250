/* layer.h: questions asked of one real layer directory: is this entry a
 * whiteout, is this dir opaque, is a name whited out here. Both the OCI
 * form (.wh.NAME, .wh..wh..opq) and the overlayfs form (char device 0/0,
 * trusted./user.overlay.opaque=y) are understood. */
#ifndef UNIONSHIM_LAYER_H
#define UNIONSHIM_LAYER_H

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define US_WH_PREFIX ".wh."
#define US_WH_PREFIX_LEN 4
#define US_WH_OPAQUE ".wh..wh..opq"

static inline bool us_is_reserved_name(const char *name)
{
	return strncmp(name, US_WH_PREFIX, US_WH_PREFIX_LEN) == 0;
}

/* An overlayfs-style whiteout: a char device with device number 0/0. */
static inline bool us_stat_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* The real dir DIRPATH hides what lies below it. */
bool us_layer_is_opaque(const char *dirpath);

/* The real dir DIRPATH holds a whiteout for NAME in OCI form. */
bool us_layer_has_whiteout(const char *dirpath, const char *name);

/* Does real dir DIR hold any entry (its first few tell)? 1, 0, or -1
 * with errno. */
int us_real_dir_any(const char *dir);

#endif
