/* elfwindow.h: reads of an ELF file through one small window, for the
 * core's ELF readers (exectarget.c, elfneeds.c). Private to shim/core/.
 *
 * The window lives on the caller's stack: these reads may run in a vfork
 * child, where memory taken from malloc would stay behind in the parent.
 * The first window, at offset 0, is the caller's own read of the file's
 * start, which holds the program headers of a usual program. */
#ifndef UNIONSHIM_CORE_ELFWINDOW_H
#define UNIONSHIM_CORE_ELFWINDOW_H

#include <elf.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sys.h"

struct window {
	int fd;
	off_t at;    /* file offset of buf[0] */
	size_t have; /* bytes valid */
	union {
		char c[1024];
		Elf64_Phdr align;
	} buf;
};

/* W over FD, its first window the LEN bytes of HEAD (the file's start). */
static inline void window_start(struct window *w, int fd, const char *head,
				size_t len)
{
	w->fd = fd;
	w->at = 0;
	w->have = len < sizeof w->buf ? len : sizeof w->buf;
	memcpy(w->buf.c, head, w->have);
}

/* LEN bytes at OFF (LEN <= the window), or NULL when the file ends. */
static inline const void *view(struct window *w, off_t off, size_t len)
{
	if (off < 0 || len > sizeof w->buf)
		return NULL;
	if (off < w->at || (size_t)(off - w->at) + len > w->have) {
		ssize_t n = SYS(pread)(w->fd, w->buf.c, sizeof w->buf, off);
		w->at = off;
		w->have = n < 0 ? 0 : (size_t)n;
		if (w->have < len)
			return NULL;
	}
	return w->buf.c + (off - w->at);
}

#endif
