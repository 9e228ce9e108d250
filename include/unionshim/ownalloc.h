/* ownalloc.h: the allocator of what the library's start keeps or uses
 * (the configuration and its strings, the handover record, the library's
 * own path): in the preload library, glibc's own malloc (__libc_malloc),
 * never the program's.
 *
 * A program with a malloc of its own (jemalloc in rustc) may call into the
 * library from inside that allocator's first call, before the library's
 * constructor has run: a dependency's constructor calls malloc, jemalloc's
 * start reads /etc/malloc.conf with readlink, the wrapper starts the
 * library. A start that called malloc then would wait forever on the
 * allocator's own start lock. Memory from these goes back with
 * us_own_free, never free(). The tools and the unit tests, which have no
 * such caller, use malloc; the audit module its own heap. */
#ifndef UNIONSHIM_OWNALLOC_H
#define UNIONSHIM_OWNALLOC_H

#include <stddef.h>

void *us_own_malloc(size_t n);
void us_own_free(void *p);
char *us_own_strdup(const char *s);
char *us_own_strndup(const char *s, size_t n);

#endif
