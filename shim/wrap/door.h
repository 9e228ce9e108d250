/* door.h: the syscall() door's own entry points, for system calls that
 * glibc has no function for (or none this shim wraps): each one maps its
 * paths and fds like the wrappers do, or refuses the call. Arguments are
 * the raw words syscall() read; the return is syscall()'s (-1 and errno).
 * Numbers the build's headers may lack are defined here (x86-64). */
#ifndef UNIONSHIM_DOOR_H
#define UNIONSHIM_DOOR_H

#include <sys/syscall.h>

#include "../real.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#define SYS_removexattrat 466
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif
#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#endif

/* doorcalls.c: path and fd calls */
US_HIDDEN long door_getdents(long fd, void *buf, long n);
US_HIDDEN long door_fchmodat2(const long a[6]);
US_HIDDEN long door_xattrat(long nr, const long a[6]);
US_HIDDEN long door_fileattr(long nr, const long a[6]);
US_HIDDEN long door_io_uring_setup(void);
/* Fail with ERR, traced as the refusal of WHAT of PATH. */
US_HIDDEN long door_refuse(const char *what, const char *path, int err);

/* mount.c: the mount family (calls without a glibc function) */
US_HIDDEN long door_pivot_root(const char *newroot, const char *putold);
US_HIDDEN long door_mountfd(long nr, const long a[6]);

#endif
