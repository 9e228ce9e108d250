/* openat2.h: the syscall() door's route for SYS_openat2 (openat2.c). */
#ifndef UNIONSHIM_WRAP_OPENAT2_H
#define UNIONSHIM_WRAP_OPENAT2_H

#include <linux/openat2.h>

#include "../real.h"

/* syscall(SYS_openat2, DIRFD, PATH, HOW, SIZE) through the union. */
US_HIDDEN long us_door_openat2(long dirfd, const char *path,
			       const struct open_how *how, long size);

#endif
