/* ownalloc.c: the start's allocator (see ownalloc.h). */
#include <stdlib.h>
#include <string.h>

#include "unionshim/ownalloc.h"

#if defined(UNIONSHIM_PRELOAD)
/* glibc's own allocator, which a program's malloc does not replace */
extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);
#define HEAP_ALLOC __libc_malloc
#define HEAP_FREE __libc_free
#else
#define HEAP_ALLOC malloc
#define HEAP_FREE free
#endif

void *us_own_malloc(size_t n)
{
	return HEAP_ALLOC(n);
}

void us_own_free(void *p)
{
	HEAP_FREE(p);
}

static char *copy(const char *s, size_t l)
{
	char *c = HEAP_ALLOC(l + 1);

	if (c) {
		memcpy(c, s, l);
		c[l] = '\0';
	}
	return c;
}

char *us_own_strndup(const char *s, size_t n)
{
	return copy(s, strnlen(s, n));
}

char *us_own_strdup(const char *s)
{
	return copy(s, strlen(s));
}
