/* nolibc.h: the audit library links no libc (sysraw.c, strfmt.c,
 * heap.c hold the few libc functions it and its core objects call);
 * helpers shared between those files. */
#ifndef UNIONSHIM_NOLIBC_H
#define UNIONSHIM_NOLIBC_H

/* V in decimal at OUT, NUL-terminated (OUT has room for 11 bytes). */
void us_nl_utoa(char *out, unsigned v);

/* The core's locks (no-ops: callbacks never run concurrently). Declared
 * here, not by <pthread.h>: the preload library's locks are all in
 * forks.c's table, and none of these is one. */
int pthread_mutex_lock(void *m);
int pthread_mutex_unlock(void *m);
int pthread_mutex_trylock(void *m);

#endif
