/* execseen.h: the programs this process has already read to be plain
 * dynamic ELF executables, by identity (see execseen.c). */
#ifndef UNIONSHIM_EXECSEEN_H
#define UNIONSHIM_EXECSEEN_H

#include <stdbool.h>
#include <sys/stat.h>

#include "real.h"

/* Was the file ST describes (unchanged since) found to be a dynamic ELF
 * program with no set-id bit? 0 when not seen, else US_SEEN_DYNAMIC, or
 * US_SEEN_GLIBC_ONLY when it also needs glibc alone (exectarget.h). */
#define US_SEEN_DYNAMIC 1
#define US_SEEN_GLIBC_ONLY 2
US_HIDDEN int us_execseen_dynamic(const struct stat *st, size_t *static_tls);

/* Remember that it was, whether it needs glibc alone, and the static TLS
 * its libraries take (execplan.h); *STATIC_TLS above gives it back. */
US_HIDDEN void us_execseen_add(const struct stat *st, bool glibc_only,
			       size_t static_tls);

#endif
