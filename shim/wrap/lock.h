/* lock.h: lock calls on a union file act on its lock proxy (lock.c). */
#ifndef UNIONSHIM_WRAP_LOCK_H
#define UNIONSHIM_WRAP_LOCK_H

#include "../real.h"

/* fcntl's lock commands on FD (ARG: a struct flock *). */
US_HIDDEN int us_lock_fcntl(int fd, int cmd, void *arg);

#endif
