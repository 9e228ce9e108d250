/* fmt.h: snprintf without libc's printf (fmt.c). The preload library's
 * snprintf and vsnprintf are these (shim/names.h); the audit module's
 * snprintf is built on them. The formats: %s %c %d %i %u %x %X %o %p %%,
 * flags '-' and '0', width, precision (also '*'), sizes hh h l ll z j t;
 * anything else is written out as it stands. Returns the length the
 * whole text would have, as snprintf. */
#ifndef UNIONSHIM_FMT_H
#define UNIONSHIM_FMT_H

#include <stdarg.h>
#include <stddef.h>

int us_vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));
int us_snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
