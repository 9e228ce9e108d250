/* userptr.h: may the shim read a string the program handed a call
 * (userptr.c)? The kernel answers EFAULT for a pointer into no mapping;
 * the shim reads a path before the kernel does, so it must ask first. */
#ifndef UNIONSHIM_USERPTR_H
#define UNIONSHIM_USERPTR_H

#include <stdbool.h>
#include <stddef.h>

#include "real.h"

/* Is the NUL-terminated string at S (not NULL) in mapped memory, as far
 * as PATH_MAX bytes or its end? false: the call answers EFAULT. */
US_HIDDEN bool us_user_str_ok(const char *s);

/* Are the LEN bytes at S in mapped memory? (a struct the shim reads
 * before the kernel would) */
US_HIDDEN bool us_user_mem_ok(const void *s, size_t len);

#endif
