/* fdmaptext.h: the text of UNIONSHIM_FDMAP, the fd-map entries that cross
 * an exec: "fd:group:proxy:gen;" repeated (shim/fdmap/exec.c says what each
 * field means). Pure text: nothing here touches an fd. */
#ifndef UNIONSHIM_FDMAPTEXT_H
#define UNIONSHIM_FDMAPTEXT_H

#include <stdbool.h>
#include <stddef.h>

struct us_fdmap_rec {
	int fd, group, proxy;
	unsigned gen;
};

/* The group of an fd opened by a layer's own real path from outside the
 * union ("fd:-1:-1:0;"): the new image keeps it that path. */
#define US_FDMAP_OUTSIDE (-1)

/* Append REC as "fd:group:proxy:gen;" to the string BUF (LEN bytes, *USED
 * of them in use) and advance *USED. false when it does not fit: BUF ends
 * at *USED again (LEN > *USED). */
bool us_fdmaptext_put(char *buf, size_t len, size_t *used,
		      const struct us_fdmap_rec *rec);

/* Read the entry at *S into REC and move *S past it and its ';'. 1 for an
 * entry; 0 at the end, or at an entry that is not four decimal numbers in
 * range ("-" allowed but for gen) joined by ':' and ended by ';' or the
 * end: the rest of the text is ignored. */
int us_fdmaptext_next(const char **s, struct us_fdmap_rec *rec);

#endif
